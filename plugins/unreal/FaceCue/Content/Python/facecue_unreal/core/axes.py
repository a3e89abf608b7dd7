"""Take axes → Unreal axes.

Takes are right-handed, y-up, centimetres, in the photo's camera space (x right, y up, the
camera at the origin looking down −z). Unreal is left-handed, z-up, centimetres. The photo's
camera sits at Unreal's origin looking down +X, so a point maps (x, y, z) ↦ (−z, x, y).
The head actor's own +X points out of the face (its forward), +Y to the subject's right.
Rotators follow Unreal's convention (pitch about Y, yaw about Z, roll about X, degrees) and
its FRotator ↔ matrix formulas, reproduced here so they can be tested without the engine.
"""
from __future__ import annotations

import numpy as np

TAKE_TO_UNREAL = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
# The head actor's axes in head-local Unreal space: forward = out of the face = take +z.
ACTOR_IN_HEAD = np.diag([-1.0, -1.0, 1.0])


def points(take_points: np.ndarray) -> np.ndarray:
    return np.asarray(take_points, np.float64) @ TAKE_TO_UNREAL.T


def take_rotations(yaw_pitch_roll_deg: np.ndarray) -> np.ndarray:
    """The take's head rotation (degrees) as (..., 3, 3) column-vector matrices."""
    from facecue.geometry import euler_to_matrix
    return euler_to_matrix(yaw_pitch_roll_deg)


def rotator_matrices(rotators: np.ndarray) -> np.ndarray:
    """(…, 3) Unreal rotators (roll, pitch, yaw degrees) → (…, 3, 3) with the actor's X, Y, Z
    axes as columns (FRotationMatrix's rows, transposed)."""
    roll, pitch, yaw = np.deg2rad(np.moveaxis(np.asarray(rotators, np.float64), -1, 0))
    cp, sp, cy, sy, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)
    x_axis = np.stack([cp * cy, cp * sy, sp], -1)
    y_axis = np.stack([sr * sp * cy - cr * sy, sr * sp * sy + cr * cy, -sr * cp], -1)
    z_axis = np.stack([-(cr * sp * cy + sr * sy), cy * sr - cr * sp * sy, cr * cp], -1)
    return np.stack([x_axis, y_axis, z_axis], -1)


def rotators(matrices: np.ndarray) -> np.ndarray:
    """(F, 3, 3) axes-as-columns → (F, 3) rotators (roll, pitch, yaw), as FMatrix::Rotator(),
    unwrapped over time so curves never jump by 360°."""
    m = np.asarray(matrices, np.float64)
    x_axis, y_axis, z_axis = m[..., 0], m[..., 1], m[..., 2]
    pitch = np.arctan2(x_axis[..., 2], np.hypot(x_axis[..., 0], x_axis[..., 1]))
    yaw = np.arctan2(x_axis[..., 1], x_axis[..., 0])
    plain_y = rotator_matrices(np.stack([np.zeros_like(pitch), np.rad2deg(pitch), np.rad2deg(yaw)], -1))[..., 1]
    roll = np.arctan2((z_axis * plain_y).sum(-1), (y_axis * plain_y).sum(-1))
    out = np.rad2deg(np.stack([roll, pitch, yaw], -1))
    return np.rad2deg(np.unwrap(np.deg2rad(out), axis=0)) if out.ndim == 2 else out


def head_transforms(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 6) take pose → head actor locations (F, 3) cm and rotators (F, 3)."""
    pose = np.asarray(pose, np.float64)
    world = TAKE_TO_UNREAL @ take_rotations(pose[:, :3]) @ TAKE_TO_UNREAL.T @ ACTOR_IN_HEAD
    return points(pose[:, 3:6]), rotators(world)


def eye_transforms(pose: np.ndarray, gaze_angles: np.ndarray, eye_centres_cm: np.ndarray):
    """World locations (F, 2, 3) and rotators (F, 2, 3) of both eyes (left, right): each eye's
    +X looks along its gaze. ``eye_centres_cm``: (2, 3) take head-local centres."""
    pose = np.asarray(pose, np.float64)
    head = TAKE_TO_UNREAL @ take_rotations(pose[:, :3]) @ TAKE_TO_UNREAL.T
    locations, rotations = [], []
    for k in range(2):
        centre = points(eye_centres_cm[k])
        locations.append(points(pose[:, 3:6]) + head @ centre)
        turn = TAKE_TO_UNREAL @ take_rotations(np.concatenate(
            [gaze_angles[:, k], np.zeros((len(pose), 1))], 1)) @ TAKE_TO_UNREAL.T
        rotations.append(rotators(head @ turn @ ACTOR_IN_HEAD))
    return np.stack(locations, 1), np.stack(rotations, 1)


def eye_centres(landmarks_local: np.ndarray, gaze_angles: np.ndarray) -> np.ndarray:
    """(2, 3) take head-local eyeball centres (left, right), as the take's own eye model
    places them in the first frame."""
    from facecue.gaze import eyeball_centres
    return eyeball_centres(landmarks_local[0], gaze_angles[0])


def quaternions(rotators_deg: np.ndarray) -> np.ndarray:
    """(…, 3) rotators (roll, pitch, yaw) → (…, 4) quaternions (x, y, z, w), as FRotator::Quaternion()."""
    roll, pitch, yaw = np.deg2rad(np.moveaxis(np.asarray(rotators_deg, np.float64), -1, 0)) / 2
    sr, cr, sp, cp, sy, cy = np.sin(roll), np.cos(roll), np.sin(pitch), np.cos(pitch), np.sin(yaw), np.cos(yaw)
    return np.stack([cr * sp * sy - sr * cp * cy, -cr * sp * cy - sr * cp * sy,
                     cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy], -1)
