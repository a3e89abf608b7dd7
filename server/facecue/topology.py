"""MediaPipe face-mesh topology: canonical face, triangles and region index sets.

Pure numpy on shipped data, so hosts without MediaPipe (Blender, Unreal) can use it.
Landmark indices follow MediaPipe's 478-point refined mesh: 0..467 the mesh, 468..472 the
subject's right iris (centre first), 473..477 the subject's left iris.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

LANDMARK_COUNT = 478
MESH_COUNT = 468
_DATA = Path(__file__).resolve().parent / "data" / "face_topology.npz"

# Named points used across the project (MediaPipe indices).
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
UPPER_LIP_OUTER, LOWER_LIP_OUTER = 0, 17
MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291
EYE_CORNERS = {"right": (33, 133), "left": (263, 362)}   # (outer, inner)
EYE_LIDS = {"right": (159, 145), "left": (386, 374)}      # (upper, lower) at the lid centre
IRIS_CENTRE = {"right": 468, "left": 473}

# Nose points added to the paper's 147-point subset: bridge, tip, columella, nostrils, alae.
_SUBSET_NOSE = (6, 168, 197, 1, 4, 2, 98, 327, 129)


@lru_cache(maxsize=1)
def _data() -> dict[str, np.ndarray]:
    with np.load(_DATA) as npz:
        return {k: npz[k] for k in npz.files}


def canonical_face() -> np.ndarray:
    """(468, 3) float32 canonical face, cm, x viewer's right, y up, z toward the camera."""
    return _data()["canonical"]


def triangles() -> np.ndarray:
    """(T, 3) int32 triangles of the 468-point mesh, counter-clockwise seen from the camera."""
    return _data()["triangles"]


def group(name: str) -> np.ndarray:
    """Indices of a region: lips, left_eye, right_eye, left_iris, right_iris, left_brow,
    right_brow, face_oval, nose."""
    return _data()[f"group_{name}"].astype(np.int64)


@lru_cache(maxsize=1)
def subset_147() -> np.ndarray:
    """The 147-landmark subset the cue model works on.

    Lips (40), both eyes' contours (32) with their irises (10), both brows (20), the face
    oval (36) and 9 nose points (bridge to nostrils): the parts that carry speech, gaze,
    expression and head shape, without the cheek interior that follows them.
    """
    parts = [group(n) for n in ("lips", "left_eye", "right_eye", "left_iris", "right_iris",
                                 "left_brow", "right_brow", "face_oval")]
    subset = np.unique(np.concatenate(parts + [np.array(_SUBSET_NOSE)]))
    assert len(subset) == 147, len(subset)
    return subset

# Lip and lid contours in order (corners listed once, on the upper contour).
LIP_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIP_LOWER_OUTER = (146, 91, 181, 84, 17, 314, 405, 321, 375)
LIP_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIP_LOWER_INNER = (95, 88, 178, 87, 14, 317, 402, 318, 324)
# The lower inner contour with the corners at its ends: point k meets LIP_UPPER_INNER[k] when
# the mouth closes (the corners meet themselves).
LIP_LOWER_INNER_WITH_CORNERS = (LIP_UPPER_INNER[0],) + LIP_LOWER_INNER + (LIP_UPPER_INNER[-1],)
LID_UPPER = {"right": (33, 246, 161, 160, 159, 158, 157, 173, 133),
             "left": (263, 466, 388, 387, 386, 385, 384, 398, 362)}
LID_LOWER = {"right": (7, 163, 144, 145, 153, 154, 155),
             "left": (249, 390, 373, 374, 380, 381, 382)}
