"""The plugin's unreal layer against the strict fake of the Unreal 5.6 API, importing real
takes from a real FaceCue server: what was created, with which keys, values and times."""
from __future__ import annotations

import json

import numpy as np
import pytest
from unreal_fixtures import inputs, server, take_dir, unreal  # noqa: F401  (fixtures)

from facecue import take as take_io
from facecue_unreal.core import axes
from facecue_unreal.core.plan import ImportOptions

SKELETON = "/Game/MetaHumans/Common/Face/Face_Archetype_Skeleton"


def _with_skeleton(unreal):
    skeleton = unreal.Skeleton()
    unreal.assets[SKELETON] = skeleton
    return skeleton


def _import(unreal, take_dir, **options):
    from facecue_unreal.host.importer import import_take
    return import_take(take_dir, ImportOptions(skeleton=SKELETON, **options))


def _keys(channel):
    frames, values = zip(*channel._props["_keys"])
    return np.array([f.value if hasattr(f, "value") else f for f in frames]), np.array(values)


def test_the_fake_is_strict(unreal):
    with pytest.raises(AttributeError, match="module 'unreal' has no attribute 'LevelSequenceMaker'"):
        unreal.LevelSequenceMaker
    with pytest.raises(AttributeError, match="has no attribute 'add_keys'"):
        unreal.MovieSceneScriptingDoubleChannel().add_keys
    with pytest.raises(AttributeError, match="no editor property 'frame_rate'"):
        unreal.ImgMediaSource().set_editor_property("frame_rate", 1)


def test_import_creates_every_asset_with_the_takes_values(unreal, take_dir):
    take = take_io.load(take_dir)
    _with_skeleton(unreal)
    result = _import(unreal, take_dir)
    folder = "/Game/FaceCue/line_01"
    assert result.folder == folder
    assert {k: v.rsplit("/", 1)[1] for k, v in result.assets.items()} == {
        "sound": "SW_line_01", "media_source": "IMS_line_01", "media_player": "MP_line_01",
        "media_texture": "MT_line_01", "material": "M_line_01", "sequence": "LS_line_01", "anim": "AS_line_01"}
    assets = unreal.assets
    assert assets[f"{folder}/SW_line_01"]._props["_source"] == str(take_dir / "audio.wav")

    source = assets[f"{folder}/IMS_line_01"]
    rate = source._props["frame_rate_override"]
    assert (rate.numerator, rate.denominator) == (24, 1)
    assert source._props["sequence_path"] == (take_dir / "frames").as_posix()     # the frames, not the take
    texture = assets[f"{folder}/MT_line_01"]
    assert texture._props["media_player"] is assets[f"{folder}/MP_line_01"]

    sequence = assets[f"{folder}/LS_line_01"]
    display = next(c for c in unreal.calls if c.name == "set_display_rate").args[0]
    assert (display.numerator, display.denominator) == (24, 1)
    assert next(c for c in unreal.calls if c.name == "set_playback_end").args == (take.frame_count,)
    bindings = {b._props["_name"]: b for b in sequence._props["_bindings"]}
    assert set(bindings) == {"FaceCue Head", "FaceCue Eye Left", "FaceCue Eye Right"}
    for binding in bindings.values():          # a class with a movable root, spawned for the whole take
        assert binding._props["_class"] == "TargetPoint"
        spawn = next(t for t in binding._props["_tracks"] if t.unreal_class == "MovieSceneSpawnTrack")
        section = spawn._props["_sections"][0]
        assert section._props["_range"] == (0, take.frame_count)
        (spawned,) = section._props["_channels"]
        assert spawned.unreal_class == "MovieSceneScriptingBoolChannel"
        assert spawned._props["_default"] is True and spawned._props["_keys"] == [(0, True)]
    transform_track = next(t for t in bindings["FaceCue Head"]._props["_tracks"]
                           if t.unreal_class == "MovieScene3DTransformTrack")
    head_section = transform_track._props["_sections"][0]
    assert head_section._props["_range"] == (0, take.frame_count)
    location, rotators = axes.head_transforms(take.pose)
    wanted = np.concatenate([location, rotators], 1)
    for index, channel in enumerate(head_section._props["_channels"][:6]):
        frames, values = _keys(channel)
        assert frames[0] == 0 and frames[-1] == take.frame_count - 1 and np.all(np.diff(frames) > 0)
        rebuilt = np.interp(np.arange(take.frame_count), frames, values)     # Sequencer's linear keys
        tolerance = 0.005 if index < 3 else 0.01
        assert np.abs(rebuilt - wanted[:, index]).max() <= tolerance + 1e-9
    assert all(not c._props["_keys"] for c in head_section._props["_channels"][6:])   # scale untouched

    tracks = {t.unreal_class: t for t in sequence._props["_tracks"]}
    audio = tracks["MovieSceneAudioTrack"]._props["_sections"][0]
    assert next(c for c in unreal.calls if c.name == "set_sound").args[0] is assets[f"{folder}/SW_line_01"]
    media = tracks["MovieSceneMediaTrack"]._props["_sections"][0]
    assert media._props["media_source"] is source and media._props["media_texture"] is texture
    assert audio._props["_range"] == media._props["_range"] == (0, take.frame_count)

    anim = assets[f"{folder}/AS_line_01"]
    assert anim._props["_factory"]._props["target_skeleton"] is unreal.assets[SKELETON]
    curves = anim._props["_curves"]
    assert len(curves) == 52 and "JawOpen" in curves and "EyeBlinkLeft" in curves
    times, values = curves["JawOpen"]
    assert np.allclose(times, np.arange(take.frame_count) / 24)
    assert np.array_equal(np.float32(values), take.blendshapes[:, take.manifest["blendshape_names"].index("jawOpen")])
    assert next(c for c in unreal.calls if c.name == "save_directory").args == (folder,)


def test_reimport_replaces_the_takes_folder(unreal, take_dir):
    _with_skeleton(unreal)
    _import(unreal, take_dir)
    before = sorted(unreal.assets)
    _import(unreal, take_dir)
    assert sorted(unreal.assets) == before
    assert [c.args for c in unreal.calls if c.name == "delete_directory"] == [("/Game/FaceCue/line_01",)]


def _transform(unreal, quat, translation):
    transform = unreal.Transform()
    transform.rotation = unreal.Quat(*quat)
    transform.translation = unreal.Vector(*translation)
    return transform


def test_bone_tracks_are_keyed_local_to_the_reference_pose(unreal, take_dir):
    """A MetaHuman-like head bone (its parent tilted, itself offset along the neck): every key
    keeps the bone's reference translation, and its rotation — carried back to component
    space through the parent's reference rotation — is the reference rotation turned by the
    take's head motion from the photo's pose (eyes: by their gaze). Camera-space locations or
    world rotators as bone keys would fling the head away and turn it backwards."""
    from facecue_unreal.core import bones
    from facecue.geometry import euler_to_matrix
    take = take_io.load(take_dir)
    skeleton = _with_skeleton(unreal)
    rng = np.random.default_rng(3)
    reference = {}
    for bone, offset in (("head", (0.0, 9.5, 0.4)), ("FACIAL_L_Eye", (3.1, 8.0, 6.6)), ("FACIAL_R_Eye", (-3.1, 8.0, 6.6))):
        local, world = (q / np.linalg.norm(q) for q in rng.normal(size=(2, 4)))
        reference[bone] = {"LOCAL": _transform(unreal, local, offset), "WORLD": _transform(unreal, world, (0, 0, 160))}
    skeleton._props["_reference"] = reference
    _import(unreal, take_dir, bone_tracks=True)
    tracks = {c.args[0]: c.args[1:] for c in unreal.calls if c.name == "set_bone_track_keys"}
    assert list(tracks) == ["head", "FACIAL_L_Eye", "FACIAL_R_Eye"]

    character = np.array([[1.0, 0, 0], [0, 0, 1], [0, 1, 0]])          # take → a character facing +Y, z up
    photo = euler_to_matrix(np.asarray(take.manifest["reference"]["pose"], np.float64)[None, :3])[0]
    gaze = np.concatenate([take.gaze_angles, np.zeros((take.frame_count, 2, 1))], -1)
    wanted = {"head": character @ euler_to_matrix(take.pose[:, :3].astype(np.float64)) @ photo.T @ character.T,
              "FACIAL_L_Eye": character @ euler_to_matrix(gaze[:, 0]) @ character.T,
              "FACIAL_R_Eye": character @ euler_to_matrix(gaze[:, 1]) @ character.T}
    for bone, (positions, rotations, scales) in tracks.items():
        assert len(positions) == len(rotations) == len(scales) == take.frame_count
        offset = reference[bone]["LOCAL"].translation
        assert all((p.x, p.y, p.z) == (offset.x, offset.y, offset.z) for p in positions)
        local_ref = bones.quat_to_matrix([reference[bone]["LOCAL"].rotation._props[k] for k in "xyzw"])
        world_ref = bones.quat_to_matrix([reference[bone]["WORLD"].rotation._props[k] for k in "xyzw"])
        parent = world_ref @ local_ref.T
        keys = bones.quat_to_matrix(np.array([[q._props[k] for k in "xyzw"] for q in rotations]))
        turned = parent @ keys @ world_ref.T                              # each key back in component space
        assert np.allclose(turned, wanted[bone], atol=1e-9), bone


def test_a_missing_bone_is_named(unreal, take_dir):
    from facecue_unreal.host.importer import ImportFailed
    _with_skeleton(unreal)._props["_reference"] = {"head": {}}
    with pytest.raises(ImportFailed, match="the skeleton has no bone 'FACIAL_L_Eye'"):
        _import(unreal, take_dir, bone_tracks=True)


def test_errors_are_clear(unreal, take_dir, tmp_path):
    from facecue_unreal.host.importer import ImportFailed, import_take
    with pytest.raises(ImportFailed, match="skeleton '/Game/Missing' is not in this project"):
        import_take(take_dir, ImportOptions(skeleton="/Game/Missing"))
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(ImportFailed, match="is not valid JSON"):
        import_take(tmp_path, ImportOptions(anim=False))
    with pytest.raises(ImportFailed, match="must be a content folder"):
        import_take(take_dir, ImportOptions(destination="C:/Assets", anim=False))


def test_menu_settings_and_background_generation(unreal, server, inputs, monkeypatch, tmp_path):
    import init_unreal  # noqa: F401  (registers Tools → FaceCue, as the editor does at start-up)
    from facecue_unreal.host import menu, settings as settings_module
    entry = next(c for c in unreal.calls if c.name == "init_entry")
    assert entry.args[1:3] == ("LevelEditor.MainMenu.Tools", "FaceCue")
    assert any(c.name == "add_menu_entry_object" for c in unreal.calls)

    monkeypatch.setattr(menu, "takes_folder", lambda: tmp_path / "takes")
    settings = settings_module.new_settings()
    settings.server, settings.audio, settings.photo = server, str(inputs["audio"]), str(inputs["photo"])
    settings.render_frames, settings.import_anim = False, False
    assert settings.backend == "procedural"
    job = menu.run(settings)
    assert job is not None and any(c.name == "show_object_details_view" for c in unreal.calls)
    job._finished.wait(120)
    unreal.tick_callbacks[-1](0.1)                            # the editor's next Slate tick
    assert any("imported" in message for level, message in unreal.logs if level == "info"), unreal.logs
    assert "/Game/FaceCue/line_neutral/LS_line_neutral" in unreal.assets
    assert any(c.name == "enter_progress_frame" for c in unreal.calls)

    settings.server = "127.0.0.1:1"
    job = menu.run(settings)
    job._finished.wait(60)
    unreal.tick_callbacks[-1](0.1)
    assert any(level == "error" and "server not reachable" in message for level, message in unreal.logs)


def test_headless_manifest_imports_what_it_can_and_fails_loudly(unreal, server, inputs, take_dir, tmp_path):
    from facecue_unreal.host.headless import run
    blank = tmp_path / "blank.png"
    blank.write_bytes((inputs["root"] / "face.jpg").read_bytes()[:200])          # not a readable photo
    jobs = {"server": server, "destination": "/Game/Shots", "takes_dir": str(tmp_path / "takes"), "takes": [
        {"name": "existing", "take": str(take_dir)},
        {"name": "fresh", "audio": str(inputs["audio"]), "photo": str(inputs["photo"]), "emotion": "sad",
         "render": False, "backend": "neural"},
        {"name": "broken", "audio": str(inputs["audio"]), "photo": str(blank)}]}
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(jobs))
    assert run(str(path)) == 1
    assert "/Game/Shots/existing/LS_existing" in unreal.assets and "/Game/Shots/fresh/LS_fresh" in unreal.assets
    errors = [m for level, m in unreal.logs if level == "error"]
    assert len(errors) == 1 and "take 'broken' failed: server refused" in errors[0]
    assert any("2 of 3 takes imported" in m for _, m in unreal.logs)
    fresh = json.loads((tmp_path / "takes" / "fresh" / "manifest.json").read_text())
    assert fresh["model"]["backend"] == "neural"                                   # the cue model asked for
    path.write_text(json.dumps({"takes": []}))
    assert run(str(path)) == 2


def test_dialog_bone_settings_reach_the_import(unreal):
    from facecue_unreal.host import settings as settings_module
    settings = settings_module.new_settings()
    settings.skeleton, settings.bone_tracks = SKELETON, True
    options = settings_module.import_options(settings)
    assert (options.head_bone, options.eye_bones) == ("head", ("FACIAL_L_Eye", "FACIAL_R_Eye"))
    settings.eye_bones = ""                                   # a body skeleton: the head only
    assert settings_module.import_options(settings).eye_bones == ()
    settings.eye_bones = "eye_l"
    with pytest.raises(ValueError, match="a left and a right bone"):
        settings_module.import_options(settings).check()
