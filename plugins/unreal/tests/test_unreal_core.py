"""The plugin's unreal-free core: axes, curves, key reduction, manifests and plans."""
from __future__ import annotations

import json

import numpy as np
import pytest

from unreal_fixtures import inputs, server, take_dir  # noqa: F401  (fixtures)

from facecue_unreal.core import axes, bones, curves, manifest
from facecue_unreal.core.plan import ImportOptions, asset_name, plan_take


def test_points_map_to_left_handed_z_up():
    assert np.allclose(axes.points([[1.0, 2.0, 3.0]]), [[-3.0, 1.0, 2.0]])   # right → +Y, up → +Z, away → +X
    assert np.linalg.det(axes.TAKE_TO_UNREAL) == pytest.approx(-1.0)         # a change of handedness


def test_rotators_round_trip_through_unreals_matrix_formula():
    rng = np.random.default_rng(0)
    rotators = np.stack([rng.uniform(-170, 170, 200), rng.uniform(-80, 80, 200), rng.uniform(-170, 170, 200)], -1)
    matrices = axes.rotator_matrices(rotators)
    assert np.allclose(matrices.transpose(0, 2, 1) @ matrices, np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(matrices), 1.0)
    assert np.allclose(axes.rotators(matrices[:1])[0], rotators[0], atol=1e-7)
    back = np.array([axes.rotators(m[None])[0] for m in matrices])
    assert np.allclose(axes.rotator_matrices(back), matrices, atol=1e-9)


def test_quaternions_rotate_like_their_rotators():
    rotators = np.array([[10.0, 20.0, 30.0], [-40.0, 5.0, 170.0]])
    assert np.allclose(bones.quat_to_matrix(axes.quaternions(rotators)), axes.rotator_matrices(rotators), atol=1e-9)


@pytest.mark.parametrize("yaw,pitch", [(0, 0), (25, 0), (0, 15), (-30, -10)])
def test_head_forward_axis_points_out_of_the_face(yaw, pitch):
    pose = np.array([[yaw, pitch, 7.0, 1.0, -2.0, -60.0]])
    location, rotator = axes.head_transforms(pose)
    forward = axes.rotator_matrices(rotator[0])[:, 0]
    face = axes.take_rotations(pose[0, :3]) @ np.array([0.0, 0.0, 1.0])     # take: the face looks down +z
    assert np.allclose(forward, axes.points(face), atol=1e-9)
    assert np.allclose(location[0], [60.0, 1.0, -2.0])
    if yaw == pitch == 0:
        assert np.allclose(forward, [-1, 0, 0], atol=1e-9)                  # facing the photo's camera


def test_eyes_look_along_their_gaze():
    pose = np.array([[10.0, -5.0, 0.0, 0.0, 0.0, -60.0]])
    gaze = np.array([[[12.0, 8.0], [12.0, 8.0]]])
    _, rotators = axes.eye_transforms(pose, gaze, np.zeros((2, 3)))
    yaw, pitch = np.deg2rad(12.0), np.deg2rad(8.0)
    local = np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    wanted = axes.points(axes.take_rotations(pose[0, :3]) @ local)
    assert np.allclose(axes.rotator_matrices(rotators[0, 0])[:, 0], wanted, atol=1e-9)


def test_curve_names_are_metahumans():
    from facecue.names import ARKIT_NAMES
    names = [curves.metahuman_name(n) for n in ARKIT_NAMES]
    assert names[:2] == ["EyeBlinkLeft", "EyeLookDownLeft"] and "JawOpen" in names and "TongueOut" in names


def test_key_reduction_keeps_the_curve_within_tolerance():
    t = np.linspace(0, 20, 6000)
    values = np.sin(t) + 0.2 * np.sin(7 * t)
    kept = curves.reduce_keys(values, 0.01)
    assert kept[0] == 0 and kept[-1] == len(values) - 1 and len(kept) < len(values) / 5
    rebuilt = np.interp(np.arange(len(values)), kept, values[kept])
    assert np.abs(rebuilt - values).max() <= 0.01 + 1e-12
    assert len(curves.reduce_keys(np.zeros(500), 0.01)) == 2


def test_asset_names_are_unreal_safe():
    assert asset_name("line-01 take") == "line_01_take" and asset_name("7th") == "T_7th"


def test_manifest_is_checked_before_anything_runs(tmp_path):
    audio, photo = tmp_path / "a.wav", tmp_path / "p.jpg"
    audio.write_bytes(b"x")
    photo.write_bytes(b"x")
    good = {"server": "farm:1", "destination": "/Game/Shots", "takes": [
        {"name": "a", "audio": "a.wav", "photo": "p.jpg", "emotion": "sad", "fps": 24}]}
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(good))
    parsed = manifest.load(path)
    assert parsed.server == "farm:1" and parsed.takes[0].audio == audio and parsed.takes[0].fps == 24
    cases = [({"takes": []}, "non-empty 'takes'"),
             ({"takes": [{"name": "a", "audio": "missing.wav", "photo": "p.jpg"}]}, "audio file"),
             ({"takes": [{"name": "a", "emotion": "elated", "audio": "a.wav", "photo": "p.jpg"}]}, "unknown emotion"),
             ({"takes": [{"name": "a", "take": "nowhere"}]}, "is not a take directory"),
             ({"takes": [{"name": "a", "audio": "a.wav", "photo": "p.jpg", "backend": "magic"}]}, "unknown backend 'magic'"),
             ({"takes": [{"name": "a", "audio": "a.wav"}]}, "needs either 'take' or both"),
             ({"takes": [{"name": "a", "take": "t"}, {"name": "a", "take": "t"}]}, "take 2 \\('a'\\): the name is used twice")]
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "manifest.json").write_text("{}")
    for data, message in cases:
        with pytest.raises(manifest.ManifestError, match=message):
            manifest.parse(data, base=tmp_path)
    path.write_text("{ nope")
    with pytest.raises(manifest.ManifestError, match="not valid JSON"):
        manifest.load(path)


def test_plan_holds_the_takes_arrays(take_dir):
    from facecue import take as take_io
    take = take_io.load(take_dir)
    plan = plan_take(take, take_dir, ImportOptions(skeleton="/Game/Face/Skel"))
    assert plan.folder == "/Game/FaceCue/line_01" and plan.rate == (24, 1) and plan.frames == take.frame_count
    assert plan.first_frame == take_dir / "frames" / "000000.png" and plan.curve_values.shape == (take.frame_count, 52)
    assert np.allclose(plan.curve_times, np.arange(take.frame_count) / 24)
    with pytest.raises(ValueError, match="needs a skeleton"):
        plan_take(take, take_dir, ImportOptions())


def test_quaternion_matrix_round_trip_at_any_angle():
    rng = np.random.default_rng(4)
    quats = rng.normal(size=(500, 4))
    quats[:5] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0.7071068, 0.7071068, 0, 0]]  # 180° turns
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    quats *= np.where(quats[:, 3:] < 0, -1, 1)
    matrices = bones.quat_to_matrix(quats)
    assert np.allclose(matrices @ matrices.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    back = bones.matrix_to_quat(matrices)
    assert np.allclose(bones.quat_to_matrix(back), matrices, atol=1e-9)
    assert np.allclose(np.abs((back * quats).sum(1)), 1.0, atol=1e-9)          # the same rotation, sign aside


def test_no_turn_keeps_the_reference_rotation_and_turns_compose_in_component_space():
    rng = np.random.default_rng(5)
    local, component = (q / np.linalg.norm(q) for q in rng.normal(size=(2, 4)))
    turns = bones.quat_to_matrix(np.vstack([[0, 0, 0, 1.0], rng.normal(size=(3, 4))]))
    keys = bones.local_rotations(turns, local, component)
    wanted = local * np.sign(local[3])
    assert np.allclose(keys[0], wanted, atol=1e-12)
    parent = bones.quat_to_matrix(component) @ bones.quat_to_matrix(local).T
    assert np.allclose(parent @ bones.quat_to_matrix(keys) @ bones.quat_to_matrix(component).T, turns, atol=1e-9)


def test_a_yaw_to_the_subjects_left_turns_a_character_facing_y_toward_x():
    pose = np.zeros((1, 6))
    pose[0, 0] = 30.0                                     # +yaw: the face turns toward the take's +x (its left)
    turn = bones.head_turns(pose, np.zeros(6))[0]
    forward = turn @ np.array([0.0, 1.0, 0.0])
    assert forward[0] == pytest.approx(np.sin(np.deg2rad(30))) and forward[2] == pytest.approx(0.0)
