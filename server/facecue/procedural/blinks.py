"""Spontaneous blinks: gamma-distributed intervals, asymmetric close/open profile."""
from __future__ import annotations

import numpy as np

from ..names import ARKIT_INDEX

# Mean seconds between blinks per emotion (arousal raises the rate; surprise holds the eyes open).
MEAN_INTERVAL_S = {"neutral": 3.6, "angry": 2.6, "contempt": 3.4, "disgusted": 3.0,
                   "fear": 2.0, "happy": 3.0, "sad": 4.2, "surprised": 5.5}
CLOSE_S, HOLD_S, OPEN_S = 0.07, 0.04, 0.16


def blink_curve(rng: np.random.Generator, times: np.ndarray, emotion: str, intensity: float) -> np.ndarray:
    """(F,) eyelid closure in [0, 1] for both eyes."""
    duration = float(times[-1]) if len(times) else 0.0
    mean = MEAN_INTERVAL_S["neutral"] + intensity * (MEAN_INTERVAL_S[emotion] - MEAN_INTERVAL_S["neutral"])
    count = int(duration / mean * 2) + 2
    intervals = rng.gamma(shape=4.0, scale=mean / 4.0, size=count)
    onsets = 0.8 + np.cumsum(intervals) - intervals[0]
    onsets = onsets[onsets < duration]
    if len(onsets) == 0:
        return np.zeros(len(times), np.float32)
    dt = times[:, None] - onsets[None, :]
    closing = np.clip(dt / CLOSE_S, 0, 1)
    opening = np.clip(1 - (dt - CLOSE_S - HOLD_S) / OPEN_S, 0, 1)
    profile = np.where(dt < CLOSE_S, closing, opening) * (dt >= 0)
    return profile.max(axis=1).astype(np.float32)


def close_over(weights: np.ndarray, blink: np.ndarray) -> np.ndarray:
    """(F, 52) weights with a blink (F,) closing both eyes over the expression: the lid-raiser
    and the squint are let go as the lids come down (added to a blink, surprise's widened eye
    stayed a third open at its peak, and a squint pushed the lids past each other)."""
    out = weights.copy()
    for side in ("Left", "Right"):
        out[:, ARKIT_INDEX[f"eyeBlink{side}"]] = np.maximum(out[:, ARKIT_INDEX[f"eyeBlink{side}"]], blink)
        for shape in (f"eyeWide{side}", f"eyeSquint{side}"):
            out[:, ARKIT_INDEX[shape]] *= 1 - blink
    return out
