"""Throughput of the neural cue model: frames/s for one take alone and for many takes batched.

    python bench/cue_model.py [--seconds 60] [--takes 1 32] [--device cpu|cuda]
    python bench/cue_model.py --save-inputs speech60.npz      # where espeak-ng and pocketsphinx are
    python bench/cue_model.py --inputs speech60.npz --device cuda --takes 1 32 256   # e.g. on a GPU machine

One 60 s espeak-ng take (the bundled sample text, repeated) and copies of it with other seeds
and emotions, with the model's own lips and with the phone-timed lips (the default; the
phones are timed once, beforehand, and not counted). The photo is the bundled sample with
its precomputed landmarks, so with --inputs nothing but torch and numpy is needed. Every row
is measured in the same process after a warm-up, so the ratios between rows are comparable:
"frames/s" counts model frames (30 per second of speech), "× real time" is seconds of speech
per second per take. The 'decode' column is the network alone (batched on the device),
'finish' the lift to 478 points, ARKit solve and lips.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from facecue.audio import AudioFeatures
from facecue.cues import CueInputs
from facecue.names import EMOTIONS
from facecue.neural.backend import NeuralBackend
from facecue.phonemes import PhoneSegments
from facecue.reference import reference_from_landmarks, without_expression

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "facecue" / "samples"


def speech_inputs(seconds: float) -> tuple[AudioFeatures, PhoneSegments]:
    from cue_stages import make_speech

    from facecue.audio import extract_features, load_audio
    from facecue.phonemes import phone_timing
    with tempfile.TemporaryDirectory() as tmp:
        audio = load_audio(make_speech(seconds, Path(tmp)))
    return extract_features(audio), phone_timing(audio, None)[0]


def save_inputs(path: Path, features: AudioFeatures, phones: PhoneSegments) -> None:
    np.savez(path, mfcc=features.mfcc, energy_db=features.energy_db, f0_hz=features.f0_hz,
             duration_s=features.duration_s, phones=np.array(phones.phones), start_s=phones.start_s,
             end_s=phones.end_s, method=phones.method)


def load_inputs(path: Path) -> tuple[AudioFeatures, PhoneSegments]:
    with np.load(path) as saved:
        features = AudioFeatures(saved["mfcc"], saved["energy_db"], saved["f0_hz"], float(saved["duration_s"]))
        phones = PhoneSegments(tuple(str(p) for p in saved["phones"]), saved["start_s"], saved["end_s"],
                               str(saved["method"]))
    return features, phones


def sample_reference():
    from PIL import Image
    width, height = Image.open(SAMPLES / "face.jpg").size
    return without_expression(reference_from_landmarks(np.load(SAMPLES / "face_landmarks.npy"), width, height))


def measure(backend: NeuralBackend, inputs: list[CueInputs]) -> dict[str, float]:
    started = time.perf_counter()
    backend.generate_many(inputs)
    return {"seconds": time.perf_counter() - started, **backend.last_timing}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--takes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--device", default=None)
    parser.add_argument("--inputs", type=Path, help="speech features and phones saved by --save-inputs")
    parser.add_argument("--save-inputs", type=Path, help="make the speech inputs, save them here and stop")
    args = parser.parse_args()
    features, phones = load_inputs(args.inputs) if args.inputs else speech_inputs(args.seconds)
    if args.save_inputs:
        save_inputs(args.save_inputs, features, phones)
        return
    seconds = features.duration_s
    reference = sample_reference()
    base = None
    for lips in ("model", "phones"):
        backend = NeuralBackend(device=args.device, lips=lips)
        inputs = [CueInputs(reference, features, phones if lips == "phones" else None, EMOTIONS[k % 8], 1.0, k)
                  for k in range(max(args.takes))]
        backend.generate_many(inputs[:1])                                  # warm-up: load, first calls
        if base is None:
            print(f"neural cue model on {backend.loaded.model.cfg.fps:g} fps, device {backend._device}, "
                  f"{seconds:g} s takes")
            print(f"{'lips':>7}{'takes':>6}{'frames/s':>12}{'× real time':>13}{'per take':>10}{'decode s':>10}"
                  f"{'finish s':>10}")
        for count in args.takes:
            row = measure(backend, inputs[:count])
            rate = count * seconds * backend.loaded.model.cfg.fps / row["seconds"]
            base = base or rate
            print(f"{lips:>7}{count:>6}{rate:>12.0f}{rate / 30:>12.1f}×{rate / count / 30:>9.1f}×"
                  f"{row['decode']:>10.2f}{row['finish']:>10.2f}   ({rate / base:.2f}× the first row)")


if __name__ == "__main__":
    main()
