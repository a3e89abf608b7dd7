"""Batched thin-plate-spline interpolation in torch: one small linear solve per frame.

Given control points ``targets`` (F, N, 2) and values (F, N, 2) there, the spline is the
smoothest 2-D field through them (with a little ``smoothing`` so coinciding points, e.g.
closed eyelids, stay solvable). Coordinates should be normalised to about unit scale.
"""
from __future__ import annotations

import torch

from . import fused_spline

# Elements of the (frames × queries × controls) kernel evaluated at once. An accelerator
# wants one large block (bounded for memory); a CPU is four times faster when a block stays
# in its caches than when the kernel streams through memory (bench/render.py --stages).
# The queries per block are fixed, so a frame's sums never depend on its batch's size.
ACCELERATOR_BLOCK_ELEMENTS = 24_000_000
CPU_BLOCK_ELEMENTS = 700_000
CPU_QUERY_BLOCK = 256


NEAREST = 1e-12        # squared distances are at least this, so r² log r² needs no guard of its own


def _kernel(squared_distance: torch.Tensor) -> torch.Tensor:
    return squared_distance.log().mul_(squared_distance)                   # r² log r²


def _squared_distances(queries: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
    """(F, Q, N) squared distances with one batched matmul (cheaper than cdist then squaring)."""
    cross = torch.baddbmm(controls.square().sum(-1)[:, None, :], queries, controls.transpose(1, 2), alpha=-2)
    return cross.add_(queries.square().sum(-1)[..., None]).clamp_min_(NEAREST)


def _affine_basis(points: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.ones_like(points[..., :1]), points], -1)


def fit(targets: torch.Tensor, values: torch.Tensor, smoothing: float = 1e-4) -> torch.Tensor:
    """Spline coefficients (F, N + 3, 2): kernel weights then the affine part.

    Solved in float64: the system is ill-conditioned enough that float32 answers depend on
    how frames are batched. Returned in float64 for ``evaluate``.
    """
    targets, values = targets.double(), values.double()
    frames, count, _ = targets.shape
    system = targets.new_zeros(frames, count + 3, count + 3)
    system[:, :count, :count] = _kernel(_squared_distances(targets, targets))
    system[:, :count, :count] += smoothing * torch.eye(count, dtype=targets.dtype, device=targets.device)
    basis = _affine_basis(targets)
    system[:, :count, count:] = basis
    system[:, count:, :count] = basis.transpose(1, 2)
    rhs = targets.new_zeros(frames, count + 3, values.shape[-1])
    rhs[:, :count] = values
    return torch.linalg.solve(system, rhs)


def evaluate(coefficients: torch.Tensor, targets: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """The fitted field at ``queries`` (Q, 2), shared by every frame → (F, Q, 2).

    The kernel is evaluated in the queries' dtype, but summed against the (float64) weights
    in float64: the weights are large and of both signs where control points nearly meet
    (sealed lips), and a float32 sum rounded differently with the batch's size — a frame
    rendered alone and in a batch differed by whole levels on textured pixels.
    """
    if queries.is_cuda and fused_spline.available():
        return fused_spline.evaluate(coefficients, targets, queries, NEAREST).to(queries.dtype)
    dtype = queries.dtype
    frames, count, _ = targets.shape
    out = queries.new_empty(frames, queries.shape[0], coefficients.shape[-1])
    on_cpu = queries.device.type == "cpu"
    budget = CPU_BLOCK_ELEMENTS if on_cpu else ACCELERATOR_BLOCK_ELEMENTS
    query_step = CPU_QUERY_BLOCK if on_cpu else queries.shape[0]
    frame_step = max(1, budget // max(1, min(query_step, queries.shape[0]) * count))
    affine = _affine_basis(queries.double())
    for start in range(0, frames, frame_step):        # blocks bound memory, not per-frame work
        part = slice(start, start + frame_step)
        weights, affine_part = coefficients[part, :count], coefficients[part, count:]
        for first in range(0, queries.shape[0], query_step):
            block = slice(first, first + query_step)
            distances = _squared_distances(queries[block].expand(weights.shape[0], -1, -1), targets[part])
            out[part, block] = torch.baddbmm(affine[block] @ affine_part, _kernel(distances).double(),
                                             weights).to(dtype)
    return out
