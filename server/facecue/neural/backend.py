"""The ``neural`` cue backend: the trained sequentializers, steered by the controls.

For each take: MFCC windows → the model (batched with other takes) → normalized 147-point
displacements, pose offsets, sampled gaze classes and emotion probabilities. The 147 points
are lifted to the full 478-point mesh through the reference face's own ARKit basis: the
ARKit-52 weights that best explain the predicted points (bounded least squares, see
``blendshape_solver``) are the take's blendshapes, and the basis rebuilds every landmark from
them — so blendshapes and landmarks always agree.

Controls: intensity (number, curve or ``auto`` arousal) scales the emotion embedding per
frame; a region mix decodes the landmark sequentializer once more per distinct mix (in the
same batch) and takes each region's points from its own decode; lip scale blends the mouth
between the take and the same take decoded over silence; head scale multiplies the pose
offsets; gaze off keeps the eyes forward. Blinks are not predictable from speech, so they
come from the same stochastic blink process as the procedural backend.
"""
from __future__ import annotations

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import topology as topo
from ..arkit_basis import apply_basis, rest_and_basis
from ..blendshape_solver import set_look_weights, solve_offsets_many
from ..controls import auto_emotion, intensity_track
from ..cues import CueInputs, CueTrack
from ..gaze import labels_from_angles
from ..names import ARKIT_INDEX, AUTO_EMOTION, EMOTIONS, GAZE_REGIONS
from ..procedural import blinks
from ..procedural.gaze_process import place_fixations
from ..procedural.signals import smooth
from ..procedural.speech_mouth import lip_seal, speech_mouth
from ..timing import resample
from . import representation as rep
from .features import device_windows, model_mfcc, normalize

SOLVE_ROWS = np.setdiff1d(np.arange(len(rep.SUBSET)), np.concatenate(list(rep.IRIS_ROWS.values())))


def _region_rows() -> dict[str, np.ndarray]:
    """Rows of the 147-point subset per face region (mouth, eyes, brows)."""
    subset = rep.SUBSET
    eyes = np.isin(subset, np.concatenate([topo.group(g) for g in ("left_eye", "right_eye", "left_iris",
                                                                     "right_iris")]))
    brow_points = np.concatenate([topo.group("left_brow"), topo.group("right_brow")])
    canonical = topo.canonical_face()
    eye_level = canonical[[topo.EYE_CORNERS["left"][0], topo.EYE_CORNERS["right"][0]], 1].mean()
    height = canonical[np.minimum(subset, len(canonical) - 1), 1]          # (irises are not in the oval)
    upper_oval = np.isin(subset, topo.group("face_oval")) & (height > eye_level)
    brows = np.isin(subset, brow_points) | upper_oval
    return {"eyes": np.flatnonzero(eyes), "brows": np.flatnonzero(brows & ~eyes),
            "mouth": np.flatnonzero(~eyes & ~brows)}


REGION_ROWS = _region_rows()


LIPS = ("phones", "model")
LIP_FPS = 60.0                   # the phone-timed lips' rate: short closures survive resampling


class NeuralBackend:
    """``lips="phones"`` (the default) takes the speech articulation of the mouth from the
    phone-timed lips and everything else from the model; ``lips="model"`` keeps the model's
    own mouth. On the real development set the model's own lips miss the lip-sync targets
    (README, "Neural backend"), so the default is the phone-timed mouth."""
    name = "neural"

    def __init__(self, checkpoint_path=None, device: str | None = None, lips: str = "phones"):
        if lips not in LIPS:
            raise ValueError(f"lips must be one of {', '.join(LIPS)}, not '{lips}'")
        self._path = checkpoint_path
        self._device = device
        self._loaded = None
        self.lips = lips
        self.last_timing: dict[str, float] = {}       # seconds of the last call: decode, finish

    @property
    def uses_phones(self) -> bool:
        """Whether the take needs timed phones: for the phone-timed lips only."""
        return self.lips == "phones"

    @property
    def loaded(self):
        """The checkpoint, loaded on first use (torch is imported only then)."""
        if self._loaded is None:
            import torch

            from . import checkpoint
            self._device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._loaded = checkpoint.load(self._path, self._device)
        return self._loaded

    @property
    def version(self) -> str:
        """The checkpoint's own version and the start of its file hash (reused takes must match both)."""
        lips = "+phone-lips" if self.lips == "phones" else ""
        return f"{self.loaded.version}+{self.loaded.digest[:12]}{lips}"

    @property
    def native_fps(self) -> float:
        return LIP_FPS if self.lips == "phones" else self.loaded.model.cfg.fps

    def generate(self, inputs: CueInputs) -> CueTrack:
        return self.generate_many([inputs])[0]

    def generate_many(self, takes: list[CueInputs]) -> list[CueTrack]:
        """Several takes decoded together (one batch on the device), their ARKit weights solved
        together on the same device."""
        import time

        import torch

        from .inference import LandmarkVariants, decode
        started = time.perf_counter()
        loaded = self.loaded
        cfg = loaded.model.cfg
        fps = cfg.fps
        with _workers(len(takes)) as pool:     # each take's host work is its own: done side by side
            plans = list(pool.map(lambda inputs: _Plan(inputs, fps, cfg.feature_norm, self.lips == "phones"
                                                       and inputs.phones is not None), takes))
        frames = max(p.frames for p in plans)
        device = self._device
        windows = lambda mfccs, counts: device_windows([normalize(m, loaded.mfcc_mean, loaded.mfcc_std)
                                                        for m in mfccs], counts, frames, fps, cfg.mfcc_window, device)
        variants = [(k, mix, silent) for k, p in enumerate(plans) for mix, silent in p.variants]
        silent_rows = [row for row, (_, _, silent) in enumerate(variants) if silent]
        silent_takes = [plans[variants[row][0]] for row in silent_rows]
        pad = lambda a: np.pad(a, ((0, frames - len(a)), (0, 0)), mode="edge")
        gumbel = np.stack([pad(p.gumbel) for p in plans])
        as_tensor = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)
        decoded = decode(loaded.model, windows([p.mfcc for p in plans], [p.frames for p in plans]),
                         as_tensor(np.stack([pad(p.mix) for p in plans])), as_tensor(gumbel), [p.frames for p in plans],
                         LandmarkVariants(as_tensor(np.stack([pad(m) for _, m, _ in variants])),
                                          [k for k, _, _ in variants], silent_rows,
                                          windows([p.silence() for p in silent_takes], [p.frames for p in silent_takes])
                                          if silent_rows else None))
        decoded_at = time.perf_counter()
        first_rows = np.cumsum([0] + [len(p.variants) for p in plans])
        offsets = torch.stack([plan.offsets(decoded.landmarks[row: row + len(plan.variants)])
                               for plan, row in zip(plans, first_rows)])
        weights = solve_offsets_many(offsets, [p.basis for p in plans], rep.SUBSET[SOLVE_ROWS]).cpu().numpy()
        pose, gaze, probs = (decoded.pose.cpu().numpy(), decoded.gaze.cpu().numpy(),
                             decoded.emotion_probs.cpu().numpy())
        with _workers(len(plans)) as pool:
            tracks = list(pool.map(lambda k: plans[k].finish(weights[k, : plans[k].frames], pose[k, : plans[k].frames],
                                                             gaze[k, : plans[k].frames], probs[k, : plans[k].frames],
                                                             device), range(len(plans))))
        self.last_timing = {"decode": decoded_at - started, "finish": time.perf_counter() - decoded_at}
        return tracks


def _workers(tasks: int) -> ThreadPoolExecutor:
    """Threads for per-take host work (numpy lets go of the GIL in its loops); one take runs alone."""
    return ThreadPoolExecutor(max_workers=max(1, min(tasks, os.cpu_count() or 1)))


class _Plan:
    """One take's conditioning before decoding and its assembly after."""

    def __init__(self, inputs: CueInputs, fps: float, feature_norm: str, phone_lips: bool):
        self.inputs, self.fps, self.phone_lips = inputs, fps, phone_lips
        self.frames = int(math.ceil(inputs.features.duration_s * fps)) + 1
        self.times = np.arange(self.frames) / fps
        features = inputs.features
        self.mfcc = model_mfcc(features.mfcc, features.energy_db, feature_norm)
        from .inference import gumbel_noise         # (torch is loaded with the model, not on import)
        self.gumbel = gumbel_noise(inputs.seed, self.frames, GAZE_REGIONS ** 2)
        self.emotion = auto_emotion(features, fps) if inputs.emotion == AUTO_EMOTION else inputs.emotion
        self.intensity = intensity_track(inputs.controls, inputs.intensity, inputs.emotion, features.at(self.times),
                                         self.times)
        self.mix = self._mix(((self.emotion, 1.0),))
        controls = inputs.controls
        regions = dict(controls.regions)
        # Landmark decodes: the take's own mix first, then one per region mix; each region
        # names the variant it takes its points from.
        self.variants: list[tuple[np.ndarray, bool]] = [(self.mix, False)]
        self.region_variant = {}
        for region, mix in regions.items():
            self.region_variant[region] = len(self.variants)
            self.variants.append((self._mix(mix), False))
        # The rest the model learned from (lips closed, no expression) and its basis.
        self.rest, self.basis = rest_and_basis(inputs.reference.local)
        self.silent_variant = None
        if controls.lip_scale != 1.0:
            self.silent_variant = len(self.variants)
            mouth = self.variants[self.region_variant.get("mouth", 0)][0]
            self.variants.append((mouth, True))

    def silence(self) -> np.ndarray:
        """MFCC of the recording's quietest frame throughout: the take decoded with nothing said."""
        quietest = int(np.argmin(self.inputs.features.energy_db[: len(self.mfcc)]))
        return np.repeat(self.mfcc[[quietest]], len(self.mfcc), axis=0)

    def _mix(self, pairs) -> np.ndarray:
        mix = np.zeros((self.frames, len(EMOTIONS)), np.float32)
        for emotion, weight in pairs:
            mix[:, EMOTIONS.index(emotion)] += weight * self.intensity
        return mix

    def offsets(self, codes):
        """(V, F, 147, 3) this take's decoded variants (torch) → (F, 3P) cm offsets of the
        solved points: the take's own decode, each region from its own variant, the mouth
        scaled toward the silent decode."""
        import torch
        controls = self.inputs.controls
        code = codes[0].clone()
        for region, variant in self.region_variant.items():
            rows = torch.as_tensor(REGION_ROWS[region], device=code.device)
            code[:, rows] = codes[variant][:, rows]
        if self.silent_variant is not None:
            mouth = torch.as_tensor(REGION_ROWS["mouth"], device=code.device)
            still = codes[self.silent_variant][:, mouth]
            code[:, mouth] = still + controls.lip_scale * (code[:, mouth] - still)
        solved = code[:, torch.as_tensor(SOLVE_ROWS, device=code.device)]
        return solved.flatten(1).double() * rep.landmark_scale(self.rest)

    def finish(self, weights: np.ndarray, pose_code: np.ndarray, gaze: np.ndarray, probs: np.ndarray,
               device: str) -> CueTrack:
        """The take from its solved weights and decoded pose, gaze and emotion."""
        inputs, controls, ref = self.inputs, self.inputs.controls, self.inputs.reference
        rngs = np.random.default_rng(inputs.seed).spawn(3)
        labels = rep.split_gaze(gaze)
        angles = fixation_angles(rngs[0], labels, self.fps)
        if not controls.gaze:
            angles = np.zeros_like(angles)
        labels = labels_from_angles(angles)
        set_look_weights(weights, angles)
        pose = ref.pose[None] + controls.head_scale * rep.decode_pose(pose_code)
        no_points = np.zeros((len(weights), 0, 3), np.float32)            # built from the weights at the end
        track = CueTrack(fps=self.fps, local=no_points, pose=pose.astype(np.float32), gaze_angles=angles,
                         gaze_labels=labels, blendshapes=weights, emotion_probs=probs.astype(np.float32),
                         emotion=self.emotion)
        if self.phone_lips:
            track = resample(track, LIP_FPS, self.inputs.features.duration_s + 1 / LIP_FPS)
            track = dataclasses.replace(track, blendshapes=with_phone_lips(track.blendshapes, self.inputs, self.basis,
                                                                           LIP_FPS))
        times = np.arange(len(track)) / track.fps
        blink = blinks.blink_curve(rngs[1], times, self.emotion, float(self.intensity.mean()))
        weights = blinks.close_over(track.blendshapes, blink)
        return dataclasses.replace(track, blendshapes=weights,
                                   local=apply_basis(self.rest, self.basis, weights, device))


# Speech articulators: the jaw and the lips' contact, taken from the phone-timed lips alone
# (the model's jaw thrust and shrugs part or cross the lips where the phones seal them,
# measured on the development set). Shapes that speech and expression share (smile,
# stretch, upper lip, press) keep the model's expression and add the phones' share; all
# other shapes are the model's.
ARTICULATORS = [ARKIT_INDEX[n] for n in (
    "jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "tongueOut")]
SHARED = [ARKIT_INDEX[n] for n in ("mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
                                   "mouthUpperUpLeft", "mouthUpperUpRight", "mouthPressLeft", "mouthPressRight")]
# The model's share of the shared shapes is its expression, taken at expression rate (a Gaussian
# this wide at half height, σ 0.15 s): its speech-rate wobble in them, which the phones already
# give, trailed the lips (14 dev clips with their transcripts, the closed photo, 30 fps:
# disgusted's lag 0.18 → 0.05 frames, the other emotions 0.05–0.09 → 0.06–0.07, rounded/spread
# +0.007).
EXPRESSION_SMOOTHING_S = 0.35325


def with_phone_lips(weights: np.ndarray, inputs: CueInputs, basis: np.ndarray, fps: float) -> np.ndarray:
    """(F, 52) the model's weights with the speech mouth of the timed phones, lips sealed on closures."""
    times = np.arange(len(weights)) / fps
    activity = inputs.features.at(times).speech_activity()
    mouth, closed = speech_mouth(inputs.phones, times, activity, fps, inputs.controls.lip_scale)
    out = weights.copy()
    out[:, ARTICULATORS] = mouth[:, ARTICULATORS]
    out[:, SHARED] = np.clip(smooth(out[:, SHARED], fps, EXPRESSION_SMOOTHING_S) + mouth[:, SHARED], 0.0, 1.0)
    out[:, ARKIT_INDEX["mouthClose"]] = lip_seal(basis, out, closed)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def fixation_angles(rng: np.random.Generator, labels: np.ndarray, fps: float) -> np.ndarray:
    """(F, 2) sampled region labels → (F, 2, 2) angles; a fixation lasts while the labels stay."""
    changed = np.concatenate([[True], np.any(labels[1:] != labels[:-1], axis=1)])
    fixation = np.cumsum(changed) - 1
    return place_fixations(rng, labels, fixation, int(fixation[-1]) + 1, fps)
