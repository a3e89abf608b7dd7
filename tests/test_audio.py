import subprocess

import numpy as np
import pytest
import soundfile as sf

from facecue.audio import FEATURE_RATE, MFCC_DIMS, extract_features, load_audio
from facecue.errors import InvalidInput, LimitExceeded


@pytest.mark.parametrize("suffix", ["flac", "ogg", "mp3"])
def test_common_formats_decode_to_16k_mono(assets, tmp_path, suffix):
    out = tmp_path / f"speech.{suffix}"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(assets / "speech.wav"), "-ac", "2",
                    "-ar", "44100", str(out)], check=True)
    reference = load_audio(assets / "speech.wav")
    audio = load_audio(out)
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert abs(audio.duration_s - reference.duration_s) < 0.08


def test_features_shape_and_rate(assets):
    audio = load_audio(assets / "speech.wav")
    features = extract_features(audio)
    frames = len(features.energy_db)
    assert features.mfcc.shape == (frames, MFCC_DIMS)
    assert abs(frames / FEATURE_RATE - audio.duration_s) < 0.05
    voiced = features.f0_hz[features.f0_hz > 0]
    assert len(voiced) > 0.2 * frames and 60 <= np.median(voiced) <= 300
    at30 = features.at(np.arange(0, audio.duration_s, 1 / 30))
    assert at30.mfcc.shape[1] == MFCC_DIMS


def test_bad_audio_is_refused_clearly(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(InvalidInput, match="empty|ms long"):
        load_audio(empty)
    with pytest.raises(InvalidInput, match="cannot read audio"):
        load_audio(b"RIFF....not really a wave file", name="bad.wav")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 2, np.float32), 16000)
    with pytest.raises(InvalidInput, match="silent"):
        load_audio(silent)
    long = tmp_path / "long.wav"
    sf.write(long, 0.1 * np.sin(np.arange(16000 * 12) * 0.05).astype(np.float32), 16000)
    with pytest.raises(LimitExceeded, match="limit is 10 s"):
        load_audio(long, max_duration_s=10)
