"""Frame timing: frame i is shown at i / fps; frame_count = ceil(duration · fps)."""
from __future__ import annotations

import math

import numpy as np

from .cues import CueTrack


def frame_count(duration_s: float, fps: float) -> int:
    # The epsilon keeps exact products (2 s at 25 fps = 50) from rounding up to 51.
    return max(1, math.ceil(duration_s * fps - 1e-9))


def sample_linear(values: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``values`` along axis 0 at fractional indices ``position``, linearly interpolated."""
    lo = np.clip(np.floor(position).astype(np.int64), 0, len(values) - 1)
    hi = np.minimum(lo + 1, len(values) - 1)
    frac = (position - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    return (values[lo] * (1 - frac) + values[hi] * frac).astype(values.dtype)


def resample(track: CueTrack, fps: float, duration_s: float) -> CueTrack:
    """The track at another frame rate: continuous curves interpolated, labels nearest."""
    count = frame_count(duration_s, fps)
    position = np.clip(np.arange(count) / fps * track.fps, 0, len(track) - 1)
    nearest = np.rint(position).astype(np.int64)
    return CueTrack(fps=fps, local=sample_linear(track.local, position), pose=sample_linear(track.pose, position),
                    gaze_angles=sample_linear(track.gaze_angles, position), gaze_labels=track.gaze_labels[nearest],
                    blendshapes=sample_linear(track.blendshapes, position),
                    emotion_probs=sample_linear(track.emotion_probs, position), notes=list(track.notes),
                    emotion=track.emotion)
