"""Relocation (paper Eq. 8): head-local cues + pose + gaze → landmarks in the photo.

R_n = F(C_n · m_n + b_n, gaze_n): the irises turn about their eyeball centres by the gaze,
then the head-local face is rotated and translated by the pose and projected with the
reference's weak-perspective camera. The photo's own landmarks are reproduced exactly by
its own pose and rest gaze.
"""
from __future__ import annotations

import numpy as np

from . import gaze, topology as topo
from .geometry import euler_to_matrix
from .reference import Reference


def apply_gaze(local: np.ndarray, angles: np.ndarray, reference: Reference) -> np.ndarray:
    """Turn each eye's iris points from the photo's rest gaze to ``angles`` (F, 2, 2)."""
    out = local.copy()
    for k, eye in enumerate(("left", "right")):
        model = reference.eyes[eye]
        idx = topo.group(f"{eye}_iris")
        turn = gaze.eye_rotation(angles[:, k]) @ gaze.eye_rotation(model.rest_angles).T
        about = out[:, idx] - model.centre
        out[:, idx] = np.einsum("fij,fvj->fvi", turn, about) + model.centre
    return out


def project(local: np.ndarray, pose: np.ndarray, reference: Reference) -> np.ndarray:
    """(F, 478, 3) head-local cm + (F, 6) pose → (F, 478, 3) image pixels."""
    rotation = euler_to_matrix(pose[:, :3])
    turned = np.einsum("fij,fvj->fvi", rotation, local.astype(np.float64))
    camera = turned + pose[:, None, 3:6]
    px_per_cm = reference.focal_px / -pose[:, 5].astype(np.float64)
    image = np.empty_like(camera)
    image[..., 0] = reference.width / 2 + px_per_cm[:, None] * camera[..., 0]
    image[..., 1] = reference.height / 2 - px_per_cm[:, None] * camera[..., 1]
    image[..., 2] = reference.z_offset_px - px_per_cm[:, None] * turned[..., 2]
    return image.astype(np.float32)


def take_arrays(track, reference: Reference) -> dict[str, np.ndarray]:
    """A cue track relocated into the take's arrays (see take.array_specs)."""
    local, image = relocate(track.local, track.pose, track.gaze_angles, reference)
    return {"landmarks_image": image, "landmarks_local": local, "pose": track.pose,
            "gaze_labels": track.gaze_labels.astype(np.int16), "gaze_angles": track.gaze_angles,
            "blendshapes": track.blendshapes, "emotion_probs": track.emotion_probs}


def relocate(local: np.ndarray, pose: np.ndarray, angles: np.ndarray,
             reference: Reference) -> tuple[np.ndarray, np.ndarray]:
    """Returns (landmarks_local with gaze, landmarks_image)."""
    gazed = apply_gaze(local, angles, reference)
    return gazed.astype(np.float32), project(gazed, pose, reference)
