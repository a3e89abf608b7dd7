"""The real server on a loopback port, driven by the real client."""
import numpy as np
import pytest
import soundfile as sf

from facecue import take as take_io
from facecue.client import FaceCueClient, FaceCueClientError
from facecue.config import Controls, TakeRequest
from facecue.store import TakeStore


def test_describe(client):
    info = client.describe()
    assert list(info.emotions) == ["neutral", "angry", "contempt", "disgusted", "fear", "happy", "sad", "surprised"]
    assert len(info.blendshape_names) == 52 and info.landmark_count == 478 and info.gaze_regions == 10
    assert len(info.subset_147) == 147 and info.models[0].backend == "procedural"
    triangles = np.frombuffer(info.triangles, "<i4").reshape(-1, 3)
    assert triangles.max() == 467 and len(triangles) > 800


def test_generate_streams_the_same_take_as_the_pipeline(client, pipeline, assets, tmp_path):
    progress = []
    take = client.generate(assets / "speech.wav", assets / "face.png", emotion="sad", fps=25, seed=5,
                           on_progress=progress.append)
    local = pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png",
                                     emotion="sad", fps=25, seed=5))
    for name, array in local.arrays.items():
        np.testing.assert_array_equal(take.arrays[name], array, err_msg=name)
    assert take.audio_wav == local.audio_wav and take.photo == local.photo and take.photo[:2] == b"\xff\xd8"
    assert progress[-1] == 1.0 and progress == sorted(progress)
    take_io.load(take_io.write(take, tmp_path / "take"))     # a client can save what it received


def test_finished_takes_can_be_pulled_again_and_survive_restart(client, server, assets):
    client.generate(assets / "speech.wav", assets / "face.png", emotion="fear", seed=1)
    job = client.jobs(limit=1)[0]
    assert job.state == job.DONE and job.emotion == "fear"
    pulled = client.pull(job.job_id)
    reopened = TakeStore(server["store"])
    stored = take_io.load(reopened.take_path(reopened.get(job.job_id).content_key))
    np.testing.assert_array_equal(pulled.landmarks_image, stored.landmarks_image)
    assert client.job(job.job_id).frame_count == pulled.frame_count
    assert TakeStore(server["store"]).get(job.job_id).state == "DONE", "a new store process finds it"


def test_server_paths_only_inside_storage_roots(client, assets, tmp_path):
    take = client.generate(assets / "speech.wav", assets / "face.png", server_paths=True)
    assert take.frame_count > 0
    with pytest.raises(FaceCueClientError) as err:
        client.generate(str(assets / ".." / "elsewhere.wav"), assets / "face.png", server_paths=True)
    assert err.value.code == "PERMISSION_DENIED" and "outside the server's storage roots" in err.value.message


@pytest.mark.parametrize("case,code,match", [
    ("no_face", "INVALID_ARGUMENT", "no face found"),
    ("bad_audio", "INVALID_ARGUMENT", "cannot read audio"),
    ("silence", "INVALID_ARGUMENT", "silent"),
    ("fps", "INVALID_ARGUMENT", "below the supported 1"),
    ("emotion", "INVALID_ARGUMENT", "unknown emotion"),
    ("too_long", "RESOURCE_EXHAUSTED", "limit is 20 s"),
    ("unknown_job", "NOT_FOUND", "no job"),
    ("nan_curve", "INVALID_ARGUMENT", "must be finite"),
    ("curve_keys", "INVALID_ARGUMENT", "100001 keys; the limit is 100000"),
    ("transcript", "INVALID_ARGUMENT", "the limit is 50000"),
])
def test_errors_carry_status_codes_and_precise_messages(client, assets, tmp_path, case, code, match):
    speech, face = assets / "speech.wav", assets / "face.png"
    silent, long = tmp_path / "silent.wav", tmp_path / "long.wav"
    sf.write(silent, np.zeros(32000, np.float32), 16000)
    sf.write(long, 0.2 * np.sin(np.arange(16000 * 25) * 0.05).astype(np.float32), 16000)
    calls = {
        "no_face": lambda: client.generate(speech, assets / "blank.png"),
        "bad_audio": lambda: client.generate(b"not audio at all", face),
        "silence": lambda: client.generate(silent, face),
        "fps": lambda: client.generate(speech, face, fps=-1),
        "emotion": lambda: client.generate(speech, face, emotion="bored"),
        "too_long": lambda: client.generate(long, face),
        "unknown_job": lambda: client.pull("0000000000000000"),
        "nan_curve": lambda: client.generate(speech, face, controls=Controls(intensity_curve=((float("nan"), 1.0),))),
        "curve_keys": lambda: client.generate(speech, face, controls=Controls(
            intensity_curve=tuple((k / 100, 0.5) for k in range(100_001)))),
        "transcript": lambda: client.generate(speech, face, transcript="word " * 10_001),
    }
    with pytest.raises(FaceCueClientError) as err:
        calls[case]()
    assert err.value.code == code and match in err.value.message


def test_failed_jobs_are_recorded(client, assets):
    with pytest.raises(FaceCueClientError):
        client.generate(assets / "speech.wav", assets / "blank.png")
    failed = [j for j in client.jobs() if j.state == j.FAILED]
    assert failed and "no face" in failed[0].message


def test_unreachable_server_is_a_clear_error():
    with FaceCueClient("127.0.0.1:1", timeout_s=3) as c:
        with pytest.raises(FaceCueClientError) as err:
            c.describe()
    assert err.value.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED")


def test_health_and_reflection(server):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    with grpc.insecure_channel(server["address"]) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="facecue.v1.FaceCue"), timeout=5).status
    assert status == health_pb2.HealthCheckResponse.SERVING


def _certificate(folder):
    import subprocess
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_token_and_tls(pipeline, assets, tmp_path):
    from facecue.server import ServerConfig, build_server
    cert, key = _certificate(tmp_path)
    token = "s3cret-token-for-tests"
    config = ServerConfig(port=0, store=tmp_path / "store", token=token, tls_cert=cert, tls_key=key)
    server, port = build_server(config, pipeline)
    server.start()
    try:
        roots = cert.read_bytes()
        with FaceCueClient(f"localhost:{port}", token=token, root_certificates=roots, timeout_s=60) as client:
            assert client.describe().landmark_count == 478
            take = client.generate(assets / "speech.wav", assets / "face.png")
            assert take.frame_count > 0
        for wrong in (None, "not-the-token-at-all"):
            with FaceCueClient(f"localhost:{port}", token=wrong, root_certificates=roots, timeout_s=10) as client:
                with pytest.raises(FaceCueClientError) as err:
                    client.describe()
                assert err.value.code == "UNAUTHENTICATED"
                with pytest.raises(FaceCueClientError) as err:
                    client.generate(assets / "speech.wav", assets / "face.png")
                assert err.value.code == "UNAUTHENTICATED"
        with FaceCueClient(f"localhost:{port}", token=token, timeout_s=5) as plain:     # no TLS: refused
            with pytest.raises(FaceCueClientError) as err:
                plain.describe()
            assert err.value.code == "UNAVAILABLE"
    finally:
        server.stop(grace=1).wait()


def test_symlink_escapes_are_refused(client, assets, tmp_path):
    outside = tmp_path / "secret.wav"
    outside.write_bytes((assets / "speech.wav").read_bytes())
    link = assets / "link-out.wav"
    link.symlink_to(outside)
    try:
        with pytest.raises(FaceCueClientError) as err:
            client.generate(str(link), assets / "face.png", server_paths=True)
        assert err.value.code == "PERMISSION_DENIED"
    finally:
        link.unlink()


def test_a_full_queue_answers_resource_exhausted(pipeline, assets, tmp_path):
    import threading
    from facecue.server import ServerConfig, build_server
    config = ServerConfig(port=0, store=tmp_path / "store", max_running_jobs=1, max_queued_jobs=0)
    server, port = build_server(config, pipeline)
    server.start()
    started, results = threading.Event(), []

    def long_job():
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as c:
            results.append(c.generate(assets / "speech.wav", assets / "face.png", render=True, size="256",
                                      on_progress=lambda f: started.set()))
    worker = threading.Thread(target=long_job)
    worker.start()
    try:
        assert started.wait(60)
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=30) as c:
            with pytest.raises(FaceCueClientError) as err:
                c.generate(assets / "speech.wav", assets / "face.png")
        assert err.value.code == "RESOURCE_EXHAUSTED" and "server is busy" in err.value.message
        worker.join(120)
        assert results and results[0].frame_count > 0           # the running take was not disturbed
    finally:
        server.stop(grace=1).wait()


def test_identical_requests_reuse_the_stored_take(client, server, assets):
    import time
    first = client.generate(assets / "speech.wav", assets / "face.png", emotion="angry", seed=11)
    first_job = client.last_job_id
    start = time.perf_counter()
    again = client.generate(assets / "speech.wav", assets / "face.png", emotion="angry", seed=11)
    assert time.perf_counter() - start < 2.0
    np.testing.assert_array_equal(again.landmarks_image, first.landmarks_image)
    assert client.last_job_id != first_job and client.job(client.last_job_id).message.startswith("done (reused")
    store = TakeStore(server["store"])
    assert store.get(first_job).content_key == store.get(client.last_job_id).content_key
    different = client.generate(assets / "speech.wav", assets / "face.png", emotion="angry", seed=12)
    assert not np.array_equal(different.pose, first.pose)


def test_quota_evicts_the_least_recently_used_take(pipeline, assets, tmp_path):
    from facecue.server import ServerConfig, build_server
    config = ServerConfig(port=0, store=tmp_path / "store", store_max_bytes=1)     # room for the newest only
    grpc_server, port = build_server(config, pipeline)
    grpc_server.start()
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as c:
            c.generate(assets / "speech.wav", assets / "face.png", seed=1)
            old_job = c.last_job_id
            c.generate(assets / "speech.wav", assets / "face.png", seed=2)
            assert c.pull(c.last_job_id).frame_count > 0
            with pytest.raises(FaceCueClientError) as err:
                c.pull(old_job)
            assert err.value.code == "NOT_FOUND" and "evicted" in err.value.message
        assert len(list((tmp_path / "store" / "takes").glob("*/*"))) == 1
    finally:
        grpc_server.stop(grace=1).wait()


def test_oversized_uploads_are_refused(pipeline, assets, tmp_path):
    from facecue.config import Limits
    from facecue.server import ServerConfig, build_server
    config = ServerConfig(port=0, store=tmp_path / "store", limits=Limits(max_message_bytes=64 * 1024))
    server, port = build_server(config, pipeline)
    server.start()
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=30) as c:
            assert c.describe().limits.max_message_bytes == 64 * 1024
            with pytest.raises(FaceCueClientError) as err:
                c.generate(assets / "speech.wav", assets / "face.png")           # ~280 KB of audio
            assert err.value.code == "RESOURCE_EXHAUSTED"
    finally:
        server.stop(grace=1).wait()
