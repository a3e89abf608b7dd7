"""The extension's bpy-free core: axes, timing, keys, PC2 and name matching."""
from __future__ import annotations

import numpy as np
import pytest

from facecue_blender.core import axes, camera_view, keys, names, pc2, timing


def test_points_go_to_z_up_metres():
    take = np.array([[1.0, 2.0, 3.0]])                   # cm: right, up, toward the camera
    assert np.allclose(axes.points(take), [[0.01, -0.03, 0.02]])


def test_head_rotation_is_the_take_rotation_in_blender_axes():
    rng = np.random.default_rng(0)
    pose = np.zeros((50, 6))
    pose[:, :3] = rng.uniform(-40, 40, (50, 3))
    pose[:, 3:] = rng.uniform(-10, 10, (50, 3))
    location, euler = axes.head_transform(pose)
    x, y, z = euler[:, 0], euler[:, 1], euler[:, 2]
    rx = np.stack([np.stack([np.ones_like(x), 0 * x, 0 * x], -1), np.stack([0 * x, np.cos(x), -np.sin(x)], -1),
                   np.stack([0 * x, np.sin(x), np.cos(x)], -1)], -2)
    ry = np.stack([np.stack([np.cos(y), 0 * y, np.sin(y)], -1), np.stack([0 * y, np.ones_like(y), 0 * y], -1),
                   np.stack([-np.sin(y), 0 * y, np.cos(y)], -1)], -2)
    rz = np.stack([np.stack([np.cos(z), -np.sin(z), 0 * z], -1), np.stack([np.sin(z), np.cos(z), 0 * z], -1),
                   np.stack([0 * z, 0 * z, np.ones_like(z)], -1)], -2)
    blender = rz @ ry @ rx                                # Blender's XYZ Euler
    take = axes.rotation_matrices(pose[:, :3])
    assert np.allclose(blender, axes.TAKE_TO_BLENDER @ take @ axes.TAKE_TO_BLENDER.T, atol=1e-9)
    assert np.allclose(location, axes.points(pose[:, 3:]), atol=1e-6)
    nose = np.array([0.0, 0.0, 10.0])                     # a point in front of the face, take axes
    assert np.allclose(blender @ axes.points(nose), axes.points(take @ nose), atol=1e-6)


def test_euler_curves_never_jump():
    yaw = np.linspace(170, 190, 40)                       # across ±180°
    pose = np.zeros((40, 6))
    pose[:, 0] = yaw
    euler = axes.head_transform(pose)[1]
    assert np.abs(np.diff(euler, axis=0)).max() < 0.05


@pytest.mark.parametrize("yaw,pitch", [(0, 0), (20, 0), (0, 15), (-25, -10)])
def test_eye_rotation_points_along_the_gaze(yaw, pitch):
    euler = axes.eye_euler(np.array([[[yaw, pitch], [yaw, pitch]]], float))[0, 0]
    rx = np.array([[1, 0, 0], [0, np.cos(euler[0]), -np.sin(euler[0])], [0, np.sin(euler[0]), np.cos(euler[0])]])
    rz = np.array([[np.cos(euler[2]), -np.sin(euler[2]), 0], [np.sin(euler[2]), np.cos(euler[2]), 0], [0, 0, 1]])
    looks = rz @ rx @ np.array([0.0, -1.0, 0.0])
    y, p = np.deg2rad(yaw), np.deg2rad(pitch)
    wanted = axes.points(np.array([np.sin(y) * np.cos(p), np.sin(p), np.cos(y) * np.cos(p)])) * 100
    assert np.allclose(looks, wanted, atol=1e-6)


def test_camera_focal_length():
    assert axes.camera_focal_mm(1.4 * 1000, 1000, 800) == pytest.approx(50.4)


def test_same_rate_is_exact_and_other_rates_resample():
    values = np.random.default_rng(1).normal(size=(31, 4)).astype(np.float32)
    assert timing.resample(values, 30.0, 30.0, 31) is values
    assert timing.scene_frame_count(1.0, 31, 30.0, 30000 / 1001) == 30
    on_24 = timing.resample(values, 30.0, 24.0, timing.scene_frame_count(1.0, 31, 30.0, 24.0))
    assert len(on_24) == 24 and np.allclose(on_24[0], values[0])
    assert np.allclose(on_24[4], values[5])               # 4/24 s = 5/30 s
    assert np.allclose(on_24[1], 0.75 * values[1] + 0.25 * values[2])


def test_keyframe_coords_interleave_frames_and_values():
    coords = keys.keyframe_coords(10, np.array([0.5, 0.25, 1.0]))
    assert coords.dtype == np.float32 and coords.tolist() == [10, 0.5, 11, 0.25, 12, 1.0]


def test_pc2_round_trip(tmp_path):
    points = np.random.default_rng(2).normal(size=(7, 478, 3)).astype(np.float32)
    path = pc2.write(tmp_path / "face.pc2", points, start_frame=3.0, sample_rate=1.0)
    raw = path.read_bytes()
    assert raw[:12] == b"POINTCACHE2\0" and len(raw) == 32 + points.nbytes
    header, read = pc2.read(path)
    assert header == {"version": 1, "points": 478, "start_frame": 3.0, "sample_rate": 1.0, "samples": 7}
    assert np.array_equal(read, points)
    with pytest.raises(ValueError):
        pc2.write(tmp_path / "bad.pc2", points[0])


def test_shape_key_names_match_loosely_and_report_what_is_missing():
    from facecue.names import ARKIT_NAMES
    found, missing = names.match_shape_keys(list(ARKIT_NAMES), ["Basis", "JawOpen", "eyeBlink_L", "EYE_BLINK_RIGHT",
                                                                "mouthSmile.R"])
    assert {ARKIT_NAMES[i]: n for i, n in found.items()} == {
        "jawOpen": "JawOpen", "eyeBlinkLeft": "eyeBlink_L", "eyeBlinkRight": "EYE_BLINK_RIGHT",
        "mouthSmileRight": "mouthSmile.R"}
    assert len(missing) == 48 and "jawOpen" not in missing


@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0, 30000 / 1001, 29.97, 24000 / 1001, 12.5])
def test_scene_rate_is_exact_to_the_take(fps):
    whole, base = timing.scene_rate(fps)
    assert isinstance(whole, int) and timing.same_rate(fps, whole / np.float32(base))    # Blender keeps a float32 base
    if fps == 30000 / 1001:
        assert (whole, base) == (30, pytest.approx(1.001))


def test_face_mesh_seen_by_the_camera_lands_on_the_face_in_the_photo(take_factory):
    """The head pose, the face mesh and the camera model together put each vertex where the take
    says it is in the photo, so the camera-projected UVs glue the photo onto the face."""
    from facecue import take as take_io
    from facecue_blender.core.plan import plan_import
    take_dir = take_factory(25.0)
    take = take_io.load(take_dir)
    plan = plan_import(take, take_dir, 25.0)
    x, y, z = plan.head_rotation[0]
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    world = plan.face_rest @ (rz @ ry @ rx).T + plan.head_location[0]
    width, height = plan.image_size
    seen = np.stack([width / 2 + world[:, 0] / world[:, 1] * plan.focal_px,
                     height / 2 - world[:, 2] / world[:, 1] * plan.focal_px], -1)
    photo = take.landmarks_image[0, :, :2]
    face_width = np.ptp(photo[:, 0])
    error = np.linalg.norm(seen - photo, axis=1) / face_width
    # perspective vs the take's weak perspective: only the face's far sides (ears, jaw) drift
    assert np.median(error) < 0.02 and np.percentile(error, 95) < 0.05 and error.max() < 0.12
    uv = plan.face_uv
    assert np.allclose(uv[:, 0] * width, photo[:, 0], atol=1e-3) and np.allclose((1 - uv[:, 1]) * height, photo[:, 1],
                                                                                  atol=1e-3)
    corners = camera_view.rectangle(0, 0, width, height, plan.image_size, plan.focal_px, plan.backdrop_depth)
    assert np.allclose(corners[:, 1], plan.backdrop_depth) and corners[:, 1].min() > world[:, 1].max()
    ends = corners[[0, 2]]                      # bottom-left and top-right corners sit on the view's edges
    assert np.allclose(ends[:, 0] / ends[:, 1] * plan.focal_px, [-width / 2, width / 2], atol=1e-3)
    assert np.allclose(ends[:, 2] / ends[:, 1] * plan.focal_px, [-height / 2, height / 2], atol=1e-3)
