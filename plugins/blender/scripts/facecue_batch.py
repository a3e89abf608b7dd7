"""Render-farm entry: generate one take on a FaceCue server, import it, save the .blend.

    blender -b scene.blend --python plugins/blender/scripts/facecue_batch.py -- \\
        --audio line.wav --photo face.jpg --emotion happy --server farm:50051 --save shot.blend

Exits non-zero with one readable line when anything fails.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))        # the extension's source folder


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="facecue_batch")
    parser.add_argument("--audio", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--emotion", default="neutral")
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--backend", default="procedural", choices=("procedural", "neural"), help="cue model")
    parser.add_argument("--server", default="localhost:50051")
    parser.add_argument("--token", default="")
    parser.add_argument("--takes-dir")
    parser.add_argument("--size", default="512")
    parser.add_argument("--no-render", action="store_true")
    parser.add_argument("--target-mesh", default="", help="mesh with ARKit shape keys to animate")
    parser.add_argument("--save", help="save the .blend here (default: don't save)")
    args = parser.parse_args(argv)
    import facecue_blender
    from facecue_blender.core.plan import ImportOptions
    import bpy
    try:
        report = facecue_blender.batch(
            args.audio, args.photo, server=args.server, emotion=args.emotion, intensity=args.intensity,
            takes_dir=args.takes_dir, render=not args.no_render, size=args.size, token=args.token, save=args.save,
            backend=args.backend,
            options=ImportOptions(target_mesh=args.target_mesh, start_frame=bpy.context.scene.frame_start))
    except Exception as err:
        from facecue_blender.blender.generation import user_message
        print(f"facecue_batch: error: {user_message(err)}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"facecue_batch: warning: {warning}", file=sys.stderr)
    print(f"facecue_batch: imported {report.frames} frames from {report.take}")
    return 0


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    code = main(arguments)
    if code:
        sys.exit(code)
