"""ARKit-52 weights from landmarks: bounded least squares over this face's ARKit basis.

For head-local landmarks L (F, 478, 3) of a face whose neutral is N, find w ∈ [0, 1]^52 per
frame minimising ‖Σ_k w_k B_k − (L − N)‖² + λ‖w‖² over the 468 mesh points, where B is the
displacement basis of ``arkit_basis`` built on N. Solved for every frame at once by
accelerated projected gradient (FISTA) on the 52×52 normal equations — one small matrix
product per iteration for the whole take.

Shapes the mesh cannot show are set otherwise: the eight eyeLook shapes move only the irises,
so they come from the gaze angles (as the procedural backend sets them); tongueOut moves no
landmark and stays 0. The small ridge λ picks one side of mirror pairs (jawLeft/jawRight)
instead of a cancelling mixture.
"""
from __future__ import annotations

import numpy as np

from . import topology as topo
from .arkit_basis import LOOK_SHAPES, build_basis, look_weights
from .names import ARKIT_INDEX, ARKIT_NAMES

RIDGE = 1e-4                 # × the basis' mean squared norm
ITERATIONS = 600
UNOBSERVABLE = {"tongueOut"} | {name for names in LOOK_SHAPES.values() for name in names}
SOLVED = np.array([i for i, name in enumerate(ARKIT_NAMES) if name not in UNOBSERVABLE])


def solve(local: np.ndarray, neutral: np.ndarray, gaze_angles: np.ndarray | None = None,
          basis: np.ndarray | None = None, iterations: int = ITERATIONS) -> np.ndarray:
    """(F, 478, 3) head-local cm landmarks → (F, 52) float32 ARKit weights in [0, 1]."""
    mesh = np.arange(topo.MESH_COUNT)
    offsets = np.asarray(local, np.float64)[:, mesh] - neutral[mesh]
    return solve_offsets(offsets, mesh, neutral, gaze_angles, basis, iterations)


def solve_offsets(offsets: np.ndarray, points: np.ndarray, neutral: np.ndarray,
                  gaze_angles: np.ndarray | None = None, basis: np.ndarray | None = None,
                  iterations: int = ITERATIONS) -> np.ndarray:
    """(F, P, 3) displacements of landmarks ``points`` from ``neutral`` → (F, 52) weights."""
    basis = build_basis(neutral) if basis is None else basis
    design = basis[SOLVED][:, points].reshape(len(SOLVED), -1).astype(np.float64)     # (K, 3P)
    offsets = np.asarray(offsets, np.float64).reshape(len(offsets), -1)
    gram = design @ design.T
    gram += RIDGE * np.trace(gram) / len(gram) * np.eye(len(gram))
    target = offsets @ design.T                                                        # (F, K)
    step = np.float32(1.0 / np.linalg.eigvalsh(gram)[-1])
    # Set up in float64, iterated in float32: 3× faster, and weights need only ~1e-4.
    gram, target = gram.astype(np.float32), target.astype(np.float32)
    weights = momentum = np.zeros_like(target)
    t = 1.0
    for _ in range(iterations):                 # iterations over the whole take, not per frame
        updated = np.clip(momentum - step * (momentum @ gram - target), 0.0, 1.0)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        momentum = updated + (t - 1) / t_next * (updated - weights)
        weights, t = updated, t_next
    out = np.zeros((len(offsets), len(ARKIT_NAMES)), np.float32)
    out[:, SOLVED] = weights
    if gaze_angles is not None:
        for k, eye in enumerate(("left", "right")):
            out[:, [ARKIT_INDEX[n] for n in LOOK_SHAPES[eye]]] = look_weights(np.asarray(gaze_angles)[:, k], eye)
    return out
