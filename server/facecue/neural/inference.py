"""Decoding: any length of audio, many takes at once.

The Bi-LSTM context is read in overlapping windows (``window_frames`` long, ``overlap_frames``
cross-faded linearly), all windows of all takes in one batch, so a 10-minute take costs the
same per frame as a short one and has no seams. The auto-regressive decoders then step
through the frames once, every take of the batch together; the input-side products of each
LSTM (context and emotion) are computed for all frames before the loop, so a step is only
the previous cue's MLP, two small matrix products and the output head.
Gaze is sampled (Gumbel-max over the S·S joint classes, noise given per take, so a take's
gaze does not depend on what it is batched with); landmarks and pose are the regressed means.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import CueModel, Sequentializer


@dataclass
class Decoded:
    landmarks: np.ndarray       # (B, F, 147, 3) normalized displacement
    pose: np.ndarray            # (B, F, 6) normalized pose offsets
    gaze: np.ndarray            # (B, F) joint gaze classes
    emotion_probs: np.ndarray   # (B, F, 8)


def window_starts(frames: int, window: int, overlap: int) -> list[int]:
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, window - overlap))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return starts


def windowed_context(seq: Sequentializer, codes: torch.Tensor, window: int, overlap: int) -> torch.Tensor:
    """(B, F, C) audio codes → (B, F, C'): the backbone over overlapping windows, cross-faded."""
    b, frames = codes.shape[:2]
    starts = window_starts(frames, window, overlap)
    if len(starts) == 1:
        return seq.context(codes)
    device = codes.device
    index = torch.as_tensor(starts, device=device)[:, None] + torch.arange(window, device=device)
    chunks = codes[:, index].flatten(0, 1)                                       # (B·n, window, C)
    context = seq.context(chunks).reshape(b, len(starts), window, -1)
    ramp = torch.minimum(torch.arange(1, window + 1), torch.arange(window, 0, -1)).float() / (overlap + 1)
    weight = ramp.clamp(max=1.0).repeat(len(starts), 1)                          # (n, window)
    weight[0, : window // 2] = 1.0                                               # the ends are not faded
    weight[-1, window // 2:] = 1.0
    weight = weight.to(device)
    total = torch.zeros(b, frames, context.shape[-1], device=device)
    norm = torch.zeros(frames, device=device)
    total.index_add_(1, index.flatten(), (context * weight[None, :, :, None]).flatten(1, 2))
    norm.index_add_(0, index.flatten(), weight.flatten())
    return total / norm[None, :, None]


class _Stepper:
    """One sequentializer's decoder, stepped a frame at a time with its trained weights."""

    def __init__(self, seq: Sequentializer, context: torch.Tensor, emotion: torch.Tensor):
        lstm = seq.decoder
        w_ih, w_hh = lstm.weight_ih_l0, lstm.weight_hh_l0
        c, p = seq.context_dims, seq.cue[-1].out_features
        self.seq, self.w_cue, self.w_hh = seq, w_ih[:, c:c + p].T, w_hh.T
        self.pre = (context @ w_ih[:, :c].T + emotion @ w_ih[:, c + p:].T + lstm.bias_ih_l0 + lstm.bias_hh_l0)
        b = context.shape[0]
        self.h = torch.zeros(b, lstm.hidden_size, device=context.device)
        self.c = torch.zeros_like(self.h)

    def step(self, t: int, previous: torch.Tensor) -> torch.Tensor:
        gates = self.pre[:, t] + self.seq.cue(previous) @ self.w_cue + self.h @ self.w_hh
        i, f, g, o = gates.chunk(4, dim=1)
        self.c = torch.sigmoid(f) * self.c + torch.sigmoid(i) * torch.tanh(g)
        self.h = torch.sigmoid(o) * torch.tanh(self.c)
        return self.seq.head(self.h)


@torch.inference_mode()
def decode(model: CueModel, windows: torch.Tensor, mix: torch.Tensor, gumbel: torch.Tensor,
           landmark_mix: torch.Tensor | None = None, landmark_windows: torch.Tensor | None = None) -> Decoded:
    """windows (B, F, W, D), mix (B, F, 8), gumbel (B, F, S·S) → Decoded.

    ``landmark_mix`` / ``landmark_windows`` (B', F, …) give the landmark sequentializer its own
    batch of variants (other emotions per face region, silence for lip scaling); their
    hidden states feed no classifier. Without them it decodes the takes themselves.
    """
    cfg = model.cfg
    b, frames = windows.shape[:2]
    codes = model.audio_codes(windows)
    ctx = {name: windowed_context(getattr(model, name), codes, cfg.window_frames, cfg.overlap_frames)
           for name in ("landmarks", "pose", "gaze")}
    steppers = {name: _Stepper(getattr(model, name), ctx[name], getattr(model, name).emotion(mix))
                for name in ("landmarks", "pose", "gaze")}
    variants = None
    if landmark_mix is not None:
        lm_ctx = windowed_context(model.landmarks, model.audio_codes(landmark_windows), cfg.window_frames,
                                  cfg.overlap_frames)
        variants = _Stepper(model.landmarks, lm_ctx, model.landmarks.emotion(landmark_mix))
    s = cfg.gaze_regions
    device = windows.device
    lm_prev = torch.zeros(b, 3 * cfg.landmark_points, device=device)
    var_prev = torch.zeros(landmark_mix.shape[0], 3 * cfg.landmark_points, device=device) if variants else None
    pose_prev = torch.zeros(b, 6, device=device)
    gaze_prev = model.gaze_input(torch.full((b,), 2 + s * 2, device=device))      # both eyes forward
    landmarks = torch.empty(b, frames, 3 * cfg.landmark_points, device=device)
    var_out = torch.empty(landmark_mix.shape[0], frames, 3 * cfg.landmark_points, device=device) if variants else None
    pose = torch.empty(b, frames, 6, device=device)
    gaze = torch.empty(b, frames, dtype=torch.long, device=device)
    hidden = torch.empty(b, frames, 3 * cfg.decoder_hidden, device=device)
    h = cfg.decoder_hidden
    for t in range(frames):
        lm_prev = landmarks[:, t] = steppers["landmarks"].step(t, lm_prev)
        pose_prev = pose[:, t] = steppers["pose"].step(t, pose_prev)
        joint = (steppers["gaze"].step(t, gaze_prev) + gumbel[:, t]).argmax(-1)
        gaze[:, t] = joint
        gaze_prev = model.gaze_input(joint)
        hidden[:, t, :h], hidden[:, t, h:2 * h], hidden[:, t, 2 * h:] = \
            steppers["landmarks"].h, steppers["pose"].h, steppers["gaze"].h
        if variants:
            var_prev = var_out[:, t] = variants.step(t, var_prev)
    probs = torch.softmax(model.classifier(hidden), -1)
    chosen = var_out if variants else landmarks
    return Decoded(landmarks=chosen.reshape(chosen.shape[0], frames, -1, 3).cpu().numpy(),
                   pose=pose.cpu().numpy(), gaze=gaze.cpu().numpy(), emotion_probs=probs.cpu().numpy())


def gumbel_noise(seed: int, frames: int, classes: int) -> np.ndarray:
    uniform = np.random.default_rng(seed).uniform(1e-9, 1.0, size=(frames, classes))
    return (-np.log(-np.log(uniform))).astype(np.float32)
