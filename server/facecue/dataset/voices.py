"""Synthetic voices for the training corpus: espeak-ng, flite and festival, from Debian's packages.

Each engine speaks differently (formant synthesis, diphone concatenation, statistical
parametric voices), so a model trained on all of them hears more than one kind of voice.
``speak`` takes one rate and pitch for every engine: espeak-ng uses them directly; flite and
festival stretch their durations to the same rate, and their pitch is shifted afterwards by
the same number of semitones espeak-ng's pitch setting is away from its default.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_RATE, DEFAULT_PITCH = 165, 50          # espeak-ng's words per minute and pitch (0–99)
PACKAGES = {"espeak-ng": "espeak-ng", "flite": "flite",
            "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"}


@dataclass(frozen=True)
class Voice:
    engine: str     # espeak-ng | flite | festival
    name: str       # espeak-ng "accent+variant"; flite -voice name; festival voice (voice_<name>)

    def describe(self) -> str:
        return f"{self.engine} {self.name}"


# Training and held-out voices of flite and festival: the held-out ones are never trained on.
OTHER_VOICES = (Voice("flite", "kal16"), Voice("flite", "awb"), Voice("flite", "slt"),
                Voice("festival", "kal_diphone"), Voice("festival", "cmu_us_slt_arctic_hts"))
HELD_OUT_OTHER_VOICES = (Voice("flite", "rms"), Voice("festival", "ked_diphone"))


def require(engine: str) -> None:
    """A clear error, naming the packages to install, when an engine is missing."""
    program = {"festival": "text2wave"}.get(engine, engine)
    if shutil.which(program) is None:
        raise RuntimeError(f"{program} is not installed (apt-get install {PACKAGES[engine]})")


def semitones(pitch: int) -> float:
    """espeak-ng's pitch setting as a shift from its default: 10 steps a semitone (±5 at the ends)."""
    return (pitch - DEFAULT_PITCH) / 10.0


def speak(text: str, voice: Voice, rate: int, pitch: int, path: Path) -> Path:
    """``text`` spoken by ``voice`` at ``rate`` words per minute and ``pitch`` (espeak-ng's 0–99) into ``path``."""
    require(voice.engine)
    stretch = DEFAULT_RATE / rate
    if voice.engine == "espeak-ng":
        command = ["espeak-ng", "-v", voice.name, "-s", str(rate), "-p", str(pitch), "-w", str(path), text]
    elif voice.engine == "flite":
        command = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={stretch:.3f}", "-t", text,
                   "-o", str(path)]
    elif voice.engine == "festival":
        script = path.with_suffix(".txt")
        script.write_text(text + "\n")
        # Diphone voices stretch their durations; HTS voices take hts_engine's speed (-r, 1 = as trained).
        tempo = (f"(set! hts_engine_params (append hts_engine_params '((\"-r\" {1 / stretch:.3f}))))"
                 if voice.name.endswith("_hts") else f"(Parameter.set 'Duration_Stretch {stretch:.3f})")
        command = ["text2wave", "-eval", f"(voice_{voice.name})", "-eval", tempo, str(script), "-o", str(path)]
    else:
        raise ValueError(f"unknown speech engine {voice.engine!r}")
    subprocess.run(command, check=True, capture_output=True)
    if voice.engine != "espeak-ng" and pitch != DEFAULT_PITCH:
        shift_pitch(path, semitones(pitch))
    return path


def shift_pitch(path: Path, steps: float) -> None:
    """Shift a wav file's pitch by ``steps`` semitones in place, keeping its length and rate."""
    import librosa
    import soundfile
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    shifted = librosa.effects.pitch_shift(samples.mean(axis=1), sr=rate, n_steps=steps)
    soundfile.write(path, np.clip(shifted, -1.0, 1.0), rate, subtype="PCM_16")
