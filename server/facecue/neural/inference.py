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


def context_by_length(seq: Sequentializer, codes: torch.Tensor, lengths: list[int], window: int,
                      overlap: int) -> torch.Tensor:
    """Takes of different lengths padded into one batch: each read over its own frames only, so
    a take's context never depends on what it is batched with (takes of one length share a call)."""
    out = torch.zeros(*codes.shape[:2], seq.context_dims, device=codes.device)
    for length in sorted(set(lengths)):
        rows = torch.as_tensor([i for i, n in enumerate(lengths) if n == length], device=codes.device)
        out[rows, :length] = windowed_context(seq, codes[rows, :length], window, overlap)
    return out


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


@dataclass
class LandmarkVariants:
    """The landmark sequentializer's own batch: each take once as itself (its first row) and
    again under other conditions (a region's emotion mix, silence for lip scaling). Rows hear
    their take's audio unless they are ``silent_rows``, which hear ``silent_windows``."""
    mix: torch.Tensor                       # (B', F, 8)
    takes: list[int]                        # (B',) the take each row belongs to
    silent_rows: list[int]
    silent_windows: torch.Tensor | None     # (len(silent_rows), F, W, D)


@torch.inference_mode()
def decode(model: CueModel, windows: torch.Tensor, mix: torch.Tensor, gumbel: torch.Tensor, lengths: list[int],
           variants: LandmarkVariants | None = None) -> Decoded:
    """windows (B, F, W, D), mix (B, F, 8), gumbel (B, F, S·S), each take's frame count → Decoded
    (landmarks per variant row when ``variants`` are given, else per take)."""
    cfg = model.cfg
    b, frames = windows.shape[:2]
    variants = variants or LandmarkVariants(mix, list(range(b)), [], None)
    window, overlap = cfg.window_frames, cfg.overlap_frames
    codes = model.audio_codes(windows)
    variant_codes = codes[torch.as_tensor(variants.takes, device=windows.device)]
    if variants.silent_rows:
        variant_codes[variants.silent_rows] = model.audio_codes(variants.silent_windows)
    variant_lengths = [lengths[k] for k in variants.takes]
    steppers = {
        "landmarks": _Stepper(model.landmarks, context_by_length(model.landmarks, variant_codes, variant_lengths,
                                                                 window, overlap), model.landmarks.emotion(variants.mix)),
        "pose": _Stepper(model.pose, context_by_length(model.pose, codes, lengths, window, overlap),
                         model.pose.emotion(mix)),
        "gaze": _Stepper(model.gaze, context_by_length(model.gaze, codes, lengths, window, overlap),
                         model.gaze.emotion(mix))}
    h, device = cfg.decoder_hidden, windows.device
    rows = len(variants.takes)
    main = torch.as_tensor([variants.takes.index(k) for k in range(b)], device=device)
    lm_prev = torch.zeros(rows, 3 * cfg.landmark_points, device=device)
    pose_prev = torch.zeros(b, 6, device=device)
    gaze_prev = model.gaze_input(torch.full((b,), CueModel.start_gaze_for(cfg), device=device))
    landmarks = torch.empty(rows, frames, 3 * cfg.landmark_points, device=device)
    pose = torch.empty(b, frames, 6, device=device)
    gaze = torch.empty(b, frames, dtype=torch.long, device=device)
    hidden = torch.empty(b, frames, 3 * h, device=device)
    for t in range(frames):
        lm_prev = landmarks[:, t] = steppers["landmarks"].step(t, lm_prev)
        pose_prev = pose[:, t] = steppers["pose"].step(t, pose_prev)
        joint = (steppers["gaze"].step(t, gaze_prev) + gumbel[:, t]).argmax(-1)
        gaze[:, t] = joint
        gaze_prev = model.gaze_input(joint)
        hidden[:, t, :h] = steppers["landmarks"].h[main]
        hidden[:, t, h:2 * h], hidden[:, t, 2 * h:] = steppers["pose"].h, steppers["gaze"].h
    probs = torch.softmax(model.classifier(hidden), -1)
    return Decoded(landmarks=landmarks.reshape(rows, frames, -1, 3).cpu().numpy(), pose=pose.cpu().numpy(),
                   gaze=gaze.cpu().numpy(), emotion_probs=probs.cpu().numpy())


def gumbel_noise(seed: int, frames: int, classes: int) -> np.ndarray:
    uniform = np.random.default_rng(seed).uniform(1e-9, 1.0, size=(frames, classes))
    return (-np.log(-np.log(uniform))).astype(np.float32)
