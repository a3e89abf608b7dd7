"""Many clients at once against one server over loopback, in waves.

    python bench/load.py [--clients 100] [--waves 3] [--max-running-jobs 2]

Each wave starts ``--clients`` threads together; each asks for a cues-only take with its own
seed. Reported per wave: takes made, errors, wall time, admission-to-first-message latency
(p50, p95, max: from the call's start to the server's first answer, "queued") and the
server's resident memory after the wave (``facecue serve`` runs in its own process).
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Wave:
    takes: dict = field(default_factory=dict)           # seed → Take
    errors: list = field(default_factory=list)          # (seed, error)
    first_message_s: list = field(default_factory=list)
    seconds: float = 0.0
    rss_mb: float = 0.0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def run_wave(server: "Server", audio: Path, image: Path, seeds: list[int]) -> Wave:
    from facecue.client import FaceCueClient
    wave, lock = Wave(), threading.Lock()
    go = threading.Barrier(len(seeds))

    def one(seed: int) -> None:
        first: list[float] = []
        try:
            with FaceCueClient(server.address, timeout_s=600) as client:
                go.wait()
                start = time.perf_counter()
                take = client.generate(audio, image, seed=seed,
                                       on_progress=lambda _: first or first.append(time.perf_counter() - start))
            with lock:
                wave.takes[seed] = take
                wave.first_message_s.append(first[0])
        except Exception as err:                 # collected: the caller reports every failure
            with lock:
                wave.errors.append((seed, repr(err)))

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(900)
    wave.seconds = time.perf_counter() - start
    wave.rss_mb = rss_mb(server.process.pid)
    return wave


@dataclass
class Server:
    process: subprocess.Popen
    address: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def start_server(store: Path, clients: int, max_running_jobs: int) -> Server:
    """``facecue serve`` on a free loopback port, with a queue long enough for every client."""
    process = subprocess.Popen([sys.executable, "-m", "facecue.cli", "serve", "--port", "0", "--store", str(store),
                                "--max-running-jobs", str(max_running_jobs), "--max-queued-jobs", str(clients)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()              # "facecue server listening on 127.0.0.1:PORT (store …)"
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return Server(process, line.split("listening on ")[1].split()[0])


def percentiles(values: list[float]) -> tuple[float, float, float]:
    return (float(np.percentile(values, 50)), float(np.percentile(values, 95)), max(values)) if values else (0, 0, 0)


def inputs(folder: Path) -> tuple[Path, Path]:
    """A short recorded line and the sample photo."""
    samples = Path(__file__).resolve().parents[1] / "server" / "facecue" / "samples"
    import soundfile as sf
    audio, rate = sf.read(samples / "speech.wav", dtype="int16")
    sf.write(folder / "short.wav", audio[: int(1.5 * rate)], rate)
    return folder / "short.wav", samples / "face.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--waves", type=int, default=3)
    parser.add_argument("--max-running-jobs", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facecue-load-"))
    audio, image = inputs(folder)
    server = start_server(folder / "store", args.clients, args.max_running_jobs)
    print(f"{args.clients} clients per wave, --max-running-jobs {args.max_running_jobs}, cues only, "
          f"{audio.name} on {image.name}")
    print(f"{'wave':>4} {'made':>5} {'errors':>6} {'wall s':>7} {'first msg p50':>13} {'p95':>6} {'max':>6} {'RSS MB':>7}")
    try:
        for number in range(args.waves):
            seeds = list(range(number * args.clients, (number + 1) * args.clients))
            wave = run_wave(server, audio, image, seeds)
            p50, p95, worst = percentiles(wave.first_message_s)
            print(f"{number + 1:>4} {len(wave.takes):>5} {len(wave.errors):>6} {wave.seconds:7.1f} {p50:13.3f} "
                  f"{p95:6.3f} {worst:6.3f} {wave.rss_mb:7.0f}", flush=True)
            for seed, error in wave.errors[:3]:
                print(f"     seed {seed}: {error}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
