"""Training data: a synthetic corpus, and videos prepared with MediaPipe on every frame."""
from __future__ import annotations

import shutil

import numpy as np

from facecue import take as take_io
from facecue.config import Controls, RenderOptions, RenderSize, TakeRequest
from facecue.dataset import clips, prepare, synthetic


def test_synthetic_corpus_is_consistent_and_resumable(pipeline, tmp_path):
    paths = synthetic.build(tmp_path, 3, seed=5, pipeline=pipeline)
    index = clips.read_index(tmp_path)
    assert len(paths) == len(index) == 3
    for path in paths:
        clip = clips.load(path)
        seconds = len(clip.mfcc) / 100
        assert abs(clip.frames / clip.fps - seconds) < 0.1
        assert clip.landmarks_local.shape == (clip.frames, 478, 3) and clip.mfcc.shape[1] == 28
        assert clip.gaze_labels.dtype == np.int16 and clip.source.startswith("espeak-ng")
    before = {p: p.stat().st_mtime_ns for p in paths}
    again = synthetic.build(tmp_path, 4, seed=5, pipeline=pipeline)     # resumes: 3 kept, 1 new
    assert again[:3] == paths and all(p.stat().st_mtime_ns == before[p] for p in paths)
    assert len(clips.read_index(tmp_path)) == 4


def test_prepared_video_matches_the_take_it_shows(pipeline, assets, tmp_path):
    # The photo as it is, and no emotion: MediaPipe's pose read-back (a fit over the whole mesh)
    # leans with the mouth's and brows' shapes, and this checks the preparation against the
    # very face and head motion the take shows.
    take = pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png", emotion="neutral",
                                    render=RenderOptions(size=RenderSize.parse("crop"), video=True),
                                    controls=Controls(keep_photo_expression=True)))
    rendered = take_io.write(take, tmp_path / "take")
    dataset = tmp_path / "MEAD"
    target = dataset / "M003" / "video" / "front" / "sad" / "level_2" / "001.mp4"
    target.parent.mkdir(parents=True)
    shutil.copy(rendered / "take.mp4", target)
    counts = prepare.prepare(dataset, tmp_path / "cache")
    assert counts == {"prepared": 1, "skipped": 0, "failed": 0}
    clip = clips.load(tmp_path / "cache" / "M003" / "sad" / "level_2" / "001.npz")
    assert (clip.actor, clip.emotion, clip.level) == ("M003", "sad", 2) and clip.frames == take.frame_count
    # MediaPipe on the rendered video reads back the head motion the take asked for.
    for axis in (0, 1):
        assert np.corrcoef(clip.pose[:, axis], take.pose[:, axis])[0, 1] > 0.7
    assert np.abs(clip.pose[:, 1] - take.pose[:, 1]).mean() < 3.0            # degrees of pitch
    assert abs(len(clip.mfcc) / 100 - take.manifest["duration_s"]) < 0.15
    assert prepare.prepare(dataset, tmp_path / "cache") == {"prepared": 0, "skipped": 1, "failed": 0}
    # The MEAD-layout cache trains and evaluates like the synthetic corpus.
    from facecue.neural.backend import NeuralBackend
    from facecue.neural.config import TrainConfig
    from facecue.neural.evaluation import evaluate
    from facecue.neural.training import train
    summary = train(tmp_path / "cache", tmp_path / "mead.pt", tcfg=TrainConfig(steps=4, batch=2), version="neural-mead")
    assert summary["clips"] == {"train": 1, "validation": 0} and summary["frames"] == clip.frames
    report = evaluate(tmp_path / "cache", NeuralBackend(tmp_path / "mead.pt"))
    assert report["clips"] == 1 and np.isfinite(report["metrics"]["model"]["fld_mm"])


# -- acoustic conditions and speaker-robust features ------------------------------------------

def _spoken(assets):
    from facecue.audio import load_audio
    return load_audio(assets / "speech.wav").samples


def test_noise_lands_at_the_asked_signal_to_noise_ratio(assets):
    import numpy as np

    from facecue.dataset import augment
    speech = _spoken(assets).astype(np.float64)
    for snr in (10.0, 30.0):
        noisy = augment.add_noise(speech, snr, tilt=1.0, rng=np.random.default_rng(0))
        noise = noisy - speech
        frames = speech[: len(speech) // 320 * 320].reshape(-1, 320)
        power = (frames ** 2).mean(1)
        active = power[power >= 1e-3 * power.max()].mean()
        assert abs(10 * np.log10(active / (noise ** 2).mean()) - snr) < 0.5


def test_telephone_and_room_keep_the_timing_and_cut_what_they_should(assets):
    import numpy as np
    from scipy import signal

    from facecue.audio import SAMPLE_RATE
    from facecue.dataset import augment
    speech = _spoken(assets).astype(np.float64)
    line = augment.telephone(speech)
    f, p_in = signal.welch(speech, SAMPLE_RATE, nperseg=1024)
    _, p_out = signal.welch(line, SAMPLE_RATE, nperseg=1024)
    low, band = f < 150, (f > 600) & (f < 3000)
    assert np.sum(p_out[low]) < 0.05 * np.sum(p_in[low]) and np.sum(p_out[band]) > 0.7 * np.sum(p_in[band])
    room = augment.reverberate(speech, 0.5, np.random.default_rng(1))
    assert len(room) == len(speech)
    lag = np.argmax(signal.correlate(room, speech, "full", method="fft")) - (len(speech) - 1)
    assert lag == 0                                              # the direct sound is not delayed
    assert np.abs(room - speech).mean() > 0.05 * np.abs(speech).mean()       # and the room is heard


def test_conditions_are_drawn_deterministically_and_never_clip(assets):
    import numpy as np

    from facecue.dataset import augment
    speech = _spoken(assets)
    drawn = [augment.draw(np.random.default_rng(seed)) for seed in range(40)]
    assert {c.kind for c in drawn} == set(augment.CONDITIONS)
    for seed in (0, 3):
        condition = augment.draw(np.random.default_rng(seed))
        once = augment.apply(speech, condition, np.random.default_rng(seed))
        again = augment.apply(speech, condition, np.random.default_rng(seed))
        assert np.array_equal(once, again) and np.abs(once).max() <= 0.9 + 1e-6 and once.dtype == np.float32


def test_per_utterance_normalisation_removes_the_channel(assets):
    """A constant gain and a fixed channel filter change raw MFCCs but not the normalized ones."""
    import numpy as np
    from scipy import signal

    from facecue.audio import SAMPLE_RATE, Audio, extract_features
    from facecue.neural.features import utterance_normalized
    speech = _spoken(assets)
    plain = extract_features(Audio(speech, "plain"))
    tilt = signal.butter(1, 1500, "highpass", fs=SAMPLE_RATE, output="sos")
    coloured = (0.3 * (0.5 * speech + signal.sosfilt(tilt, speech))).astype(np.float32)
    other = extract_features(Audio(coloured, "other"))
    raw = np.abs(plain.mfcc - other.mfcc).mean()
    normalized = np.abs(utterance_normalized(plain.mfcc, plain.energy_db)
                        - utterance_normalized(other.mfcc, other.energy_db)).mean()
    raw_in_spreads = raw / plain.mfcc.std(axis=0).mean()
    assert raw_in_spreads > 0.15 and normalized < 0.3 * raw_in_spreads, (raw_in_spreads, normalized)
    z = utterance_normalized(plain.mfcc, plain.energy_db)
    speech_frames = plain.energy_db >= plain.energy_db.max() - 40
    assert np.allclose(z[speech_frames].mean(0), 0, atol=1e-3) and np.allclose(z[speech_frames].std(0), 1, atol=1e-2)
