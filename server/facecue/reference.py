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
from .errors import InvalidInput, LimitExceeded
from .geometry import matrix_to_euler, similarity_align

FOCAL_FACTOR = 1.4
MAX_FACES = 4
MIN_FACE_PX = 48              # narrower faces have too few pixels to animate
SEARCH_TILES = (1, 2, 3, 4, 6)   # tilings the full-range detector tries, coarse to fine
CROP_MARGIN, CROP_EDGE = 2.2, 512  # a small face is meshed in a crop this many face widths wide, this many px
PHOTO_KEPT_EDGE = 2048         # a take keeps its photo at most this many px on the longer side
MAX_PHOTO_PIXELS = 80_000_000   # above a full-frame sensor's 61 MP; decoding holds 3 bytes per pixel


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
    expression: np.ndarray | None = None    # (52,) the photo's own expression, once estimated

    @property
    def gaze_labels(self) -> np.ndarray:
        return gaze.labels_from_angles(np.stack([self.eyes[e].rest_angles for e in ("left", "right")]))


def without_expression(reference: Reference, keep: bool = False) -> Reference:
    """The reference with its photo's expression estimated and (unless ``keep``) taken out of
    its head-local face; the photo's pixels and landmarks stay as they are."""
    from dataclasses import replace

    from .neutralise import neutralise
    neutral, weights = neutralise(reference.local)
    return replace(reference, local=reference.local if keep else neutral, expression=weights)


def read_image(source: str | Path | bytes, name: str | None = None) -> tuple[np.ndarray, str]:
    """Decode a photo to RGB uint8, honouring EXIF orientation; its size is checked from the
    header before any pixels are decoded."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)     # the size is checked below
    label = name or (Path(source).name if not isinstance(source, bytes) else "<image bytes>")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InvalidInput(f"photo '{source}' does not exist")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            width, height = img.size
            if width * height > MAX_PHOTO_PIXELS:
                raise LimitExceeded(f"photo '{label}' is {width}×{height} pixels ({width * height / 1e6:.0f} MP); "
                                    f"the limit is {MAX_PHOTO_PIXELS / 1e6:.0f} MP")
            return _to_rgb(ImageOps.exif_transpose(img)), label
    except Image.DecompressionBombError:            # Pillow's own ceiling, met while reading the header
        raise LimitExceeded(f"photo '{label}' is larger than the limit of {MAX_PHOTO_PIXELS / 1e6:.0f} MP") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read photo '{label}': not a readable image ({exc.__class__.__name__})") from None


def photo_for_take(rgb: np.ndarray) -> bytes:
    """The photo a take keeps beside its landmarks (for texturing in a DCC): a JPEG, downscaled
    to PHOTO_KEPT_EDGE on the longer side; landmarks_image / (width, height) still maps onto it."""
    from PIL import Image
    img = Image.fromarray(np.ascontiguousarray(rgb))
    if max(img.size) > PHOTO_KEPT_EDGE:
        factor = PHOTO_KEPT_EDGE / max(img.size)
        img = img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))), Image.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def _to_rgb(img) -> np.ndarray:
    """8-bit RGB; 16-bit and 32-bit greyscale are scaled down, not clipped to white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        grey = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or grey.max() > 255 else 255.0
        if img.mode == "F" and grey.max() <= 1.0:
            top = 1.0
        grey = np.clip(np.round(grey / top * 255), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.asarray(img.convert("RGB"))


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
        self._finder = None          # the full-range face detector, loaded when a photo needs it
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

    def face_boxes(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Faces too small for the mesh's own (short-range) detector: MediaPipe's full-range
        detector over the photo and over ever finer overlapping tiles of it. (x, y, w, h) pixels."""
        if self._finder is None:
            import mediapipe as mp
            self._finder = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        height, width = rgb.shape[:2]
        boxes = []
        for tiles in SEARCH_TILES:
            for ty in range(tiles):
                for tx in range(tiles):
                    x0, x1 = (int(np.clip((t + d) * width / tiles, 0, width)) for t, d in ((tx, -0.25), (tx, 1.25)))
                    y0, y1 = (int(np.clip((t + d) * height / tiles, 0, height)) for t, d in ((ty, -0.25), (ty, 1.25)))
                    with self._lock:
                        found = self._finder.process(np.ascontiguousarray(rgb[y0:y1, x0:x1])).detections or []
                    for detection in found:
                        box = detection.location_data.relative_bounding_box
                        boxes.append((x0 + box.xmin * (x1 - x0), y0 + box.ymin * (y1 - y0),
                                      box.width * (x1 - x0), box.height * (y1 - y0)))
        return _distinct(boxes)

    def detect_in_box(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
        """The mesh of the face in ``box``, found in an enlarged crop around it, in photo pixels."""
        from PIL import Image
        height, width = rgb.shape[:2]
        x, y, w, h = box
        side = CROP_MARGIN * max(w, h)
        x0, y0 = int(max(0, x + w / 2 - side / 2)), int(max(0, y + h / 2 - side / 2))
        x1, y1 = int(min(width, x + w / 2 + side / 2)), int(min(height, y + h / 2 + side / 2))
        zoom = CROP_EDGE / max(x1 - x0, y1 - y0)
        crop = Image.fromarray(rgb[y0:y1, x0:x1]).resize((round((x1 - x0) * zoom), round((y1 - y0) * zoom)),
                                                         Image.BICUBIC)
        return [face / zoom + np.array([x0, y0, 0.0]) for face in self.detect(np.asarray(crop))[:1]]


def _distinct(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """One box per face: overlapping tiles see the same face more than once (keep the largest)."""
    kept = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if all(abs(cx - k[0] - k[2] / 2) > k[2] / 2 or abs(cy - k[1] - k[3] / 2) > k[3] / 2 for k in kept):
            kept.append(box)
    return kept


def analyze(rgb: np.ndarray, detector: FaceMeshDetector, name: str = "photo") -> Reference:
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        raise InvalidInput(f"photo '{name}' is {width}×{height} pixels; at least 32×32 is needed")
    faces = detector.detect(rgb)
    count = len(faces)
    if not faces:                       # small faces (a group, a wide shot): find them, mesh the largest
        boxes = detector.face_boxes(rgb)
        if not boxes:
            raise InvalidInput(f"no face found in photo '{name}'")
        largest = max(boxes, key=lambda b: b[2] * b[3])
        if largest[2] < MIN_FACE_PX:
            raise InvalidInput(f"the faces in photo '{name}' are too small: the largest is {largest[2]:.0f} px wide "
                               f"and FaceCue needs at least {MIN_FACE_PX} px (use a closer crop or a larger photo)")
        faces, count = detector.detect_in_box(rgb, largest), len(boxes)
        if not faces:
            raise InvalidInput(f"a face was found in photo '{name}' ({largest[2]:.0f} px wide) but its "
                               "landmarks could not be placed (use a closer crop or a larger photo)")
    warnings = []
    if count > 1:
        areas = [np.ptp(f[:, 0]) * np.ptp(f[:, 1]) for f in faces]
        faces = [faces[int(np.argmax(areas))]]
        warnings.append(f"found {count} faces in photo '{name}'; using the largest")
    return reference_from_landmarks(faces[0], width, height, faces_found=count, warnings=warnings)


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
