"""Build ``face_topology.npz`` from MediaPipe (a development step; the result is shipped).

Clients (Blender, Unreal) need the mesh topology without MediaPipe installed, so the
triangles and region index sets are extracted once here and committed as data.

Run: ``python -m facecue.data.build_topology``
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def canonical_vertices() -> np.ndarray:
    """MediaPipe's canonical face model (cm; x to the viewer's right, y up, z toward the camera).

    ``canonical_vertices.txt`` holds the midline and one side (vertices 0..247); vertices
    248..467 are the mirror images (x → -x) of the off-midline ones, in the same order.
    """
    half = np.loadtxt(HERE / "canonical_vertices.txt", dtype=np.float64)
    side = half[half[:, 0] != 0.0] * np.array([-1.0, 1.0, 1.0])
    full = np.concatenate([half, side])
    assert full.shape == (468, 3), full.shape
    return full


def _indices(connections) -> np.ndarray:
    return np.array(sorted({i for edge in connections for i in edge}), dtype=np.int16)


def _triangles(edges) -> np.ndarray:
    """Faces of the tessellation: 3-cliques of the edge graph, oriented toward the camera."""
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    faces = {tuple(sorted((a, b, c)))
             for a in neighbours for b in neighbours[a] if b > a
             for c in neighbours[a] & neighbours[b] if c > b}
    return np.array(sorted(faces), dtype=np.int32)


def _orient(triangles: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    normal_z = np.cross(b - a, c - a)[:, 2]
    flipped = triangles[:, [0, 2, 1]]
    return np.where((normal_z < 0)[:, None], flipped, triangles)


def main() -> None:
    from mediapipe.python.solutions import face_mesh_connections as fmc

    vertices = canonical_vertices()
    triangles = _orient(_triangles(fmc.FACEMESH_TESSELATION), vertices)
    groups = {
        "lips": _indices(fmc.FACEMESH_LIPS),
        "left_eye": _indices(fmc.FACEMESH_LEFT_EYE),
        "right_eye": _indices(fmc.FACEMESH_RIGHT_EYE),
        "left_iris": np.arange(473, 478, dtype=np.int16),
        "right_iris": np.arange(468, 473, dtype=np.int16),
        "left_brow": _indices(fmc.FACEMESH_LEFT_EYEBROW),
        "right_brow": _indices(fmc.FACEMESH_RIGHT_EYEBROW),
        "face_oval": _indices(fmc.FACEMESH_FACE_OVAL),
        "nose": _indices(fmc.FACEMESH_NOSE),
    }
    np.savez_compressed(HERE / "face_topology.npz", canonical=vertices.astype(np.float32),
                        triangles=triangles, **{f"group_{k}": v for k, v in groups.items()})
    sizes = {k: len(v) for k, v in groups.items()}
    print(f"{len(triangles)} triangles; groups {sizes}")


if __name__ == "__main__":
    main()
