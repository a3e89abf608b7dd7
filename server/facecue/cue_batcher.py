"""Concurrent takes share the cue model: requests arriving together are decoded as one batch.

The server runs several takes at once (``--max-running-jobs``); each asks for its cues from
its own thread. A batcher collects requests that arrive within ``wait_s`` of the first (up to
``max_batch``) and hands them to the backend's ``generate_many`` in one call — on a GPU one
batch instead of many small ones. If a batch fails, its takes are retried one by one so one
bad take cannot fail the others.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

from .cues import CueInputs, CueTrack


class CueBatcher:
    def __init__(self, backend, max_batch: int = 32, wait_s: float = 0.01):
        self.backend, self.max_batch, self.wait_s = backend, max_batch, wait_s
        self._queue: queue.Queue[tuple[CueInputs, Future]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()
        self.batch_sizes: list[int] = []          # for tests and benchmarks

    def generate(self, inputs: CueInputs) -> CueTrack:
        future: Future = Future()
        self._queue.put((inputs, future))
        with self._start:
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="facecue-cue-batcher", daemon=True)
                self._worker.start()
        return future.result()

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    batch.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            self.batch_sizes.append(len(batch))
            self._run(batch)

    def _run(self, batch: list[tuple[CueInputs, Future]]) -> None:
        try:
            tracks = self.backend.generate_many([inputs for inputs, _ in batch])
        except Exception as error:                 # noqa: BLE001 — handed to the caller
            if len(batch) == 1:
                batch[0][1].set_exception(error)
            else:
                for item in batch:
                    self._run([item])
            return
        for (_, future), track in zip(batch, tracks):
            future.set_result(track)

