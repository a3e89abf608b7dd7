"""FaceCue client: needs only grpcio, protobuf and numpy (runs inside Blender and Unreal).

    from facecue.client import FaceCueClient
    take = FaceCueClient("localhost:50051").generate("speech.wav", "face.jpg", emotion="happy")
    take_module.write(take, "take/")
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc

from .config import Controls
from .take import Take
from .v1 import facecue_pb2 as pb
from .v1 import facecue_pb2_grpc as rpc
from .wire import TakeAssembler

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]


PREPARING_SHARE = 0.9        # of on_progress spent while the server works; the rest while receiving


class FaceCueClientError(Exception):
    """A server's refusal or a transport failure, with the gRPC status code name."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _call(fn):
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except grpc.RpcError as err:
            raise FaceCueClientError(err.code().name, err.details() or str(err)) from None
    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


class FaceCueClient:
    def __init__(self, address: str = "localhost:50051", *, token: str | None = None,
                 timeout_s: float | None = None, root_certificates: bytes | None = None):
        if root_certificates is not None:
            credentials = grpc.ssl_channel_credentials(root_certificates)
            self._channel = grpc.secure_channel(address, credentials, CHANNEL_OPTIONS)
        else:
            self._channel = grpc.insecure_channel(address, CHANNEL_OPTIONS)
        self._stub = rpc.FaceCueStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout_s
        self.last_job_id: str | None = None      # the job of the latest generate/pull, once the server names it

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "FaceCueClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @_call
    def describe(self) -> pb.DescribeResponse:
        return self._stub.Describe(pb.DescribeRequest(), metadata=self._metadata, timeout=self._timeout)

    @_call
    def generate(self, audio: str | Path | bytes, image: str | Path | bytes, *, emotion: str = "neutral",
                 intensity: float = 1.0, fps: float = 30.0, seed: int = 0, transcript: str = "",
                 backend: str = "", server_paths: bool = False, render: bool = False, size: str = "512",
                 image_format: str = "png", video: bool = True, controls: Controls | None = None,
                 on_progress: Callable[[float], None] | None = None) -> Take:
        """Generate a take. Paths are uploaded as bytes unless ``server_paths`` says the
        server should read them from its own storage roots. With ``render`` the server
        renders frames (and take.mp4 with ``video``) and streams them back with the cues."""
        request = pb.GenerateRequest(emotion=emotion, intensity=intensity, has_intensity=True, fps=fps,
                                     seed=seed, transcript=transcript or "", backend=backend)
        if controls is not None:
            request.controls.CopyFrom(controls_message(controls))
        if render:
            request.render.CopyFrom(pb.RenderRequest(size=str(size), image_format=image_format, video=video,
                                                     send_frames=True, send_video=video))
        _set_input(request, "audio", audio, server_paths)
        _set_input(request, "image", image, server_paths)
        stream = self._stub.Generate(request, metadata=self._metadata, timeout=self._timeout)
        return self._collect(stream, on_progress, PREPARING_SHARE)

    @_call
    def pull(self, job_id: str, *, frames: bool = True, video: bool = True,
             on_progress: Callable[[float], None] | None = None) -> Take:
        """A finished take again by job id, with its rendered frames and video if it has them."""
        request = pb.PullRequest(job_id=job_id, send_frames=frames, send_video=video)
        stream = self._stub.PullTake(request, metadata=self._metadata, timeout=self._timeout)
        return self._collect(stream, on_progress)

    @_call
    def job(self, job_id: str) -> pb.Job:
        return self._stub.GetJob(pb.JobRef(job_id=job_id), metadata=self._metadata, timeout=self._timeout)

    @_call
    def jobs(self, limit: int = 0) -> list[pb.Job]:
        return list(self._stub.ListJobs(pb.ListJobsRequest(limit=limit), metadata=self._metadata,
                                        timeout=self._timeout).jobs)

    @_call
    def cancel(self, job_id: str) -> pb.Job:
        return self._stub.CancelJob(pb.JobRef(job_id=job_id), metadata=self._metadata, timeout=self._timeout)

    def stream(self, pcm16_chunks, image: str | Path | bytes, *, sample_rate: int = 16000, emotion: str = "neutral",
               intensity: float = 1.0, fps: float = 30.0, seed: int = 0, controls: Controls | None = None,
               backend: str = ""):
        """Real-time cues: send 16-bit mono PCM chunks as they are captured; yields
        (start_frame, {array name: (n, …) array}) as frames settle."""
        import numpy as np

        from .take import array_specs
        config = pb.StreamConfig(emotion=emotion, intensity=intensity, has_intensity=True, fps=fps, seed=seed,
                                 sample_rate=sample_rate, backend=backend)
        if controls is not None:
            config.controls.CopyFrom(controls_message(controls))
        if isinstance(image, (bytes, bytearray)):
            config.image_bytes = bytes(image)
        else:
            config.image_bytes = Path(image).read_bytes()

        def requests():
            yield pb.StreamRequest(config=config)
            for chunk in pcm16_chunks:
                yield pb.StreamRequest(pcm16=bytes(chunk))
        specs = array_specs(0)
        try:
            for message in self._stub.Stream(requests(), metadata=self._metadata, timeout=self._timeout):
                kind = message.WhichOneof("kind")
                if kind == "header":
                    self.last_job_id = message.header.job_id
                elif kind == "frames":
                    batch = message.frames
                    arrays = {name: np.frombuffer(getattr(batch, name), dtype.newbyteorder("<")).reshape(
                        (batch.frame_count,) + shape[1:]) for name, (shape, dtype) in specs.items()}
                    yield batch.start_frame, arrays
        except grpc.RpcError as err:            # raised while iterating, so _call cannot catch it
            raise FaceCueClientError(err.code().name, err.details() or str(err)) from None

    def _collect(self, stream, on_progress, preparing_share: float = 0.0) -> Take:
        assembler = TakeAssembler()
        for message in stream:
            assembler.add(message)
            kind = message.WhichOneof("kind")
            if kind in ("progress", "header"):
                self.last_job_id = getattr(message, kind).job_id
            if on_progress and kind == "progress":
                on_progress(preparing_share * message.progress.fraction)
            elif on_progress and kind == "frames":
                on_progress(preparing_share + (1 - preparing_share) * assembler.progress)
        if assembler.status is not None and assembler.status.code != pb.TakeStatus.OK:
            raise FaceCueClientError(pb.TakeStatus.Code.Name(assembler.status.code), assembler.status.message)
        return assembler.take()


def controls_message(controls: Controls) -> pb.Controls:
    return pb.Controls(
        intensity_curve=[pb.IntensityKey(time_s=t, value=v) for t, v in controls.intensity_curve or ()],
        regions=[pb.RegionMix(region=r, mix=[pb.EmotionWeight(emotion=e, weight=w) for e, w in mix])
                 for r, mix in controls.regions],
        lip_scale=controls.lip_scale, has_lip_scale=True, head_scale=controls.head_scale, has_head_scale=True,
        gaze_off=not controls.gaze, keep_photo_expression=controls.keep_photo_expression)


def _set_input(request: pb.GenerateRequest, kind: str, value, server_paths: bool) -> None:
    if isinstance(value, (bytes, bytearray)):
        setattr(request, f"{kind}_bytes", bytes(value))
    elif server_paths:
        setattr(request, f"{kind}_path", str(value))
    else:
        path = Path(value)
        if not path.is_file():
            raise FaceCueClientError("INVALID_ARGUMENT", f"{kind} file '{path}' does not exist")
        setattr(request, f"{kind}_bytes", path.read_bytes())
        setattr(request, f"{kind}_name", path.name)


class LiveFeedSubscriber:
    """Reads a server's live feed (``facecue serve --live tcp://*:PORT``); needs pyzmq.

        with LiveFeedSubscriber("tcp://farm:5556") as feed:
            for batch in feed.batches(timeout_s=5):
                batch.job_id, batch.start_frame, batch.arrays["blendshapes"]
    """

    def __init__(self, address: str, job_id: str = ""):
        import zmq
        self._zmq = zmq
        self._socket = zmq.Context.instance().socket(zmq.SUB)
        self._socket.connect(address)
        self._socket.setsockopt_string(zmq.SUBSCRIBE, job_id)

    def receive(self, timeout_s: float = 10.0) -> "LiveBatch | None":
        if not self._socket.poll(int(timeout_s * 1000)):
            return None
        import json

        import numpy as np
        topic, header, *payload = self._socket.recv_multipart()
        info = json.loads(header)
        arrays = {spec["name"]: np.frombuffer(data, np.dtype(spec["dtype"])).reshape(spec["shape"])
                  for spec, data in zip(info["arrays"], payload)}
        return LiveBatch(topic.decode("ascii"), info["start_frame"], info["batch_frames"], info["fps"],
                         info["frame_count"], info["final"], arrays)

    def batches(self, timeout_s: float = 10.0):
        """Batches until ``timeout_s`` passes without one."""
        while (batch := self.receive(timeout_s)) is not None:
            yield batch

    def close(self) -> None:
        self._socket.close(linger=0)

    def __enter__(self) -> "LiveFeedSubscriber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class LiveBatch:
    job_id: str
    start_frame: int
    frame_count: int
    fps: float
    take_frames: int
    final: bool
    arrays: dict

