"""Tensor.pin_memory / is_pinned: CPU tensors in page-locked (pinned) host memory, which the GPU
reads by DMA, so host-to-device copies of them can overlap with compute. Pinned memory comes
from CuPy (cupyx.empty_pinned: a NumPy array over a CUDA host allocation), so it needs CUDA, as
in PyTorch, which refuses without an accelerator."""
import numpy as np

from ._tensor import Tensor


def _allocation(array):
    """The object that owns array's memory (NumPy keeps the owner as the last .base)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def is_pinned(self, device=None):
    data = self._data
    if data.__class__ is not np.ndarray:
        return False
    owner = _allocation(data)
    return type(owner).__name__ == 'PinnedMemoryPointer'


def pin_memory(self, device=None):
    from . import cuda
    if not cuda.is_available():
        raise RuntimeError('Cannot access accelerator device when none is available.')
    if self.device.type != 'cpu':
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if is_pinned(self):
        return self
    import cupyx
    pinned = cupyx.empty_pinned(self._data.shape, dtype=self._data.dtype)
    pinned[...] = self._data
    # a copy in autograd's eyes (clone), whose fresh storage is then the pinned array
    out = self.clone()
    out._data = pinned
    return out


Tensor.pin_memory = pin_memory
Tensor.is_pinned = is_pinned
