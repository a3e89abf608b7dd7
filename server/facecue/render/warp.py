"""The dense warp: where each output pixel takes its colour from in the photo.

The 468 mesh points say exactly where the face goes. Two rings of anchors around the face
oval carry hair, ears and neck: the inner ring moves rigidly with the head (a similarity
fitted to the oval each frame), the outer ring half as much. A thin-plate spline through
all of them gives a smooth backward field (output position → photo position), evaluated on
a coarse grid and upsampled; beyond the outer ring it fades to zero, so the background
stays exactly still.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .. import topology as topo
from . import thin_plate
from .shapes import pixel_centres, smoothstep

INNER_RING, OUTER_RING = 1.35, 1.8          # × the face oval's radius, around its centre
OUTER_FOLLOW = 0.5                          # how much of the head's motion the outer ring takes
FADE = (1.9, 2.6)                           # the field fades out between these radii
MESH_CONTROLS = 260                         # mesh points the spline passes through
LID_HOLD = 0.4                              # × the photo's lid gap: the least the warp closes an eye


@lru_cache(maxsize=1)
def mesh_controls() -> np.ndarray:
    """The cue subset's mesh points (lips, lids, brows, oval, nose) plus cheek and forehead
    points spread evenly by farthest-point sampling: the warp's accuracy where it shows, at
    about half the cost of all 468."""
    canonical = topo.canonical_face()[:, :2]
    chosen = [int(i) for i in topo.subset_147() if i < topo.MESH_COUNT]
    nearest = np.min(np.linalg.norm(canonical[:, None] - canonical[chosen][None], axis=-1), axis=1)
    while len(chosen) < MESH_CONTROLS:
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.linalg.norm(canonical - canonical[pick], axis=1))
    return np.array(sorted(chosen))


@dataclass(frozen=True)
class FaceFrame:
    """Normalising frame of the reference face: its oval's centre and half-extents (photo px)."""
    centre: np.ndarray
    radii: np.ndarray

    @classmethod
    def of(cls, landmarks: np.ndarray) -> "FaceFrame":
        oval = landmarks[topo.group("face_oval"), :2]
        low, high = oval.min(0), oval.max(0)
        return cls(centre=(low + high) / 2, radii=(high - low) / 2)

    def unit(self) -> float:
        return float(self.radii.max())


def similarity(reference: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame 2-D similarity (complex factor a, shift b) with target ≈ a·reference + b.

    reference (N, 2), target (F, N, 2); least squares, closed form via complex numbers.
    """
    ref = torch.complex(reference[:, 0], reference[:, 1])
    tgt = torch.complex(target[..., 0], target[..., 1])
    ref_mean, tgt_mean = ref.mean(), tgt.mean(-1, keepdim=True)
    a = ((tgt - tgt_mean) * (ref - ref_mean).conj()).sum(-1, keepdim=True) / (ref - ref_mean).abs().square().sum()
    return a, tgt_mean - a * ref_mean


def _apply(a: torch.Tensor, b: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    z = a * torch.complex(points[:, 0], points[:, 1]) + b
    return torch.stack([z.real, z.imag], -1)


def control_points(reference: np.ndarray, frames: torch.Tensor, face: FaceFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets (F, N, 2) and the photo positions they show (N, 2), in photo px."""
    device = frames.device
    ref = torch.as_tensor(reference[:, :2], dtype=torch.float32, device=device)
    oval_idx = torch.as_tensor(topo.group("face_oval"), device=device)
    centre = torch.as_tensor(face.centre, dtype=torch.float32, device=device)
    oval = ref[oval_idx]
    inner = centre + INNER_RING * (oval - centre)
    outer = centre + OUTER_RING * (oval - centre)
    a, b = similarity(oval, frames[:, oval_idx])
    inner_t = _apply(a, b, inner)
    outer_t = outer + OUTER_FOLLOW * (_apply(a, b, outer) - outer)
    points = _oval_sides_held(held_lids(_inner_lips_eased(frames, ref), ref), ref, centre)
    targets = torch.cat([points[:, mesh_controls()], inner_t, outer_t], 1)
    sources = torch.cat([ref[mesh_controls()], inner, outer], 0)
    return targets, sources


@lru_cache(maxsize=1)
def _oval_and_inner_controls() -> tuple[np.ndarray, np.ndarray]:
    """The face oval's points and the warp's other controls."""
    oval = topo.group("face_oval")
    return oval, np.array([i for i in mesh_controls() if i not in set(oval.tolist())])


OVAL_NEIGHBOURS = 4          # controls beside each point of the oval's sides whose side of it is kept
SIDE = 0.85                  # an oval point is on a side when its way out is this much across


def _oval_sides_held(frames: torch.Tensor, reference: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """The frames' points with each point of the face oval's sides kept on its own side of the
    controls nearest it (along the way out from the face's centre), as it is in the photo.

    The oval is the photo's silhouette. Turned with the head, its points travel as points of
    the surface: on the side turning away they go behind the cheek, which now makes the
    silhouette, and on a photo whose cheek shows past MediaPipe's oval the near side's oval ran
    out over it. Either way the spline folded the face's edge into the cheek (a lump at 4–8°
    of yaw); held, the oval moves with the skin beside it. The forehead's and chin's oval are
    left alone: held too, they folded raised brows."""
    oval, inner = (torch.as_tensor(i, device=frames.device) for i in _oval_and_inner_controls())
    outward = reference[oval] - centre
    outward = outward / outward.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    side = outward[:, 0].abs() > SIDE                  # the cheeks and jaw: what a turn moves
    oval_t = oval[side]
    outward = outward[side]
    near_t = inner[torch.cdist(reference[oval_t], reference[inner]).topk(OVAL_NEIGHBOURS, largest=False).indices]
    out = frames.clone()
    outside = ((reference[oval_t][:, None] - reference[near_t]) * outward[:, None]).sum(-1) >= 0     # (V, 4)
    moved = ((frames[:, oval_t, :2] - reference[oval_t]) * outward).sum(-1)
    near_moved = ((frames[:, near_t, :2] - reference[near_t]) * outward[:, None]).sum(-1)
    least = torch.where(outside, near_moved, torch.full_like(near_moved, -torch.inf)).amax(-1)
    most = torch.where(outside, torch.full_like(near_moved, torch.inf), near_moved).amin(-1)
    held = torch.maximum(moved, least).minimum(most)
    held = torch.where(least > most, (least + most) / 2, held)
    out[:, oval_t, :2] += (held - moved)[..., None] * outward
    return out


def _inner_lips_eased(frames: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The frames' points with the inner lips, as far as the lips have closed from the photo's
    opening, moved to where the photo has them between the lips' outer contours.

    Lips meeting over the photo's open mouth ask one output line to show the whole opening.
    Through the inner lips themselves (parted by a hair), the spline folded the opening into
    that hair and swung back beyond the lips (up to 53 photo px on the dev set's open mouths),
    and the photo's lip edges showed a second time above and below them. Where the lips close,
    the lip bands and the mouth layer draw everything between the outer contours, so the
    spline only has to stay smooth there; as open as the photo, the inner lips are its own."""
    upper_outer, upper_inner = list(topo.LIP_UPPER_OUTER[1:-1]), list(topo.LIP_UPPER_INNER[1:-1])
    lower_inner, lower_outer = list(topo.LIP_LOWER_INNER), list(topo.LIP_LOWER_OUTER)        # facing columns
    steps = torch.stack([(reference[upper_inner] - reference[upper_outer]).norm(dim=-1),
                         (reference[lower_inner] - reference[upper_inner]).norm(dim=-1),
                         (reference[lower_outer] - reference[lower_inner]).norm(dim=-1)])
    share = steps.cumsum(0)[:2] / steps.sum(0).clamp_min(1e-6)                 # (2, 9): upper, lower inner
    top, span = frames[:, upper_outer, :2], frames[:, lower_outer, :2] - frames[:, upper_outer, :2]
    closing = lips_closing(relative_gap(frames), float(relative_gap(reference)))[:, None, None]
    out = frames.clone()
    for row, inner in enumerate((upper_inner, lower_inner)):
        spread = top + share[row][None, :, None] * span
        out[:, inner, :2] = torch.lerp(frames[:, inner, :2], spread, closing)
    return out


def relative_gap(points: torch.Tensor) -> torch.Tensor:
    """Inner-lip gap ÷ mouth width of (…, 478, 2) points."""
    gap = (points[..., topo.UPPER_LIP_INNER, :2] - points[..., topo.LOWER_LIP_INNER, :2]).norm(dim=-1)
    width = (points[..., topo.MOUTH_CORNER_LEFT, :2] - points[..., topo.MOUTH_CORNER_RIGHT, :2]).norm(dim=-1)
    return gap / width.clamp_min(1e-6)


def lips_closing(relative: torch.Tensor, photo_relative: float) -> torch.Tensor:
    """How far (0–1) each frame's lips have closed from the photo's own opening; both gaps
    ÷ mouth width. 0 for a photo whose lips already meet."""
    return (1 - relative / max(photo_relative, 1e-3)).clamp(0, 1)


def held_lids(frames: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The frames' points with each upper lid held at least LID_HOLD of the photo's lid gap
    above the lower lid (scaled with the eye's width). A warp that closed the lids would
    stretch the photo's lash line and lid margin into streaks over the eye; held open, the
    eye layer draws the closing lid over it, and a closed eye never asks one output point to
    show two photo points."""
    out = frames.clone()
    for eye in ("left", "right"):
        upper, lower = list(topo.LID_UPPER[eye][1:-1]), list(topo.LID_LOWER[eye])     # facing pairs
        outer, inner = topo.EYE_CORNERS[eye]
        width = (frames[:, outer, :2] - frames[:, inner, :2]).norm(dim=-1)[:, None]
        photo_width = (reference[outer] - reference[inner]).norm()
        photo_gap = (reference[lower, 1] - reference[upper, 1]).clamp_min(0)
        least = LID_HOLD * photo_gap * width / photo_width
        out[:, upper, 1] = torch.minimum(frames[:, upper, 1], frames[:, lower, 1] - least)   # image y grows downward
    return out


def field_box(face: FaceFrame, framing) -> tuple[int, int, int, int]:
    """Output pixel box (x0, y0, x1, y1) outside which the field is exactly zero."""
    reach = face.radii * FADE[1]
    low = (face.centre - reach - np.asarray(framing.origin)) * framing.scale
    high = (face.centre + reach - np.asarray(framing.origin)) * framing.scale
    x0, y0 = np.clip(np.floor(low).astype(int), 0, [framing.width, framing.height])
    x1, y1 = np.clip(np.ceil(high).astype(int), 0, [framing.width, framing.height])
    return int(x0), int(y0), int(x1), int(y1)


def backward_field(reference: np.ndarray, frames: torch.Tensor, face: FaceFrame, framing,
                   box: tuple[int, int, int, int], grid_cells: int) -> torch.Tensor:
    """Photo px (F, h, w, 2) to sample for each output pixel of ``box``."""
    device = frames.device
    x0, y0, x1, y1 = box
    stride = max(1, int(np.ceil(max(x1 - x0, y1 - y0) / grid_cells)))
    coarse = (int(np.ceil((y1 - y0) / stride)), int(np.ceil((x1 - x0) / stride)))
    origin = torch.as_tensor(framing.origin, dtype=torch.float32, device=device)
    corner = torch.tensor([x0, y0], dtype=torch.float32, device=device)
    centre = torch.as_tensor(face.centre, dtype=torch.float32, device=device)
    unit = face.unit()

    targets, sources = control_points(reference, frames, face)
    coefficients = thin_plate.fit((targets - centre) / unit, (sources - targets) / unit)
    queries = origin + (corner + pixel_centres(coarse, device)[0].reshape(-1, 2) * stride) / framing.scale
    radii = torch.as_tensor(face.radii, dtype=torch.float32, device=device)
    fade = 1 - smoothstep(FADE[0], FADE[1], ((queries - centre) / radii).norm(dim=-1))
    # The box is square and the fade elliptical: its corners (about a fifth of the grid) are
    # exactly zero, so the spline is evaluated only where the field can move a pixel.
    moving = (fade > 0).nonzero().squeeze(1)
    shift = queries.new_zeros(frames.shape[0], queries.shape[0], 2)
    shift[:, moving] = thin_plate.evaluate(coefficients, targets.sub(centre).div(unit),
                                           (queries[moving] - centre) / unit) * fade[moving, None] * unit
    shift = shift.reshape(-1, *coarse, 2).permute(0, 3, 1, 2)
    shift = F.interpolate(shift, scale_factor=stride, mode="bilinear", align_corners=False)
    shift = shift[:, :, : y1 - y0, : x1 - x0].permute(0, 2, 3, 1)
    fine = origin + (corner + pixel_centres((y1 - y0, x1 - x0), device)[0]) / framing.scale
    return fine[None] + shift
