"""What an import puts into a scene, computed from a take without Blender.

``plan_import(take, fps, start_frame)`` returns every array the Blender layer keys or writes,
already in Blender axes, units and scene frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import axes, camera_view, timing


@dataclass(frozen=True)
class ImportOptions:
    head: bool = True                   # head empty (or bone) with location/rotation keys
    eyes: bool = True                   # eye empties with rotation keys
    face_mesh: bool = True              # 478-point mesh driven by a PC2 cache
    shape_keys: bool = True             # ARKit keys onto ``target_mesh``
    emotions: bool = True               # emotion probabilities as custom-property curves
    frames_plane: bool = True           # rendered frames as an image-sequence texture on a plane
    frames_strip: bool = False          # … and/or as a sequencer image strip
    sound: bool = True                  # the take's audio as a sequencer sound strip
    set_up_scene: bool = True           # camera active at the photo's size, frame range and rate, F12 renders 3D
    target_mesh: str = ""               # object whose ARKit shape keys are keyed
    head_armature: str = ""             # key this armature's bone instead of a head empty
    head_bone: str = ""
    start_frame: int = 1


@dataclass
class ImportPlan:
    name: str
    frames: int                         # scene frames keyed
    start_frame: int
    fps: float
    head_location: np.ndarray           # (frames, 3) metres
    head_rotation: np.ndarray           # (frames, 3) XYZ Euler radians
    eye_rotation: np.ndarray            # (frames, 2, 3) left, right
    eye_centres: np.ndarray             # (2, 3) metres, head-local
    face_rest: np.ndarray               # (478, 3) metres, head-local, first frame
    face_cache: np.ndarray              # (frames, 478, 3) metres, head-local
    triangles: np.ndarray               # (T, 3) int
    blendshapes: np.ndarray             # (frames, 52)
    blendshape_names: list[str]
    emotions: np.ndarray                # (frames, 8)
    emotion_names: list[str]
    camera_focal_mm: float              # the view's focal length (see camera_view.view_focal_px)
    focal_px: float
    image_size: tuple[int, int]
    photo_path: Path | None             # the take's photo, if it keeps one
    face_uv: np.ndarray                 # (478, 2) where each face vertex lies on the photo
    backdrop_depth: float               # metres in front of the camera: the photo backdrop
    frames_rect: tuple[float, float, float, float] | None     # photo px the rendered frames show
    frames_pattern: str | None          # absolute printf pattern of rendered frames, if any
    frame_size: tuple[int, int] | None
    take_frames: int
    shown_frames: np.ndarray                # (frames,) the rendered take frame shown at each scene frame
    audio_path: Path
    warnings: list[str] = field(default_factory=list)

    def scene_frames(self) -> np.ndarray:
        return self.start_frame + np.arange(self.frames)

    @property
    def frames_retimed(self) -> bool:
        """The scene does not show the take frame by frame, one per scene frame (another rate)."""
        return self.frames != self.take_frames or bool((self.shown_frames != np.arange(self.frames)).any())


def plan_import(take, take_dir: str | Path, fps: float, start_frame: int = 1) -> ImportPlan:
    """``take``: a loaded ``facecue.take.Take``; ``fps``: the scene's frame rate."""
    from facecue import topology
    m = take.manifest
    take_fps, duration = float(m["fps"]), float(m["duration_s"])
    frames = timing.scene_frame_count(duration, take.frame_count, take_fps, fps)

    def on_scene(values):
        return timing.resample(values, take_fps, fps, frames)

    location, rotation = axes.head_transform(take.pose)
    render = m.get("render") or {}
    framing = render.get("framing") or {}
    pattern, photo = m["files"].get("frames"), m["files"].get("photo")
    image_size = (m["image"]["width"], m["image"]["height"])
    focal_px = camera_view.view_focal_px(m["reference"]["focal_px"], take.pose[0], take.landmarks_local[0])
    warnings = []
    if not timing.same_rate(take_fps, fps):
        warnings.append(f"take is {take_fps:g} fps and the scene {fps:g} fps: curves resampled to the scene")
    return ImportPlan(
        name=Path(take_dir).name, frames=frames, start_frame=int(start_frame), fps=fps,
        head_location=on_scene(location), head_rotation=on_scene(rotation),
        eye_rotation=on_scene(axes.eye_euler(take.gaze_angles)),
        eye_centres=axes.eye_centres(take.landmarks_local, take.gaze_angles),
        face_rest=axes.points(take.landmarks_local[0]), face_cache=on_scene(axes.points(take.landmarks_local)),
        triangles=topology.triangles().astype(np.int64),
        blendshapes=on_scene(take.blendshapes), blendshape_names=list(m["blendshape_names"]),
        emotions=on_scene(take.emotion_probs), emotion_names=list(m["emotion_names"]),
        camera_focal_mm=axes.camera_focal_mm(focal_px, *image_size), focal_px=focal_px, image_size=image_size,
        photo_path=Path(take_dir).resolve() / photo if photo else None,
        face_uv=camera_view.texture_coords(take.landmarks_image[0], image_size),
        backdrop_depth=camera_view.backdrop_depth(location[:, 1]),
        frames_rect=camera_view.frames_rectangle(framing) if framing else None,
        frames_pattern=str(Path(take_dir).resolve() / pattern) if pattern else None,
        frame_size=(framing["width"], framing["height"]) if framing else None,
        take_frames=take.frame_count, shown_frames=timing.shown_take_frames(take.frame_count, take_fps, fps, frames),
        audio_path=Path(take_dir).resolve() / m["files"]["audio"],
        warnings=warnings)
