"""One take, end to end: audio + photo + emotion → take bundle. Used by CLI, server and batch.

Heavy parts (MediaPipe) load once per Pipeline and are shared by every request.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from . import __version__, gaze, topology as topo
from .audio import SAMPLE_RATE, extract_features, load_audio
from .config import Limits, TakeRequest
from .cues import CueBackend, CueInputs
from .errors import InvalidInput
from .names import ARKIT_NAMES, EMOTIONS, GAZE_REGIONS
from .neutralise import as_manifest
from .phonemes import phone_timing
from .procedural import ProceduralBackend
from .reference import FaceMeshDetector, Reference, analyze, photo_for_take, read_image, without_expression
from .relocation import take_arrays
from .take import FORMAT_VERSION, Take
from .timing import resample

Progress = Callable[[str, float], None]
STAGES = ("audio", "phones", "face", "cues", "relocation", "render")
PORTRAIT_CACHE = 8       # prepared photos kept for reuse (takes of one character share one)
CUES_SHARE = 0.15        # of the progress bar when frames are rendered too: rendering is the long part

AXES = {
    "landmarks_image": "pixels of the reference photo: x right, y down, z in pixels (negative toward the camera)",
    "landmarks_local": "head-local frontalized cm: x viewer's right, y up, z toward the camera",
    "pose": "yaw, pitch, roll in degrees (R = Ry·Rx·Rz; +yaw toward +x, +pitch chin up, +roll "
            "counter-clockwise as seen); tx, ty, tz in cm, camera space, camera at origin looking down -z",
    "gaze_angles": "per eye (left, right; the subject's own) yaw, pitch in degrees in the head frame",
}


class Pipeline:
    def __init__(self, limits: Limits | None = None, *, checkpoint=None, device: str | None = None) -> None:
        """``checkpoint``: the neural backend's weights (default: the bundled model); ``device``:
        where it runs (default: CUDA when present)."""
        from .neural.backend import NeuralBackend
        self.limits = limits or Limits()
        self._detector: FaceMeshDetector | None = None
        self._backends: dict[str, CueBackend] = {"procedural": ProceduralBackend(),
                                                 "neural": NeuralBackend(checkpoint, device)}
        self._renderer = None
        self._frame_batcher = None
        self._batchers: dict[str, object] = {}
        self._portraits: OrderedDict[tuple, object] = OrderedDict()     # prepared photos, most recent last
        self._portraits_lock = threading.Lock()

    @property
    def backends(self) -> dict[str, CueBackend]:
        return self._backends

    def detector(self) -> FaceMeshDetector:
        if self._detector is None:
            self._detector = FaceMeshDetector()
        return self._detector

    def renderer(self):
        """The frame renderer, loaded on first use (torch is only needed when rendering)."""
        if self._renderer is None:
            from .render import WarpRenderer
            self._renderer = WarpRenderer()
        return self._renderer

    def analyze_photo(self, image, name: str | None = None) -> Reference:
        rgb, label = read_image(image, name)
        return analyze(rgb, self.detector(), label)

    def run(self, request: TakeRequest, progress: Progress | None = None) -> Take:
        """Cues now; frames (when asked for) are rendered as the take is written."""
        notify = progress or (lambda stage, fraction: None)
        share = CUES_SHARE if request.render else 1.0

        def report(stage: str, fraction: float) -> None:
            notify(stage, fraction * share)

        request.check()
        backend = self._backends.get(request.backend)
        if backend is None:
            raise InvalidInput(f"unknown backend '{request.backend}'; available: {', '.join(self._backends)}")

        report("audio", 0.0)
        rgb, label = read_image(request.image, request.image_name)      # first: a bad photo fails fast
        audio = load_audio(request.audio, max_duration_s=self.limits.max_audio_s, name=request.audio_name)
        features = extract_features(audio)
        report("phones", 0.2)
        phones, warnings = phone_timing(audio, request.transcript) if backend.uses_phones else (None, [])
        report("face", 0.4)
        reference = without_expression(analyze(rgb, self.detector(), label), request.controls.keep_photo_expression)
        report("cues", 0.5)
        track = self._cues(backend, CueInputs(reference, features, phones, request.emotion,
                                              request.intensity, request.seed, request.controls))
        track = resample(track, request.fps, audio.duration_s)
        report("relocation", 0.85)
        arrays = take_arrays(track, reference)
        manifest = build_manifest(request, backend, reference, len(track), audio.duration_s,
                                  warnings=reference.warnings + warnings, phone_method=phones.method if phones else "not used")
        manifest["emotion_shown"] = track.emotion or request.emotion
        manifest["photo_expression"] = as_manifest(reference.expression, not request.controls.keep_photo_expression)
        take = Take(manifest=manifest, arrays=arrays, audio_wav=audio.wav_bytes(), photo=photo_for_take(rgb))
        if request.render:
            take.media = self._media(take, rgb, reference, request.render, notify)
        else:
            report("done", 1.0)
        return take

    def _cues(self, backend: CueBackend, inputs: CueInputs):
        """Backends that decode many takes at once get concurrent requests batched together."""
        if not hasattr(backend, "generate_many"):
            return backend.generate(inputs)
        if backend.name not in self._batchers:
            from .cue_batcher import CueBatcher
            self._batchers.setdefault(backend.name, CueBatcher(backend))
        return self._batchers[backend.name].generate(inputs)

    def render_take(self, take: Take, image, options, progress: Progress | None = None,
                    image_name: str | None = None) -> Take:
        """An existing take with (new) frames from its photo: render later, or again at another size."""
        options.check()
        rgb, label = read_image(image, image_name)
        reference = analyze(rgb, self.detector(), label)
        expected = take.manifest["image"]
        recorded = np.asarray(take.manifest.get("reference", {}).get("pose", reference.pose), np.float32)
        if (reference.width, reference.height) != (expected["width"], expected["height"]) or \
                np.abs(recorded[:3] - reference.pose[:3]).max() > 0.5:
            raise InvalidInput(f"photo '{label}' is not the photo this take was made from "
                               f"({reference.width}×{reference.height}, expected {expected['width']}×{expected['height']} "
                               "with the same face and pose)")
        manifest = {k: v for k, v in take.manifest.items() if k != "render"}
        manifest["files"] = {**manifest["files"], "frames": None, "video": None}
        fresh = Take(manifest=manifest, arrays=take.arrays, audio_wav=take.audio_wav,
                     photo=take.photo or photo_for_take(rgb))     # the same photo: checked above
        notify = progress or (lambda stage, fraction: None)
        fresh.media = self._media(fresh, rgb, reference, options, lambda s, f: notify(s, (f - CUES_SHARE) / (1 - CUES_SHARE)))
        return fresh

    def _media(self, take: Take, rgb: np.ndarray, reference: Reference, options, notify: Progress):
        from .render import RenderedMedia

        def frames_done(done: int, total: int) -> None:
            notify(f"render {done}/{total}" if done < total else "done",
                   CUES_SHARE + (1 - CUES_SHARE) * done / max(1, total))
        return RenderedMedia(self.frame_batcher(), self._prepared(rgb, reference, options.size), take.landmarks_image,
                             take.fps, take.audio_wav, options, frames_done)

    def frame_batcher(self):
        """Renders for every take. On a GPU concurrent takes of one portrait share render calls;
        on a CPU, whose best batch is the renderer's own small one, there is nothing to merge and
        takes render directly."""
        if self._frame_batcher is None:
            renderer = self.renderer()
            if renderer.device.type == "cuda":
                from .render.frame_batcher import FrameBatcher
                renderer = FrameBatcher(renderer)
            self._frame_batcher = renderer
        return self._frame_batcher

    def _prepared(self, rgb: np.ndarray, reference: Reference, size):
        """The photo prepared for rendering, shared by takes of the same photo and size."""
        from .render import Portrait
        key = (hashlib.sha1(rgb.tobytes()).hexdigest(), rgb.shape, str(size))
        with self._portraits_lock:
            if key in self._portraits:
                self._portraits.move_to_end(key)
                return self._portraits[key]
        prepared = self.renderer().prepare(Portrait(rgb, reference), size)
        with self._portraits_lock:
            prepared = self._portraits.setdefault(key, prepared)
            while len(self._portraits) > PORTRAIT_CACHE:
                self._portraits.popitem(last=False)
        return prepared


def build_manifest(request: TakeRequest, backend: CueBackend, reference: Reference, frames: int,
                   duration_s: float, *, warnings: list[str], phone_method: str) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "generator": f"facecue {__version__}",
        "fps": float(request.fps),
        "frame_count": frames,
        "duration_s": round(duration_s, 6),
        "sample_rate": SAMPLE_RATE,
        "emotion": request.emotion,
        "intensity": float(request.intensity),
        "controls": request.controls.as_manifest(),
        "seed": int(request.seed),
        "transcript": request.transcript or None,
        "model": {"backend": backend.name, "version": backend.version, "native_fps": backend.native_fps},
        "image": {"width": reference.width, "height": reference.height},
        "reference": {"pose": [round(float(v), 5) for v in reference.pose],
                      "focal_px": reference.focal_px, "faces_found": reference.faces_found},
        "axes": AXES,
        "units": {"landmarks_local": "cm", "pose_angles": "deg", "pose_translation": "cm",
                  "gaze_angles": "deg", "landmarks_image": "px"},
        "landmark_count": topo.LANDMARK_COUNT,
        "subset_147": topo.subset_147().tolist(),
        "blendshape_names": list(ARKIT_NAMES),
        "emotion_names": list(EMOTIONS),
        "gaze_regions": GAZE_REGIONS,
        "gaze_layout": {"columns": gaze.COLUMNS, "rows": gaze.ROWS, "yaw_edges": gaze.YAW_EDGES.tolist(),
                        "pitch_edge": gaze.PITCH_EDGE, "label": "row * columns + column; 2 = forward"},
        "phone_timing": phone_method,
        "warnings": warnings,
        "files": {"cues": "cues.npz", "audio": "audio.wav", "photo": None, "frames": None, "video": None},
    }
