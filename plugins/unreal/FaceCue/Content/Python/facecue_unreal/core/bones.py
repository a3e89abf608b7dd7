"""Head and eye motion as bone keys, local to the skeleton's reference pose.

An AnimSequence's bone track holds each bone's transform relative to its parent. So the head
bone keeps its reference translation and gets its reference rotation turned by the take's
head motion, expressed in the skeleton's component space and carried into the parent's frame:

    local(t) = P⁻¹ · D(t) · P · L        P = W · L⁻¹ (the parent's reference rotation)

with L and W the bone's reference rotation in local and component space, and D(t) the turn.
The head's turn is relative to the photo's pose (the photo's own tilt is not a performance);
each eye's is its gaze relative to the head (0 = straight ahead).

Component space is that of a character facing +Y with Z up (MetaHumans and Epic's
mannequins; their Blueprints turn the mesh to face the actor's +X), so a take point
(x right as seen, y up, z toward the camera) maps to (x, z, y): the subject's left is +X.
Quaternions are (x, y, z, w) and rotate column vectors, as FQuat::RotateVector does.
"""
from __future__ import annotations

import numpy as np

from .axes import take_rotations

CHARACTER_FROM_TAKE = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


def quat_to_matrix(quats: np.ndarray) -> np.ndarray:
    """(…, 4) unit quaternions (x, y, z, w) → (…, 3, 3)."""
    q = np.asarray(quats, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def matrix_to_quat(matrices: np.ndarray) -> np.ndarray:
    """(…, 3, 3) rotations → (…, 4) quaternions (x, y, z, w) with w ≥ 0, stable for any angle."""
    m = np.asarray(matrices, np.float64)
    trace = np.trace(m, axis1=-2, axis2=-1)
    candidates = np.stack([                       # 4·q_i² for each component, pick the largest
        1 + 2 * m[..., 0, 0] - trace, 1 + 2 * m[..., 1, 1] - trace, 1 + 2 * m[..., 2, 2] - trace, 1 + trace], -1)
    pick = np.argmax(candidates, -1)
    big = np.sqrt(np.maximum(np.take_along_axis(candidates, pick[..., None], -1)[..., 0], 1e-300)) / 2
    pairs = {                                     # the other components from the matrix's off-diagonals
        0: (big, (m[..., 1, 0] + m[..., 0, 1]), (m[..., 0, 2] + m[..., 2, 0]), (m[..., 2, 1] - m[..., 1, 2])),
        1: ((m[..., 1, 0] + m[..., 0, 1]), big, (m[..., 2, 1] + m[..., 1, 2]), (m[..., 0, 2] - m[..., 2, 0])),
        2: ((m[..., 0, 2] + m[..., 2, 0]), (m[..., 2, 1] + m[..., 1, 2]), big, (m[..., 1, 0] - m[..., 0, 1])),
        3: ((m[..., 2, 1] - m[..., 1, 2]), (m[..., 0, 2] - m[..., 2, 0]), (m[..., 1, 0] - m[..., 0, 1]), big)}
    out = np.zeros(m.shape[:-2] + (4,))
    for index, parts in pairs.items():
        chosen = pick == index
        for k, part in enumerate(parts):
            value = part if k == index else part / (4 * big)
            out[..., k] = np.where(chosen, value, out[..., k])
    return out * np.where(out[..., 3:] < 0, -1.0, 1.0)


def character_turns(take_rotations: np.ndarray) -> np.ndarray:
    """(…, 3, 3) rotations in take axes → the same turns in character component space."""
    return CHARACTER_FROM_TAKE @ np.asarray(take_rotations, np.float64) @ CHARACTER_FROM_TAKE.T


def head_turns(pose: np.ndarray, reference_pose: np.ndarray) -> np.ndarray:
    """(F, 6) take pose, (6,) the photo's pose → (F, 3, 3) the head's turn from the photo's pose."""
    turns = take_rotations(np.asarray(pose, np.float64)[:, :3]) @ take_rotations(
        np.asarray(reference_pose, np.float64)[None, :3])[0].T
    return character_turns(turns)


def eye_turns(gaze_angles: np.ndarray) -> np.ndarray:
    """(F, 2, 2) per-eye (yaw, pitch) degrees in the head → (F, 2, 3, 3) turns of each eye."""
    angles = np.asarray(gaze_angles, np.float64)
    return character_turns(take_rotations(np.concatenate([angles, np.zeros(angles.shape[:-1] + (1,))], -1)))


def local_rotations(turns: np.ndarray, local_reference: np.ndarray, component_reference: np.ndarray) -> np.ndarray:
    """(F, 3, 3) component-space turns of a bone, its reference rotation (4,) in local and in
    component space → (F, 4) local rotation keys. No turn gives back the reference rotation."""
    local, component = quat_to_matrix(local_reference), quat_to_matrix(component_reference)
    parent = component @ local.T
    return matrix_to_quat(parent.T @ np.asarray(turns, np.float64) @ parent @ local)
