"""The photo as the imported camera sees it.

The take's camera sits at the origin looking down +y (Blender axes), its principal point at
the photo's centre. The take projects the head with weak perspective (every point at the
head's distance); a real camera sees the face, which stands a few cm in front of the head's
origin, larger. So the imported camera's focal length is the photo's scaled by the face's
mean distance over the head's: through it the face mesh covers the face in the photo.

A photo pixel (u, v) — x right, y down, 0 at the top-left edge — lies, at a distance
``depth`` in front of the camera, at
((u − W/2)·depth/f, depth, −(v − H/2)·depth/f) with f the focal length in pixels. Planes
built from these points fill the camera's view exactly, and the face mesh, placed by the
head pose, lands on the face in the photo.
"""
from __future__ import annotations

import numpy as np

BACKDROP_BEHIND_HEAD = 1.5      # the photo backdrop's distance ÷ the head's (the face stays in front)
FRAMES_IN_FRONT = 0.995         # rendered frames lie just in front of the backdrop, never inside it


def photo_points(pixels: np.ndarray, image_size: tuple[int, int], focal_px: float, depth: float) -> np.ndarray:
    """(N, 2) photo pixels → (N, 3) Blender metres at ``depth`` in front of the camera."""
    width, height = image_size
    pixels = np.asarray(pixels, np.float64)
    out = np.empty((len(pixels), 3))
    out[:, 0] = (pixels[:, 0] - width / 2) * depth / focal_px
    out[:, 1] = depth
    out[:, 2] = -(pixels[:, 1] - height / 2) * depth / focal_px
    return out.astype(np.float32)


def rectangle(x0: float, y0: float, x1: float, y1: float, image_size, focal_px: float, depth: float) -> np.ndarray:
    """(4, 3) corners of the photo rectangle [x0, x1] × [y0, y1] px, counter-clockwise from the
    bottom-left as seen from the camera (so UVs (0,0) (1,0) (1,1) (0,1) map the image upright)."""
    corners = np.array([[x0, y1], [x1, y1], [x1, y0], [x0, y0]], np.float64)
    return photo_points(corners, image_size, focal_px, depth)


def texture_coords(landmarks_px: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(N, 2+) photo pixels → (N, 2) UVs on the photo (v up, as Blender's UVs run)."""
    width, height = image_size
    points = np.asarray(landmarks_px, np.float64)[:, :2]
    return np.stack([points[:, 0] / width, 1.0 - points[:, 1] / height], -1).astype(np.float32)


def view_focal_px(focal_px: float, pose: np.ndarray, landmarks_local: np.ndarray) -> float:
    """The focal length (px) at which a perspective camera shows the face of the take's first
    frame at the size the take's weak perspective gives it. ``pose``: (6,) take pose; points in cm."""
    from . import axes
    turned = np.asarray(landmarks_local, np.float64) @ axes.rotation_matrices(np.asarray(pose[None, :3]))[0].T
    head = -float(pose[5])                  # the camera looks down −z: distance is −tz
    return float(focal_px) * float(np.mean(head - turned[:, 2])) / head


def backdrop_depth(head_depths: np.ndarray) -> float:
    """How far in front of the camera the photo backdrop stands: well behind the head at its
    nearest and farthest."""
    depths = np.asarray(head_depths, np.float64)
    return float(max(BACKDROP_BEHIND_HEAD * np.median(depths), depths.max() + 0.25))


def frames_rectangle(framing: dict) -> tuple[float, float, float, float]:
    """The photo pixels a take's rendered frames show (its render.framing record)."""
    x0, y0 = framing["origin_px"]
    scale = float(framing["scale"])
    return x0, y0, x0 + framing["width"] / scale, y0 + framing["height"] / scale
