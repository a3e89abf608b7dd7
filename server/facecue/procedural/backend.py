"""The procedural cue backend: every cue from rules, timed by the speech."""
from __future__ import annotations

import numpy as np

from ..arkit_basis import LOOK_SHAPES, apply_basis, build_basis, look_weights
from ..cues import CueInputs, CueTrack
from ..names import ARKIT_INDEX, EMOTIONS
from . import blinks, expression, gaze_process, head_motion, visemes
from .signals import smooth, smooth_noise



class ProceduralBackend:
    name = "procedural"
    version = "1.0"
    native_fps = 30.0

    def generate(self, inputs: CueInputs) -> CueTrack:
        fps = self.native_fps
        frames = int(np.ceil(inputs.features.duration_s * fps)) + 1
        times = np.arange(frames) / fps
        rng = np.random.default_rng(inputs.seed)
        rngs = rng.spawn(5)
        features = inputs.features.at(times)
        activity = features.speech_activity()
        ref = inputs.reference
        basis = build_basis(ref.local)

        # Mouth: visemes, opened further by loud speech, lips sealed in silences and bilabials.
        mouth, closed = visemes.viseme_weights(inputs.phones, times)
        loudness = 0.75 + 0.5 * smooth(activity, fps, 0.1)
        open_shapes = [ARKIT_INDEX[n] for n in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight")]
        mouth[:, open_shapes] *= loudness[:, None]
        mouth[:, ARKIT_INDEX["mouthClose"]] = _lip_seal(ref.local, basis, mouth, closed)

        # Expression: intensity with slow life in it, stronger when the voice is.
        level = inputs.intensity * np.clip(
            0.9 + 0.06 * smooth_noise(rngs[0], frames, fps, 3.0)[:, 0] + 0.08 * smooth(activity, fps, 1.5), 0, 1)
        settle = 1 - np.exp(-times / 0.4)
        level = (level * settle).astype(np.float32)
        face = level[:, None] * expression.expression_vector(inputs.emotion)[None, :]

        blink = blinks.blink_curve(rngs[1], times, inputs.emotion, inputs.intensity)
        angles, labels = gaze_process.gaze_track(rngs[2], frames, fps, inputs.emotion, inputs.intensity)
        weights = mouth + face
        for eye, k in (("left", 0), ("right", 1)):
            name = f"eyeBlink{eye.capitalize()}"
            weights[:, ARKIT_INDEX[name]] = np.maximum(weights[:, ARKIT_INDEX[name]], blink)
            weights[:, [ARKIT_INDEX[n] for n in LOOK_SHAPES[eye]]] = look_weights(angles[:, k], eye)
        weights = np.clip(weights, 0.0, 1.0)

        pose = head_motion.head_pose(rngs[3], ref.pose, activity, fps, inputs.emotion, inputs.intensity)
        probs = np.zeros((frames, len(EMOTIONS)), np.float32)
        probs[:, 0] = 1.0 - level
        probs[:, EMOTIONS.index(inputs.emotion)] += level
        return CueTrack(fps=fps, local=apply_basis(ref.local, basis, weights), pose=pose,
                        gaze_angles=angles, gaze_labels=labels, blendshapes=weights.astype(np.float32),
                        emotion_probs=probs)


def _lip_seal(neutral: np.ndarray, basis: np.ndarray, weights: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """(F,) mouthClose that brings the inner lips together, in proportion to ``closed``.

    The gap to close is the photo's own (a smiling photo may show teeth) plus what the
    frame's other mouth shapes open; mouthClose closes it linearly.
    """
    from ..topology import LOWER_LIP_INNER, UPPER_LIP_INNER
    opening = basis[:, UPPER_LIP_INNER, 1] - basis[:, LOWER_LIP_INNER, 1]     # (52,) gap per unit weight
    close = ARKIT_INDEX["mouthClose"]
    closing = -opening[close]
    if closing <= 1e-6:
        return weights[:, close]
    others = np.delete(np.arange(len(opening)), close)
    gap = (neutral[UPPER_LIP_INNER, 1] - neutral[LOWER_LIP_INNER, 1]) + weights[:, others] @ opening[others]
    needed = np.clip(gap / closing, 0.0, 1.0)
    return np.maximum(weights[:, close], needed * np.clip(1.5 * closed, 0.0, 1.0))
