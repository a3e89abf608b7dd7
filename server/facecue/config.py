"""Typed configuration: what a take asks for, and the limits a deployment enforces."""
from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput
from .names import AUTO_EMOTION, EMOTIONS
from .take import IMAGE_SUFFIXES

MAX_FPS = 240.0
MIN_FPS = 1.0
MAX_CURVE_KEYS = 100_000          # one key per frame of a 10 min take at 120 fps, with room to spare
MAX_TRANSCRIPT_CHARS = 50_000     # ten minutes of fast speech is about 15,000
MIN_SIZE, MAX_SIZE = 64, 4096
NAMED_SIZES = ("crop", "full")


@dataclass(frozen=True)
class RenderSize:
    """An output size: a square portrait of ``edge`` px, the portrait crop at the photo's
    own resolution ("crop"), or the whole photo ("full")."""
    mode: str = "square"
    edge: int = 512

    @classmethod
    def parse(cls, value: "str | int | RenderSize") -> "RenderSize":
        if isinstance(value, RenderSize):
            return value
        text = str(value).strip().lower()
        if text in NAMED_SIZES:
            return cls(mode=text, edge=0)
        if not text.isdigit():
            raise InvalidInput(f"render size '{value}' is not a number of pixels, 'crop' or 'full'")
        edge = int(text)
        if not MIN_SIZE <= edge <= MAX_SIZE:
            raise InvalidInput(f"render size {edge} is outside [{MIN_SIZE}, {MAX_SIZE}] pixels")
        return cls(mode="square", edge=edge + edge % 2)      # even: H.264's 4:2:0 needs it

    def __str__(self) -> str:
        return str(self.edge) if self.mode == "square" else self.mode



@dataclass(frozen=True)
class RenderOptions:
    """Frames to render with a take: their size, image format and whether to make take.mp4."""
    size: RenderSize = RenderSize()
    image_format: str = "png"
    video: bool = True

    def check(self) -> None:
        if self.image_format not in IMAGE_SUFFIXES:
            raise InvalidInput(f"image format '{self.image_format}' is not one of {', '.join(IMAGE_SUFFIXES)}")



REGIONS = ("mouth", "eyes", "brows")
BACKENDS = ("procedural", "neural")


@dataclass(frozen=True)
class Controls:
    """How the performance is steered beyond the emotion (both backends honour them).

    intensity_curve: (time_s, intensity) keys, linear between them and held outside; replaces
        the single intensity (EAP-style per-frame intensity).
    regions: per face region ("mouth", "eyes", "brows") a mix of (emotion, weight) pairs;
        regions not given show the take's emotion (PC-Talk-style region control).
    lip_scale, head_scale: multiply speech mouth motion and head motion (1 = as generated).
    gaze: False keeps the eyes looking straight ahead.
    keep_photo_expression: True starts the take from the photo's face as it is; by default the
        photo's own expression (a smile) is taken out first (see neutralise).
    """
    intensity_curve: tuple[tuple[float, float], ...] | None = None
    regions: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    lip_scale: float = 1.0
    head_scale: float = 1.0
    gaze: bool = True
    keep_photo_expression: bool = False

    def check(self) -> None:
        if self.intensity_curve is not None:
            if not self.intensity_curve:
                raise InvalidInput("intensity curve has no keys")
            if len(self.intensity_curve) > MAX_CURVE_KEYS:
                raise InvalidInput(f"intensity curve has {len(self.intensity_curve)} keys; the limit is {MAX_CURVE_KEYS}")
            times = [t for t, _ in self.intensity_curve]
            if not all(math.isfinite(t) for t in times):
                raise InvalidInput("intensity curve times must be finite numbers of seconds")
            if any(b <= a for a, b in zip(times, times[1:])) or times[0] < 0:
                raise InvalidInput("intensity curve times must start at 0 or later and increase")
            if any(not 0 <= v <= 1 for _, v in self.intensity_curve):          # NaN fails this too
                raise InvalidInput("intensity curve values must lie in [0, 1]")
        named = [region for region, _ in self.regions]
        if len(set(named)) != len(named):
            raise InvalidInput("each face region may be given one emotion mix")
        for region, mix in self.regions:
            if region not in REGIONS:
                raise InvalidInput(f"unknown face region '{region}'; choose among {', '.join(REGIONS)}")
            if len({emotion for emotion, _ in mix}) != len(mix):
                raise InvalidInput(f"region {region} names an emotion more than once")
            for emotion, weight in mix:
                if emotion not in EMOTIONS:
                    raise InvalidInput(f"unknown emotion '{emotion}' for region {region}")
                if not 0 <= weight <= 1:
                    raise InvalidInput(f"weight {weight:g} for {emotion} in region {region} is outside [0, 1]")
        for label, value in (("lip scale", self.lip_scale), ("head scale", self.head_scale)):
            if not 0 <= value <= 2:
                raise InvalidInput(f"{label} {value:g} is outside [0, 2]")

    def as_manifest(self) -> dict:
        return {"intensity_curve": [list(k) for k in self.intensity_curve] if self.intensity_curve else None,
                "regions": {region: [list(m) for m in mix] for region, mix in self.regions},
                "lip_scale": self.lip_scale, "head_scale": self.head_scale, "gaze": self.gaze,
                "keep_photo_expression": self.keep_photo_expression}


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
    render: RenderOptions | None = None   # None: cues only
    controls: Controls = Controls()

    def check(self) -> None:
        """Reject bad parameters before any expensive work."""
        if self.emotion not in EMOTIONS and self.emotion != AUTO_EMOTION:
            raise InvalidInput(f"unknown emotion '{self.emotion}'; choose one of {', '.join(EMOTIONS)} or auto")
        if self.backend not in BACKENDS:
            raise InvalidInput(f"unknown backend '{self.backend}'; choose one of {', '.join(BACKENDS)}")
        if not (0.0 <= self.intensity <= 1.0):
            raise InvalidInput(f"intensity {self.intensity:g} is outside [0, 1]")
        if not (self.fps >= MIN_FPS):
            raise InvalidInput(f"fps {self.fps:g} is below the supported {MIN_FPS:g}")
        if self.fps > MAX_FPS:
            raise InvalidInput(f"fps {self.fps:g} is above the supported {MAX_FPS:g}")
        if not (0 <= self.seed < 2**63):
            raise InvalidInput(f"seed {self.seed} is outside [0, 2^63)")
        if self.transcript is not None and len(self.transcript) > MAX_TRANSCRIPT_CHARS:
            raise InvalidInput(f"transcript is {len(self.transcript)} characters; the limit is {MAX_TRANSCRIPT_CHARS}")
        if self.render is not None:
            self.render.check()
        self.controls.check()
        for kind, value in (("audio", self.audio), ("photo", self.image)):
            if not isinstance(value, (bytes, bytearray)):
                check_input_file(value, kind)


def check_input_file(path: str | Path, kind: str) -> None:
    """A path input must be a readable regular file: a FIFO or device would block or never end."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InvalidInput(f"{kind} file '{path}' does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"{kind} file '{path}' cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InvalidInput(f"{kind} path '{path}' is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise InvalidInput(f"{kind} path '{path}' is not a regular file (a pipe or device cannot be read)")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"{kind} file '{path}' is not readable (permission denied)")


@dataclass(frozen=True)
class Limits:
    max_audio_s: float = 600.0
    max_message_bytes: int = 64 * 1024 * 1024      # largest gRPC message either way (uploads included)
