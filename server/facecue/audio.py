"""Audio in: any common file → 16 kHz mono float32; speech features at 100 Hz.

Features are computed once per take on the whole signal (vectorized by librosa) and
sampled at any frame rate with ``AudioFeatures.at``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidInput, LimitExceeded

SAMPLE_RATE = 16_000
FEATURE_RATE = 100          # feature frames per second (10 ms hop)
MFCC_DIMS = 28
HOP = SAMPLE_RATE // FEATURE_RATE
SILENCE_DBFS = -50.0        # loudest 50 ms below this: no speech to animate
MIN_DURATION_S = 0.1


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray      # (N,) float32 in [-1, 1], 16 kHz mono
    name: str                # for messages: the file name or "<bytes>"

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def wav_bytes(self) -> bytes:
        """16-bit PCM WAV of the samples (the take's audio.wav)."""
        import soundfile as sf
        buffer = io.BytesIO()
        sf.write(buffer, self.samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        return buffer.getvalue()


def load_audio(source: str | Path | bytes, *, max_duration_s: float | None = None,
               name: str | None = None) -> Audio:
    """Decode, downmix and resample; reject what cannot drive a face."""
    label = name or (Path(source).name if not isinstance(source, bytes) else "<audio bytes>")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InvalidInput(f"audio file '{source}' does not exist")
    samples, rate = _decode(source, label)
    if samples.size == 0:
        raise InvalidInput(f"audio '{label}' is empty (no samples)")
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        import soxr
        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    samples = np.clip(samples.astype(np.float32), -1.0, 1.0)
    audio = Audio(samples=samples, name=label)
    _check(audio, max_duration_s)
    return audio


def _decode(source: str | Path | bytes, label: str) -> tuple[np.ndarray, int]:
    import soundfile as sf
    try:
        data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        samples, rate = sf.read(data, dtype="float32", always_2d=False)
        return samples, int(rate)
    except Exception:
        pass  # not a libsndfile format: try FFmpeg through PyAV below
    try:
        import av
        data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        with av.open(data) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = [f.to_ndarray().reshape(-1) for frame in container.decode(stream)
                      for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), SAMPLE_RATE
    except Exception as exc:
        raise InvalidInput(f"cannot read audio '{label}': not a readable wav, flac, ogg, mp3 "
                           f"or other audio file ({type(exc).__name__})") from None


def _check(audio: Audio, max_duration_s: float | None) -> None:
    if audio.duration_s < MIN_DURATION_S:
        raise InvalidInput(f"audio '{audio.name}' is {audio.duration_s * 1000:.0f} ms long; "
                           f"at least {MIN_DURATION_S * 1000:.0f} ms of speech is needed")
    if max_duration_s is not None and audio.duration_s > max_duration_s:
        raise LimitExceeded(f"audio '{audio.name}' is {audio.duration_s:.1f} s long; the limit "
                            f"is {max_duration_s:.0f} s")
    window = SAMPLE_RATE // 20
    usable = len(audio.samples) // window * window or len(audio.samples)
    power = np.square(audio.samples[:usable].reshape(-1, min(window, usable))).mean(axis=1)
    loudest = 10 * np.log10(power.max() + 1e-12)
    if loudest < SILENCE_DBFS:
        raise InvalidInput(f"audio '{audio.name}' is silent (loudest 50 ms at {loudest:.0f} dBFS, "
                           f"speech needs above {SILENCE_DBFS:.0f} dBFS)")


@dataclass(frozen=True)
class AudioFeatures:
    """Per-10 ms features of a take's audio."""

    mfcc: np.ndarray         # (T, 28)
    energy_db: np.ndarray    # (T,) RMS level in dBFS
    f0_hz: np.ndarray        # (T,) fundamental frequency, 0 where unvoiced
    duration_s: float

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.energy_db)) / FEATURE_RATE

    def at(self, times: np.ndarray) -> "AudioFeatures":
        """The same features linearly interpolated at ``times`` (seconds)."""
        t = self.times

        def interp(x: np.ndarray) -> np.ndarray:
            if x.ndim == 1:
                return np.interp(times, t, x).astype(np.float32)
            return np.stack([np.interp(times, t, col) for col in x.T], axis=1).astype(np.float32)

        return AudioFeatures(interp(self.mfcc), interp(self.energy_db), interp(self.f0_hz),
                             self.duration_s)

    def speech_activity(self) -> np.ndarray:
        """(T,) in [0, 1]: how far each frame's level is above the take's noise floor."""
        floor = np.percentile(self.energy_db, 10)
        peak = np.percentile(self.energy_db, 98)
        span = max(peak - floor, 6.0)
        return np.clip((self.energy_db - floor - 0.15 * span) / (0.7 * span), 0.0, 1.0)


def extract_features(audio: Audio) -> AudioFeatures:
    """28-d MFCC (25 ms window), RMS energy and YIN f0, all on a 10 ms hop."""
    import librosa
    y = audio.samples
    mfcc = librosa.feature.mfcc(y=y, sr=SAMPLE_RATE, n_mfcc=MFCC_DIMS, n_fft=512,
                                win_length=400, hop_length=HOP, n_mels=40)
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=HOP)[0]
    energy_db = 20 * np.log10(rms + 1e-6)
    f0 = librosa.yin(y, fmin=60, fmax=500, sr=SAMPLE_RATE, frame_length=1024, hop_length=HOP)
    frames = min(mfcc.shape[1], len(energy_db), len(f0))
    energy_db = energy_db[:frames]
    voiced = energy_db > max(np.percentile(energy_db, 10) + 12.0, SILENCE_DBFS)
    f0 = np.where(voiced, f0[:frames], 0.0)
    return AudioFeatures(mfcc=mfcc[:, :frames].T.astype(np.float32),
                         energy_db=energy_db.astype(np.float32),
                         f0_hz=f0.astype(np.float32), duration_s=audio.duration_s)
