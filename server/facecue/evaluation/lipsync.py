"""Lip-sync metrics of a take against a reference phone timing, independent of the take's own.

The reference timing is pocketsphinx forced alignment of the clip's transcript. The mouth is
read from landmarks: the inner-lip gap (MediaPipe points 13–14) and the mouth width (61–291),
head-local 3D for cue landmarks, or 2D pixels when read back from rendered frames.

Definitions (one take):
- ``closure``: share of P/B/M segments in which the gap drops below 30 % of the median gap over
  open-vowel frames. A segment's frames are those shown within half a frame of it (at least the
  nearest one), so a 40 ms /b/ at 24 fps still has a frame to close in.
- ``open_closed``: mean gap over open-vowel frames / mean gap over closed frames (bilabials,
  F/V and silence); ≥ 4 reads as a mouth that opens for vowels and shuts for consonants.
- ``silence_open``: mean gap over silent frames / mean gap over open-vowel frames. Silent frames
  are the inside of pauses ≥ 0.3 s, 0.1 s from each edge (the mouth needs time to settle).
- ``rounded_spread``: mean mouth width over rounded-vowel frames (UW UH W OW OY) / over spread
  ones (IY IH EH EY AE).
- ``lag``: the shift (frames, within ±10) maximising the correlation of the gap with a vowel
  indicator; positive means the mouth is late. Pooled over clips, the correlations are summed
  (each shift weighted by the frames it overlaps) and the peak is placed between frames by a
  parabola: a short clip's peak is flat (neighbouring shifts within 1 % at 60 fps), so its own
  whole-frame argmax is mostly noise, while the pooled peak finds a steady offset.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .. import topology as topo
from ..phonemes import SILENCE, PhoneSegments

OPEN_VOWELS = frozenset("AA AE AH AO AW AY".split())
VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
BILABIALS = frozenset("P B M".split())
CLOSED = BILABIALS | {"F", "V", SILENCE}
ROUNDED = frozenset("UW UH W OW OY".split())
SPREAD = frozenset("IY IH EH EY AE".split())
CLOSURE_THRESHOLD = 0.3
MIN_PAUSE_S, PAUSE_EDGE_S = 0.3, 0.1
MAX_LAG = 10

TARGETS = {"closure": (">=", 0.95), "open_closed": (">=", 4.0), "silence_open": ("<=", 0.3),
           "rounded_spread": ("<=", 0.88), "lag": ("abs<=", 1.0)}


@dataclass(frozen=True)
class LipSyncScores:
    closure: float            # NaN where the clip has no bilabial
    bilabials: int
    open_closed: float
    silence_open: float       # NaN where the clip has no long pause
    rounded_spread: float     # NaN where the clip lacks rounded or spread vowels
    lag: float
    lag_sums: tuple[float, ...] = ()    # Σ products of the standardised signals per shift −MAX_LAG…MAX_LAG
    frames: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def mouth_measures(landmarks: np.ndarray, planar: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(F, 478, 3) landmarks → (gap, width) per frame; ``planar``: x, y only (image read-back)."""
    points = np.asarray(landmarks, np.float64)[..., : 2 if planar else 3]
    gap = np.linalg.norm(points[:, topo.UPPER_LIP_INNER] - points[:, topo.LOWER_LIP_INNER], axis=-1)
    width = np.linalg.norm(points[:, topo.MOUTH_CORNER_RIGHT] - points[:, topo.MOUTH_CORNER_LEFT], axis=-1)
    return gap, width


def frame_phones(phones: PhoneSegments, frames: int, fps: float) -> np.ndarray:
    """The reference phone shown at each frame (SIL outside every segment)."""
    times = np.arange(frames) / fps
    labels = np.full(frames, SILENCE, dtype=object)
    for phone, start, end in zip(phones.phones, phones.start_s, phones.end_s):
        labels[(times >= start) & (times < end)] = phone
    return labels


def open_median(gap: np.ndarray, labels: np.ndarray) -> float:
    """Median gap over open-vowel frames (``labels`` from ``frame_phones``): the closure yardstick."""
    open_frames = np.array([p in OPEN_VOWELS for p in labels], bool)
    return float(np.median(gap[open_frames])) if open_frames.any() else float("nan")


def segment_frames(start: float, end: float, frames: int, fps: float) -> np.ndarray:
    """Frames shown within half a frame of a phone segment (at least the nearest one)."""
    times = np.arange(frames) / fps
    inside = np.flatnonzero((times >= start - 0.5 / fps) & (times <= end + 0.5 / fps))
    return inside if inside.size else np.array([min(frames - 1, int(round((start + end) / 2 * fps)))])


def _pause_frames(phones: PhoneSegments, frames: int, fps: float, duration_s: float) -> np.ndarray:
    """Frames inside long pauses (including before the first and after the last phone)."""
    times = np.arange(frames) / fps
    speech = [(s, e) for p, s, e in zip(phones.phones, phones.start_s, phones.end_s) if p != SILENCE]
    bounds = [0.0] + [x for seg in speech for x in seg] + [duration_s]
    mask = np.zeros(frames, bool)
    for start, end in zip(bounds[0::2], bounds[1::2]):
        if end - start >= MIN_PAUSE_S:
            mask |= (times >= start + PAUSE_EDGE_S) & (times <= end - PAUSE_EDGE_S)
    return mask


def _ratio(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(a.mean() / max(b.mean(), 1e-9))


SHIFTS = np.arange(-MAX_LAG, MAX_LAG + 1)


def lag_sums(gap: np.ndarray, vowel: np.ndarray) -> np.ndarray:
    """Σ_t g[t + k] · v[t] of the standardised gap and vowel indicator, per shift k in SHIFTS."""
    g = (gap - gap.mean()) / (gap.std() + 1e-12)
    v = (vowel - vowel.mean()) / (vowel.std() + 1e-12)
    n = len(g)
    return np.array([np.dot(g[k:], v[: n - k]) if k >= 0 else np.dot(g[: n + k], v[-k:]) for k in SHIFTS])


def _overlaps(frames: int) -> np.ndarray:
    return np.maximum(frames - np.abs(SHIFTS), 1)


def peak_shift(sums: np.ndarray, overlaps: np.ndarray) -> float:
    """The correlation peak between whole shifts: a parabola through the best shift and its neighbours."""
    corr = sums / overlaps
    best = int(np.argmax(corr))
    if 0 < best < len(corr) - 1:
        left, middle, right = corr[best - 1: best + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            return float(SHIFTS[best] + 0.5 * (left - right) / curvature)
    return float(SHIFTS[best])


def score(gap: np.ndarray, width: np.ndarray, phones: PhoneSegments, fps: float,
          duration_s: float) -> LipSyncScores:
    """Scores of one take's mouth (per-frame gap and width) against reference phones."""
    frames = len(gap)
    labels = frame_phones(phones, frames, fps)
    is_in = lambda group: np.array([p in group for p in labels], bool)   # noqa: E731
    open_frames, closed_frames = is_in(OPEN_VOWELS), is_in(CLOSED)
    threshold = CLOSURE_THRESHOLD * open_median(gap, labels)
    closed_count = bilabials = 0
    for phone, start, end in zip(phones.phones, phones.start_s, phones.end_s):
        if phone in BILABIALS:
            bilabials += 1
            closed_count += bool(gap[segment_frames(start, end, frames, fps)].min() < threshold)
    pauses = _pause_frames(phones, frames, fps, duration_s)
    sums = lag_sums(gap, is_in(VOWELS).astype(np.float64))
    return LipSyncScores(
        closure=closed_count / bilabials if bilabials else float("nan"), bilabials=bilabials,
        open_closed=_ratio(gap[open_frames], gap[closed_frames]),
        silence_open=_ratio(gap[pauses], gap[open_frames]),
        rounded_spread=_ratio(width[is_in(ROUNDED)], width[is_in(SPREAD)]),
        lag=float(SHIFTS[np.argmax(sums / _overlaps(frames))]), lag_sums=tuple(map(float, sums)), frames=frames)


def pooled(scores: list[LipSyncScores]) -> dict:
    """Summary over clips: closure pooled over all bilabials, ratios averaged, the lag from the
    summed correlations (``clip_lag``: the mean |lag| of the clips' own whole-frame peaks)."""
    total = sum(s.bilabials for s in scores)
    closed = sum(s.closure * s.bilabials for s in scores if s.bilabials)

    def mean(name: str) -> float:
        values = [getattr(s, name) for s in scores if np.isfinite(getattr(s, name))]
        return float(np.mean(values)) if values else float("nan")

    return {"closure": closed / total if total else float("nan"), "bilabials": total,
            "open_closed": mean("open_closed"), "silence_open": mean("silence_open"),
            "rounded_spread": mean("rounded_spread"),
            "lag": _pooled_lag(scores),
            "clip_lag": float(np.mean([abs(s.lag) for s in scores])) if scores else float("nan")}


def _pooled_lag(scores: list[LipSyncScores]) -> float:
    if not scores:
        return float("nan")
    sums = np.sum([s.lag_sums for s in scores], axis=0)
    return peak_shift(sums, np.sum([_overlaps(s.frames) for s in scores], axis=0))


def meets(summary: dict) -> dict[str, bool]:
    """Which targets a pooled summary meets."""
    out = {}
    for name, (how, bound) in TARGETS.items():
        value = summary[name]
        out[name] = bool(value >= bound if how == ">=" else value <= bound if how == "<=" else abs(value) <= bound)
    return out
