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
    """Tensors on the device that decoded them."""
    landmarks: torch.Tensor       # (B, F, 147, 3) normalized displacement
    pose: torch.Tensor            # (B, F, 6) normalized pose offsets
    gaze: torch.Tensor            # (B, F) joint gaze classes
    emotion_probs: torch.Tensor   # (B, F, 8)


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
        self.hidden_size = lstm.hidden_size

    def step(self, pre: torch.Tensor, previous: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        """One frame: (its gate input, the previous cue, the state) → (cue, h, c)."""
        gates = pre + self.seq.cue(previous) @ self.w_cue + h @ self.w_hh
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self.seq.head(h), h, c


CHUNK = 32          # frames per CUDA graph replay


class _FrameLoop:
    """The three decoders stepped together through the frames, ``CHUNK`` at a time, from fixed
    buffers: each chunk's gate inputs and gaze noise are copied in, its cues copied out, the
    decoders' state and last cues carried in place. On CUDA a chunk is captured once as a graph
    and replayed — a frame is ~70 small kernels, whose launches, not their work, set the pace."""

    NAMES = ("landmarks", "pose", "gaze")

    def __init__(self, model: CueModel, steppers: dict[str, _Stepper], main: torch.Tensor, gumbel: torch.Tensor):
        self.model, self.steppers, self.main, self.gumbel = model, steppers, main, gumbel
        cfg, device = model.cfg, gumbel.device
        rows, b = steppers["landmarks"].pre.shape[0], gumbel.shape[0]
        chunk = lambda n, *shape, **kw: torch.zeros(n, CHUNK, *shape, device=device, **kw)
        self.pre = {name: chunk(stepper.pre.shape[0], stepper.pre.shape[-1]) for name, stepper in steppers.items()}
        self.noise = chunk(b, gumbel.shape[-1])
        self.out = {"landmarks": chunk(rows, 3 * cfg.landmark_points), "pose": chunk(b, 6),
                    "gaze": chunk(b, dtype=torch.long), "hidden": chunk(b, 3 * cfg.decoder_hidden)}
        self.state = {name: [torch.empty(s.pre.shape[0], s.hidden_size, device=device) for _ in "hc"]
                      for name, s in steppers.items()}
        self.start_gaze = torch.full((b,), CueModel.start_gaze_for(cfg), device=device)
        self.last = {"landmarks": torch.empty(rows, 3 * cfg.landmark_points, device=device),
                     "pose": torch.empty(b, 6, device=device), "gaze": model.gaze_input(self.start_gaze)}
        self._reset()
        self.graph = None

    def _reset(self) -> None:
        """The state before a take's first frame: decoders at zero, no cue yet."""
        for hc in self.state.values():
            for buffer in hc:
                buffer.zero_()
        self.last["landmarks"].zero_()
        self.last["pose"].zero_()
        self.last["gaze"].copy_(self.model.gaze_input(self.start_gaze))

    def _chunk(self, steps: int = CHUNK) -> None:
        """``steps`` frames from the buffers; capturable (no host sync, state written back in place)."""
        state = {name: list(hc) for name, hc in self.state.items()}
        last = dict(self.last)
        h = self.model.cfg.decoder_hidden
        for j in range(steps):
            for name in self.NAMES:
                out, state[name][0], state[name][1] = self.steppers[name].step(self.pre[name][:, j], last[name],
                                                                               *state[name])
                if name == "gaze":
                    joint = (out + self.noise[:, j]).argmax(-1)
                    self.out["gaze"][:, j] = joint
                    out = self.model.gaze_input(joint)
                else:
                    self.out[name][:, j] = out
                last[name] = out
            hidden = self.out["hidden"][:, j]
            hidden[:, :h] = state["landmarks"][0][self.main]
            hidden[:, h:2 * h], hidden[:, 2 * h:] = state["pose"][0], state["gaze"][0]
        for name in self.NAMES:
            self.last[name].copy_(last[name])
            for buffer, value in zip(self.state[name], state[name]):
                buffer.copy_(value)

    def _capture(self) -> None:
        """Warm up on a side stream (as capture requires), reset the state, capture one chunk."""
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            self._chunk()
        torch.cuda.current_stream().wait_stream(stream)
        self._reset()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
            self._chunk()

    def run(self, graphs: bool) -> dict[str, torch.Tensor]:
        """Every frame of the gaze noise → {landmarks, pose, gaze, hidden} (rows or takes, frames, …)."""
        frames = self.gumbel.shape[1]
        if graphs and self.graph is None:
            self._capture()
        out = {name: torch.empty(buffer.shape[0], frames, *buffer.shape[2:], dtype=buffer.dtype,
                                 device=buffer.device) for name, buffer in self.out.items()}
        for start in range(0, frames, CHUNK):
            n = min(CHUNK, frames - start)
            for name, stepper in self.steppers.items():
                self.pre[name][:, :n] = stepper.pre[:, start: start + n]
            self.noise[:, :n] = self.gumbel[:, start: start + n]
            if graphs:
                self.graph.replay()
            else:
                self._chunk(n)
            for name, buffer in self.out.items():
                out[name][:, start: start + n] = buffer[:, :n]
        return out


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
           variants: LandmarkVariants | None = None, graphs: bool | None = None) -> Decoded:
    """windows (B, F, W, D), mix (B, F, 8), gumbel (B, F, S·S), each take's frame count → Decoded
    (landmarks per variant row when ``variants`` are given, else per take). ``graphs``: step the
    frames by CUDA graph replays (the default on CUDA)."""
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
    main = torch.as_tensor([variants.takes.index(k) for k in range(b)], device=windows.device)
    if graphs is None:
        graphs = windows.device.type == "cuda"
    out = _FrameLoop(model, steppers, main, gumbel).run(graphs)
    probs = torch.softmax(model.classifier(out["hidden"]), -1)
    return Decoded(landmarks=out["landmarks"].reshape(len(variants.takes), frames, -1, 3), pose=out["pose"],
                   gaze=out["gaze"], emotion_probs=probs)


def gumbel_noise(seed: int, frames: int, classes: int) -> np.ndarray:
    uniform = np.random.default_rng(seed).uniform(1e-9, 1.0, size=(frames, classes))
    return (-np.log(-np.log(uniform))).astype(np.float32)
