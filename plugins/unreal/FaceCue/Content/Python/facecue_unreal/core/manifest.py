"""The headless job manifest: which takes to generate (or read) and import, and where.

    {"server": "farm:50051", "token": "", "destination": "/Game/FaceCue",
     "skeleton": "/Game/MetaHumans/Common/Face/Face_Archetype_Skeleton",
     "takes": [{"name": "line01", "audio": "/mnt/vo/line01.wav", "photo": "/mnt/ref/ana.jpg",
                "emotion": "happy", "intensity": 0.8, "fps": 30, "render": true, "size": "512",
                "backend": "neural"},
               {"name": "line02", "take": "/mnt/takes/line02"}]}

Every problem is reported with the take's position and name before anything runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

EMOTIONS = ("neutral", "angry", "contempt", "disgusted", "fear", "happy", "sad", "surprised")
BACKENDS = ("procedural", "neural")         # the server's cue models


class ManifestError(ValueError):
    """A manifest that cannot run, with the reason."""


@dataclass(frozen=True)
class TakeJob:
    name: str
    take: Path | None = None                 # an existing take directory, or …
    audio: Path | None = None                # … inputs to generate one on the server
    photo: Path | None = None
    emotion: str = "neutral"
    intensity: float = 1.0
    fps: float = 30.0
    render: bool = True
    size: str = "512"
    backend: str = "procedural"


@dataclass(frozen=True)
class Manifest:
    takes: list[TakeJob]
    server: str = "localhost:50051"
    token: str = ""
    destination: str = "/Game/FaceCue"
    skeleton: str = ""
    takes_dir: Path = field(default_factory=lambda: Path("Saved/FaceCue/takes"))


def load(path: str | Path) -> Manifest:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise ManifestError(f"cannot read manifest '{path}': {err.strerror}") from None
    except ValueError as err:
        raise ManifestError(f"manifest '{path}' is not valid JSON: {err}") from None
    return parse(data, base=path.parent)


def parse(data: dict, base: Path = Path(".")) -> Manifest:
    if not isinstance(data, dict) or not isinstance(data.get("takes"), list) or not data["takes"]:
        raise ManifestError("manifest needs a non-empty 'takes' list")
    jobs, names = [], set()
    for index, entry in enumerate(data["takes"]):
        where = f"take {index + 1}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where} is not an object")
        name = str(entry.get("name") or "")
        if not name:
            raise ManifestError(f"{where} has no 'name'")
        where = f"take {index + 1} ('{name}')"
        if name in names:
            raise ManifestError(f"{where}: the name is used twice")
        names.add(name)
        emotion = entry.get("emotion", "neutral")
        if emotion not in EMOTIONS:
            raise ManifestError(f"{where}: unknown emotion '{emotion}'")
        if "take" in entry:
            take = _path(entry["take"], base)
            if not (take / "manifest.json").is_file():
                raise ManifestError(f"{where}: '{take}' is not a take directory")
            jobs.append(TakeJob(name=name, take=take))
            continue
        audio, photo = entry.get("audio"), entry.get("photo")
        if not audio or not photo:
            raise ManifestError(f"{where} needs either 'take' or both 'audio' and 'photo'")
        for label, value in (("audio", audio), ("photo", photo)):
            if not _path(value, base).is_file():
                raise ManifestError(f"{where}: {label} file '{_path(value, base)}' does not exist")
        backend = entry.get("backend", "procedural")
        if backend not in BACKENDS:
            raise ManifestError(f"{where}: unknown backend '{backend}' (choose {' or '.join(BACKENDS)})")
        intensity, fps = float(entry.get("intensity", 1.0)), float(entry.get("fps", 30.0))
        if not 0 <= intensity <= 1 or not 0 < fps <= 240:
            raise ManifestError(f"{where}: intensity must be in [0, 1] and fps in (0, 240]")
        jobs.append(TakeJob(name=name, audio=_path(audio, base), photo=_path(photo, base), emotion=emotion,
                            intensity=intensity, fps=fps, render=bool(entry.get("render", True)),
                            size=str(entry.get("size", "512")), backend=backend))
    return Manifest(takes=jobs, server=str(data.get("server", "localhost:50051")), token=str(data.get("token", "")),
                    destination=str(data.get("destination", "/Game/FaceCue")), skeleton=str(data.get("skeleton", "")),
                    takes_dir=_path(data.get("takes_dir", "Saved/FaceCue/takes"), base))


def _path(value, base: Path) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()
