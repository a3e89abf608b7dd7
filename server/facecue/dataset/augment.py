"""Acoustic conditions for training audio: rooms, noise and telephone lines.

Synthetic voices are studio-clean; recorded speech is not. Each clip's features are taken
from one drawn condition while its targets come from the clean words, so the model learns
to read the mouth through the channel rather than the channel itself. Deterministic for the
generator it is given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from ..audio import SAMPLE_RATE

CONDITIONS = ("clean", "room", "noise", "telephone", "room+noise")


@dataclass(frozen=True)
class Condition:
    kind: str
    rt60_s: float = 0.0          # room: time for the reverberation to fall by 60 dB
    snr_db: float = np.inf       # noise: speech-to-noise power ratio
    tilt: float = 0.0            # noise colour: 0 white, 1 pink-ish, 2 brown-ish

    def describe(self) -> str:
        parts = [self.kind]
        if self.rt60_s:
            parts.append(f"RT60 {self.rt60_s:.2f} s")
        if np.isfinite(self.snr_db):
            parts.append(f"SNR {self.snr_db:.0f} dB")
        return ", ".join(parts)


def draw(rng: np.random.Generator) -> Condition:
    kind = CONDITIONS[int(rng.integers(len(CONDITIONS)))]
    rt60, snr, tilt = float(rng.uniform(0.15, 0.8)), float(rng.uniform(10, 30)), float(rng.uniform(0, 2))
    return Condition(kind=kind, rt60_s=rt60 if "room" in kind else 0.0,
                     snr_db=snr if "noise" in kind else np.inf, tilt=tilt)


def apply(samples: np.ndarray, condition: Condition, rng: np.random.Generator) -> np.ndarray:
    """16 kHz mono float32 through the condition; the level is kept below clipping."""
    y = np.asarray(samples, np.float64)
    if condition.rt60_s:
        y = reverberate(y, condition.rt60_s, rng)
    if condition.kind == "telephone":
        y = telephone(y)
    if np.isfinite(condition.snr_db):
        y = add_noise(y, condition.snr_db, condition.tilt, rng)
    peak = np.abs(y).max()
    return (y * (0.9 / peak) if peak > 0.9 else y).astype(np.float32)


def reverberate(y: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """Convolution with an exponentially decaying noise tail after the direct sound."""
    length = int(rt60_s * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * 10 ** (-3 * t / rt60_s)       # −60 dB at rt60
    tail[: SAMPLE_RATE // 200] = 0                                       # 5 ms to the first reflection
    response = np.concatenate([[1.0], 0.3 * tail / np.sqrt(np.sum(tail ** 2))])
    return signal.fftconvolve(y, response)[: len(y)]


def telephone(y: np.ndarray) -> np.ndarray:
    """The 300–3400 Hz band of a narrow-band line."""
    sos = signal.butter(4, (300, 3400), btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfiltfilt(sos, y)


def add_noise(y: np.ndarray, snr_db: float, tilt: float, rng: np.random.Generator) -> np.ndarray:
    """Coloured noise (spectrum ∝ f^-tilt) at ``snr_db`` below the speech's active power."""
    spectrum = np.fft.rfft(rng.standard_normal(len(y)))
    frequency = np.fft.rfftfreq(len(y), 1 / SAMPLE_RATE)
    spectrum *= np.maximum(frequency, 50.0) ** (-tilt / 2)
    noise = np.fft.irfft(spectrum, len(y))
    frames = y[: len(y) // 320 * 320].reshape(-1, 320)            # 20 ms
    power = np.mean(frames ** 2, axis=1) if len(frames) else np.zeros(1)
    speech_power = power[power >= 1e-3 * power.max()].mean() if power.max() > 0 else 0.0   # within 30 dB
    noise *= np.sqrt(speech_power / 10 ** (snr_db / 10) / max(np.mean(noise ** 2), 1e-20))
    return y + noise
