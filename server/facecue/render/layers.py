"""What a warp alone cannot show: irises that turn, lids that close, a mouth that opens,
skin that creases.

Each layer works in a small box around its feature (the union over the batch's frames),
on output pixels, and blends over the warped frames in place.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import topology as topo
from .creases import crease_strengths, line_amounts, line_points, line_shade
from .portrait import (EYES, MOUTH_OPENING, PreparedPortrait, eye_opening, grid_coordinates, iris_radius,
                       source_grid, toward_grey)
from .warp import LID_HOLD, held_lids, lips_closing
from .shapes import disc_coverage, pixel_centres, polygon_coverage, polyline_distance, smoothstep

CAVITY = (0.20, 0.07, 0.08)
TONGUE = (0.58, 0.25, 0.27)
TOOTH_SPAN = 0.16        # a front tooth's width ÷ half the mouth's width
TOOTH_GAPS = 0.08        # how much darker the lines between drawn teeth are
BUCCAL_SHADOW = 0.7      # drawn teeth at the corners are this much darker than in the middle (the
                         # dev set's photos with teeth: 0.64–0.91 over the outer quarter of the mouth)
SEALED = 0.005           # lip gap ÷ mouth width below which the lips are drawn closed
PARTED = 0.03            # … and above which the mouth between them is drawn in full
SEAM_RIMS = 0.06         # × mouth width: the inner lip rims lifted where closing lips meet
SHADOW_FLOOR = 0.85      # × the lips' colour: the least brightness of a lifted rim
SEAM_WIDTH = 0.01        # × mouth width: the line where closed lips meet …
SEAM_SHADE = 0.12        # … and how much darker it is (darker reads as parted lips)
LASH_COVER = 0.28        # × eye width (at most half the way to the brow): a closing lid's reach over the lashes …
SHEET_FEATHER = 0.06     # … and over how much of that it fades in
LID_SKIN = 0.10          # × eye width: the band of skin above the sheet that it is made of
LID_ROUNDING = 0.15      # how much darker a closed lid is at its margin than where it leaves the skin


def _box(points: torch.Tensor, margin: float, height: int, width: int) -> tuple[int, int, int, int] | None:
    """Pixel box around points (any batch shape) plus ``margin``, clipped to the frame."""
    margin = int(np.ceil(margin))
    low = points.reshape(-1, 2).amin(0).floor().int().tolist()
    high = points.reshape(-1, 2).amax(0).ceil().int().tolist()
    x0, y0 = max(0, low[0] - margin), max(0, low[1] - margin)
    x1, y1 = min(width, high[0] + margin), min(height, high[1] + margin)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _pixels(box, frames: int, device) -> torch.Tensor:
    x0, y0, x1, y1 = box
    corner = torch.tensor([x0, y0], dtype=torch.float32, device=device)
    return (pixel_centres((y1 - y0, x1 - x0), device) + corner).expand(frames, -1, -1, -1)


def _blend(region: torch.Tensor, colour: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """region (F, 3, h, w), colour (F, 3, h, w) or (F, 3, 1, 1), alpha (F, h, w)."""
    return torch.lerp(region, colour.expand_as(region), alpha[:, None])


def _colour(values, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, np.float32), device=device)[..., None, None]


def _drawn_colour(values, prepared: PreparedPortrait) -> torch.Tensor:
    """A drawn colour (cavity, tongue) with no more colour than the photo has: grey on a
    black-and-white photo, where a red mouth showed between grey lips."""
    return _colour(toward_grey(values, prepared.colourfulness), prepared.device)


def _photo(prepared: PreparedPortrait, pixels: torch.Tensor) -> torch.Tensor:
    """Output px → photo px."""
    origin = torch.as_tensor(prepared.framing.origin, dtype=torch.float32, device=pixels.device)
    return origin + pixels / prepared.framing.scale


def _reference(prepared: PreparedPortrait, index: int, device) -> torch.Tensor:
    return torch.as_tensor(prepared.landmarks[index], device=device)


def _below_brow(lid: torch.Tensor, brow: torch.Tensor, eye_width: torch.Tensor) -> torch.Tensor:
    """(F,) px between a held upper lid (F, V, 2) and the lowest brow point above any of its
    points (brow points within a fifth of the eye's width across); 0 where they touch."""
    across = (lid[:, :, None, 0] - brow[:, None, :, 0]).abs() < 0.2 * eye_width[:, None, None]
    gap = torch.where(across, lid[:, :, None, 1] - brow[:, None, :, 1], torch.full_like(across, 1e6, dtype=lid.dtype))
    return gap.amin(dim=(1, 2)).clamp_min(0)


def _below_contour(pixels: torch.Tensor, contour: torch.Tensor, axis: torch.Tensor,
                   middle: torch.Tensor) -> torch.Tensor:
    """(F, h, w) px each pixel lies below an open contour (F, V, 2) that runs along the mouth,
    measured across the mouth's ``axis`` (F, 2; unit, toward the subject's left) from ``middle``."""
    down = torch.stack([-axis[:, 1], axis[:, 0]], -1)
    along_c = ((contour - middle[:, None]) * axis[:, None]).sum(-1)
    across_c = ((contour - middle[:, None]) * down[:, None]).sum(-1)
    order = along_c.argsort(-1)
    along_c, across_c = along_c.gather(-1, order), across_c.gather(-1, order)
    relative = pixels - middle[:, None, None]
    along_p = (relative * axis[:, None, None]).sum(-1).reshape(len(pixels), -1)
    across_p = (relative * down[:, None, None]).sum(-1)
    right = torch.searchsorted(along_c.contiguous(), along_p.contiguous()).clamp(1, contour.shape[1] - 1)
    a0, a1 = along_c.gather(-1, right - 1), along_c.gather(-1, right)
    d0, d1 = across_c.gather(-1, right - 1), across_c.gather(-1, right)
    t = ((along_p - a0) / (a1 - a0).clamp_min(1e-6)).clamp(0, 1)
    return across_p - (d0 + t * (d1 - d0)).reshape(across_p.shape)


def _sample_box(region: torch.Tensor, at: torch.Tensor, box) -> torch.Tensor:
    """region (F, C, h, w), the frames inside ``box``, at output px (F, h', w', 2); edges clamp."""
    grid = grid_coordinates(at, box[:2], 1.0, region.shape[-2:])
    return F.grid_sample(region, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _sample_detail(prepared: PreparedPortrait, photo_xy: torch.Tensor) -> torch.Tensor:
    """The original photo and its eye and mouth masks at photo px (F, h, w, 2) → (F, 5, h, w)."""
    source = prepared.detail_source.expand(photo_xy.shape[0], -1, -1, -1)
    return F.grid_sample(source, source_grid(prepared, photo_xy), mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def draw_creases(frames: torch.Tensor, points: torch.Tensor, photo_points: torch.Tensor,
                 prepared: PreparedPortrait) -> None:
    """Darken the creases the frames' expressions throw (see ``creases``), each line in its own
    small box; frames showing none are left untouched."""
    photo = torch.as_tensor(prepared.landmarks[:, :2], dtype=torch.float32, device=frames.device)
    lines = line_amounts(crease_strengths(photo_points, photo))
    if not lines:
        return
    face_height = float((photo[topo.FOREHEAD] - photo[topo.CHIN]).norm()) * prepared.framing.scale
    for crease, line, amount in lines:
        where = line_points(points, line)
        box = _box(where, 3 * crease.width * face_height, frames.shape[2], frames.shape[3])
        if box is None:
            continue
        x0, y0, x1, y1 = box
        frames[:, :, y0:y1, x0:x1] *= line_shade(_pixels(box, len(points), frames.device), where, crease,
                                                 amount, face_height)[:, None]


def draw_eyes(frames: torch.Tensor, warped_eyes: torch.Tensor, points: torch.Tensor,
              photo_points: torch.Tensor, prepared: PreparedPortrait) -> None:
    """Irises at their gazed position inside the lids; closed lids over the eye.

    frames (F, 3, H, W) in place; warped_eyes (F, 2, H, W): the photo's eye openings carried by
    the warp (where the photo's eye would show); points / photo_points: (F, 478, 2) landmarks
    in output and photo pixels.
    """
    count, _, height, width = frames.shape
    device = frames.device
    origin = torch.as_tensor(prepared.framing.origin, dtype=torch.float32, device=device)
    reference = torch.as_tensor(prepared.landmarks[:, :2], dtype=torch.float32, device=device)
    held = (held_lids(photo_points, reference) - origin) * prepared.framing.scale     # where the warp put the lids
    for k, eye in enumerate(EYES):
        outline = points[:, list(eye_opening(eye))]
        iris = topo.group(f"{eye}_iris")
        outer, inner = topo.EYE_CORNERS[eye]
        upper, lower = topo.EYE_LIDS[eye]
        eye_width = (points[:, outer] - points[:, inner]).norm(dim=-1).clamp_min(1e-3)
        openness = (points[:, upper] - points[:, lower]).norm(dim=-1) / eye_width / float(prepared.eye_gap[k])
        closure = 1 - smoothstep(LID_HOLD, 0.7, openness)      # the warp closes an eye no further than LID_HOLD
        # Past LID_HOLD the warp leaves the photo's lid where it was: the closing lid is drawn as
        # a sheet from there (raised over its lashes) down to the frame's lid, fading at its top.
        lid_line = points[:, list(topo.LID_UPPER[eye])]
        beyond_hold = (1 - openness / LID_HOLD).clamp(0, 1)
        top = held[:, list(topo.LID_UPPER[eye])].clone()
        room = _below_brow(top, points[:, topo.group(f"{eye}_brow")], eye_width)
        top[..., 1] -= (torch.minimum(LASH_COVER * eye_width, 0.5 * room) * beyond_hold)[:, None]
        skin_band = torch.minimum(LID_SKIN * eye_width, 0.25 * room)    # the brow's hair is no lid
        skin_above = top - torch.stack([torch.zeros_like(skin_band), skin_band], -1)[:, None]
        extent = float((outline.amax(1) - outline.amin(1)).max())        # the warped eye mask reaches a little past
        box = _box(torch.cat([outline, points[:, iris], skin_above], 1), 3 + 0.25 * extent, height, width)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        pixels = _pixels(box, count, device)
        region = frames[:, :, y0:y1, x0:x1]
        opening = polygon_coverage(pixels, outline)

        # Closed lids: skin where the photo's eye has been squeezed out of the opening.
        leak = warped_eyes[:, k, y0:y1, x0:x1] * (1 - opening) * closure[:, None, None]
        sheet = polygon_coverage(pixels, torch.cat([top, lid_line.flip(1)], 1))
        from_top, from_lid = polyline_distance(pixels, top), polyline_distance(pixels, lid_line)
        sheet = sheet * smoothstep(0.0, SHEET_FEATHER * eye_width[:, None, None], from_top)
        # The sheet is the frame's own skin above it, stretched down: it meets that skin
        # seamlessly at its top and keeps its texture and light (one flat colour read as a patch).
        across = from_top / (from_top + from_lid).clamp_min(1e-3)
        skin_at = pixels.clone()
        skin_at[..., 1] -= from_top + skin_band[:, None, None] * across
        skin = _sample_box(region, skin_at, box)
        # A lid is rounded over the eyeball: it darkens toward its margin.
        shade = 1 - LID_ROUNDING * (2 * across - 1).clamp_min(0).square()
        region = _blend(region, skin * shade[:, None], torch.maximum(leak, sheet))

        # The iris: the photo's own iris, scaled and moved to the gazed centre, clipped by the lids.
        centre, radius = points[:, iris[0]], iris_radius(points, eye)
        photo_centre, photo_radius = photo_points[:, iris[0]], iris_radius(photo_points, eye)
        stretch = (float(prepared.iris_radius[k]) / photo_radius.clamp_min(1e-3))[:, None, None, None]
        look_up = _reference(prepared, iris[0], device) + (_photo(prepared, pixels) - photo_centre[:, None, None]) * stretch
        sampled = _sample_detail(prepared, look_up)
        iris_rgb = torch.lerp(_colour(prepared.iris_colour[k], device).expand(count, -1, 1, 1),
                              sampled[:, :3], sampled[:, 3:4])
        region = _blend(region, iris_rgb, disc_coverage(pixels, centre, radius) * opening)

        # A lash line along the upper lid as it comes down.
        lash = polyline_distance(pixels, points[:, list(topo.LID_UPPER[eye])])
        line = torch.exp(-(lash / (0.05 * eye_width)[:, None, None]).square()) * closure[:, None, None]
        region = _blend(region, _colour(prepared.lid_colour[k] * 0.35, device), 0.8 * line)
        frames[:, :, y0:y1, x0:x1] = region


def draw_mouth(frames: torch.Tensor, points: torch.Tensor, photo_points: torch.Tensor,
               prepared: PreparedPortrait) -> None:
    """The mouth between the lips, where they part (the lips themselves are the warp's, see
    lip_bands): the photo's own teeth carried by the upper lip (or a drawn teeth band when the
    photo shows none) over a shaded cavity and tongue."""
    count, _, height, width = frames.shape
    device = frames.device
    mouth_width = (points[:, topo.MOUTH_CORNER_LEFT] - points[:, topo.MOUTH_CORNER_RIGHT]).norm(dim=-1)
    gap = (points[:, topo.UPPER_LIP_INNER] - points[:, topo.LOWER_LIP_INNER]).norm(dim=-1)
    relative = gap / mouth_width.clamp_min(1e-3)
    outline = points[:, list(MOUTH_OPENING)]
    box = _box(outline, 3 + 0.05 * float(mouth_width.max()), height, width)
    if box is None:
        return
    x0, y0, x1, y1 = box
    pixels = _pixels(box, count, device)
    region = frames[:, :, y0:y1, x0:x1]
    upper_lip, lower_lip = points[:, list(topo.LIP_UPPER_INNER)], points[:, list(topo.LIP_LOWER_INNER_WITH_CORNERS)]
    g, w = gap[:, None, None], mouth_width[:, None, None]

    # Lips closing over the photo's open mouth bring its shadowed inner lip edges together: two
    # dark rims that read as a gap. Where they meet, shadows are lifted to near the lips' own colour
    # (the lips' texture above that kept), with a fine seam.
    closing = lips_closing(relative, prepared.mouth_gap)[:, None, None]
    if float(closing.max()) > 0:        # lips that stay as open as the photo's need none of this
        from_seam = polyline_distance(pixels, (upper_lip + lower_lip) / 2)
        rims = closing * torch.exp(-(from_seam / (SEAM_RIMS * w)).square())
        seam = torch.exp(-(from_seam / (SEAM_WIDTH * w)).square())
        lifted = torch.maximum(region, SHADOW_FLOOR * _colour(prepared.lip_colour, device)) * (1 - SEAM_SHADE * seam)[:, None]
        region = _blend(region, lifted, rims)
    if float(relative.max()) <= SEALED:
        frames[:, :, y0:y1, x0:x1] = region
        return
    # Each frame on its own terms: lips nearer than SEALED draw no mouth, whatever the batch holds.
    inside = polygon_coverage(pixels, outline) * smoothstep(SEALED, PARTED, relative)[:, None, None]
    from_upper, from_lower = polyline_distance(pixels, upper_lip), polyline_distance(pixels, lower_lip)

    axis = (points[:, topo.MOUTH_CORNER_LEFT] - points[:, topo.MOUTH_CORNER_RIGHT]) / w[:, :, 0]
    middle = (points[:, topo.MOUTH_CORNER_LEFT] + points[:, topo.MOUTH_CORNER_RIGHT]) / 2
    along = ((pixels - middle[:, None, None]) * axis[:, None, None]).sum(-1) / (0.5 * w)
    toward_corners = smoothstep(0.5, 1.0, along.abs())

    depth = (torch.minimum(from_upper, from_lower) / (0.5 * g).clamp_min(0.5)).clamp(0, 1)
    interior = _drawn_colour(CAVITY, prepared) * (1.1 - 0.6 * depth - 0.3 * toward_corners)[:, None]
    tongue = smoothstep(0.12, 0.3, relative)[:, None, None] * (1 - smoothstep(0.2 * g, 0.45 * g, from_lower))
    interior = _blend(interior, _drawn_colour(TONGUE, prepared), 0.6 * tongue * (1 - toward_corners))

    if prepared.shows_teeth:
        # The upper teeth are fixed to the skull: carry the photo's mouth interior with the upper lip.
        photo_width = (photo_points[:, topo.MOUTH_CORNER_LEFT] - photo_points[:, topo.MOUTH_CORNER_RIGHT]).norm(dim=-1)
        photo_lip = photo_points[:, topo.UPPER_LIP_INNER]
        reference_width = float(np.linalg.norm(prepared.landmarks[topo.MOUTH_CORNER_LEFT]
                                               - prepared.landmarks[topo.MOUTH_CORNER_RIGHT]))
        stretch = (reference_width / photo_width.clamp_min(1e-3))[:, None, None, None]
        look_up = _reference(prepared, topo.UPPER_LIP_INNER, device) + (_photo(prepared, pixels) - photo_lip[:, None, None]) * stretch
        sampled = _sample_detail(prepared, look_up)
        interior = _blend(interior, sampled[:, :3], sampled[:, 4])
    else:
        # Upper teeth hang straight down from the upper lip (measured across the mouth, not to the
        # nearest point of the lip, which stood them up as walls where the lip's edge turns down
        # to the corners) and fall into the cheeks' shadow toward the corners.
        teeth = _colour(prepared.teeth_colour, device)
        band = torch.minimum(0.42 * g, 0.11 * w) * (1 - 0.4 * along.square().clamp(max=1))   # the incisors longest
        below = _below_contour(pixels, upper_lip, axis, middle)
        show = (1 - toward_corners) * smoothstep(0.02, 0.08, relative)[:, None, None]
        separations = 1 - TOOTH_GAPS * torch.cos(np.pi * along / TOOTH_SPAN).square().pow(8)
        shade = ((0.8 + 0.2 * (1 - below / band.clamp_min(0.5)).clamp(0, 1))
                 * (1 - BUCCAL_SHADOW * smoothstep(0.2, 1.0, along.abs())))
        interior = _blend(interior, teeth * (shade * separations)[:, None], (band - below + 0.5).clamp(0, 1) * show)
    frames[:, :, y0:y1, x0:x1] = _blend(region, interior, inside)
