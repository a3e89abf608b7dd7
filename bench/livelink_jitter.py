"""Live Link Face send-rate stability over loopback at 30 and 60 fps, side by side.

    python bench/livelink_jitter.py [--seconds 10] [--rates 30 60]

A receiver thread timestamps every packet on arrival; lateness is arrival time minus the
frame's slot (first arrival + i / fps). Prints mean, p50, p95 and max lateness and the
achieved rate as a ratio of the asked one.
"""
from __future__ import annotations

import argparse
import socket
import threading
import time

import numpy as np

from facecue import livelink, take as take_io
from facecue.names import ARKIT_NAMES, EMOTIONS


def synthetic_take(seconds: float, fps: float):
    frames = int(seconds * fps)
    arrays = {"blendshapes": np.random.default_rng(0).random((frames, 52), np.float32),
              "pose": np.zeros((frames, 6), np.float32), "gaze_angles": np.zeros((frames, 2, 2), np.float32)}
    manifest = {"fps": fps, "frame_count": frames, "blendshape_names": list(ARKIT_NAMES), "emotion_names": list(EMOTIONS)}
    return take_io.Take(manifest=manifest, arrays=arrays, audio_wav=b"")


def measure(seconds: float, fps: float) -> dict:
    take = synthetic_take(seconds, fps)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    arrivals: list[float] = []

    def listen():
        for _ in range(take.frame_count):
            receiver.recv(2048)
            arrivals.append(time.perf_counter())
    thread = threading.Thread(target=listen)
    thread.start()
    livelink.send_take(take, receiver.getsockname(), fps=fps)
    thread.join(timeout=5)
    receiver.close()
    arrived = np.asarray(arrivals)
    late = (arrived - arrived[0] - np.arange(len(arrived)) / fps) * 1000
    achieved = (len(arrived) - 1) / (arrived[-1] - arrived[0])
    return {"fps": fps, "frames": len(arrived), "mean": late.mean(), "p50": np.percentile(late, 50),
            "p95": np.percentile(late, 95), "max": late.max(), "rate": achieved / fps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", nargs="+", type=float, default=[30.0, 60.0])
    args = parser.parse_args()
    rows = [measure(args.seconds, fps) for fps in args.rates]
    print(f"Live Link Face over loopback, {args.seconds:g} s per rate (lateness in ms against each frame's slot)")
    print(f"{'fps':>5} {'frames':>7} {'mean':>7} {'p50':>7} {'p95':>7} {'max':>7} {'rate / asked':>13}")
    for r in rows:
        print(f"{r['fps']:>5g} {r['frames']:>7} {r['mean']:>7.3f} {r['p50']:>7.3f} {r['p95']:>7.3f} {r['max']:>7.3f} "
              f"{r['rate']:>12.5f}×")


if __name__ == "__main__":
    main()
