"""Concurrent takes share the cue model: requests arriving together are decoded as one batch.

The server runs several takes at once (``--max-running-jobs``); each asks for its cues from
its own thread. Requests that arrive within ``wait_s`` of the first (up to ``max_batch``) go to
the backend's ``generate_many`` in one call — on a GPU one batch instead of many small ones.
If a batch fails, its takes are retried one by one so one bad take cannot fail the others.
"""
from __future__ import annotations

from .cues import CueInputs, CueTrack
from .gathering import Gatherer


class CueBatcher:
    def __init__(self, backend, max_batch: int = 32, wait_s: float = 0.01):
        self.backend = backend
        self._gatherer = Gatherer(self._run, wait_s=wait_s, limit=max_batch, name="facecue-cue-batcher")
        self.batch_sizes: list[int] = []          # for tests and benchmarks

    def generate(self, inputs: CueInputs) -> CueTrack:
        return self._gatherer.submit(inputs).result()

    def _run(self, batch: list) -> None:
        self.batch_sizes.append(len(batch))
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
