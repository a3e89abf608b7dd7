"""Live Stream sessions on real speech: where a window's time goes, the latency it gives, and
the lips it makes, against the offline take of the same clip.

    python bench/stream.py [--clips …] [--faces teeth closed] [--lookahead 0.12 0.08] [--hop 0.2 0.04]

Every dev-set clip is pushed through a StreamSession in 20 ms chunks (as the Stream RPC
receives them). Each (look-ahead, hop) setting is one row, all in one run:

- compute per window, by stage (phone decoding, features, cue backend, relocation) and as a
  share of real time (one core);
- latency p50 / p95 of a server that takes the chunks as they are spoken, one after another:
  chunk k arrives at (k + 1) × 20 ms, is processed once the previous one is done, and a frame
  at time t is late by (its batch's send time − the arrival of the chunk holding t). gRPC
  adds a few ms on top (bench/run.py measures the whole path over loopback);
- lip sync of the streamed takes (procedural backend, 30 fps) beside the offline takes of the
  same clips and faces (the pipeline's default phone timing), by the lip-sync evaluation.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from facecue.evaluation import devset, harness, lipsync

CHUNK_S = 0.02
FPS = 30.0
COLUMNS = ("closure", "open_closed", "silence_open", "rounded_spread", "lag")


def stream_clip(backend, face, clip) -> tuple[np.ndarray, list[float], list[tuple[int, int]], dict, int]:
    """Push one clip through a session: its landmarks_local, each push's compute seconds, each
    push's emitted frame range, the session's stage seconds and window count."""
    from facecue.streaming import StreamSession
    session = StreamSession(backend, face, emotion="neutral", intensity=1.0, fps=FPS, seed=0)
    chunk = int(round(CHUNK_S * 16_000))
    samples = clip.audio.samples
    local, compute, emitted = [], [], []
    for start in range(0, len(samples), chunk):
        began = time.perf_counter()
        batches = session.push(samples[start: start + chunk])
        compute.append(time.perf_counter() - began)
        emitted.append((batches[0].start_frame, batches[-1].start_frame + batches[-1].frame_count) if batches else (0, 0))
        local += [b.arrays["landmarks_local"] for b in batches]
    local += [b.arrays["landmarks_local"] for b in session.finish()]
    return np.concatenate(local), compute, emitted, session.stage_seconds, session.windows


def latencies(compute: list[float], emitted: list[tuple[int, int]]) -> np.ndarray:
    """Seconds from the arrival of the chunk holding a frame's time to that frame's sending,
    for a server that handles the chunks in order as they are spoken."""
    out, done = [], 0.0
    for k, (seconds, (first, last)) in enumerate(zip(compute, emitted)):
        arrival = (k + 1) * CHUNK_S
        done = max(arrival, done) + seconds
        frames = np.arange(first, last)
        holding = (np.floor(frames / FPS / CHUNK_S) + 1) * CHUNK_S
        out.append(done - holding)
    return np.concatenate(out) if out else np.zeros(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=[c.name for c in devset.CLIPS])
    parser.add_argument("--faces", nargs="+", default=["teeth", "closed"])
    parser.add_argument("--lookahead", nargs="+", type=float, default=None, help="seconds (default: the session's)")
    parser.add_argument("--hop", nargs="+", type=float, default=None, help="seconds (default: the session's)")
    args = parser.parse_args()

    from facecue import streaming
    from facecue.pipeline import Pipeline
    root = devset.fetch(quiet=True)
    pipeline = Pipeline()
    backend = pipeline.backends["procedural"]
    texts = {c.name: c.transcript for c in devset.CLIPS}
    clips = [harness.prepare_clip(devset.clip_path(root, n), texts[n]) for n in args.clips]
    faces = {n: pipeline.analyze_photo(str(devset.face_path(root, n))) for n in args.faces}
    speech_s = sum(c.duration_s for c in clips)
    stream_clip(backend, faces[args.faces[0]], clips[0])                   # warm: decoder, kernels compiled

    offline = lipsync.pooled([harness.score_take(harness.make_take(backend, c, f, FPS), c, FPS)
                              for f in faces.values() for c in clips])
    print(f"{len(clips)} clips, {speech_s:.1f} s of speech, faces {', '.join(faces)}, {FPS:g} fps, "
          f"{CHUNK_S * 1000:.0f} ms chunks; lips: * = misses the lip-sync target")
    print(f"{'look-ahead':>10} {'hop':>5} {'ms/window: phones':>17} {'features':>8} {'cues':>5} {'reloc':>5} "
          f"{'CPU':>5} {'p50 ms':>6} {'p95 ms':>6}  " + " ".join(c[:8].ljust(8) for c in COLUMNS))
    print(f"{'offline take (' + clips[0].phones.method + ')':<76}" + _cells(offline))
    for lookahead in args.lookahead or [streaming.LOOKAHEAD_S]:
        for hop in args.hop or [streaming.HOP_S]:
            streaming.LOOKAHEAD_S, streaming.HOP_S = lookahead, hop
            scores, late, stages, windows, spent = [], [], dict.fromkeys(streaming.STAGES, 0.0), 0, 0.0
            for face in faces.values():
                for clip in clips:
                    local, compute, emitted, seconds, count = stream_clip(backend, face, clip)
                    gap, width = lipsync.mouth_measures(local)
                    scores.append(lipsync.score(gap, width, clip.reference_phones, FPS, clip.duration_s))
                    late.append(latencies(compute, emitted))
                    stages = {k: stages[k] + seconds[k] for k in stages}
                    windows += count
                    spent += sum(compute)
            late_ms = np.concatenate(late) * 1000
            per_window = {k: 1000 * v / max(1, windows) for k, v in stages.items()}
            print(f"{lookahead * 1000:>8.0f}ms {hop * 1000:>3.0f}ms {per_window['phones']:>17.1f} "
                  f"{per_window['features']:>8.1f} {per_window['cues']:>5.1f} {per_window['relocation']:>5.1f} "
                  f"{spent / (speech_s * len(faces)):>5.0%} {np.percentile(late_ms, 50):>6.0f} "
                  f"{np.percentile(late_ms, 95):>6.0f}  " + _cells(lipsync.pooled(scores)))
            sys.stdout.flush()
    return 0


def _cells(summary: dict) -> str:
    ok = lipsync.meets(summary)
    return " ".join(((f"{summary[c]:6.2f}" if summary[c] < 100 else "  >100") + ("" if ok[c] else "*")).ljust(8)
                    for c in COLUMNS)


if __name__ == "__main__":
    raise SystemExit(main())
