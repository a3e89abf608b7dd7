"""gRPC adapter over the pipeline: Generate, PullTake, job calls, health and reflection."""
from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
import uuid
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from . import __version__, livelink, take as take_io, topology as topo
from .config import MAX_CURVE_KEYS, MAX_FPS, REGIONS, Controls, Limits, RenderOptions, RenderSize, TakeRequest
from .cores import share_cores
from .errors import Cancelled, FaceCueError, InvalidInput, PermissionDenied, TimedOut
from .names import ARKIT_NAMES, EMOTIONS, GAZE_REGIONS
from .audio import SAMPLE_RATE, check_audio_header
from .identity import take_key
from .streaming import HOP_S, LOOKAHEAD_S, StreamSession
from .livefeed import LiveFeed
from .pipeline import Pipeline
from .reference import without_expression
from .security import BearerTokenInterceptor, server_credentials
from .store import CANCELLED, FAILED, TakeStore
from .v1 import facecue_pb2 as pb
from .v1 import facecue_pb2_grpc as rpc
from .wire import DEFAULT_FRAMES_PER_BATCH, pack_array, take_messages

log = logging.getLogger("facecue.server")
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["FaceCue"].full_name
PROGRESS_STEP = 0.01          # progress messages at most once per 1 % (and at every new stage)
SPARE_HANDLERS = 8            # handler threads kept for short calls (Describe, GetJob, …) when all slots are taken


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051
    store: Path = field(default_factory=lambda: Path(os.environ.get("FACECUE_STORE", "~/.cache/facecue/takes")).expanduser())
    storage_roots: tuple[Path, ...] = ()
    workers: int = 8
    limits: Limits = field(default_factory=Limits)
    livelink: tuple[str, int] | None = None      # play each generated take to this Live Link Face target
    token: str | None = None                     # bearer token every FaceCue call must carry
    tls_cert: Path | None = None                 # serve TLS with this certificate chain and key
    tls_key: Path | None = None
    max_running_jobs: int = 2                    # takes made at once; more wait in a first-come queue …
    max_queued_jobs: int = 32                    # … of this size, beyond which calls get RESOURCE_EXHAUSTED
    max_job_s: float = 3600.0                    # a job still running after this is stopped (DEADLINE_EXCEEDED)
    max_streams: int = 8                         # Stream calls open at once
    stream_idle_s: float = 30.0                  # a Stream that sends nothing for this long is closed
    live: str | None = None                      # ZeroMQ PUB address for the live feed, e.g. tcp://*:5556
    store_max_bytes: int | None = None           # evict least recently used takes beyond this size
    bound_cpu_threads: bool = False              # split the cores between running jobs (process-wide)
    checkpoint: Path | None = None               # neural backend weights (default: the bundled model)
    device: str | None = None                    # where the neural backend runs (default: CUDA when present)


class FaceCueService(rpc.FaceCueServicer):
    def __init__(self, pipeline: Pipeline, store: TakeStore, config: ServerConfig):
        self.pipeline, self.store, self.config = pipeline, store, config
        self._jobs = futures.ThreadPoolExecutor(max_workers=config.max_running_jobs, thread_name_prefix="facecue-job")
        self._admitted = threading.BoundedSemaphore(config.max_running_jobs + config.max_queued_jobs)
        self._streams = threading.BoundedSemaphore(config.max_streams)
        self.live = LiveFeed(config.live) if config.live else None

    # -- unary ------------------------------------------------------------------------
    def Describe(self, request, context):
        return describe(self.pipeline, self.config.limits)

    def GetJob(self, request, context):
        return self._guard(context, lambda: _job_message(self.store.get(request.job_id)))

    def ListJobs(self, request, context):
        return pb.ListJobsResponse(jobs=[_job_message(r) for r in self.store.list(request.limit)])

    def CancelJob(self, request, context):
        def cancel():
            record = self.store.get(request.job_id)
            self.store.cancel(request.job_id)
            return _job_message(record)
        return self._guard(context, cancel)

    # -- streaming --------------------------------------------------------------------
    def Generate(self, request, context):
        take_request = self._guard(context, lambda: self._take_request(request))
        slot = _Slot(self._admitted)
        if not slot.acquire():
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"server is busy: {self.config.max_running_jobs} takes running and "
                          f"{self.config.max_queued_jobs} waiting; try again later")
        try:
            yield from self._generate(request, take_request, context, slot)
        finally:
            slot.release_when_done()

    def _generate(self, request, take_request, context, slot: "_Slot"):
        key = self._guard(context, lambda: take_key(take_request, self.pipeline))
        record = self.store.create(take_request.fps, take_request.emotion, key)
        stored = self.store.cached(key)
        if stored is not None and (take_request.render is None) == (stored.media is None):
            # The same inputs and parameters made this take before: send it again.
            self.store.done(record, stored.frame_count, "done (reused a stored take)")
            yield pb.TakeMessage(progress=pb.Progress(job_id=record.job_id, stage="reused", fraction=1.0))
            yield from take_messages(stored, record.job_id, request.frames_per_batch or DEFAULT_FRAMES_PER_BATCH,
                                     send_frames=request.render.send_frames, send_video=request.render.send_video)
            return
        cancelled = self.store.cancel_event(record.job_id)
        context.add_callback(cancelled.set)          # the client went away (or its deadline passed)
        remaining = context.time_remaining()
        limit_s = min(self.config.max_job_s, remaining if remaining is not None else math.inf)
        deadline = time.monotonic() + limit_s
        updates: queue.Queue = queue.Queue()

        def progress(stage: str, fraction: float) -> None:
            if cancelled.is_set():
                raise Cancelled(f"job {record.job_id} was cancelled")
            if time.monotonic() > deadline:
                raise TimedOut(f"job {record.job_id} ran past its deadline of {limit_s:.3g} s")
            updates.put((stage, fraction))

        job = self._jobs.submit(self._make, record, take_request, progress)
        slot.job = job
        job.add_done_callback(lambda _: updates.put(None))
        # The job runs beside this handler, which streams its progress until it ends.
        yield pb.TakeMessage(progress=pb.Progress(job_id=record.job_id, stage="queued", fraction=0.0))
        sent = (None, -1.0)
        while (update := updates.get()) is not None:
            if update[0] != sent[0] or update[1] - sent[1] >= PROGRESS_STEP:
                sent = update
                yield pb.TakeMessage(progress=pb.Progress(job_id=record.job_id, stage=update[0], fraction=update[1]))
        try:
            take = job.result()
        except FaceCueError as err:
            _abort(context, err)
        except Exception as err:
            context.abort(grpc.StatusCode.INTERNAL, f"internal error in job {record.job_id}: {err}")
        if self.live is not None:
            self.live.publish(record.job_id, take, request.frames_per_batch or DEFAULT_FRAMES_PER_BATCH)
        if self.config.livelink:
            threading.Thread(target=livelink.send_take, args=(take, self.config.livelink),
                             kwargs={"subject": record.job_id}, daemon=True).start()
        yield from take_messages(take, record.job_id, request.frames_per_batch or DEFAULT_FRAMES_PER_BATCH,
                                 send_frames=request.render.send_frames, send_video=request.render.send_video)

    def _make(self, record, take_request: TakeRequest, progress) -> take_io.Take:
        """The job itself: it records how it ended, whether or not its client is still there."""
        try:
            return self.store.finish(record, self.pipeline.run(take_request, progress))
        except FaceCueError as err:
            self.store.fail(record, CANCELLED if isinstance(err, Cancelled) else FAILED, str(err))
            raise
        except Exception as err:                     # a bug: log it, record it, tell the client plainly
            log.exception("job %s failed", record.job_id)
            self.store.fail(record, FAILED, f"internal error: {err}")
            raise
        finally:
            self.store.forget_cancel(record.job_id)

    def PullTake(self, request, context):
        take = self._guard(context, lambda: self.store.load(request.job_id))
        yield from take_messages(take, request.job_id, request.frames_per_batch or DEFAULT_FRAMES_PER_BATCH,
                                 send_frames=request.send_frames, send_video=request.send_video)

    def Stream(self, request_iterator, context):
        """Audio chunks in, cue frames out as soon as they settle (see facecue.streaming)."""
        if not self._streams.acquire(blocking=False):
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"server is busy: {self.config.max_streams} streams are open; try again later")
        try:
            yield from self._stream(_IdleLimited(request_iterator, context, self.config.stream_idle_s), context)
        finally:
            self._streams.release()

    def _stream(self, messages: "_IdleLimited", context):
        first = messages.next()
        if first is None or first.WhichOneof("kind") != "config":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a Stream starts with a StreamConfig message")
        config = first.config
        session, rate = self._guard(context, lambda: self._stream_session(config))
        stream_id = uuid.uuid4().hex[:16]
        yield pb.TakeMessage(header=stream_header(stream_id, session))
        limit = self.config.limits.max_audio_s
        while (message := messages.next()) is not None:
            if message.WhichOneof("kind") != "pcm16":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "after the StreamConfig, send only pcm16 audio")
            if len(message.pcm16) % 2:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "pcm16 chunks must hold whole 16-bit samples")
            samples = np.frombuffer(message.pcm16, "<i2").astype(np.float32) / 32768
            if rate != SAMPLE_RATE:
                import soxr
                samples = soxr.resample(samples, rate, SAMPLE_RATE).astype(np.float32)
            if session.heard_s + len(samples) / SAMPLE_RATE > limit:
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"stream is longer than this server's limit of {limit:g} s")
            yield from _stream_batches(session.push(samples), session.fps)
        yield from _stream_batches(session.finish(), session.fps)
        yield pb.TakeMessage(status=pb.TakeStatus(code=pb.TakeStatus.OK, job_id=stream_id,
                                                  frames_sent=session.emitted, message="stream ended"))

    def _stream_session(self, config: pb.StreamConfig):
        image = config.image_bytes or (confine(config.image_path, self.config.storage_roots, "image")
                                       if config.image_path else None)
        if image is None:
            raise InvalidInput("StreamConfig has no image (set image_bytes or image_path)")
        request = TakeRequest(audio=b"", image=image, emotion=config.emotion or "neutral",
                              intensity=config.intensity if config.has_intensity else 1.0,
                              fps=config.fps or 30.0, seed=config.seed,
                              controls=controls_from_message(config.controls),
                              backend=config.backend or "procedural")
        request.check()
        rate = config.sample_rate or SAMPLE_RATE
        if not 8000 <= rate <= 192000:
            raise InvalidInput(f"sample_rate {rate} is outside 8000–192000 Hz")
        reference = without_expression(self.pipeline.analyze_photo(image, "stream photo"),
                                       request.controls.keep_photo_expression)
        session = StreamSession(self.pipeline.backends[request.backend], reference, emotion=request.emotion,
                                intensity=request.intensity, fps=request.fps, seed=request.seed,
                                controls=request.controls)
        return session, rate

    # -- helpers ----------------------------------------------------------------------
    def _guard(self, context, fn):
        try:
            return fn()
        except FaceCueError as err:
            _abort(context, err)

    def _take_request(self, request: pb.GenerateRequest) -> TakeRequest:
        """The request as a checked TakeRequest (bad parameters are refused before any work)."""
        audio = self._input(request, "audio")
        image = self._input(request, "image")
        take_request = TakeRequest(
            audio=audio, image=image, emotion=request.emotion or "neutral",
            intensity=request.intensity if request.has_intensity else 1.0,
            fps=request.fps if request.fps != 0 else 30.0, seed=request.seed,
            transcript=request.transcript or None, backend=request.backend or "procedural",
            audio_name=request.audio_name or None, image_name=request.image_name or None,
            render=_render_options(request), controls=controls_from_message(request.controls))
        take_request.check()
        check_audio_header(audio, max_duration_s=self.config.limits.max_audio_s, name=request.audio_name or None)
        return take_request

    def _input(self, request: pb.GenerateRequest, kind: str):
        which = request.WhichOneof(kind)
        if which is None:
            raise InvalidInput(f"request has no {kind} (set {kind}_bytes or {kind}_path)")
        if which.endswith("_bytes"):
            return getattr(request, which)
        return confine(getattr(request, which), self.config.storage_roots, kind)


class _Slot:
    """One admitted Generate's place in the queue. It is given back when the call's work is
    over: when its job ends (a client that left does not free a slot its job still uses), or
    when the call ends before any job was started."""

    def __init__(self, semaphore: threading.BoundedSemaphore):
        self._semaphore, self._lock, self._held = semaphore, threading.Lock(), False
        self.job: futures.Future | None = None

    def acquire(self) -> bool:
        self._held = self._semaphore.acquire(blocking=False)
        return self._held

    def release_when_done(self) -> None:
        if self.job is None:
            self._release()
        else:
            self.job.add_done_callback(lambda _: self._release())

    def _release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._semaphore.release()


class _IdleLimited:
    """A Stream's incoming messages, with a limit on how long the client may stay silent.

    gRPC's request iterator blocks without a timeout, so a reader thread feeds a small queue
    (its bound pushes back on a fast client) and the handler waits on the queue instead."""

    _END = object()

    def __init__(self, request_iterator, context, idle_s: float):
        self._context, self._idle_s = context, idle_s
        self._queue: queue.Queue = queue.Queue(maxsize=8)
        threading.Thread(target=self._read, args=(request_iterator,), daemon=True, name="facecue-stream-in").start()

    def _read(self, request_iterator) -> None:
        try:
            for message in request_iterator:
                self._put(message)
        except Exception:              # the call ended (cancelled, aborted, timed out): stop reading
            pass
        self._put(self._END)

    def _put(self, item) -> None:
        while self._context.is_active():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def next(self):
        """The next message, or None when the client has finished sending."""
        try:
            item = self._queue.get(timeout=self._idle_s)
        except queue.Empty:
            self._context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                                f"stream closed: nothing was received for {self._idle_s:g} s (idle timeout)")
        return None if item is self._END else item


def controls_from_message(message: pb.Controls) -> Controls:
    # Counted before anything is built from them: a message may carry millions of keys.
    if len(message.intensity_curve) > MAX_CURVE_KEYS:
        raise InvalidInput(f"intensity curve has {len(message.intensity_curve)} keys; the limit is {MAX_CURVE_KEYS}")
    if len(message.regions) > len(REGIONS) or any(len(r.mix) > len(EMOTIONS) for r in message.regions):
        raise InvalidInput(f"at most {len(REGIONS)} region mixes of at most {len(EMOTIONS)} emotions each")
    return Controls(
        intensity_curve=tuple((k.time_s, round(k.value, 6)) for k in message.intensity_curve) or None,
        regions=tuple((r.region, tuple((m.emotion, round(m.weight, 6)) for m in r.mix)) for r in message.regions),
        lip_scale=message.lip_scale if message.has_lip_scale else 1.0,
        head_scale=message.head_scale if message.has_head_scale else 1.0, gaze=not message.gaze_off,
        keep_photo_expression=message.keep_photo_expression)


def _render_options(request: pb.GenerateRequest) -> RenderOptions | None:
    if not request.HasField("render"):
        return None
    render = request.render
    return RenderOptions(size=RenderSize.parse(render.size or "512"), image_format=render.image_format or "png",
                         video=render.video)


def stream_header(stream_id: str, session: StreamSession) -> pb.TakeHeader:
    import json
    reference = session.reference
    manifest = {"stream": True, "fps": session.fps, "lookahead_s": LOOKAHEAD_S, "hop_s": HOP_S,
                "image": {"width": reference.width, "height": reference.height}, "emotion": session.emotion}
    return pb.TakeHeader(job_id=stream_id, format_version=take_io.FORMAT_VERSION, fps=session.fps, frame_count=0,
                         sample_rate=SAMPLE_RATE, image_width=reference.width, image_height=reference.height,
                         blendshape_names=ARKIT_NAMES, emotion_names=EMOTIONS, landmark_count=topo.LANDMARK_COUNT,
                         manifest_json=json.dumps(manifest))


def _stream_batches(batches, fps: float):
    for batch in batches:
        packed = {name: pack_array(values) for name, values in batch.arrays.items()}
        yield pb.TakeMessage(frames=pb.FrameBatch(start_frame=batch.start_frame, frame_count=batch.frame_count,
                                                  start_time_s=batch.start_frame / fps, **packed))


def describe(pipeline: Pipeline, limits: Limits) -> pb.DescribeResponse:
    """What this install offers: vocabularies, topology, models and limits."""
    models = [pb.Model(backend=b.name, version=b.version, native_fps=b.native_fps)
              for b in pipeline.backends.values()]
    return pb.DescribeResponse(
        server_version=__version__, format_version=take_io.FORMAT_VERSION, emotions=EMOTIONS,
        blendshape_names=ARKIT_NAMES, landmark_count=topo.LANDMARK_COUNT,
        subset_147=topo.subset_147().tolist(), gaze_regions=GAZE_REGIONS, models=models,
        limits=pb.Limits(max_audio_seconds=limits.max_audio_s, max_fps=MAX_FPS,
                         max_message_bytes=limits.max_message_bytes),
        triangles=topo.triangles().astype("<i4").tobytes())


def confine(path: str, roots: tuple[Path, ...], kind: str) -> Path:
    """Resolve a client-given path and refuse it unless it lies inside a storage root."""
    if not roots:
        raise PermissionDenied(f"{kind}_path is disabled on this server (start it with --storage-root)")
    resolved = Path(path).resolve()
    for root in roots:
        root = root.resolve()
        if resolved == root or root in resolved.parents:
            return resolved
    raise PermissionDenied(f"{kind} path '{path}' is outside the server's storage roots")


def _abort(context, err: FaceCueError):
    context.abort(getattr(grpc.StatusCode, err.grpc_code), str(err))


def _job_message(record) -> pb.Job:
    return pb.Job(job_id=record.job_id, state=pb.Job.State.Value(record.state), message=record.message,
                  frame_count=record.frame_count, fps=record.fps, emotion=record.emotion,
                  created_unix=record.created_unix)


def _bound_cpu_threads(running_jobs: int) -> None:
    """Split the cores between the jobs that run at once, so they do not oversubscribe the CPU."""
    threads = max(1, (os.cpu_count() or 1) // max(1, running_jobs))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))        # read when torch first loads
    import sys
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def build_server(config: ServerConfig, pipeline: Pipeline | None = None) -> tuple[grpc.Server, int]:
    """A started-ready server (call .start()); returns it and the bound port."""
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    if config.bound_cpu_threads:
        _bound_cpu_threads(config.max_running_jobs)
    if config.max_running_jobs > 1:
        share_cores()                             # before torch and the recogniser load
    pipeline = pipeline or Pipeline(config.limits, checkpoint=config.checkpoint, device=config.device)
    pipeline.backends["neural"].loaded           # a bad checkpoint stops the server here, with its message
    interceptors = [BearerTokenInterceptor(config.token, f"/{SERVICE_NAME}/")] if config.token else []
    # Every admitted Generate and open Stream holds a handler thread, so there are enough of
    # them, with spares so that short calls are answered when every slot is taken.
    threads = max(config.workers, config.max_running_jobs + config.max_queued_jobs + config.max_streams
                  + SPARE_HANDLERS)
    options = [("grpc.max_send_message_length", config.limits.max_message_bytes),
               ("grpc.max_receive_message_length", config.limits.max_message_bytes)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads), options=options,
                         interceptors=interceptors, maximum_concurrent_rpcs=threads)
    store = TakeStore(config.store, config.store_max_bytes)
    rpc.add_FaceCueServicer_to_server(FaceCueService(pipeline, store, config), server)
    health_servicer = health.HealthServicer()
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{config.host}:{config.port}"
    if config.tls_cert or config.tls_key:
        port = server.add_secure_port(address, server_credentials(config.tls_cert, config.tls_key))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {config.host}:{config.port}")
    return server, port
