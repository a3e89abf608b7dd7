"""Gaze as a Markov process over the S×S joint regions of the two eyes.

Fixations last a gamma-distributed time (emotion-dependent); at each saccade the next joint
state is drawn from an emotion-specific distribution over regions (both eyes together, and
now and then one column apart, as real vergence and measurement make them). Angles jitter
within the region, and saccades take ~40 ms.
"""
from __future__ import annotations

import numpy as np

from .. import gaze
from ..names import GAZE_REGIONS
from .signals import smooth, smooth_noise

# Stationary preference over the 10 regions: row 0 (level) columns 0..4, then row 1 (down).
PREFERENCE = {
    "neutral":   [0.04, 0.12, 0.50, 0.12, 0.04, 0.02, 0.04, 0.08, 0.02, 0.02],
    "angry":     [0.02, 0.08, 0.70, 0.08, 0.02, 0.01, 0.03, 0.03, 0.02, 0.01],
    "contempt":  [0.14, 0.20, 0.22, 0.20, 0.14, 0.02, 0.03, 0.02, 0.02, 0.01],  # sideways
    "disgusted": [0.06, 0.12, 0.20, 0.12, 0.06, 0.07, 0.10, 0.12, 0.10, 0.05],
    "fear":      [0.08, 0.14, 0.30, 0.14, 0.08, 0.04, 0.06, 0.08, 0.04, 0.04],
    "happy":     [0.03, 0.12, 0.55, 0.12, 0.03, 0.02, 0.04, 0.05, 0.02, 0.02],
    "sad":       [0.02, 0.04, 0.14, 0.04, 0.02, 0.08, 0.18, 0.30, 0.12, 0.06],  # down
    "surprised": [0.01, 0.05, 0.85, 0.05, 0.01, 0.00, 0.01, 0.02, 0.00, 0.00],  # forward
}
MEAN_FIXATION_S = {"neutral": 1.1, "angry": 1.4, "contempt": 0.8, "disgusted": 0.9,
                   "fear": 0.6, "happy": 1.0, "sad": 1.5, "surprised": 1.8}
VERGENCE_SPLIT = 0.08      # chance that the eyes' labels differ by one column


def gaze_track(rng: np.random.Generator, frames: int, fps: float, emotion: str,
               intensity: float) -> tuple[np.ndarray, np.ndarray]:
    """(F, 2, 2) angles (left, right eye; yaw, pitch) and (F, 2) labels."""
    preference = np.array(PREFERENCE["neutral"]) * (1 - intensity) + np.array(PREFERENCE[emotion]) * intensity
    preference /= preference.sum()
    mean_fix = MEAN_FIXATION_S["neutral"] + intensity * (MEAN_FIXATION_S[emotion] - MEAN_FIXATION_S["neutral"])
    count = int(frames / fps / mean_fix * 2) + 2
    durations = rng.gamma(3.0, mean_fix / 3.0, size=count)
    # Markov chain over joint states: leave the current region at every saccade.
    states = np.empty((count, 2), dtype=np.int64)
    current = gaze.FORWARD
    for k in range(count):
        p = preference.copy()
        if k > 0:
            p[current] *= 0.4   # a new fixation may stay in the same region
            p /= p.sum()
        current = int(rng.choice(GAZE_REGIONS, p=p))
        other = current
        if rng.random() < VERGENCE_SPLIT:
            column = current % gaze.COLUMNS + rng.choice([-1, 1])
            if 0 <= column < gaze.COLUMNS:
                other = current // gaze.COLUMNS * gaze.COLUMNS + column
        states[k] = (current, other)
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    index = np.searchsorted(starts, np.arange(frames) / fps, side="right") - 1
    labels = states[index]                                   # (F, 2)
    angles = place_fixations(rng, labels, index, count, fps)
    return angles, gaze.labels_from_angles(angles)


def place_fixations(rng: np.random.Generator, labels: np.ndarray, fixation: np.ndarray, fixations: int,
                    fps: float) -> np.ndarray:
    """(F, 2) region labels and each frame's fixation index → (F, 2, 2) angles: every fixation at
    its own spot inside its region, saccades of ~40 ms between them, a little fixational drift."""
    jitter = rng.uniform(-0.55, 0.55, size=(fixations, 2, 2))    # within the region, per fixation
    angles = gaze.region_centres(labels) + jitter[fixation] * gaze.region_half_widths(labels)
    frames = len(labels)
    angles = smooth(angles, fps, 0.04) + 0.3 * smooth_noise(rng, frames, fps, 0.3, 4).reshape(frames, 2, 2)
    return angles.astype(np.float32)
