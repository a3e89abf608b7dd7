"""Reference analysis: the photo's face as a head-local, frontalized landmark set and pose.

MediaPipe's face mesh gives 478 landmarks in the image; a similarity fit of the 468 mesh
points to MediaPipe's canonical face gives the head's rotation and scale; undoing them gives
the face in head-local centimetres (x viewer's right, y up, z toward the camera).

Camera: weak perspective with focal length ``FOCAL_FACTOR · max(width, height)`` pixels
(about a 50 mm lens on full frame) and the principal point at the image centre, so the
head's distance is ``focal / scale`` and ``tz`` is its negative (the camera looks down -z).
"""
from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import gaze, topology as topo
from .errors import InvalidInput
from .geometry import matrix_to_euler, similarity_align

FOCAL_FACTOR = 1.4
MAX_FACES = 4


@dataclass(frozen=True)
class EyeModel:
    centre: np.ndarray         # (3,) eyeball centre, head-local cm
    rest_angles: np.ndarray    # (2,) yaw, pitch of the photo's gaze, degrees


@dataclass(frozen=True)
class Reference:
    width: int
    height: int
    landmarks_image: np.ndarray    # (478, 3) pixels; z in pixels, negative toward the camera
    local: np.ndarray              # (478, 3) head-local frontalized landmarks, cm
    pose: np.ndarray               # (6,) yaw, pitch, roll (deg), tx, ty, tz (cm, camera space)
    focal_px: float
    z_offset_px: float             # MediaPipe's depth origin, for an exact round trip
    eyes: dict[str, EyeModel]
    faces_found: int
    warnings: list[str] = field(default_factory=list)

    @property
    def gaze_labels(self) -> np.ndarray:
        return gaze.labels_from_angles(np.stack([self.eyes[e].rest_angles for e in ("left", "right")]))


def read_image(source: str | Path | bytes, name: str | None = None) -> tuple[np.ndarray, str]:
    """Decode a photo to RGB uint8, honouring EXIF orientation."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    label = name or (Path(source).name if not isinstance(source, bytes) else "<image bytes>")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InvalidInput(f"photo '{source}' does not exist")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            rgb = ImageOps.exif_transpose(img).convert("RGB")
            return np.asarray(rgb), label
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read photo '{label}': not a readable image ({exc.__class__.__name__})") from None


class FaceMeshDetector:
    """MediaPipe face mesh, loaded once per process; calls are serialized (it is stateful)."""

    def __init__(self, video: bool = False) -> None:
        """``video``: track one face through consecutive frames (faster than detecting each)."""
        os.environ.setdefault("GLOG_minloglevel", "2")      # keep MediaPipe's C++ logs quiet
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import mediapipe as mp
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video, refine_landmarks=True, max_num_faces=1 if video else MAX_FACES,
            min_detection_confidence=0.5)
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """All faces as (478, 3) arrays in pixels."""
        height, width = rgb.shape[:2]
        with self._lock:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        faces = []
        for face in result.multi_face_landmarks or []:
            xyz = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float64)
            faces.append(xyz * np.array([width, height, width]))
        return faces


def analyze(rgb: np.ndarray, detector: FaceMeshDetector, name: str = "photo") -> Reference:
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        raise InvalidInput(f"photo '{name}' is {width}×{height} pixels; at least 32×32 is needed")
    faces = detector.detect(rgb)
    if not faces:
        raise InvalidInput(f"no face found in photo '{name}'")
    warnings = []
    if len(faces) > 1:
        areas = [np.ptp(f[:, 0]) * np.ptp(f[:, 1]) for f in faces]
        faces = [faces[int(np.argmax(areas))]]
        warnings.append(f"found {len(areas)} faces in photo '{name}'; using the largest")
    return reference_from_landmarks(faces[0], width, height, faces_found=len(areas) if warnings else 1,
                                    warnings=warnings)


def reference_from_landmarks(landmarks_image: np.ndarray, width: int, height: int, *,
                             faces_found: int = 1, warnings: list[str] | None = None) -> Reference:
    """Everything but detection: usable with precomputed landmarks (e.g. on GPU machines)."""
    focal = FOCAL_FACTOR * max(width, height)
    centred = _image_to_centred(landmarks_image, width, height)
    scale, rotation, shift = similarity_align(topo.canonical_face().astype(np.float64),
                                              centred[: topo.MESH_COUNT])
    local = (centred - shift) @ rotation / scale            # R^T (p - t) / s, row-wise
    distance = focal / scale
    pose = np.concatenate([matrix_to_euler(rotation), [shift[0] / scale, shift[1] / scale, -distance]])
    return Reference(width=width, height=height, landmarks_image=landmarks_image.astype(np.float32),
                     local=local.astype(np.float32), pose=pose.astype(np.float32), focal_px=focal,
                     z_offset_px=float(-shift[2]), eyes=_eye_models(local),
                     faces_found=faces_found, warnings=list(warnings or []))


def _image_to_centred(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels (x right, y down, z away) → centred pixels (x right, y up, z toward camera)."""
    return np.stack([points[:, 0] - width / 2, height / 2 - points[:, 1], -points[:, 2]], -1)


def _eye_models(local: np.ndarray) -> dict[str, EyeModel]:
    angles = np.stack([gaze.eye_angles(local, eye) for eye in ("left", "right")])
    centres = gaze.eyeball_centres(local, angles)
    return {eye: EyeModel(centre=centres[k].astype(np.float32), rest_angles=angles[k].astype(np.float32))
            for k, eye in enumerate(("left", "right"))}
