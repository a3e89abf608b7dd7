"""Skin creases the warp cannot show: nasolabial folds, lip-corner creases and the frown's
furrows between the brows.

Geometry moves a smile's cheeks and a frown's brows, but a face reads those expressions as
much by the folds they throw. Each crease is a line on the face, carried by the frame's
landmarks, darkened with a soft profile in proportion to how far the frame's own geometry
shows the expression that makes it:

- smile (nasolabial folds) and frown (lip-corner creases): how far each mouth corner sits
  above or below the middle of the lips, a share of face height, beyond where the photo's
  own corners sit (or level, if the photo's are the other way): a neutralised smiling photo
  throws no frown creases, and its own folds are not drawn twice.
- brows down (furrows): the inner brows drawn together and down, against the photo's own
  (people's brows differ too much to be judged from one face, and the neutralisation leaves
  them as the photo has them).

Lines across a raised forehead were tried and left out: on the bearded dev photo the face
reader took them for brows (its browInnerUp read-back fell from 0.57 to 0.45 correlation).

The frame is first brought to the photo's head position (a similarity fitted to the face
oval), so a turning or nodding head throws no creases. Frames that show none of these are
left exactly as they were.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .. import topology as topo
from .shapes import polyline_distance, smoothstep
from .warp import similarity

# A crease point is a landmark, or a point part-way between two: (from, to, how far).
Point = tuple[int, int, float]


@dataclass(frozen=True)
class Crease:
    right: tuple[Point, ...]         # on the subject's right; the left side is its mirror image
    driver: str                      # which expression darkens it
    depth: float                     # darkening at full strength, on the crease's centre line
    width: float                     # the profile's half-width, a share of face height


def _at(index: int) -> Point:
    return (index, index, 0.0)


CREASES = (
    Crease((_at(129), _at(203), _at(206), _at(216), _at(212)), "smile", 0.16, 0.018),
    Crease(((57, 202, 0.3), _at(202), (204, 135, 0.3)), "frown", 0.12, 0.014),
    Crease(((9, 107, 0.35), (8, 55, 0.4), (168, 55, 0.4)), "brows_down", 0.16, 0.010),
)
# Each expression's measure where its crease begins to show and where it shows in full. Through
# the ARKit basis on the 8 dev faces (shares of face height): mouthSmile 1 lifts the corners by
# 0.057–0.066 and mouthFrown 1 lowers them about as much; browDown 1 draws the inner brows by
# 0.096–0.103 (browInnerUp 1 spreads them, −0.07); jawOpen 1 moves a measure by 0.012 at most,
# so speech alone throws no crease.
ONSET = {"smile": (0.015, 0.05), "frown": (0.015, 0.05), "brows_down": (0.015, 0.07)}
INNER_BROWS = (55, 285)


@lru_cache(maxsize=1)
def _mirror() -> np.ndarray:
    """Each mesh point's counterpart across the face's midline (itself on the midline)."""
    canonical = topo.canonical_face()[: topo.MESH_COUNT]
    flipped = canonical * np.array([-1.0, 1.0, 1.0])
    return np.argmin(np.linalg.norm(canonical[:, None] - flipped[None], axis=-1), axis=1)


def _mirrored(points: tuple[Point, ...]) -> tuple[Point, ...]:
    mirror = _mirror()
    return tuple((int(mirror[a]), int(mirror[b]), t) for a, b, t in points)


@lru_cache(maxsize=1)
def crease_lines() -> list[tuple[Crease, str, tuple[Point, ...]]]:
    """Every line drawn: (crease, side, its points)."""
    return [line for crease in CREASES
            for line in ((crease, "right", crease.right), (crease, "left", _mirrored(crease.right)))]


def line_points(landmarks: torch.Tensor, points: tuple[Point, ...]) -> torch.Tensor:
    """(…, 478, 2) landmarks → (…, len(points), 2) a crease line's points."""
    first, second = [p[0] for p in points], [p[1] for p in points]
    t = torch.tensor([p[2] for p in points], dtype=landmarks.dtype, device=landmarks.device)[:, None]
    return torch.lerp(landmarks[..., first, :], landmarks[..., second, :], t)


def _to_photo_pose(frames: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """Frames (F, 478, 2) moved to the photo's head position by their face ovals' similarity."""
    oval = torch.as_tensor(topo.group("face_oval"), device=frames.device)
    a, b = similarity(photo[oval], frames[:, oval])
    z = (torch.complex(frames[..., 0], frames[..., 1]) - b) / a
    return torch.stack([z.real, z.imag], -1)


def expression_measures(frames: torch.Tensor, photo: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each driver's measure per frame and side, (F, 2) for right, left, as a share of face
    height; frames (F, 478, 2) and photo (478, 2) in the same pixel space (y down)."""
    frames = _to_photo_pose(frames, photo)
    up = photo[topo.FOREHEAD] - photo[topo.CHIN]
    height = up.norm()
    up = up / height
    rise = lambda p: (p * up).sum(-1) / height                                       # noqa: E731

    def corner_lift(face):
        corners = face[..., [topo.MOUTH_CORNER_RIGHT, topo.MOUTH_CORNER_LEFT], :]
        middle = face[..., [topo.UPPER_LIP_INNER, topo.LOWER_LIP_INNER], :].mean(-2, keepdim=True)
        return rise(corners - middle)

    def inner_brows(face):
        eyes = torch.stack([face[..., list(topo.EYE_CORNERS[s]), :].mean(-2) for s in ("right", "left")], -2)
        heads = face[..., list(INNER_BROWS), :]
        spread = (heads[..., 0, :] - heads[..., 1, :]).norm(dim=-1) / height
        return rise(heads - eyes), spread

    (low, spread), (low_photo, spread_photo) = inner_brows(frames), inner_brows(photo)
    # The photo's texture already shows its own smile's folds or frown's creases: only what the
    # frame shows beyond both the photo and a level mouth throws more.
    lift, lift_photo = corner_lift(frames), corner_lift(photo)
    return {"smile": lift - lift_photo.clamp_min(0), "frown": -lift - (-lift_photo).clamp_min(0),
            "brows_down": (spread_photo - spread)[:, None] + (low_photo - low)}


def crease_strengths(frames: torch.Tensor, photo: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each driver's strength in [0, 1] per frame and side, (F, 2)."""
    return {name: smoothstep(*ONSET[name], measure) for name, measure in expression_measures(frames, photo).items()}


def line_amounts(strengths: dict[str, torch.Tensor]) -> list[tuple[Crease, tuple[Point, ...], torch.Tensor]]:
    """The lines to draw, each with its strength per frame (F,); lines no frame shows are left out."""
    out = []
    for crease, side, line in crease_lines():
        strength = strengths[crease.driver]
        amount = strength[:, 0 if side == "right" else 1]
        if bool((amount > 0).any()):
            out.append((crease, line, amount))
    return out


def line_shade(pixels: torch.Tensor, where: torch.Tensor, crease: Crease, amount: torch.Tensor,
               face_height: float) -> torch.Tensor:
    """Brightness factor (F, h, w) in (0, 1] of one crease line at output pixels (F, h, w, 2);
    ``where`` (F, P, 2) its points in output px, ``amount`` (F,) its strength."""
    distance = polyline_distance(pixels, where) / (crease.width * face_height)
    # Fading towards both ends (by the distance from the line's middle against its half
    # length), so a crease trails off rather than stopping in a rounded cap.
    middle, half = where.mean(1), (where[:, -1] - where[:, 0]).norm(dim=-1) / 2
    along = (pixels - middle[:, None, None]).norm(dim=-1) / half[:, None, None].clamp_min(1e-3)
    profile = torch.exp(-distance.square()) * (1 - smoothstep(0.5, 1.1, along))
    return 1 - (crease.depth * amount)[:, None, None] * profile
