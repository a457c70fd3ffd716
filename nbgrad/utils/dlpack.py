"""DLPack exchange (torch.utils.dlpack): zero-copy with NumPy, CuPy, PyTorch, JAX..."""
from .._creation import from_dlpack
from .._dlpack_capsule import DLDeviceType


def to_dlpack(tensor):
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack)."""
    return tensor.__dlpack__()


__all__ = ['DLDeviceType', 'from_dlpack']
