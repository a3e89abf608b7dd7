"""Rendered frames: the reference photo animated by a take's landmarks."""
from ..config import RenderOptions, RenderSize
from .framing import Framing, frame_portrait
from .output import RenderedMedia, VideoWriter, encode_image
from .portrait import Portrait, PreparedPortrait
from .renderer import Renderer, WarpRenderer, default_device

__all__ = ["Framing", "Portrait", "PreparedPortrait", "RenderOptions", "RenderSize", "RenderedMedia",
           "Renderer", "VideoWriter", "WarpRenderer", "default_device", "encode_image", "frame_portrait"]
