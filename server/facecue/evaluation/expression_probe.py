"""Still frames of chosen ARKit weights on a photo, for reading expressions back.

A take mixes speech, blinks and head motion into every frame; a probe isolates the face
itself: the photo is neutralised and its lips sealed (the rest every take starts from), each
row of weights is applied through the face's basis at the photo's own pose and gaze, and the
rows are rendered. Row 0 is usually the rest, so a reader's rise over it is the shape's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..names import ARKIT_INDEX, ARKIT_NAMES


def shape_weights(shapes: list[str], weight: float) -> np.ndarray:
    """(1 + len(shapes), 52): the rest, then each shape (with its other side) at ``weight``."""
    weights = np.zeros((1 + len(shapes), len(ARKIT_NAMES)), np.float32)
    for row, name in enumerate(shapes, 1):
        for side in {name, other_side(name)} - {None}:
            weights[row, ARKIT_INDEX[side]] = weight
    return weights


def emotion_weights(emotions: list[str], intensity: float = 1.0) -> np.ndarray:
    """(1 + len(emotions), 52): the rest, then each emotion's expression at ``intensity``."""
    from ..procedural.expression import expression_vector
    rows = [np.zeros(len(ARKIT_NAMES), np.float32)] + [intensity * expression_vector(e) for e in emotions]
    return np.stack(rows).astype(np.float32)


def other_side(name: str) -> str | None:
    for this, that in (("Left", "Right"), ("Right", "Left")):
        if name.endswith(this):
            return name[: -len(this)] + that
    return None


def probe_landmarks(pipeline, photo: str | Path, weights: np.ndarray):
    """The neutralised reference of ``photo`` (its image landmarks are the photo's own) and
    (len(weights), 478, 3) image landmarks of its rest showing each row of ``weights``."""
    from ..arkit_basis import apply_basis, rest_and_basis
    from ..reference import without_expression
    from ..relocation import relocate
    reference = without_expression(pipeline.analyze_photo(photo))
    rest, basis = rest_and_basis(reference.local)
    local = apply_basis(rest, basis, np.asarray(weights, np.float32))
    count = len(local)
    gaze = np.stack([reference.eyes[eye].rest_angles for eye in ("left", "right")])
    _, image = relocate(local, np.repeat(reference.pose[None], count, 0), np.repeat(gaze[None], count, 0), reference)
    return reference, image


def probe_frames(pipeline, photo: str | Path, weights: np.ndarray, size: str = "256") -> np.ndarray:
    """(len(weights), H, W, 3) uint8 frames of ``photo`` showing each row of ``weights``."""
    from ..config import RenderSize
    from ..reference import read_image
    from ..render import Portrait
    rgb, _ = read_image(photo)
    reference, image = probe_landmarks(pipeline, photo, weights)
    renderer = pipeline.renderer()
    return renderer.render(renderer.prepare(Portrait(rgb, reference), RenderSize.parse(size)), image)
