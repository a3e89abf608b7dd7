"""Head motion: emotion-dependent posture and sway, with nods coupled to speech energy.

Posture offsets (degrees) follow what is reported for emotional speech: sadness lowers the
head, surprise lifts it, contempt lifts and tilts it, anger pushes it down and forward.
Motion amplitude grows with arousal; syllable onsets (rises in speech activity) drive small
downward nods.
"""
from __future__ import annotations

import numpy as np

from .signals import smooth, smooth_noise

# yaw, pitch, roll offsets in degrees at full intensity; (x, y, z) cm forward lean.
POSTURE = {
    "neutral": (0.0, 0.0, 0.0, 0.0), "angry": (0.0, -5.0, 0.0, 1.5),
    "contempt": (4.0, 5.0, 5.0, -0.5), "disgusted": (-3.0, -2.0, -3.0, -1.5),
    "fear": (0.0, -3.0, 0.0, -2.0), "happy": (0.0, 3.0, 2.0, 0.5),
    "sad": (0.0, -9.0, -2.0, -0.5), "surprised": (0.0, 6.0, 0.0, -1.5),
}
# Sway amplitude (std, degrees) for yaw, pitch, roll at full intensity.
SWAY = {
    "neutral": (2.5, 1.8, 1.2), "angry": (3.5, 3.0, 1.5), "contempt": (2.0, 1.5, 1.5),
    "disgusted": (3.0, 2.0, 1.5), "fear": (4.0, 2.5, 1.5), "happy": (3.5, 2.5, 2.0),
    "sad": (1.5, 1.2, 1.0), "surprised": (3.0, 2.5, 1.2),
}
NOD_DEGREES = {"neutral": 2.0, "angry": 3.5, "contempt": 1.5, "disgusted": 2.0,
               "fear": 2.0, "happy": 3.0, "sad": 1.2, "surprised": 2.5}


def _mix(table: dict, emotion: str, intensity: float) -> np.ndarray:
    neutral, target = np.array(table["neutral"], float), np.array(table[emotion], float)
    return neutral + intensity * (target - neutral)


def head_pose(rng: np.random.Generator, rest_pose: np.ndarray, activity: np.ndarray, fps: float,
              emotion: str, intensity: float) -> np.ndarray:
    """(F, 6) yaw, pitch, roll, tx, ty, tz around the photo's pose."""
    frames = len(activity)
    posture = _mix(POSTURE, emotion, intensity)
    sway = _mix(SWAY, emotion, intensity)
    # Posture settles in over the first second rather than jumping at frame 0.
    settle = 1 - np.exp(-np.arange(frames) / (0.35 * fps))
    angles = settle[:, None] * posture[None, :3]
    angles = angles + smooth_noise(rng, frames, fps, 2.5, 3) * sway * (0.6 + 0.4 * smooth(activity, fps, 1.0))[:, None]
    angles += smooth_noise(rng, frames, fps, 0.6, 3) * sway * 0.25
    onsets = np.clip(np.gradient(smooth(activity, fps, 0.08)) * fps, 0, None)
    nod = smooth(onsets, fps, 0.25)
    nod = nod / max(nod.max(), 1e-6)
    angles[:, 1] -= _mix(NOD_DEGREES, emotion, intensity)[()] * nod
    # Translation: lean (z) plus a little sway that follows yaw and pitch like a neck would.
    shift = np.zeros((frames, 3))
    shift[:, 0] = 0.06 * angles[:, 0]
    shift[:, 1] = 0.04 * angles[:, 1]
    shift[:, 2] = settle * posture[3] + 0.3 * smooth_noise(rng, frames, fps, 3.0)[:, 0]
    pose = np.concatenate([angles, shift], axis=1) + rest_pose[None, :]
    return pose.astype(np.float32)
