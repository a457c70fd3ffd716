"""Tensor.narrow_copy / torch.narrow_copy of a sparse COO tensor, as PyTorch forms it.

Along a sparse dim: the entries whose index lies in [start, start + length), in their stored
order, shifted down by start. Along a dense dim: every entry, its values narrowed. The result
keeps the input's coalesced flag. PyTorch takes dim in [0, ndim) only (no negative dims) here.

The gradient (NarrowCopyBackward0) writes a dense incoming gradient into zeros of the input's
size; a sparse one raises, as PyTorch's backward does (it has no sparse kernel for that).
"""
import numbers

from .._tensor import Tensor
from .._sparse_coo import SparseCOO
from ._build import dispatch, is_sparse
from ._compressed import is_compressed
from ._ops import SparseNode


def _integer(value, name):
    if isinstance(value, Tensor) and value.dim() == 0 and not value.is_floating_point():
        return int(value.item())
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"narrow_copy(): argument '{name}' must be int, not {type(value).__name__}")


def narrow_copy(self, dim, start, length):
    if is_compressed(self):
        raise RuntimeError('Sparse CSR tensors do not have strides: narrow_copy takes a COO '
                           'tensor; call .to_sparse() first.')
    dim, start, length = (_integer(dim, 'dim'), _integer(start, 'start'),
                          _integer(length, 'length'))
    ndim = self._data.ndim
    if ndim == 0:
        raise RuntimeError('narrow() cannot be applied to a 0-dim tensor.')
    if not 0 <= dim < ndim:
        raise RuntimeError(f'Dimension {dim} out of range. Expecting 0 <= dim < {ndim}.')
    if length < 0:
        raise RuntimeError('narrow(): length must be non-negative.')
    size = self._data.shape[dim]
    if start < 0 or start + length > size:
        raise RuntimeError(f'Invalid range to narrow. range(start, start+length) must be a '
                           f'subset of range(0, {size}).')
    return dispatch(SparseNarrowCopy(dim, start, length), self)


class SparseNarrowCopy(SparseNode):
    def __init__(self, dim, start, length):
        self.dim, self.start, self.length = dim, start, length

    def name(self):
        return 'NarrowCopyBackward0'

    def forward(self, s):
        self.shape = s.shape
        dim, start, stop = self.dim, self.start, self.start + self.length
        shape = list(s.shape)
        shape[dim] = self.length
        k = s.sparse_dim
        if dim < k:
            xp = s.xp
            row = s.indices[dim]
            at = xp.flatnonzero((row >= start) & (row < stop))
            indices = s.indices[:, at]      # (advanced indexing: a copy)
            indices[dim] -= start
            return SparseCOO(indices, s.values[at], shape, s.coalesced)
        window = [slice(None)] * s.values.ndim
        window[dim - k + 1] = slice(start, stop)
        return SparseCOO(s.indices.copy(), s.values[tuple(window)].copy(), shape, s.coalesced)

    def backward(self, g):
        if is_sparse(g):
            raise NotImplementedError(
                "Could not run 'aten::as_strided' with arguments from the 'SparseCPU' backend: "
                "narrow_copy's backward cannot take a sparse gradient (here from to_dense() or "
                "torch.sparse ops), as in PyTorch; use a product with a dense gradient "
                "(torch.mm), or narrow the dense tensor instead.")
        from .._creation import zeros
        full = zeros(self.shape, dtype=g.dtype, device=g.device)
        index = [slice(None)] * len(self.shape)
        index[self.dim] = slice(self.start, self.start + self.length)
        full[tuple(index)] = g
        return full
