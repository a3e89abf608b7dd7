"""Blinks that close the eyes, on real dev-set photos: eyeBlink = 1 brings the lids together
in the landmarks, and the rendered frame shows a closed eye that MediaPipe reads as closed."""
import numpy as np
import pytest

from facecue import topology as topo
from facecue.arkit_basis import _curve, apply_basis, rest_and_basis
from facecue.evaluation import devset
from facecue.evaluation.expression_probe import probe_frames, shape_weights
from facecue.names import ARKIT_INDEX
from facecue.reference import without_expression

EYES = ("left", "right")


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


def _lid_gaps(points: np.ndarray, eye: str) -> np.ndarray:
    """Upper lid's height over each lower-lid point (same units as ``points``)."""
    upper, lower = points[list(topo.LID_UPPER[eye])], points[list(topo.LID_LOWER[eye])]
    return _curve(upper[:, :2], lower[:, 0]) - lower[:, 1]


@pytest.mark.parametrize("face", ["closed", "teeth"])
def test_a_full_blink_brings_the_lids_together_along_the_whole_eye(pipeline, root, face):
    reference = without_expression(pipeline.analyze_photo(devset.face_path(root, face)))
    rest, basis = rest_and_basis(reference.local)
    weights = np.zeros((3, len(ARKIT_INDEX)), np.float32)
    weights[1, [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = 0.5
    weights[2, [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = 1.0
    faces = apply_basis(rest, basis, weights)
    for eye in EYES:
        open_gap, half, closed = (_lid_gaps(f, eye) for f in faces)
        assert open_gap.min() > 0.05, (face, eye, open_gap)           # cm: the photo's eye is open
        # meeting at every point (up to the contours' differing vertices: under 3 % of the gap)
        assert np.abs(closed).max() < 0.03 * open_gap.max(), (face, eye, closed, open_gap)
        assert np.all(np.abs(half - open_gap / 2) < 0.15 * open_gap + 1e-4), (face, eye)
    # nothing but the lids and the skin around them moves
    moved = np.linalg.norm(faces[2] - faces[0], axis=1)
    assert moved[topo.group("left_brow")].max() < 0.15 * moved.max()
    assert moved[list(topo.LIP_UPPER_OUTER)].max() < 1e-3


def _detected_openness(pipeline, frame: np.ndarray) -> float:
    """Lid gap ÷ eye width, both eyes, from MediaPipe's own landmarks on the frame."""
    points = pipeline.detector().detect(frame)[0]
    values = []
    for eye in EYES:
        (upper, lower), (outer, inner) = topo.EYE_LIDS[eye], topo.EYE_CORNERS[eye]
        values.append(np.linalg.norm(points[upper, :2] - points[lower, :2])
                      / np.linalg.norm(points[outer, :2] - points[inner, :2]))
    return float(np.mean(values))


@pytest.mark.parametrize("face", ["closed", "teeth"])
def test_a_rendered_blink_reads_closed_and_shows_no_iris(pipeline, root, face):
    weights = np.concatenate([shape_weights(["eyeBlinkLeft"], w)[1:] for w in (0.0, 1.0)])
    rest, blink = probe_frames(pipeline, devset.face_path(root, face), weights, "256")
    # A lid that stopped short (or a squeezed eye showing as a dark slit) read 0.70–0.75 of the rest.
    assert _detected_openness(pipeline, blink) < 0.35 * _detected_openness(pipeline, rest)
    # The iris is covered: no pixel inside the eyes' box is as dark as the open eye's iris.
    points = pipeline.detector().detect(rest)[0]
    for eye in EYES:
        iris = points[topo.group(f"{eye}_iris"), :2]
        x0, y0 = np.floor(iris.min(0)).astype(int)
        x1, y1 = np.ceil(iris.max(0)).astype(int) + 1
        luma_rest = rest[y0:y1, x0:x1].mean(-1)
        luma_blink = blink[y0:y1, x0:x1].mean(-1)
        assert np.percentile(luma_blink, 10) > np.percentile(luma_rest, 10) + 20, (face, eye)


def _brightness_step_over_the_closed_lid(blink: np.ndarray, points: np.ndarray, eye: str) -> float:
    """Largest step in brightness down the middle half of the eye (columns averaged) in the
    blink frame, from a little above the upper lid at rest (``points``) to half-way down its
    opening."""
    upper, lower = points[list(topo.LID_UPPER[eye]), :2], points[list(topo.LID_LOWER[eye]), :2]
    outer, inner = topo.EYE_CORNERS[eye]
    width = np.linalg.norm(points[outer, :2] - points[inner, :2])
    upper, lower = upper[np.argsort(upper[:, 0])], lower[np.argsort(lower[:, 0])]
    left, right = np.interp([0.25, 0.75], [0, 1], [upper[0, 0], upper[-1, 0]])
    columns = []
    for x in range(int(np.ceil(left)), int(right)):
        top = np.interp(x + 0.5, upper[:, 0], upper[:, 1])
        bottom = np.interp(x + 0.5, lower[:, 0], lower[:, 1])
        columns.append(blink[int(top - 0.15 * width):int(top + 0.5 * (bottom - top)) + 1, x].mean(-1))
    rows = min(len(c) for c in columns)
    profile = np.mean([c[:rows] for c in columns], 0)
    return float(np.abs(np.diff(profile)).max())


@pytest.mark.parametrize("face", ["closed", "teeth"])
def test_a_closed_lid_continues_the_skin_above_it(pipeline, root, face):
    weights = np.concatenate([shape_weights(["eyeBlinkLeft"], w)[1:] for w in (0.0, 1.0)])
    rest, blink = probe_frames(pipeline, devset.face_path(root, face), weights, "256")
    points = pipeline.detector().detect(rest)[0]
    for eye in EYES:
        # A lid of one flat colour under the photo's own lash line stepped 18–42 levels.
        step = _brightness_step_over_the_closed_lid(blink.astype(np.float64), points, eye)
        assert step < 14, (face, eye, step)


@pytest.mark.parametrize("emotion", ["surprised", "angry"])
def test_a_blink_closes_the_eyes_whatever_the_expression_does_to_the_lids(pipeline, root, emotion):
    from facecue.config import TakeRequest
    take = pipeline.run(TakeRequest(audio=devset.clip_path(root, "two_cities"),
                                    image=devset.face_path(root, "teeth"), emotion=emotion, seed=3))
    reference = without_expression(pipeline.analyze_photo(devset.face_path(root, "teeth")))
    rest, _ = rest_and_basis(reference.local)
    blink = take.blendshapes[:, ARKIT_INDEX["eyeBlinkLeft"]]
    shut = np.flatnonzero(blink > 0.99)
    assert len(shut) > 0, "no blink in the take"
    open_gap = np.abs(_lid_gaps(rest, "left")).max()
    # Added to a blink, surprise's eyeWide and raised brows held the eye a third open, and anger's
    # squint pushed the lids past each other. (A downward look and the nose wrinkle may still
    # take the upper lid a little past the lower one.)
    for frame in shut:
        gaps = _lid_gaps(take.landmarks_local[frame], "left")
        assert -0.15 * open_gap < gaps.min() and gaps.max() < 0.1 * open_gap, (emotion, frame, gaps / open_gap)
