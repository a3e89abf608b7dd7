"""How many Python→Unreal calls an import makes, and how that scales with take length.

    python bench/unreal_calls.py [--minutes 1 10] [--fps 30]

Runs the plugin's importer against the strict fake of the Unreal 5.6 API (every call is
recorded) on synthetic takes of the asked lengths (smooth head, gaze and 52 curves), and
prints the calls by kind side by side: sequencer keys (one call each, after key reduction),
curve calls (one bulk call per curve) and everything else.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins" / "unreal" / "tests"), str(ROOT / "plugins" / "unreal" / "FaceCue" / "Content" / "Python")]


def synthetic_take(frames: int, fps: float, folder: Path) -> Path:
    from facecue import take as take_io, topology
    from facecue.names import ARKIT_NAMES, EMOTIONS
    rng = np.random.default_rng(0)
    t = np.arange(frames) / fps

    def noise(scale: float, hz: float) -> np.ndarray:
        """Random motion changing about ``hz`` times a second, linearly interpolated."""
        knots = np.arange(0, t[-1] + 1, 1 / hz)
        return scale * np.interp(t, knots, rng.normal(size=len(knots)))
    pose = np.stack([noise(6, 0.7), noise(3, 0.9), noise(2, 0.5), noise(1, 0.3), noise(1, 0.3), -60 + noise(1, 0.2)], -1)
    gaze = np.repeat(np.stack([noise(8, 0.8), noise(4, 0.8)], -1)[:, None], 2, 1)
    local = np.repeat(np.concatenate([topology.canonical_face(), topology.canonical_face()[:10]])[None], frames, 0)
    arrays = {"landmarks_image": local, "landmarks_local": local, "pose": pose.astype(np.float32),
              "gaze_labels": np.full((frames, 2), 2, np.int16), "gaze_angles": gaze.astype(np.float32),
              "blendshapes": rng.random((frames, 52), np.float32), "emotion_probs": np.full((frames, 8), 0.125, np.float32)}
    manifest = {"format_version": take_io.FORMAT_VERSION, "fps": fps, "frame_count": frames, "duration_s": frames / fps,
                "sample_rate": 16000, "blendshape_names": list(ARKIT_NAMES), "emotion_names": list(EMOTIONS),
                "image": {"width": 512, "height": 512}, "landmark_count": 478,
                "files": {"cues": "cues.npz", "audio": "audio.wav", "frames": None, "video": None}}
    return take_io.write(take_io.Take(manifest=manifest, arrays=arrays, audio_wav=b"RIFF"), folder / f"take_{frames}")


def count_calls(take_dir: Path) -> Counter:
    from strict_unreal import FakeUnreal
    fake = FakeUnreal()
    sys.modules["unreal"] = fake
    for name in [m for m in sys.modules if m.startswith("facecue_unreal.host")]:
        del sys.modules[name]
    fake.assets["/Game/Skeleton"] = fake.Skeleton()
    from facecue_unreal.core.plan import ImportOptions
    from facecue_unreal.host.importer import import_take
    before = len(fake.calls)
    import_take(take_dir, ImportOptions(skeleton="/Game/Skeleton"))
    kinds = Counter()
    for call in fake.calls[before:]:
        kinds["sequencer keys" if call.name == "add_key" else
              "FrameNumber for keys" if call.owner == "FrameNumber" else
              "curve calls (bulk)" if call.name in ("add_curve", "add_float_curve_keys") else "other"] += 1
    kinds["all"] = len(fake.calls) - before
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", nargs="+", type=float, default=[1.0, 10.0])
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for minutes in args.minutes:
            frames = int(minutes * 60 * args.fps)
            rows.append((minutes, frames, count_calls(synthetic_take(frames, args.fps, Path(folder)))))
    print("Python→Unreal calls to import a take (head + 2 eyes in a Level Sequence, 52 ARKit curves, sound, media)")
    print(f"{'minutes':>7} {'frames':>7} {'all':>8} {'seq keys':>9} {'FrameNumber':>12} {'curve':>6} {'other':>6} "
          f"{'per frame':>10} {'unreduced':>10}")        # unreduced: 3 actors × 6 channels × (key + FrameNumber)
    for minutes, frames, kinds in rows:
        print(f"{minutes:>7g} {frames:>7} {kinds['all']:>8} {kinds['sequencer keys']:>9} {kinds['FrameNumber for keys']:>12} "
              f"{kinds['curve calls (bulk)']:>6} {kinds['other']:>6} {kinds['all'] / frames:>10.2f} {frames * 18 * 2:>10}")


if __name__ == "__main__":
    main()
