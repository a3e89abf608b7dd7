"""The renderer interface and the default photo-warping renderer.

    renderer = WarpRenderer()                       # CUDA when present, else CPU
    prepared = renderer.prepare(Portrait(rgb, reference), RenderSize.parse(512))
    frames = renderer.render(prepared, take.landmarks_image)   # (F, 512, 512, 3) uint8

A learned renderer can replace it behind the same three calls.
"""
from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..host_copy import to_numpy, to_numpy_later
from . import layers
from .lip_bands import carry_lips
from .framing import RenderSize, frame_portrait
from .portrait import Portrait, PreparedPortrait, prepare, source_grid
from .warp import FaceFrame, backward_field, field_box

GRID_CELLS = 96          # spline evaluations along the warped box's longer side


class Renderer(Protocol):
    name: str
    version: str

    def prepare(self, portrait: Portrait, size: RenderSize) -> PreparedPortrait: ...

    def render(self, prepared: PreparedPortrait, landmarks_image: np.ndarray) -> np.ndarray: ...

    def batches(self, prepared: PreparedPortrait, landmarks_image: np.ndarray,
                batch_frames: int | None = None) -> Iterator[np.ndarray]: ...


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class WarpRenderer:
    """Animates the reference photo itself: a mesh-driven spline warp plus crease, eye and mouth
    layers (``creases=False`` leaves the skin as the warp carries it)."""

    name = "warp"
    version = "1.6"          # 1.1: expression creases; 1.2: lids drawn closing over a held-open eye;
                             # 1.3: lips meeting over an open mouth sampled clear of its inner edge;
                             # 1.4: closing lids made of the skin above them, over the photo's lashes;
                             # drawn teeth hanging from the upper lip, lit like the photo's lips;
                             # the face's edge kept outside the cheek as the head turns
                             # 1.5: the mouth's drawn colours no more colourful than the photo
                             # 1.6: lips closing over an open mouth no longer fold the spline
                             # (their inner lips eased apart for it; the lip bands draw whole lips)

    def __init__(self, device: str | torch.device | None = None, grid_cells: int = GRID_CELLS,
                 creases: bool = True):
        self.device = torch.device(device) if device is not None else default_device()
        self.grid_cells = grid_cells
        self.creases = creases

    @property
    def batch_frames(self) -> int:
        """Frames per batch: large on a GPU, small enough on a CPU to stay in cache."""
        return 64 if self.device.type == "cuda" else 8

    def prepare(self, portrait: Portrait, size: RenderSize) -> PreparedPortrait:
        reference = portrait.reference
        framing = frame_portrait(reference.landmarks_image, reference.width, reference.height, size)
        with torch.no_grad():
            return prepare(portrait, framing, self.device)

    def render(self, prepared: PreparedPortrait, landmarks_image: np.ndarray) -> np.ndarray:
        """(F, 478, 2+) photo landmarks → (F, H, W, 3) uint8 frames."""
        return np.concatenate(list(self.batches(prepared, landmarks_image)), 0)

    def batches(self, prepared: PreparedPortrait, landmarks_image: np.ndarray,
                batch_frames: int | None = None) -> Iterator[np.ndarray]:
        """Frames in order, a batch at a time (memory stays bounded for any length).

        On a GPU a batch's copy to the host overlaps the next batch's rendering (one batch in
        flight), so the device does not wait on host memory."""
        step = batch_frames or self.batch_frames
        in_flight = None
        for start in range(0, len(landmarks_image), step):
            with torch.no_grad():
                frames = self.render_tensor(prepared, landmarks_image[start: start + step])
            if self.device.type != "cuda":
                yield to_uint8(frames)
                continue
            landing = to_numpy_later(_uint8_pixels(frames).contiguous())    # one plain copy for the DMA
            if in_flight is not None:
                yield in_flight.result()
            in_flight = landing
        if in_flight is not None:
            yield in_flight.result()

    def render_tensor(self, prepared: PreparedPortrait, landmarks_image: np.ndarray) -> torch.Tensor:
        """(F, 3, H, W) float frames in [0, 1] on the renderer's device."""
        photo_points = self.photo_points(landmarks_image)
        warp = self.warp_field(prepared, photo_points)
        frames, masks = self.warp_photo(prepared, warp, len(photo_points))
        self.draw_layers(prepared, frames, masks, photo_points)
        return frames.clamp_(0, 1)

    # The stages of render_tensor, one call each (bench/render.py --stages times them).

    def photo_points(self, landmarks_image: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(landmarks_image)[..., :2], dtype=torch.float32, device=self.device)

    def warp_field(self, prepared: PreparedPortrait,
                   photo_points: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int, int]] | None:
        """Photo px (F, h, w, 2) each pixel of the warped box shows, and that output box
        (x0, y0, x1, y1); None when the box is empty."""
        face = FaceFrame.of(prepared.landmarks)
        box = field_box(face, prepared.framing)
        if not (box[2] > box[0] and box[3] > box[1]):
            return None
        field = backward_field(prepared.landmarks, photo_points, face, prepared.framing, box, self.grid_cells)
        carry_lips(field, box, self.output_points(prepared, photo_points),
                   torch.as_tensor(prepared.landmarks, device=self.device))
        return field, box

    def warp_photo(self, prepared: PreparedPortrait, warp: tuple[torch.Tensor, tuple[int, int, int, int]] | None,
                   count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The photo and its eye masks sampled through the warp, over the still background."""
        framing = prepared.framing
        frames = prepared.background.expand(count, -1, -1, -1).clone()
        masks = torch.zeros(count, 2, framing.height, framing.width, device=self.device)   # right, left eye
        if warp is not None:
            field, (x0, y0, x1, y1) = warp
            warped = F.grid_sample(prepared.source.expand(count, -1, -1, -1), source_grid(prepared, field),
                                   mode="bilinear", padding_mode="border", align_corners=False)
            frames[:, :, y0:y1, x0:x1] = warped[:, :3]
            masks[:, :, y0:y1, x0:x1] = warped[:, 3:]
        return frames, masks

    def output_points(self, prepared: PreparedPortrait, photo_points: torch.Tensor) -> torch.Tensor:
        framing = prepared.framing
        origin = torch.as_tensor(framing.origin, dtype=torch.float32, device=self.device)
        return (photo_points - origin) * framing.scale

    def draw_layers(self, prepared: PreparedPortrait, frames: torch.Tensor, masks: torch.Tensor,
                    photo_points: torch.Tensor) -> None:
        points = self.output_points(prepared, photo_points)
        if self.creases:
            layers.draw_creases(frames, points, photo_points, prepared)
        layers.draw_eyes(frames, masks, points, photo_points, prepared)
        layers.draw_mouth(frames, points, photo_points, prepared)


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(F, 3, H, W) floats in [0, 1] → (F, H, W, 3) uint8 on the host."""
    return to_numpy(_uint8_pixels(frames))


def _uint8_pixels(frames: torch.Tensor) -> torch.Tensor:
    """(F, 3, H, W) floats in [0, 1] → (F, H, W, 3) uint8 on their device."""
    return frames.mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
