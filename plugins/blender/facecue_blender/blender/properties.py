"""Scene settings shown in the panel (the server address and token live in the preferences)."""
from __future__ import annotations

import bpy

from ..core.plan import ImportOptions

EMOTIONS = ("neutral", "angry", "contempt", "disgusted", "fear", "happy", "sad", "surprised")


def _is_mesh(self, obj) -> bool:
    return obj.type == "MESH"


def _is_armature(self, obj) -> bool:
    return obj.type == "ARMATURE"


class FaceCueSettings(bpy.types.PropertyGroup):
    audio: bpy.props.StringProperty(name="Audio", subtype="FILE_PATH", description="Speech recording")
    photo: bpy.props.StringProperty(name="Photo", subtype="FILE_PATH", description="Reference face photo")
    emotion: bpy.props.EnumProperty(name="Emotion", items=[(e, e.capitalize(), "") for e in EMOTIONS], default="neutral")
    intensity: bpy.props.FloatProperty(name="Intensity", default=1.0, min=0.0, max=1.0, subtype="FACTOR")
    transcript: bpy.props.StringProperty(name="Transcript", description="What is said (optional): sharper lip timing")
    lip_scale: bpy.props.FloatProperty(name="Lip motion", default=1.0, min=0.0, max=2.0,
                                       description="Speech mouth motion × this")
    head_scale: bpy.props.FloatProperty(name="Head motion", default=1.0, min=0.0, max=2.0,
                                        description="Head motion × this")
    backend: bpy.props.EnumProperty(
        name="Cue model", default="procedural",
        items=[("procedural", "Procedural", "Rules timed by the recognised phones: the tightest lip sync"),
               ("neural", "Neural", "The trained sequentializers: learned, emotion-specific head motion and gaze")])
    gaze: bpy.props.BoolProperty(name="Eyes wander", default=True, description="Off: eyes straight ahead")
    takes_dir: bpy.props.StringProperty(name="Takes", subtype="DIR_PATH", default="//facecue_takes/",
                                        description="Where generated takes are written")
    render_frames: bpy.props.BoolProperty(name="Render frames", default=True)
    frame_size: bpy.props.EnumProperty(name="Size", items=[("256", "256²", ""), ("512", "512²", ""),
                                                         ("crop", "Photo crop", "")], default="512")
    import_head: bpy.props.BoolProperty(name="Head", default=True)
    import_eyes: bpy.props.BoolProperty(name="Eyes", default=True)
    import_face_mesh: bpy.props.BoolProperty(name="Face mesh (PC2)", default=True)
    import_shape_keys: bpy.props.BoolProperty(name="ARKit shape keys", default=True)
    import_emotions: bpy.props.BoolProperty(name="Emotion curves", default=True)
    import_frames_plane: bpy.props.BoolProperty(name="Frames on a plane", default=True)
    import_frames_strip: bpy.props.BoolProperty(name="Frames in sequencer", default=False)
    import_sound: bpy.props.BoolProperty(name="Sound", default=True)
    import_set_up_scene: bpy.props.BoolProperty(
        name="Set up scene", default=True,
        description="Look through the photo's camera at the photo's size; frame range and rate set to the take")
    target_mesh: bpy.props.PointerProperty(name="Shape-key mesh", type=bpy.types.Object, poll=_is_mesh)
    head_armature: bpy.props.PointerProperty(name="Head armature", type=bpy.types.Object, poll=_is_armature)
    head_bone: bpy.props.StringProperty(name="Head bone")
    # state of a running generation, shown by the panel
    busy: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR", options={"SKIP_SAVE"})
    status: bpy.props.StringProperty(default="", options={"SKIP_SAVE"})

    def import_options(self, start_frame: int) -> ImportOptions:
        return ImportOptions(
            head=self.import_head, eyes=self.import_eyes, face_mesh=self.import_face_mesh,
            shape_keys=self.import_shape_keys, emotions=self.import_emotions,
            frames_plane=self.import_frames_plane, frames_strip=self.import_frames_strip, sound=self.import_sound,
            set_up_scene=self.import_set_up_scene,
            target_mesh=self.target_mesh.name if self.target_mesh else "",
            head_armature=self.head_armature.name if self.head_armature else "",
            head_bone=self.head_bone, start_frame=start_frame)
