"""Many clients at once on loopback (bench/load.py's driver): 100 concurrent clients in each
of three waves against two running jobs. Every take completes and is the right one, none is
lost, and the server's memory stays flat from wave to wave."""
from __future__ import annotations

import numpy as np

from bench.load import inputs, percentiles, run_wave, start_server
from facecue.config import TakeRequest

CLIENTS, WAVES = 100, 3


def test_a_hundred_concurrent_clients_in_three_waves(pipeline, tmp_path):
    audio, image = inputs(tmp_path)
    server = start_server(tmp_path / "store", CLIENTS, max_running_jobs=2)       # `facecue serve`, its own process
    try:
        waves = [run_wave(server, audio, image, list(range(n * CLIENTS, (n + 1) * CLIENTS))) for n in range(WAVES)]
    finally:
        server.stop()
    for wave in waves:
        assert not wave.errors, wave.errors[:5]
    takes = {seed: take for wave in waves for seed, take in wave.takes.items()}
    assert sorted(takes) == list(range(CLIENTS * WAVES))                         # nobody lost
    for seed in (0, 1, CLIENTS + 7, CLIENTS * WAVES - 1):      # each take is the right one (made in this process)
        alone = pipeline.run(TakeRequest(audio=audio, image=image, seed=seed))
        np.testing.assert_array_equal(takes[seed].pose, alone.pose)
        np.testing.assert_array_equal(takes[seed].blendshapes, alone.blendshapes)
    assert len({take.pose.tobytes() for take in takes.values()}) == CLIENTS * WAVES
    rss = [wave.rss_mb for wave in waves]
    p95 = [percentiles(wave.first_message_s)[1] for wave in waves]
    print(f"RSS after each wave {rss} MB; admission-to-first-message p95 {p95} s")
    assert max(rss[1:]) - rss[0] < 150 and abs(rss[2] - rss[1]) < 60, rss
    assert max(p95) < 5.0, p95                   # admission answers at once, however long the queue
