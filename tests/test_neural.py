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
from facecue.neural.model import CueModel


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
    assert loaded.training["recipe"]["seed"] == 0 and loaded.training["clips"]["train"] > 100


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
