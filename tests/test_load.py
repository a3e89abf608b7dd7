"""Many clients at once on loopback: every take completes and is right, none is lost, and the
server's memory does not grow from one wave of clients to the next."""
from __future__ import annotations

import resource
import threading

import numpy as np

from facecue.client import FaceCueClient
from facecue.config import TakeRequest
from facecue.server import ServerConfig, build_server

from .conftest import speak

CLIENTS = 50


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def test_fifty_concurrent_clients(pipeline, tmp_path):
    audio = speak(tmp_path / "short.wav", "Yes, right now.")
    from PIL import Image
    from skimage import data
    Image.fromarray(data.astronaut()).save(tmp_path / "face.png")
    config = ServerConfig(port=0, store=tmp_path / "store", max_running_jobs=2, max_queued_jobs=CLIENTS)
    server, port = build_server(config, pipeline)
    server.start()
    expected = {seed: pipeline.run(TakeRequest(audio=audio, image=tmp_path / "face.png", seed=seed)).pose
                for seed in (0, 1)}

    def wave(seeds: list[int]) -> dict[int, object]:
        results, errors = {}, []

        def one(seed: int) -> None:
            try:
                with FaceCueClient(f"127.0.0.1:{port}", timeout_s=300) as client:
                    results[seed] = client.generate(audio, tmp_path / "face.png", seed=seed)
            except Exception as err:                # collected: the test reports every failure
                errors.append((seed, err))
        threads = [threading.Thread(target=one, args=(seed,)) for seed in seeds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert not errors, errors
        return results

    try:
        first = wave(list(range(CLIENTS // 2)))
        after_first = _rss_mb()
        second = wave(list(range(CLIENTS // 2, CLIENTS)))
        after_second = _rss_mb()
    finally:
        server.stop(grace=2).wait()
    results = {**first, **second}
    assert sorted(results) == list(range(CLIENTS))                 # nobody lost
    for seed, pose in expected.items():
        np.testing.assert_array_equal(results[seed].pose, pose)    # and each take is the right one
    assert len({results[s].pose.tobytes() for s in results}) == CLIENTS
    assert after_second - after_first < 150, (after_first, after_second)
