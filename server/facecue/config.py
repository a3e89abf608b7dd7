"""Typed configuration: what a take asks for, and the limits a deployment enforces."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput
from .names import EMOTIONS

MAX_FPS = 240.0


@dataclass(frozen=True)
class TakeRequest:
    audio: str | Path | bytes
    image: str | Path | bytes
    emotion: str = "neutral"
    intensity: float = 1.0
    fps: float = 30.0
    seed: int = 0
    transcript: str | None = None
    backend: str = "procedural"
    audio_name: str | None = None      # labels for messages when inputs are bytes
    image_name: str | None = None

    def check(self) -> None:
        """Reject bad parameters before any expensive work."""
        if self.emotion not in EMOTIONS:
            raise InvalidInput(f"unknown emotion '{self.emotion}'; choose one of {', '.join(EMOTIONS)}")
        if not (0.0 <= self.intensity <= 1.0):
            raise InvalidInput(f"intensity {self.intensity:g} is outside [0, 1]")
        if not (self.fps > 0):
            raise InvalidInput(f"fps must be positive, got {self.fps:g}")
        if self.fps > MAX_FPS:
            raise InvalidInput(f"fps {self.fps:g} is above the supported {MAX_FPS:g}")
        if not (0 <= self.seed < 2**63):
            raise InvalidInput(f"seed {self.seed} is outside [0, 2^63)")


@dataclass(frozen=True)
class Limits:
    max_audio_s: float = 600.0
