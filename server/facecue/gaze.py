"""Gaze: S=10 regions per eye, and turning the irises about each eyeball.

Regions are angular bins of the eye's (yaw, pitch) in the head frame, 5 across × 2 down:

    columns (yaw):  0 < -18° ≤ 1 < -6° ≤ 2 < 6° ≤ 3 < 18° ≤ 4   (from -x, the viewer's left)
    rows (pitch):   0 level or up (≥ -5°), 1 down (< -5°)
    label = row · 5 + column

Horizontal gaze carries most conversational variety (glances aside, contempt's sideways
look) and lowered gaze is the main vertical mode (sadness, thinking); upward gaze is rare in
speech and shares the level row. Region 2 is eyes forward. Continuous angles are kept
alongside the labels in every take.
"""
from __future__ import annotations

import numpy as np

from .names import GAZE_REGIONS

COLUMNS, ROWS = 5, 2
YAW_EDGES = np.array([-18.0, -6.0, 6.0, 18.0])       # degrees, between the 5 columns
PITCH_EDGE = -5.0                                    # degrees, between level and down
YAW_CENTRES = np.array([-26.0, -12.0, 0.0, 12.0, 26.0])
PITCH_CENTRES = np.array([2.0, -16.0])
FORWARD = 2
EYEBALL_RADIUS_CM = 1.2
assert COLUMNS * ROWS == GAZE_REGIONS


def labels_from_angles(angles: np.ndarray) -> np.ndarray:
    """(..., 2) yaw, pitch in degrees → (...) int16 region labels."""
    column = np.searchsorted(YAW_EDGES, angles[..., 0])
    row = (angles[..., 1] < PITCH_EDGE).astype(np.int64)
    return (row * COLUMNS + column).astype(np.int16)


def region_centres(labels: np.ndarray) -> np.ndarray:
    """(...) labels → (..., 2) yaw, pitch at the centre of each region."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.stack([YAW_CENTRES[labels % COLUMNS], PITCH_CENTRES[labels // COLUMNS]], -1)


def region_half_widths(labels: np.ndarray) -> np.ndarray:
    """(..., 2) how far an angle may stray from its region's centre and stay inside it."""
    labels = np.asarray(labels, dtype=np.int64)
    yaw = np.full(labels.shape, 6.0)
    yaw[(labels % COLUMNS == 0) | (labels % COLUMNS == 4)] = 8.0
    pitch = np.where(labels // COLUMNS == 0, 7.0, 8.0)
    return np.stack([yaw, pitch], -1)


def eye_rotation(angles: np.ndarray) -> np.ndarray:
    """(..., 2) yaw, pitch degrees → (..., 3, 3) rotation of an eye (yaw about y, then pitch)."""
    from .geometry import euler_to_matrix
    full = np.concatenate([angles, np.zeros(angles.shape[:-1] + (1,))], -1)
    return euler_to_matrix(full)


def look_direction(angles_deg: np.ndarray) -> np.ndarray:
    """(..., 2) yaw, pitch degrees → (..., 3) unit gaze in the head frame (x right, y up, z out)."""
    yaw, pitch = np.deg2rad(np.moveaxis(np.asarray(angles_deg, np.float64), -1, 0))
    return np.stack([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)], -1)


def eyeball_centres(local: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """(478, 3) head-local landmarks and (2, 2) gaze of the (left, right) eyes → (2, 3) eyeball
    centres: each iris centre set back by the eyeball's radius along its gaze."""
    from . import topology as topo
    irises = np.stack([local[topo.IRIS_CENTRE[eye]] for eye in ("left", "right")])
    return irises - EYEBALL_RADIUS_CM * look_direction(angles_deg)


def eye_angles(local: np.ndarray, eye: str) -> np.ndarray:
    """(..., 478, 3) head-local landmarks → (..., 2) that eye's yaw, pitch in degrees: the iris
    centre's offset from the middle of the eye opening, on an eyeball of EYEBALL_RADIUS_CM."""
    from . import topology as topo
    outer, inner = topo.EYE_CORNERS[eye]
    top, bottom = topo.EYE_LIDS[eye]
    middle = (local[..., outer, :] + local[..., inner, :] + local[..., top, :] + local[..., bottom, :]) / 4
    offset = np.clip((local[..., topo.IRIS_CENTRE[eye], :2] - middle[..., :2]) / EYEBALL_RADIUS_CM, -0.7, 0.7)
    return np.rad2deg(np.arcsin(offset))
