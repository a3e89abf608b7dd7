"""FACS-based expressions of the 8 emotions as ARKit weights at full intensity.

Action units → ARKit: AU1 browInnerUp, AU2 browOuterUp, AU4 browDown, AU5 eyeWide,
AU6 cheekSquint, AU7 eyeSquint, AU9 noseSneer, AU10 mouthUpperUp, AU12 mouthSmile,
AU14 mouthDimple, AU15 mouthFrown, AU17 mouthShrugLower, AU20 mouthStretch,
AU23/24 mouthPress, AU26 jawOpen.
"""
from __future__ import annotations

import numpy as np

from ..names import ARKIT_INDEX, ARKIT_NAMES, EMOTIONS


def _both(name: str, value: float) -> dict[str, float]:
    return {f"{name}Left": value, f"{name}Right": value}


EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    # AU6 + AU12
    "happy": {**_both("mouthSmile", 1.0), **_both("cheekSquint", 0.5), **_both("eyeSquint", 0.25)},
    # AU1 + AU4 + AU15 (+ AU17)
    "sad": {"browInnerUp": 1.0, **_both("browDown", 0.1), **_both("mouthFrown", 0.9),
            "mouthShrugLower": 0.3, **_both("eyeBlink", 0.15)},
    # AU4 + AU5 + AU7 + AU23
    "angry": {**_both("browDown", 0.85), **_both("eyeSquint", 0.35), **_both("eyeWide", 0.2),
              **_both("mouthPress", 0.45), **_both("noseSneer", 0.2), "jawForward": 0.1},
    # AU1 + AU2 + AU5 + AU26
    "surprised": {"browInnerUp": 1.0, **_both("browOuterUp", 1.0), **_both("eyeWide", 0.7),
                  "jawOpen": 0.22},
    # AU1 + AU2 + AU4 + AU5 + AU20 + AU26
    "fear": {"browInnerUp": 1.0, **_both("browOuterUp", 0.4), **_both("browDown", 0.15),
             **_both("eyeWide", 0.6), **_both("mouthStretch", 0.6), "jawOpen": 0.1},
    # AU9 + AU10 + AU15 + AU17
    "disgusted": {**_both("noseSneer", 0.7), **_both("mouthUpperUp", 0.95), **_both("browDown", 0.3),
                  **_both("mouthFrown", 0.3), **_both("cheekSquint", 0.3), "mouthShrugLower": 0.3},
    # unilateral AU12 + AU14
    "contempt": {"mouthSmileRight": 0.7, "mouthDimpleRight": 0.5, "eyeSquintRight": 0.1,
                 "browOuterUpRight": 0.15},
}
assert set(EXPRESSIONS) == set(EMOTIONS)


def expression_vector(emotion: str) -> np.ndarray:
    vector = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    for shape, value in EXPRESSIONS[emotion].items():
        vector[ARKIT_INDEX[shape]] = value
    return vector
