"""Take ⇄ TakeMessage stream. Pure numpy + protobuf: used by the server and the client.

Header first (names once), then the audio in chunks, then frame batches in order, then a
final status. The receiver checks order, sizes and counts and refuses a truncated stream.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator

import numpy as np

from .errors import CorruptTake
from .take import ARRAY_NAMES, Take, array_specs
from .v1 import facecue_pb2 as pb

DEFAULT_FRAMES_PER_BATCH = 64
AUDIO_CHUNK_BYTES = 256 * 1024


def take_messages(take: Take, job_id: str, frames_per_batch: int = DEFAULT_FRAMES_PER_BATCH) -> Iterator[pb.TakeMessage]:
    m = take.manifest
    yield pb.TakeMessage(header=pb.TakeHeader(
        job_id=job_id, format_version=m["format_version"], fps=m["fps"], frame_count=m["frame_count"],
        duration_s=m["duration_s"], sample_rate=m["sample_rate"], image_width=m["image"]["width"],
        image_height=m["image"]["height"], blendshape_names=m["blendshape_names"],
        emotion_names=m["emotion_names"], landmark_count=m["landmark_count"],
        manifest_json=json.dumps(m), warnings=m.get("warnings", []), audio_bytes=len(take.audio_wav)))
    for offset in range(0, len(take.audio_wav), AUDIO_CHUNK_BYTES):
        yield pb.TakeMessage(audio=pb.AudioChunk(offset=offset, data=take.audio_wav[offset: offset + AUDIO_CHUNK_BYTES]))
    step = max(1, int(frames_per_batch))
    for start in range(0, take.frame_count, step):
        stop = min(start + step, take.frame_count)
        packed = {name: _pack(take.arrays[name][start:stop]) for name in ARRAY_NAMES}
        yield pb.TakeMessage(frames=pb.FrameBatch(start_frame=start, frame_count=stop - start,
                                                  start_time_s=start / take.fps, **packed))
    yield pb.TakeMessage(status=pb.TakeStatus(code=pb.TakeStatus.OK, job_id=job_id,
                                              frames_sent=take.frame_count, message="done"))


def _pack(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


class TakeAssembler:
    """Collects a message stream into a Take; ``progress`` is frames received / frame_count."""

    def __init__(self) -> None:
        self.header: pb.TakeHeader | None = None
        self.status: pb.TakeStatus | None = None
        self._audio = bytearray()
        self._arrays: dict[str, np.ndarray] = {}
        self._received = 0

    @property
    def progress(self) -> float:
        return self._received / self.header.frame_count if self.header and self.header.frame_count else 0.0

    def add(self, message: pb.TakeMessage) -> None:
        kind = message.WhichOneof("kind")
        if kind == "header":
            self.header = message.header
            specs = array_specs(self.header.frame_count)
            self._arrays = {name: np.empty(shape, dtype) for name, (shape, dtype) in specs.items()}
        elif self.header is None:
            raise CorruptTake(f"stream sent '{kind}' before its header")
        elif kind == "audio":
            if message.audio.offset != len(self._audio):
                raise CorruptTake("audio chunks arrived out of order")
            self._audio.extend(message.audio.data)
        elif kind == "frames":
            self._add_frames(message.frames)
        elif kind == "status":
            self.status = message.status

    def _add_frames(self, batch: pb.FrameBatch) -> None:
        if batch.start_frame != self._received:
            raise CorruptTake(f"frame batch starts at {batch.start_frame}, expected {self._received}")
        stop = batch.start_frame + batch.frame_count
        if stop > self.header.frame_count:
            raise CorruptTake("stream sent more frames than its header announced")
        for name, target in self._arrays.items():
            data = np.frombuffer(getattr(batch, name), dtype=target.dtype.newbyteorder("<"))
            expected = batch.frame_count * int(np.prod(target.shape[1:]))
            if data.size != expected:
                raise CorruptTake(f"frame batch field '{name}' has {data.size} values, expected {expected}")
            target[batch.start_frame: stop] = data.reshape((batch.frame_count,) + target.shape[1:])
        self._received = stop

    def take(self) -> Take:
        if self.header is None:
            raise CorruptTake("stream ended without a header")
        if self._received != self.header.frame_count:
            raise CorruptTake(f"stream ended after {self._received} of {self.header.frame_count} frames")
        if len(self._audio) != self.header.audio_bytes:
            raise CorruptTake(f"stream carried {len(self._audio)} of {self.header.audio_bytes} audio bytes")
        take = Take(manifest=json.loads(self.header.manifest_json), arrays=self._arrays,
                    audio_wav=bytes(self._audio))
        take.validate()
        return take


def assemble(messages: Iterable[pb.TakeMessage]) -> Take:
    assembler = TakeAssembler()
    for message in messages:
        assembler.add(message)
    return assembler.take()
