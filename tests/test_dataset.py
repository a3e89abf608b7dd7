"""Training data: a synthetic corpus, and videos prepared with MediaPipe on every frame."""
from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from facecue import take as take_io
from facecue.audio import extract_features, load_audio
from facecue.config import Controls, RenderOptions, RenderSize, TakeRequest
from facecue.dataset import clips, prepare, recorded, synthetic
from facecue.dataset.voices import HELD_OUT_OTHER_VOICES, OTHER_VOICES, Voice, speak
from facecue.evaluation import devset


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


def _active_span_s(audio) -> float:
    """Seconds from the first to the last frame within 35 dB of the loudest."""
    energy = extract_features(audio).energy_db
    active = np.flatnonzero(energy > energy.max() - 35)
    return (active[-1] - active[0]) / 100


def _median_f0(audio) -> float:
    features = extract_features(audio)
    voiced = features.f0_hz[(features.f0_hz > 0) & (features.energy_db > features.energy_db.max() - 30)]
    return float(np.median(voiced))


@pytest.mark.parametrize("voice", [Voice("espeak-ng", "en-us"), *OTHER_VOICES, *HELD_OUT_OTHER_VOICES],
                         ids=lambda v: v.describe())
def test_every_corpus_voice_speaks_at_the_asked_rate_and_pitch(voice, tmp_path):
    text = "Please remember to lock the back door before you leave."
    base = load_audio(speak(text, voice, 165, 50, tmp_path / "base.wav"))
    slow = load_audio(speak(text, voice, 120, 50, tmp_path / "slow.wav"))
    high = load_audio(speak(text, voice, 165, 70, tmp_path / "high.wav"))
    assert 1.5 < _active_span_s(base) < 5.0
    assert 1.2 < _active_span_s(slow) / _active_span_s(base) < 1.6            # 165 / 120 words a minute = 1.375
    rise = _median_f0(high) / _median_f0(base)
    if voice.engine == "espeak-ng":
        assert rise > 1.06
    else:                                                                       # shifted by 2 semitones
        assert abs(rise - 2 ** (2 / 12)) < 0.04


def test_recorded_renditions_keep_their_words_and_change_tempo_and_pitch():
    root = devset.fetch(quiet=True)
    training, held_out = recorded.clip_names(False), recorded.clip_names(True)
    assert not set(training) & set(held_out) and set(training) | set(held_out) == {c.name for c in devset.CLIPS}
    speech = load_audio(devset.clip_path(root, "something"))
    faster = recorded.rendition(speech.samples, 1.15, 0.0)
    assert abs(len(speech.samples) / len(faster) - 1.15) < 0.01
    higher = dataclasses.replace(speech, samples=recorded.rendition(speech.samples, 1.0, 2.0))
    assert abs(_median_f0(higher) / _median_f0(speech) - 2 ** (2 / 12)) < 0.04


def test_recorded_clips_have_targets_that_follow_the_real_voice(pipeline, tmp_path):
    paths = recorded.build(tmp_path, 1, seed=4, pipeline=pipeline, held_out=True)
    assert len(paths) == len(recorded.HELD_OUT_CLIPS)
    for path in paths:
        clip = clips.load(path)
        assert clip.source.startswith("recorded") and abs(clip.frames / clip.fps - len(clip.mfcc) / 100) < 0.1
        # The teacher's lips part while the speaker talks: its gap follows the voice's level.
        gap = clip.landmarks_local[:, 14, 1] - clip.landmarks_local[:, 13, 1]
        level = np.interp(np.arange(clip.frames) / clip.fps, np.arange(len(clip.energy_db)) / 100, clip.energy_db)
        assert np.corrcoef(np.abs(gap), level)[0, 1] > 0.3, clip.source
