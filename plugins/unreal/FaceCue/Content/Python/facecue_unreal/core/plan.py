"""What an import creates, where, and with which arrays — decided without Unreal."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import axes, bones, curves

ROTATION_TOLERANCE_DEG = 0.01
LOCATION_TOLERANCE_CM = 0.005


@dataclass(frozen=True)
class ImportOptions:
    destination: str = "/Game/FaceCue"       # content folder; each take gets a sub-folder
    sound: bool = True
    frames: bool = True                     # ImgMediaSource + MediaTexture + material
    sequence: bool = True                   # Level Sequence: head/eye transforms, audio, media
    anim: bool = True                       # AnimSequence with the ARKit curves
    skeleton: str = ""                      # e.g. a MetaHuman face skeleton (needed for anim)
    bone_tracks: bool = False               # head and eye bone tracks in the AnimSequence
    head_bone: str = "head"
    eye_bones: tuple[str, ...] = ("FACIAL_L_Eye", "FACIAL_R_Eye")     # left, right; () for none

    def check(self) -> None:
        if not self.destination.startswith("/Game"):
            raise ValueError(f"destination '{self.destination}' must be a content folder under /Game")
        if len(self.eye_bones) not in (0, 2):
            raise ValueError(f"eye bones are a left and a right bone, or none (got {len(self.eye_bones)})")
        if self.anim and not self.skeleton:
            raise ValueError("an AnimSequence needs a skeleton: set one, or turn the AnimSequence off")


@dataclass
class TransformKeys:
    """One actor's transform as sparse keys per channel (Sequencer's 9 channel order:
    location x, y, z, rotation roll, pitch, yaw; scale stays 1)."""
    frames: list[np.ndarray]                # per channel: frame numbers kept
    values: list[np.ndarray]                # per channel: values at those frames

    @property
    def key_count(self) -> int:
        return sum(len(f) for f in self.frames)


@dataclass
class TakePlan:
    name: str
    folder: str
    fps: float
    rate: tuple[int, int]
    frames: int
    audio_path: Path
    first_frame: Path | None                # ImgMediaSource takes a file and keeps its folder
    head: TransformKeys
    eyes: list[TransformKeys]               # left, right
    curve_names: list[str]                  # MetaHuman ARKit curves
    curve_times: np.ndarray                 # (F,) seconds
    curve_values: np.ndarray                # (F, 52)
    head_turns: np.ndarray                  # (F, 3, 3) for bone tracks: the head's turn from the photo's pose
    eye_turns: np.ndarray                   # (F, 2, 3, 3) each eye's gaze in the head (see bones)
    warnings: list[str] = field(default_factory=list)

    def asset(self, prefix: str) -> str:
        return f"{prefix}_{self.name}"


def asset_name(text: str) -> str:
    """A take directory's name as an Unreal asset name (letters, digits, underscores)."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_") or "Take"
    return cleaned if not cleaned[0].isdigit() else f"T_{cleaned}"


def _sparse(locations: np.ndarray, rotators: np.ndarray) -> TransformKeys:
    frames, values = [], []
    for channel, tolerance in [(locations[:, i], LOCATION_TOLERANCE_CM) for i in range(3)] + \
                              [(rotators[:, i], ROTATION_TOLERANCE_DEG) for i in range(3)]:
        kept = curves.reduce_keys(channel, tolerance)
        frames.append(kept)
        values.append(channel[kept])
    return TransformKeys(frames, values)


def plan_take(take, take_dir: str | Path, options: ImportOptions, name: str | None = None) -> TakePlan:
    """``take``: a loaded ``facecue.take.Take``."""
    options.check()
    take_dir = Path(take_dir).resolve()
    m = take.manifest
    fps = float(m["fps"])
    rate = Fraction(fps).limit_denominator(1001)
    name = asset_name(name or take_dir.name)
    head_loc, head_rot = axes.head_transforms(take.pose)
    centres = axes.eye_centres(take.landmarks_local, take.gaze_angles)
    eye_loc, eye_rot = axes.eye_transforms(take.pose, take.gaze_angles, centres)
    pattern = m["files"].get("frames")
    warnings = []
    if options.frames and not pattern:
        warnings.append("the take has no rendered frames; no texture sequence was made")
    return TakePlan(
        name=name, folder=f"{options.destination.rstrip('/')}/{name}", fps=fps,
        rate=(rate.numerator, rate.denominator), frames=take.frame_count,
        audio_path=take_dir / m["files"]["audio"],
        first_frame=take_dir / (pattern % 0) if pattern else None,
        head=_sparse(head_loc, head_rot), eyes=[_sparse(eye_loc[:, k], eye_rot[:, k]) for k in range(2)],
        curve_names=[curves.metahuman_name(n) for n in m["blendshape_names"]],
        curve_times=curves.key_times(take.frame_count, fps), curve_values=np.asarray(take.blendshapes, np.float64),
        head_turns=bones.head_turns(take.pose, m["reference"]["pose"]), eye_turns=bones.eye_turns(take.gaze_angles),
        warnings=warnings)
