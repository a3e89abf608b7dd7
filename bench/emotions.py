"""Do emotions read on the rendered face? Independent read-back on the real dev faces.

    python bench/emotions.py [--faces …] [--clip beckett] [--size 256] [--every 3] [--backend procedural]
                             [--json out.json]

For each dev-set face, one dev-set clip is made into a take per emotion (intensity 1), every
``--every``-th frame is rendered and read back by MediaPipe's Face Landmarker blendshapes
(``face_landmarker.task`` from the dev set: Google's model, not FaceCue's solver).

Table 1, per emotion and face: the rise of the emotion's FACS signature (see
facecue.evaluation.expression_reader.SIGNATURES) over the neutral take; the target is ≥ 0.15
on every face. "photo" is the photo's own reading of that signature, for context.
Table 2, per face: the correlation, over the frames of all emotions' takes, between the
take's own curves and the read-back for jawOpen, mouthSmile, browInnerUp, mouthFrown,
eyeBlink and eyeLook (horizontal); the target is ≥ 0.8.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facecue.evaluation import devset
from facecue.evaluation.expression_reader import SIGNATURE_RISE, SIGNATURES, ExpressionReader, signature_score
from facecue.names import ARKIT_INDEX, EMOTIONS

CORRELATION_TARGET = 0.8
# Read-back channels: ARKit shapes summed with signs (eyeLook: + when the eyes turn to the subject's left).
CHANNELS = {
    "jawOpen": {"jawOpen": 1.0},
    "mouthSmile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5},
    "browInnerUp": {"browInnerUp": 1.0},
    "mouthFrown": {"mouthFrownLeft": 0.5, "mouthFrownRight": 0.5},
    "eyeBlink": {"eyeBlinkLeft": 0.5, "eyeBlinkRight": 0.5},
    "eyeLook": {"eyeLookOutLeft": 0.5, "eyeLookInRight": 0.5, "eyeLookInLeft": -0.5, "eyeLookOutRight": -0.5},
}


def channel(weights: np.ndarray, name: str) -> np.ndarray:
    return sum(sign * weights[:, ARKIT_INDEX[shape]] for shape, sign in CHANNELS[name].items())


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.std(a[keep]) < 1e-6 or np.std(b[keep]) < 1e-6:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", nargs="+", default=[f.name for f in devset.FACES])
    parser.add_argument("--clip", default="beckett")
    parser.add_argument("--size", default="256")
    parser.add_argument("--every", type=int, default=3, help="render and read every N-th frame")
    parser.add_argument("--backend", default="procedural")
    parser.add_argument("--emotions", nargs="+", default=list(SIGNATURES), choices=list(SIGNATURES),
                        help="the emotions to read (each against the neutral take)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from facecue.config import RenderSize, TakeRequest
    from facecue.pipeline import Pipeline
    from facecue.reference import read_image
    from facecue.render import Portrait
    root = devset.fetch(quiet=True)
    reader = ExpressionReader.from_devset(root)
    pipeline = Pipeline()
    renderer = pipeline.renderer()
    audio = devset.clip_path(root, args.clip)
    start = time.perf_counter()
    emotions = args.emotions
    rises: dict[str, dict[str, float]] = {e: {} for e in emotions}
    photo_scores: dict[str, dict[str, float]] = {e: {} for e in emotions}
    correlations: dict[str, dict[str, float]] = {}
    for face_name in args.faces:
        photo = devset.face_path(root, face_name)
        rgb, _ = read_image(photo)
        reference = pipeline.analyze_photo(photo)
        prepared = renderer.prepare(Portrait(rgb, reference), RenderSize.parse(args.size))
        photo_read = reader.read(rgb)
        curves, readings, per_emotion = [], [], {}
        for emotion in ["neutral"] + [e for e in EMOTIONS if e in emotions]:
            take = pipeline.run(TakeRequest(audio=audio, image=photo, emotion=emotion, seed=1, backend=args.backend))
            frames = renderer.render(prepared, take.landmarks_image[::args.every])
            read = reader.read_all(frames)
            per_emotion[emotion] = read
            curves.append(take.blendshapes[::args.every])
            readings.append(read)
        for emotion in emotions:
            rises[emotion][face_name] = signature_score(per_emotion[emotion], emotion) - \
                signature_score(per_emotion["neutral"], emotion)
            photo_scores[emotion][face_name] = signature_score(photo_read, emotion) if photo_read is not None \
                else float("nan")
        curves, readings = np.concatenate(curves), np.concatenate(readings)
        correlations[face_name] = {name: correlation(channel(curves, name), channel(readings, name))
                                   for name in CHANNELS}
        unread = int(np.isnan(readings[:, 0]).sum())
        print(f"{face_name}: {len(readings)} frames read ({unread} without a face), "
              f"{time.perf_counter() - start:.0f} s so far", flush=True)

    faces = args.faces
    print(f"\nsignature rise over the neutral take (target ≥ {SIGNATURE_RISE}; * = miss); photo's own reading in ()")
    print(f"{'emotion':10s} " + " ".join(f"{f:>13s}" for f in faces) + "   min")
    for emotion in emotions:
        cells = [f"{rises[emotion][f]:+.2f}{'*' if rises[emotion][f] < SIGNATURE_RISE else ' '} ({photo_scores[emotion][f]:.2f})"
                 for f in faces]
        print(f"{emotion:10s} " + " ".join(f"{c:>13s}" for c in cells) + f"  {min(rises[emotion].values()):+.2f}")
    print(f"\ncorrelation of read-back with the take's curves (target ≥ {CORRELATION_TARGET}; * = miss)")
    print(f"{'face':10s} " + " ".join(f"{c:>11s}" for c in CHANNELS))
    for face_name in faces:
        cells = [f"{v:+.2f}{'*' if not v >= CORRELATION_TARGET else ' '}" for v in correlations[face_name].values()]
        print(f"{face_name:10s} " + " ".join(f"{c:>11s}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps({"rises": rises, "photo": photo_scores, "correlations": correlations}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
