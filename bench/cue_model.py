"""Throughput of the neural cue model: frames/s for one take alone and for many takes batched.

    python bench/cue_model.py [--seconds 60] [--takes 1 32] [--device cpu|cuda]

One 60 s espeak-ng take (the bundled sample text, repeated) and copies of it with other seeds
and emotions, with the model's own lips and with the phone-timed lips (the default; the
phones are timed once, beforehand, and not counted). Every row is measured in the same
process after a warm-up, so the ratios between rows are comparable: "frames/s" counts model
frames (30 per second of speech), "× real time" is seconds of speech per second per take.
The 'decode' column is the network alone (batched on the device), 'finish' the per-take
lift to 478 points, ARKit solve and lips on the CPU.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cue_stages import SAMPLES, make_speech

from facecue.audio import extract_features, load_audio
from facecue.cues import CueInputs
from facecue.names import EMOTIONS
from facecue.neural.backend import NeuralBackend
from facecue.phonemes import phone_timing
from facecue.pipeline import Pipeline


def measure(backend: NeuralBackend, inputs: list[CueInputs]) -> dict[str, float]:
    started = time.perf_counter()
    backend.generate_many(inputs)
    return {"seconds": time.perf_counter() - started, **backend.last_timing}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--takes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        speech = make_speech(args.seconds, Path(tmp))
        audio = load_audio(speech)
        features = extract_features(audio)
    phones = phone_timing(audio, None)[0]
    reference = Pipeline().analyze_photo(SAMPLES / "face.jpg")
    base = None
    for lips in ("model", "phones"):
        backend = NeuralBackend(device=args.device, lips=lips)
        inputs = [CueInputs(reference, features, phones if lips == "phones" else None, EMOTIONS[k % 8], 1.0, k)
                  for k in range(max(args.takes))]
        backend.generate_many(inputs[:1])                                  # warm-up: load, first calls
        if base is None:
            print(f"neural cue model on {backend.loaded.model.cfg.fps:g} fps, device {backend._device}, "
                  f"{args.seconds:g} s takes")
            print(f"{'lips':>7}{'takes':>6}{'frames/s':>12}{'× real time':>13}{'per take':>10}{'decode s':>10}"
                  f"{'finish s':>10}")
        for count in args.takes:
            row = measure(backend, inputs[:count])
            rate = count * args.seconds * backend.loaded.model.cfg.fps / row["seconds"]
            base = base or rate
            print(f"{lips:>7}{count:>6}{rate:>12.0f}{rate / 30:>12.1f}×{rate / count / 30:>9.1f}×"
                  f"{row['decode']:>10.2f}{row['finish']:>10.2f}   ({rate / base:.2f}× the first row)")


if __name__ == "__main__":
    main()
