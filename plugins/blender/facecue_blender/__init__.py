"""FaceCue for Blender: generate talking-face takes on a FaceCue server and import them as
keyframes, shape keys, a point-cached face mesh, image-sequence textures and sound.

Headless (render farms)::

    blender -b scene.blend --python-expr "import facecue_blender; facecue_blender.batch(...)"

or ``blender -b scene.blend --python plugins/blender/scripts/facecue_batch.py -- --help``.
"""
from __future__ import annotations

from pathlib import Path

_CLASSES = ()


def register() -> None:
    import bpy

    from .blender import operators, panel, preferences, properties
    global _CLASSES
    _CLASSES = (preferences.FaceCuePreferences, properties.FaceCueSettings, operators.FACECUE_OT_generate,
                operators.FACECUE_OT_cancel, operators.FACECUE_OT_import_take, panel.FACECUE_PT_panel)
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.facecue = bpy.props.PointerProperty(type=properties.FaceCueSettings)


def unregister() -> None:
    import bpy
    del bpy.types.Scene.facecue
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)


def batch(audio: str, photo: str, *, server: str = "localhost:50051", emotion: str = "neutral",
          intensity: float = 1.0, takes_dir: str | None = None, render: bool = True, size: str = "512",
          transcript: str = "", token: str = "", save: str | None = None, options=None, scene=None,
          lip_scale: float = 1.0, head_scale: float = 1.0, gaze: bool = True, backend: str = "procedural"):
    """Generate a take synchronously, import it into ``scene`` and optionally save the .blend.

    Returns the import report; raises with a readable message on any failure.
    """
    import bpy

    from .blender.generation import GenerateRequest, generate
    from .blender.importer import import_take, scene_fps
    from .core.plan import ImportOptions
    scene = scene or bpy.context.scene
    base = Path(takes_dir) if takes_dir else Path(bpy.path.abspath("//facecue_takes") if bpy.data.filepath
                                                   else Path.cwd() / "facecue_takes")
    request = GenerateRequest(server=server, audio=Path(audio), photo=Path(photo), emotion=emotion,
                              intensity=intensity, fps=scene_fps(scene), transcript=transcript, render=render,
                              size=size, token=token, out=base / f"{Path(audio).stem}_{emotion}",
                              lip_scale=lip_scale, head_scale=head_scale, gaze=gaze, backend=backend)
    take_dir = generate(request)
    report = import_take(take_dir, options or ImportOptions(start_frame=scene.frame_start), scene)
    if save:
        bpy.ops.wm.save_as_mainfile(filepath=str(Path(save).resolve()))
    return report
