"""Wall time of one take (cues only) per stage, as a ratio to the audio's duration.

    python bench/cue_stages.py [--seconds 10 60]
    python bench/cue_stages.py --clips cards5 beckett endgame two_cities [--face teeth]

Speech is made with espeak-ng (text repeated to length) and the photo is the bundled sample;
or, with --clips, real recordings and a real photo from the development set.
All lengths are measured in one run, side by side, after one warm-up take, so model loading
and first-call compilation are reported separately as 'cold start'.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path


from facecue.audio import extract_features, load_audio
from facecue.config import TakeRequest
from facecue.cues import CueInputs
from facecue.phonemes import phone_timing
from facecue.pipeline import Pipeline
from facecue.relocation import relocate
from facecue.take import write
from facecue.timing import resample

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "facecue" / "samples"
TEXT = (SAMPLES / "speech.txt").read_text().strip()


def make_speech(seconds: float, folder: Path) -> Path:
    raw, out = folder / f"raw{seconds}.wav", folder / f"speech{seconds}.wav"
    words_per_second = 2.6
    repeats = int(seconds * words_per_second / len(TEXT.split())) + 1
    subprocess.run(["espeak-ng", "-w", str(raw), " ".join([TEXT] * repeats)], check=True)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-t", str(seconds),
                    "-ar", "16000", "-ac", "1", str(out)], check=True)
    return out


def stages(pipeline: Pipeline, audio_path: Path, photo: Path, folder: Path) -> dict[str, float]:
    times, clock = {}, time.perf_counter
    t = clock(); audio = load_audio(audio_path); features = extract_features(audio); times["audio+features"] = clock() - t
    t = clock(); phones, _ = phone_timing(audio, None); times["phones"] = clock() - t
    t = clock(); reference = pipeline.analyze_photo(photo); times["face"] = clock() - t
    backend = pipeline.backends["procedural"]
    t = clock(); track = backend.generate(CueInputs(reference, features, phones, "happy", 1.0, 0)); times["cues"] = clock() - t
    t = clock(); track = resample(track, 30.0, audio.duration_s)
    relocate(track.local, track.pose, track.gaze_angles, reference); times["relocation"] = clock() - t
    t = clock()
    take = pipeline.run(TakeRequest(audio=audio_path, image=photo, emotion="happy"))
    times["whole take"] = clock() - t
    t = clock(); write(take, folder / f"take{audio_path.stem}", overwrite=True); times["write"] = clock() - t
    times["_duration"] = audio.duration_s
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--clips", nargs="+", help="development-set recordings instead of espeak-ng speech")
    parser.add_argument("--face", default="teeth", help="with --clips: the development-set photo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.clips:
            from facecue.evaluation import devset
            root = devset.fetch(quiet=True)
            speech = {name: devset.clip_path(root, name) for name in args.clips}
            photo = devset.face_path(root, args.face)
        else:
            speech = {f"{s:g} s": make_speech(s, folder) for s in args.seconds}
            photo = SAMPLES / "face.jpg"
        pipeline = Pipeline()
        first = next(iter(speech))
        t = time.perf_counter()
        pipeline.run(TakeRequest(audio=speech[first], image=photo))
        cold = time.perf_counter() - t
        results = {name: stages(pipeline, path, photo, folder) for name, path in speech.items()}
    names = [k for k in next(iter(results.values())) if not k.startswith("_")]
    print(f"cold start (model load + first-call compilation, one take of {first}): {cold:.2f} s\n")
    header = "stage".ljust(16) + "".join(f"{name} ({r['_duration']:.1f} s)   ×real-time".rjust(36)
                                         for name, r in results.items())
    print(header)
    for name in names:
        row = name.ljust(16)
        for r in results.values():
            row += f"{r[name]:>12.3f} s   {r[name] / r['_duration']:>10.4f}".rjust(36)
        print(row)
    print("\n×real-time = wall time / audio duration (below 1 is faster than real time)")


if __name__ == "__main__":
    main()
