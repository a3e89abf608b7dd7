"""The live feed: every frame batch of every take published on a ZeroMQ PUB socket.

Each batch is one multipart message:

    frame 0   topic: the job id (ASCII), so subscribers can filter by job
    frame 1   header, UTF-8 JSON: {"job_id", "fps", "frame_count" (of the take), "start_frame",
              "batch_frames", "final" (true on the last batch), "arrays": [{"name", "dtype", "shape"}, …]}
    frame 2…  each array's raw bytes, little-endian, row-major, in the header's order

Subscribers that join late simply miss earlier batches (PUB/SUB semantics); the take itself
stays in the server's store. ``facecue.client.LiveFeedSubscriber`` reads the feed.
"""
from __future__ import annotations

import json
import threading

import numpy as np

from .take import ARRAY_NAMES, Take

DEFAULT_BATCH = 64


def batch_frames(job_id: str, take: Take, start: int, stop: int) -> list[bytes]:
    arrays = [np.ascontiguousarray(take.arrays[name][start:stop]) for name in ARRAY_NAMES]
    header = {"job_id": job_id, "fps": take.fps, "frame_count": take.frame_count, "start_frame": start,
              "batch_frames": stop - start, "final": stop >= take.frame_count,
              "arrays": [{"name": n, "dtype": a.dtype.newbyteorder("<").str, "shape": list(a.shape)}
                         for n, a in zip(ARRAY_NAMES, arrays)]}
    return [job_id.encode("ascii"), json.dumps(header).encode()] + \
        [a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays]


class LiveFeed:
    """A PUB socket bound at ``address`` (e.g. ``tcp://*:5556``); safe to use from many threads."""

    def __init__(self, address: str):
        import zmq
        self._socket = zmq.Context.instance().socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, 10_000)
        self._socket.bind(address)
        self.address = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._lock = threading.Lock()              # ZeroMQ sockets are not thread-safe

    def publish(self, job_id: str, take: Take, frames_per_batch: int = DEFAULT_BATCH) -> int:
        """Publish the whole take in batches; returns the number of messages sent."""
        messages = [batch_frames(job_id, take, start, min(start + frames_per_batch, take.frame_count))
                    for start in range(0, take.frame_count, frames_per_batch)]
        with self._lock:
            for message in messages:
                self._socket.send_multipart(message)
        return len(messages)

    def close(self) -> None:
        self._socket.close(linger=0)
