"""Anti-aliased coverage of batched polygons, discs and polylines on pixel grids (torch).

Pixels are given as centres (F, H, W, 2) in output pixels; shapes per frame. Coverage is
the signed distance to the outline clamped to a one-pixel ramp, so edges are smooth.
"""
from __future__ import annotations

import torch


def pixel_centres(shape: tuple[int, int], device) -> torch.Tensor:
    """(1, H, W, 2) x, y of pixel centres (0.5 is the centre of the first pixel)."""
    ys, xs = torch.meshgrid(torch.arange(shape[0], device=device), torch.arange(shape[1], device=device),
                            indexing="ij")
    return torch.stack([xs, ys], -1).float()[None] + 0.5


def _segment_distance(points: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """Distance from each pixel to the nearest of the segments (F, E, 2) → (F, H, W).

    Worked per coordinate on (F, H, W, E) planes, and the root taken after the minimum:
    the pixel × edge tensors are the renderer's largest after the warp's kernel."""
    ax, ay = starts[:, None, None, :, 0], starts[:, None, None, :, 1]
    abx, aby = (ends - starts)[:, None, None, :, 0], (ends - starts)[:, None, None, :, 1]
    dx, dy = points[..., 0, None] - ax, points[..., 1, None] - ay          # (F, H, W, E)
    inverse_length = 1 / (abx.square() + aby.square()).clamp_min(1e-9)
    t = ((dx * abx).add_(dy * aby)).mul_(inverse_length).clamp_(0, 1)
    return (dx.sub_(t * abx).square_().add_(dy.sub_(t * aby).square_())).amin(-1).sqrt_()


def _inside(points: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """Even-odd rule: does a rightward ray from the pixel cross an odd number of edges?"""
    px, py = points[..., None, 0], points[..., None, 1]
    ax, ay = starts[:, None, None, :, 0], starts[:, None, None, :, 1]
    bx, by = ends[:, None, None, :, 0], ends[:, None, None, :, 1]
    straddles = (ay > py) != (by > py)
    crossing_x = ax + (py - ay) * (bx - ax) / torch.where((by - ay).abs() < 1e-9, torch.full_like(by, 1e-9), by - ay)
    return ((straddles & (px < crossing_x)).sum(-1) % 2).bool()


def polygon_coverage(points: torch.Tensor, polygon: torch.Tensor, grow: float = 0.0) -> torch.Tensor:
    """Coverage in [0, 1] of closed polygons (F, V, 2) at pixel centres (F, H, W, 2), their
    outline pushed out by ``grow`` pixels."""
    starts, ends = polygon, torch.roll(polygon, -1, dims=1)
    distance = _segment_distance(points, starts, ends)
    signed = torch.where(_inside(points, starts, ends), distance, -distance)
    return (signed + 0.5 + grow).clamp(0, 1)


def polyline_distance(points: torch.Tensor, polyline: torch.Tensor) -> torch.Tensor:
    """Distance to open polylines (F, V, 2) at pixel centres (F, H, W, 2)."""
    return _segment_distance(points, polyline[:, :-1], polyline[:, 1:])


def disc_coverage(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Coverage of discs with centres (F, 2) and radii (F,) at pixel centres (F, H, W, 2)."""
    distance = (points - centres[:, None, None]).norm(dim=-1)
    return (radii[:, None, None] - distance + 0.5).clamp(0, 1)


def smoothstep(edge0: float | torch.Tensor, edge1: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = ((x - edge0) / (edge1 - edge0)).clamp(0, 1)
    return t * t * (3 - 2 * t)
