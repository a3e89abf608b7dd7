"""``facecue corpus``: a synthetic training corpus from espeak-ng speech and the procedural cues.

Many sentences spoken by many voices (accents × speaker variants) at varied rates and pitches,
heard through a drawn acoustic condition (room, noise, telephone line; see ``augment``); each
clip gets an emotion and intensity, and its targets are the procedural backend's cues for the
bundled face, timed by the clean words — so the whole training path runs on machines without
a talking-face dataset. Deterministic for a seed.
"""
from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..audio import extract_features, load_audio
from ..config import TakeRequest
from ..names import EMOTIONS
from . import augment
from .clips import PreparedClip, save

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.", "We should leave before the rain starts.",
    "Could you pass me the salt, please?", "I never thought I would see you here again.",
    "The meeting has been moved to Thursday morning.", "Look at the sky, it is turning orange.",
    "My brother builds boats by the river.", "Please remember to lock the back door.",
    "That was the best show I have seen in years.", "Why would anyone do such a thing?",
    "Five hundred people waited outside the station.", "She sells sea shells by the sea shore.",
    "Turn left at the old mill and follow the road.", "Nobody told me the train was cancelled.",
    "We will win this match if we keep calm.", "The soup is far too hot to eat right now.",
    "Bring your coat, the evening will be cold.", "I am so sorry, I forgot your birthday.",
    "Keep your voice down, the baby is asleep.", "This is exactly what I was afraid of.",
)
# Sentences only the held-out split speaks: evaluation on words the model never heard.
HELD_OUT_SENTENCES = (
    "The library closes early on public holidays.", "Our neighbours painted their fence bright green.",
    "Do you know where I left my glasses?", "Thunder rolled across the valley all night.",
    "He laughed so hard that he dropped his coffee.", "Every winter the lake freezes solid.",
    "I cannot believe they sold the old farm.", "Send me the photos when you get home.",
)
# Voices: an accent and a speaker variant. The held-out split speaks with voices the corpus
# never uses, so validation measures new speakers as well as new words.
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-rp")
VARIANTS = ("", "f1", "f2", "f3", "m1", "m2", "m3", "m6", "klatt", "klatt3", "steph", "rob")
HELD_OUT_ACCENTS = ("en-gb-x-gbclan", "en-us")
HELD_OUT_VARIANTS = ("f4", "m7", "klatt2", "Andy")


def voice_name(accent: str, variant: str) -> str:
    return f"{accent}+{variant}" if variant else accent


def speak(text: str, voice: str, rate: int, pitch: int, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(path), text],
                   check=True, capture_output=True)
    return path


def build(out: str | Path, clips: int, *, seed: int = 0, image: str | Path | None = None, pipeline=None,
          progress=None, held_out: bool = False) -> list[Path]:
    """``clips`` clips under ``out``; ``held_out`` speaks only HELD_OUT_SENTENCES (an evaluation split)."""
    from ..pipeline import Pipeline
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pipeline = pipeline or Pipeline()
    image = Path(image) if image else Path(__file__).resolve().parents[1] / "samples" / "face.jpg"
    rng = np.random.default_rng(seed)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(clips):
            name = f"{'held' if held_out else 'syn'}_{seed:03d}_{index:05d}"
            pool = HELD_OUT_SENTENCES if held_out else SENTENCES
            sentences = rng.choice(len(pool), size=int(rng.integers(1, 3)), replace=False)
            text = " ".join(pool[i] for i in sentences)
            accents, variants = (HELD_OUT_ACCENTS, HELD_OUT_VARIANTS) if held_out else (ACCENTS, VARIANTS)
            voice = voice_name(accents[rng.integers(len(accents))], variants[rng.integers(len(variants))])
            emotion = EMOTIONS[rng.integers(len(EMOTIONS))]
            intensity = float(rng.uniform(0.3, 1.0))
            rate, pitch, take_seed = int(rng.integers(120, 210)), int(rng.integers(20, 80)), int(rng.integers(2**31))
            channel_rng = np.random.default_rng(int(rng.integers(2**31)))
            condition = augment.draw(channel_rng)
            level = 1 + min(2, int(intensity * 3))
            done = out / "synthetic" / emotion / f"level_{level}" / f"{name}.npz"
            if done.is_file():                  # resumed: the draws above keep later clips the same
                written.append(done)
                continue
            wav = speak(text, voice, rate, pitch, Path(tmp) / f"{name}.wav")
            take = pipeline.run(TakeRequest(audio=wav, image=image, emotion=emotion, intensity=intensity,
                                            seed=take_seed, transcript=text))
            clean = load_audio(wav)
            heard = augment.apply(clean.samples, condition, channel_rng)
            features = extract_features(dataclasses.replace(clean, samples=heard))
            clip = PreparedClip(actor="synthetic", emotion=emotion, level=level,
                                source=f"espeak-ng {voice} ({condition.describe()}): {text}", fps=take.fps,
                                mfcc=features.mfcc,
                                energy_db=features.energy_db, f0_hz=features.f0_hz,
                                landmarks_local=take.landmarks_local, pose=take.pose, gaze_angles=take.gaze_angles,
                                gaze_labels=take.gaze_labels, intensity=intensity)
            written.append(save(clip, out, name))
            if progress:
                progress(index + 1, clips)
    return written
