"""The mouth of speech from timed phones: visemes opened by loudness, lips sealed on closures.

Used by the procedural backend for its whole mouth and by the neural backend for its lips
(the phone-timed mouth is the one measured to close on real speech; see neural.backend).
"""
from __future__ import annotations

import numpy as np

from ..arkit_basis import inner_lip_gaps
from ..names import ARKIT_INDEX
from ..phonemes import PhoneSegments
from . import visemes
from .signals import smooth

OPEN_SHAPES = [ARKIT_INDEX[n] for n in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight")]
# Shapes that part the lips, or carry one past the other (a chin raiser's shrug, a jaw thrust
# or sideways jaw): let go where the lips seal.
LIP_OPENERS = [ARKIT_INDEX[n] for n in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
                                        "mouthUpperUpRight", "mouthFunnel", "mouthRollLower", "mouthRollUpper",
                                        "mouthShrugLower", "mouthShrugUpper", "jawForward", "jawLeft", "jawRight")]


def speech_mouth(phones: PhoneSegments, times: np.ndarray, activity: np.ndarray, fps: float,
                 lip_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(F, 52) mouth weights of the phones and (F,) how closed the lips must be, in [0, 1]."""
    mouth, closed = visemes.viseme_weights(phones, times)
    mouth[:, OPEN_SHAPES] *= (0.75 + 0.5 * smooth(activity, fps, 0.1))[:, None]     # louder opens wider
    mouth *= lip_scale
    return mouth, np.clip(closed * lip_scale, 0.0, 1.0)


def lip_seal(basis: np.ndarray, weights: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """(F,) mouthClose that brings the inner lips together, in proportion to ``closed``.

    The rest face is sealed, so the gap to close is what the frame's other shapes open:
    shapes that part the lips themselves are let go in proportion to ``closed`` (``weights``
    is updated), and mouthClose cancels the jaw's share in 3D (least squares over the inner
    lip pairs).
    """
    seal = np.clip(2.0 * closed, 0.0, 1.0)
    weights[:, LIP_OPENERS] *= (1 - seal)[:, None]
    close = ARKIT_INDEX["mouthClose"]
    gaps = inner_lip_gaps(basis)                                   # (52, pairs, 3)
    closing = gaps[close].ravel()
    others = np.delete(np.arange(len(gaps)), close)
    opened = weights[:, others] @ gaps[others].reshape(len(others), -1)        # (F, pairs·3)
    needed = np.clip(-(opened @ closing) / max(float(closing @ closing), 1e-12), 0.0, 1.0)
    return np.maximum(weights[:, close], needed * seal)
