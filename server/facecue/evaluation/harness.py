"""Takes of dev-set clips on dev-set faces, scored by the lip-sync metrics.

Each clip is decoded, featurised, phone-timed and force-aligned once; each face is analysed
once; then every (backend, face, fps) combination costs only the cue model. The take arrays
are made exactly as the pipeline makes them (backend → resample → relocation).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import topology as topo
from ..audio import Audio, AudioFeatures, extract_features, load_audio
from ..config import Controls
from ..cues import CueBackend, CueInputs
from ..phonemes import PhoneSegments, forced_alignment, phone_timing
from ..reference import Reference
from ..relocation import take_arrays
from ..timing import resample
from . import lipsync


@dataclass(frozen=True)
class PreparedClip:
    name: str
    audio: Audio
    features: AudioFeatures
    reference_phones: PhoneSegments     # forced alignment of the transcript: the yardstick
    phones: PhoneSegments               # what the take is timed by (recognised, or aligned)
    timing_s: float                     # what producing ``phones`` cost

    @property
    def duration_s(self) -> float:
        return self.audio.duration_s


def prepare_clip(path: Path, transcript: str, use_transcript: bool = False,
                 recogniser: str = "auto") -> PreparedClip:
    audio = load_audio(path)
    reference = forced_alignment(audio, transcript)
    if reference is None:
        raise RuntimeError(f"forced alignment of '{path.name}' to its transcript found no path")
    start = time.perf_counter()
    phones, _ = phone_timing(audio, transcript if use_transcript else None, recogniser)
    return PreparedClip(Path(path).stem, audio, extract_features(audio), reference, phones,
                        time.perf_counter() - start)


@dataclass(frozen=True)
class MouthTake:
    local: np.ndarray       # (F, 478, 3) landmarks_local
    image: np.ndarray       # (F, 478, 3) landmarks_image
    blendshapes: np.ndarray


def make_take(backend: CueBackend, clip: PreparedClip, face: Reference, fps: float,
              emotion: str = "neutral", intensity: float = 1.0, seed: int = 0,
              controls: Controls = Controls()) -> MouthTake:
    inputs = CueInputs(face, clip.features, clip.phones if backend.uses_phones else None,
                       emotion, intensity, seed, controls)
    arrays = take_arrays(resample(backend.generate(inputs), fps, clip.duration_s), face)
    return MouthTake(arrays["landmarks_local"], arrays["landmarks_image"], arrays["blendshapes"])


def score_take(take: MouthTake, clip: PreparedClip, fps: float) -> lipsync.LipSyncScores:
    gap, width = lipsync.mouth_measures(take.local)
    return lipsync.score(gap, width, clip.reference_phones, fps, clip.duration_s)


def jaw_per_unit(face: Reference) -> float:
    """Inner-lip opening for jawOpen = 1, as a share of the face's height (forehead–chin)."""
    from ..arkit_basis import build_basis
    from ..names import ARKIT_INDEX
    basis = build_basis(face.local)
    moved = face.local + basis[ARKIT_INDEX["jawOpen"]]
    height = np.linalg.norm(face.local[topo.FOREHEAD] - face.local[topo.CHIN])
    (before, after), _ = lipsync.mouth_measures(np.stack([face.local, moved]))
    return float((after - before) / height)
