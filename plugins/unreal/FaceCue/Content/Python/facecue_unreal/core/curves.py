"""Curves for Unreal: MetaHuman's ARKit curve names, key times, and key reduction.

Sequencer channels only take keys one call at a time, so transform tracks are first thinned
to the keys that matter (Ramer–Douglas–Peucker against linear interpolation); AnimSequence
curves go over in one bulk call each and keep every frame.
"""
from __future__ import annotations

import numpy as np


def metahuman_name(arkit_name: str) -> str:
    """ARKit ``jawOpen`` → ``JawOpen``, the curve names mh_arkit_mapping_pose reads."""
    return arkit_name[0].upper() + arkit_name[1:]


def key_times(frames: int, fps: float) -> np.ndarray:
    return np.arange(frames, dtype=np.float64) / fps


def reduce_keys(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the keys to keep so that linear interpolation between them stays within
    ``tolerance`` of every original value (first and last always kept)."""
    values = np.asarray(values, np.float64)
    count = len(values)
    if count <= 2:
        return np.arange(count)
    keep = np.zeros(count, bool)
    keep[[0, -1]] = True
    stack = [(0, count - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        inner = np.arange(first + 1, last)
        line = values[first] + (values[last] - values[first]) * (inner - first) / (last - first)
        errors = np.abs(values[first + 1:last] - line)
        worst = int(np.argmax(errors))
        if errors[worst] > tolerance:
            split = first + 1 + worst
            keep[split] = True
            stack.extend([(first, split), (split, last)])
    return np.flatnonzero(keep)
