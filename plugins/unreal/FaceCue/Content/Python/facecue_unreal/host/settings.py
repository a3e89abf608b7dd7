"""The settings object the Tools → FaceCue dialog edits (the editor's details view)."""
from __future__ import annotations

import unreal

from ..core.plan import ImportOptions


@unreal.uclass()
class FaceCueSettings(unreal.Object):
    server = unreal.uproperty(str, meta={"Category": "Server"})
    token = unreal.uproperty(str, meta={"Category": "Server"})
    audio = unreal.uproperty(str, meta={"Category": "Take", "ToolTip": "Speech recording (wav, flac, mp3, …)"})
    photo = unreal.uproperty(str, meta={"Category": "Take", "ToolTip": "Reference face photo"})
    emotion = unreal.uproperty(str, meta={"Category": "Take"})
    intensity = unreal.uproperty(float, meta={"Category": "Take", "ClampMin": "0", "ClampMax": "1"})
    fps = unreal.uproperty(float, meta={"Category": "Take"})
    backend = unreal.uproperty(str, meta={"Category": "Take",
                                          "ToolTip": "Cue model: procedural (tightest lip sync) or neural (learned)"})
    render_frames = unreal.uproperty(bool, meta={"Category": "Take"})
    destination = unreal.uproperty(str, meta={"Category": "Import", "ToolTip": "Content folder, e.g. /Game/FaceCue"})
    import_sound = unreal.uproperty(bool, meta={"Category": "Import"})
    import_frames = unreal.uproperty(bool, meta={"Category": "Import"})
    import_sequence = unreal.uproperty(bool, meta={"Category": "Import"})
    import_anim = unreal.uproperty(bool, meta={"Category": "Import"})
    skeleton = unreal.uproperty(str, meta={"Category": "Import", "ToolTip": "Skeleton asset path for the AnimSequence"})
    bone_tracks = unreal.uproperty(bool, meta={"Category": "Import"})
    head_bone = unreal.uproperty(str, meta={"Category": "Import", "ToolTip": "Bone keyed with the head's turn"})
    eye_bones = unreal.uproperty(str, meta={"Category": "Import",
                                            "ToolTip": "Left and right eye bones, comma-separated; empty: none"})


DEFAULTS = {"server": "localhost:50051", "emotion": "neutral", "backend": "procedural", "intensity": 1.0, "fps": 30.0, "render_frames": True,
            "destination": "/Game/FaceCue", "import_sound": True, "import_frames": True, "import_sequence": True,
            "import_anim": True, "head_bone": "head", "eye_bones": "FACIAL_L_Eye, FACIAL_R_Eye"}


def new_settings() -> FaceCueSettings:
    settings = FaceCueSettings()
    for name, value in DEFAULTS.items():
        setattr(settings, name, value)
    return settings


def import_options(settings: FaceCueSettings) -> ImportOptions:
    return ImportOptions(destination=settings.destination or "/Game/FaceCue", sound=settings.import_sound,
                         frames=settings.import_frames, sequence=settings.import_sequence,
                         anim=settings.import_anim and bool(settings.skeleton), skeleton=settings.skeleton,
                         bone_tracks=settings.bone_tracks, head_bone=settings.head_bone or "head",
                         eye_bones=tuple(b.strip() for b in settings.eye_bones.split(",") if b.strip()))


def edit(settings: FaceCueSettings) -> bool:
    """Show the settings in the editor's details dialog; True when the user pressed OK."""
    return bool(unreal.EditorDialog.show_object_details_view("FaceCue", settings,
                                                             unreal.EditorDialogLibraryObjectDetailsViewOptions()))
