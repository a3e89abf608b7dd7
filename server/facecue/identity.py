"""A take's identity: a content hash of its inputs, its parameters and the model versions.

Two requests with the same key produce the same take (generation is deterministic), so the
server's store and the batch runner reuse a finished take instead of making it again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from . import __version__
from .config import TakeRequest

# Bump when what a take contains changes for the same inputs (2: the ARKit basis's nose wrinkle;
# 3: its raised brows lift the forehead, and blinks close over a widened or squinting eye;
# 4: the jaw parts the lips as a lens, tapering into the corners; 5: a smiling photo's corners
# come back to the canonical level, and rounding narrows the lips alike at every height;
# 6: the smile's pull falls off mostly across the face, the lips beside the corner following it).
IDENTITY_VERSION = 6


def _input_digest(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return hashlib.sha256(value).hexdigest()
    with open(value, "rb") as fh:                   # read in blocks: inputs may be large
        return hashlib.file_digest(fh, "sha256").hexdigest()


def take_key(request: TakeRequest, pipeline) -> str:
    """The content key of what ``pipeline`` would make for ``request``."""
    backend = pipeline.backends[request.backend]
    renderer = pipeline.renderer().version if request.render else ""
    return content_key(request, f"{backend.name}-{backend.version}", renderer)


def content_key(request: TakeRequest, model_version: str, renderer_version: str = "") -> str:
    """sha256 hex of everything that decides the take's contents."""
    parameters = {
        "identity": IDENTITY_VERSION, "facecue": __version__, "model": model_version,
        "renderer": renderer_version if request.render else "", "audio": _input_digest(request.audio),
        "image": _input_digest(request.image), "emotion": request.emotion, "intensity": round(request.intensity, 6),
        "fps": round(request.fps, 6), "seed": request.seed, "transcript": request.transcript or "",
        "backend": request.backend,
        "render": {**asdict(request.render), "size": str(request.render.size)} if request.render else None,
        "controls": request.controls.as_manifest(),
    }
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
