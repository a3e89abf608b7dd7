"""The ZeroMQ live feed over real sockets: every batch of a generated take, in order."""
from __future__ import annotations

import socket
import time

import numpy as np

from facecue.client import FaceCueClient, LiveFeedSubscriber
from facecue.server import ServerConfig, build_server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_batch_of_every_take_is_published(pipeline, assets, tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    server, port = build_server(ServerConfig(port=0, store=tmp_path / "store", live=address), pipeline)
    server.start()
    try:
        with LiveFeedSubscriber(address) as feed, FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as client:
            time.sleep(0.3)                                   # let the subscription reach the publisher
            take = client.generate(assets / "speech.wav", assets / "face.png", emotion="happy")
            batches = list(feed.batches(timeout_s=3))
            assert {b.job_id for b in batches} == {client.last_job_id}
            assert [b.start_frame for b in batches] == list(range(0, take.frame_count, 64))
            assert batches[-1].final and not any(b.final for b in batches[:-1])
            assert batches[0].fps == take.fps and batches[0].take_frames == take.frame_count
            for name in ("blendshapes", "pose", "landmarks_image", "gaze_labels"):
                joined = np.concatenate([b.arrays[name] for b in batches])
                np.testing.assert_array_equal(joined, take.arrays[name], err_msg=name)

            with LiveFeedSubscriber(address, job_id="no-such-job") as other:
                time.sleep(0.3)
                client.generate(assets / "speech.wav", assets / "face.png")
                assert other.receive(timeout_s=1) is None      # topics filter by job id
                assert feed.receive(timeout_s=3).job_id == client.last_job_id
    finally:
        server.stop(grace=1).wait()
