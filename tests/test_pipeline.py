import math

import numpy as np
import pytest

from facecue import topology as topo
from facecue.config import TakeRequest
from facecue.errors import InvalidInput
from facecue.names import EMOTIONS
from facecue.phonemes import recognise
from facecue.audio import load_audio
from facecue.procedural.visemes import BILABIALS, VOWELS
from facecue.take import array_specs


def _request(assets, **kw):
    return TakeRequest(audio=assets / "speech.wav", image=assets / "face.png", **kw)


def test_every_array_has_its_shape_dtype_and_range(happy_take):
    take = happy_take
    frames = take.frame_count
    for name, (shape, dtype) in array_specs(frames).items():
        assert take.arrays[name].shape == shape and take.arrays[name].dtype == dtype, name
        if dtype.kind == "f":
            assert np.isfinite(take.arrays[name]).all(), name
    image = take.landmarks_image
    assert (image[..., 0] > 0).all() and (image[..., 0] < 512).all()
    assert (image[..., 1] > 0).all() and (image[..., 1] < 512).all()
    assert ((take.blendshapes >= 0) & (take.blendshapes <= 1)).all()
    np.testing.assert_allclose(take.emotion_probs.sum(1), 1.0, atol=1e-5)
    assert ((take.gaze_labels >= 0) & (take.gaze_labels < 10)).all()
    assert (np.abs(take.pose[:, :3]) < 45).all(), "head angles stay plausible"
    assert np.abs(np.diff(take.pose[:, :3], axis=0)).max() < 3.0, "no jumps between frames"
    assert take.manifest["blendshape_names"][17] == "jawOpen" and len(take.manifest["subset_147"]) == 147
    assert take.emotion_probs[:, EMOTIONS.index("happy")].mean() > 0.6


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 60.0])
def test_frame_count_follows_duration_and_fps(pipeline, assets, fps):
    take = pipeline.run(_request(assets, fps=fps))
    assert take.frame_count == math.ceil(take.manifest["duration_s"] * fps - 1e-9)
    assert take.landmarks_local.shape[0] == take.frame_count and take.manifest["fps"] == fps


def test_same_seed_same_take_other_seed_other_take(pipeline, assets, happy_take):
    again = pipeline.run(_request(assets, emotion="happy", fps=30.0, seed=7))
    for name, array in happy_take.arrays.items():
        np.testing.assert_array_equal(array, again.arrays[name], err_msg=name)
    other = pipeline.run(_request(assets, emotion="happy", fps=30.0, seed=8))
    assert not np.array_equal(other.pose, happy_take.pose)


def test_mouth_opens_on_vowels_and_closes_on_silence_and_bilabials(assets, happy_take):
    phones = recognise(load_audio(assets / "speech.wav"))
    local = happy_take.landmarks_local
    gap = local[:, topo.UPPER_LIP_INNER, 1] - local[:, topo.LOWER_LIP_INNER, 1]

    def gap_at(kinds, min_s=0.05):
        centres = [(s + e) / 2 for p, s, e in zip(phones.phones, phones.start_s, phones.end_s)
                   if p in kinds and e - s >= min_s]
        frames = np.clip(np.round(np.array(centres) * 30).astype(int), 0, len(gap) - 1)
        return gap[frames]

    vowels, bilabials, silence = gap_at(VOWELS), gap_at(BILABIALS), gap_at({"SIL"}, min_s=0.2)
    assert len(vowels) > 5 and len(silence) > 1
    assert np.median(vowels) > 0.15, "vowels open the mouth (cm), from lips that rest sealed"
    assert np.median(silence) < 0.05 and np.median(silence) < 0.25 * np.median(vowels), "silence closes it"
    if len(bilabials):
        assert np.median(bilabials) < 0.35 * np.median(vowels), "bilabials close the lips"


def test_emotions_shape_pose_and_gaze(pipeline, assets):
    takes = {e: pipeline.run(_request(assets, emotion=e, seed=3)) for e in ("neutral", "sad", "surprised", "contempt")}
    pitch = {e: t.pose[:, 1].mean() for e, t in takes.items()}
    assert pitch["sad"] < pitch["neutral"] - 3 < pitch["surprised"] - 3
    down = {e: (t.gaze_labels >= 5).mean() for e, t in takes.items()}
    assert down["sad"] > down["neutral"]
    forward = {e: (t.gaze_labels == 2).mean() for e, t in takes.items()}
    assert forward["surprised"] > forward["neutral"]
    assert np.bincount(takes["surprised"].gaze_labels.ravel(), minlength=10).argmax() == 2, "forward is the mode"
    sideways = {e: np.isin(t.gaze_labels % 5, (0, 1, 3, 4)).mean() for e, t in takes.items()}
    assert sideways["contempt"] > sideways["neutral"]
    brow = {e: t.blendshapes[:, 43].mean() for e, t in takes.items()}   # browInnerUp
    assert brow["sad"] > brow["neutral"] + 0.3


def test_intensity_scales_the_expression(pipeline, assets):
    neutral = pipeline.run(_request(assets, emotion="neutral"))
    weak = pipeline.run(_request(assets, emotion="angry", intensity=0.3))
    strong = pipeline.run(_request(assets, emotion="angry", intensity=1.0))
    deviation = lambda t: np.abs(t.landmarks_local[:, :468] - neutral.landmarks_local[:, :468]).mean()
    assert deviation(strong) > 1.5 * deviation(weak) > 0


def test_blinks_happen(happy_take):
    blink = happy_take.blendshapes[:, 0]   # eyeBlinkLeft
    assert blink.max() > 0.9 and (blink > 0.5).mean() < 0.2


@pytest.mark.parametrize("field,value,match", [
    ("emotion", "elated", "unknown emotion 'elated'"),
    ("fps", 0.0, "below the supported 1"),
    ("fps", -24.0, "below the supported 1"),
    ("fps", 1e-9, "below the supported 1"),
    ("fps", 10_000.0, "above the supported"),
    ("intensity", 1.5, "outside \\[0, 1\\]"),
    ("intensity", float("nan"), "outside \\[0, 1\\]"),
    ("transcript", "word " * 10_001, "the limit is 50000"),
])
def test_bad_parameters_are_refused_before_work(pipeline, assets, field, value, match):
    with pytest.raises(InvalidInput, match=match):
        pipeline.run(_request(assets, **{field: value}))


def test_transcript_guides_phone_timing(pipeline, assets):
    from tests.conftest import SENTENCE
    take = pipeline.run(_request(assets, transcript=SENTENCE))
    assert take.manifest["phone_timing"] in ("alignment", "transcript-dp")
    assert take.manifest["transcript"] == SENTENCE
