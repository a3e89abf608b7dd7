"""The photo's own expression is taken out (EAP's input bias), read back by an independent
model: MediaPipe's Face Landmarker blendshapes on the rendered frames of real dev-set photos."""
import numpy as np
import pytest
from PIL import Image

from facecue.config import Controls, RenderOptions, RenderSize, TakeRequest
from facecue.evaluation import devset
from facecue.evaluation.expression_reader import SIGNATURE_RISE, ExpressionReader
from facecue.names import ARKIT_INDEX
from facecue.neutralise import (CORNERS, WIDTH_DEAD_ZONE, corner_lift, mouth_width, neutral_lift, neutral_width,
                                 neutralise)

SMILE = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


@pytest.fixture(scope="module")
def reader(root):
    reader = ExpressionReader.from_devset(root)
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
    assert neutral_record["weights"]["mouthSmileLeft"] > 0.4 and neutral_record["weights"] == record["weights"]


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
        # back to the canonical level, not to the dead zone's edge (0.008 up, which still read smiling)
        assert np.abs(corner_lift(neutral) - neutral_lift()).max() < 0.001, face
        assert mouth_width(local) > neutral_width() + 0.1, face                                   # a smile widens
        assert abs(mouth_width(neutral) - neutral_width()) < WIDTH_DEAD_ZONE / 2, face
        assert weights[SMILE].min() > 0.3
        far = np.linalg.norm(local - local[list(CORNERS.values())].mean(0), axis=1) > 6.0     # identity away from the mouth
        assert np.abs(neutral[far] - local[far]).max() < 0.05, face


def test_a_growing_smile_is_taken_out_without_a_jump():
    """Past the dead zone the share taken out ramps up: the corners left after neutralising
    never sit higher than the dead zone's edge, and change smoothly as the smile grows."""
    from facecue.arkit_basis import build_basis
    from facecue.neutralise import DEAD_ZONE
    from facecue.topology import canonical_face
    face = canonical_face().astype(np.float64)
    smile = build_basis(face)[[ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]].sum(0)
    amounts = np.linspace(0, 1, 41)
    before = np.array([corner_lift(face + a * smile).mean() for a in amounts]) - neutral_lift()
    after = np.array([corner_lift(neutralise(face + a * smile)[0]).mean() for a in amounts]) - neutral_lift()
    assert before[-1] > 3 * DEAD_ZONE                                  # the range crosses the whole ramp
    assert after.max() < DEAD_ZONE + 1e-3 and np.abs(after[before > 2.5 * DEAD_ZONE]).max() < 1e-3
    assert np.abs(np.diff(after)).max() < 3 * np.abs(np.diff(before)).max()       # no jump


# Where each emotion's FACS signature reads on the frames (bench/shape_readback.py has every
# face). The reader couples a one-sided smile into both sides, so contempt's asymmetry seldom
# reads and it is not held here; happy does not rise on the photos that keep a smile's look.
SHOWING = {"happy": ("teeth", "grey"), "sad": ("teeth", "smile"), "angry": ("teeth", "smile"),
           "surprised": ("teeth", "smile"), "fear": ("teeth", "smile"), "disgusted": ("teeth", "smile")}


@pytest.fixture(scope="module")
def signature_rises(pipeline, reader, root):
    """{(emotion, face): rise of the emotion's signature over the rest}, expressions alone."""
    from facecue.evaluation.expression_probe import emotion_weights, probe_frames
    from facecue.evaluation.expression_reader import signature_score
    emotions = list(SHOWING)
    rises = {}
    for face in sorted({face for faces in SHOWING.values() for face in faces}):
        read = reader.read_all(probe_frames(pipeline, devset.face_path(root, face), emotion_weights(emotions)))
        for row, emotion in enumerate(emotions, 1):
            rises[emotion, face] = signature_score(read[row], emotion) - signature_score(read[0], emotion)
    return rises


@pytest.mark.parametrize("emotion", list(SHOWING))
def test_each_emotion_reads_on_two_real_faces(signature_rises, emotion):
    for face in SHOWING[emotion]:
        assert signature_rises[emotion, face] >= SIGNATURE_RISE, (emotion, face, signature_rises[emotion, face])
