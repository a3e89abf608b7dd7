"""How far does each ARKit shape, and each emotion's expression, read on the rendered face?

    python bench/shape_readback.py [--faces …] [--shapes …] [--weight 1.0] [--size 256] [--json out.json]

For each dev-set face, still frames are rendered from the neutralised, sealed photo (the rest a
take starts from; facecue.evaluation.expression_probe) and read back by MediaPipe's Face
Landmarker blendshapes (the independent reader of bench/emotions.py):

Table 1, per shape and face: the read-back rise of that shape (both sides applied) at
``--weight`` over the rest frame, and under "leak" the other shape that rose most. It is the
calibration table of arkit_basis: a shape's amounts are right when it reads close to its weight.
Table 2, per emotion and face: the rise of the emotion's FACS signature (as in
bench/emotions.py) for its expression alone at intensity 1, no speech, blinks or head motion.

The reader's noseSneer, cheekSquint and eyeWide outputs stay near zero even on real faces
showing them (a known limit of the model), so those groups of a signature seldom rise.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facecue.evaluation import devset
from facecue.evaluation.expression_probe import emotion_weights, other_side, probe_frames, shape_weights
from facecue.evaluation.expression_reader import SIGNATURE_RISE, SIGNATURES, ExpressionReader, signature_score
from facecue.names import ARKIT_INDEX, ARKIT_NAMES

EXPRESSION_SHAPES = (
    "browInnerUp", "browDownLeft", "browOuterUpLeft", "eyeWideLeft", "eyeSquintLeft", "eyeBlinkLeft",
    "cheekSquintLeft", "noseSneerLeft", "mouthSmileLeft", "mouthFrownLeft", "mouthDimpleLeft",
    "mouthStretchLeft", "mouthUpperUpLeft", "mouthLowerDownLeft", "mouthPressLeft", "mouthShrugLower",
    "mouthShrugUpper", "mouthPucker", "mouthFunnel", "mouthRollLower", "jawOpen", "cheekPuff",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", nargs="+", default=[f.name for f in devset.FACES])
    parser.add_argument("--shapes", nargs="+", default=list(EXPRESSION_SHAPES))
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--size", default="256")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from facecue.pipeline import Pipeline
    root = devset.fetch(quiet=True)
    reader = ExpressionReader.from_devset(root)
    pipeline = Pipeline()
    emotions = list(SIGNATURES)
    start = time.perf_counter()
    rises: dict[str, dict[str, float]] = {s: {} for s in args.shapes}
    leaks: dict[str, dict[str, str]] = {s: {} for s in args.shapes}
    signatures: dict[str, dict[str, float]] = {e: {} for e in emotions}
    for face in args.faces:
        photo = devset.face_path(root, face)
        weights = np.vstack([shape_weights(args.shapes, args.weight), emotion_weights(emotions)[1:]])
        read = reader.read_all(probe_frames(pipeline, photo, weights, args.size))
        rise = read[1: 1 + len(args.shapes)] - read[:1]
        for row, name in enumerate(args.shapes):
            own = [ARKIT_INDEX[n] for n in {name, other_side(name)} - {None}]
            rises[name][face] = float(np.mean(rise[row, own]))
            others = rise[row].copy()
            others[own] = -np.inf
            k = int(np.nanargmax(others))
            leaks[name][face] = f"{ARKIT_NAMES[k][:14]} {others[k]:+.2f}"
        for row, emotion in enumerate(emotions, 1 + len(args.shapes)):
            signatures[emotion][face] = signature_score(read[row], emotion) - signature_score(read[0], emotion)
        print(f"{face}: {time.perf_counter() - start:.0f} s", flush=True)

    faces = args.faces
    print(f"\nread-back rise of each shape at weight {args.weight} over the rest frame (both sides applied)")
    print(f"{'shape':18s} " + " ".join(f"{f:>7s}" for f in faces) + "    min  mean")
    for name in args.shapes:
        values = np.array([rises[name][f] for f in faces])
        print(f"{name:18s} " + " ".join(f"{v:+7.2f}" for v in values) + f"  {np.nanmin(values):+.2f} {np.nanmean(values):+.2f}")
    print("\nlargest other rise (first face … last)")
    for name in args.shapes:
        print(f"{name:18s} " + " | ".join(leaks[name][f] for f in faces))
    print(f"\nsignature rise of each emotion's expression alone (target ≥ {SIGNATURE_RISE}; * = miss)")
    print(f"{'emotion':18s} " + " ".join(f"{f:>7s}" for f in faces) + "    min")
    for emotion in emotions:
        values = [signatures[emotion][f] for f in faces]
        cells = [f"{v:+.2f}{'*' if v < SIGNATURE_RISE else ' '}" for v in values]
        print(f"{emotion:18s} " + " ".join(f"{c:>7s}" for c in cells) + f"  {min(values):+.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rises": rises, "leaks": leaks, "signatures": signatures}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
