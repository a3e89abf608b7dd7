"""``facecue prepare``: talking-face videos → prepared clips (MediaPipe on every frame).

Per frame: MediaPipe's 478 landmarks → a similarity fit to the canonical face → head pose and
frontalized head-local landmarks (as for a reference photo) → per-eye gaze angles and S×S
region labels. Per clip: the audio's 28-d MFCC, energy and f0 at 100 Hz. Clips are cached and
a rerun skips what is done; a clip that fails is reported and skipped.

MEAD's layout ``<actor>/video/front/<emotion>/level_<n>/<clip>.mp4`` is recognised (audio from
the video, or from ``<actor>/audio/<emotion>/level_<n>/<clip>.m4a`` when the video has none).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import gaze
from ..audio import SAMPLE_RATE, Audio, extract_features
from ..errors import InvalidInput
from ..names import EMOTIONS
from ..reference import FaceMeshDetector, reference_from_landmarks
from .clips import PreparedClip, save

MEAD = re.compile(r"(?P<actor>[^/]+)/video/front/(?P<emotion>[a-z]+)/level_(?P<level>\d+)/(?P<clip>[^/]+)\.mp4$")
MAX_MISSING = 0.1              # a clip where MediaPipe loses the face more often is skipped
REPORT = "prepare_report.jsonl"


@dataclass(frozen=True)
class VideoClip:
    path: Path
    actor: str
    emotion: str
    level: int
    name: str


def find_clips(root: Path) -> list[VideoClip]:
    clips = []
    for path in sorted(root.rglob("*.mp4")):
        match = MEAD.search(path.relative_to(root).as_posix())
        if match and match["emotion"] in EMOTIONS:
            clips.append(VideoClip(path, match["actor"], match["emotion"], int(match["level"]), match["clip"]))
    if not clips:
        raise InvalidInput(f"no clips in '{root}' (expected <actor>/video/front/<emotion>/level_<n>/<clip>.mp4)")
    return clips


def _audio(clip: VideoClip) -> np.ndarray:
    """The clip's audio as 16 kHz mono float samples."""
    import av
    path = clip.path
    with av.open(str(path)) as container:
        has_audio = bool(container.streams.audio)
    if not has_audio:
        path = clip.path.parents[4] / "audio" / clip.emotion / f"level_{clip.level}" / f"{clip.name}.m4a"
        if not path.is_file():
            raise InvalidInput(f"'{clip.path}' has no audio and '{path}' does not exist")
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def prepare_clip(clip: VideoClip, detector: FaceMeshDetector) -> PreparedClip:
    """Frames are decoded and measured one at a time, so long or large videos fit in memory."""
    import av
    poses, locals_, found, total = [], [], [], 0
    with av.open(str(clip.path)) as container:
        fps = float(container.streams.video[0].average_rate)
        for index, frame in enumerate(container.decode(video=0)):   # MediaPipe takes one image per call
            rgb = frame.to_ndarray(format="rgb24")
            total = index + 1
            faces = detector.detect(rgb)
            if faces:
                reference = reference_from_landmarks(faces[0], rgb.shape[1], rgb.shape[0])
                poses.append(reference.pose)
                locals_.append(reference.local)
                found.append(index)
    if total - len(found) > MAX_MISSING * total:
        raise InvalidInput(f"the face was lost in {total - len(found)} of {total} frames of '{clip.path.name}'")
    pose = _fill(np.stack(poses), found, total)
    local = _fill(np.stack(locals_).reshape(len(found), -1), found, total).reshape(-1, 478, 3)
    angles = np.stack([gaze.eye_angles(local, eye) for eye in ("left", "right")], 1).astype(np.float32)
    features = extract_features(Audio(_audio(clip), clip.path.name))
    return PreparedClip(actor=clip.actor, emotion=clip.emotion, level=clip.level, source=str(clip.path), fps=fps,
                        mfcc=features.mfcc, energy_db=features.energy_db, f0_hz=features.f0_hz,
                        landmarks_local=local.astype(np.float32), pose=pose.astype(np.float32), gaze_angles=angles,
                        gaze_labels=gaze.labels_from_angles(angles))


def _fill(values: np.ndarray, found: list[int], count: int) -> np.ndarray:
    """Frames where the face was lost, interpolated from their neighbours."""
    if len(found) == count:
        return values
    positions = np.arange(count)
    return np.stack([np.interp(positions, found, column) for column in values.T], 1)


def prepare(root: str | Path, cache: str | Path, progress=None) -> dict[str, int]:
    root, cache = Path(root), Path(cache)
    clips = find_clips(root)
    cache.mkdir(parents=True, exist_ok=True)
    counts = {"prepared": 0, "skipped": 0, "failed": 0}
    detector = None
    for clip in clips:
        target = cache / clip.actor / clip.emotion / f"level_{clip.level}" / f"{clip.name}.npz"
        if target.is_file():
            counts["skipped"] += 1
        else:
            try:
                detector = FaceMeshDetector(video=True)      # fresh tracking state per clip
                save(prepare_clip(clip, detector), cache, clip.name)
                counts["prepared"] += 1
            except Exception as err:                         # reported; the other clips go on
                counts["failed"] += 1
                with open(cache / REPORT, "a") as report:
                    report.write(json.dumps({"clip": str(clip.path), "error": str(err)}) + "\n")
        if progress:
            progress(clip, counts)
    return counts
