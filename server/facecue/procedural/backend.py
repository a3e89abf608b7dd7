"""The procedural cue backend: every cue from rules, timed by the speech."""
from __future__ import annotations

import numpy as np

from ..arkit_basis import LOOK_SHAPES, apply_basis, look_weights, rest_and_basis
from ..cues import CueInputs, CueTrack
from ..controls import auto_emotion, intensity_track, region_mix
from ..gaze import labels_from_angles
from ..names import ARKIT_INDEX, AUTO_EMOTION, EMOTIONS
from . import blinks, expression, gaze_process, head_motion
from .signals import smooth, smooth_noise
from .speech_mouth import lip_seal, speech_mouth


class ProceduralBackend:
    name = "procedural"
    version = "1.6"             # 1.2: lips sealed exactly under the nose wrinkle; disgust's upper lip 0.95;
                                # 1.3: raised brows lift the forehead; blinks close over eyeWide and eyeSquint;
                                # 1.4: the jaw parts the lips as a lens, tapering into the corners;
                                # 1.5: rounding narrows the lips alike at every height (no fold at the corners)
                                # 1.6: the smile's pull falls off mostly across the face (depth counts 0.3; the lips beside the corner follow)
    native_fps = 60.0           # fine enough that short lip closures survive resampling to any rate
    uses_phones = True           # visemes are timed by the recognised phones

    def generate(self, inputs: CueInputs) -> CueTrack:
        fps = self.native_fps
        frames = int(np.ceil(inputs.features.duration_s * fps)) + 1
        times = np.arange(frames) / fps
        rng = np.random.default_rng(inputs.seed)
        rngs = rng.spawn(5)
        features = inputs.features.at(times)
        activity = features.speech_activity()
        ref, controls = inputs.reference, inputs.controls
        rest, basis = rest_and_basis(ref.local)     # speech starts from, and returns to, closed lips
        emotion = auto_emotion(inputs.features, fps) if inputs.emotion == AUTO_EMOTION else inputs.emotion
        intensity = intensity_track(controls, inputs.intensity, inputs.emotion, features, times)
        overall = float(intensity.mean())

        # Mouth: visemes, opened further by loud speech (sealed below, with the expression on).
        mouth, closed = speech_mouth(inputs.phones, times, activity, fps, controls.lip_scale)

        # Expression: intensity with slow life in it, stronger when the voice is.
        level = intensity * np.clip(
            0.9 + 0.06 * smooth_noise(rngs[0], frames, fps, 3.0)[:, 0] + 0.08 * smooth(activity, fps, 1.5), 0, 1)
        settle = 1 - np.exp(-times / 0.4)
        level = (level * settle).astype(np.float32)
        face = level[:, None] * region_mix(controls, emotion, expression.expression_vector)[None, :]

        blink = blinks.blink_curve(rngs[1], times, emotion, overall)
        angles, labels = gaze_process.gaze_track(rngs[2], frames, fps, emotion, overall)
        if not controls.gaze:                       # eyes straight ahead
            angles = np.zeros_like(angles)
            labels = labels_from_angles(angles)
        weights = blinks.close_over(mouth + face, blink)
        for eye, k in (("left", 0), ("right", 1)):
            weights[:, [ARKIT_INDEX[n] for n in LOOK_SHAPES[eye]]] = look_weights(angles[:, k], eye)
        weights = np.clip(weights, 0.0, 1.0)
        # Lips sealed in silences and bilabials over whatever the expression does to the mouth:
        # a surprised jaw or a disgusted upper lip held the lips apart on nearly every "p", "b", "m".
        weights[:, ARKIT_INDEX["mouthClose"]] = lip_seal(basis, weights, closed)

        pose = head_motion.head_pose(rngs[3], ref.pose, activity, fps, emotion, overall)
        pose = (ref.pose[None] + controls.head_scale * (pose - ref.pose[None])).astype(np.float32)
        probs = np.zeros((frames, len(EMOTIONS)), np.float32)
        probs[:, 0] = 1.0 - level
        probs[:, EMOTIONS.index(emotion)] += level
        return CueTrack(fps=fps, local=apply_basis(rest, basis, weights), pose=pose,
                        gaze_angles=angles, gaze_labels=labels, blendshapes=weights.astype(np.float32),
                        emotion_probs=probs, emotion=emotion)

