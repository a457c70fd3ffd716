"""DLPack exchange (torch.utils.dlpack): zero-copy with NumPy, CuPy, PyTorch, JAX..."""
from .._creation import from_dlpack
from .._dlpack_capsule import DLDeviceType


def to_dlpack(tensor):
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack). Unlike
    __dlpack__, it takes tensors that require grad (their data), as PyTorch's does."""
    return tensor.detach().__dlpack__()


__all__ = ['DLDeviceType', 'from_dlpack']
