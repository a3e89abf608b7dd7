"""Smooth random signals, vectorized."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def smooth_noise(rng: np.random.Generator, frames: int, fps: float, period_s: float,
                 channels: int = 1) -> np.ndarray:
    """(frames, channels) zero-mean, unit-std noise with features about ``period_s`` long."""
    sigma = max(period_s * fps / 4, 0.5)
    pad = int(4 * sigma) + 1
    raw = rng.standard_normal((frames + 2 * pad, channels))
    smooth = gaussian_filter1d(raw, sigma, axis=0, mode="reflect")[pad: pad + frames]
    # Scale by the filter's own gain, not the clip's sample std: a short clip of slow noise is
    # nearly flat, and dividing by its tiny std would blow it up.
    return smooth * np.sqrt(2 * np.sqrt(np.pi) * sigma)


def smooth(x: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """Gaussian smoothing along time with a kernel of about ``seconds``."""
    sigma = seconds * fps / 2.355       # FWHM → sigma
    return gaussian_filter1d(x, sigma, axis=0, mode="nearest") if sigma >= 0.3 else x
