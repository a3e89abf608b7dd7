"""The lips carried as bands of their own, not by the smooth warp.

The thin-plate warp is one smooth map. Where the photo's mouth is open and the take's lips
meet, it can only squeeze the photo's teeth into a strip between the lips, and that strip
shows. Here each lip is mapped quad by quad between its outer and inner contours (bilinear
inside each quad), from the take's lips to the photo's: a lip shows its own texture wherever
it goes, and the photo's mouth opening is never sampled between lips that meet.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import topology as topo
from . import fused_bands
from .layers import PARTED, SEALED
from .shapes import pixel_centres, smoothstep
from .warp import lips_closing, relative_gap

# (outer contour, inner contour) of each lip, corner to corner, point k of one facing point k of the other.
LIPS = (
    (topo.LIP_UPPER_OUTER, topo.LIP_UPPER_INNER),
    ((topo.MOUTH_CORNER_RIGHT,) + topo.LIP_LOWER_OUTER + (topo.MOUTH_CORNER_LEFT,), topo.LIP_LOWER_INNER_WITH_CORNERS),
)
FEATHER = 0.3          # of a lip's thickness outside its outer contour, over which the band gives way to
                       # the warp: the band draws the whole lip (blended with the warp inside the lip, lips
                       # closing over an open mouth showed the photo's lip edge a second time beside them)
SOURCE_DEPTH = 0.65    # of the photo's lip thickness sampled when lips meet over the photo's open mouth:
                       # its inner edge borders the teeth, and MediaPipe's inner contour often lies
                       # a little inside them; sampled, that edge drew a dashed dark seam that read
                       # as lips 2–3 % of the mouth's width apart (0.92 closed 0.83 and 0.68 of the
                       # bilabials read back on the two smiles with teeth; 0.65: 0.96 and 0.96)
END_FEATHER = 0.15     # of a quad's length past the mouth corner over which the band lets go


def _beyond(t: torch.Tensor) -> torch.Tensor:
    """How far t lies outside [0, 1]."""
    return (-t).clamp_min(0) + (t - 1).clamp_min(0)


def _outside(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """How far (u, v) lies outside the unit square, summed over both axes."""
    return _beyond(u) + _beyond(v)


def inverse_bilinear(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                     d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(u, v) with p = (1-u)(1-v)·a + u(1-v)·b + u·v·c + (1-u)·v·d, for broadcastable points (…, 2).

    Of the quadratic's two roots, the one nearer the unit square; NaN where neither is real
    (such a pixel lies far from the quad: the parabola's vertex would put it inside)."""
    # Worked per coordinate so the per-pixel planes stay contiguous, and in place where a
    # plane is not needed again: the same arithmetic as with (…, 2) vectors (cross(x, y) =
    # x₀y₁ − x₁y₀), bit for bit, at about half the cost.
    e, f, g = b - a, d - a, a - b + c - d
    (ex, ey), (fx, fy), (gx, gy) = ((t[..., 0], t[..., 1]) for t in (e, f, g))
    hx, hy = p[..., 0] - a[..., 0], p[..., 1] - a[..., 1]
    k2 = gx * fy - gy * fx
    k1 = (hx * gy).sub_(hy * gx).add_(ex * fy - ey * fx)
    k0 = (hx * ey).sub_(hy * ex)
    flat = k2.abs() < 1e-9 * (k1.abs() + 1e-12)
    discriminant = k1.square().sub_((4 * k0).mul_(k2))
    root = discriminant.clamp_min(0).sqrt_()
    twice_k2 = 2 * torch.where(flat, torch.ones_like(k2), k2)
    linear = -k0 / torch.where(k1.abs() < 1e-12, torch.full_like(k1, 1e-12), k1)
    minus_k1 = -k1
    roots = []
    for v in ((minus_k1 - root) / twice_k2, (minus_k1 + root) / twice_k2):
        v = torch.where(flat, linear, v)
        edge_x, edge_y = ex + gx * v, ey + gy * v
        along = (hx - fx * v).mul_(edge_x).add_((hy - fy * v).mul_(edge_y))
        roots.append((along.div_((edge_x * edge_x).add_(edge_y * edge_y).clamp_min_(1e-12)), v))
    (u1, v1), (u2, v2) = roots
    first = _outside(u1, v1) <= _outside(u2, v2)
    u, v = torch.where(first, u1, u2), torch.where(first, v1, v2)
    unsolved = (discriminant < 0) & ~flat
    return u.masked_fill(unsolved, float("nan")), v.masked_fill(unsolved, float("nan"))


def _band(pixels: torch.Tensor, outer: torch.Tensor, inner: torch.Tensor):
    """A lip's quad coordinates at each pixel: (quad index, u, v, how far outside) of its best quad.

    pixels (F, h, w, 2); outer, inner (F, K, 2) → each (F, h, w)."""
    if pixels.is_cuda and fused_bands.available():
        return fused_bands.band(pixels, outer, inner)
    corners = [q[:, None, None] for q in (outer[:, :-1], outer[:, 1:], inner[:, 1:], inner[:, :-1])]
    u, v = inverse_bilinear(pixels[..., None, :], *corners)                    # (F, h, w, K-1)
    # Pixels between the lips lie past the inner contour of both; they count as inside their quad.
    miss = _beyond(u) + (-v).clamp_min(0) + 0.5 * (v - 1).clamp_min(0)
    miss = torch.nan_to_num(miss, nan=1e9)
    best = miss.argmin(-1, keepdim=True)
    pick = lambda t: t.gather(-1, best)[..., 0]          # noqa: E731
    return best[..., 0], pick(u), pick(v), pick(miss)


def _forward(points: torch.Tensor, quad: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
             outer: tuple[int, ...], inner: tuple[int, ...]) -> torch.Tensor:
    """Photo px of (quad, u, v) on the photo's own lip; points (478, 2)."""
    o, i = points[list(outer)], points[list(inner)]
    a, b, c, d = o[:-1][quad], o[1:][quad], i[1:][quad], i[:-1][quad]
    u, v = u[..., None], v[..., None]
    return (1 - u) * (1 - v) * a + u * (1 - v) * b + u * v * c + (1 - u) * v * d


def _depth_into(v: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Where on the photo's lip (0 outer contour … 1 inner) a take's lip position v shows:
    scaled by ``depth`` inside the lip, carried on unscaled outside its outer contour."""
    return torch.where(v < 0, v, v.clamp(max=1) * depth)


def lip_field(pixels: torch.Tensor, points: torch.Tensor, photo_landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Photo px (F, h, w, 2) each output pixel shows on the lips, and how much the band
    replaces the warp there (F, h, w) in [0, 1].

    pixels (F, h, w, 2) and points (F, 478, 2) in output px; photo_landmarks (478, 2) in photo px.
    With the take's mouth as the photo's, the bands show the photo as it is."""
    readings = [_band(pixels, points[:, list(outer)], points[:, list(inner)]) for outer, inner in LIPS]
    (quad_up, u_up, v_up, miss_up), (quad_low, u_low, v_low, miss_low) = readings
    # A pixel past one lip's inner contour is on the other lip's side; past both, it is between
    # the lips and takes the nearer one's inner edge.
    past_up, past_low = v_up > 1, v_low > 1
    upper = torch.where(past_up & past_low, v_up <= v_low,
                        torch.where(past_up != past_low, ~past_up, miss_up <= miss_low))
    gap = relative_gap(points)
    depth = (1 - (1 - SOURCE_DEPTH) * lips_closing(gap, float(relative_gap(photo_landmarks))))[:, None, None]
    source = torch.where(upper[..., None],
                         _forward(photo_landmarks, quad_up, u_up, _depth_into(v_up, depth), *LIPS[0]),
                         _forward(photo_landmarks, quad_low, u_low, _depth_into(v_low, depth), *LIPS[1]))
    u, v = torch.where(upper, u_up, u_low), torch.where(upper, v_up, v_low)
    past_end = _beyond(u)
    # Between the lips the mouth layer draws once they part; until then the lips' inner edges
    # fill it, not the photo's teeth squeezed into a strip.
    between = 1 - smoothstep(SEALED, PARTED, gap)[:, None, None]
    weight = smoothstep(-FEATHER, 0.0, v) * (1 - smoothstep(0.0, END_FEATHER, past_end)) * torch.where(v > 1, between, 1)
    return torch.nan_to_num(source), torch.nan_to_num(weight, nan=0.0)


def carry_lips(field: torch.Tensor, box: tuple[int, int, int, int], points: torch.Tensor,
               photo_landmarks: torch.Tensor) -> None:
    """Replace the warp ``field`` (F, h, w, 2) of output ``box`` by the lip bands, in place,
    over the box around the batch's lips; points (F, 478, 2) in output px."""
    lips = points[:, [i for outer, inner in LIPS for i in outer + inner]]
    thickness = max(float((points[:, list(outer)] - points[:, list(inner)]).norm(dim=-1).max()) for outer, inner in LIPS)
    margin = 2 + int(np.ceil(FEATHER * thickness))         # the band reaches past the outer contours
    x0, y0, x1, y1 = box
    lx0, ly0 = (int(v) - margin for v in lips.reshape(-1, 2).amin(0).floor().tolist())
    lx1, ly1 = (int(v) + margin for v in lips.reshape(-1, 2).amax(0).ceil().tolist())
    lx0, ly0, lx1, ly1 = max(lx0, x0), max(ly0, y0), min(lx1, x1), min(ly1, y1)
    if lx1 <= lx0 or ly1 <= ly0:
        return
    corner = torch.tensor([lx0, ly0], dtype=points.dtype, device=points.device)
    pixels = (pixel_centres((ly1 - ly0, lx1 - lx0), points.device) + corner).expand(len(points), -1, -1, -1)
    source, weight = lip_field(pixels, points, photo_landmarks)
    region = field[:, ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0]
    region.copy_(torch.lerp(region, source.to(region.dtype), weight[..., None].to(region.dtype)))
