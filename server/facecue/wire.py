"""Take ⇄ TakeMessage stream. Pure numpy + protobuf: used by the server and the client.

Header first (names once), then the audio and the photo in chunks, then frame batches in order (with
encoded frames when asked for), then the video in chunks (when asked for), then a final
status. The receiver checks order, sizes and counts and refuses a truncated stream.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator

import numpy as np

from .errors import CorruptTake
from .take import ARRAY_NAMES, EncodedMedia, Take, array_specs
from .v1 import facecue_pb2 as pb

DEFAULT_FRAMES_PER_BATCH = 64
CHUNK_BYTES = 256 * 1024
IMAGE_BATCH_BYTES = 8 * 1024 * 1024     # a batch carrying frames closes early past this size


def take_messages(take: Take, job_id: str, frames_per_batch: int = DEFAULT_FRAMES_PER_BATCH, *,
                  send_frames: bool = False, send_video: bool = False) -> Iterator[pb.TakeMessage]:
    m = take.manifest
    media = take.media if isinstance(take.media, EncodedMedia) else None
    images = media.images if media is not None and send_frames else None
    video = media.video_bytes() if media is not None and send_video else None
    render = m.get("render", {}).get("framing", {})
    yield pb.TakeMessage(header=pb.TakeHeader(
        job_id=job_id, format_version=m["format_version"], fps=m["fps"], frame_count=m["frame_count"],
        duration_s=m["duration_s"], sample_rate=m["sample_rate"], image_width=m["image"]["width"],
        image_height=m["image"]["height"], blendshape_names=m["blendshape_names"],
        emotion_names=m["emotion_names"], landmark_count=m["landmark_count"],
        manifest_json=json.dumps(m), warnings=m.get("warnings", []), audio_bytes=len(take.audio_wav),
        frame_format=media.image_format if images is not None else "",
        frame_width=render.get("width", 0) if images is not None else 0,
        frame_height=render.get("height", 0) if images is not None else 0,
        video_bytes=len(video) if video else 0, photo_bytes=len(take.photo or b"")))
    yield from _chunks(take.audio_wav, "audio")
    yield from _chunks(take.photo or b"", "photo")
    step = max(1, int(frames_per_batch))
    start = 0
    while start < take.frame_count:
        stop, encoded = min(start + step, take.frame_count), []
        if images is not None:
            stop, encoded = _image_batch(images, start, stop)
        packed = {name: pack_array(take.arrays[name][start:stop]) for name in ARRAY_NAMES}
        yield pb.TakeMessage(frames=pb.FrameBatch(start_frame=start, frame_count=stop - start,
                                                  start_time_s=start / take.fps, images=encoded, **packed))
        start = stop
    if video:
        yield from _chunks(video, "video")
    yield pb.TakeMessage(status=pb.TakeStatus(code=pb.TakeStatus.OK, job_id=job_id,
                                              frames_sent=take.frame_count, message="done"))


def _chunks(data: bytes, field: str) -> Iterator[pb.TakeMessage]:
    for offset in range(0, len(data), CHUNK_BYTES):
        yield pb.TakeMessage(**{field: pb.Chunk(offset=offset, data=data[offset: offset + CHUNK_BYTES])})


def _image_batch(images, start: int, stop: int) -> tuple[int, list[bytes]]:
    """Frames [start, stop) or fewer, so one message stays well under gRPC's size limit."""
    encoded, size = [], 0
    for index in range(start, stop):
        if encoded and size + len(images[index]) > IMAGE_BATCH_BYTES:
            return index, encoded
        encoded.append(images[index])
        size += len(encoded[-1])
    return stop, encoded


def pack_array(array: np.ndarray) -> bytes:
    """Little-endian, row-major bytes of an array, as FrameBatch fields carry them."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


class TakeAssembler:
    """Collects a message stream into a Take; ``progress`` is frames received / frame_count."""

    def __init__(self) -> None:
        self.header: pb.TakeHeader | None = None
        self.status: pb.TakeStatus | None = None
        self.job_progress: pb.Progress | None = None     # the server's last word while it works
        self._audio = bytearray()
        self._video = bytearray()
        self._photo = bytearray()
        self._images: list[bytes] = []
        self._arrays: dict[str, np.ndarray] = {}
        self._received = 0

    @property
    def progress(self) -> float:
        return self._received / self.header.frame_count if self.header and self.header.frame_count else 0.0

    def add(self, message: pb.TakeMessage) -> None:
        kind = message.WhichOneof("kind")
        if kind == "progress":
            self.job_progress = message.progress
        elif kind == "header":
            self.header = message.header
            specs = array_specs(self.header.frame_count)
            self._arrays = {name: np.empty(shape, dtype) for name, (shape, dtype) in specs.items()}
        elif self.header is None:
            raise CorruptTake(f"stream sent '{kind}' before its header")
        elif kind in ("audio", "video", "photo"):
            target = {"audio": self._audio, "video": self._video, "photo": self._photo}[kind]
            chunk = getattr(message, kind)
            if chunk.offset != len(target):
                raise CorruptTake(f"{kind} chunks arrived out of order")
            target.extend(chunk.data)
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
        if self.header.frame_format:
            if len(batch.images) != batch.frame_count:
                raise CorruptTake(f"frame batch at {batch.start_frame} carries {len(batch.images)} images "
                                  f"for {batch.frame_count} frames")
            self._images.extend(batch.images)
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
        if len(self._video) != self.header.video_bytes:
            raise CorruptTake(f"stream carried {len(self._video)} of {self.header.video_bytes} video bytes")
        if len(self._photo) != self.header.photo_bytes:
            raise CorruptTake(f"stream carried {len(self._photo)} of {self.header.photo_bytes} photo bytes")
        manifest = json.loads(self.header.manifest_json)
        take = Take(manifest=manifest, arrays=self._arrays, audio_wav=bytes(self._audio), photo=bytes(self._photo) or None)
        if self.header.frame_format or self._video:
            take.media = EncodedMedia(images=self._images, image_format=self.header.frame_format or "png",
                                      render=manifest["render"], video=bytes(self._video) or None)
        else:                                   # the frames stayed on the server: say so
            manifest.pop("render", None)
            manifest["files"].update(frames=None, video=None)
        take.validate()
        return take


def assemble(messages: Iterable[pb.TakeMessage]) -> Take:
    assembler = TakeAssembler()
    for message in messages:
        assembler.add(message)
    return assembler.take()
