"""Audio in: any common file → 16 kHz mono float32; speech features at 100 Hz.

Features are computed once per take on the whole signal (vectorized by librosa) and
sampled at any frame rate with ``AudioFeatures.at``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidInput, LimitExceeded

SAMPLE_RATE = 16_000
FEATURE_RATE = 100          # feature frames per second (10 ms hop)
MFCC_DIMS = 28
HOP = SAMPLE_RATE // FEATURE_RATE
SILENCE_DBFS = -50.0        # loudest 50 ms below this: no speech to animate
MIN_DURATION_S = 0.1
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4_000, 384_000     # a header outside these is lying or not speech
MAX_CHANNELS = 64
MAX_DECODE_S = 4 * 3600.0   # the most any call decodes, whatever its limit says
DECODE_BLOCK = 1 << 16      # frames per decoded block


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray      # (N,) float32 in [-1, 1], 16 kHz mono
    name: str                # for messages: the file name or "<bytes>"

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def wav_bytes(self) -> bytes:
        """16-bit PCM WAV of the samples (the take's audio.wav)."""
        import soundfile as sf
        buffer = io.BytesIO()
        sf.write(buffer, self.samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        return buffer.getvalue()


def load_audio(source: str | Path | bytes, *, max_duration_s: float | None = None,
               name: str | None = None) -> Audio:
    """Decode, downmix and resample; reject what cannot drive a face.

    The length limit is checked from the file's header before decoding, and decoding streams
    in blocks that stop at the limit, so a file that lies about its length costs no more
    memory than an honest one (``MAX_DECODE_S`` caps what "no limit" means).
    """
    label = _label(source, name)
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InvalidInput(f"audio file '{source}' does not exist")
    limit_s = _decode_limit(max_duration_s)
    samples = _decode(source, label, limit_s)
    if samples.size == 0:
        raise InvalidInput(f"audio '{label}' is empty (no samples)")
    audio = Audio(samples=np.clip(samples, -1.0, 1.0), name=label)
    _check(audio, max_duration_s)
    return audio


def check_audio_header(source: str | Path | bytes, *, max_duration_s: float | None = None,
                       name: str | None = None) -> None:
    """The limits load_audio enforces, from the header alone (nothing is decoded): run it
    before other work on a file, e.g. before hashing a large one."""
    import soundfile as sf
    try:
        info = sf.info(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except Exception:
        return                    # not a libsndfile format: FFmpeg's reader checks as it decodes
    _check_sound_header(_label(source, name), info, _decode_limit(max_duration_s))


def _label(source: str | Path | bytes, name: str | None) -> str:
    return name or (Path(source).name if not isinstance(source, bytes) else "<audio bytes>")


def _decode_limit(max_duration_s: float | None) -> float:
    return min(max_duration_s or MAX_DECODE_S, MAX_DECODE_S)


def _decode(source: str | Path | bytes, label: str, limit_s: float) -> np.ndarray:
    import soundfile as sf
    data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        sound = sf.SoundFile(data)
    except Exception:
        return _decode_ffmpeg(source, label, limit_s)   # not a libsndfile format: FFmpeg through PyAV
    with sound:
        _check_sound_header(label, sound, limit_s)
        return _read_blocks(sound, label, limit_s)


def _check_sound_header(label: str, sound, limit_s: float) -> None:
    """``sound``: libsndfile's view of a header (an open SoundFile or its info)."""
    _check_header(label, sound.samplerate, sound.channels, sound.frames / max(sound.samplerate, 1), limit_s)


def _check_header(label: str, rate: float, channels: int, duration_s: float | None, limit_s: float) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidInput(f"audio '{label}' says its sample rate is {rate:g} Hz; FaceCue reads "
                           f"{MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidInput(f"audio '{label}' says it has {channels} channels; FaceCue reads 1–{MAX_CHANNELS}")
    if duration_s is not None and duration_s > limit_s:
        raise LimitExceeded(_too_long(label, duration_s, limit_s))


def _too_long(label: str, duration_s: float, limit_s: float) -> str:
    return f"audio '{label}' is {duration_s:.1f} s long; the limit is {limit_s:.0f} s"


def _runs_past(label: str, limit_s: float) -> str:
    return f"audio '{label}' runs past the limit of {limit_s:.0f} s (decoding stopped there)"


def _read_blocks(sound, label: str, limit_s: float) -> np.ndarray:
    """Mono 16 kHz, decoded and resampled block by block, never past the limit."""
    import soxr
    rate = sound.samplerate
    most = int(limit_s * rate) + 1
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32") if rate != SAMPLE_RATE else None
    out, read = [], 0
    try:
        for block in sound.blocks(blocksize=DECODE_BLOCK, dtype="float32", always_2d=True, frames=most):
            read += len(block)
            mono = block.mean(axis=1, dtype=np.float32)
            out.append(stream.resample_chunk(mono) if stream else mono)
    except RuntimeError as exc:                       # libsndfile: truncated or damaged data
        raise InvalidInput(f"cannot read audio '{label}': the file is damaged ({exc})") from None
    if read >= most:
        raise LimitExceeded(_runs_past(label, limit_s))
    if stream:
        out.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _decode_ffmpeg(source: str | Path | bytes, label: str, limit_s: float) -> np.ndarray:
    import av
    most = int(limit_s * SAMPLE_RATE) + 1
    try:
        with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as container:
            stream = container.streams.audio[0]
            known = container.duration / av.time_base if container.duration else None
            _check_header(label, stream.rate or SAMPLE_RATE, stream.channels or 1, known, limit_s)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks, count = [], 0
            for frame in container.decode(stream):
                for piece in resampler.resample(frame):
                    chunks.append(piece.to_ndarray().reshape(-1))
                    count += len(chunks[-1])
                if count >= most:
                    raise LimitExceeded(_runs_past(label, limit_s))
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (InvalidInput, LimitExceeded):
        raise
    except Exception as exc:
        raise InvalidInput(f"cannot read audio '{label}': not a readable wav, flac, ogg, mp3 "
                           f"or other audio file ({type(exc).__name__})") from None
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def _check(audio: Audio, max_duration_s: float | None) -> None:
    if audio.duration_s < MIN_DURATION_S:
        raise InvalidInput(f"audio '{audio.name}' is {audio.duration_s * 1000:.0f} ms long; "
                           f"at least {MIN_DURATION_S * 1000:.0f} ms of speech is needed")
    if max_duration_s is not None and audio.duration_s > max_duration_s:
        raise LimitExceeded(f"audio '{audio.name}' is {audio.duration_s:.1f} s long; the limit "
                            f"is {max_duration_s:.0f} s")
    window = SAMPLE_RATE // 20
    usable = len(audio.samples) // window * window or len(audio.samples)
    power = np.square(audio.samples[:usable].reshape(-1, min(window, usable))).mean(axis=1)
    loudest = 10 * np.log10(power.max() + 1e-12)
    if loudest < SILENCE_DBFS:
        raise InvalidInput(f"audio '{audio.name}' is silent (loudest 50 ms at {loudest:.0f} dBFS, "
                           f"speech needs above {SILENCE_DBFS:.0f} dBFS)")


@dataclass(frozen=True)
class AudioFeatures:
    """Per-10 ms features of a take's audio."""

    mfcc: np.ndarray         # (T, 28)
    energy_db: np.ndarray    # (T,) RMS level in dBFS
    f0_hz: np.ndarray        # (T,) fundamental frequency, 0 where unvoiced
    duration_s: float

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.energy_db)) / FEATURE_RATE

    def at(self, times: np.ndarray) -> "AudioFeatures":
        """The same features linearly interpolated at ``times`` (seconds)."""
        t = self.times

        def interp(x: np.ndarray) -> np.ndarray:
            if x.ndim == 1:
                return np.interp(times, t, x).astype(np.float32)
            return np.stack([np.interp(times, t, col) for col in x.T], axis=1).astype(np.float32)

        return AudioFeatures(interp(self.mfcc), interp(self.energy_db), interp(self.f0_hz),
                             self.duration_s)

    def speech_activity(self) -> np.ndarray:
        """(T,) in [0, 1]: how far each frame's level is above the take's noise floor."""
        floor = np.percentile(self.energy_db, 10)
        peak = np.percentile(self.energy_db, 98)
        span = max(peak - floor, 6.0)
        return np.clip((self.energy_db - floor - 0.15 * span) / (0.7 * span), 0.0, 1.0)


def extract_features(audio: Audio) -> AudioFeatures:
    """28-d MFCC (25 ms window), RMS energy and YIN f0, all on a 10 ms hop."""
    import librosa
    y = audio.samples
    mfcc = librosa.feature.mfcc(y=y, sr=SAMPLE_RATE, n_mfcc=MFCC_DIMS, n_fft=512,
                                win_length=400, hop_length=HOP, n_mels=40)
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=HOP)[0]
    energy_db = 20 * np.log10(rms + 1e-6)
    f0 = librosa.yin(y, fmin=60, fmax=500, sr=SAMPLE_RATE, frame_length=1024, hop_length=HOP)
    frames = min(mfcc.shape[1], len(energy_db), len(f0))
    energy_db = energy_db[:frames]
    voiced = energy_db > max(np.percentile(energy_db, 10) + 12.0, SILENCE_DBFS)
    f0 = np.where(voiced, f0[:frames], 0.0)
    return AudioFeatures(mfcc=mfcc[:, :frames].T.astype(np.float32),
                         energy_db=energy_db.astype(np.float32),
                         f0_hz=f0.astype(np.float32), duration_s=audio.duration_s)
