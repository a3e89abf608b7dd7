"""Everything the renderer needs from the reference photo, prepared once per take.

The photo is cropped to the region a take can reach and pre-scaled to the output's
resolution (area filtering, so large photos do not alias). A copy has its irises painted
over with the eye's own white so the warped face never shows the photo's iris in the
wrong place; the irises are drawn again where the gaze puts them. Colour statistics of
the eyes, lids and teeth let the eye and mouth layers match the person.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import topology as topo
from ..reference import Reference
from .framing import Framing
from .shapes import disc_coverage, pixel_centres, polygon_coverage

EYES = ("right", "left")                 # the subject's own; matches topology's iris order
SOURCE_MARGIN = 0.3                      # of the output's extent: how far the warp may reach
DEFAULT_TEETH = (0.93, 0.91, 0.86)
FULL_LIP_CHROMA = 0.15     # lips' max − min channel at and above which drawn colours keep theirs
# Brightness of a photo's teeth ÷ its lips', measured on the dev set's photos that show teeth
# and the bundled sample (1.34–1.63, mean 1.48): drawn teeth are lit like the photo.
TEETH_OVER_LIPS = 1.48
IRIS_SCALE = 1.1        # MediaPipe's iris ring sits a little inside the visible limbus
OPEN_MOUTH = 0.08       # inner-lip gap ÷ mouth width above which the photo shows its teeth


@dataclass(frozen=True)
class Portrait:
    """The reference photo (RGB uint8, H×W×3) and its analysis."""
    rgb: np.ndarray
    reference: Reference


def eye_opening(eye: str) -> tuple[int, ...]:
    """Closed outline of an eye's opening: upper lid outer→inner, lower lid inner→outer."""
    return topo.LID_UPPER[eye] + topo.LID_LOWER[eye][::-1]


MOUTH_OPENING = topo.LIP_UPPER_INNER + topo.LIP_LOWER_INNER[::-1]
LIPS_OUTLINE = topo.LIP_UPPER_OUTER + topo.LIP_LOWER_OUTER[::-1]


@dataclass
class PreparedPortrait:
    framing: Framing
    source: torch.Tensor          # (1, 5, h, w): RGB with irises painted out; right and left eye masks
    detail_source: torch.Tensor   # (1, 5, h, w): the original RGB, both eyes' openings, the mouth's
    background: torch.Tensor      # (3, H, W): the still photo seen through the framing
    source_origin: np.ndarray     # photo px at the source tensors' top-left edge
    source_scale: float           # source px per photo px
    landmarks: np.ndarray         # (478, 2) the reference's photo landmarks
    iris_radius: np.ndarray       # (2,) photo px, right then left
    iris_colour: np.ndarray       # (2, 3)
    lid_colour: np.ndarray        # (2, 3) skin just above each upper lid
    eye_gap: np.ndarray           # (2,) lid gap ÷ eye width in the photo
    mouth_gap: float              # inner-lip gap ÷ mouth width in the photo
    teeth_colour: np.ndarray      # (3,)
    lip_colour: np.ndarray        # (3,)

    @property
    def device(self) -> torch.device:
        return self.source.device

    @property
    def shows_teeth(self) -> bool:
        return self.mouth_gap > OPEN_MOUTH

    @property
    def colourfulness(self) -> float:
        return colourfulness(self.lip_colour)


def colourfulness(lip_colour: np.ndarray) -> float:
    """How much colour drawn parts (cavity, tongue, teeth) may have: 0 for a black-and-white
    photo, 1 for lips as coloured as in colour photos (the dev set's: chroma 0.16–0.45)."""
    return float(np.clip(np.ptp(np.asarray(lip_colour)) / FULL_LIP_CHROMA, 0, 1))


def toward_grey(rgb, amount: float) -> np.ndarray:
    """``rgb`` with ``amount`` (0–1) of its colour kept; exactly itself at 1."""
    rgb = np.asarray(rgb, np.float32)
    return rgb if amount >= 1 else (rgb.mean() + amount * (rgb - rgb.mean())).astype(np.float32)


def iris_radius(points, eye: str):
    """Visible iris radius from the iris ring's horizontal points; works on numpy and torch."""
    ring = topo.group(f"{eye}_iris")
    centre = points[..., ring[0], :]
    across = ((points[..., ring[1], :] - centre) ** 2).sum(-1) ** 0.5 + ((points[..., ring[3], :] - centre) ** 2).sum(-1) ** 0.5
    return IRIS_SCALE * across / 2


def prepare(portrait: Portrait, framing: Framing, device: torch.device) -> PreparedPortrait:
    rgb = portrait.rgb
    photo_h, photo_w = rgb.shape[:2]
    points = portrait.reference.landmarks_image[:, :2].astype(np.float64)

    # The part of the photo the output (plus the warp's reach) can sample, at output scale.
    reach = SOURCE_MARGIN * max(framing.width, framing.height) / framing.scale
    x0 = max(0.0, np.floor(framing.origin[0] - reach))
    y0 = max(0.0, np.floor(framing.origin[1] - reach))
    x1 = min(photo_w, np.ceil(framing.origin[0] + framing.width / framing.scale + reach))
    y1 = min(photo_h, np.ceil(framing.origin[1] + framing.height / framing.scale + reach))
    crop = rgb[int(y0):int(y1), int(x0):int(x1)]
    scale = min(1.0, framing.scale)
    if scale < 1.0:
        import cv2
        size = (max(2, round(crop.shape[1] * scale)), max(2, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / (x1 - x0)
    original = torch.tensor(crop, device=device).permute(2, 0, 1).float() / 255

    origin = np.array([x0, y0])
    local = (points - origin) * scale                       # landmarks in source pixels
    masks, radii, iris_colour, lid_colour, eye_gap = [], [], [], [], []
    painted = original.clone()
    for eye in EYES:
        opening = _polygon_mask(original.shape[1:], local[list(eye_opening(eye))], device)
        centre = local[topo.IRIS_CENTRE[eye]]
        radius = float(iris_radius(local, eye))
        disc = _disc_mask(original.shape[1:], centre, radius * 1.15, device) * opening
        white = _sclera_colour(original, opening, disc)
        painted = painted * (1 - disc) + white[:, None, None] * disc
        masks.append(opening)
        radii.append(radius / scale)
        weights = (disc * opening).flatten()
        iris_colour.append((original.flatten(1) * weights).sum(1) / weights.sum().clamp_min(1e-6))
        lid_colour.append(_lid_colour(original, local, eye))
        width = np.linalg.norm(points[topo.EYE_CORNERS[eye][0]] - points[topo.EYE_CORNERS[eye][1]])
        upper, lower = topo.EYE_LIDS[eye]
        eye_gap.append(np.linalg.norm(points[upper] - points[lower]) / width)

    mouth_width = np.linalg.norm(points[topo.MOUTH_CORNER_LEFT] - points[topo.MOUTH_CORNER_RIGHT])
    mouth_gap = float(np.linalg.norm(points[topo.UPPER_LIP_INNER] - points[topo.LOWER_LIP_INNER]) / mouth_width)
    mouth = _polygon_mask(original.shape[1:], local[list(MOUTH_OPENING)], device)
    lips = (_polygon_mask(original.shape[1:], local[list(LIPS_OUTLINE)], device) - mouth).clamp(0, 1)[0] > 0.9
    lip_colour = (original[:, lips].median(1).values if lips.any() else original.flatten(1).median(1).values).cpu().numpy()
    teeth = _teeth_colour(original, mouth, mouth_gap, lip_colour)

    source = torch.cat([painted, masks[0], masks[1]], 0)[None]
    detail_source = torch.cat([original, (masks[0] + masks[1]).clamp(0, 1), mouth], 0)[None]
    background = _still(original, framing, origin, scale)
    return PreparedPortrait(
        framing=framing, source=source.contiguous(), detail_source=detail_source.contiguous(),
        background=background, source_origin=origin, source_scale=scale, landmarks=points.astype(np.float32),
        iris_radius=np.array(radii, np.float32), iris_colour=torch.stack(iris_colour).cpu().numpy(),
        lid_colour=torch.stack(lid_colour).cpu().numpy(), eye_gap=np.array(eye_gap, np.float32),
        mouth_gap=mouth_gap, teeth_colour=teeth, lip_colour=lip_colour)


def source_grid(prepared: PreparedPortrait, photo_xy: torch.Tensor) -> torch.Tensor:
    """Photo px (…, 2) → grid_sample coordinates of the source tensors (align_corners=False)."""
    return grid_coordinates(photo_xy, prepared.source_origin, prepared.source_scale, prepared.source.shape[-2:])


def grid_coordinates(photo_xy: torch.Tensor, origin, scale: float, shape) -> torch.Tensor:
    """Points (…, 2) → grid_sample coordinates (align_corners=False) of an image of ``shape``
    (h, w) whose top-left corner lies at ``origin`` with ``scale`` of its pixels per unit."""
    # One fused multiply-add: this runs on every sampled pixel of every frame.
    gain = torch.tensor([2 * scale / shape[1], 2 * scale / shape[0]], dtype=photo_xy.dtype, device=photo_xy.device)
    offset = -1 - torch.as_tensor(origin, dtype=photo_xy.dtype, device=photo_xy.device) * gain
    return torch.addcmul(offset, photo_xy, gain)


def _masked(shape, low: np.ndarray, high: np.ndarray, device, coverage) -> torch.Tensor:
    """A (1, H, W) mask that is zero outside the box [low, high): shapes cost only their box."""
    x0, y0 = np.clip(np.floor(low).astype(int) - 2, 0, [shape[1], shape[0]])
    x1, y1 = np.clip(np.ceil(high).astype(int) + 2, 0, [shape[1], shape[0]])
    mask = torch.zeros((1,) + tuple(shape), device=device)
    if x1 > x0 and y1 > y0:
        centres = pixel_centres((y1 - y0, x1 - x0), device) + torch.tensor([x0, y0], device=device)
        mask[:, y0:y1, x0:x1] = coverage(centres)
    return mask


def _polygon_mask(shape, polygon: np.ndarray, device, grow: float = 0.0) -> torch.Tensor:
    poly = torch.as_tensor(polygon, dtype=torch.float32, device=device)[None]
    return _masked(shape, polygon.min(0) - grow, polygon.max(0) + grow, device,
                   lambda p: polygon_coverage(p, poly, grow))


def _disc_mask(shape, centre: np.ndarray, radius: float, device) -> torch.Tensor:
    c = torch.as_tensor(centre, dtype=torch.float32, device=device)[None]
    r = torch.tensor([radius], dtype=torch.float32, device=device)
    return _masked(shape, centre - radius, centre + radius, device, lambda p: disc_coverage(p, c, r))


def _sclera_colour(rgb: torch.Tensor, opening: torch.Tensor, iris: torch.Tensor) -> torch.Tensor:
    """The brighter half of the eye opening outside the iris: lashes and shadow excluded."""
    white = ((opening > 0.9) & (iris < 0.05))[0]
    pixels = rgb[:, white].T
    if len(pixels) < 4:
        return torch.tensor([0.85, 0.82, 0.80], device=rgb.device)
    luma = pixels.mean(1)
    return pixels[luma >= luma.median()].mean(0)


def _lid_colour(rgb: torch.Tensor, local: np.ndarray, eye: str) -> torch.Tensor:
    """Skin of the upper lid: sampled a third of the way from the lid to the brow, clear of the
    lashes and of the fold's shadow that lie just above an open lid."""
    upper = local[list(topo.LID_UPPER[eye][2:-2])]
    brow = local[topo.group(f"{eye}_brow")]
    samples = upper[:, :2].copy()
    samples[:, 1] += 0.35 * (brow[:, 1].mean() - upper[:, 1].mean())
    samples = np.round(samples).astype(int)
    height, width = rgb.shape[1:]
    xs = np.clip(samples[:, 0], 0, width - 1)
    ys = np.clip(samples[:, 1], 0, height - 1)
    return rgb[:, ys, xs].median(1).values


def _teeth_colour(rgb: torch.Tensor, mouth: torch.Tensor, mouth_gap: float, lip_colour: np.ndarray) -> np.ndarray:
    """The photo's own teeth when its mouth is open enough to show them, else a neutral white
    as bright, against the photo's lips, as real teeth are (a white of its own glowed in a
    dimly lit photo)."""
    inside = mouth[0] > 0.9
    pixels = rgb[:, inside].T
    if mouth_gap < OPEN_MOUTH or len(pixels) < 8:
        white = np.array(DEFAULT_TEETH, np.float32)
        white = toward_grey(white, colourfulness(lip_colour))
        return white * min(1.0, TEETH_OVER_LIPS * float(lip_colour.mean()) / float(white.mean()))
    luma = pixels.mean(1)
    bright = pixels[luma >= torch.quantile(luma, 0.7)].mean(0)
    return bright.clamp(0.55, 1.0).cpu().numpy()


def _still(original: torch.Tensor, framing: Framing, origin: np.ndarray, scale: float) -> torch.Tensor:
    """The unwarped photo resampled through the framing: every frame's static background."""
    centres = pixel_centres((framing.height, framing.width), original.device)[0]
    photo = torch.as_tensor(framing.origin, dtype=torch.float32, device=original.device) + centres / framing.scale
    grid = grid_coordinates(photo, origin, scale, original.shape[1:])
    return torch.nn.functional.grid_sample(original[None], grid[None], mode="bilinear",
                                           padding_mode="border", align_corners=False)[0]
