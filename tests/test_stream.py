"""The real-time Stream RPC over loopback: audio in small chunks, every frame out, in order."""
from __future__ import annotations

import numpy as np
import pytest

from facecue.audio import load_audio
from facecue.client import FaceCueClientError


def _chunks(samples: np.ndarray, size: int):
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    for start in range(0, len(pcm), size):
        yield pcm[start: start + size].tobytes()


def test_stream_answers_every_frame_in_order(client, assets):
    audio = load_audio(assets / "speech.wav")
    batches = list(client.stream(_chunks(audio.samples, 640), assets / "face.png", emotion="happy", fps=25))
    starts = [start for start, _ in batches]
    counts = [len(arrays["pose"]) for _, arrays in batches]
    assert starts == list(np.cumsum([0] + counts[:-1]))           # contiguous, no gaps, no repeats
    total = sum(counts)
    assert total == int(np.ceil(audio.duration_s * 25 - 1e-9))
    assert len(batches) > 10                                       # answered as it went, not at the end
    pose = np.concatenate([arrays["pose"] for _, arrays in batches])
    jaw = np.concatenate([arrays["blendshapes"] for _, arrays in batches])[:, 17]
    assert np.isfinite(pose).all() and np.abs(np.diff(pose[:, :3], axis=0)).max() < 3.0   # no jumps at window seams
    assert jaw.max() > 0.2 and jaw.min() < 0.05                    # the mouth moves with the speech
    landmarks = np.concatenate([arrays["landmarks_image"] for _, arrays in batches])
    assert landmarks.shape == (total, 478, 3)


def test_stream_other_sample_rates_and_bad_input(client, assets):
    import soxr
    audio = load_audio(assets / "speech.wav")
    at_44k = soxr.resample(audio.samples[: 16000 * 2], 16000, 44100)
    batches = list(client.stream(_chunks(at_44k, 1764), assets / "face.png", sample_rate=44100, fps=30))
    assert sum(len(a["pose"]) for _, a in batches) == 60
    with pytest.raises(FaceCueClientError) as err:
        list(client.stream(_chunks(audio.samples[:3200], 640), assets / "blank.png"))
    assert err.value.code == "INVALID_ARGUMENT" and "no face found" in err.value.message
    with pytest.raises(FaceCueClientError) as err:
        list(client.stream(iter([b"\x00\x01\x02"]), assets / "face.png"))
    assert err.value.code == "INVALID_ARGUMENT" and "whole 16-bit samples" in err.value.message


def test_stream_honours_controls(client, assets):
    from facecue.config import Controls
    audio = load_audio(assets / "speech.wav")
    batches = list(client.stream(_chunks(audio.samples, 640), assets / "face.png",
                                 controls=Controls(head_scale=0.0, gaze=False, lip_scale=0.0)))
    pose = np.concatenate([a["pose"] for _, a in batches])
    labels = np.concatenate([a["gaze_labels"] for _, a in batches])
    jaw = np.concatenate([a["blendshapes"] for _, a in batches])[:, 17]
    assert np.ptp(pose[:, :3], axis=0).max() < 1e-3 and np.all(labels == 2) and jaw.max() < 0.05


def test_stream_with_the_neural_backend(client, assets):
    audio = load_audio(assets / "speech.wav")
    batches = list(client.stream(_chunks(audio.samples, 640), assets / "face.png", emotion="sad", backend="neural"))
    pose = np.concatenate([a["pose"] for _, a in batches])
    jaw = np.concatenate([a["blendshapes"] for _, a in batches])[:, 17]
    assert len(pose) == int(np.ceil(audio.duration_s * 30 - 1e-9)) and len(batches) > 10
    assert np.abs(np.diff(pose[:, :3], axis=0)).max() < 3.0 and jaw.std() > 0.03
    with pytest.raises(FaceCueClientError) as err:
        list(client.stream(_chunks(audio.samples[:3200], 640), assets / "face.png", backend="dreamy"))
    assert err.value.code == "INVALID_ARGUMENT" and "unknown backend 'dreamy'" in err.value.message
