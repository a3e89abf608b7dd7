"""Requests from many threads, handled in groups by one worker thread.

The batchers (cue model, renderer) need the same thing: callers block on their own request,
while a single daemon thread takes whatever arrived within ``wait_s`` of the first request
(up to ``limit`` requests) and handles it as one group, answering each caller's future.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable


class Gatherer:
    def __init__(self, handle: Callable[[list[tuple[Any, Future]]], None], *, wait_s: float,
                 limit: int | None = None, name: str = "facecue-gatherer"):
        self.handle, self.wait_s, self.limit, self.name = handle, wait_s, limit, name
        self._queue: queue.Queue[tuple[Any, Future]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, request) -> Future:
        future: Future = Future()
        self._queue.put((request, future))
        with self._start:
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._worker.start()
        return future

    def _serve(self) -> None:
        while True:
            group = [self._queue.get()]
            deadline = time.monotonic() + self.wait_s
            while self.limit is None or len(group) < self.limit:
                left = deadline - time.monotonic()
                try:
                    group.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.handle(group)
            except BaseException as error:          # noqa: BLE001 — never leave a caller waiting
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
