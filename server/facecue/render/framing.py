"""Where the rendered frame sits in the photo: a fixed portrait crop, or the whole photo.

The crop is chosen once from the reference face and kept for the whole take, so the head
moves inside a steady frame as it would in front of a locked-off camera. Output pixels map
to photo pixels by ``photo = origin + output / scale`` (continuous coordinates, 0 at the
top-left edge, as MediaPipe's landmarks use).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import topology as topo
from ..config import RenderSize

PORTRAIT_SPAN = 2.0          # crop edge ÷ the face's larger extent: head, hair and some neck
PORTRAIT_DROP = 0.08         # shift the crop down by this much of the face, towards the neck


@dataclass(frozen=True)
class Framing:
    origin: tuple[float, float]     # photo px at the output's top-left edge
    scale: float                    # output px per photo px
    width: int
    height: int

    def to_output(self, points: np.ndarray) -> np.ndarray:
        """Photo pixel (x, y[, z]) → output pixel; z is scaled like x."""
        out = np.asarray(points, np.float32).copy()
        out[..., 0] = (out[..., 0] - self.origin[0]) * self.scale
        out[..., 1] = (out[..., 1] - self.origin[1]) * self.scale
        if out.shape[-1] > 2:
            out[..., 2:] *= self.scale
        return out

    def as_manifest(self) -> dict:
        return {"origin_px": [round(self.origin[0], 4), round(self.origin[1], 4)],
                "scale": round(self.scale, 8), "width": self.width, "height": self.height,
                "mapping": "output = (landmarks_image.xy - origin_px) * scale"}


def frame_portrait(landmarks: np.ndarray, photo_width: int, photo_height: int, size: RenderSize) -> Framing:
    """The output framing for a reference face's (478, 2+) photo landmarks."""
    if size.mode == "full":
        width, height = photo_width - photo_width % 2, photo_height - photo_height % 2
        return Framing(origin=(0.0, 0.0), scale=1.0, width=width, height=height)
    oval = landmarks[topo.group("face_oval"), :2]
    low, high = oval.min(0), oval.max(0)
    extent = float(np.max(high - low))
    side = min(PORTRAIT_SPAN * extent, photo_width, photo_height)
    centre = (low + high) / 2 + np.array([0.0, PORTRAIT_DROP * extent])
    x0 = float(np.clip(centre[0] - side / 2, 0, photo_width - side))
    y0 = float(np.clip(centre[1] - side / 2, 0, photo_height - side))
    if size.mode == "crop":
        edge = int(side) - int(side) % 2
        return Framing(origin=(x0, y0), scale=edge / side, width=edge, height=edge)
    return Framing(origin=(x0, y0), scale=size.edge / side, width=size.edge, height=size.edge)
