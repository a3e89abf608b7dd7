"""The photo's own expression, and its face without it (the "input bias" of EAP).

A photo that smiles would otherwise smile in every take, "sad" included: takes start from
the photo's face. So the photo's expression is estimated as ARKit weights and taken out of
its head-local landmarks, keeping the face's shape (identity) and everything else.

What is estimated is what can be told from one face without knowing its neutral: how far the
mouth corners sit above or below the middle of the lips, as a fraction of face height. A
neutral face's corners sit level with it — MediaPipe's canonical face at −0.004; neutral,
pressed and turned dev-set photos at −0.017 … +0.002 — while smiling photos lift them by
+0.026 … +0.045. A smile also widens the mouth: corner-to-corner over the outer eye corners
is 0.50 … 0.58 on those neutral photos (canonical 0.55) and 0.70 … 0.82 on the smiling ones.
Beyond a dead zone around the canonical level, each side's lift and its half of the width are
explained, in the least-squares sense with amounts ≥ 0, by mouthSmile (lift above) or
mouthFrown (below) together with mouthStretch, through this face's own basis. A photo past
twice the dead zone comes back to the canonical level and width, well inside the neutral
photos' range (stopping at the dead zone's edge left smiles 0.008 of face height up, at the top
of that range, and the frames still read smiling); between the two the share taken out ramps
up, so that no photo jumps. The whole excess is taken out, even where a real smile moves the
corners further than one unit of the basis' shapes does; the manifest records the amounts as
ARKit weights (≤ 1).
Brow height and lid opening vary too much between people to be read this way from a single
photo, so they are left as the photo has them.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import topology as topo
from .arkit_basis import build_basis
from .names import ARKIT_INDEX, ARKIT_NAMES

DEAD_ZONE = 0.008          # corner lift (÷ face height) within this of the canonical level is neutral
WIDTH_DEAD_ZONE = 0.04     # mouth width (÷ eye-corner distance) up to this past the canonical is neutral
FIT_WEIGHTS = np.array([5.0, 1.0])   # corner lift, width: the corners' level first, the width as it can
MAX_AMOUNT = 4.0           # a lift past this many units of the basis' shape is not a smile: a bad mesh
CORNERS = {"Left": topo.MOUTH_CORNER_LEFT, "Right": topo.MOUTH_CORNER_RIGHT}


def corner_lift(local: np.ndarray) -> np.ndarray:
    """(…, 478+, 3) head-local faces → (…, 2) left, right mouth-corner height above the middle
    of the inner lips, as a fraction of forehead-to-chin height."""
    v = np.asarray(local, np.float64)
    height = np.linalg.norm(v[..., topo.FOREHEAD, :] - v[..., topo.CHIN, :], axis=-1)
    middle = (v[..., topo.UPPER_LIP_INNER, 1] + v[..., topo.LOWER_LIP_INNER, 1]) / 2
    corners = v[..., [CORNERS["Left"], CORNERS["Right"]], 1]
    return (corners - middle[..., None]) / height[..., None]


def mouth_width(local: np.ndarray) -> np.ndarray:
    """(…, 478+, 3) head-local faces → (…,) corner-to-corner width over the outer eye corners."""
    v = np.asarray(local, np.float64)
    corners = v[..., CORNERS["Left"], :] - v[..., CORNERS["Right"], :]
    eyes = v[..., topo.EYE_CORNERS["left"][0], :] - v[..., topo.EYE_CORNERS["right"][0], :]
    return np.linalg.norm(corners, axis=-1) / np.linalg.norm(eyes, axis=-1)


@lru_cache(maxsize=1)
def neutral_lift() -> float:
    return float(corner_lift(topo.canonical_face()).mean())


@lru_cache(maxsize=1)
def neutral_width() -> float:
    return float(mouth_width(topo.canonical_face()))


def _taken_out(excess: float, dead_zone: float) -> float:
    """How much of a departure from the neutral mouth is expression: none within the dead zone,
    all of it from twice the dead zone, a rising share in between."""
    return float(excess * np.clip((abs(excess) - dead_zone) / dead_zone, 0.0, 1.0))


def expression_amounts(local: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """(52,) how many units of each basis shape the face (478, 3) shows (≥ 0, may pass 1)."""
    from scipy.optimize import nnls
    basis = build_basis(local) if basis is None else basis
    lift, width = corner_lift(local), float(mouth_width(local))
    wide = max(_taken_out(width - neutral_width(), WIDTH_DEAD_ZONE), 0.0) / 2      # each side explains half
    amounts = np.zeros(len(ARKIT_NAMES), np.float64)
    for k, side in enumerate(CORNERS):
        excess = lift[k] - neutral_lift()
        raised = _taken_out(excess, DEAD_ZONE)
        shapes = [f"mouthSmile{side}" if excess > 0 else f"mouthFrown{side}", f"mouthStretch{side}"]
        moved = [local + basis[ARKIT_INDEX[shape]] for shape in shapes]
        effects = np.array([[corner_lift(face)[k] - lift[k], mouth_width(face) - width] for face in moved])
        found, _ = nnls(effects.T * FIT_WEIGHTS[:, None], np.array([raised, wide]) * FIT_WEIGHTS)
        amounts[[ARKIT_INDEX[shape] for shape in shapes]] = np.minimum(found, MAX_AMOUNT)
    return amounts


def neutralise(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A head-local face (478, 3) → (the face without its expression, its expression as (52,)
    ARKit weights in [0, 1])."""
    basis = build_basis(local)
    amounts = expression_amounts(local, basis)
    neutral = local - np.einsum("k,kvc->vc", amounts, basis)
    return neutral.astype(np.float32), np.minimum(amounts, 1.0).astype(np.float32)


def as_manifest(weights: np.ndarray, neutralised: bool) -> dict:
    """The photo's expression as the manifest records it: the non-zero weights by name."""
    return {"neutralised": neutralised,
            "weights": {name: round(float(w), 4) for name, w in zip(ARKIT_NAMES, weights) if w > 0}}
