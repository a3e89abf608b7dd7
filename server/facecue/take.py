"""The take bundle: the on-disk contract read by plugins and farm jobs without a server.

    take/manifest.json  take/cues.npz  take/audio.wav  [take/frames/…  take/take.mp4]

Writing goes to a hidden sibling directory that is renamed into place when complete, so a
reader never sees half a take. Pure numpy + json: safe to import inside Blender or Unreal.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import CorruptTake, OutputExists

FORMAT_VERSION = "1.0"
MANIFEST, CUES, AUDIO = "manifest.json", "cues.npz", "audio.wav"
FRAMES_DIR, VIDEO = "frames", "take.mp4"
PHOTO = "photo.jpg"
IMAGE_SUFFIXES = {"png": ".png", "jpeg": ".jpg", "exr": ".exr"}


def frame_pattern(image_format: str) -> str:
    """printf-style path of frame files inside a take, e.g. ``frames/%06d.png``."""
    return f"{FRAMES_DIR}/%06d{IMAGE_SUFFIXES[image_format]}"


def array_specs(frames: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    return {
        "landmarks_image": ((frames, 478, 3), np.dtype(np.float32)),
        "landmarks_local": ((frames, 478, 3), np.dtype(np.float32)),
        "pose": ((frames, 6), np.dtype(np.float32)),
        "gaze_labels": ((frames, 2), np.dtype(np.int16)),
        "gaze_angles": ((frames, 2, 2), np.dtype(np.float32)),
        "blendshapes": ((frames, 52), np.dtype(np.float32)),
        "emotion_probs": ((frames, 8), np.dtype(np.float32)),
    }


ARRAY_NAMES = tuple(array_specs(0))


class Media(Protocol):
    """Rendered frames (and video) that travel with a take."""

    def write_into(self, directory: Path) -> dict:
        """Write ``frames/…`` (and ``take.mp4``) into a take directory; return manifest additions."""


class FrameFiles(Sequence[bytes]):
    """A stored take's encoded frames, read from disk only when asked for."""

    def __init__(self, root: Path, pattern: str, count: int):
        self.root, self.pattern, self.count = root, pattern, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(index)
        path = self.root / (self.pattern % (index % self.count))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CorruptTake(f"frame {index} of take '{self.root}' is missing ({exc})") from None


@dataclass
class EncodedMedia:
    """Frames as encoded image files (PNG, JPEG or EXR) and the video's bytes, as streamed or stored."""
    images: Sequence[bytes]
    image_format: str
    render: dict
    video: bytes | None = None
    video_path: Path | None = None

    def video_bytes(self) -> bytes | None:
        if self.video is None and self.video_path is not None:
            return self.video_path.read_bytes()
        return self.video

    def write_into(self, directory: Path) -> dict:
        pattern = frame_pattern(self.image_format) if len(self.images) else None
        if pattern:
            (directory / FRAMES_DIR).mkdir()
        for index, data in enumerate(self.images):
            (directory / (pattern % index)).write_bytes(data)
        video = self.video_bytes()
        if video is not None:
            (directory / VIDEO).write_bytes(video)
        return {"files": {"frames": pattern, "video": VIDEO if video is not None else None}, "render": self.render}


@dataclass
class Take:
    manifest: dict
    arrays: dict[str, np.ndarray]
    audio_wav: bytes
    media: Media | None = None      # rendered frames, when the take has them
    photo: bytes | None = None      # the reference photo as a JPEG: what landmarks_image lies on

    @property
    def fps(self) -> float:
        return float(self.manifest["fps"])

    @property
    def frame_count(self) -> int:
        return int(self.manifest["frame_count"])

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def validate(self) -> None:
        for name, (shape, dtype) in array_specs(self.frame_count).items():
            array = self.arrays.get(name)
            if array is None:
                raise CorruptTake(f"take is missing the '{name}' array")
            if array.shape != shape or array.dtype != dtype:
                raise CorruptTake(f"take array '{name}' is {array.dtype}{list(array.shape)}, "
                                  f"expected {dtype}{list(shape)}")
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise CorruptTake(f"take array '{name}' holds non-finite values")


def check_output(out_dir: str | Path, *, overwrite: bool = False) -> None:
    """Refuse an existing output directory unless it may be replaced."""
    if Path(out_dir).exists() and not overwrite:
        raise OutputExists(f"output directory '{out_dir}' already exists (use --overwrite to replace it)")


def write(take: Take, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write atomically; an existing take is replaced only with ``overwrite``."""
    take.validate()
    out = Path(out_dir)
    check_output(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        _write_contents(take, staging)
        verify(staging, hashes=False)           # nothing went missing under us before it goes live
        if out.exists():
            retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out, retired)
            os.rename(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, out)
    except OSError as exc:                      # a full disk, a quota, a vanished folder: say where
        raise OSError(exc.errno, f"cannot write take '{out}': {exc.strerror or exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def _write_contents(take: Take, directory: Path) -> None:
    files = dict(take.manifest.get("files", {}))
    files.update({"cues": CUES, "audio": AUDIO})
    manifest = {**take.manifest, "files": files}
    _save_npz(directory / CUES, {name: take.arrays[name] for name in ARRAY_NAMES})
    (directory / AUDIO).write_bytes(take.audio_wav)
    files["photo"] = PHOTO if take.photo else None
    if take.photo:
        (directory / PHOTO).write_bytes(take.photo)
    if take.media is not None:                  # rendering happens here, into the staging directory
        additions = take.media.write_into(directory)
        manifest["files"].update(additions.pop("files"))
        manifest.update(additions)
    manifest["contents"] = _inventory(directory)
    _check_listed(manifest, directory)
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")     # last: marks completion


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """What ``np.savez`` writes, but a failed write (a full disk) is abandoned cleanly instead
    of leaving an archive that tries to finish itself when it is garbage-collected."""
    with open(path, "wb") as raw:
        archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True)
        try:
            for name, array in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            archive.close()
        except BaseException:
            archive.fp = None                   # nothing more may be written into the abandoned file
            raise


def _inventory(directory: Path) -> dict[str, dict]:
    """Every file of a take (manifest aside) with its size and sha256, keyed by relative path."""
    return {path.relative_to(directory).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)}


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _check_listed(manifest: dict, directory: Path) -> None:
    """The files the manifest points at are all in its inventory (frames: every one of them)."""
    files, contents = manifest["files"], manifest["contents"]
    needed = [files["cues"], files["audio"]] + [files[k] for k in ("video", "photo") if files.get(k)]
    if files.get("frames"):
        count = int(manifest.get("render", {}).get("frame_count", manifest["frame_count"]))
        needed += [files["frames"] % i for i in range(count)]
    missing = [name for name in needed if name not in contents]
    if missing:
        raise CorruptTake(f"take '{directory}' is missing {len(missing)} of its files (first: {missing[0]})")


def verify(take_dir: str | Path, *, hashes: bool = True) -> None:
    """Check that every file the manifest lists is there with its recorded size (and sha256)."""
    root = Path(take_dir)
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptTake(f"'{root}' has no readable {MANIFEST} ({exc.__class__.__name__})") from None
    contents = manifest.get("contents")
    if not isinstance(contents, dict):
        raise CorruptTake(f"take '{root}' has no inventory of its files (written by an older FaceCue?)")
    for name, entry in contents.items():
        path = root / name
        try:
            size = path.stat().st_size
        except OSError:
            raise CorruptTake(f"take '{root}' is missing '{name}'") from None
        if size != entry["bytes"]:
            raise CorruptTake(f"take '{root}': '{name}' is {size} bytes, the manifest says {entry['bytes']}")
        if hashes and _sha256(path) != entry["sha256"]:
            raise CorruptTake(f"take '{root}': '{name}' does not match its sha256 in the manifest")


def load(take_dir: str | Path) -> Take:
    """Read and check a take directory."""
    root = Path(take_dir)
    if not (root / MANIFEST).is_file():
        raise CorruptTake(f"'{root}' is not a take: {MANIFEST} is missing")
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptTake(f"'{root / MANIFEST}' is not valid JSON ({exc})") from None
    major = str(manifest.get("format_version", "?")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise CorruptTake(f"take format {manifest.get('format_version')} is not supported "
                          f"(this reader handles {FORMAT_VERSION})")
    try:
        with np.load(root / manifest["files"]["cues"], allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        audio = (root / manifest["files"]["audio"]).read_bytes()
        photo = (root / manifest["files"]["photo"]).read_bytes() if manifest["files"].get("photo") else None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CorruptTake(f"take '{root}' is incomplete or damaged ({exc})") from None
    take = Take(manifest=manifest, arrays=arrays, audio_wav=audio, media=_stored_media(root, manifest),
                photo=photo)
    take.validate()
    return take


def _stored_media(root: Path, manifest: dict) -> EncodedMedia | None:
    pattern, render = manifest["files"].get("frames"), manifest.get("render")
    if not pattern or not render:
        return None
    count = int(render.get("frame_count", 0))
    if count != int(manifest["frame_count"]) or not (root / (pattern % (count - 1))).is_file():
        raise CorruptTake(f"take '{root}' lists {count} rendered frames but its frames are incomplete")
    video = manifest["files"].get("video")
    return EncodedMedia(images=FrameFiles(root, pattern, count), image_format=render["image_format"],
                        render=render, video_path=root / video if video else None)
