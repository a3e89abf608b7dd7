"""An independent reader of expressions in images: MediaPipe's Face Landmarker with its
blendshape head (``face_landmarker.task`` from the dev set), not FaceCue's own solver.

It reads the 52 ARKit blendshapes of the largest face in each image, so a rendered take can be
checked against what it claims: does "sad" show as inner brows up and lip corners down?
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ..names import ARKIT_INDEX, ARKIT_NAMES

# Facial action signatures (FACS) of each emotion, as ARKit shape groups: the emotion shows
# when the mean of each group rises. Left/right pairs are averaged into one reading.
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "happy": (("mouthSmileLeft", "mouthSmileRight"), ("cheekSquintLeft", "cheekSquintRight")),
    "sad": (("browInnerUp",), ("mouthFrownLeft", "mouthFrownRight")),
    "angry": (("browDownLeft", "browDownRight"), ("eyeSquintLeft", "eyeSquintRight")),
    "surprised": (("browInnerUp", "browOuterUpLeft", "browOuterUpRight"), ("eyeWideLeft", "eyeWideRight")),
    "fear": (("browInnerUp",), ("eyeWideLeft", "eyeWideRight"), ("mouthStretchLeft", "mouthStretchRight")),
    "disgusted": (("noseSneerLeft", "noseSneerRight"), ("mouthUpperUpLeft", "mouthUpperUpRight")),
    "contempt": (("mouthSmileLeft", "mouthSmileRight"), ("mouthDimpleLeft", "mouthDimpleRight")),
}
# Contempt is one-sided: each of its groups reads as the gap between the sides, not their mean.
ONE_SIDED = {"contempt"}
SIGNATURE_RISE = 0.15      # an emotion reads when its signature rises this much over the neutral face
MODEL = "face_landmarker.task"


class ExpressionReader:
    """Face Landmarker in image mode; calls are serialized (the graph is stateful)."""

    def __init__(self, model: str | Path):
        os.environ.setdefault("GLOG_minloglevel", "2")
        from mediapipe.tasks.python import BaseOptions, vision
        options = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                               output_face_blendshapes=True, num_faces=1)
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._lock = threading.Lock()

    @classmethod
    def from_devset(cls, root: Path) -> "ExpressionReader":
        """The reader on the dev set's pinned copy of the model."""
        from . import devset
        return cls(devset.model_path(root, MODEL))

    def read(self, rgb: np.ndarray) -> np.ndarray | None:
        """(52,) ARKit weights in FaceCue's order, or None when no face is found."""
        import mediapipe as mp
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb[..., :3]))
        with self._lock:
            result = self._landmarker.detect(image)
        if not result.face_blendshapes:
            return None
        weights = np.zeros(len(ARKIT_NAMES), np.float32)
        for category in result.face_blendshapes[0]:
            if category.category_name in ARKIT_INDEX:
                weights[ARKIT_INDEX[category.category_name]] = category.score
        return weights

    def read_all(self, frames) -> np.ndarray:
        """(F, 52) for a sequence of RGB frames; NaN rows where no face was found."""
        rows = [self.read(frame) for frame in frames]
        return np.stack([row if row is not None else np.full(len(ARKIT_NAMES), np.nan, np.float32) for row in rows])

    def close(self) -> None:
        self._landmarker.close()


def signature_score(weights: np.ndarray, emotion: str) -> float:
    """How strongly (F, 52) readings show ``emotion``: the mean over its groups of each group's
    mean weight (one-sided emotions: the gap between the sides), averaged over frames."""
    weights = np.nanmean(np.atleast_2d(weights), axis=0)
    groups = []
    for group in SIGNATURES[emotion]:
        values = weights[[ARKIT_INDEX[name] for name in group]]
        groups.append(abs(values[0] - values[1]) if emotion in ONE_SIDED else values.mean())
    return float(np.mean(groups))
