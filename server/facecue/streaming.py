"""Real-time cues: audio arrives in chunks, cue frames leave as soon as they are settled.

The session keeps the audio heard so far. Whenever ``HOP_S`` more has arrived it runs the
cue backend on a sliding window — ``CONTEXT_S`` of already-answered audio plus everything
new — and sends the frames up to ``LOOKAHEAD_S`` before the newest audio (phone timing and
visemes need a little right context). Each window's first new frames are eased onto the
last frames sent, so curves never jump where windows meet.

Look-ahead: a frame at time t is sent once audio up to t + LOOKAHEAD_S has arrived (and at
the end of the stream, immediately). End-to-end latency is that plus up to one hop and the
window's compute time; ``bench/run.py`` measures it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE, Audio, extract_features
from .config import Controls
from .cues import CueInputs
from .phonemes import PhoneLoop, phone_timing
from .relocation import take_arrays
from .timing import resample

LOOKAHEAD_S = 0.12
HOP_S = 0.2
CONTEXT_S = 1.2
EASE_S = 0.25
_CONTINUOUS = ("landmarks_image", "landmarks_local", "pose", "gaze_angles", "blendshapes", "emotion_probs")


@dataclass
class CueBatch:
    start_frame: int
    arrays: dict[str, np.ndarray]

    @property
    def frame_count(self) -> int:
        return len(self.arrays["pose"])


class StreamSession:
    def __init__(self, backend, reference, *, emotion: str, intensity: float, fps: float, seed: int,
                 controls: Controls = Controls()):
        self.backend, self.reference, self.controls = backend, reference, controls
        self.emotion, self.intensity, self.fps, self.seed = emotion, intensity, fps, seed
        self._chunks: list[np.ndarray] = []
        self._samples = np.zeros(0, np.float32)
        self._computed_to_s = 0.0
        self.emitted = 0                               # frames sent so far
        self._last: dict[str, np.ndarray] | None = None
        self._phone_loop: PhoneLoop | None = None       # the session's own: loaded once, state its own

    @property
    def heard_s(self) -> float:
        return (len(self._samples) + sum(len(c) for c in self._chunks)) / SAMPLE_RATE

    def push(self, samples: np.ndarray) -> list[CueBatch]:
        """Add 16 kHz float samples; returns the frames that became ready."""
        self._chunks.append(np.asarray(samples, np.float32))
        if self.heard_s - self._computed_to_s < HOP_S:
            return []
        return self._advance(self.heard_s - LOOKAHEAD_S)

    def finish(self) -> list[CueBatch]:
        """The stream ended: everything left, without look-ahead."""
        return self._advance(self.heard_s, final=True)

    def _advance(self, ready_s: float, final: bool = False) -> list[CueBatch]:
        if self._chunks:
            self._samples = np.concatenate([self._samples] + self._chunks)
            self._chunks = []
        self._computed_to_s = self.heard_s
        total = int(np.ceil(self.heard_s * self.fps - 1e-9)) if final else int(np.floor(ready_s * self.fps)) + 1
        if total <= self.emitted or self.heard_s < 0.1:
            return []
        first = max(0, self.emitted - int(np.ceil(CONTEXT_S * self.fps)))
        window = self._samples[int(first / self.fps * SAMPLE_RATE):]
        arrays = self._cues(Audio(window, "<stream>"), seed=self.seed + first)
        begin, end = self.emitted - first, min(total - first, len(arrays["pose"]))
        if end <= begin:
            return []
        new = {name: values[begin:end].copy() for name, values in arrays.items()}
        self._ease(new, {name: values[begin - 1] for name, values in arrays.items()} if begin > 0 else None)
        batch = CueBatch(self.emitted, new)
        self.emitted += batch.frame_count
        self._last = {name: values[-1] for name, values in new.items()}
        return [batch]

    def _cues(self, audio: Audio, seed: int) -> dict[str, np.ndarray]:
        features = extract_features(audio)
        # Live windows are short and latency-bound: the phone loop, not word recognition.
        phones = None
        if self.backend.uses_phones:
            self._phone_loop = self._phone_loop or PhoneLoop()
            phones = phone_timing(audio, None, "phones", self._phone_loop)[0]
        track = self.backend.generate(CueInputs(self.reference, features, phones, self.emotion, self.intensity, seed,
                                                self._window_controls(audio)))
        return take_arrays(resample(track, self.fps, audio.duration_s), self.reference)

    def _window_controls(self, audio: Audio) -> Controls:
        """The controls with an intensity curve shifted from stream time to this window's time."""
        if not self.controls.intensity_curve:
            return self.controls
        from dataclasses import replace
        offset = self.heard_s - audio.duration_s
        keys = np.asarray(self.controls.intensity_curve, np.float64)
        inside = np.interp(offset, keys[:, 0], keys[:, 1])
        shifted = [(0.0, float(inside))] + [(t - offset, v) for t, v in keys.tolist() if t > offset]
        return replace(self.controls, intensity_curve=tuple(shifted))

    def _ease(self, new: dict[str, np.ndarray], window_before: dict[str, np.ndarray] | None) -> None:
        """Shift the new frames so they continue from the last frame sent; the shift fades out."""
        if self._last is None or window_before is None:
            return
        count = len(new["pose"])
        fade = np.clip(1 - np.arange(1, count + 1) / max(1, EASE_S * self.fps), 0, 1).astype(np.float32)
        for name in _CONTINUOUS:
            offset = (self._last[name] - window_before[name]).astype(np.float32)
            new[name] += fade.reshape((-1,) + (1,) * offset.ndim) * offset
        new["blendshapes"] = np.clip(new["blendshapes"], 0, 1)
