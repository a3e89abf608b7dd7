"""The thin-plate spline's evaluation as one fused GPU kernel (Triton), for CUDA devices.

``thin_plate.evaluate`` on its own builds the (frames × queries × controls) kernel in memory,
block by block, and streams it through six elementwise passes and a float64 product: on a GPU
that is memory traffic, not arithmetic. Here each program takes a tile of one frame's queries,
walks the controls in registers and keeps only the two sums, nothing materialised. With the
memory traffic gone the arithmetic is cheap enough to do all in float64 (r² log r² included,
where the CPU path rounds the kernel to float32): the field is the exact spline to the last
float32 bit. Each output's sum runs over the controls in a fixed order, so a frame's field
never depends on the batch it is rendered in.

Triton comes with PyTorch's CUDA builds; where it is missing (CPU builds) ``available()``
is False and the caller keeps its own path.
"""
from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError:          # PyTorch's CPU builds come without Triton
    triton = None

QUERY_TILE = 128         # queries per program
CONTROL_TILE = 32        # controls per step of its loop

if triton is not None:
    @triton.jit
    def evaluate_tile(queries, targets, coefficients, out, query_count, nearest, control_count: tl.constexpr,
                      QUERY_TILE: tl.constexpr, CONTROL_TILE: tl.constexpr):
        frame = tl.program_id(1).to(tl.int64)
        q = tl.program_id(0) * QUERY_TILE + tl.arange(0, QUERY_TILE)
        in_range = q < query_count
        qx = tl.load(queries + 2 * q, mask=in_range, other=0.0)
        qy = tl.load(queries + 2 * q + 1, mask=in_range, other=0.0)
        frame_targets = targets + frame * control_count * 2
        frame_coefficients = coefficients + frame * (control_count + 3) * 2
        qx64, qy64 = qx.to(tl.float64), qy.to(tl.float64)
        sum_x = tl.zeros((QUERY_TILE,), dtype=tl.float64)
        sum_y = tl.zeros((QUERY_TILE,), dtype=tl.float64)
        for first in range(0, control_count, CONTROL_TILE):
            c = first + tl.arange(0, CONTROL_TILE)
            present = c < control_count
            cx = tl.load(frame_targets + 2 * c, mask=present, other=0.0)
            cy = tl.load(frame_targets + 2 * c + 1, mask=present, other=0.0)
            wx = tl.load(frame_coefficients + 2 * c, mask=present, other=0.0)      # 0: absent controls add nothing
            wy = tl.load(frame_coefficients + 2 * c + 1, mask=present, other=0.0)
            dx = qx64[:, None] - cx.to(tl.float64)[None, :]
            dy = qy64[:, None] - cy.to(tl.float64)[None, :]
            squared = tl.maximum(dx * dx + dy * dy, nearest)
            kernel = squared * tl.log(squared)
            sum_x += tl.sum(kernel * wx[None, :], axis=1)
            sum_y += tl.sum(kernel * wy[None, :], axis=1)
        affine = frame_coefficients + 2 * control_count          # rows: constant, x, y
        x = sum_x + tl.load(affine) + qx64 * tl.load(affine + 2) + qy64 * tl.load(affine + 4)
        y = sum_y + tl.load(affine + 1) + qx64 * tl.load(affine + 3) + qy64 * tl.load(affine + 5)
        row = out + frame * query_count * 2
        tl.store(row + 2 * q, x.to(tl.float32), mask=in_range)
        tl.store(row + 2 * q + 1, y.to(tl.float32), mask=in_range)


def available() -> bool:
    return triton is not None


def evaluate(coefficients: torch.Tensor, targets: torch.Tensor, queries: torch.Tensor,
             nearest: float) -> torch.Tensor:
    """As ``thin_plate.evaluate``: coefficients (F, N + 3, 2) float64, targets (F, N, 2) and
    queries (Q, 2) float32 on one CUDA device → (F, Q, 2) float32."""
    frames, count, _ = targets.shape
    out = torch.empty(frames, queries.shape[0], 2, dtype=torch.float32, device=queries.device)   # what the kernel stores
    if frames == 0 or queries.shape[0] == 0:
        return out
    grid = (triton.cdiv(queries.shape[0], QUERY_TILE), frames)
    evaluate_tile[grid](queries.float().contiguous(), targets.float().contiguous(),
                        coefficients.double().contiguous(), out, queries.shape[0], nearest, count,
                        QUERY_TILE=QUERY_TILE, CONTROL_TILE=CONTROL_TILE)
    return out
