"""Real-time cues: audio arrives in chunks, cue frames leave as soon as they are settled.

The session keeps the audio heard so far and decodes its phones as each chunk arrives
(``phonemes.LivePhones``). Whenever ``HOP_S`` more has arrived it runs the cue backend on a
sliding window — ``CONTEXT_S`` of already-answered audio plus everything new — and sends the
frames up to ``LOOKAHEAD_S`` before the newest audio (phone recognition and visemes need a
little right context). Each window's first new frames are eased onto the last frames sent,
so curves never jump where windows meet.

Look-ahead: a frame at time t is sent once audio up to t + LOOKAHEAD_S has arrived (and at
the end of the stream, immediately). End-to-end latency is that plus up to one hop and the
window's compute time; ``bench/stream.py`` times the stages and the lips, ``bench/run.py``
the whole path over gRPC.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from .audio import SAMPLE_RATE, Audio, extract_features
from .config import Controls
from .arkit_basis import rest_and_basis
from .cues import CueInputs, CueTrack
from .names import ARKIT_NAMES
from .phonemes import LivePhones
from .relocation import take_arrays
from .timing import resample

LOOKAHEAD_S = 0.08
HOP_S = 0.04
CONTEXT_S = 1.2
EASE_S = 0.25
MOUTH_EASE_S = 0.05
STAGES = ("phones", "features", "cues", "relocation")
_MOUTH_SHAPES = np.array([name.startswith(("jaw", "mouth")) for name in ARKIT_NAMES])


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
        self._last: CueTrack | None = None              # the last frame sent
        # The session's own decoder: its phones depend on this stream's audio alone.
        self._phones = LivePhones() if backend.uses_phones else None
        self.stage_seconds = dict.fromkeys(STAGES, 0.0)  # where the time went (bench/stream.py)
        self.windows = 0

    @property
    def heard_s(self) -> float:
        return (len(self._samples) + sum(len(c) for c in self._chunks)) / SAMPLE_RATE

    def push(self, samples: np.ndarray) -> list[CueBatch]:
        """Add 16 kHz float samples; returns the frames that became ready."""
        samples = np.asarray(samples, np.float32)
        if self._phones is not None:
            with self._timed("phones"):
                self._phones.feed(samples)
        self._chunks.append(samples)
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
        start_sample = int(first / self.fps * SAMPLE_RATE)
        track = self._cues(Audio(self._samples[start_sample:], "<stream>"), start_sample / SAMPLE_RATE,
                           seed=self.seed + first)
        begin, end = self.emitted - first, min(total - first, len(track))
        if end <= begin:
            return []
        new = self._ease(_frames(track, begin, end), _frames(track, begin - 1, begin) if begin > 0 else None)
        with self._timed("relocation"):
            batch = CueBatch(self.emitted, take_arrays(new, self.reference))
        self.emitted += batch.frame_count
        self._last = _frames(new, len(new) - 1, len(new))
        return [batch]

    def _cues(self, audio: Audio, start_s: float, seed: int) -> CueTrack:
        self.windows += 1
        with self._timed("features"):
            features = extract_features(audio)
        # Live windows are latency-bound: the phone loop decoded as the audio came, not words.
        phones = self._phones.segments(start_s) if self._phones is not None else None
        with self._timed("cues"):
            track = self.backend.generate(CueInputs(self.reference, features, phones, self.emotion, self.intensity,
                                                    seed, self._window_controls(audio)))
            return resample(track, self.fps, audio.duration_s)

    @contextmanager
    def _timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] += time.perf_counter() - start

    def _window_controls(self, audio: Audio) -> Controls:
        """The controls with an intensity curve shifted from stream time to this window's time."""
        if not self.controls.intensity_curve:
            return self.controls
        offset = self.heard_s - audio.duration_s
        keys = np.asarray(self.controls.intensity_curve, np.float64)
        inside = np.interp(offset, keys[:, 0], keys[:, 1])
        shifted = [(0.0, float(inside))] + [(t - offset, v) for t, v in keys.tolist() if t > offset]
        return replace(self.controls, intensity_curve=tuple(shifted))

    def _ease(self, new: CueTrack, window_before: CueTrack | None) -> CueTrack:
        """Shift the new frames so they continue from the last frame sent; the shift fades out.

        Head, gaze, expression and emotion fade over EASE_S; the mouth over MOUTH_EASE_S, so
        it follows the newest phones at once instead of dragging the last window's mouth
        along (a long mouth ease at short hops kept the lips from closing). The landmarks
        move with the shifted weights through the face's basis, as the backends built them."""
        if self._last is None or window_before is None:
            return new
        after = np.arange(1, len(new) + 1) / self.fps
        slow = np.clip(1 - after / EASE_S, 0, 1).astype(np.float32)[:, None]
        quick = np.clip(1 - after / MOUTH_EASE_S, 0, 1).astype(np.float32)[:, None]
        fade = np.where(_MOUTH_SHAPES[None], quick, slow)

        def shifted(name: str, fade: np.ndarray) -> np.ndarray:
            offset = getattr(self._last, name)[0] - getattr(window_before, name)[0]
            return getattr(new, name) + fade.reshape(fade.shape + (1,) * (offset.ndim - fade.ndim + 1)) * offset

        weights = np.clip(shifted("blendshapes", fade), 0, 1).astype(np.float32)
        basis = rest_and_basis(self.reference.local)[1]
        local = new.local + np.einsum("fk,kvc->fvc", weights - new.blendshapes, basis, optimize=True)
        return replace(new, local=local.astype(np.float32), blendshapes=weights,
                       pose=shifted("pose", slow[:, 0]).astype(np.float32),
                       gaze_angles=shifted("gaze_angles", slow[:, 0]).astype(np.float32),
                       emotion_probs=shifted("emotion_probs", slow[:, 0]).astype(np.float32))


def _frames(track: CueTrack, begin: int, end: int) -> CueTrack:
    """Frames [begin, end) of a track."""
    return replace(track, local=track.local[begin:end], pose=track.pose[begin:end],
                   gaze_angles=track.gaze_angles[begin:end], gaze_labels=track.gaze_labels[begin:end],
                   blendshapes=track.blendshapes[begin:end], emotion_probs=track.emotion_probs[begin:end])
