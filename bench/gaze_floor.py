"""How small a gaze-region distance the held-out split can show: the teacher against itself.

    python bench/gaze_floor.py CACHE [CACHE …] [--trials 20]

``facecue eval`` compares the model's gaze-region shares per emotion with the targets'; both
are counts over a few fixations per clip, so even a perfect model reads a distance above 0.
This draws the procedural teacher's gaze twice, with other seeds, for the same clips (their
lengths, frame rates, emotions and intensities) and prints the mean total-variation distance
per emotion: the floor under the model's figure for that split.
"""
from __future__ import annotations

import argparse

import numpy as np

from facecue.dataset import clips as clip_io
from facecue.neural.evaluation import region_shares
from facecue.procedural import gaze_process


def floor(prepared: list[clip_io.PreparedClip], trials: int) -> dict[str, tuple[int, float]]:
    by_emotion: dict[str, list[clip_io.PreparedClip]] = {}
    for clip in prepared:
        by_emotion.setdefault(clip.emotion, []).append(clip)
    out = {}
    for emotion, clips in sorted(by_emotion.items()):
        distances = []
        for trial in range(trials):
            shares = []
            for side in (0, 1):
                labels = [gaze_process.gaze_track(np.random.default_rng([trial, k, side]), c.frames, c.fps, emotion,
                                                  c.emotion_level)[1].ravel() for k, c in enumerate(clips)]
                shares.append(region_shares(np.concatenate(labels)))
            distances.append(0.5 * np.abs(shares[0] - shares[1]).sum())
        out[emotion] = (len(clips), float(np.mean(distances)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("caches", nargs="+")
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    for cache in args.caches:
        _, prepared = clip_io.load_prepared(cache)
        rows = floor(prepared, args.trials)
        print(f"{cache}: {len(prepared)} clips")
        print(f"{'emotion':<12}{'clips':>6}{'floor':>8}")
        for emotion, (count, distance) in rows.items():
            print(f"{emotion:<12}{count:>6}{distance:>8.3f}")
        print(f"{'mean':<12}{'':>6}{np.mean([d for _, d in rows.values()]):>8.3f}")


if __name__ == "__main__":
    main()
