"""A prepared clip: audio features and per-frame cue targets, as the cue model trains on them.

    <cache>/<actor>/<emotion>/level_<n>/<clip>.npz    one clip
    <cache>/index.jsonl                               one line per clip: path, actor, emotion, level, frames
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INDEX = "index.jsonl"
FIELDS = ("mfcc", "energy_db", "f0_hz", "landmarks_local", "pose", "gaze_angles", "gaze_labels")


@dataclass
class PreparedClip:
    actor: str                    # whose face the targets show: a dataset speaker, or "synthetic" (the teacher's)
    emotion: str
    level: int
    source: str
    fps: float
    mfcc: np.ndarray              # (T, 28) at 100 Hz
    energy_db: np.ndarray         # (T,)
    f0_hz: np.ndarray             # (T,)
    landmarks_local: np.ndarray   # (F, 478, 3) head-local frontalized cm
    pose: np.ndarray              # (F, 6)
    gaze_angles: np.ndarray       # (F, 2, 2) per eye (left, right) yaw, pitch degrees
    gaze_labels: np.ndarray       # (F, 2) int16
    intensity: float | None = None   # known for synthetic clips; else read from the level

    @property
    def emotion_level(self) -> float:
        """Emotion intensity in [0, 1]: the clip's own, else MEAD's level 1/2/3 → 1/3, 2/3, 1."""
        return self.intensity if self.intensity is not None else min(self.level, 3) / 3.0

    @property
    def frames(self) -> int:
        return len(self.pose)

    def relative_path(self, name: str) -> Path:
        return Path(self.actor) / self.emotion / f"level_{self.level}" / f"{name}.npz"


def save(clip: PreparedClip, cache: Path, name: str) -> Path:
    path = cache / clip.relative_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, fps=clip.fps, actor=clip.actor, emotion=clip.emotion, level=clip.level, source=clip.source,
             intensity=np.nan if clip.intensity is None else clip.intensity, **{f: getattr(clip, f) for f in FIELDS})
    partial.replace(path)                                     # whole clips only
    with open(cache / INDEX, "a") as index:
        index.write(json.dumps({"path": str(path.relative_to(cache)), "actor": clip.actor, "emotion": clip.emotion,
                                "level": clip.level, "frames": clip.frames, "fps": clip.fps}) + "\n")
    return path


def load(path: Path) -> PreparedClip:
    with np.load(path, allow_pickle=False) as data:
        intensity = float(data["intensity"]) if "intensity" in data.files else np.nan
        return PreparedClip(actor=str(data["actor"]), emotion=str(data["emotion"]), level=int(data["level"]),
                            source=str(data["source"]), fps=float(data["fps"]),
                            intensity=None if np.isnan(intensity) else intensity, **{f: data[f] for f in FIELDS})


def read_index(cache: Path) -> list[dict]:
    """Every clip once (a resumed run may have listed one twice), in a stable order."""
    if not (cache / INDEX).is_file():
        return []
    entries = {}
    for line in (cache / INDEX).read_text().splitlines():
        entry = json.loads(line)
        if (cache / entry["path"]).is_file():
            entries[entry["path"]] = entry
    return [entries[key] for key in sorted(entries)]


def load_prepared(cache: str | Path) -> tuple[list[dict], list[PreparedClip]]:
    """Every clip of a cache with its index entry; a clear error for an empty or missing cache."""
    from ..errors import InvalidInput
    cache = Path(cache)
    entries = read_index(cache)
    if not entries:
        raise InvalidInput(f"no prepared clips in '{cache}' (run facecue prepare or facecue corpus first)")
    return entries, [load(cache / e["path"]) for e in entries]
