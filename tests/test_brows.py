"""Raised brows on real dev-set photos: the warp carries a brow up without folding it.

A fold shows as the brow's hair mirrored into a zigzag; in the warp it is a place where the
map from output pixels to photo pixels turns over (its Jacobian's determinant goes negative).
"""
import numpy as np
import pytest

from facecue import topology as topo
from facecue.config import RenderSize
from facecue.evaluation import devset
from facecue.evaluation.expression_probe import probe_landmarks
from facecue.procedural.expression import expression_vector
from facecue.reference import read_image
from facecue.render import Portrait

EMOTIONS = ("surprised", "fear")


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


def _least_stretch_around_brows(field, box, points) -> float:
    """Least area ratio of the photo-to-frame map (÷ its median) within a brow's height of the
    brows: below 0 where the map folds over."""
    x0, y0, _, _ = box
    brows = points[np.r_[topo.group("left_brow"), topo.group("right_brow")]]
    low, high = brows.min(0), brows.max(0)
    reach = high[1] - low[1] + 10
    top, bottom = max(int(low[1] - reach) - y0, 0), int(high[1] + reach) - y0
    left, right = max(int(low[0]) - x0, 0), int(high[0]) - x0
    part = field[top:bottom, left:right]
    across, down = np.diff(part, axis=1)[:-1], np.diff(part, axis=0)[:, :-1]
    area = across[..., 0] * down[..., 1] - across[..., 1] * down[..., 0]
    return float(area.min() / np.median(area))


@pytest.mark.parametrize("face", ["open", "closed"])
def test_raised_brows_do_not_fold(pipeline, root, face):
    photo = str(devset.face_path(root, face))
    reference, image = probe_landmarks(pipeline, photo, np.stack([expression_vector(e) for e in EMOTIONS]))
    renderer = pipeline.renderer()
    prepared = renderer.prepare(Portrait(read_image(photo)[0], reference), RenderSize.parse("256"))
    photo_points = renderer.photo_points(image)
    field, box = renderer.warp_field(prepared, photo_points)
    points = renderer.output_points(prepared, photo_points).cpu().numpy()
    for row, emotion in enumerate(EMOTIONS):
        # Brows lifted with only the centimetre above them following folded (surprised:
        # -0.06 on *open*, -0.10 on *closed*); with the forehead following, 0.25 and more.
        least = _least_stretch_around_brows(field[row].cpu().numpy(), box, points[row])
        assert least > 0.1, (face, emotion, least)
