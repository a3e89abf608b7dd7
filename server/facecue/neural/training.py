"""``facecue train``: fit the cue model to a prepared dataset (``facecue prepare`` / ``corpus``).

Clips are brought to the model's frame rate and into the normalized space (see
``representation``), split by clip into training and validation, and sampled as random
``sequence_frames``-long stretches. Each stretch is decoded with the true previous cues
(plus noise) and scored with Eq. 7; AdamW with a cosine schedule. Deterministic for a seed
on a given machine.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..dataset import clips as clip_io
from ..errors import InvalidInput
from ..names import EMOTIONS
from ..timing import sample_linear
from . import checkpoint, representation as rep
from .config import ModelConfig, TrainConfig
from .features import frame_windows, model_mfcc
from .model import CueModel, loss


@dataclass
class TrainingClip:
    name: str
    emotion: int
    level: float
    mfcc: np.ndarray          # (T, 28) as the model reads it (``features.model_mfcc``)
    landmarks: np.ndarray     # (F+1, 147, 3) with the rest frame first (the cue before frame 0)
    pose: np.ndarray          # (F+1, 6)
    gaze: np.ndarray          # (F+1,) joint classes

    @property
    def frames(self) -> int:
        return len(self.pose) - 1


def _at_rate(clip: clip_io.PreparedClip, fps: float):
    """Targets at the model's rate (continuous cues interpolated, labels nearest)."""
    count = int(round(clip.frames / clip.fps * fps))
    position = np.clip(np.arange(count) / fps * clip.fps, 0, clip.frames - 1)
    return (sample_linear(clip.landmarks_local, position), sample_linear(clip.pose, position),
            clip.gaze_labels[np.rint(position).astype(np.int64)])


def load_dataset(cache: str | Path, cfg: ModelConfig) -> list[TrainingClip]:
    entries, prepared = clip_io.load_prepared(cache)
    rests = rep.speaker_rests(prepared)
    start_gaze = CueModel.start_gaze_for(cfg)
    out = []
    for entry, clip in zip(entries, prepared):
        if clip.emotion not in EMOTIONS:
            raise InvalidInput(f"clip {entry['path']} has unknown emotion '{clip.emotion}'")
        rest = rests[clip.actor]
        local, pose, labels = _at_rate(clip, cfg.fps)
        out.append(TrainingClip(
            name=entry["path"], emotion=EMOTIONS.index(clip.emotion), level=clip.emotion_level,
            mfcc=model_mfcc(clip.mfcc, clip.energy_db, cfg.feature_norm),
            landmarks=np.concatenate([np.zeros((1, cfg.landmark_points, 3), np.float32),
                                      rep.encode_landmarks(local, rest.face)]),
            pose=np.concatenate([np.zeros((1, 6), np.float32), rep.encode_pose(pose, rest.pose)]),
            gaze=np.concatenate([[start_gaze], rep.joint_gaze(labels)]).astype(np.int64)))
    return out


def mfcc_statistics(clips: list[TrainingClip]) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.concatenate([c.mfcc for c in clips])
    return stacked.mean(axis=0).astype(np.float32), (stacked.std(axis=0) + 1e-5).astype(np.float32)


class Batches:
    """Random stretches of clips as model inputs and targets."""

    def __init__(self, clips: list[TrainingClip], cfg: ModelConfig, tcfg: TrainConfig, mean, std):
        self.clips = [c for c in clips if c.frames >= tcfg.sequence_frames]
        if not self.clips:
            raise InvalidInput(f"no clip is at least {tcfg.sequence_frames} frames "
                               f"({tcfg.sequence_frames / cfg.fps:.1f} s) long")
        self.cfg, self.tcfg = cfg, tcfg
        self.windows = [((frame_windows(c.mfcc, c.frames, cfg.fps, cfg.mfcc_window) - mean) / std).astype(np.float32)
                        for c in self.clips]

    def sample(self, rng: np.random.Generator, size: int) -> tuple[dict, dict]:
        length = self.tcfg.sequence_frames
        picks = rng.integers(len(self.clips), size=size)
        starts = [int(rng.integers(self.clips[i].frames - length + 1)) for i in picks]
        take = lambda arrays, offset: np.stack([a[s + offset: s + offset + length] for a, s in zip(arrays, starts)])
        chosen = [self.clips[i] for i in picks]
        mix = np.zeros((size, length, len(EMOTIONS)), np.float32)
        mix[np.arange(size), :, [c.emotion for c in chosen]] = np.array([c.level for c in chosen])[:, None]
        inputs = {"windows": take([self.windows[i] for i in picks], 0), "mix": mix,
                  "previous_landmarks": take([c.landmarks for c in chosen], 0),
                  "previous_pose": take([c.pose for c in chosen], 0),
                  "previous_gaze": take([c.gaze for c in chosen], 0)}
        targets = {"landmarks": take([c.landmarks for c in chosen], 1), "pose": take([c.pose for c in chosen], 1),
                   "gaze": take([c.gaze for c in chosen], 1),
                   "emotion": np.repeat([[c.emotion] for c in chosen], length, axis=1)}
        return ({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()},
                {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in targets.items()})


def _noisy(inputs: dict, scale: float, generator: torch.Generator) -> dict:
    out = dict(inputs)
    for key in ("previous_landmarks", "previous_pose"):
        noise = torch.randn(inputs[key].shape, generator=generator)
        out[key] = inputs[key] + scale * noise.to(inputs[key].device)
    return out


def _validate(model: CueModel, inputs: dict, targets: dict, tcfg: TrainConfig) -> dict:
    model.eval()
    with torch.no_grad():
        return loss(model(**inputs), targets, tcfg)[1]


def _to(pair: tuple[dict, dict], device: torch.device) -> tuple[dict, dict]:
    return tuple({k: v.to(device) for k, v in part.items()} for part in pair)


def state_path(out: str | Path) -> Path:
    """Where an unfinished training run keeps its state (next to the checkpoint it will write)."""
    out = Path(out)
    return out.with_name(out.name + ".training-state")


def train(cache: str | Path, out: str | Path, *, cfg: ModelConfig = ModelConfig(), tcfg: TrainConfig = TrainConfig(),
          version: str = "neural-1", device: str | None = None, progress: Callable[[int, dict], None] | None = None,
          resume: bool = False, save_every: int = 500) -> dict:
    """Train and write a checkpoint to ``out``; returns the recorded training summary.

    Every ``save_every`` steps the whole run (weights, optimizer, schedule, random states) is
    saved beside ``out``; ``resume=True`` continues an interrupted run from there and ends with
    the same weights an uninterrupted run would have (same machine and thread count)."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(tcfg.seed)
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    rng = np.random.default_rng(tcfg.seed)
    clips = load_dataset(cache, cfg)
    order = rng.permutation(len(clips))
    held = max(1, int(round(len(clips) * tcfg.validation_fraction))) if len(clips) > 1 else 0
    validation = [clips[i] for i in order[:held]]
    training = [clips[i] for i in order[held:]]
    mean, std = mfcc_statistics(training)
    batches = Batches(training, cfg, tcfg, mean, std)
    checks = Batches(validation or training, cfg, tcfg, mean, std)
    check_inputs, check_targets = _to(checks.sample(np.random.default_rng(tcfg.seed + 1), 4 * tcfg.batch), device)

    model = CueModel(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tcfg.learning_rate, weight_decay=tcfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, tcfg.learning_rate, total_steps=tcfg.steps,
                                                   pct_start=0.05)
    generator = torch.Generator().manual_seed(tcfg.seed)
    started = time.perf_counter()
    terms: dict = {}
    first, spent = 1, 0.0
    if resume:
        saved = _load_state(state_path(out), tcfg)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        rng.bit_generator.state = saved["numpy_rng"]
        generator.set_state(saved["generator"])
        first, spent, initial, validation_terms = saved["step"] + 1, saved["seconds"], saved["initial"], saved["validation"]
    else:
        initial = _validate(model, check_inputs, check_targets, tcfg)
        validation_terms = initial
    for step in range(first, tcfg.steps + 1):
        model.train()
        inputs, targets = _to(batches.sample(rng, tcfg.batch), device)
        total, terms = loss(model(**_noisy(inputs, tcfg.cue_noise, generator)), targets, tcfg)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 200 == 0 or step == tcfg.steps:
            validation_terms = _validate(model, check_inputs, check_targets, tcfg)
        if step % save_every == 0 and step < tcfg.steps:
            _save_state(state_path(out), {
                "step": step, "recipe": asdict(tcfg), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(), "numpy_rng": rng.bit_generator.state,
                "generator": generator.get_state(), "initial": initial, "validation": validation_terms,
                "seconds": spent + time.perf_counter() - started})
        if progress:
            progress(step, {"train": terms, "validation": validation_terms})
    summary = {"recipe": asdict(tcfg), "dataset": str(cache), "clips": {"train": len(training),
               "validation": len(validation)}, "frames": int(sum(c.frames for c in training)),
               "seconds": round(spent + time.perf_counter() - started, 1),
               "initial_loss": {"validation": initial},
               "final_loss": {"train": terms, "validation": validation_terms},
               "torch": torch.__version__}
    checkpoint.save(out, model.cpu(), version=version, mfcc_mean=mean, mfcc_std=std, training=summary)
    state_path(out).unlink(missing_ok=True)
    return summary


def _save_state(path: Path, state: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    partial.replace(path)                                   # a crash mid-save keeps the previous state


def _load_state(path: Path, tcfg: TrainConfig) -> dict:
    if not path.is_file():
        raise InvalidInput(f"nothing to resume: '{path}' does not exist (the run finished, or never saved)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)   # our own file: it holds RNG states
    except Exception as exc:                                                  # noqa: BLE001
        raise InvalidInput(f"cannot resume from '{path}': unreadable ({type(exc).__name__})") from None
    if state.get("recipe") != asdict(tcfg):
        changed = sorted(k for k, v in asdict(tcfg).items() if state.get("recipe", {}).get(k) != v)
        raise InvalidInput(f"cannot resume: the saved run used other settings ({', '.join(changed)})")
    return state
