"""Renderer throughput and memory: frames/s at 256² and 512² for several batch sizes.

    python bench/render.py [--sizes 256 512] [--batches 1 64] [--frames 256] [--device cpu|cuda]

Runs on the bundled sample photo and its precomputed landmarks (no MediaPipe needed, so it
runs on GPU machines too), animated by the ARKit basis (speech-like jaw, blinks, gaze, head
turns). Every configuration runs in its own process, after a warm-up batch, and all are
printed side by side in one table: frames/s, × real time at 30 fps, speed-up over batch 1,
and peak memory (process RSS on CPU, allocated memory on CUDA).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "facecue" / "samples"
REAL_TIME_FPS = 30.0


def motion(reference, frames: int) -> np.ndarray:
    """(F, 478, 3) photo landmarks of a talking, blinking, glancing, turning head."""
    from facecue.arkit_basis import apply_basis, build_basis
    from facecue.names import ARKIT_INDEX
    from facecue.relocation import relocate
    t = np.arange(frames) / REAL_TIME_FPS
    weights = np.zeros((frames, 52), np.float32)
    weights[:, ARKIT_INDEX["jawOpen"]] = 0.35 * (1 + np.sin(2 * np.pi * 3.1 * t)) * (np.sin(2 * np.pi * 0.4 * t) > -0.5)
    blink = (np.mod(t, 3.0) < 0.15).astype(np.float32)
    weights[:, ARKIT_INDEX["eyeBlinkLeft"]] = weights[:, ARKIT_INDEX["eyeBlinkRight"]] = blink
    local = apply_basis(reference.local, build_basis(reference.local), weights)
    pose = np.repeat(reference.pose[None], frames, 0).astype(np.float32)
    pose[:, 0] += 12 * np.sin(2 * np.pi * 0.2 * t)
    pose[:, 1] += 5 * np.sin(2 * np.pi * 0.13 * t)
    gaze = np.zeros((frames, 2, 2), np.float32)
    gaze[:, :, 0] = (12 * np.sign(np.sin(2 * np.pi * 0.3 * t)))[:, None]
    return relocate(local, pose, gaze, reference)[1]


def run_one(size: str, batch: int, frames: int, device: str) -> dict:
    import resource

    import torch
    from PIL import Image

    from facecue.config import RenderSize
    from facecue.reference import reference_from_landmarks
    from facecue.render import Portrait, WarpRenderer
    rgb = np.asarray(Image.open(SAMPLES / "face.jpg").convert("RGB"))
    reference = reference_from_landmarks(np.load(SAMPLES / "face_landmarks.npy"), rgb.shape[1], rgb.shape[0])
    renderer = WarpRenderer(device=device)
    prepared = renderer.prepare(Portrait(rgb, reference), RenderSize.parse(size))
    landmarks = motion(reference, max(frames, batch))
    for _ in renderer.batches(prepared, landmarks[:batch], batch):         # warm-up
        pass
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    rendered = sum(len(b) for b in renderer.batches(prepared, landmarks, batch))
    elapsed = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"size": size, "batch": batch, "fps": rendered / elapsed, "peak_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["256", "512"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64])
    parser.add_argument("--frames", type=int, default=256, help="frames rendered per configuration")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device is None:
        import torch
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.frames, args.device)))
        return
    rows = []
    for size in args.sizes:
        for batch in args.batches:
            out = subprocess.run([sys.executable, __file__, "--one", size, str(batch), "--frames", str(args.frames),
                                  "--device", args.device], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"renderer on {args.device}, {args.frames} frames per configuration")
    print(f"{'size':>6} {'batch':>6} {'frames/s':>9} {'× real time':>12} {'vs batch 1':>11} {'peak MiB':>9}")
    for row in rows:
        base = next((r["fps"] for r in rows if r["size"] == row["size"] and r["batch"] == min(args.batches)), row["fps"])
        print(f"{row['size']:>6} {row['batch']:>6} {row['fps']:>9.1f} {row['fps'] / REAL_TIME_FPS:>11.2f}× "
              f"{row['fps'] / base:>10.2f}× {row['peak_mb']:>9.0f}")


if __name__ == "__main__":
    main()
