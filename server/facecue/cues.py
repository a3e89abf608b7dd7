"""The cue model's output and its contract, shared by every backend."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .audio import AudioFeatures
from .config import Controls
from .phonemes import PhoneSegments
from .reference import Reference


@dataclass(frozen=True)
class CueInputs:
    reference: Reference
    features: AudioFeatures
    phones: PhoneSegments | None
    emotion: str                 # one of EMOTIONS, or "auto"
    intensity: float
    seed: int
    controls: Controls = Controls()


@dataclass(frozen=True)
class CueTrack:
    """Cues at ``fps`` before relocation: head-local landmarks without gaze applied."""

    fps: float
    local: np.ndarray            # (F, 478, 3) float32 cm, irises at rest
    pose: np.ndarray             # (F, 6) float32
    gaze_angles: np.ndarray      # (F, 2, 2) float32, per eye (left, right) yaw/pitch degrees
    gaze_labels: np.ndarray      # (F, 2) int16
    blendshapes: np.ndarray      # (F, 52) float32 in [0, 1]
    emotion_probs: np.ndarray    # (F, 8) float32
    notes: list[str] = field(default_factory=list)
    emotion: str = ""            # the emotion shown ("auto" resolved)

    def __len__(self) -> int:
        return len(self.pose)


class CueBackend(Protocol):
    name: str
    version: str
    native_fps: float
    uses_phones: bool            # whether CueInputs.phones must be filled (phone recognition is not free)

    def generate(self, inputs: CueInputs) -> CueTrack: ...
