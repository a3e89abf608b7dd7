"""Take frames → scene frames.

Frame i of a take is at i / take_fps seconds. When the scene runs at the take's rate
(fractional rates included: fps / fps_base), keys land on frames start + i with the take's
exact values; otherwise the curves are resampled onto the scene's own frames (linear, like
the take's own resampling), so animators always get keys on whole frames.
"""
from __future__ import annotations

import math

import numpy as np

SAME_RATE_TOLERANCE = 1e-6


def scene_fps(fps: int, fps_base: float) -> float:
    return fps / fps_base


def same_rate(take_fps: float, fps: float) -> bool:
    return abs(take_fps - fps) <= SAME_RATE_TOLERANCE * max(1.0, fps)


def scene_frame_count(duration_s: float, take_frames: int, take_fps: float, fps: float) -> int:
    if same_rate(take_fps, fps):
        return take_frames
    return max(1, math.ceil(duration_s * fps - 1e-9))


def resample(values: np.ndarray, take_fps: float, fps: float, frames: int) -> np.ndarray:
    """(F, ...) curves at take_fps → (frames, ...) at fps; identity when the rates agree."""
    values = np.asarray(values)
    if same_rate(take_fps, fps) and frames == len(values):
        return values
    times = np.arange(frames) / fps * take_fps            # in take frames
    lower = np.clip(np.floor(times).astype(np.int64), 0, len(values) - 1)
    upper = np.clip(lower + 1, 0, len(values) - 1)
    weight = np.clip(times - lower, 0.0, 1.0).reshape((-1,) + (1,) * (values.ndim - 1))
    return (values[lower] * (1 - weight) + values[upper] * weight).astype(values.dtype)


def shown_take_frames(take_frames: int, take_fps: float, fps: float, frames: int) -> np.ndarray:
    """(frames,) the take frame on screen at each scene frame: the last one that has started
    by that frame's time (a held frame repeats, a skipped one is passed over), so rendered
    frames stay in sync with the curves and the sound at any scene rate."""
    if same_rate(take_fps, fps):
        return np.minimum(np.arange(frames), take_frames - 1)
    started = np.floor(np.arange(frames) / fps * take_fps + 1e-6).astype(np.int64)
    return np.clip(started, 0, take_frames - 1)


def scene_rate(fps: float) -> tuple[int, float]:
    """A rate as Blender's (fps, fps_base), exact to the take: 29.97 → 30 / 1.001001…,
    30000/1001 → 30 / 1.001, 25 → 25 / 1."""
    whole = max(1, round(fps))
    return whole, whole / fps
