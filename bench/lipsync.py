"""Lip-sync on real speech and real photos: the development set, per backend, face and fps.

    python bench/lipsync.py [--backends procedural neural neural-model] [--fps 24 25 29.97 30 60]
                            [--faces …] [--clips …] [--transcript] [--readback N [--reader still|video] [--size 256]]
                            [--json out.json]

Every clip of the dev set (real recordings from pinned registry packages, see
facecue.evaluation.devset) is timed by the take's own phone timing (recognition, or with
--transcript the transcript) and scored against pocketsphinx forced alignment of its
transcript (facecue.evaluation.lipsync has the definitions). Rows pool all clips for one
(backend, face, fps); the last columns say which targets hold. --readback N renders the first
N clips at each --fps on every face (256², or --size) and reads the mouth back from the frames with MediaPipe,
each frame as a still by default: MediaPipe's video tracking damps mouth-width changes to about
0.3 of what the frames show (--reader video measures that).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from facecue.evaluation import devset, harness, lipsync

COLUMNS = ("closure", "open_closed", "silence_open", "rounded_spread", "lag")


def _fmt(summary: dict) -> str:
    ok = lipsync.meets(summary)
    cells = [(f"{summary[c]:6.2f}" if summary[c] < 100 else "  >100") + ("" if ok[c] else "*") for c in COLUMNS]
    cells = [cell.ljust(8) for cell in cells]
    return " ".join(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["procedural", "neural", "neural-model"],
                        help="neural-model: the neural backend with the model's own lips")
    parser.add_argument("--fps", nargs="+", type=float, default=[24, 25, 29.97, 30, 60])
    parser.add_argument("--faces", nargs="+", default=[f.name for f in devset.FACES])
    parser.add_argument("--clips", nargs="+", default=[c.name for c in devset.CLIPS])
    parser.add_argument("--transcript", action="store_true", help="time the takes by the transcript")
    parser.add_argument("--recogniser", default="auto", choices=["auto", "words", "phones"],
                        help="without --transcript: recognised words force-aligned, or the phone loop")
    parser.add_argument("--emotion", default="neutral")
    parser.add_argument("--readback", type=int, default=0, metavar="N", help="render N clips and read them back")
    parser.add_argument("--reader", default="still", choices=["still", "video"],
                        help="read each frame as a still image (default), or track through the frames as a video; "
                             "the tracker carries each frame's reading into the next and damps the mouth's width")
    parser.add_argument("--size", default="256", help="render size of the read-back frames")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from facecue.pipeline import Pipeline
    root = devset.fetch(quiet=True)
    pipeline = Pipeline()
    texts = {c.name: c.transcript for c in devset.CLIPS}
    clips = [harness.prepare_clip(devset.clip_path(root, n), texts[n], args.transcript, args.recogniser) for n in args.clips]
    speech_s = sum(c.duration_s for c in clips)
    timing_s = sum(c.timing_s for c in clips)
    faces = {n: pipeline.analyze_photo(str(devset.face_path(root, n))) for n in args.faces}
    print(f"{len(clips)} clips, {speech_s:.1f} s of speech, {sum(len(c.reference_phones) for c in clips)} aligned phones; "
          f"phone timing ({'transcript' if args.transcript else 'no transcript, ' + clips[0].phones.method}): {timing_s:.2f} s "
          f"= {timing_s / speech_s * 60:.1f} s per minute of speech")
    print("jaw opening per unit jawOpen (share of face height): "
          + "  ".join(f"{n} {harness.jaw_per_unit(f):.3f}" for n, f in faces.items()))
    print("* = misses the target (closure ≥ 0.95, open/closed ≥ 4, silence/open ≤ 0.3, rounded/spread ≤ 0.88, |lag| ≤ 1)\n")
    print(f"{'backend':11s} {'face':8s} {'fps':>6s}  " + " ".join(c[:8].ljust(8) for c in COLUMNS) + "  cue s/min")
    results = []
    for backend_name in args.backends:
        backend = backend_named(pipeline, backend_name)
        for face_name, face in faces.items():
            for fps in args.fps:
                start = time.perf_counter()
                scores = [harness.score_take(harness.make_take(backend, c, face, fps, args.emotion), c, fps) for c in clips]
                spent = time.perf_counter() - start
                summary = lipsync.pooled(scores)
                results.append({"backend": backend_name, "face": face_name, "fps": fps, **summary,
                                "per_clip": {c.name: s.as_dict() for c, s in zip(clips, scores)}})
                print(f"{backend_name:11s} {face_name:8s} {fps:6.2f}  {_fmt(summary)}  {spent / speech_s * 60:6.2f}")
                sys.stdout.flush()
    if args.readback:
        for fps in args.fps:
            results += readback(pipeline, clips[: args.readback], faces, args.backends, root, args.reader, fps, args.size)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def backend_named(pipeline, name: str):
    """A pipeline backend, or "neural-model": the neural backend with the model's own lips."""
    if name == "neural-model":
        from facecue.neural.backend import NeuralBackend
        return NeuralBackend(lips="model")
    return pipeline.backends[name]


def readback(pipeline, clips, faces, backends, root, reader: str = "still", fps: float = 30.0,
             size: str = "256") -> list[dict]:
    """Render at ``size``, read the mouth back with MediaPipe, score it like the cues (2D both)."""
    from PIL import Image

    from facecue.config import RenderSize
    from facecue.reference import FaceMeshDetector
    from facecue.render import Portrait
    print(f"\nread back from rendered frames ({fps:g} fps, {size}²; 2D in the image: take's landmarks vs MediaPipe "
          f"on frames, {'each frame a still' if reader == 'still' else 'tracked as a video'})")
    print(f"{'backend':11s} {'face':8s} {'source':9s} " + " ".join(c[:8].ljust(8) for c in COLUMNS) + "  unread")
    out = []
    renderer = pipeline.renderer()
    for backend_name in backends:
        backend = backend_named(pipeline, backend_name)
        for face_name, face in faces.items():
            rgb = np.asarray(Image.open(devset.face_path(root, face_name)).convert("RGB"))
            prepared = renderer.prepare(Portrait(rgb, face), RenderSize.parse(size))
            cue_scores, read_scores, unread = [], [], 0
            for clip in clips:
                take = harness.make_take(backend, clip, face, fps)
                frames = np.concatenate(list(renderer.batches(prepared, take.image, 16)))
                detector = FaceMeshDetector(video=reader == "video")
                found = [detector.detect(frame) for frame in frames]
                read = np.stack([f[0] if f else np.full((478, 3), np.nan) for f in found])
                missing = np.isnan(read[:, 0, 0])
                unread += int(missing.sum())
                if missing.any():      # hold the last reading over frames MediaPipe missed
                    idx = np.maximum.accumulate(np.where(~missing, np.arange(len(read)), 0))
                    read = read[idx]
                for source, points, bucket in (("take", take.image, cue_scores), ("frames", read, read_scores)):
                    gap, width = lipsync.mouth_measures(points, planar=True)
                    bucket.append(lipsync.score(gap, width, clip.reference_phones, fps, clip.duration_s))
            for source, bucket in (("take", cue_scores), ("frames", read_scores)):
                summary = lipsync.pooled(bucket)
                out.append({"backend": backend_name, "face": face_name, "fps": fps, "readback": source,
                            "reader": reader, **summary})
                print(f"{backend_name:11s} {face_name:8s} {source:9s} {_fmt(summary)}  {unread if source == 'frames' else ''}")
            sys.stdout.flush()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
