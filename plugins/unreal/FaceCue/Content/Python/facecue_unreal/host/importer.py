"""A take into the project: SoundWave, texture sequence (ImgMediaSource → MediaTexture →
material), Level Sequence (head and eye transforms, audio, media) and a MetaHuman-ready
AnimSequence (52 ARKit curves, optional head/eye bone tracks). Re-importing a take replaces
its folder."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import unreal

from ..core import bones
from ..core.plan import ImportOptions, TakePlan, TransformKeys, plan_take

Progress = Callable[[str], None]


class ImportFailed(Exception):
    """A take that cannot be imported, with a message for the user."""


@dataclass
class ImportResult:
    folder: str
    assets: dict[str, str] = field(default_factory=dict)     # kind → asset path
    warnings: list[str] = field(default_factory=list)


def import_take(take_dir: str | Path, options: ImportOptions, name: str | None = None,
                progress: Progress | None = None) -> ImportResult:
    from facecue import take as take_io
    from facecue.errors import FaceCueError
    step = progress or (lambda label: None)
    try:
        options.check()
        take = take_io.load(take_dir)
    except (FaceCueError, ValueError) as err:
        raise ImportFailed(str(err)) from None
    plan = plan_take(take, take_dir, options, name)
    result = ImportResult(folder=plan.folder, warnings=list(plan.warnings))
    library, tools = unreal.EditorAssetLibrary, unreal.AssetToolsHelpers.get_asset_tools()
    if library.does_directory_exist(plan.folder):
        library.delete_directory(plan.folder)
    sound = media = None
    if options.sound or options.sequence:
        step("sound")
        sound = _sound(plan, result)
    if options.frames and plan.first_frame is not None:
        step("texture sequence")
        media = _media(plan, tools, result)
    if options.sequence:
        step("level sequence")
        _sequence(plan, tools, sound, media, result)
    if options.anim:
        step("animation")
        _anim(plan, tools, options, result)
    library.save_directory(plan.folder)
    return result


def _frame_rate(plan: TakePlan):
    return unreal.FrameRate(plan.rate[0], plan.rate[1])


def _sound(plan: TakePlan, result: ImportResult):
    task = unreal.AssetImportTask()
    task.filename, task.destination_path, task.destination_name = str(plan.audio_path), plan.folder, plan.asset("SW")
    task.automated, task.replace_existing, task.save = True, True, True
    unreal.AssetToolsHelpers.get_asset_tools().import_asset_tasks([task])
    path = f"{plan.folder}/{plan.asset('SW')}"
    result.assets["sound"] = path
    return unreal.EditorAssetLibrary.load_asset(path)


@dataclass
class _Media:
    source: object
    texture: object


def _media(plan: TakePlan, tools, result: ImportResult) -> _Media:
    source = tools.create_asset(plan.asset("IMS"), plan.folder, unreal.ImgMediaSource, unreal.ImgMediaSourceFactoryNew())
    # The engine keeps the folder of the path it is given (FPaths::GetPath), so it gets a frame's path.
    source.set_sequence_path(str(plan.first_frame))
    source.set_editor_property("frame_rate_override", _frame_rate(plan))
    player = tools.create_asset(plan.asset("MP"), plan.folder, unreal.MediaPlayer, unreal.MediaPlayerFactoryNew())
    texture = tools.create_asset(plan.asset("MT"), plan.folder, unreal.MediaTexture, unreal.MediaTextureFactoryNew())
    texture.set_editor_property("media_player", player)
    material = tools.create_asset(plan.asset("M"), plan.folder, unreal.Material, unreal.MaterialFactoryNew())
    material.set_editor_property("shading_model", unreal.MaterialShadingModel.MSM_UNLIT)
    editing = unreal.MaterialEditingLibrary
    sample = editing.create_material_expression(material, unreal.MaterialExpressionTextureSample, -300, 0)
    sample.set_editor_property("texture", texture)
    editing.connect_material_property(sample, "RGB", unreal.MaterialProperty.MP_EMISSIVE_COLOR)
    editing.recompile_material(material)
    for kind, prefix in (("media_source", "IMS"), ("media_player", "MP"), ("media_texture", "MT"), ("material", "M")):
        result.assets[kind] = f"{plan.folder}/{plan.asset(prefix)}"
    return _Media(source, texture)


def _sequence(plan: TakePlan, tools, sound, media: _Media | None, result: ImportResult) -> None:
    sequence = tools.create_asset(plan.asset("LS"), plan.folder, unreal.LevelSequence, unreal.LevelSequenceFactoryNew())
    rate = _frame_rate(plan)
    sequence.set_display_rate(rate)
    sequence.set_tick_resolution(rate)                  # keys sit on whole take frames
    sequence.set_playback_start(0)
    sequence.set_playback_end(plan.frames)
    for label, keys in (("Head", plan.head), ("Eye Left", plan.eyes[0]), ("Eye Right", plan.eyes[1])):
        binding = _spawnable(sequence, f"FaceCue {label}", plan.frames)
        _transform_track(binding, keys, plan.frames)
    if sound is not None:
        section = sequence.add_track(unreal.MovieSceneAudioTrack).add_section()
        section.set_sound(sound)
        section.set_range(0, plan.frames)
    if media is not None:
        section = sequence.add_track(unreal.MovieSceneMediaTrack).add_section()
        section.set_editor_property("media_source", media.source)
        section.set_editor_property("media_texture", media.texture)
        section.set_range(0, plan.frames)
    result.assets["sequence"] = f"{plan.folder}/{plan.asset('LS')}"


def _spawnable(sequence, label: str, frames: int):
    """A marker the sequence spawns for its whole length. A TargetPoint has a movable root
    (a plain Actor template has none, so its transform track would move nothing) and shows
    its +X as an arrow in the editor. Sequencer's own UI adds a spawn track; the scripting
    call does not, and a spawnable without one is never spawned."""
    binding = sequence.add_spawnable_from_class(unreal.TargetPoint)
    binding.set_display_name(label)
    section = binding.add_track(unreal.MovieSceneSpawnTrack).add_section()
    section.set_range(0, frames)
    spawned = section.get_all_channels()[0]
    spawned.set_default(True)
    spawned.add_key(unreal.FrameNumber(0), True)
    return binding


def _transform_track(binding, keys: TransformKeys, frames: int) -> None:
    """Location x, y, z and rotation roll, pitch, yaw keyed (thinned keys: Sequencer's
    channels take one key per call); scale is left at its default."""
    section = binding.add_track(unreal.MovieScene3DTransformTrack).add_section()
    section.set_range(0, frames)
    linear = unreal.MovieSceneKeyInterpolation.LINEAR
    for channel, kept, values in zip(section.get_all_channels()[:6], keys.frames, keys.values):
        for frame, value in zip(kept.tolist(), values.tolist()):
            channel.add_key(unreal.FrameNumber(frame), value, interpolation=linear)


def _anim(plan: TakePlan, tools, options: ImportOptions, result: ImportResult) -> None:
    skeleton = unreal.EditorAssetLibrary.load_asset(options.skeleton)
    if skeleton is None:
        raise ImportFailed(f"skeleton '{options.skeleton}' is not in this project")
    factory = unreal.AnimSequenceFactory()
    factory.set_editor_property("target_skeleton", skeleton)
    anim = tools.create_asset(plan.asset("AS"), plan.folder, unreal.AnimSequence, factory)
    controller = anim.get_editor_property("controller")
    controller.set_frame_rate(_frame_rate(plan))
    controller.set_number_of_frames(unreal.FrameNumber(max(1, plan.frames - 1)))
    times = plan.curve_times.tolist()
    library = unreal.AnimationLibrary
    for name, values in zip(plan.curve_names, plan.curve_values.T):      # one bulk call per curve
        library.add_curve(anim, name)
        library.add_float_curve_keys(anim, name, times, values.tolist())
    if options.bone_tracks:
        reference = unreal.AnimPoseExtensions.get_reference_pose(skeleton)
        _bone_track(controller, reference, options.head_bone, plan.head_turns)
        for bone, k in zip(options.eye_bones, range(2)):
            _bone_track(controller, reference, bone, plan.eye_turns[:, k])
    result.assets["anim"] = f"{plan.folder}/{plan.asset('AS')}"


def _bone_track(controller, reference, bone: str, turns) -> None:
    """Keys local to the bone's reference pose: its reference translation, its reference
    rotation turned by the take (see core.bones)."""
    poses = unreal.AnimPoseExtensions
    if bone not in {str(name) for name in poses.get_bone_names(reference)}:
        raise ImportFailed(f"the skeleton has no bone '{bone}' for the bone tracks")
    local = poses.get_ref_bone_pose(reference, bone, unreal.AnimPoseSpaces.LOCAL)
    component = poses.get_ref_bone_pose(reference, bone, unreal.AnimPoseSpaces.WORLD)
    quats = bones.local_rotations(turns, _quat(local.rotation), _quat(component.rotation))
    count = len(quats)
    translation = local.translation
    positions = [unreal.Vector(translation.x, translation.y, translation.z)] * count
    rotations = [unreal.Quat(*q) for q in quats.tolist()]
    scales = [unreal.Vector(1.0, 1.0, 1.0)] * count
    controller.add_bone_curve(bone)
    controller.set_bone_track_keys(bone, positions, rotations, scales)


def _quat(quat) -> tuple[float, float, float, float]:
    return quat.x, quat.y, quat.z, quat.w
