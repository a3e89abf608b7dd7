import numpy as np
import pytest

from facecue import topology as topo
from facecue.errors import InvalidInput
from facecue.relocation import relocate


def test_real_face_mesh_on_the_astronaut(pipeline, assets):
    ref = pipeline.analyze_photo(assets / "face.png")
    assert ref.landmarks_image.shape == (478, 3)
    assert (ref.width, ref.height) == (512, 512)
    yaw, pitch, roll, tx, ty, tz = ref.pose
    assert abs(yaw) < 15 and abs(pitch) < 20 and abs(roll) < 15
    assert tz < 0, "the head is in front of the camera"
    # Frontalized face: the subject's left eye (473) is at +x, the nose tip in front.
    assert ref.local[473, 0] > 2.5 and ref.local[468, 0] < -2.5
    assert ref.local[topo.NOSE_TIP, 2] > ref.local[topo.EYE_CORNERS["left"][0], 2]
    height = np.linalg.norm(ref.local[topo.FOREHEAD] - ref.local[topo.CHIN])
    assert 13 < height < 22, "centimetres of an adult face"
    assert ref.gaze_labels.shape == (2,) and ((0 <= ref.gaze_labels) & (ref.gaze_labels < 10)).all()


def test_relocation_reproduces_the_photo(pipeline, assets):
    ref = pipeline.analyze_photo(assets / "face.png")
    angles = np.stack([ref.eyes["left"].rest_angles, ref.eyes["right"].rest_angles])[None]
    local, image = relocate(ref.local[None], ref.pose[None], angles, ref)
    np.testing.assert_allclose(image[0], ref.landmarks_image, atol=1e-2)
    np.testing.assert_allclose(local[0], ref.local, atol=1e-4)


def test_gaze_turns_only_the_irises(pipeline, assets):
    ref = pipeline.analyze_photo(assets / "face.png")
    angles = np.array([[[20.0, 0.0], [20.0, 0.0]]])
    local, _ = relocate(ref.local[None], ref.pose[None], angles, ref)
    moved = np.linalg.norm(local[0] - ref.local, axis=1)
    assert moved[:468].max() < 1e-5
    assert (local[0, 468:, 0] > ref.local[468:, 0]).all(), "+yaw moves the irises toward +x"


def test_several_faces_use_the_largest(pipeline, assets, tmp_path):
    from PIL import Image
    head = np.asarray(Image.open(assets / "face.png"))[0:320, 96:416]     # 320×320 around the face
    small = np.asarray(Image.fromarray(head).resize((240, 240)))
    canvas = np.zeros((320, 560, 3), np.uint8)
    canvas[:, :320] = head
    canvas[40:280, 320:] = small
    Image.fromarray(canvas).save(tmp_path / "two.png")
    ref = pipeline.analyze_photo(tmp_path / "two.png")
    assert ref.faces_found == 2 and "using the largest" in ref.warnings[0]
    assert ref.landmarks_image[:, 0].max() < 320, "the big face on the left was chosen"


def test_no_face_and_unreadable_photo(pipeline, assets):
    with pytest.raises(InvalidInput, match="no face found"):
        pipeline.analyze_photo(assets / "blank.png")
    with pytest.raises(InvalidInput, match="cannot read photo"):
        pipeline.analyze_photo(b"definitely not an image", "junk.jpg")
    with pytest.raises(InvalidInput, match="does not exist"):
        pipeline.analyze_photo(assets / "missing.png")
