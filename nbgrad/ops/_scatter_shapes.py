"""PyTorch's shape rules for gather, scatter, scatter_add and scatter_reduce.

PyTorch reads a 0-dim self, index or src as if it had one dimension of size 1
(ensure_nonempty_dim / ensure_nonempty_size in ATen's ScatterGatherChecks.h): a 0-dim index
into a 1-d tensor names one position, and the result of gather with it is 0-dim. Without that
reading NumPy broadcasts the 0-dim index over the whole dimension (scatter would write every
element), so these ops run on the one-dimensional views given by `nonempty`.
"""
import numpy as np


def nonempty(a):
    """a 0-dim array as a 1-element 1-d view (others unchanged); Python scalars pass through."""
    if getattr(a, 'ndim', None) == 0:
        return a.reshape(1)
    return a


def _size(a, d):
    return a.shape[d] if a.ndim else 1


def check_index_dtype(index, name):
    """gather/scatter/scatter_add/scatter_reduce take int64 and int32 indices only."""
    if index.dtype != np.int64 and index.dtype != np.int32:
        raise RuntimeError(f'{name}(): Expected dtype int32/int64 for index')


def check_gather_shapes(a, index, dim):
    """PyTorch's gather_shape_check (skipped, as there, for an empty index)."""
    if index.size == 0:
        return
    dims = max(a.ndim, 1)
    if max(index.ndim, 1) != dims:
        raise RuntimeError('Index tensor must have the same number of dimensions as input tensor')
    for d in range(dims):
        if d != dim and _size(index, d) > _size(a, d):
            raise RuntimeError(f'Size does not match at dimension {d} expected index '
                               f'{list(index.shape)} to be no larger than self {list(a.shape)} '
                               f'apart from dimension {dim}')


def check_scatter_shapes(out, index, src, dim):
    """PyTorch's scatter_shape_check and its kernel's src check; `src` is an array, or None for
    a scalar value. Nothing is checked for an empty index (PyTorch writes nothing)."""
    if index.size == 0:
        return
    dims = max(out.ndim, 1)
    if max(index.ndim, 1) != dims:
        raise RuntimeError('Index tensor must have the same number of dimensions as self tensor')
    wrong = any(d != dim and _size(index, d) > _size(out, d) for d in range(dims))
    if src is not None:
        wrong = wrong or any(_size(index, d) > (_size(src, d) if d < max(src.ndim, 1) else 1)
                             for d in range(dims))
        if wrong:
            raise RuntimeError(f'Expected index {list(index.shape)} to be no larger than self '
                               f'{list(out.shape)} apart from dimension {dim} and to be no larger '
                               f'size than src {list(src.shape)}')
        if max(src.ndim, 1) != dims:
            raise RuntimeError('Index tensor must have the same number of dimensions as src '
                               'tensor')
    elif wrong:
        raise RuntimeError(f'Expected index {list(index.shape)} to be no larger than self '
                           f'{list(out.shape)} apart from dimension {dim}')
