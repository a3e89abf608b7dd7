"""Each control changes the performance the way it says (procedural backend, real speech)."""
from __future__ import annotations

import numpy as np
import pytest

from facecue.config import Controls, TakeRequest
from facecue.errors import InvalidInput
from facecue.names import ARKIT_INDEX
from facecue.procedural.expression import expression_vector


@pytest.fixture(scope="module")
def make(pipeline, assets):
    def run(emotion="happy", intensity=1.0, seed=4, **controls):
        return pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png", emotion=emotion,
                                        intensity=intensity, seed=seed, controls=Controls(**controls)))
    return run


def _expression_strength(take, emotion):
    shapes = expression_vector(emotion) > 0
    return take.blendshapes[30:, shapes].mean()


def test_intensity_number_and_curve(make):
    weak, strong = make(intensity=0.3), make(intensity=1.0)
    assert _expression_strength(strong, "happy") > 2 * _expression_strength(weak, "happy")
    ramp = make(intensity_curve=((0.0, 0.0), (8.0, 1.0)))
    smile = ramp.blendshapes[:, ARKIT_INDEX["mouthSmileLeft"]]
    third = len(smile) // 3
    assert smile[-third:].mean() > 2 * smile[:third].mean() + 0.1


def test_lip_scale_zero_keeps_the_mouth_still(make):
    moving, still = make(emotion="neutral"), make(emotion="neutral", lip_scale=0.0)
    jaw = ARKIT_INDEX["jawOpen"]
    assert still.blendshapes[:, jaw].std() < 0.1 * moving.blendshapes[:, jaw].std()
    gap = lambda t: np.linalg.norm(t.landmarks_local[:, 13] - t.landmarks_local[:, 14], axis=1)  # noqa: E731
    assert gap(still).std() < 0.2 * gap(moving).std()


def test_head_scale_scales_head_motion(make, pipeline, assets):
    normal, calm, lively = make(), make(head_scale=0.0), make(head_scale=2.0)
    assert np.ptp(calm.pose[:, :3], axis=0).max() < 1e-4
    np.testing.assert_allclose(lively.pose[:, :3].std(0), 2 * normal.pose[:, :3].std(0), rtol=1e-4)


def test_gaze_off_looks_straight_ahead(make):
    take = make(gaze=False)
    assert np.abs(take.gaze_angles).max() < 1e-6 and np.all(take.gaze_labels == 2)
    assert np.abs(make().gaze_angles).max() > 3


def test_region_mixing(make):
    mixed = make(emotion="neutral", regions=(("mouth", (("happy", 1.0),)), ("brows", (("sad", 1.0),))))
    b = mixed.blendshapes[30:]
    assert b[:, ARKIT_INDEX["mouthSmileLeft"]].mean() > 0.4              # the mouth is happy
    assert b[:, ARKIT_INDEX["browInnerUp"]].mean() > 0.4                 # the brows are sad
    assert b[:, ARKIT_INDEX["mouthFrownLeft"]].mean() < 0.05             # but not the mouth
    half = make(emotion="angry", regions=(("brows", (("angry", 0.5),)),))
    full = make(emotion="angry")
    assert half.blendshapes[30:, ARKIT_INDEX["browDownLeft"]].mean() < 0.7 * full.blendshapes[30:, ARKIT_INDEX["browDownLeft"]].mean()


def test_auto_emotion_follows_the_voice(make, pipeline, assets, tmp_path):
    import soundfile as sf
    from facecue.audio import load_audio
    loud = make(emotion="auto")
    quiet_path = tmp_path / "quiet.wav"
    sf.write(quiet_path, load_audio(assets / "speech.wav").samples * 0.08, 16000)
    quiet = pipeline.run(TakeRequest(audio=quiet_path, image=assets / "face.png", emotion="auto", seed=4))
    assert loud.manifest["emotion"] == "auto" and loud.manifest["emotion_shown"] in ("happy", "angry", "neutral")
    loud_level = 1 - loud.emotion_probs[30:, 0].mean()
    quiet_level = 1 - quiet.emotion_probs[30:, 0].mean()
    assert loud_level > quiet_level + 0.1                                 # arousal follows loudness


def test_bad_controls_are_refused():
    for controls, message in [(Controls(lip_scale=3), "lip scale 3 is outside"),
                              (Controls(intensity_curve=((1.0, 0.2), (0.5, 0.4))), "must start at 0 or later and increase"),
                              (Controls(regions=(("nose", (("happy", 1.0),)),)), "unknown face region 'nose'"),
                              (Controls(regions=(("mouth", (("elated", 1.0),)),)), "unknown emotion 'elated'"),
                              (Controls(intensity_curve=((float("nan"), 0.5),)), "must be finite"),
                              (Controls(intensity_curve=((0.0, 0.5), (float("inf"), 0.6))), "must be finite"),
                              (Controls(intensity_curve=((0.0, float("nan")),)), "must lie in \\[0, 1\\]"),
                              (Controls(intensity_curve=tuple((k / 100, 0.5) for k in range(100_001))),
                               "100001 keys; the limit is 100000"),
                              (Controls(regions=(("mouth", (("happy", 1.0),)), ("mouth", (("sad", 1.0),)))),
                               "one emotion mix"),
                              (Controls(regions=(("mouth", (("happy", 0.5), ("happy", 0.5))),)), "more than once"),
                              (Controls(lip_scale=float("nan")), "lip scale nan is outside")]:
        with pytest.raises(InvalidInput, match=message):
            controls.check()


def test_controls_over_grpc_and_cli(client, assets, tmp_path):
    from .test_cli import facecue
    take = client.generate(assets / "speech.wav", assets / "face.png", controls=Controls(head_scale=0.0, gaze=False))
    assert np.ptp(take.pose[:, :3], axis=0).max() < 1e-4 and np.all(take.gaze_labels == 2)
    assert take.manifest["controls"]["head_scale"] == 0.0
    result = facecue("generate", "--audio", assets / "speech.wav", "--image", assets / "face.png", "--no-render",
                     "--region", "mouth=happy:0.5,sad:0.5", "--lip-scale", "0", "--out", tmp_path / "t")
    assert result.returncode == 0, result.stderr
    bad = facecue("generate", "--audio", assets / "speech.wav", "--image", assets / "face.png", "--region",
                  "mouth=happy:lots", "--out", tmp_path / "u")
    assert bad.returncode == 2 and "should look like mouth=happy:0.7,sad:0.3" in bad.stderr
