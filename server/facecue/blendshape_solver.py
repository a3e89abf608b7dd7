"""ARKit-52 weights from landmarks: bounded least squares over this face's ARKit basis.

For head-local landmarks L (F, 478, 3) of a face whose neutral is N, find w ∈ [0, 1]^52 per
frame minimising ‖Σ_k w_k B_k − (L − N)‖² + λ‖w‖² over the 468 mesh points, where B is the
displacement basis of ``arkit_basis`` built on N. Solved for every frame at once by
accelerated projected gradient (FISTA) on the 52×52 normal equations — one small matrix
product per iteration for the whole take, or for many takes together on the GPU.

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
    import torch
    basis = build_basis(neutral) if basis is None else basis
    offsets = torch.as_tensor(np.asarray(offsets, np.float64).reshape(1, len(offsets), -1))
    out = solve_offsets_many(offsets, [basis], points, iterations)[0].numpy()
    if gaze_angles is not None:
        set_look_weights(out, gaze_angles)
    return out


def solve_offsets_many(offsets, bases: list[np.ndarray], points: np.ndarray, iterations: int = ITERATIONS):
    """Many takes in one solve, on the device their offsets are on: (B, F, 3P) torch displacements
    of ``points`` (take b from its face's basis ``bases[b]``) → (B, F, 52) float32 weights, the
    eyeLook shapes and tongueOut left at 0."""
    import torch
    device = offsets.device
    unique = {id(basis): basis for basis in bases}                 # takes of one face share its equations
    slot = {key: k for k, key in enumerate(unique)}
    design, gram, step = zip(*(_normal_equations(basis, points) for basis in unique.values()))
    take_slot = torch.as_tensor([slot[id(basis)] for basis in bases], device=device)
    design = torch.as_tensor(np.stack(design), device=device)[take_slot]                     # (B, K, 3P)
    target = torch.matmul(offsets.to(device, torch.float64), design.transpose(1, 2))       # (B, F, K)
    # Set up in float64, iterated in float32: 3× faster, and weights need only ~1e-4.
    # One step is momentum·(I − s·G) + s·target, clipped to [0, 1].
    step = torch.as_tensor(np.array(step), dtype=torch.float64, device=device)[take_slot, None, None]
    eye = torch.eye(len(SOLVED), dtype=torch.float64, device=device)
    descent = (eye - step * torch.as_tensor(np.stack(gram), device=device)[take_slot]).float()
    pull = (step * target).float()
    weights = momentum = torch.zeros_like(pull)
    t = 1.0
    for _ in range(iterations):                 # iterations over every frame of every take at once
        updated = torch.baddbmm(pull, momentum, descent).clamp_(0.0, 1.0)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        momentum = torch.add(updated, updated - weights, alpha=(t - 1) / t_next)
        weights, t = updated, t_next
    out = torch.zeros(*weights.shape[:2], len(ARKIT_NAMES), device=device)
    out[..., torch.as_tensor(SOLVED, device=device)] = weights
    return out


def _normal_equations(basis: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The design (K, 3P), its ridged gram (K, K) and the gradient step for one face's basis."""
    design = basis[SOLVED][:, points].reshape(len(SOLVED), -1).astype(np.float64)
    gram = design @ design.T
    gram += RIDGE * np.trace(gram) / len(gram) * np.eye(len(gram))
    return design, gram, float(1.0 / np.linalg.eigvalsh(gram)[-1])


def set_look_weights(weights: np.ndarray, gaze_angles: np.ndarray) -> None:
    """The eyeLook shapes of (F, 52) ``weights`` set, in place, from (F, 2, 2) gaze angles."""
    for k, eye in enumerate(("left", "right")):
        weights[:, [ARKIT_INDEX[n] for n in LOOK_SHAPES[eye]]] = look_weights(np.asarray(gaze_angles)[:, k], eye)
