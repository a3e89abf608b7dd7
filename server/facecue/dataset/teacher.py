"""One training clip from speech and its words: the procedural teacher's cues as targets.

The targets are timed by the clean speech and its transcript (forced alignment), while the
features are taken from the speech heard through a drawn acoustic condition, so the model
learns to read the mouth through the channel rather than the channel itself.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..audio import extract_features, load_audio
from ..config import TakeRequest
from . import augment
from .clips import PreparedClip

BUNDLED_FACE = Path(__file__).resolve().parents[1] / "samples" / "face.jpg"


def level_of(intensity: float) -> int:
    """MEAD's intensity level (1–3) for an intensity in [0, 1]."""
    return 1 + min(2, int(intensity * 3))


def teach(pipeline, wav: Path, text: str, *, image: Path, emotion: str, intensity: float, take_seed: int,
          condition: augment.Condition, channel_rng: np.random.Generator, source: str) -> PreparedClip:
    take = pipeline.run(TakeRequest(audio=wav, image=image, emotion=emotion, intensity=intensity,
                                    seed=take_seed, transcript=text))
    clean = load_audio(wav)
    heard = augment.apply(clean.samples, condition, channel_rng)
    features = extract_features(dataclasses.replace(clean, samples=heard))
    # "synthetic": the targets are the teacher's on the bundled face, whoever speaks.
    return PreparedClip(actor="synthetic", emotion=emotion, level=level_of(intensity),
                        source=f"{source} ({condition.describe()}): {text}", fps=take.fps, mfcc=features.mfcc,
                        energy_db=features.energy_db, f0_hz=features.f0_hz, landmarks_local=take.landmarks_local,
                        pose=take.pose, gaze_angles=take.gaze_angles, gaze_labels=take.gaze_labels,
                        intensity=intensity)
