"""Expression creases on real dev-set photos: which expressions throw them, where they darken
the frame, and that frames showing none are left exactly as the warp makes them."""
import numpy as np
import pytest

from facecue.evaluation import devset
from facecue.evaluation.expression_probe import probe_landmarks, shape_weights
from facecue.render.creases import crease_lines, crease_strengths

torch = pytest.importorskip("torch")

SHAPES = ["mouthSmileLeft", "mouthFrownLeft", "browDownLeft", "browInnerUp", "jawOpen"]
DRIVERS = {"mouthSmileLeft": "smile", "mouthFrownLeft": "frown", "browDownLeft": "brows_down", "browInnerUp": None}


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


def _probe_landmarks(pipeline, root, face: str, weights: np.ndarray):
    return probe_landmarks(pipeline, str(devset.face_path(root, face)), weights)


@pytest.mark.parametrize("face", ["closed", "teeth"])
def test_each_expression_throws_its_own_creases_and_speech_none(pipeline, root, face):
    photo, image = _probe_landmarks(pipeline, root, face, shape_weights(SHAPES, 1.0))
    strengths = crease_strengths(torch.as_tensor(image[..., :2], dtype=torch.float32),
                                 torch.as_tensor(photo.landmarks_image[:, :2], dtype=torch.float32))
    strengths = {name: value.numpy() for name, value in strengths.items()}
    for name, value in strengths.items():
        assert np.all(value[0] == 0), (face, name)                             # the neutralised rest
        assert np.all(value[-1] == 0), (face, name)                            # the jaw alone
    for row, shape in enumerate(SHAPES[:-1], 1):                               # raised brows throw none
        for name, value in strengths.items():
            if name == DRIVERS[shape] and (face, name) == ("teeth", "smile"):
                # the teeth photo smiles already, about as far as mouthSmile 1 lifts its neutralised
                # corners (0.67 units were taken out): its folds are the photo's own, not drawn twice
                assert value[row].max() < 0.1, (face, shape, name, value[row])
            elif name == DRIVERS[shape]:
                # (the frown draws the lower lip's sides down too, so its corners sink less below
                # the lips' middle than they sink in the face)
                least = 0.4 if name == "frown" else 0.5
                assert value[row].min() > least, (face, shape, name, value[row])
            else:
                assert value[row].max() == 0, (face, shape, name, value[row])


def test_creases_darken_their_lines_and_nothing_else(pipeline, root):
    from facecue.config import RenderSize
    from facecue.reference import read_image
    from facecue.render import Portrait, WarpRenderer
    from facecue.render.creases import line_points
    photo, image = _probe_landmarks(pipeline, root, "closed", shape_weights(["mouthSmileLeft", "browDownLeft"], 1.0))
    rgb, _ = read_image(devset.face_path(root, "closed"))
    frames = {}
    for creases in (True, False):
        renderer = WarpRenderer(device="cpu", creases=creases)
        prepared = renderer.prepare(Portrait(rgb, photo), RenderSize.parse("256"))
        frames[creases] = renderer.render(prepared, image).astype(np.int16)
    assert np.array_equal(frames[True][0], frames[False][0])                   # no expression: untouched
    darker = (frames[False] - frames[True]).sum(-1)                            # summed over RGB
    assert darker.min() >= 0                                                   # creases only darken
    points = torch.as_tensor(renderer.output_points(prepared, torch.as_tensor(image[..., :2], dtype=torch.float32)))
    for row, driver in ((1, "smile"), (2, "brows_down")):
        for crease, side, line in crease_lines():
            if crease.driver != driver:
                continue
            x, y = line_points(points[row], line).mean(0).round().int().tolist()   # the line's middle
            assert darker[row, y - 1:y + 2, x - 1:x + 2].mean() > 6, (driver, side)
        changed = darker[row] > 0
        ys, xs = np.nonzero(changed)
        face = points[row].numpy()
        assert xs.min() > face[:, 0].min() and xs.max() < face[:, 0].max()    # inside the face
        assert ys.min() > face[:, 1].min() and ys.max() < face[:, 1].max()
