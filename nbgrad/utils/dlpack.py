"""DLPack exchange (torch.utils.dlpack): zero-copy with NumPy, CuPy, PyTorch, JAX..."""
from .. import _creation
from .._dlpack_capsule import CapsuleExporter, is_capsule


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of a DLPack producer (NumPy, CuPy, PyTorch, JAX...) or of
    a DLPack capsule (consumed: a capsule gives one tensor)."""
    if is_capsule(ext_tensor):
        ext_tensor = CapsuleExporter(ext_tensor)
    return _creation.from_dlpack(ext_tensor)


def to_dlpack(tensor):
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack)."""
    return tensor.__dlpack__()


__all__ = ['from_dlpack', 'to_dlpack']
