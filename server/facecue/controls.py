"""Controls as per-frame signals, shared by the cue backends.

- intensity per frame: a constant, a keyed curve, or (emotion "auto") the voice's arousal;
- the emotion "auto" picks a category from the whole take's prosody;
- per-region expression mixes; region membership of the 52 ARKit shapes.

Arousal is read from absolute loudness (−38 dBFS → 0, −14 dBFS → 1) and pitch liveliness
(semitone spread of voiced frames over a 1.5 s window), smoothed over 1.5 s. The category
rules for "auto" are deliberately simple and documented: lively and loud → happy, loud and
flat → angry, quiet and flat → sad, otherwise neutral.
"""
from __future__ import annotations

import numpy as np

from .audio import AudioFeatures
from .config import Controls
from .names import ARKIT_NAMES, AUTO_EMOTION

QUIET_DB, LOUD_DB = -38.0, -14.0
FLAT_ST, LIVELY_ST = 1.0, 4.0        # semitone spread


def region_of(shape: str) -> str:
    if shape.startswith("brow"):
        return "brows"
    if shape.startswith("eye"):
        return "eyes"
    return "mouth"                    # jaw, mouth, cheeks, nose, tongue: the lower face


REGION_MASKS = {region: np.array([region_of(n) == region for n in ARKIT_NAMES]) for region in ("mouth", "eyes", "brows")}


def _smooth(values: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d
    return uniform_filter1d(values, max(1, int(seconds * fps)), mode="nearest")


def arousal(features: AudioFeatures, fps: float) -> np.ndarray:
    """(T,) in [0, 1] at the features' own times, sampled at ``fps`` by the caller."""
    loud = np.clip((features.energy_db - QUIET_DB) / (LOUD_DB - QUIET_DB), 0, 1)
    voiced = features.f0_hz > 0
    semitones = np.where(voiced, 12 * np.log2(np.maximum(features.f0_hz, 1) / 100.0), np.nan)
    window = max(3, int(1.5 * fps))
    padded = np.pad(semitones, window // 2, mode="edge")
    strided = np.lib.stride_tricks.sliding_window_view(padded, window)[: len(semitones)]
    with np.errstate(all="ignore"):
        spread = np.nan_to_num(np.nanstd(strided, axis=1), nan=0.0)
    lively = np.clip((spread - FLAT_ST) / (LIVELY_ST - FLAT_ST), 0, 1)
    return np.clip(_smooth(0.6 * loud + 0.4 * lively, fps, 1.5), 0, 1).astype(np.float32)


def auto_emotion(features: AudioFeatures, fps: float) -> str:
    speech = features.energy_db > np.percentile(features.energy_db, 40)
    loud = float(np.clip((np.median(features.energy_db[speech]) - QUIET_DB) / (LOUD_DB - QUIET_DB), 0, 1))
    voiced = features.f0_hz[features.f0_hz > 0]
    spread = float(np.std(12 * np.log2(voiced / 100.0))) if len(voiced) > 10 else 0.0
    lively = float(np.clip((spread - FLAT_ST) / (LIVELY_ST - FLAT_ST), 0, 1))
    if loud > 0.6 and lively > 0.5:
        return "happy"
    if loud > 0.6:
        return "angry"
    if loud < 0.35 and lively < 0.35:
        return "sad"
    return "neutral"


def intensity_track(controls: Controls, intensity: float, emotion: str, features: AudioFeatures,
                    times: np.ndarray) -> np.ndarray:
    """(F,) intensity in [0, 1] at ``times`` (the features are already sampled there)."""
    if controls.intensity_curve:
        keys = np.asarray(controls.intensity_curve, np.float64)
        return np.interp(times, keys[:, 0], keys[:, 1]).astype(np.float32)
    if emotion == AUTO_EMOTION:
        fps = 1.0 / max(times[1] - times[0], 1e-6) if len(times) > 1 else 30.0
        return (intensity * arousal(features, fps)).astype(np.float32)
    return np.full(len(times), intensity, np.float32)


def region_mix(controls: Controls, emotion: str, expression_vector) -> np.ndarray:
    """(52,) expression at full intensity with each region's own emotion mix."""
    base = expression_vector(emotion)
    mixes = dict(controls.regions)
    out = base.copy()
    for region, mask in REGION_MASKS.items():
        if region in mixes:
            mixed = sum(weight * expression_vector(e) for e, weight in mixes[region])
            out[mask] = np.asarray(mixed, np.float32)[mask] if len(mixes[region]) else 0.0
    return out
