"""Checkpoint files: the weights with everything needed to use them.

A checkpoint is a torch file (read with ``weights_only=True``: plain tensors and values,
never arbitrary objects) holding
    format            "facecue.cue_model"
    format_version    FORMAT_VERSION; a newer file is refused with a clear message
    model_version     goes into every take's manifest (and the content key of stored takes)
    config            ModelConfig fields
    mfcc_mean/std     the training data's feature normalization
    state             the weights, float16 (half the size; inference runs in float32)
    training          the recipe and final metrics, for people reading it
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidInput
from .config import ModelConfig
from .model import CueModel

FORMAT = "facecue.cue_model"
FORMAT_VERSION = 1
DEFAULT = Path(__file__).resolve().parent.parent / "data" / "cue_model.pt"


class BadCheckpoint(InvalidInput):
    """A checkpoint that is missing, corrupt, from another version or not matching its config."""


@dataclass
class LoadedModel:
    model: CueModel
    version: str
    mfcc_mean: np.ndarray
    mfcc_std: np.ndarray
    training: dict
    path: Path
    digest: str                 # sha256 of the file: two checkpoints never share a version string


def save(path: str | Path, model: CueModel, *, version: str, mfcc_mean: np.ndarray, mfcc_std: np.ndarray,
         training: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "model_version": version,
               "config": model.cfg.as_dict(),
               "mfcc_mean": torch.as_tensor(mfcc_mean, dtype=torch.float32),
               "mfcc_std": torch.as_tensor(mfcc_std, dtype=torch.float32),
               "state": {k: v.detach().cpu().half() for k, v in model.state_dict().items()},
               "training": json.loads(json.dumps(training))}        # plain values only: weights_only loading
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)                                    # never a half-written checkpoint
    return path


def load(path: str | Path | None = None, device: str | torch.device = "cpu") -> LoadedModel:
    path = Path(path) if path else DEFAULT
    if not path.is_file():
        raise BadCheckpoint(f"checkpoint '{path}' does not exist")
    data = path.read_bytes()                 # read once: loaded and hashed
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:            # torch raises many kinds for a damaged file
        raise BadCheckpoint(f"checkpoint '{path}' cannot be read: corrupt or not a torch file "
                            f"({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise BadCheckpoint(f"'{path}' is not a FaceCue cue-model checkpoint")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BadCheckpoint(f"checkpoint '{path}' has format version {version}; this FaceCue reads up to "
                            f"{FORMAT_VERSION} — update FaceCue or re-export the checkpoint")
    cfg = ModelConfig.from_dict(payload["config"])
    model = CueModel(cfg)
    state = {k: v.float() for k, v in payload["state"].items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        problems = (f"missing {', '.join(missing[:3])}" if missing else "") + \
                   (f" unexpected {', '.join(unexpected[:3])}" if unexpected else "") + \
                   (f" wrong shape for {', '.join(wrong[:3])}" if wrong else "")
        raise BadCheckpoint(f"checkpoint '{path}' does not match the model its config describes:{problems}")
    model.load_state_dict(state)
    model.eval().to(device)
    return LoadedModel(model=model, version=str(payload["model_version"]), mfcc_mean=payload["mfcc_mean"].numpy(),
                       mfcc_std=payload["mfcc_std"].numpy(), training=dict(payload.get("training", {})), path=path,
                       digest=hashlib.sha256(data).hexdigest())
