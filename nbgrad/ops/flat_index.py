"""Indices into a tensor seen as flat (row-major): put / put_ write source at such indices,
unravel_index turns them into coordinates. put is composed from index_put on the flattened
tensor, so its gradients are PyTorch's (self: grad with zeros where values were replaced unless
accumulate; source: grad taken at index)."""
import itertools
import operator

from .._tensor import Tensor
from .._memory_overlap import refuse_partial_overlap
from .._node_names import presents_as


def _type_word(t):
    from .._dispatch import _type_word as word
    return word(t._data.dtype)


def _check_put(input, index, source):
    if index._data.dtype != 'int64':
        raise RuntimeError(f'put_(): Expected a long tensor for index, but got '
                           f'{_type_word(index)}')
    if input.dtype != source.dtype:
        raise RuntimeError(f'put_(): self and source expected to have the same dtype, but got '
                           f'self.dtype = {_type_word(input)} and source.dtype = '
                           f'{_type_word(source)}')
    if source.numel() != index.numel():
        raise IndexError(f'put_(): Expected source and index to have the same number of '
                         f'elements, but got source.numel() = {source.numel()}, index.numel() = '
                         f'{index.numel()}')
    if input.device != index.device or input.device != source.device:
        raise RuntimeError(f'put_(): Expected all tensors to be on the same device, but found '
                           f'{input.device}, {index.device} and {source.device}')
    n = input.numel()
    flat = index._data.reshape(-1)
    if flat.size:
        bad = (flat < -n) | (flat >= n)
        if bool(bad.any()):
            first = int(flat[bad.argmax()])
            raise IndexError(f'out of range: tried to access index {first} on a tensor of {n} '
                             f'elements.')


@presents_as('PutBackward0')
def put(input, index, source, accumulate=False):
    """A copy of input with source's elements written at the flat indices `index` (added to
    what is there when accumulate)."""
    _check_put(input, index, source)
    out = input.reshape(-1).index_put((index.reshape(-1),), source.reshape(-1), accumulate)
    return out.reshape(input.shape)


def put_(input, index, source, accumulate=False):
    _check_put(input, index, source)
    refuse_partial_overlap(input, source)
    return input.copy_(put(input, index, source, accumulate))


def unravel_index(indices, shape):
    """Coordinates (one tensor per dimension of shape) of flat indices into a tensor of that
    shape; negative indices count from the end (PyTorch's torch.functional.unravel_index)."""
    if indices.is_complex() or indices.is_floating_point() or indices._data.dtype == bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if not isinstance(shape, (int, tuple, list)):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if isinstance(shape, int):
        shape = (shape,)
    else:
        for d in shape:
            if not isinstance(d, int):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got "
                                f'{type(d)}')
        shape = tuple(shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    from .._creation import tensor
    from .. import _dtype
    coefs = list(reversed(list(itertools.accumulate(reversed(shape[1:] + (1,)),
                                                     func=operator.mul))))
    coords = indices.unsqueeze(-1).floor_divide(
        tensor(coefs, device=indices.device, dtype=_dtype.int64)) % tensor(
        list(shape), device=indices.device, dtype=_dtype.int64)
    return coords.unbind(-1)


Tensor.put = put
Tensor.put_ = put_

__all__ = ['put', 'unravel_index']
