"""Make the bundled cue model, reproducibly:  python -m facecue.neural.make_default --work DIR

1. the synthetic training corpus: CORPUS_CLIPS clips, seed 0 (``facecue corpus``), many
   espeak-ng voices heard through rooms, noise and telephone lines;
2. the held-out split: HELD_OUT_CLIPS clips, seed 1, sentences and voices the corpus never has;
3. training with the default TrainConfig (seed 0);
4. evaluation on the held-out split (``facecue eval``).
Writes ``data/cue_model.pt`` and ``data/cue_model.json`` (the recipe, the data, the final
losses and the evaluation report). Steps 1–2 resume when re-run with the same work folder.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from ..dataset import augment, synthetic
from . import checkpoint, evaluation, training
from .backend import NeuralBackend
from .config import TrainConfig

CORPUS_CLIPS, HELD_OUT_CLIPS = 800, 80
VERSION = "neural-1.1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the corpus and held-out split")
    parser.add_argument("--out", type=Path, default=checkpoint.DEFAULT)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--evaluate-only", action="store_true",
                        help="keep the checkpoint at --out; evaluate it again and rewrite the record")
    args = parser.parse_args(argv)
    corpus, held_out = args.work / "corpus", args.work / "heldout"
    for folder, clips, seed, held in ((corpus, CORPUS_CLIPS, 0, False), (held_out, HELD_OUT_CLIPS, 1, True)):
        with tqdm(total=clips, desc=f"corpus {folder.name}", unit="clip") as bar:
            synthetic.build(folder, clips, seed=seed, held_out=held, progress=lambda done, total: bar.update(1))
    if args.evaluate_only:
        summary = checkpoint.load(args.out).training
    else:
        recipe = TrainConfig(threads=args.threads)
        with tqdm(total=recipe.steps, desc="train", unit="step") as bar:
            summary = training.train(corpus, args.out, tcfg=recipe, version=VERSION, device="cpu",
                                     progress=lambda step, losses: bar.update(1))
    report = evaluation.evaluate(held_out, NeuralBackend(args.out, device="cpu"))
    print(evaluation.format_report(report))
    record = {"version": VERSION, "command": "python -m facecue.neural.make_default --work DIR",
              "data": {"corpus": {"clips": CORPUS_CLIPS, "seed": 0, "accents": list(synthetic.ACCENTS),
                                  "variants": list(synthetic.VARIANTS), "conditions": list(augment.CONDITIONS)},
                       "held_out": {"clips": HELD_OUT_CLIPS, "seed": 1, "sentences": "held-out only",
                                    "accents": list(synthetic.HELD_OUT_ACCENTS),
                                    "variants": list(synthetic.HELD_OUT_VARIANTS)}},
              "training": summary, "evaluation_held_out": report}
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
