"""Concurrent takes of the same portrait share render calls.

Farm work often makes many takes of one character at once. Each take renders its frames a
chunk at a time from its own thread; the batcher gathers chunks that arrive within ``wait_s``
of each other for the same prepared portrait and renders them in one call of up to
``max_frames`` frames — on a GPU one large batch instead of several small ones. On a CPU the
best batch is small (see bench/render.py), so the pipeline uses it on GPUs only.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..gathering import Gatherer


class FrameBatcher:
    def __init__(self, renderer, max_frames: int | None = None, wait_s: float = 0.005):
        self.renderer = renderer
        self.max_frames = max_frames or renderer.batch_frames * (4 if renderer.device.type == "cuda" else 1)
        self.name, self.version = renderer.name, renderer.version
        self._gatherer = Gatherer(self._serve, wait_s=wait_s, name="facecue-frame-batcher")
        self.call_frames: list[int] = []          # frames per render call, for tests and benchmarks

    def batches(self, prepared, landmarks_image: np.ndarray) -> Iterator[np.ndarray]:
        """The renderer's ``batches`` contract: frames in order, a chunk at a time."""
        step = self.renderer.batch_frames
        for start in range(0, len(landmarks_image), step):
            yield self._gatherer.submit((prepared, np.asarray(landmarks_image[start: start + step]))).result()

    def _serve(self, waiting: list) -> None:
        """Chunks of one portrait rendered together, up to ``max_frames`` per call."""
        groups: dict[int, list] = {}
        for (prepared, chunk), future in waiting:
            groups.setdefault(id(prepared), []).append((prepared, chunk, future))
        for items in groups.values():
            while items:
                call, count = [], 0
                while items and (not call or count + len(items[0][1]) <= self.max_frames):
                    call.append(items.pop(0))
                    count += len(call[-1][1])
                self._render(call)

    def _render(self, call: list) -> None:
        prepared = call[0][0]
        try:
            frames = np.concatenate(list(self.renderer.batches(prepared, np.concatenate([c[1] for c in call]),
                                                               batch_frames=self.max_frames)))
        except Exception as error:                 # noqa: BLE001 — handed to each waiting take
            for _, _, future in call:
                future.set_exception(error)
            return
        self.call_frames.append(len(frames))
        start = 0
        for _, chunk, future in call:
            future.set_result(frames[start: start + len(chunk)])
            start += len(chunk)
