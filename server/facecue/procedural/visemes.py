"""Phones → mouth shapes as ARKit weights, with coarticulation.

Each phone class has a target pose of the mouth; a frame's mouth is the dominance-weighted
mix of nearby phone targets (Cohen–Massaro style): each phone's influence peaks at its
centre and decays over ~80 ms either side, so neighbours blend instead of snapping.
Bilabials (M, B, P) dominate strongly, as the lips must actually meet.
"""
from __future__ import annotations

import numpy as np

from ..names import ARKIT_INDEX, ARKIT_NAMES
from ..phonemes import SILENCE, PhoneSegments

_TARGETS: dict[str, dict[str, float]] = {
    "rest": {},
    "open": {"jawOpen": 0.5, "mouthLowerDownLeft": 0.25, "mouthLowerDownRight": 0.25,
             "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1},
    "wide": {"jawOpen": 0.4, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3,
             "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2},
    "round": {"jawOpen": 0.32, "mouthFunnel": 0.6, "mouthPucker": 0.65},
    "narrow_round": {"jawOpen": 0.12, "mouthPucker": 0.95, "mouthFunnel": 0.35},
    "mid": {"jawOpen": 0.3, "mouthStretchLeft": 0.25, "mouthStretchRight": 0.25,
            "mouthSmileLeft": 0.08, "mouthSmileRight": 0.08},
    "spread": {"jawOpen": 0.16, "mouthStretchLeft": 0.55, "mouthStretchRight": 0.55,
               "mouthSmileLeft": 0.12, "mouthSmileRight": 0.12},
    "r": {"jawOpen": 0.18, "mouthFunnel": 0.35, "mouthPucker": 0.2},
    "bilabial": {"jawOpen": 0.05, "mouthPressLeft": 0.4, "mouthPressRight": 0.4},
    "labiodental": {"jawOpen": 0.08, "mouthRollLower": 0.55, "mouthUpperUpLeft": 0.25,
                    "mouthUpperUpRight": 0.25},
    "dental": {"jawOpen": 0.18, "tongueOut": 0.15},
    "alveolar": {"jawOpen": 0.14, "mouthStretchLeft": 0.15, "mouthStretchRight": 0.15},
    "postalveolar": {"jawOpen": 0.14, "mouthFunnel": 0.45, "mouthPucker": 0.25},
    "velar": {"jawOpen": 0.24},
}
_CLASS = {p: c for c, ps in {
    "open": "AA AH AY AW HH", "wide": "AE", "round": "AO OW OY", "narrow_round": "UW UH W",
    "mid": "EH EY", "spread": "IH IY Y", "r": "ER R", "bilabial": "M B P", "labiodental": "F V",
    "dental": "TH DH", "alveolar": "S Z T D N L", "postalveolar": "SH ZH CH JH",
    "velar": "K G NG"}.items() for p in ps.split()}
VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
BILABIALS = frozenset("M B P".split())
# Lips that must meet dominate most; rounding is visible well before and after the vowel.
_DOMINANCE = {"bilabial": 4.0, "labiodental": 2.5, "rest": 2.0, "round": 2.5, "narrow_round": 3.0}
_CLOSED = frozenset({"rest", "bilabial"})


def _target_matrix() -> tuple[list[str], np.ndarray]:
    classes = list(_TARGETS)
    matrix = np.zeros((len(classes), len(ARKIT_NAMES)), dtype=np.float32)
    for row, name in enumerate(classes):
        for shape, value in _TARGETS[name].items():
            matrix[row, ARKIT_INDEX[shape]] = value
    return classes, matrix


def phone_class(phone: str) -> str:
    return "rest" if phone == SILENCE else _CLASS.get(phone, "alveolar")


def viseme_weights(phones: PhoneSegments, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 52) mouth weights at ``times`` and (F,) in [0, 1]: how much the lips should be
    sealed (the dominance of silence and bilabials around each frame)."""
    classes, targets = _target_matrix()
    if len(phones) == 0:
        return np.zeros((len(times), len(ARKIT_NAMES)), np.float32), np.ones(len(times), np.float32)
    cls = [phone_class(p) for p in phones.phones]
    row = np.array([classes.index(c) for c in cls])
    centre = (phones.start_s + phones.end_s) / 2
    half = np.maximum((phones.end_s - phones.start_s) / 2, 0.02)
    strength = np.array([_DOMINANCE.get(c, 1.5) for c in cls])
    # Dominance: flat inside the phone, exponential decay (τ = 70 ms) outside it.
    outside = np.maximum(np.abs(times[:, None] - centre[None, :]) - half[None, :], 0.0)
    dominance = strength[None, :] * np.exp(-outside / 0.07)
    dominance /= np.maximum(dominance.sum(1, keepdims=True), 1e-9)
    weights = dominance @ targets[row]
    closed = dominance @ np.array([c in _CLOSED for c in cls], dtype=np.float64)
    return weights.astype(np.float32), closed.astype(np.float32)
