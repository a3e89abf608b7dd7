"""The neural cue model: checkpoints, decoding, the bundled model's behaviour, training, evaluation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from facecue.config import TakeRequest
from facecue.names import ARKIT_INDEX
from facecue.neural import checkpoint, config, representation as rep
from facecue.neural.backend import NeuralBackend
from facecue.neural.inference import window_starts, windowed_context


@pytest.fixture(scope="module")
def neural(pipeline, assets):
    def run(emotion="happy", intensity=1.0, seed=4, audio="speech.wav", **controls):
        from facecue.config import Controls
        return pipeline.run(TakeRequest(audio=assets / audio, image=assets / "face.png", emotion=emotion,
                                        intensity=intensity, seed=seed, backend="neural",
                                        controls=Controls(**controls)))
    return run


# -- checkpoints -------------------------------------------------------------------------

def test_bundled_checkpoint_loads_with_its_record():
    loaded = checkpoint.load()
    assert loaded.version.startswith("neural-") and loaded.path == checkpoint.DEFAULT
    assert checkpoint.DEFAULT.stat().st_size < 5 * 2**20                     # fits in the repository
    from facecue.neural.make_default import SEED, VERSION
    assert loaded.version == VERSION and loaded.training["recipe"]["seed"] == SEED   # made by the recipe in the repository
    assert loaded.training["clips"]["train"] > 100


def test_feature_normalisation_is_part_of_the_checkpoint():
    assert checkpoint.load().model.cfg.feature_norm == "utterance"
    assert config.ModelConfig.from_dict({}).feature_norm == "corpus"          # files from before the field
    with pytest.raises(config.InvalidInput, match="feature_norm 'loud'"):
        config.ModelConfig.from_dict({"feature_norm": "loud"})


def test_gaze_start_is_part_of_the_checkpoint():
    from facecue.neural.model import CueModel, START_GAZE
    assert config.ModelConfig().gaze_start == "drawn"
    assert config.ModelConfig.from_dict({}).gaze_start == "forward"           # files from before the field
    with pytest.raises(config.InvalidInput, match="gaze_start 'left'"):
        config.ModelConfig.from_dict({"gaze_start": "left"})
    model = CueModel(config.ModelConfig(gaze_regions=10))
    cues = model.gaze_input(torch.tensor([START_GAZE, 2 + 10 * 7]))
    assert cues[0].sum() == 0                                                  # no region before the first frame
    assert cues[1].nonzero().ravel().tolist() == [2, 17]                       # left region 2, right region 7
    assert CueModel.start_gaze_for(config.ModelConfig.from_dict({})) == 22    # both eyes forward


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_graph_replayed_decode_matches_eager_decode_on_cuda():
    """On a GPU the frames are stepped by replaying a captured chunk of them; that must give
    exactly what launching every kernel gives, for takes of several lengths (a last chunk
    cut short) and call after call."""
    from facecue.neural.inference import CHUNK, decode
    model = checkpoint.load(None, "cuda").model
    cfg, lengths = model.cfg, [2 * CHUNK + 7, CHUNK - 3, 2 * CHUNK + 7]
    generator = torch.Generator("cuda").manual_seed(0)
    draw = lambda *shape: torch.randn(*shape, generator=generator, device="cuda")
    frames = max(lengths)
    windows, mix = draw(3, frames, cfg.mfcc_window, 28), draw(3, frames, 8).abs()
    gumbel = draw(3, frames, cfg.gaze_regions ** 2)
    eager = decode(model, windows, mix, gumbel, lengths, graphs=False)
    for _ in range(2):
        replayed = decode(model, windows, mix, gumbel, lengths, graphs=True)
        for name in ("landmarks", "pose", "gaze", "emotion_probs"):
            assert torch.equal(getattr(replayed, name), getattr(eager, name)), name


def test_takes_open_with_the_emotions_gaze():
    """The bundled model draws a take's first gaze regions itself: sad takes often open looking
    down (as the teacher's do, 29 of 40 held-out sad clips away from forward), surprised ones seldom."""
    from facecue.names import EMOTIONS
    from facecue.neural.inference import decode, gumbel_noise
    model = checkpoint.load().model
    takes, frames = 32, 8
    windows = torch.zeros(takes, frames, model.cfg.mfcc_window, 28)
    noise = torch.from_numpy(np.stack([gumbel_noise(seed, frames, 100) for seed in range(takes)]))
    downcast = {}
    for emotion in ("sad", "surprised"):
        mix = torch.zeros(takes, frames, len(EMOTIONS))
        mix[..., EMOTIONS.index(emotion)] = 1
        first = decode(model, windows, mix, noise, [frames] * takes).gaze[:, 0].cpu().numpy()
        downcast[emotion] = np.mean(first % 10 >= 5)                         # regions 5–9: the lower row
    assert downcast["sad"] > 0.4 and downcast["surprised"] < 0.25


def test_bad_checkpoints_get_clear_errors(tmp_path):
    with pytest.raises(checkpoint.BadCheckpoint, match="does not exist"):
        checkpoint.load(tmp_path / "none.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(checkpoint.DEFAULT.read_bytes()[:5000])
    with pytest.raises(checkpoint.BadCheckpoint, match="corrupt or not a torch file"):
        checkpoint.load(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(checkpoint.BadCheckpoint, match="not a FaceCue cue-model checkpoint"):
        checkpoint.load(other)
    payload = torch.load(checkpoint.DEFAULT, weights_only=True)
    newer = tmp_path / "newer.pt"
    torch.save({**payload, "format_version": checkpoint.FORMAT_VERSION + 1}, newer)
    with pytest.raises(checkpoint.BadCheckpoint, match="format version 2; this FaceCue reads up to 1"):
        checkpoint.load(newer)
    resized = tmp_path / "resized.pt"
    torch.save({**payload, "config": {**payload["config"], "decoder_hidden": 64}}, resized)
    with pytest.raises(checkpoint.BadCheckpoint, match="does not match the model its config describes"):
        checkpoint.load(resized)


def test_bad_checkpoint_on_the_cli_is_one_line(assets, tmp_path):
    from .test_cli import facecue
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = facecue("generate", "--audio", assets / "speech.wav", "--image", assets / "face.png", "--no-render",
                     "--backend", "neural", "--checkpoint", bad, "--out", tmp_path / "take")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("facecue: error: checkpoint") and "corrupt" in result.stderr
    assert not (tmp_path / "take").exists()


# -- decoding ----------------------------------------------------------------------------

def test_overlapping_windows_match_one_long_read():
    """The Bi-LSTM read in cross-faded windows stays close to reading the whole take at once."""
    loaded = checkpoint.load()
    model, cfg = loaded.model, loaded.model.cfg
    codes = model.audio_codes(torch.randn(1, 400, cfg.mfcc_window, 28) * 0.8)
    with torch.no_grad():
        whole = model.landmarks.context(codes)
        windowed = windowed_context(model.landmarks, codes, cfg.window_frames, cfg.overlap_frames)
    error = (whole - windowed).abs()
    assert error.mean() < 0.1 * whole.std()
    starts = window_starts(400, cfg.window_frames, cfg.overlap_frames)
    assert starts[0] == 0 and starts[-1] + cfg.window_frames == 400 and len(starts) > 3
    step = (windowed[0, 1:] - windowed[0, :-1]).abs().mean(-1)                 # no jumps at the seams
    assert step.max() < 3 * step.median() + 0.2


def test_takes_batched_together_match_takes_alone(pipeline, assets):
    from facecue.audio import extract_features, load_audio
    from facecue.cues import CueInputs
    reference = pipeline.analyze_photo(assets / "face.png")
    features = extract_features(load_audio(assets / "speech.wav"))
    short = extract_features(load_audio(load_audio(assets / "speech.wav").wav_bytes()[: 16000 * 2 * 2 + 44]))
    backend = pipeline.backends["neural"]
    a = CueInputs(reference, features, None, "happy", 1.0, 1)
    b = CueInputs(reference, short, None, "sad", 0.6, 2)
    together = backend.generate_many([a, b])
    alone = [backend.generate(a), backend.generate(b)]
    for x, y in zip(together, alone):
        assert len(x) == len(y)
        np.testing.assert_allclose(x.pose, y.pose, atol=1e-3)
        np.testing.assert_allclose(x.local, y.local, atol=1e-3)
        np.testing.assert_array_equal(x.gaze_labels, y.gaze_labels)


# -- the bundled model -------------------------------------------------------------------

def test_neural_take_speaks_and_is_deterministic(neural, happy_take):
    take = neural()
    assert take.manifest["model"]["backend"] == "neural" and take.manifest["model"]["version"].startswith("neural-")
    assert take.landmarks_image.shape == happy_take.landmarks_image.shape
    jaw = take.blendshapes[:, ARKIT_INDEX["jawOpen"]]
    teacher = happy_take.blendshapes[:, ARKIT_INDEX["jawOpen"]]
    assert jaw.std() > 0.03 and np.corrcoef(jaw, teacher)[0, 1] > 0.5          # the mouth follows the speech
    assert np.all((take.blendshapes >= 0) & (take.blendshapes <= 1))
    again = neural()
    np.testing.assert_array_equal(take.landmarks_image, again.landmarks_image)
    assert take.emotion_probs.mean(0).argmax() == 5                            # the classifier reads "happy"


# -- controls on the neural backend ---------------------------------------------------------

def _deviation(take, rows):
    """Mean displacement (cm) of some landmarks from the photo's rest face, after the first second."""
    rest = take.landmarks_local[0]
    return np.linalg.norm(take.landmarks_local[30:, rows] - rest[rows], axis=-1).mean()


def test_neural_intensity_scales_the_expression(neural):
    from facecue.neural.backend import REGION_ROWS
    brows = rep.SUBSET[REGION_ROWS["brows"]]
    still = neural(emotion="surprised", lip_scale=0.0, intensity=0.0)
    weak = neural(emotion="surprised", lip_scale=0.0, intensity=0.3)
    strong = neural(emotion="surprised", lip_scale=0.0, intensity=1.0)
    up = ARKIT_INDEX["browInnerUp"]
    assert strong.blendshapes[30:, up].mean() > weak.blendshapes[30:, up].mean() + 0.1
    assert weak.blendshapes[30:, up].mean() > still.blendshapes[30:, up].mean()
    ramp = neural(emotion="surprised", intensity_curve=((0.0, 0.0), (8.0, 1.0)))
    curve = ramp.blendshapes[:, up]
    third = len(curve) // 3
    assert curve[-third:].mean() > curve[:third].mean() + 0.1
    assert _deviation(strong, brows) > _deviation(weak, brows)


def test_neural_lip_head_and_gaze_controls(neural):
    moving, still = neural(emotion="neutral"), neural(emotion="neutral", lip_scale=0.0)
    jaw = ARKIT_INDEX["jawOpen"]
    assert still.blendshapes[:, jaw].std() < 0.2 * moving.blendshapes[:, jaw].std()
    calm, lively = neural(head_scale=0.0), neural(head_scale=2.0)
    normal = neural()
    assert np.ptp(calm.pose[:, :3], axis=0).max() < 1e-4
    np.testing.assert_allclose(lively.pose[:, :3].std(0), 2 * normal.pose[:, :3].std(0), rtol=1e-3)
    ahead = neural(gaze=False)
    assert np.abs(ahead.gaze_angles).max() < 1e-6 and np.all(ahead.gaze_labels == 2)
    assert np.abs(normal.gaze_angles).max() > 3


def test_neural_region_mixing(neural):
    mixed = neural(emotion="neutral", regions=(("mouth", (("happy", 1.0),)), ("brows", (("surprised", 1.0),))))
    plain = neural(emotion="neutral")
    b, p = mixed.blendshapes[30:], plain.blendshapes[30:]
    assert b[:, ARKIT_INDEX["mouthSmileLeft"]].mean() > p[:, ARKIT_INDEX["mouthSmileLeft"]].mean() + 0.1
    assert b[:, ARKIT_INDEX["browInnerUp"]].mean() > p[:, ARKIT_INDEX["browInnerUp"]].mean() + 0.1
    happy = neural(emotion="happy")
    assert b[:, ARKIT_INDEX["browInnerUp"]].mean() > happy.blendshapes[30:, ARKIT_INDEX["browInnerUp"]].mean()


def test_neural_auto_emotion(neural):
    take = neural(emotion="auto")
    assert take.manifest["emotion"] == "auto" and take.manifest["emotion_shown"] in ("happy", "angry", "neutral", "sad")


# -- training and evaluation ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_corpus(pipeline, tmp_path_factory):
    from facecue.dataset import synthetic
    root = tmp_path_factory.mktemp("corpus")
    # 24 clips: gaze holds a region for about a second, so 10 clips gave the pooled region
    # distance a spread as wide as the margin tested (0.10 on 24 clips, 0.34 on 10)
    synthetic.build(root, 24, seed=11, pipeline=pipeline, held_out=True)
    return root


def test_training_lowers_the_loss_and_writes_a_loadable_checkpoint(small_corpus, tmp_path):
    from facecue.neural.training import train
    out = tmp_path / "model.pt"
    summary = train(small_corpus, out, tcfg=config.TrainConfig(steps=60, batch=8, sequence_frames=48),
                    version="neural-test")
    start, end = summary["initial_loss"]["validation"], summary["final_loss"]["validation"]
    assert end["landmarks"] < 0.8 * start["landmarks"] and end["pose"] < start["pose"]
    loaded = checkpoint.load(out)
    assert loaded.version == "neural-test" and loaded.training["recipe"]["steps"] == 60


def test_train_and_eval_on_the_cli(small_corpus, tmp_path):
    import json

    from .test_cli import facecue
    result = facecue("train", small_corpus, "--out", tmp_path / "m.pt", "--steps", "5", "--batch", "4")
    assert result.returncode == 0, result.stderr
    report = tmp_path / "report.json"
    result = facecue("eval", small_corpus, "--checkpoint", tmp_path / "m.pt", "--out", report)
    assert result.returncode == 0, result.stderr
    assert "mld_mm" in result.stdout and json.loads(report.read_text())["clips"] == 24
    missing = facecue("train", tmp_path / "nothing", "--out", tmp_path / "x.pt")
    assert missing.returncode == 2 and "no prepared clips" in missing.stderr


def test_bundled_model_beats_standing_still_and_keeps_emotion_statistics(small_corpus):
    """On held-out sentences: closer to the teacher than a still face; per-emotion behaviour kept."""
    from facecue.neural.evaluation import evaluate
    report = evaluate(small_corpus, NeuralBackend())
    model, still = report["metrics"]["model"], report["metrics"]["still"]
    assert model["mld_mm"] < 0.9 * still["mld_mm"] and model["fld_mm"] < 0.8 * still["fld_mm"]
    assert model["dtw_pitch_deg"] < still["dtw_pitch_deg"]
    assert report["emotion_accuracy"] >= 0.5
    assert len(report["per_emotion"]) >= 3 and report["pitch_by_emotion_correlation"] > 0.6
    assert report["gaze_tv_distance_pooled"] < 0.7 * report["still_gaze_tv_distance_pooled"]


# -- serving ---------------------------------------------------------------------------------

def test_concurrent_neural_takes_share_batches(client, server, pipeline, assets):
    from concurrent.futures import ThreadPoolExecutor
    batcher_sizes = lambda: list(pipeline._batchers["neural"].batch_sizes) if "neural" in pipeline._batchers else []
    before = len(batcher_sizes())
    with ThreadPoolExecutor(4) as pool:
        takes = list(pool.map(lambda seed: client.generate(assets / "speech.wav", assets / "face.png",
                                                           emotion="sad", seed=seed, backend="neural"), range(4)))
    sizes = batcher_sizes()[before:]
    assert sum(sizes) == 4 and len(takes) == 4
    alone = pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png", emotion="sad",
                                     seed=2, backend="neural"))
    np.testing.assert_allclose(takes[2].pose, alone.pose, atol=1e-3)
    assert all(t.manifest["model"]["backend"] == "neural" for t in takes)


def test_cue_batcher_decodes_concurrent_takes_together(pipeline, assets):
    from concurrent.futures import ThreadPoolExecutor

    from facecue.audio import extract_features, load_audio
    from facecue.cue_batcher import CueBatcher
    from facecue.cues import CueInputs
    reference = pipeline.analyze_photo(assets / "face.png")
    features = extract_features(load_audio(assets / "speech.wav"))
    backend = pipeline.backends["neural"]
    batcher = CueBatcher(backend, wait_s=0.3)
    takes = [CueInputs(reference, features, None, emotion, 1.0, seed)
             for seed, emotion in enumerate(("happy", "sad", "angry"))]
    with ThreadPoolExecutor(3) as pool:
        tracks = list(pool.map(batcher.generate, takes))
    assert max(batcher.batch_sizes) > 1 and sum(batcher.batch_sizes) == 3
    for track, inputs in zip(tracks, takes):
        np.testing.assert_allclose(track.pose, backend.generate(inputs).pose, atol=1e-3)


def test_interrupted_training_resumes_to_the_same_weights(small_corpus, tmp_path):
    from facecue.errors import InvalidInput
    from facecue.neural.training import state_path, train
    recipe = config.TrainConfig(steps=24, batch=4, sequence_frames=48)
    whole = tmp_path / "whole.pt"
    train(small_corpus, whole, tcfg=recipe, save_every=8)
    assert not state_path(whole).exists()                                  # a finished run leaves no state

    cut = tmp_path / "cut.pt"

    def stop_at_step_13(step, losses):
        if step == 13:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(small_corpus, cut, tcfg=recipe, save_every=8, progress=stop_at_step_13)
    assert state_path(cut).exists() and not cut.exists()
    with pytest.raises(InvalidInput, match="other settings \\(steps\\)"):
        train(small_corpus, cut, tcfg=config.TrainConfig(steps=30, batch=4, sequence_frames=48), resume=True)
    train(small_corpus, cut, tcfg=recipe, save_every=8, resume=True)            # continues from step 8
    a, b = checkpoint.load(whole).model.state_dict(), checkpoint.load(cut).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(InvalidInput, match="nothing to resume"):
        train(small_corpus, cut, tcfg=recipe, resume=True)
