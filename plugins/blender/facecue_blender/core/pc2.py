"""PC2 point caches (the format of Blender's Mesh Cache modifier and 3ds Max's Point Cache 2).

Layout, little-endian: char[12] "POINTCACHE2\\0", int32 version (1), int32 points,
float32 start frame, float32 sample rate (frames between samples), int32 samples; then
samples × points × (x, y, z) float32.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SIGNATURE = b"POINTCACHE2\0"
HEADER = struct.Struct("<12siiffi")


def write(path: str | Path, points: np.ndarray, start_frame: float = 0.0, sample_rate: float = 1.0) -> Path:
    """Write (samples, points, 3) positions; one write of the whole array."""
    data = np.ascontiguousarray(points, dtype="<f4")
    if data.ndim != 3 or data.shape[2] != 3:
        raise ValueError(f"PC2 needs (samples, points, 3) positions, got {data.shape}")
    path = Path(path)
    with open(path, "wb") as fh:
        fh.write(HEADER.pack(SIGNATURE, 1, data.shape[1], float(start_frame), float(sample_rate), data.shape[0]))
        data.tofile(fh)
    return path


def read(path: str | Path) -> tuple[dict, np.ndarray]:
    raw = Path(path).read_bytes()
    signature, version, count, start, rate, samples = HEADER.unpack_from(raw)
    if signature != SIGNATURE:
        raise ValueError(f"'{path}' is not a PC2 file")
    points = np.frombuffer(raw, "<f4", offset=HEADER.size).reshape(samples, count, 3)
    return {"version": version, "points": count, "start_frame": start, "sample_rate": rate, "samples": samples}, points
