"""Live Link Face over real UDP sockets on loopback: every value of every frame decoded."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

from facecue import livelink, take as take_io


@pytest.fixture()
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    yield sock
    sock.close()


def _receive(sock, count):
    return [livelink.decode(sock.recv(2048)) for _ in range(count)]


def test_packet_layout_round_trips():
    values = np.arange(61, dtype=np.float32) / 100
    packet = livelink.encode(values, 42, (30000, 1001), subject="Ana", device_id="dev")
    assert packet[0] == 6 and len(packet) == 1 + 4 + 3 + 4 + 3 + 16 + 1 + 61 * 4
    frame = livelink.decode(packet)
    assert (frame.device_id, frame.subject, frame.frame, frame.rate) == ("dev", "Ana", 42, (30000, 1001))
    assert np.array_equal(frame.values, values)
    assert livelink.CHANNELS[17] == "JawOpen" and livelink.CHANNELS[52:55] == ("HeadYaw", "HeadPitch", "HeadRoll")
    with pytest.raises(ValueError):
        livelink.encode(values[:52], 0, (30, 1))


def test_a_take_arrives_whole_and_in_order(happy_take, receiver):
    take = happy_take
    count = 45
    short = take_io.Take(manifest={**take.manifest, "frame_count": count},
                         arrays={k: v[:count] for k, v in take.arrays.items()}, audio_wav=take.audio_wav)
    thread = threading.Thread(target=lambda: result.append(
        livelink.send_take(short, receiver.getsockname(), subject="Take7")))
    result = []
    thread.start()
    frames = _receive(receiver, count)
    thread.join()
    assert [f.frame for f in frames] == list(range(count)) and {f.subject for f in frames} == {"Take7"}
    assert frames[0].rate == (30, 1)
    values = np.stack([f.values for f in frames])
    assert np.array_equal(values[:, :52], short.blendshapes)
    assert np.allclose(values[:, 52:55], np.deg2rad(short.pose[:, :3]), atol=1e-6)
    assert np.allclose(values[:, 55:57], np.deg2rad(short.gaze_angles[:, 0]), atol=1e-6)      # left eye yaw, pitch
    assert np.allclose(values[:, 58:60], np.deg2rad(short.gaze_angles[:, 1]), atol=1e-6)
    jitter = result[0].jitter_ms()
    assert result[0].frames == count and jitter["max"] >= 0
    assert result[0].sent_at[-1] == pytest.approx((count - 1) / 30, abs=0.25)    # paced at the take's rate


def test_cli_sends_a_take_and_refuses_a_bad_target(happy_take, receiver, tmp_path):
    take = happy_take
    short = take_io.Take(manifest={**take.manifest, "frame_count": 10},
                         arrays={k: v[:10] for k, v in take.arrays.items()}, audio_wav=take.audio_wav)
    path = take_io.write(short, tmp_path / "take")
    host, port = receiver.getsockname()
    process = subprocess.Popen([sys.executable, "-m", "facecue.cli", "livelink", "--take", str(path), "--target",
                                f"{host}:{port}", "--subject", "cli"], stdout=subprocess.PIPE, text=True)
    frames = _receive(receiver, 10)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "sent 10 frames" in out
    assert [f.subject for f in frames] == ["cli"] * 10
    bad = subprocess.run([sys.executable, "-m", "facecue.cli", "livelink", "--take", str(path), "--target", "nowhere"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "should look like host:port" in bad.stderr


def test_server_plays_each_generated_take_to_live_link(pipeline, assets, receiver, tmp_path):
    from facecue.client import FaceCueClient
    from facecue.server import ServerConfig, build_server
    config = ServerConfig(port=0, store=tmp_path / "store", livelink=receiver.getsockname())
    server, port = build_server(config, pipeline)
    server.start()
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as client:
            take = client.generate(assets / "speech.wav", assets / "face.png", emotion="happy")
        first = _receive(receiver, 5)
    finally:
        server.stop(grace=1).wait()
    job_id = first[0].subject
    assert len(job_id) == 16 and [f.frame for f in first] == [0, 1, 2, 3, 4]
    assert np.array_equal(np.stack([f.values[:52] for f in first]), take.blendshapes[:5])


def test_the_device_id_is_a_stable_uuid_and_the_subject_is_kept():
    import re
    values = np.zeros(len(livelink.CHANNELS), np.float32)
    first = livelink.decode(livelink.encode(values, 0, (30, 1), subject="Ana"))
    again = livelink.decode(livelink.encode(values, 1, (30, 1), subject="Ana"))
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", first.device_id)
    assert first.device_id == again.device_id == livelink.default_device_id() and first.subject == "Ana"
