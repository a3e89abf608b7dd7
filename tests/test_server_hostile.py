"""The server against stuck, vanishing and unauthenticated clients: idle streams are closed,
jobs whose client left end CANCELLED, deadlines stop work, slots come back on every exit path,
pipes and folders under a storage root are refused, leftovers of a killed server are swept."""
from __future__ import annotations

import os
import threading
import time

import grpc
import pytest

from facecue.client import FaceCueClient, FaceCueClientError
from facecue.config import Limits
from facecue.server import ServerConfig, build_server
from facecue.store import TakeStore
from facecue.v1 import facecue_pb2 as pb
from facecue.v1 import facecue_pb2_grpc as rpc

TOKEN = "a-test-token-of-some-length"


@pytest.fixture(scope="module")
def tight(pipeline, assets, tmp_path_factory):
    """One job at a time, no queue, two streams that may idle for one second."""
    root = tmp_path_factory.mktemp("root")
    (root / "face.png").write_bytes((assets / "face.png").read_bytes())
    (root / "speech.wav").write_bytes((assets / "speech.wav").read_bytes())
    config = ServerConfig(port=0, store=tmp_path_factory.mktemp("store"), storage_roots=(root,),
                          max_running_jobs=1, max_queued_jobs=0, max_streams=2, stream_idle_s=1.0,
                          limits=Limits(max_audio_s=60.0))
    server, port = build_server(config, pipeline)
    server.start()
    yield {"address": f"127.0.0.1:{port}", "root": root, "config": config}
    server.stop(grace=1).wait()


def _stub(address: str):
    channel = grpc.insecure_channel(address)
    return channel, rpc.FaceCueStub(channel)


def _silent_stream(stub, image: bytes, held: threading.Event):
    """A Stream that sends its config and then nothing until ``held`` is set."""
    def requests():
        yield pb.StreamRequest(config=pb.StreamConfig(image_bytes=image))
        held.wait(60)
    return stub.Stream(requests(), timeout=60)


def test_idle_streams_are_closed_and_never_starve_other_calls(tight, assets):
    channel, stub = _stub(tight["address"])
    image = (assets / "face.png").read_bytes()
    held = threading.Event()
    try:
        streams = [_silent_stream(stub, image, held) for _ in range(2)]
        for stream in streams:
            assert next(stream).WhichOneof("kind") == "header"
        third = _silent_stream(stub, image, held)
        with pytest.raises(grpc.RpcError) as refused:
            next(third)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "2 streams" in refused.value.details()
        assert stub.Describe(pb.DescribeRequest(), timeout=5).server_version        # still answered
        for stream in streams:                                                      # then the idle ones go
            with pytest.raises(grpc.RpcError) as closed:
                list(stream)
            assert closed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert "idle timeout" in closed.value.details()
        again = _silent_stream(stub, image, held)                                   # their slots came back
        assert next(again).WhichOneof("kind") == "header"
        again.cancel()
    finally:
        held.set()
        channel.close()


def _job_state(address: str, job_id: str, wanted: str, within_s: float = 60.0) -> str:
    with FaceCueClient(address, timeout_s=10) as client:
        deadline = time.time() + within_s
        while time.time() < deadline:
            state = pb.Job.State.Name(client.job(job_id).state)
            if state == wanted:
                return state
            time.sleep(0.1)
        return state


def _render_request(root) -> pb.GenerateRequest:
    return pb.GenerateRequest(audio_path=str(root / "speech.wav"), image_path=str(root / "face.png"),
                              render=pb.RenderRequest(size="512", image_format="png", video=True,
                                                      send_frames=True, send_video=True))


def test_a_client_that_leaves_mid_render_leaves_a_cancelled_job_and_a_free_slot(tight):
    channel, stub = _stub(tight["address"])
    call = stub.Generate(_render_request(tight["root"]), timeout=120)
    job_id = None
    for message in call:
        if message.WhichOneof("kind") == "progress":
            job_id = message.progress.job_id
            if message.progress.stage.startswith("render"):
                break
    call.cancel()
    channel.close()
    assert job_id and _job_state(tight["address"], job_id, "CANCELLED") == "CANCELLED"
    with FaceCueClient(tight["address"], timeout_s=120) as client:      # the only slot is free again
        assert client.generate(tight["root"] / "speech.wav", tight["root"] / "face.png",
                               server_paths=True, seed=11).frame_count > 0


def test_a_passed_deadline_stops_the_job(tight):
    channel, stub = _stub(tight["address"])
    request = _render_request(tight["root"])
    request.seed = 12
    job_id = None
    with pytest.raises(grpc.RpcError) as late:
        for message in stub.Generate(request, timeout=2.0):
            if message.WhichOneof("kind") == "progress":
                job_id = message.progress.job_id
    channel.close()
    assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert job_id and _job_state(tight["address"], job_id, "CANCELLED") == "CANCELLED"


def test_the_servers_own_job_limit(pipeline, assets, tmp_path):
    config = ServerConfig(port=0, store=tmp_path / "store", storage_roots=(assets,), max_job_s=0.5)
    server, port = build_server(config, pipeline)
    server.start()
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as client:
            with pytest.raises(FaceCueClientError) as stopped:
                client.generate(assets / "speech.wav", assets / "face.png", render=True, seed=13)
            assert stopped.value.code == "DEADLINE_EXCEEDED" and "deadline of 0.5 s" in str(stopped.value)
            state = client.job(client.last_job_id)
            assert pb.Job.State.Name(state.state) == "FAILED" and "deadline" in state.message
    finally:
        server.stop(grace=1).wait()


@pytest.mark.parametrize("make,message", [
    (lambda p: os.mkfifo(p), "not a regular file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: None, "does not exist"),
])
def test_pipes_and_folders_under_a_root_are_refused_at_once(tight, make, message):
    path = tight["root"] / f"odd-{make.__code__.co_firstlineno}-{message[:3]}.wav"
    make(path)
    with FaceCueClient(tight["address"], timeout_s=10) as client:
        start = time.perf_counter()
        with pytest.raises(FaceCueClientError) as refused:
            client.generate(path, tight["root"] / "face.png", server_paths=True)
    assert refused.value.code == "INVALID_ARGUMENT" and message in str(refused.value)
    assert time.perf_counter() - start < 5


def test_unauthenticated_uploads_are_refused_unparsed(pipeline, tmp_path):
    config = ServerConfig(port=0, store=tmp_path / "store", token=TOKEN)
    server, port = build_server(config, pipeline)
    server.start()
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        raw = channel.unary_stream(f"/{pb.DESCRIPTOR.services_by_name['FaceCue'].full_name}/Generate",
                                   request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as refused:
            list(raw(b"\xff\xff not a protobuf \xff", timeout=10))   # parsing this would fail with INTERNAL
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        channel.close()
    finally:
        server.stop(grace=1).wait()


def test_a_restarted_store_sweeps_what_a_killed_server_left(tmp_path):
    store = TakeStore(tmp_path)
    partial = tmp_path / "takes" / "ab" / ".abcdef.partial-1234abcd"
    partial.mkdir(parents=True)
    (partial / "cues.npz").write_bytes(b"\0" * 1000)
    retired = tmp_path / "takes" / "cd" / ".cdef.old-1234abcd"
    retired.mkdir(parents=True)
    store._db.execute("INSERT INTO takes VALUES ('ab' || 'cdef', 5000, 10, 0, 0)")   # a take whose folder is gone
    assert store.usage_bytes() == 5000
    store._db.close()
    again = TakeStore(tmp_path)
    assert again.swept == 3 and not partial.exists() and not retired.exists()
    assert again.usage_bytes() == 0
