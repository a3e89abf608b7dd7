"""``facecue corpus``: a synthetic training corpus from synthetic speech and the procedural cues.

Many sentences spoken by many voices (espeak-ng's accents × speaker variants, or flite's and
festival's voices; see ``voices``) at varied rates and pitches,
heard through a drawn acoustic condition (room, noise, telephone line; see ``augment``); each
clip gets an emotion and intensity, and its targets are the procedural backend's cues for the
bundled face, timed by the clean words — so the whole training path runs on machines without
a talking-face dataset. Deterministic for a seed.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..names import EMOTIONS
from . import augment
from .clips import save
from .teacher import BUNDLED_FACE, level_of, teach
from .voices import HELD_OUT_OTHER_VOICES, OTHER_VOICES, Voice, speak

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


VOICE_SETS = ("espeak-ng", "flite+festival")
CLIP_PREFIX = {"espeak-ng": "syn", "flite+festival": "tts"}


def voice_name(accent: str, variant: str) -> str:
    return f"{accent}+{variant}" if variant else accent


def draw_voice(rng: np.random.Generator, voices: str, held_out: bool) -> Voice:
    if voices == "espeak-ng":
        accents, variants = (HELD_OUT_ACCENTS, HELD_OUT_VARIANTS) if held_out else (ACCENTS, VARIANTS)
        return Voice("espeak-ng", voice_name(accents[rng.integers(len(accents))],
                                             variants[rng.integers(len(variants))]))
    pool = HELD_OUT_OTHER_VOICES if held_out else OTHER_VOICES
    return pool[rng.integers(len(pool))]


def build(out: str | Path, clips: int, *, seed: int = 0, image: str | Path | None = None, pipeline=None,
          progress=None, held_out: bool = False, voices: str = "espeak-ng", balanced: bool = False) -> list[Path]:
    """``clips`` clips under ``out``, spoken by one of VOICE_SETS.

    ``held_out`` speaks only HELD_OUT_SENTENCES with the held-out voices (an evaluation split);
    ``balanced`` gives the emotions in turn, so every emotion has as many clips to be scored on.
    """
    from ..pipeline import Pipeline
    if voices not in VOICE_SETS:
        raise ValueError(f"voices must be one of {', '.join(VOICE_SETS)}, not {voices!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pipeline = pipeline or Pipeline()
    image = Path(image) if image else BUNDLED_FACE
    rng = np.random.default_rng(seed)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(clips):
            name = f"{'held' if held_out else ''}{CLIP_PREFIX[voices]}_{seed:03d}_{index:05d}"
            pool = HELD_OUT_SENTENCES if held_out else SENTENCES
            sentences = rng.choice(len(pool), size=int(rng.integers(1, 3)), replace=False)
            text = " ".join(pool[i] for i in sentences)
            voice = draw_voice(rng, voices, held_out)
            emotion = EMOTIONS[rng.integers(len(EMOTIONS))]
            if balanced:                        # drawn all the same, so the other draws stay as they were
                emotion = EMOTIONS[index % len(EMOTIONS)]
            intensity = float(rng.uniform(0.3, 1.0))
            rate, pitch, take_seed = int(rng.integers(120, 210)), int(rng.integers(20, 80)), int(rng.integers(2**31))
            channel_rng = np.random.default_rng(int(rng.integers(2**31)))
            condition = augment.draw(channel_rng)
            done = out / "synthetic" / emotion / f"level_{level_of(intensity)}" / f"{name}.npz"
            if not done.is_file():              # resumed: the draws above keep later clips the same
                wav = speak(text, voice, rate, pitch, Path(tmp) / f"{name}.wav")
                done = save(teach(pipeline, wav, text, image=image, emotion=emotion, intensity=intensity,
                                  take_seed=take_seed, condition=condition, channel_rng=channel_rng,
                                  source=voice.describe()), out, name)
            written.append(done)
            if progress:
                progress(index + 1, clips)
    return written
