"""Large tensors from the GPU into fresh numpy arrays, at the speed the host allows.

A plain ``tensor.cpu()`` copies into pageable memory through the driver's own small staging
buffer (~1.2 GB/s measured on an H100 host). Here the copy lands in a pinned buffer, taken from
a small pool and given back once read (~30 GB/s), and the new array is filled from it by
several threads at once (faulting in a fresh array's pages is what limits one thread). CPU
tensors are returned as they are.

``to_numpy_later`` does the same without waiting: the copy runs on a stream of its own and
the array is filled on a thread, so the GPU goes on with the next batch meanwhile.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

PARALLEL_BYTES = 8 * 2**20          # below this one thread is quicker than handing out slices
FILLERS = min(8, os.cpu_count() or 1)
KEPT_BUFFERS = 4                    # pinned buffers kept for reuse; past this the smallest is let go

_fillers = ThreadPoolExecutor(max_workers=FILLERS, thread_name_prefix="host-copy")
_finishers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="host-copy-finish")
_free_buffers: list[torch.Tensor] = []          # pinned buffers no copy in flight is using
_lock = threading.Lock()
_copy_streams: dict[torch.device, torch.cuda.Stream] = {}


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A fresh (for CPU tensors: shared) numpy array with ``tensor``'s values."""
    if tensor.device.type != "cuda":
        return tensor.detach().numpy()
    buffer, staged = _staged_like(tensor)
    try:
        staged.copy_(tensor)
        return _fresh_copy(staged.numpy())
    finally:
        _give_back(buffer)


def to_numpy_later(tensor: torch.Tensor) -> Future:
    """A future of ``to_numpy(tensor)`` that does not hold up the device's stream: the copy
    is queued behind the kernels that make ``tensor`` on a stream of its own, and the array is
    filled from pinned memory on a thread once it lands."""
    if tensor.device.type != "cuda":
        done: Future = Future()
        done.set_result(tensor.detach().numpy())
        return done
    buffer, staged = _staged_like(tensor)
    stream = _copy_stream(tensor.device)
    stream.wait_stream(torch.cuda.current_stream(tensor.device))
    with torch.cuda.stream(stream):
        staged.copy_(tensor, non_blocking=True)
        landed = torch.cuda.Event()
        landed.record(stream)
    tensor.record_stream(stream)            # its memory is not reused before the copy has read it

    def finish() -> np.ndarray:
        try:
            landed.synchronize()
            return _fresh_copy(staged.numpy())
        finally:
            _give_back(buffer)
    return _finishers.submit(finish)


def _fresh_copy(source: np.ndarray) -> np.ndarray:
    out = np.empty(source.shape, source.dtype)
    if source.nbytes < PARALLEL_BYTES or len(source) < 2:
        np.copyto(out, source)
        return out
    bounds = np.linspace(0, len(source), min(len(source), FILLERS) + 1).astype(int)
    list(_fillers.map(lambda k: np.copyto(out[bounds[k]: bounds[k + 1]], source[bounds[k]: bounds[k + 1]]),
                      range(len(bounds) - 1)))
    return out


def _staged_like(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A pinned byte buffer from the pool (or a new one) and a view of it shaped like ``tensor``."""
    size = tensor.numel() * tensor.element_size()
    with _lock:
        found = next((k for k, buffer in enumerate(_free_buffers) if buffer.numel() >= size), None)
        buffer = _free_buffers.pop(found) if found is not None else None
    if buffer is None:
        buffer = torch.empty(size, dtype=torch.uint8, pin_memory=True)
    return buffer, buffer[:size].view(tensor.dtype).view(tensor.shape)


def _give_back(buffer: torch.Tensor) -> None:
    with _lock:
        _free_buffers.append(buffer)
        if len(_free_buffers) > KEPT_BUFFERS:
            del _free_buffers[min(range(len(_free_buffers)), key=lambda k: _free_buffers[k].numel())]


def _copy_stream(device: torch.device) -> torch.cuda.Stream:
    with _lock:
        if device not in _copy_streams:
            _copy_streams[device] = torch.cuda.Stream(device)
        return _copy_streams[device]

