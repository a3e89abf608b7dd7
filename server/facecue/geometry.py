"""Rigid geometry: similarity alignment and Euler angles, vectorized over frames.

Convention: right-handed, x right, y up, z toward the camera. Head rotation
R = Ry(yaw) · Rx(pitch) · Rz(roll): positive yaw turns the face toward +x (the viewer's
right), positive pitch lifts the chin, positive roll tilts the head counter-clockwise as
the viewer sees it.
"""
from __future__ import annotations

import numpy as np


def similarity_align(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares s, R, t with target ≈ s · R @ source + t (Umeyama 1991)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    src, tgt = source - mu_s, target - mu_t
    u, sing, vt = np.linalg.svd(tgt.T @ src / len(source))
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag(d) @ vt
    scale = float((sing * d).sum() / src.var(0).sum())
    return scale, rotation, mu_t - scale * rotation @ mu_s


def euler_to_matrix(yaw_pitch_roll_deg: np.ndarray) -> np.ndarray:
    """(..., 3) degrees → (..., 3, 3) rotation matrices."""
    a = np.deg2rad(np.asarray(yaw_pitch_roll_deg, dtype=np.float64))
    yaw, pitch, roll = a[..., 0], a[..., 1], a[..., 2]
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    zero, one = np.zeros_like(yaw), np.ones_like(yaw)
    ry = np.stack([np.stack([cy, zero, sy], -1), np.stack([zero, one, zero], -1),
                   np.stack([-sy, zero, cy], -1)], -2)
    # Positive pitch lifts the chin: the front (+z) tips up (+y).
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, sp], -1),
                   np.stack([zero, -sp, cp], -1)], -2)
    rz = np.stack([np.stack([cr, -sr, zero], -1), np.stack([sr, cr, zero], -1),
                   np.stack([zero, zero, one], -1)], -2)
    return ry @ rx @ rz


def matrix_to_euler(rotation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) → (..., 3) yaw, pitch, roll in degrees (inverse of euler_to_matrix)."""
    r = np.asarray(rotation, dtype=np.float64)
    pitch = np.arcsin(np.clip(r[..., 1, 2], -1.0, 1.0))
    yaw = np.arctan2(r[..., 0, 2], r[..., 2, 2])
    roll = np.arctan2(r[..., 1, 0], r[..., 1, 1])
    return np.rad2deg(np.stack([yaw, pitch, roll], -1))
