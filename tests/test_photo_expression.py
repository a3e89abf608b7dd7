"""The photo's own expression is taken out (EAP's input bias), read back by an independent
model: MediaPipe's Face Landmarker blendshapes on the rendered frames of real dev-set photos."""
import numpy as np
import pytest
from PIL import Image

from facecue.config import Controls, RenderOptions, RenderSize, TakeRequest
from facecue.evaluation import devset
from facecue.evaluation.expression_reader import ExpressionReader
from facecue.names import ARKIT_INDEX
from facecue.neutralise import CORNERS, corner_lift, neutral_lift, neutralise

SMILE = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


@pytest.fixture(scope="module")
def reader(root):
    reader = ExpressionReader(devset.model_path(root, "face_landmarker.task"))
    yield reader
    reader.close()


def _smile_read_back(pipeline, reader, root, out, face: str, keep: bool) -> tuple[float, dict]:
    """The mean mouthSmile read off every 6th rendered frame of a neutral take."""
    from facecue import take as take_io
    take = pipeline.run(TakeRequest(
        audio=devset.clip_path(root, "goforward"), image=devset.face_path(root, face), emotion="neutral", fps=25,
        controls=Controls(keep_photo_expression=keep), render=RenderOptions(size=RenderSize.parse("256"), video=False)))
    written = take_io.write(take, out / f"{face}_{'kept' if keep else 'neutral'}")      # frames render as written
    frames = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((written / "frames").glob("*.png"))[::6]]
    return float(np.nanmean(reader.read_all(frames)[:, SMILE])), take.manifest["photo_expression"]


def test_a_neutral_take_of_a_smiling_photo_loses_the_smile(pipeline, reader, root, tmp_path):
    kept, record = _smile_read_back(pipeline, reader, root, tmp_path, "teeth", keep=True)
    neutral, neutral_record = _smile_read_back(pipeline, reader, root, tmp_path, "teeth", keep=False)
    assert kept > 0.6, "the photo itself smiles"
    assert neutral < kept - 0.3, (kept, neutral)
    assert neutral_record["neutralised"] and not record["neutralised"]
    assert neutral_record["weights"]["mouthSmileLeft"] > 0.5 and neutral_record["weights"] == record["weights"]


def test_a_photo_at_rest_is_left_as_it_is(pipeline, root):
    for face in ("closed", "open"):
        local = pipeline.analyze_photo(str(devset.face_path(root, face))).local
        neutral, weights = neutralise(local)
        assert not weights.any() and np.array_equal(neutral, local), face


def test_smiling_photos_come_back_to_the_level_of_a_neutral_mouth(pipeline, root):
    for face in ("teeth", "beard", "smile", "small"):
        local = pipeline.analyze_photo(str(devset.face_path(root, face))).local
        assert corner_lift(local).min() > neutral_lift() + 0.02, face
        neutral, weights = neutralise(local)
        assert np.abs(corner_lift(neutral) - neutral_lift()).max() < 0.01, face
        assert weights[SMILE].min() > 0.5
        far = np.linalg.norm(local - local[list(CORNERS.values())].mean(0), axis=1) > 6.0     # identity away from the mouth
        assert np.abs(neutral[far] - local[far]).max() < 0.05, face
