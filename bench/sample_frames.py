"""A strip of rendered frames from the bundled sample take, for the README.

    python bench/sample_frames.py [--out bench/sample_frames.jpg]

Generates the demo take (happy, 512² frames) and places the photo beside frames picked
for what they show: wide open, lips together, a blink or glance, a head turn.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from facecue import take as take_io, topology as topo
from facecue.cli import SAMPLES
from facecue.config import RenderOptions, RenderSize, TakeRequest
from facecue.pipeline import Pipeline


def pick_frames(take) -> list[int]:
    lm = take.landmarks_image
    gap = np.linalg.norm(lm[:, topo.UPPER_LIP_INNER, :2] - lm[:, topo.LOWER_LIP_INNER, :2], axis=1)
    lid = np.linalg.norm(lm[:, 159, :2] - lm[:, 145, :2], axis=1)
    speaking = np.arange(len(gap)) > len(gap) // 10
    return [int(np.argmax(gap)), int(np.argmin(np.where(speaking, gap, np.inf))), int(np.argmin(lid)),
            int(np.argmax(np.abs(take.pose[:, 0] - take.pose[0, 0])))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample_frames.jpg")
    parser.add_argument("--size", type=int, default=256, help="edge of each tile in the strip")
    args = parser.parse_args()
    request = TakeRequest(audio=SAMPLES / "speech.wav", image=SAMPLES / "face.jpg", emotion="happy",
                          transcript=(SAMPLES / "speech.txt").read_text(), render=RenderOptions(RenderSize(edge=512), video=False))
    with tempfile.TemporaryDirectory() as folder:
        take = take_io.load(take_io.write(Pipeline().run(request), Path(folder) / "take"))
        framing = take.manifest["render"]["framing"]
        x0, y0 = framing["origin_px"]
        side = framing["width"] / framing["scale"]
        photo = Image.open(SAMPLES / "face.jpg").convert("RGB").crop((x0, y0, x0 + side, y0 + side))
        tiles = [photo] + [Image.open(Path(folder) / "take" / (take.manifest["files"]["frames"] % i)).convert("RGB")
                           for i in pick_frames(take)]
    strip = np.concatenate([np.asarray(t.resize((args.size, args.size), Image.LANCZOS)) for t in tiles], 1)
    Image.fromarray(strip).save(args.out, quality=88)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
