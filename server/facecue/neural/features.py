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
    return mfcc[window_index(frames, fps, window, len(mfcc))]


def window_index(frames: int, fps: float, window: int, length: int) -> np.ndarray:
    """(frames, window) the feature frames each video frame's window reads from ``length`` of them."""
    centre = feature_index(frames, fps)
    return np.clip(centre[:, None] + np.arange(window) - window // 2, 0, length - 1)


def normalize(windows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((windows - mean) / std).astype(np.float32)


def device_windows(mfccs: list[np.ndarray], counts: list[int], frames: int, fps: float, window: int, device):
    """Many takes' (T, D) normalized MFCC → (B, frames, window, D) windows, gathered on ``device``
    (the windows are ``window`` times the MFCC's size: built there, not sent); a take's frames
    past its own count repeat its last window."""
    import torch
    length = max(len(mfcc) for mfcc in mfccs)
    index = np.stack([window_index(count, fps, window, len(mfcc))[np.minimum(np.arange(frames), count - 1)]
                      for mfcc, count in zip(mfccs, counts)]).astype(np.int32)
    padded = np.stack([np.pad(mfcc, ((0, length - len(mfcc)), (0, 0))) for mfcc in mfccs]).astype(np.float32)
    take = torch.arange(len(mfccs), device=device)[:, None, None]
    return torch.as_tensor(padded, device=device)[take, torch.as_tensor(index, device=device).long()]
