"""Take axes → Blender axes.

A take is y-up and in centimetres (x to the viewer's right, z toward the camera; the camera
looks down −z). Blender is z-up and in metres, and a face looking at a camera in Blender's
front view looks down −y. So (x, y, z)_take ↦ (x, −z, y)_blender · 0.01, for points and,
by conjugation, for rotations. The camera of the photo ends up at the origin looking down +y.
"""
from __future__ import annotations

import numpy as np

CM_TO_M = 0.01
TAKE_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def points(take_points_cm: np.ndarray) -> np.ndarray:
    """(..., 3) take cm → (..., 3) Blender metres, float32."""
    return (np.asarray(take_points_cm, np.float64) @ TAKE_TO_BLENDER.T * CM_TO_M).astype(np.float32)


def rotation_matrices(yaw_pitch_roll_deg: np.ndarray) -> np.ndarray:
    """The take's head rotation (degrees, y-up frame) as (..., 3, 3) matrices."""
    from facecue.geometry import euler_to_matrix
    return euler_to_matrix(yaw_pitch_roll_deg)


def euler_xyz(matrices: np.ndarray) -> np.ndarray:
    """(F, 3, 3) rotations → (F, 3) Blender 'XYZ' Euler radians (R = Rz·Ry·Rx), unwrapped over
    time so curves never jump by 2π."""
    m = np.asarray(matrices, np.float64)
    y = np.arcsin(np.clip(-m[:, 2, 0], -1.0, 1.0))
    x = np.arctan2(m[:, 2, 1], m[:, 2, 2])
    z = np.arctan2(m[:, 1, 0], m[:, 0, 0])
    return np.unwrap(np.stack([x, y, z], -1), axis=0)


def head_transform(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 6) take pose → location (F, 3) metres and rotation_euler (F, 3) XYZ radians."""
    pose = np.asarray(pose, np.float64)
    rotation = TAKE_TO_BLENDER @ rotation_matrices(pose[:, :3]) @ TAKE_TO_BLENDER.T
    return points(pose[:, 3:6]).astype(np.float64), euler_xyz(rotation)


def eye_euler(gaze_angles: np.ndarray) -> np.ndarray:
    """(F, 2, 2) per-eye (yaw, pitch) degrees → (F, 2, 3) XYZ Euler radians of an eye that
    looks down its parent's −y at rest: +yaw turns it toward +x, +pitch up."""
    angles = np.deg2rad(np.asarray(gaze_angles, np.float64))
    out = np.zeros(angles.shape[:-1] + (3,))
    out[..., 0] = -angles[..., 1]
    out[..., 2] = angles[..., 0]
    return out


def eye_centres(landmarks_local: np.ndarray, gaze_angles: np.ndarray) -> np.ndarray:
    """Eyeball centres (2, 3) in Blender metres, head-local, for the (left, right) eyes, as the
    take's own eye model places them in the first frame."""
    from facecue.gaze import eyeball_centres
    return points(eyeball_centres(landmarks_local[0], gaze_angles[0]))


def camera_focal_mm(focal_px: float, image_width: int, image_height: int, sensor_mm: float = 36.0) -> float:
    """The photo's focal length on a sensor of ``sensor_mm`` fitted to the image's wider side."""
    return float(focal_px) / max(image_width, image_height) * sensor_mm
