"""The audio side of the model: a window of MFCC frames per video frame, normalized.

Vectorized by index arithmetic: one gather builds every frame's window at once.
"""
from __future__ import annotations

import numpy as np

from ..audio import FEATURE_RATE


def feature_index(frames: int, fps: float) -> np.ndarray:
    """(frames,) the feature frame (at FEATURE_RATE) nearest each video frame's time."""
    return np.rint(np.arange(frames) / fps * FEATURE_RATE).astype(np.int64)


def frame_windows(mfcc: np.ndarray, frames: int, fps: float, window: int) -> np.ndarray:
    """(T, D) MFCC at FEATURE_RATE → (frames, window, D): the MFCC frames centred on each video frame
    (edges repeat the first/last feature frame)."""
    centre = feature_index(frames, fps)
    index = np.clip(centre[:, None] + np.arange(window) - window // 2, 0, len(mfcc) - 1)
    return mfcc[index]


def normalize(windows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((windows - mean) / std).astype(np.float32)
