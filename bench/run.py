"""The figures that matter, in one run, side by side (each as a ratio to real time).

    python bench/run.py [--quick]

- cue generation: frames/s for a 30 s take, cues only, whole pipeline (procedural and neural backends)
- rendering: frames/s at 256² and 512² (the device's default batch)
- batch: takes/min of ``facecue batch`` (a fresh process, start-up included) for the same 8 s
  takes with 1 and 2 local workers, on a Ray cluster this run boots (``--ray local``) and on
  one already running on this machine with 2 CPUs (``ray start --head``, then ``--ray auto``: a farm's case),
  the first batch there and the next, which finds the workers the first left loaded
- Stream: end-to-end latency (audio sent → cue frame received), p50 and p95, with audio sent in
  20 ms chunks at the speed it is spoken, over loopback
- server memory (RSS) after all of that
"""
from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "server" / "facecue" / "samples"
FPS = 30.0


def speech(folder: Path, seconds: float, name: str) -> Path:
    raw, out = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    text = " ".join([(SAMPLES / "speech.txt").read_text().strip()] * (int(seconds / 8) + 1))
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-t", str(seconds), "-ar", "16000",
                    "-ac", "1", str(out)], check=True)
    return out


def cue_rate(pipeline, audio: Path, backend: str = "procedural") -> tuple[float, float]:
    from facecue.config import TakeRequest
    request = TakeRequest(audio=audio, image=SAMPLES / "face.jpg", backend=backend)
    pipeline.run(request)                                         # warm: models loaded, kernels compiled
    start = time.perf_counter()
    take = pipeline.run(request)
    elapsed = time.perf_counter() - start
    return take.frame_count / elapsed, take.manifest["duration_s"] / elapsed


def render_rate(size: str) -> float:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "render.py"), "--one", size, "8", "--frames", "128"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["fps"]


def batch_rate(folder: Path, audio: Path, takes: int, *options: str) -> float:
    """Takes/min of ``facecue batch`` run as a farm job would run it: a fresh process,
    worker start-up included."""
    manifest = folder / "jobs.jsonl"
    manifest.write_text("\n".join(json.dumps({"name": f"t{i}", "audio": str(audio), "image": str(SAMPLES / "face.jpg"),
                                              "seed": i}) for i in range(takes)))
    out = Path(tempfile.mkdtemp(dir=folder))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out", str(out), *options],
                   check=True, capture_output=True)
    return takes / (time.perf_counter() - start) * 60


@contextlib.contextmanager
def running_ray_cluster(cpus: int):
    """A Ray head on this machine for the length of the block, as a farm keeps one up."""
    ray = str(Path(sys.executable).with_name("ray"))
    subprocess.run([ray, "start", "--head", f"--num-cpus={cpus}", "--include-dashboard=false"],
                   check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run([ray, "stop", "--force"], check=True, capture_output=True)


def stream_latency(pipeline, audio_path: Path) -> np.ndarray:
    from facecue.audio import load_audio
    from facecue.client import FaceCueClient
    from facecue.server import ServerConfig, build_server
    server, port = build_server(ServerConfig(port=0, store=Path(tempfile.mkdtemp())), pipeline)
    server.start()
    samples = (load_audio(audio_path).samples * 32767).astype("<i2")
    chunk = 320                                                   # 20 ms at 16 kHz
    sent_at: dict[int, float] = {}

    def paced():
        start = time.perf_counter()
        for index in range(0, len(samples), chunk):
            delay = start + index / 16000 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            yield samples[index: index + chunk].tobytes()
            sent_at[index + chunk] = time.perf_counter()          # audio up to this sample has left
    latencies = []
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=120) as client:
            for start_frame, arrays in client.stream(paced(), SAMPLES / "face.jpg", fps=FPS):
                now = time.perf_counter()
                for frame in range(start_frame, start_frame + len(arrays["pose"])):
                    needed = int(np.floor(frame / FPS * 16000 / chunk)) * chunk + chunk   # the chunk holding it
                    sent = sent_at.get(needed) or max(sent_at.values())
                    latencies.append(now - sent)
    finally:
        server.stop(grace=1).wait()
    return np.asarray(latencies) * 1000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter inputs, fewer takes")
    args = parser.parse_args()
    import torch

    from facecue.pipeline import Pipeline
    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    pipeline = Pipeline()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        long_audio = speech(folder, 10 if args.quick else 30, "long")
        short = speech(folder, 8, "short")
        frames_s, realtime = cue_rate(pipeline, long_audio)
        rows.append(("cue generation, cues only", f"{frames_s:,.0f} frames/s", f"{realtime:.1f}× real time"))
        frames_s, realtime = cue_rate(pipeline, long_audio, "neural")
        rows.append(("  … neural backend, one take", f"{frames_s:,.0f} frames/s", f"{realtime:.1f}× real time"))
        for size in ("256", "512"):
            fps = render_rate(size)
            rows.append((f"rendering {size}²", f"{fps:.1f} frames/s", f"{fps / FPS:.2f}× real time"))
        takes = 6 if args.quick else 16
        one = batch_rate(folder, short, takes, "--workers", "1")
        two = batch_rate(folder, short, takes, "--workers", "2")
        on_ray = batch_rate(folder, short, takes, "--ray", "local")
        with running_ray_cluster(2):
            on_cluster = batch_rate(folder, short, takes, "--ray", "auto", "--ray-keep-warm", "60")
            on_warm = batch_rate(folder, short, takes, "--ray", "auto", "--ray-keep-warm", "0")   # the workers above
        rows.append(("batch, 1 worker", f"{one:.1f} takes/min", f"{one * 8 / 60:.1f}× real time (8 s takes)"))
        rows.append(("batch, 2 workers", f"{two:.1f} takes/min", f"{two / one:.2f}× 1 worker"))
        rows.append(("batch, Ray (booted by the run)", f"{on_ray:.1f} takes/min",
                     f"{on_ray / two:.2f}× 2 workers (cluster start and stop included)"))
        rows.append(("batch, Ray (running cluster)", f"{on_cluster:.1f} takes/min", f"{on_cluster / two:.2f}× 2 workers"))
        rows.append(("  … its workers warm from a batch before", f"{on_warm:.1f} takes/min", f"{on_warm / two:.2f}× 2 workers"))
        latency = stream_latency(pipeline, speech(folder, 8, "stream"))
        rows.append(("Stream latency p50 / p95", f"{np.percentile(latency, 50):.0f} / {np.percentile(latency, 95):.0f} ms",
                     "audio sent → frame received, 20 ms chunks"))
        rows.append(("server process RSS", f"{rss_mb():.0f} MiB", "after everything above"))
    print(f"FaceCue bench on {device}")
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>18}  {ratio}")


if __name__ == "__main__":
    main()
