"""Renderer throughput and memory: frames/s at 256² and 512² for several batch sizes.

    python bench/render.py [--sizes 256 512] [--batches 1 64] [--frames 256] [--device cpu|cuda]
    python bench/render.py --stages [--sizes 256 512]     # where a frame's time goes

Runs on the bundled sample photo and its precomputed landmarks (no MediaPipe needed, so it
runs on GPU machines too), animated by the ARKit basis (speech-like jaw, blinks, gaze, head
turns). Every configuration runs in its own process, after a warm-up batch, and all are
printed side by side in one table: frames/s, × real time at 30 fps, speed-up over batch 1,
and peak memory (process RSS on CPU, allocated memory on CUDA).

With --stages, one process times each stage of the renderer's default batches (warp field,
sampling, eye and mouth layers, conversion to 8 bits) and of writing the frames (PNG, JPEG,
H.264), in milliseconds per frame, every size side by side.
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


def motion(reference, frames: int, smile: float = 0.0) -> np.ndarray:
    """(F, 478, 3) photo landmarks of a talking, blinking, glancing, turning head (smiling by
    ``smile`` after the first half second)."""
    from facecue.arkit_basis import apply_basis, build_basis
    from facecue.names import ARKIT_INDEX
    from facecue.relocation import relocate
    t = np.arange(frames) / REAL_TIME_FPS
    weights = np.zeros((frames, 52), np.float32)
    weights[:, ARKIT_INDEX["jawOpen"]] = 0.35 * (1 + np.sin(2 * np.pi * 3.1 * t)) * (np.sin(2 * np.pi * 0.4 * t) > -0.5)
    blink = (np.mod(t, 3.0) < 0.15).astype(np.float32)
    weights[:, ARKIT_INDEX["eyeBlinkLeft"]] = weights[:, ARKIT_INDEX["eyeBlinkRight"]] = blink
    weights[:, ARKIT_INDEX["mouthSmileLeft"]] = weights[:, ARKIT_INDEX["mouthSmileRight"]] = smile * (t > 0.5)
    local = apply_basis(reference.local, build_basis(reference.local), weights)
    pose = np.repeat(reference.pose[None], frames, 0).astype(np.float32)
    pose[:, 0] += 12 * np.sin(2 * np.pi * 0.2 * t)
    pose[:, 1] += 5 * np.sin(2 * np.pi * 0.13 * t)
    gaze = np.zeros((frames, 2, 2), np.float32)
    gaze[:, :, 0] = (12 * np.sign(np.sin(2 * np.pi * 0.3 * t)))[:, None]
    return relocate(local, pose, gaze, reference)[1]


def sample_portrait():
    """The bundled sample photo with its precomputed landmarks (no MediaPipe needed)."""
    from PIL import Image

    from facecue.reference import reference_from_landmarks
    from facecue.render import Portrait
    rgb = np.asarray(Image.open(SAMPLES / "face.jpg").convert("RGB"))
    return Portrait(rgb, reference_from_landmarks(np.load(SAMPLES / "face_landmarks.npy"), rgb.shape[1], rgb.shape[0]))


def prepared_sample(size: str, device: str):
    from facecue.config import RenderSize
    from facecue.render import WarpRenderer
    portrait = sample_portrait()
    renderer = WarpRenderer(device=device)
    return renderer, renderer.prepare(portrait, RenderSize.parse(size)), portrait.reference


def silent_wav(seconds: float) -> bytes:
    """A silent 16 kHz WAV, written by the standard library (GPU machines may lack soundfile)."""
    import io
    import wave
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(2 * int(16_000 * seconds)))
    return buffer.getvalue()


def stage_times(size: str, frames: int, device: str) -> dict[str, float]:
    """Milliseconds per frame in each stage, over the renderer's own batch size."""
    import tempfile

    import torch

    from facecue.render.output import VideoWriter, encode_image
    from facecue.render.renderer import to_uint8
    renderer, prepared, reference = prepared_sample(size, device)
    landmarks = motion(reference, frames)
    spent: dict[str, float] = {}

    def timed(stage, call, *args):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = call(*args)
        if device == "cuda":
            torch.cuda.synchronize()
        spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start
        return result

    silence = silent_wav(1.0)
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        try:
            video = VideoWriter(Path(folder) / "take.mp4", REAL_TIME_FPS, prepared.framing.width,
                                prepared.framing.height, silence)
        except ImportError:             # GPU machines may lack PyAV: the other stages still count
            video = None
        for warm_up in (True, False):
            spent.clear()
            for start in range(0, frames, renderer.batch_frames):
                points = timed("warp field", renderer.photo_points, landmarks[start: start + renderer.batch_frames])
                warp = timed("warp field", renderer.warp_field, prepared, points)
                rendered, masks = timed("sampling", renderer.warp_photo, prepared, warp, len(points))
                timed("eye and mouth layers", renderer.draw_layers, prepared, rendered, masks, points)
                pixels = timed("to 8 bits", lambda: to_uint8(rendered.clamp_(0, 1)))
                for frame in pixels:
                    timed("PNG", encode_image, frame, "png")
                    timed("JPEG", encode_image, frame, "jpeg")
                if video is not None:
                    timed("H.264", video.write, pixels)
                if warm_up:
                    break
        if video is not None:
            video.close()
    return {stage: 1000 * seconds / frames for stage, seconds in spent.items()}


def print_stages(sizes: list[str], frames: int, device: str) -> None:
    columns = {size: stage_times(size, frames, device) for size in sizes}
    render_stages = ("warp field", "sampling", "eye and mouth layers", "to 8 bits")
    print(f"renderer stages on {device}, ms per frame over {frames} frames (renderer's own batch size)")
    print(f"{'stage':<22}" + "".join(f"{size + '²':>10} {'share':>6}" for size in sizes))
    for stage in (*render_stages, "render total", "PNG", "JPEG", "H.264"):
        cells = []
        for size in sizes:
            times = columns[size]
            total = sum(times[s] for s in render_stages)
            if stage not in times and stage != "render total":
                cells.append(f"{'n/a':>10} {'':>6}")          # H.264 without PyAV
                continue
            value = total if stage == "render total" else times[stage]
            share = f"{100 * value / total:>5.0f}%" if stage in render_stages else f"{'':>6}"
            cells.append(f"{value:>10.2f} {share}")
        print(f"{stage:<22}" + "".join(cells))
    print("frames/s, rendering only: " + ", ".join(
        f"{size}² {1000 / sum(columns[size][s] for s in render_stages):.0f}" for size in sizes))


def run_one(size: str, batch: int, frames: int, device: str) -> dict:
    import resource

    import torch
    renderer, prepared, reference = prepared_sample(size, device)
    landmarks = motion(reference, max(frames, 2 * batch))
    for _ in renderer.batches(prepared, landmarks[:2 * batch], batch):     # warm-up: buffers of two batches in flight
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
    parser.add_argument("--stages", action="store_true", help="time each stage of rendering and encoding")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device is None:
        import torch
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.stages:
        print_stages(args.sizes, args.frames, args.device)
        return
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
