"""Curves as the flat arrays Blender's ``keyframe_points.foreach_set('co', …)`` takes."""
from __future__ import annotations

import numpy as np


def keyframe_coords(start_frame: float, values: np.ndarray) -> np.ndarray:
    """(F,) values keyed on frames start, start + 1, … → (2F,) float32 [frame, value, …]."""
    values = np.asarray(values, np.float32)
    coords = np.empty((len(values), 2), np.float32)
    coords[:, 0] = start_frame + np.arange(len(values), dtype=np.float32)
    coords[:, 1] = values
    return coords.ravel()
