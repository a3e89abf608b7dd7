"""Cues ↔ the normalized space the sequentializers work in.

Landmarks: the 147-point subset as displacement from the speaker's rest face, in units of a
tenth of the inter-ocular distance (outer eye corners) — so one model serves faces of any
size. Irises follow their eye's contour here: where the eyes look is the gaze
sequentializer's job, not the landmark sequentializer's.
Pose: offset from the speaker's rest pose, degrees / 10 and cm / 2.
Gaze: the joint class v = u_left + S · u_right (paper Eq. 3–5).

The rest face of a dataset speaker is the mean of the quiet frames (lowest 15 % of the
level) of their neutral clips — mouth closed, no expression — and its pose the mean pose of
those clips. At inference the rest is the reference photo's face with its lips sealed
(``arkit_basis.seal_lips``, as the procedural teacher starts from) and the photo's pose — so a
photo with parted lips or teeth showing means the same "zero" the model was trained on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import topology as topo
from ..names import GAZE_REGIONS
from .features import feature_index

LANDMARK_UNIT = 0.1                                      # of the inter-ocular distance
POSE_UNIT = np.array([10.0, 10.0, 10.0, 2.0, 2.0, 2.0], np.float32)
QUIET_PERCENTILE = 15.0


def _rows(indices) -> np.ndarray:
    position = {int(v): k for k, v in enumerate(topo.subset_147())}
    return np.array([position[int(i)] for i in indices], np.int64)


SUBSET = topo.subset_147()
IRIS_ROWS = {eye: _rows(topo.group(f"{eye}_iris")) for eye in ("left", "right")}
EYE_ROWS = {eye: _rows(topo.group(f"{eye}_eye")) for eye in ("left", "right")}
LIP_ROWS = _rows(topo.group("lips"))


def inter_ocular_cm(face: np.ndarray) -> float:
    outer = [topo.EYE_CORNERS[eye][0] for eye in ("left", "right")]
    return float(np.linalg.norm(face[outer[0]] - face[outer[1]]))


def encode_landmarks(local: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(F, 478, 3) head-local cm → (F, 147, 3) normalized displacement."""
    code = (np.asarray(local)[:, SUBSET] - rest[SUBSET]) / landmark_scale(rest)
    for eye in ("left", "right"):
        code[:, IRIS_ROWS[eye]] = code[:, EYE_ROWS[eye]].mean(axis=1, keepdims=True)
    return code.astype(np.float32)


def landmark_scale(rest: np.ndarray) -> float:
    """Centimetres per unit of normalized displacement on this rest face."""
    return LANDMARK_UNIT * inter_ocular_cm(rest)


def encode_pose(pose: np.ndarray, rest_pose: np.ndarray) -> np.ndarray:
    return ((np.asarray(pose) - rest_pose) / POSE_UNIT).astype(np.float32)


def decode_pose(code: np.ndarray) -> np.ndarray:
    """(..., 6) → pose offsets in degrees and cm."""
    return np.asarray(code, np.float32) * POSE_UNIT


def joint_gaze(labels: np.ndarray) -> np.ndarray:
    """(..., 2) per-eye labels → (...) joint class u_left + S · u_right."""
    labels = np.asarray(labels, np.int64)
    return labels[..., 0] + GAZE_REGIONS * labels[..., 1]


def split_gaze(joint: np.ndarray) -> np.ndarray:
    joint = np.asarray(joint, np.int64)
    return np.stack([joint % GAZE_REGIONS, joint // GAZE_REGIONS], -1).astype(np.int16)


@dataclass(frozen=True)
class Rest:
    face: np.ndarray       # (478, 3) cm
    pose: np.ndarray       # (6,)


def quiet_frames(energy_db: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """(frames,) bool: the clip's quietest frames."""
    at = np.clip(feature_index(frames, fps), 0, len(energy_db) - 1)
    level = energy_db[at]
    return level <= np.percentile(level, QUIET_PERCENTILE)


def speaker_rests(clips) -> dict[str, Rest]:
    """Each speaker's rest face and pose from their clips (neutral ones when there are any)."""
    rests = {}
    for actor in sorted({c.actor for c in clips}):
        own = [c for c in clips if c.actor == actor]
        neutral = [c for c in own if c.emotion == "neutral"] or own
        faces = np.concatenate([c.landmarks_local[quiet_frames(c.energy_db, c.frames, c.fps)] for c in neutral])
        poses = np.concatenate([c.pose for c in neutral])
        rests[actor] = Rest(face=faces.mean(axis=0), pose=poses.mean(axis=0))
    return rests
