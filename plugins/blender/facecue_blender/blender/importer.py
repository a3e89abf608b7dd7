"""A take into the scene: head, eyes, face mesh + PC2, ARKit shape keys, emotion curves,
the rendered frames and the sound, seen through the photo's camera: the face mesh wears the
photo, the photo stands behind it, filling the view. Re-importing a take replaces what it
made before."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

from ..core import camera_view, names, pc2, timing
from ..core.plan import ImportOptions, ImportPlan, plan_import
from . import sequencer
from .action_support import Curves

TAKE_KEY = "facecue_take"           # custom property marking what an import made
KEY_LIGHT_STRENGTH = 3.5            # sun W/m²: a face square to it renders about as bright as the photo


class ImportFailed(Exception):
    """A take that cannot be imported, with a message for the user."""


@dataclass
class ImportReport:
    take: str
    frames: int
    objects: list[str] = field(default_factory=list)
    shape_keys: int = 0
    missing_shape_keys: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def import_take(take_dir: str | Path, options: ImportOptions | None = None,
                scene: bpy.types.Scene | None = None) -> ImportReport:
    from facecue import take as take_io
    from facecue.errors import FaceCueError
    options = options or ImportOptions()
    scene = scene or bpy.context.scene
    take_dir = Path(take_dir).resolve()
    try:
        take = take_io.load(take_dir)
    except FaceCueError as err:
        raise ImportFailed(str(err)) from None
    if options.set_up_scene:                # the scene runs at the take's rate: keys land on its frames
        scene.render.fps, scene.render.fps_base = timing.scene_rate(take.fps)
    plan = plan_import(take, take_dir, scene_fps(scene), options.start_frame)
    key = str(take_dir)
    remove_import(key, scene)
    report = ImportReport(take=key, frames=plan.frames, warnings=list(plan.warnings))
    collection = bpy.data.collections.new(f"FaceCue {plan.name}")
    collection[TAKE_KEY] = key
    scene.collection.children.link(collection)

    def add(obj):
        obj[TAKE_KEY] = key
        collection.objects.link(obj)
        report.objects.append(obj.name)
        return obj

    head, head_curves = _head(plan, options, add)
    camera = add(_camera(plan)) if options.head or options.eyes or options.face_mesh else None
    photo = _photo(plan, key) if plan.photo_path else None
    if options.eyes and head is not None:
        _eyes(plan, head, add)
    if options.face_mesh:
        _face(plan, take_dir, head, photo, add)
        add(_key_light(plan))
    if photo is not None and camera is not None:
        add(_plane(f"FaceCue {plan.name} photo", camera_view.rectangle(
            0, 0, *plan.image_size, plan.image_size, plan.focal_px, plan.backdrop_depth), _shadeless(photo, key)))
    elif plan.photo_path is None and options.face_mesh:
        report.warnings.append("the take keeps no photo (made by an older FaceCue): the face mesh is untextured")
    if options.shape_keys and options.target_mesh:
        _shape_keys(plan, options.target_mesh, report)
    if options.emotions and head is not None:
        _emotions(plan, head, head_curves)
    if plan.frames_pattern and (options.frames_plane or options.frames_strip):
        if options.frames_plane:
            add(_frames_plane(plan))
        if options.frames_strip:
            _frames_strip(plan, take_dir, take.manifest, scene)
    elif options.frames_plane and not plan.frames_pattern:
        report.warnings.append("the take has no rendered frames")
    if options.sound:
        try:
            _sound(plan, scene)
        except RuntimeError as err:          # e.g. a Blender built without audio
            report.warnings.append(f"the sound strip could not be added: {err}")
    if options.set_up_scene:
        _set_up_scene(plan, scene, camera, frames_in_sequencer=bool(plan.frames_pattern and options.frames_strip))
    else:
        scene.frame_start = min(scene.frame_start, plan.start_frame)
        scene.frame_end = max(scene.frame_end, plan.start_frame + plan.frames - 1)
    return report


def _set_up_scene(plan: ImportPlan, scene, camera, *, frames_in_sequencer: bool) -> None:
    """Ready to look at: the photo's camera active at the photo's size, the take's frame range,
    display-referred colour (the photo and frames are sRGB images), and F12 rendering the 3D
    scene even when the frames are in the sequencer."""
    if camera is not None:
        scene.camera = camera
        scene.render.resolution_x, scene.render.resolution_y = plan.image_size
        scene.render.resolution_percentage = 100
        scene.view_settings.view_transform = "Standard"
    scene.frame_start, scene.frame_end = plan.start_frame, plan.start_frame + plan.frames - 1
    if frames_in_sequencer:
        scene.render.use_sequencer = False


def remove_import(key: str, scene: bpy.types.Scene) -> None:
    """Delete every object, action, image and strip a previous import of ``key`` made."""
    for obj in [o for o in bpy.data.objects if o.get(TAKE_KEY) == key]:
        data, animation = obj.data, obj.animation_data
        action = animation.action if animation else None
        bpy.data.objects.remove(obj)
        if data is not None and data.users == 0:
            _remove_data(data)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
    for collection in [c for c in bpy.data.collections if c.get(TAKE_KEY) == key]:
        bpy.data.collections.remove(collection)
    for image in [i for i in bpy.data.images if i.get(TAKE_KEY) == key]:
        bpy.data.images.remove(image)
    for material in [m for m in bpy.data.materials if m.get(TAKE_KEY) == key]:
        bpy.data.materials.remove(material)
    strips = sequencer.strips(scene) if scene.sequence_editor else None
    for strip in sequencer.all_strips(scene):
        if strip.get(TAKE_KEY) == key:
            strips.remove(strip)


def _remove_data(data) -> None:
    if isinstance(data, bpy.types.Mesh):
        bpy.data.meshes.remove(data)
    elif isinstance(data, bpy.types.Camera):
        bpy.data.cameras.remove(data)
    elif isinstance(data, bpy.types.Light):
        bpy.data.lights.remove(data)


def _empty(name: str, display: str, size: float):
    obj = bpy.data.objects.new(name, None)
    obj.empty_display_type, obj.empty_display_size = display, size
    return obj


def _head(plan: ImportPlan, options: ImportOptions, add):
    """The head empty, or the chosen armature's bone, keyed with the pose."""
    if options.head_armature:
        armature = bpy.data.objects.get(options.head_armature)
        if armature is None or armature.type != "ARMATURE" or options.head_bone not in armature.pose.bones:
            raise ImportFailed(f"armature '{options.head_armature}' has no bone '{options.head_bone}'")
        bone = armature.pose.bones[options.head_bone]
        bone.rotation_mode = "XYZ"
        path = f'pose.bones["{options.head_bone}"]'
        if options.head:
            curves = Curves(armature, f"FaceCue {plan.name} head")
            curves.key_vector(f"{path}.location", plan.head_location, plan.start_frame, "Head")
            curves.key_vector(f"{path}.rotation_euler", plan.head_rotation, plan.start_frame, "Head")
        return None, None
    if not (options.head or options.eyes or options.face_mesh or options.emotions):
        return None, None
    head = add(_empty(f"FaceCue {plan.name} head", "ARROWS", 0.1))
    head.rotation_mode = "XYZ"
    head.location, head.rotation_euler = plan.head_location[0], plan.head_rotation[0]
    curves = Curves(head, f"FaceCue {plan.name} head")
    if options.head:
        curves.key_vector("location", plan.head_location, plan.start_frame, "Head")
        curves.key_vector("rotation_euler", plan.head_rotation, plan.start_frame, "Head")
    return head, curves


def _camera(plan: ImportPlan):
    """The photo's camera: at the origin looking down +y, with the photo's focal length."""
    camera = bpy.data.cameras.new(f"FaceCue {plan.name} camera")
    camera.lens, camera.sensor_fit, camera.sensor_width = plan.camera_focal_mm, "AUTO", 36.0
    obj = bpy.data.objects.new(camera.name, camera)
    obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
    return obj


def _eyes(plan: ImportPlan, head, add) -> None:
    for k, side in enumerate(("left", "right")):
        eye = add(_empty(f"FaceCue {plan.name} eye {side}", "SINGLE_ARROW", 0.03))
        eye.parent, eye.location, eye.rotation_mode = head, plan.eye_centres[k], "XYZ"
        rotation = plan.eye_rotation[:, k].copy()
        rotation[:, 0] += math.pi / 2        # the empty's arrow (+z) looks down −y, out of the face, at rest
        eye.rotation_euler = rotation[0]
        Curves(eye, f"FaceCue {plan.name} eye {side}").key_vector("rotation_euler", rotation, plan.start_frame, "Gaze")


def _face(plan: ImportPlan, take_dir: Path, head, photo, add) -> None:
    mesh = bpy.data.meshes.new(f"FaceCue {plan.name} face")
    mesh.vertices.add(len(plan.face_rest))
    mesh.vertices.foreach_set("co", plan.face_rest.ravel())
    triangles = plan.triangles
    mesh.loops.add(triangles.size)
    mesh.loops.foreach_set("vertex_index", triangles.ravel().astype(np.int32))
    mesh.polygons.add(len(triangles))
    mesh.polygons.foreach_set("loop_start", np.arange(0, triangles.size, 3, dtype=np.int32))
    mesh.polygons.foreach_set("loop_total", np.full(len(triangles), 3, np.int32))
    mesh.update()
    mesh.validate()
    uv = mesh.uv_layers.new(name="Photo")           # camera-projected: the photo as the camera sees it
    uv.data.foreach_set("uv", plan.face_uv[triangles.ravel()].ravel())
    mesh.materials.append(_skin(photo, f"FaceCue {plan.name} face", key=str(take_dir)))
    face = add(bpy.data.objects.new(mesh.name, mesh))
    if head is not None:
        face.parent = head
    cache = take_dir / "blender" / f"face_{plan.fps:g}fps.pc2"
    cache.parent.mkdir(exist_ok=True)
    pc2.write(cache, plan.face_cache)
    modifier = face.modifiers.new("FaceCue cache", "MESH_CACHE")
    modifier.cache_format, modifier.filepath = "PC2", str(cache)
    modifier.time_mode, modifier.play_mode = "FRAME", "SCENE"
    modifier.frame_start, modifier.frame_scale = float(plan.start_frame), 1.0
    modifier.forward_axis, modifier.up_axis = "POS_Y", "POS_Z"      # the cache is in Blender axes already


def _shape_keys(plan: ImportPlan, target_name: str, report: ImportReport) -> None:
    target = bpy.data.objects.get(target_name)
    if target is None or target.type != "MESH":
        raise ImportFailed(f"'{target_name}' is not a mesh object in this file")
    keys = target.data.shape_keys
    if keys is None:
        raise ImportFailed(f"mesh '{target_name}' has no shape keys to animate")
    found, missing = names.match_shape_keys(plan.blendshape_names, [k.name for k in keys.key_blocks])
    curves = Curves(keys, f"FaceCue {plan.name} shape keys")
    for index, key_name in found.items():
        curves.key(f'key_blocks["{key_name}"].value', plan.blendshapes[:, index], plan.start_frame, group="ARKit")
    report.shape_keys, report.missing_shape_keys = len(found), missing
    if missing:
        report.warnings.append(f"'{target_name}' lacks {len(missing)} ARKit shape keys: {', '.join(missing)}")


def _emotions(plan: ImportPlan, head, curves: Curves) -> None:
    for index, emotion in enumerate(plan.emotion_names):
        prop = names.emotion_property(emotion)
        head[prop] = float(plan.emotions[0, index])
        head.id_properties_ui(prop).update(min=0.0, max=1.0, description=f"probability of '{emotion}'")
        curves.key(f'["{prop}"]', plan.emotions[:, index], plan.start_frame, group="Emotion")


def _frames_plane(plan: ImportPlan):
    """A plane showing the rendered frames as an image sequence (emission: shows as rendered),
    lying over the photo pixels they were rendered from, just in front of the photo backdrop."""
    first = plan.frames_pattern % 0
    image = bpy.data.images.load(first, check_existing=False)
    image.name, image.source = f"FaceCue {plan.name} frames", "SEQUENCE"
    image[TAKE_KEY] = str(Path(plan.audio_path).parent)
    material, nodes, links = _node_material(f"FaceCue {plan.name} frames", image[TAKE_KEY])
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    user = texture.image_user
    user.frame_duration, user.frame_start, user.frame_offset = plan.frames, plan.start_frame, -1
    user.use_auto_refresh, user.use_cyclic = True, False
    if plan.frames_retimed:     # each scene frame is offset to the take frame of its time
        offsets = plan.shown_frames - np.arange(plan.frames) - 1
        Curves(material.node_tree, f"FaceCue {plan.name} frames").key(
            f'nodes["{texture.name}"].image_user.frame_offset', offsets.astype(np.float32), plan.start_frame)
    _emit(nodes, links, texture)
    rect = plan.frames_rect or (0.0, 0.0, *plan.image_size)      # over the photo pixels they show
    corners = camera_view.rectangle(*rect, plan.image_size, plan.focal_px,
                                    plan.backdrop_depth * camera_view.FRAMES_IN_FRONT)
    return _plane(f"FaceCue {plan.name} frames", corners, material)


def _plane(name: str, corners: np.ndarray, material):
    """A quad through four (4, 3) corners, counter-clockwise from the bottom-left as seen by the
    camera, with UVs spanning the whole image."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(np.asarray(corners, np.float64).tolist(), [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", np.array([0, 0, 1, 0, 1, 1, 0, 1], np.float32))
    mesh.materials.append(material)
    return bpy.data.objects.new(name, mesh)


def _photo(plan: ImportPlan, key: str):
    image = bpy.data.images.load(str(plan.photo_path), check_existing=False)
    image.name, image[TAKE_KEY] = f"FaceCue {plan.name} photo", key
    return image


def _node_material(name: str, key: str):
    material = bpy.data.materials.new(name)
    material[TAKE_KEY] = key
    if bpy.app.version < (5, 0, 0):            # from 5.0 every material uses nodes
        material.use_nodes = True
    material.node_tree.nodes.clear()
    return material, material.node_tree.nodes, material.node_tree.links


def _emit(nodes, links, texture) -> None:
    """The texture shown as it is, unlit: a photo or frame keeps its own colours."""
    emission, output = nodes.new("ShaderNodeEmission"), nodes.new("ShaderNodeOutputMaterial")
    links.new(texture.outputs["Color"], emission.inputs["Color"])
    links.new(emission.outputs["Emission"], output.inputs["Surface"])


def _shadeless(image, key: str):
    material, nodes, links = _node_material(image.name, key)
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    _emit(nodes, links, texture)
    return material


def _skin(photo, name: str, key: str):
    """The face mesh's material: the photo on a diffuse surface, so the light shows its motion."""
    material, nodes, links = _node_material(name, key)
    surface, output = nodes.new("ShaderNodeBsdfPrincipled"), nodes.new("ShaderNodeOutputMaterial")
    surface.inputs["Roughness"].default_value = 0.7
    if photo is not None:
        texture = nodes.new("ShaderNodeTexImage")
        texture.image, texture.extension = photo, "EXTEND"
        links.new(texture.outputs["Color"], surface.inputs["Base Color"])
    links.new(surface.outputs[0], output.inputs["Surface"])
    return material


def _key_light(plan: ImportPlan):
    """Sunlight from just above the camera: a face turned to it shows the photo's own colours,
    and the shading moves as the face does."""
    from mathutils import Vector
    light = bpy.data.lights.new(f"FaceCue {plan.name} key light", "SUN")
    light.energy, light.angle = KEY_LIGHT_STRENGTH, math.radians(30.0)
    obj = bpy.data.objects.new(light.name, light)
    head = Vector(plan.head_location[0])
    obj.location = Vector((0.0, 0.0, 0.3)) * head.length
    obj.rotation_euler = (head - obj.location).to_track_quat("-Z", "Y").to_euler()
    return obj


def _frames_strip(plan: ImportPlan, take_dir: Path, manifest: dict, scene) -> None:
    """The frames in the sequencer: the take's mp4 when the scene runs at its rate, else its images."""
    strips = sequencer.strips(scene)
    channel = sequencer.free_channel(scene)
    name = f"FaceCue {plan.name} frames"
    video = manifest["files"].get("video")
    if video and not plan.frames_retimed:
        strip = strips.new_movie(name, str(take_dir / video), channel, plan.start_frame)
    else:                   # an image per scene frame: at another rate a frame repeats or is skipped
        strip = strips.new_image(name, plan.frames_pattern % int(plan.shown_frames[0]), channel, plan.start_frame)
        for index in plan.shown_frames[1:]:             # the sequencer adds images one call at a time
            strip.elements.append(Path(plan.frames_pattern % int(index)).name)
    strip[TAKE_KEY] = str(take_dir)


def _sound(plan: ImportPlan, scene) -> None:
    strips = sequencer.strips(scene)
    strip = strips.new_sound(f"FaceCue {plan.name} sound", str(plan.audio_path), sequencer.free_channel(scene),
                             plan.start_frame)
    strip[TAKE_KEY] = str(plan.audio_path.parent)
