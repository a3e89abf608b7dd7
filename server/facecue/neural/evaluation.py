"""``facecue eval``: the paper's metrics for a checkpoint on a prepared dataset split.

Every clip is generated from its own audio, emotion and intensity level, on its speaker's rest
face and pose (``representation.speaker_rests``), and compared with the clip's targets at the
clip's frame rate (the shorter of the two lengths). Definitions:

  MLD   mean Euclidean distance (mm) between generated and target lip landmarks (the 40 points
        of MediaPipe's lips group), head-local and frontalized, over all frames
  FLD   the same over the 468 face-mesh points (irises excluded: gaze is scored on its own)
  DTW pose    per angle (pitch, yaw, roll): dynamic-time-warping cost between the generated and
              target angle sequences with |a − b| as local cost, divided by the warping path's
              length — the mean angle difference (degrees) once timing shifts are forgiven
  DTW pupil   per eye: the same on pupil speed, |Δ(yaw, pitch)| · fps (degrees / s)
  gaze regions  per emotion: the share of frames in each of the S regions (both eyes pooled)
                for generated and target, and their total-variation distance ½ Σ |p − q|;
                also over all clips at once ("pooled")
  per-emotion statistics: mean head pitch relative to the rest pose, generated vs target, and
                the correlation of those per-emotion means across the emotions present
  emotion accuracy: the collaborative classifier's clip-averaged argmax vs the clip's label

Each metric is reported for the model and for a "still" baseline (rest face, rest pose, eyes
forward), which shows how much of the target motion the model explains. Clip metrics are
averaged over clips.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import topology as topo
from ..audio import FEATURE_RATE, AudioFeatures
from ..cues import CueInputs, CueTrack
from ..dataset import clips as clip_io
from ..names import EMOTIONS, GAZE_REGIONS
from ..timing import resample
from . import representation as rep

ANGLES = ("pitch", "yaw", "roll")
POSE_COLUMN = {"yaw": 0, "pitch": 1, "roll": 2}


@dataclass(frozen=True)
class SpeakerFace:
    """What the backend needs of a reference when the 'photo' is a dataset speaker."""
    local: np.ndarray
    pose: np.ndarray


def dtw_cost(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a − b| along the optimal warping path of two 1-D sequences."""
    import librosa
    cost, path = librosa.sequence.dtw(X=np.asarray(a, np.float64)[None], Y=np.asarray(b, np.float64)[None],
                                      metric="cityblock")
    return float(cost[-1, -1] / len(path))


def pupil_speed(angles: np.ndarray, fps: float) -> np.ndarray:
    """(F, 2, 2) → (F-1, 2) degrees per second per eye."""
    return np.linalg.norm(np.diff(angles, axis=0), axis=-1) * fps


def region_shares(labels: np.ndarray) -> np.ndarray:
    return np.bincount(np.asarray(labels, np.int64).ravel(), minlength=GAZE_REGIONS) / max(1, np.size(labels))


def clip_metrics(track: CueTrack, clip: clip_io.PreparedClip, rest: rep.Rest) -> dict:
    n = min(len(track), clip.frames)
    generated = track.local[:n]                     # irises at rest: they are not scored here
    target = clip.landmarks_local[:n]
    distance = np.linalg.norm(generated - target, axis=-1) * 10.0                 # cm → mm
    lips = topo.group("lips")
    out = {"mld_mm": float(distance[:, lips].mean()), "fld_mm": float(distance[:, : topo.MESH_COUNT].mean())}
    for angle in ANGLES:
        column = POSE_COLUMN[angle]
        out[f"dtw_{angle}_deg"] = dtw_cost(track.pose[:n, column], clip.pose[:n, column])
    speeds = pupil_speed(track.gaze_angles[:n], clip.fps), pupil_speed(clip.gaze_angles[:n], clip.fps)
    for k, eye in enumerate(("left", "right")):
        out[f"dtw_pupil_{eye}_deg_s"] = dtw_cost(speeds[0][:, k], speeds[1][:, k])
    out["pitch_offset_deg"] = float(track.pose[:n, 1].mean() - rest.pose[1])
    out["target_pitch_offset_deg"] = float(clip.pose[:n, 1].mean() - rest.pose[1])
    return out


def still_track(clip: clip_io.PreparedClip, rest: rep.Rest) -> CueTrack:
    f = clip.frames
    return CueTrack(fps=clip.fps, local=np.repeat(rest.face[None], f, 0), pose=np.repeat(rest.pose[None], f, 0),
                    gaze_angles=np.zeros((f, 2, 2), np.float32), gaze_labels=np.full((f, 2), 2, np.int16),
                    blendshapes=np.zeros((f, 52), np.float32), emotion_probs=np.zeros((f, 8), np.float32))


def evaluate(cache: str | Path, backend, *, batch: int = 16, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> dict:
    entries, prepared = clip_io.load_prepared(cache)
    rests = rep.speaker_rests(prepared)
    rows = {"model": [], "still": []}
    labels = {"model": {}, "target": {}}
    classified = []
    for start in range(0, len(prepared), batch):
        group = prepared[start: start + batch]
        inputs = [CueInputs(reference=SpeakerFace(rests[c.actor].face, rests[c.actor].pose),
                            features=AudioFeatures(c.mfcc, c.energy_db, c.f0_hz, len(c.mfcc) / FEATURE_RATE),
                            phones=None, emotion=c.emotion, intensity=c.emotion_level, seed=seed + start + i)
                  for i, c in enumerate(group)]
        for clip, track in zip(group, backend.generate_many(inputs)):
            track = resample(track, clip.fps, clip.frames / clip.fps)
            rest = rests[clip.actor]
            rows["model"].append({**clip_metrics(track, clip, rest), "emotion": clip.emotion})
            rows["still"].append({**clip_metrics(still_track(clip, rest), clip, rest), "emotion": clip.emotion})
            labels["model"].setdefault(clip.emotion, []).append(track.gaze_labels[: clip.frames].ravel())
            labels["target"].setdefault(clip.emotion, []).append(clip.gaze_labels.ravel())
            classified.append(int(np.argmax(track.emotion_probs.mean(axis=0))) == EMOTIONS.index(clip.emotion))
        if progress:
            progress(min(start + batch, len(prepared)), len(prepared))
    return summarize(rows, labels, classified)


def summarize(rows: dict, labels: dict, classified: list[bool]) -> dict:
    keys = [k for k in rows["model"][0] if k not in ("emotion", "target_pitch_offset_deg", "pitch_offset_deg")]
    report = {"clips": len(rows["model"]),
              "metrics": {name: {k: float(np.mean([r[k] for r in rs])) for k in keys} for name, rs in rows.items()}}
    emotions = sorted({r["emotion"] for r in rows["model"]}, key=EMOTIONS.index)
    per_emotion = {}
    for emotion in emotions:
        mine = [r for r in rows["model"] if r["emotion"] == emotion]
        generated = region_shares(np.concatenate(labels["model"][emotion]))
        target = region_shares(np.concatenate(labels["target"][emotion]))
        per_emotion[emotion] = {
            "clips": len(mine),
            "pitch_offset_deg": float(np.mean([r["pitch_offset_deg"] for r in mine])),
            "target_pitch_offset_deg": float(np.mean([r["target_pitch_offset_deg"] for r in mine])),
            "gaze_regions": [round(float(v), 4) for v in generated],
            "target_gaze_regions": [round(float(v), 4) for v in target],
            "gaze_tv_distance": float(0.5 * np.abs(generated - target).sum()),
            "still_gaze_tv_distance": float(1.0 - target[2])}          # eyes always forward (region 2)
    report["per_emotion"] = per_emotion
    if len(emotions) > 2:
        ours = [per_emotion[e]["pitch_offset_deg"] for e in emotions]
        theirs = [per_emotion[e]["target_pitch_offset_deg"] for e in emotions]
        report["pitch_by_emotion_correlation"] = float(np.corrcoef(ours, theirs)[0, 1])
    pooled = [region_shares(np.concatenate([np.concatenate(v) for v in labels[side].values()]))
              for side in ("model", "target")]
    report["gaze_tv_distance_pooled"] = float(0.5 * np.abs(pooled[0] - pooled[1]).sum())
    report["still_gaze_tv_distance_pooled"] = float(1.0 - pooled[1][2])
    for key in ("gaze_tv_distance", "still_gaze_tv_distance"):
        report[f"{key}_mean"] = float(np.mean([v[key] for v in per_emotion.values()]))
    report["emotion_accuracy"] = float(np.mean(classified))
    return report


def format_report(report: dict) -> str:
    """The headline figures as a small table."""
    metrics = report["metrics"]
    lines = [f"{report['clips']} clips", f"{'metric':<24}{'model':>10}{'still':>10}"]
    for key in metrics["model"]:
        lines.append(f"{key:<24}{metrics['model'][key]:>10.3f}{metrics['still'][key]:>10.3f}")
    lines.append(f"{'gaze region TV distance':<24}{report['gaze_tv_distance_mean']:>10.3f}"
                 f"{report['still_gaze_tv_distance_mean']:>10.3f}")
    if "pitch_by_emotion_correlation" in report:
        lines.append(f"{'pitch-by-emotion corr.':<24}{report['pitch_by_emotion_correlation']:>10.3f}")
    lines.append(f"{'emotion accuracy':<24}{report['emotion_accuracy']:>10.3f}")
    return "\n".join(lines)
