"""The audio side of the model: a window of MFCC frames per video frame, normalized.

Each recording is first brought to zero mean and unit spread over its own speech (the
channel and the speaker's timbre shift the coefficients far more than the phones do), then
by the training corpus's statistics. Vectorized by index arithmetic: one gather builds every
frame's window at once.
"""
from __future__ import annotations

import numpy as np

from ..audio import FEATURE_RATE

SPEECH_RANGE_DB = 40.0      # frames within this of the loudest count as speech for the statistics
MIN_SPEECH_FRAMES = 20


def utterance_normalized(mfcc: np.ndarray, energy_db: np.ndarray) -> np.ndarray:
    """(T, D) MFCC → zero mean, unit spread per coefficient over the recording's speech frames."""
    mfcc = np.asarray(mfcc, np.float64)
    level = np.asarray(energy_db)[: len(mfcc)]
    speech = mfcc[: len(level)][level >= level.max() - SPEECH_RANGE_DB] if len(level) else mfcc[:0]
    if len(speech) < MIN_SPEECH_FRAMES:
        speech = mfcc
    return ((mfcc - speech.mean(axis=0)) / (speech.std(axis=0) + 1e-3)).astype(np.float32)


def model_mfcc(mfcc: np.ndarray, energy_db: np.ndarray, feature_norm: str) -> np.ndarray:
    """The MFCC a model with this ``feature_norm`` ("corpus" or "utterance") reads."""
    return utterance_normalized(mfcc, energy_db) if feature_norm == "utterance" else np.asarray(mfcc, np.float32)


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
