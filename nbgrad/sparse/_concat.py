"""torch.cat and torch.stack of sparse COO tensors, as PyTorch forms them.

Along a sparse dim the entry lists are joined, each input's indices shifted by the sizes before
it; along a dense dim the entry lists are joined too (no entries merge), each input's values
padded with zeros to the joined dense size. The result is flagged uncoalesced unless it has at
most one entry, as PyTorch's is. stack(tensors, dim) is cat of the inputs with a size-1 dim
inserted at dim.

Gradients: PyTorch's CatBackward0 narrows the incoming gradient, which works for a dense one
(through torch.mm, say) and raises for a sparse one (its narrow has no sparse kernel), and so does
nbgrad's. StackBackward0 selects each input's slice, which works either way.
"""
import numpy as np

from .._sparse_coo import SparseCOO, promote
from ..ops._util import wrap_dim
from ._build import dispatch, is_sparse
from ._ops import SparseNode


def _check_all_sparse(tensors):
    """PyTorch's errors for a dense tensor among sparse ones (its message depends on whether
    the first one is sparse)."""
    if not is_sparse(tensors[0]):
        raise NotImplementedError("Could not run 'aten::_values' with arguments from the 'CPU' "
                                  "backend: cat/stack of a dense tensor with sparse ones; call "
                                  ".to_dense() on the sparse ones (or .to_sparse() on the dense "
                                  "ones) first.")
    for position, t in enumerate(tensors):
        if not is_sparse(t):
            raise RuntimeError(f'Concatenating sparse tensors, but a dense tensor was found at '
                               f'position {position}.')
    from ._compressed import is_compressed
    if any(is_compressed(t) for t in tensors):
        raise RuntimeError('Sparse CSR tensors do not have is_contiguous: cat/stack takes COO '
                           'tensors; call .to_sparse() first.')


def _check_same_dims(payloads):
    first = payloads[0]
    for position, p in enumerate(payloads):
        if (p.sparse_dim, p.dense_dim) != (first.sparse_dim, first.dense_dim):
            raise RuntimeError(f'All tensors must have the same sparse_dim and dense_dim: '
                               f'{first.sparse_dim}, {first.dense_dim}, but tensor at position '
                               f'{position} has {p.sparse_dim}, {p.dense_dim}.')


def _joined(payloads, dim):
    """The payloads' entries joined along dim (their shapes agree elsewhere)."""
    first = payloads[0]
    xp = first.xp
    k = first.sparse_dim
    dtype = first.dtype
    for p in payloads[1:]:
        dtype = promote(dtype, p.dtype)
    shape = list(first.shape)
    shape[dim] = sum(p.shape[dim] for p in payloads)
    offsets = np.cumsum([0] + [p.shape[dim] for p in payloads[:-1]])
    if dim < k:
        index_parts = []
        for p, offset in zip(payloads, offsets):
            part = p.indices.copy()
            part[dim] += int(offset)
            index_parts.append(part)
        value_parts = [p.values.astype(dtype, copy=False) for p in payloads]
    else:
        index_parts = [p.indices for p in payloads]
        axis = dim - k + 1
        value_parts = []
        for p, offset in zip(payloads, offsets):
            padded_shape = list(p.values.shape)
            padded_shape[axis] = shape[dim]
            padded = xp.zeros(padded_shape, dtype)
            at = [slice(None)] * len(padded_shape)
            at[axis] = slice(int(offset), int(offset) + p.shape[dim])
            padded[tuple(at)] = p.values
            value_parts.append(padded)
    indices = xp.concatenate(index_parts, axis=1)
    values = xp.concatenate(value_parts, axis=0)
    return SparseCOO(indices, values, shape, indices.shape[1] <= 1)


def _with_new_dim(p, dim):
    """p with a size-1 dim inserted at dim (a zero index row among the sparse dims, else a
    dense axis of the values)."""
    k = p.sparse_dim
    shape = list(p.shape)
    shape.insert(dim, 1)
    if dim <= k:
        xp = p.xp
        rows = list(p.indices)
        rows.insert(dim, xp.zeros(p.nnz, np.int64))
        indices = xp.stack(rows) if rows else xp.zeros((1, p.nnz), np.int64)
        return SparseCOO(indices, p.values, shape, p.coalesced)
    return SparseCOO(p.indices, xp_expand(p.values, dim - k + 1), shape, p.coalesced)


def xp_expand(values, axis):
    return values.reshape(values.shape[:axis] + (1,) + values.shape[axis:])


class SparseCat(SparseNode):
    def __init__(self, dim):
        self.dim = dim

    def name(self):
        return 'CatBackward0'

    def forward(self, *payloads):
        _check_same_dims(payloads)
        first = payloads[0]
        for position, p in enumerate(payloads):
            same = all(p.shape[d] == first.shape[d] for d in range(len(first.shape))
                       if d != self.dim)
            if not same:
                raise RuntimeError(f'All tensors must have the same shape: {list(first.shape)} '
                                   f'(except in the concatenating dimension), but found shape: '
                                   f'{list(p.shape)} at position {position}.')
        self.sizes = [p.shape[self.dim] for p in payloads]
        return _joined(payloads, self.dim)

    def backward(self, g):
        if is_sparse(g):
            raise NotImplementedError(
                "Could not run 'aten::as_strided' with arguments from the 'SparseCPU' backend: "
                "cat's backward narrows its gradient, which PyTorch cannot do to a sparse "
                "gradient (here from to_dense() or torch.sparse ops); use a product with a dense "
                "gradient (torch.mm), or cat the values instead.")
        pieces, start = [], 0
        for size, edge in zip(self.sizes, self._edges):
            pieces.append(g.narrow(self.dim, start, size) if edge is not None else None)
            start += size
        return tuple(pieces)


class SparseStack(SparseNode):
    def __init__(self, dim):
        self.dim = dim

    def name(self):
        return 'StackBackward0'

    def forward(self, *payloads):
        _check_same_dims(payloads)
        return _joined([_with_new_dim(p, self.dim) for p in payloads], self.dim)

    def backward(self, g):
        return tuple(g.select(self.dim, i) if edge is not None else None
                     for i, edge in enumerate(self._edges))


def cat_tensors(tensors, dim):
    """torch.cat when an input is sparse (nbgrad.ops.shape.cat sends it here)."""
    _check_all_sparse(tensors)
    return dispatch(SparseCat(wrap_dim(dim, tensors[0]._data.ndim)), *tensors)


def stack_tensors(tensors, dim):
    """torch.stack when an input is sparse (their sizes already agree)."""
    _check_all_sparse(tensors)
    return dispatch(SparseStack(wrap_dim(dim, tensors[0]._data.ndim + 1)), *tensors)
