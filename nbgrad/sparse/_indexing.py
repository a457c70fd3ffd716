"""Indexing and views of sparse tensors, as PyTorch forms them: integer indexing and select
along any dim, index_select, unsqueeze and permute. Each rearranges the index rows and the values
(through values_of, so gradients flow back); PyTorch flags a result uncoalesced unless it has at
most one entry, and so does nbgrad."""
import numbers

import numpy as np

from .._dtype import int64
from .._tensor import Tensor
from ._build import dispatch, values_of, with_values
from ._ops import SparseNode
from .._sparse_coo import SparseCOO


def _index_items(op, payload):
    """s[...] as ({dim: integer}, positions of new axes in the result): PyTorch indexes a
    sparse tensor with integers, full slices, None and ... (other slices would need a strided
    view)."""
    items = list(op.index) if isinstance(op.index, tuple) else [op.index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        real = sum(1 for item in items if item is not None and item is not Ellipsis)
        items[at:at + 1] = [slice(None)] * (payload.ndim - real)
    picks, new_axes, d, out = {}, [], 0, 0
    for item in items:
        if item is None:
            new_axes.append(out)
            out += 1
            continue
        if d >= payload.ndim:
            raise IndexError(f'too many indices for tensor of dimension {payload.ndim}')
        if isinstance(item, slice) and item == slice(None):
            d, out = d + 1, out + 1
            continue
        if isinstance(item, numbers.Integral) and not isinstance(item, bool):
            size = payload.shape[d]
            if not -size <= item < size:
                raise IndexError(f'index {item} is out of bounds for dimension {d} with size '
                                 f'{size}')
            picks[d] = int(item) % size
            d += 1
            continue
        raise NotImplementedError(
            'indexing a sparse COO tensor: only integers, full slices, None and ... (s[i], '
            's[:, j], s[None], s[..., j]) are supported, as in PyTorch; call .to_dense() first '
            'for other slices, masks or index tensors.')
    return picks, new_axes


def select(op, inputs):
    (s,) = inputs
    picks, new_axes = _index_items(op, s._data)
    out = dispatch(Select(picks), s) if picks else s
    for position in new_axes:
        out = out.unsqueeze(position)
    return out


class Select(SparseNode):
    """s[i], s[:, j], s[i, j]...: the entries with those indices, in their stored order, one
    dim fewer per integer (PyTorch's select on a sparse tensor). Once every sparse dim is
    picked the result is dense (the entries there summed, in the values' dtype). The gradient
    goes back to every element at the picked positions: dense for a dense gradient (PyTorch's
    select_backward), sparse, with the picked indices restored, for a sparse one."""

    def __init__(self, picks):
        self.picks = picks      # {dim: index}

    def name(self):
        return 'SelectBackward0'

    def forward(self, s):
        self.shape, self.sparse_dim = s.shape, s.sparse_dim
        k, picks, xp = s.sparse_dim, self.picks, s.xp
        keep = xp.ones(s.nnz, bool)
        for d, i in picks.items():
            if d < k:
                keep &= s.indices[d] == i
        at = xp.flatnonzero(keep)
        values = s.values[at][(slice(None),) + self._dense_index()]
        sparse_left = [d for d in range(k) if d not in picks]
        if not sparse_left:
            return values.sum(0, dtype=values.dtype)
        shape = [s.shape[d] for d in range(len(s.shape)) if d not in picks]
        # (PyTorch flags the result uncoalesced unless it has at most one entry)
        return SparseCOO(s.indices[sparse_left][:, at], values, shape, at.shape[0] <= 1)

    def _dense_index(self):
        return tuple(self.picks.get(d, slice(None)) for d in range(self.sparse_dim,
                                                                   len(self.shape)))

    def backward(self, g):
        from .._creation import zeros
        index = tuple(self.picks.get(d, slice(None)) for d in range(len(self.shape)))
        if not g.is_sparse:
            full = zeros(self.shape, dtype=g.dtype, device=g.device)
            full[index] = g
            return full
        payload = g._data
        xp = payload.xp
        rows = list(payload.indices)
        for d in sorted(p for p in self.picks if p < self.sparse_dim):
            rows.insert(d, xp.full(payload.nnz, self.picks[d], np.int64))
        values = values_of(g)
        dense_index = self._dense_index()
        if any(isinstance(p, int) for p in dense_index):
            full = zeros((payload.nnz,) + tuple(self.shape[self.sparse_dim:]), dtype=g.dtype,
                         device=g.device)
            full[(slice(None),) + dense_index] = values
            values = full
        pattern = SparseCOO(xp.stack(rows), values._data, self.shape, payload.nnz <= 1)
        return with_values(pattern, values, 'SelectBackwardBackward0')


def index_select(op, inputs):
    """index_select along a sparse dim: for each position of `index` in turn, the entries with
    that index, in their stored order (PyTorch's order); along a dense dim, of the values."""
    s, index = inputs
    payload = s._data
    k, dim = payload.sparse_dim, op.dim
    if dim >= k:
        values = values_of(s).index_select(dim - k + 1, index)
        shape = payload.shape[:k] + tuple(values.shape[1:])
        pattern = SparseCOO(payload.indices, values._data, shape, payload.nnz <= 1)
        return with_values(pattern, values, 'IndexSelectBackward0')
    if index.dim() != 1 or index.dtype != int64:
        raise IndexError('index_select() argument index must be 1-D strided (non-sparse) '
                         f'long-tensor (got a {index.dim()}-d {index.dtype} tensor).')
    xp = payload.xp
    wanted = index._data
    size = payload.shape[dim]
    if wanted.shape[0] and (int(wanted.min()) < 0 or int(wanted.max()) >= size):
        raise IndexError(f'index_select(): index out of range in self (dim {dim} has size '
                         f'{size})')
    row = payload.indices[dim]
    order = xp.argsort(row, kind='stable')
    first = xp.searchsorted(row[order], wanted, side='left')
    count = xp.searchsorted(row[order], wanted, side='right') - first
    position = xp.repeat(xp.arange(wanted.shape[0]), count)
    offsets = xp.cumsum(count) - count
    at = order[first[position] + xp.arange(position.shape[0]) - offsets[position]]
    indices = payload.indices[:, at]
    indices[dim] = position
    values = values_of(s)[Tensor._make(at)]
    shape = list(payload.shape)
    shape[dim] = wanted.shape[0]
    pattern = SparseCOO(indices, values._data, shape, at.shape[0] <= 1)
    return with_values(pattern, values, 'IndexSelectBackward0')


def unsqueeze(op, inputs):
    """A size-1 dim: a sparse one (a row of zero indices) where it lands among the sparse dims,
    else a dense one."""
    (s,) = inputs
    payload = s._data
    k, dim = payload.sparse_dim, op.dim
    shape = list(payload.shape)
    shape.insert(dim, 1)
    values = values_of(s)
    indices = payload.indices
    if dim <= k:
        xp = payload.xp
        rows = list(indices)
        rows.insert(dim, xp.zeros(payload.nnz, np.int64))
        indices = xp.stack(rows)
    else:
        values = values.unsqueeze(dim - k + 1)
    # (PyTorch flags the result uncoalesced unless it has at most one entry)
    pattern = SparseCOO(indices, values._data, shape, payload.nnz <= 1)
    return with_values(pattern, values, 'UnsqueezeBackward0')


def permute(op, inputs):
    """Sparse dims among themselves (index rows) and dense dims among themselves (values)."""
    (s,) = inputs
    payload = s._data
    k, dims = payload.sparse_dim, tuple(op.dims)
    if sorted(dims[:k]) != list(range(k)):
        raise RuntimeError('permute(sparse_coo): transpositions between sparse and dense '
                           'dimensions are not allowed. Only transpositions within sparse and '
                           'dense dimensions are supported.')
    values = values_of(s)
    dense_order = tuple(d - k + 1 for d in dims[k:])
    if dense_order != tuple(range(1, len(dense_order) + 1)):
        values = values.permute((0,) + dense_order)
    identity = dims[:k] == tuple(range(k))
    shape = [payload.shape[d] for d in dims]
    pattern = SparseCOO(payload.indices[list(dims[:k])], values._data, shape,
                        payload.coalesced and (identity or payload.nnz <= 1))
    return with_values(pattern, values, 'PermuteBackward0')
