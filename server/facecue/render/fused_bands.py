"""A lip's quad coordinates at every pixel as one fused GPU kernel (Triton), for CUDA devices.

``lip_bands._band`` inverts every quad of a lip at every pixel of the lips' box, as (frames ×
pixels × quads) planes through some forty elementwise kernels, then picks each pixel's best
quad. Here one program takes a tile of one frame's pixels and walks the quads in registers,
keeping the best so far: the same arithmetic in float32 and the same choice (the first quad
of least miss), nothing materialised.

Triton comes with PyTorch's CUDA builds; where it is missing ``available()`` is False and
the caller keeps its own path.
"""
from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError:          # PyTorch's CPU builds come without Triton
    triton = None

PIXEL_TILE = 256

if triton is not None:
    @triton.jit
    def _beyond(t):
        """How far t lies outside [0, 1]; NaN stays NaN."""
        return (tl.maximum(-t, 0.0, propagate_nan=tl.PropagateNan.ALL)
                + tl.maximum(t - 1.0, 0.0, propagate_nan=tl.PropagateNan.ALL))

    @triton.jit
    def _solve(hx, hy, ex, ey, fx, fy, gx, gy, k1, root, twice_k2, linear, flat, sign: tl.constexpr):
        v = tl.where(flat, linear, (-k1 + sign * root) / twice_k2)
        edge_x, edge_y = ex + gx * v, ey + gy * v
        along = (hx - fx * v) * edge_x + (hy - fy * v) * edge_y
        return along / tl.maximum(edge_x * edge_x + edge_y * edge_y, 1e-12), v

    @triton.jit
    def band_tile(pixels, pixel_frame_stride, outer, inner, quad_out, u_out, v_out, miss_out, pixel_count,
                  QUADS: tl.constexpr, PIXEL_TILE: tl.constexpr):
        frame = tl.program_id(1).to(tl.int64)
        i = tl.program_id(0) * PIXEL_TILE + tl.arange(0, PIXEL_TILE)
        in_range = i < pixel_count
        px = tl.load(pixels + frame * pixel_frame_stride + 2 * i, mask=in_range, other=0.0)
        py = tl.load(pixels + frame * pixel_frame_stride + 2 * i + 1, mask=in_range, other=0.0)
        o = outer + frame * (QUADS + 1) * 2
        n = inner + frame * (QUADS + 1) * 2
        best_miss = tl.full((PIXEL_TILE,), float("inf"), tl.float32)
        best_quad = tl.zeros((PIXEL_TILE,), tl.int64)
        best_u = tl.zeros((PIXEL_TILE,), tl.float32)
        best_v = tl.zeros((PIXEL_TILE,), tl.float32)
        for k in tl.static_range(QUADS):
            # Corners a, b (outer k, k+1), c, d (inner k+1, k); as lip_bands.inverse_bilinear.
            ax, ay = tl.load(o + 2 * k), tl.load(o + 2 * k + 1)
            bx, by = tl.load(o + 2 * k + 2), tl.load(o + 2 * k + 3)
            cx, cy = tl.load(n + 2 * k + 2), tl.load(n + 2 * k + 3)
            dx, dy = tl.load(n + 2 * k), tl.load(n + 2 * k + 1)
            ex, ey, fx, fy = bx - ax, by - ay, dx - ax, dy - ay
            gx, gy = ax - bx + cx - dx, ay - by + cy - dy
            hx, hy = px - ax, py - ay
            k2 = gx * fy - gy * fx
            k1 = (hx * gy - hy * gx) + (ex * fy - ey * fx)
            k0 = hx * ey - hy * ex
            flat = tl.abs(k2) < 1e-9 * (tl.abs(k1) + 1e-12)
            discriminant = k1 * k1 - 4.0 * k0 * k2
            root = tl.sqrt(tl.maximum(discriminant, 0.0))
            twice_k2 = 2.0 * tl.where(flat, 1.0, k2)
            linear = -k0 / tl.where(tl.abs(k1) < 1e-12, 1e-12, k1)
            u1, v1 = _solve(hx, hy, ex, ey, fx, fy, gx, gy, k1, root, twice_k2, linear, flat, -1.0)
            u2, v2 = _solve(hx, hy, ex, ey, fx, fy, gx, gy, k1, root, twice_k2, linear, flat, 1.0)
            first = (_beyond(u1) + _beyond(v1)) <= (_beyond(u2) + _beyond(v2))
            u, v = tl.where(first, u1, u2), tl.where(first, v1, v2)
            unsolved = (discriminant < 0) & (flat == 0)
            u = tl.where(unsolved, float("nan"), u)
            v = tl.where(unsolved, float("nan"), v)
            # Pixels between the lips lie past both inner contours; they count as inside their quad.
            miss = _beyond(u) + tl.maximum(-v, 0.0) + 0.5 * tl.maximum(v - 1.0, 0.0)
            miss = tl.where(unsolved | (miss != miss), 1e9, miss)
            better = miss < best_miss                    # strict: the first quad wins a tie
            best_miss = tl.where(better, miss, best_miss)
            best_quad = tl.where(better, k, best_quad)
            best_u = tl.where(better, u, best_u)
            best_v = tl.where(better, v, best_v)
        at = frame * pixel_count + i
        tl.store(quad_out + at, best_quad, mask=in_range)
        tl.store(u_out + at, best_u, mask=in_range)
        tl.store(v_out + at, best_v, mask=in_range)
        tl.store(miss_out + at, best_miss, mask=in_range)


def available() -> bool:
    return triton is not None


def band(pixels: torch.Tensor, outer: torch.Tensor, inner: torch.Tensor):
    """As ``lip_bands._band``: pixels (F, h, w, 2) (frames may share one grid), outer and
    inner (F, K, 2) float32 on one CUDA device → quad (int64), u, v, miss, each (F, h, w)."""
    frames, height, width, _ = pixels.shape
    count = height * width
    grid_pixels = pixels if pixels[0].is_contiguous() else pixels.contiguous()
    shape = (frames, height, width)
    quad = torch.empty(shape, dtype=torch.int64, device=pixels.device)
    u, v, miss = (torch.empty(shape, dtype=torch.float32, device=pixels.device) for _ in range(3))
    if frames == 0 or count == 0:
        return quad, u, v, miss
    grid = (triton.cdiv(count, PIXEL_TILE), frames)
    band_tile[grid](grid_pixels, grid_pixels.stride(0), outer.float().contiguous(), inner.float().contiguous(),
                    quad, u, v, miss, count, QUADS=outer.shape[1] - 1, PIXEL_TILE=PIXEL_TILE)
    return quad, u, v, miss
