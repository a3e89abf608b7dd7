"""Training clips from real recorded speech: the development set's recordings and transcripts.

Each recording is heard in several renditions: slowed or hurried (0.85–1.15×), pitched up or
down (±2 semitones), under a drawn acoustic condition and with a drawn emotion and intensity.
The targets are the procedural teacher's cues for the rendition, timed by forced alignment of
the transcript, so the model hears real voices with targets that follow them.

Whole speakers are held out: the held-out split speaks only HELD_OUT_CLIPS, the training
split never does. Deterministic for a seed.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, load_audio
from ..evaluation import devset
from ..names import EMOTIONS
from . import augment
from .clips import save
from .teacher import BUNDLED_FACE, level_of, teach

# By recording source: the cards speaker, the TIDIGITS speaker and the Beckett reader.
HELD_OUT_CLIPS = ("cards1", "cards2", "cards3", "cards4", "cards5", "tidigits", "beckett")
TEMPO, SEMITONES = (0.85, 1.15), (-2.0, 2.0)


def clip_names(held_out: bool) -> list[str]:
    return [clip.name for clip in devset.CLIPS if (clip.name in HELD_OUT_CLIPS) == held_out]


def rendition(samples: np.ndarray, tempo: float, semitones: float) -> np.ndarray:
    """The recording ``tempo`` times as fast and ``semitones`` higher (16 kHz mono float32)."""
    import librosa
    y = librosa.effects.time_stretch(np.asarray(samples, np.float32), rate=tempo) if tempo != 1.0 else samples
    if semitones:
        y = librosa.effects.pitch_shift(y, sr=SAMPLE_RATE, n_steps=semitones)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def build(out: str | Path, renditions: int, *, seed: int = 0, root: Path | None = None, pipeline=None,
          progress=None, held_out: bool = False) -> list[Path]:
    """``renditions`` renditions of every recording of the split under ``out``. A held-out split
    is heard as recorded (no tempo, pitch or channel change), the emotions given in turn."""
    import soundfile

    from ..pipeline import Pipeline
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = devset.fetch(root, quiet=True)
    pipeline = pipeline or Pipeline()
    rng = np.random.default_rng(seed)
    names = clip_names(held_out)
    written, total = [], len(names) * renditions
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, turn) in enumerate((n, r) for n in names for r in range(renditions)):
            emotion = EMOTIONS[turn % len(EMOTIONS)] if held_out else EMOTIONS[rng.integers(len(EMOTIONS))]
            intensity = float(rng.uniform(0.3, 1.0))
            tempo, semitones = float(rng.uniform(*TEMPO)), float(rng.uniform(*SEMITONES))
            take_seed = int(rng.integers(2**31))
            channel_rng = np.random.default_rng(int(rng.integers(2**31)))
            condition = augment.draw(channel_rng)
            if held_out:
                tempo, semitones, condition = 1.0, 0.0, augment.Condition("clean")
            clip_name = f"{'held' if held_out else ''}rec_{seed:03d}_{name}_{turn:02d}"
            done = out / "synthetic" / emotion / f"level_{level_of(intensity)}" / f"{clip_name}.npz"
            if not done.is_file():              # resumed: the draws above keep later clips the same
                wav = Path(tmp) / f"{clip_name}.wav"
                audio = load_audio(devset.clip_path(root, name))
                soundfile.write(wav, rendition(audio.samples, tempo, semitones), SAMPLE_RATE, subtype="PCM_16")
                text = (root / "speech" / f"{name}.txt").read_text().strip()
                source = f"recorded {name} at {tempo:.2f}×, {semitones:+.1f} semitones"
                done = save(teach(pipeline, wav, text, image=BUNDLED_FACE, emotion=emotion, intensity=intensity,
                                  take_seed=take_seed, condition=condition, channel_rng=channel_rng, source=source),
                            out, clip_name)
            written.append(done)
            if progress:
                progress(k + 1, total)
    return written
