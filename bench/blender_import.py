"""Import time of a long take into Blender, and the sizes of what it writes.

    .venv-blender-5.0/bin/python bench/blender_import.py [--minutes 10 1] [--fps 30]

Needs PyPI's bpy. To measure the import alone, a take of the asked length is synthesised
with smooth curves of the right shapes (head, eyes, 52 shape keys, 8 emotions, 478 landmarks)
and written as a real take bundle. Each length is imported into a fresh scene; every stage
(load + plan, keys, PC2, mesh) is timed side by side, and the .blend is saved to report its size.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "blender"))


def synthetic_take(frames: int, fps: float):
    from facecue import take as take_io, topology
    from facecue.names import ARKIT_NAMES, EMOTIONS
    t = np.arange(frames, dtype=np.float32) / fps
    wave = np.sin(t[:, None] * np.linspace(0.5, 4.0, 52)[None]).astype(np.float32)
    canonical = np.concatenate([topology.canonical_face(), topology.canonical_face()[:10]])
    local = (canonical[None] + 0.2 * np.sin(t)[:, None, None]).astype(np.float32)
    pose = np.stack([10 * np.sin(t), 5 * np.sin(0.7 * t), 2 * np.sin(0.3 * t), 0 * t, 0 * t, -60 + 0 * t], -1)
    manifest = {"format_version": take_io.FORMAT_VERSION, "fps": fps, "frame_count": frames,
                "duration_s": frames / fps, "sample_rate": 16000, "emotion": "happy", "intensity": 1.0, "seed": 0,
                "model": {"backend": "synthetic"}, "image": {"width": 512, "height": 512},
                "reference": {"focal_px": 716.8}, "blendshape_names": list(ARKIT_NAMES),
                "emotion_names": list(EMOTIONS), "landmark_count": 478,
                "files": {"cues": "cues.npz", "audio": "audio.wav", "frames": None, "video": None}}
    arrays = {"landmarks_image": local * 10, "landmarks_local": local, "pose": pose.astype(np.float32),
              "gaze_labels": np.full((frames, 2), 2, np.int16),
              "gaze_angles": np.repeat((8 * np.sin(t))[:, None, None], 2, 1).repeat(2, 2).astype(np.float32),
              "blendshapes": (0.5 + 0.5 * wave).astype(np.float32),
              "emotion_probs": np.full((frames, 8), 0.125, np.float32)}
    import io
    import wave as wav
    audio = io.BytesIO()
    with wav.open(audio, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(np.zeros(int(frames / fps * 16000), np.int16).tobytes())
    return take_io.Take(manifest=manifest, arrays=arrays, audio_wav=audio.getvalue())


def measure(minutes: float, fps: float, folder: Path) -> dict:
    import bpy

    from facecue import take as take_io
    from facecue.names import ARKIT_NAMES
    from facecue_blender.blender.importer import import_take
    from facecue_blender.core.plan import ImportOptions
    frames = int(round(minutes * 60 * fps))
    take_dir = take_io.write(synthetic_take(frames, fps), folder / f"take_{minutes:g}min")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = int(round(fps)), 1.0
    mesh = bpy.data.meshes.new("Face")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    face = bpy.data.objects.new("Face", mesh)
    bpy.context.scene.collection.objects.link(face)
    face.shape_key_add(name="Basis")
    for name in ARKIT_NAMES:
        face.shape_key_add(name=name)
    start = time.perf_counter()
    report = import_take(take_dir, ImportOptions(target_mesh="Face", sound=False, frames_plane=False))
    elapsed = time.perf_counter() - start
    blend = folder / f"take_{minutes:g}min.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    keys = report.frames * (6 + 2 * 3 + 52 + 8)
    cache = next((take_dir / "blender").glob("*.pc2"))
    return {"minutes": minutes, "frames": report.frames, "keys": keys, "seconds": elapsed,
            "cues_mb": (take_dir / "cues.npz").stat().st_size / 2**20, "pc2_mb": cache.stat().st_size / 2**20,
            "blend_mb": blend.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", nargs="+", type=float, default=[10.0, 1.0])
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()
    import bpy
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(m, args.fps, Path(tmp)) for m in args.minutes]
    print(f"Blender {bpy.app.version_string}: import of head, eyes, 52 shape keys, 8 emotions and a PC2 face")
    print(f"{'minutes':>7} {'frames':>7} {'keys':>9} {'import s':>9} {'keys/s':>11} {'cues.npz':>9} {'PC2':>8} {'.blend':>8}")
    for r in rows:
        print(f"{r['minutes']:>7g} {r['frames']:>7} {r['keys']:>9} {r['seconds']:>9.2f} {r['keys'] / r['seconds']:>11.0f} "
              f"{r['cues_mb']:>7.1f}MB {r['pc2_mb']:>6.1f}MB {r['blend_mb']:>6.1f}MB")


if __name__ == "__main__":
    main()
