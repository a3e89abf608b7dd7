"""The extension in real Blender (PyPI bpy), against a real FaceCue server over loopback."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from facecue import take as take_io
from facecue.names import ARKIT_NAMES

RATES = {24.0: (24, 1.0), 25.0: (25, 1.0), 30000 / 1001: (30, 1.001)}
REPO_STILLS = Path(__file__).resolve().parents[3] / "build" / "test-stills"     # rendered stills to look at


def _set_rate(bpy, fps: float) -> None:
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = RATES[fps]


def _arkit_mesh(bpy, name="Face", key_names=ARKIT_NAMES):
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for key in key_names:
        obj.shape_key_add(name=key)
    return obj


def _grey(bpy, path) -> np.ndarray:
    """An image file as (rows from the top, columns) grey levels, read by Blender itself."""
    image = bpy.data.images.load(str(path), check_existing=False)
    pixels = np.empty(image.size[0] * image.size[1] * 4, np.float32)
    image.pixels.foreach_get(pixels)
    width, height = image.size
    bpy.data.images.remove(image)
    return pixels.reshape(height, width, 4)[::-1, :, :3].mean(-1)


def _curves(bpy, action):
    from facecue_blender.blender.action_support import fcurves
    return {(c.data_path, c.array_index): c for c in fcurves(action)}


def _keys(curve) -> np.ndarray:
    coords = np.empty(len(curve.keyframe_points) * 2, np.float32)
    curve.keyframe_points.foreach_get("co", coords)
    return coords.reshape(-1, 2)


def test_the_right_action_api_for_this_blender(bpy):
    from facecue_blender.blender.action_support import SLOTTED
    assert SLOTTED == (bpy.app.version >= (4, 4, 0))
    assert hasattr(bpy.data.actions.new("probe"), "slots") == SLOTTED


@pytest.mark.parametrize("fps", list(RATES), ids=["24", "25", "29.97"])
def test_import_keys_every_curve_with_the_takes_exact_values(bpy, take_factory, fps):
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core import axes
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, fps)
    take_dir = take_factory(fps)
    take = take_io.load(take_dir)
    face = _arkit_mesh(bpy)
    report = import_take(take_dir, ImportOptions(target_mesh=face.name, start_frame=1, sound=False,
                                                 frames_plane=False))
    frames = take.frame_count
    assert report.frames == frames and report.shape_keys == 52 and not report.missing_shape_keys
    assert not any("resampled" in w for w in report.warnings)      # the scene runs at the take's rate

    head = bpy.data.objects[f"FaceCue {take_dir.name} head"]
    curves = _curves(bpy, head.animation_data.action)
    location, rotation = axes.head_transform(take.pose)
    for index in range(3):
        keys = _keys(curves[("location", index)])
        assert len(keys) == frames and np.array_equal(keys[:, 0], np.arange(1, frames + 1, dtype=np.float32))
        assert np.array_equal(keys[:, 1], location[:, index].astype(np.float32))
        assert np.array_equal(_keys(curves[("rotation_euler", index)])[:, 1], rotation[:, index].astype(np.float32))
    for index, emotion in enumerate(take.manifest["emotion_names"]):
        keys = _keys(curves[(f'["facecue_emotion_{emotion}"]', 0)])
        assert np.array_equal(keys[:, 1], take.emotion_probs[:, index])

    shape_curves = _curves(bpy, face.data.shape_keys.animation_data.action)
    for index, name in enumerate(ARKIT_NAMES):
        keys = _keys(shape_curves[(f'key_blocks["{name}"].value', 0)])
        assert len(keys) == frames and np.array_equal(keys[:, 1], take.blendshapes[:, index])

    eye = bpy.data.objects[f"FaceCue {take_dir.name} eye left"]
    eye_keys = _keys(_curves(bpy, eye.animation_data.action)[("rotation_euler", 2)])
    assert np.allclose(eye_keys[:, 1], np.deg2rad(take.gaze_angles[:, 0, 0]), atol=1e-6)

    # Timing: the keyed value at scene frame 1 + i is the take's frame i, shown at i / fps seconds.
    i = frames // 2
    bpy.context.scene.frame_set(1 + i)
    assert np.allclose(head.location, location[i], atol=1e-6)
    assert (1 + i - 1) / (bpy.context.scene.render.fps / bpy.context.scene.render.fps_base) == pytest.approx(i / take.fps)


def test_other_scene_rates_are_resampled_onto_whole_frames(bpy, take_factory):
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 24.0)
    take_dir = take_factory(25.0)
    report = import_take(take_dir, ImportOptions(sound=False, frames_plane=False, set_up_scene=False))
    take = take_io.load(take_dir)
    assert report.frames == math.ceil(take.manifest["duration_s"] * 24 - 1e-9)
    assert any("resampled" in w for w in report.warnings)
    head = bpy.data.objects[f"FaceCue {take_dir.name} head"]
    keys = _keys(_curves(bpy, head.animation_data.action)[("location", 0)])
    assert np.array_equal(keys[:, 0], np.round(keys[:, 0]))


def test_face_mesh_is_the_take_topology_driven_by_its_pc2_cache(bpy, take_factory):
    from facecue import topology
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core import axes, pc2
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 25.0)
    take_dir = take_factory(25.0)
    take = take_io.load(take_dir)
    import_take(take_dir, ImportOptions(start_frame=10, sound=False, frames_plane=False))
    face = bpy.data.objects[f"FaceCue {take_dir.name} face"]
    assert len(face.data.vertices) == 478 and len(face.data.polygons) == len(topology.triangles())

    modifier = face.modifiers["FaceCue cache"]
    header, points = pc2.read(modifier.filepath)
    assert header == {"version": 1, "points": 478, "start_frame": 0.0, "sample_rate": 1.0,
                      "samples": take.frame_count}
    expected = axes.points(take.landmarks_local)
    assert np.array_equal(points, expected)

    frame = 10 + take.frame_count // 3
    bpy.context.scene.frame_set(frame)
    evaluated = face.evaluated_get(bpy.context.evaluated_depsgraph_get())
    positions = np.empty(478 * 3, np.float32)
    evaluated.data.vertices.foreach_get("co", positions)
    assert np.allclose(positions.reshape(478, 3), expected[frame - 10], atol=1e-6)
    assert face.parent.name == f"FaceCue {take_dir.name} head"


def test_rendered_frames_and_sound_are_placed_at_the_start_frame(bpy, take_factory):
    from facecue_blender.blender import sequencer
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 25.0)
    take_dir = take_factory(25.0, render=True)
    take = take_io.load(take_dir)
    report = import_take(take_dir, ImportOptions(start_frame=5, frames_strip=True))
    plane = bpy.data.objects[f"FaceCue {take_dir.name} frames"]
    texture = next(n for n in plane.active_material.node_tree.nodes if n.type == "TEX_IMAGE")
    assert texture.image.source == "SEQUENCE"
    assert Path(texture.image.filepath) == take_dir / "frames" / "000000.png"
    user = texture.image_user
    assert (user.frame_start, user.frame_duration, user.frame_offset) == (5, take.frame_count, -1)

    strips = {s.name: s for s in sequencer.all_strips(bpy.context.scene)}
    movie = strips[f"FaceCue {take_dir.name} frames"]
    assert movie.type == "MOVIE" and movie.frame_start == 5 and Path(movie.filepath) == take_dir / "take.mp4"
    assert movie.frame_final_duration == take.frame_count
    sound = strips.get(f"FaceCue {take_dir.name} sound")
    if sound is None:                                   # PyPI's bpy 4.2 is built without audio
        assert any("sound strip could not be added" in w for w in report.warnings)
    else:
        assert sound.frame_start == 5 and Path(sound.sound.filepath) == take_dir / "audio.wav"
        assert abs(sound.frame_final_duration - take.manifest["duration_s"] * 25) <= 1


def test_reimport_replaces_the_previous_import(bpy, take_factory):
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 24.0)
    take_dir = take_factory(24.0)
    face = _arkit_mesh(bpy)
    options = ImportOptions(target_mesh=face.name, sound=False, frames_plane=False)
    import_take(take_dir, options)
    before = (sorted(o.name for o in bpy.data.objects), len(bpy.data.actions), len(bpy.data.meshes))
    import_take(take_dir, options)
    assert (sorted(o.name for o in bpy.data.objects), len(bpy.data.actions), len(bpy.data.meshes)) == before


def test_missing_shape_keys_are_reported(bpy, take_factory):
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 24.0)
    face = _arkit_mesh(bpy, key_names=["JawOpen", "eyeBlink_L"])
    report = import_take(take_factory(24.0), ImportOptions(target_mesh=face.name, sound=False, frames_plane=False))
    assert report.shape_keys == 2 and len(report.missing_shape_keys) == 50
    assert any("lacks 50 ARKit shape keys" in w for w in report.warnings)


def test_errors_are_clear(bpy, assets, server, tmp_path):
    from facecue_blender.blender.generation import GenerateRequest, generate, user_message
    from facecue_blender.blender.importer import ImportFailed, import_take
    request = GenerateRequest(server="127.0.0.1:1", audio=assets / "speech.wav", photo=assets / "face.jpg",
                              out=tmp_path / "take", timeout_s=10)
    with pytest.raises(Exception) as err:
        generate(request)
    assert user_message(err.value).startswith("FaceCue server not reachable")

    blank = tmp_path / "blank.png"
    image = bpy.data.images.new("blank", 128, 128)
    image.generated_color = (0.5, 0.5, 0.5, 1.0)
    image.filepath_raw, image.file_format = str(blank), "PNG"
    image.save()
    with pytest.raises(Exception) as err:
        generate(GenerateRequest(server=server, audio=assets / "speech.wav", photo=blank, out=tmp_path / "take"))
    assert user_message(err.value) == "server refused: no face found in photo 'blank.png' (INVALID_ARGUMENT)"
    assert not (tmp_path / "take").exists()

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{ not json")
    with pytest.raises(ImportFailed, match="is not valid JSON"):
        import_take(broken)


def test_panel_operators_and_headless_batch(bpy, assets, server, tmp_path):
    import facecue_blender
    facecue_blender.register()
    try:
        assert hasattr(bpy.types, "FACECUE_PT_panel") and bpy.context.scene.facecue.emotion == "neutral"
        settings = bpy.context.scene.facecue
        settings.audio, settings.photo = str(tmp_path / "missing.wav"), str(assets / "face.jpg")
        with pytest.raises(RuntimeError, match=r"FaceCue: audio file '.*missing.wav' does not exist"):
            bpy.ops.facecue.generate()                        # an error report (scripts see it raised)
        report = facecue_blender.batch(str(assets / "speech.wav"), str(assets / "face.jpg"), server=server,
                                       emotion="sad", takes_dir=str(tmp_path / "takes"), render=False,
                                       save=str(tmp_path / "shot.blend"))
    finally:
        facecue_blender.unregister()
    assert report.frames > 10 and (tmp_path / "takes" / "speech_sad" / "manifest.json").is_file()
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "shot.blend"))
    assert "FaceCue speech_sad head" in bpy.data.objects

    still = facecue_blender.batch(str(assets / "speech.wav"), str(assets / "face.jpg"), server=server, emotion="fear",
                                  takes_dir=str(tmp_path / "takes"), render=False, head_scale=0.0, gaze=False)
    assert still.frames > 10
    head = bpy.data.objects["FaceCue speech_fear head"]
    yaw = _keys(_curves(bpy, head.animation_data.action)[("rotation_euler", 2)])[:, 1]
    assert np.ptp(yaw) < 1e-5                                     # the controls reached the server
    learned = facecue_blender.batch(str(assets / "speech.wav"), str(assets / "face.jpg"), server=server,
                                    emotion="angry", takes_dir=str(tmp_path / "takes"), render=False, backend="neural")
    manifest = json.loads((tmp_path / "takes" / "speech_angry" / "manifest.json").read_text())
    assert learned.frames > 10 and manifest["model"]["backend"] == "neural"      # the cue model chosen


def test_rendered_frames_stay_in_sync_in_a_scene_at_another_rate(bpy, take_factory):
    """A 30 fps take in a 24 fps scene: at every scene frame, the plane and the strip show the
    take frame of that moment (not one take frame per scene frame, which drifts 2 s a minute)."""
    from facecue_blender.blender import sequencer
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 24.0)
    take_dir = take_factory(30.0, render=True)
    take = take_io.load(take_dir)
    import_take(take_dir, ImportOptions(start_frame=1, frames_strip=True, set_up_scene=False))
    scene = bpy.context.scene
    duration = take.manifest["duration_s"]
    scene_frames = int(np.ceil(duration * 24 - 1e-9))
    expected = np.minimum(np.floor(np.arange(scene_frames) / 24 * 30 + 1e-6).astype(int), take.frame_count - 1)

    plane = bpy.data.objects[f"FaceCue {take_dir.name} frames"]
    tree = plane.active_material.node_tree
    texture = next(n for n in tree.nodes if n.type == "TEX_IMAGE")
    user = texture.image_user
    from facecue_blender.blender.action_support import fcurves
    offset = next(c for c in fcurves(tree.animation_data.action) if c.data_path.endswith("frame_offset"))
    for j in (0, 1, 4, scene_frames // 2, scene_frames - 1):
        # Blender's image user: frame number = scene frame − start + 1 + offset (within the duration)
        shown = (1 + j) - user.frame_start + 1 + round(offset.evaluate(1 + j))
        assert shown == expected[j], (j, shown, expected[j])
    assert user.frame_duration == scene_frames

    strip = {s.name: s for s in sequencer.all_strips(scene)}[f"FaceCue {take_dir.name} frames"]
    assert strip.type == "IMAGE" and strip.frame_final_duration == scene_frames
    for j in (0, 1, 4, scene_frames // 2, scene_frames - 1):
        assert strip.strip_elem_from_frame(1 + j).filename == f"{expected[j]:06d}.png"
    assert expected[-1] >= take.frame_count - 2                # the last scene frame shows the take's end


def test_the_imported_scene_shows_the_take_through_its_camera(bpy, take_factory):
    """Default import into a 24 fps scene: the scene takes the take's rate and range, the photo's
    camera is active at the photo's size, F12 renders the 3D scene (not the sequencer), and a
    rendered still (saved under build/test-stills/ to look at) shows the photo-textured face
    mesh in front of the photo, lined up with it."""
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    _set_rate(bpy, 24.0)
    take_dir = take_factory(30.0, render=True)
    take = take_io.load(take_dir)
    report = import_take(take_dir, ImportOptions(start_frame=1, frames_strip=True, sound=False))
    scene = bpy.context.scene
    assert (scene.render.fps, scene.render.fps_base) == (30, 1.0) and not report.warnings
    assert (scene.frame_start, scene.frame_end) == (1, take.frame_count)
    width, height = take.manifest["image"]["width"], take.manifest["image"]["height"]
    assert scene.camera.name == f"FaceCue {take_dir.name} camera"
    assert (scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage) == (width, height, 100)
    assert scene.render.use_sequencer is False
    face = bpy.data.objects[f"FaceCue {take_dir.name} face"]
    assert face.data.uv_layers.active.name == "Photo"
    skin = face.active_material.node_tree.nodes
    assert any(n.type == "TEX_IMAGE" and Path(n.image.filepath) == take_dir / "photo.jpg" for n in skin)
    assert any(n.type == "BSDF_PRINCIPLED" for n in skin)               # lit: its motion shows in the shading
    for name in ("photo", "frames"):                                     # both behind the face, facing the camera
        plane = bpy.data.objects[f"FaceCue {take_dir.name} {name}"]
        assert min(v.co.y for v in plane.data.vertices) > max(v.co.y for v in face.data.vertices) + 0.1

    scene.render.engine, scene.cycles.samples, scene.cycles.device = "CYCLES", 8, "CPU"
    still = REPO_STILLS / f"scene_bpy{bpy.app.version[0]}.{bpy.app.version[1]}.png"
    still.parent.mkdir(parents=True, exist_ok=True)
    scene.frame_set(1)
    scene.render.filepath = str(still)
    bpy.ops.render.render(write_still=True)
    seen, photo = _grey(bpy, still), _grey(bpy, take_dir / "photo.jpg")
    assert seen.shape == photo.shape == (height, width)
    (x0, y0), (x1, y1) = take.landmarks_image[0, :, :2].min(0).astype(int), take.landmarks_image[0, :, :2].max(0).astype(int)
    whole = np.corrcoef(seen.ravel(), photo.ravel())[0, 1]
    on_face = np.corrcoef(seen[y0:y1, x0:x1].ravel(), photo[y0:y1, x0:x1].ravel())[0, 1]
    assert whole > 0.95 and on_face > 0.8, (whole, on_face)
