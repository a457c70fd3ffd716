"""Tensor.resize_ / resize_as_: PyTorch's in-place resize, where NumPy memory can mirror
PyTorch's storage."""
from ._creation import uninitialized
from ._memory_format import preserve_format as _preserve_format, contiguous_format as _contiguous
from ._tensor import Tensor
from .ops._util import size_arg, xp_of


def resize_(self, *sizes, memory_format=None):
    """PyTorch's resize_ where NumPy memory can mirror its storage: same size, a no-op; a
    C-ordered tensor keeps its first elements in C order (shrinking keeps its memory, growing
    copies them into new memory with the rest uninitialized, as PyTorch's fresh storage).
    Growing a view, reshaping a non-contiguous tensor and channels-last layouts would reach
    storage NumPy does not expose: they raise."""
    shape = tuple(size_arg(sizes, 'resize_'))
    if any(s < 0 for s in shape):
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(shape)}: '
                           f'{list(shape)}')
    if self.requires_grad:
        raise RuntimeError('cannot resize variables that require grad')
    if memory_format not in (None, _contiguous, _preserve_format):
        raise NotImplementedError(f'resize_(memory_format={memory_format}) is not supported by '
                                  'nbgrad; resize, then .contiguous(memory_format=...)')
    if shape == tuple(self.shape):
        return self
    a = self._data
    count = 1
    for size in shape:
        count *= size
    if not a.flags.c_contiguous:
        raise NotImplementedError('resize_ of a non-contiguous tensor reinterprets its storage, '
                                  'which nbgrad does not expose: call .contiguous() first')
    flat = a.reshape(-1)
    if count <= flat.size:
        self._data = flat[:count].reshape(shape)
    elif self._base is not None:
        raise NotImplementedError('resize_ growing a view would read its base beyond the view, '
                                  'which nbgrad does not expose: resize a clone() instead')
    else:
        grown = uninitialized(xp_of(a).empty(count, a.dtype))
        grown[:flat.size] = flat
        self._data = grown.reshape(shape)
    self._vc[0] += 1
    return self


Tensor.resize_ = resize_
Tensor.resize_as_ = lambda self, the_template, *, memory_format=None: resize_(
    self, tuple(the_template.shape), memory_format=memory_format)
