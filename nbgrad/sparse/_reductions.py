"""Sums and norms of sparse tensors: Tensor.sum (dense over every dim, else sparse while a
sparse dim is left; integers summed as int64), torch.sparse.sum's reduction over dims, keepdim,
and Tensor.norm (full reductions only, as PyTorch's norm_sparse)."""
import numpy as np

from .._dtype import from_numpy_dtype, int64
from . import _ops
from ._build import coalesced, dispatch, is_sparse, values_of, with_values
from ._ops import SparseNode
from .._sparse_coo import SparseCOO


def sum_(op, inputs):
    """Tensor.sum: a dense 0-d tensor over every dim, else torch.sparse.sum's result (integers
    summed as int64, as Tensor.sum does), with keepdim's size-1 dims put back."""
    (s,) = inputs
    payload = s._data
    dims = op.dims
    dtype = None if op.dtype is None else from_numpy_dtype(np.dtype(op.dtype))
    if dtype is None and payload.dtype.kind in 'biu':
        dtype = int64
    name = 'SumBackward1' if getattr(op, 'overload', 0) else 'SumBackward0'
    if len(dims) == payload.ndim:
        out = dispatch(_ops.SumAll(dtype), s)
        return out.reshape((1,) * payload.ndim) if op.keepdim else out
    out = sparse_sum_dims(s, dims, dtype, name, dense_grad=True)
    return _keep_dims(out, dims, payload.ndim, name) if op.keepdim else out


def sparse_sum_dims(s, dims, dtype=None, name='SparseSumBackward0', dense_grad=False):
    """torch.sparse.sum over `dims` (sorted, non-negative): a coalesced sparse tensor while a
    sparse dim is left, else dense. Summed over every sparse dim, Tensor.sum's gradient
    (dense_grad) is dense over every element, torch.sparse.sum's sparse at the entries, as in
    PyTorch."""
    if dtype is not None:   # (before coalescing: repeated int8 entries add up in int64)
        s = s.to(dtype)
    c = coalesced(s)
    payload = c._data
    k = payload.sparse_dim
    dense_axes = tuple(d - k + 1 for d in dims if d >= k)
    kept = [d for d in range(k) if d not in dims]
    if not kept and dense_grad:
        out = dispatch(SumOverEntries(dense_axes), c)
    elif not kept:
        out = values_of(c).sum((0,) + dense_axes, dtype=c.dtype)
    else:
        values = values_of(c)
        if dense_axes:
            values = values.sum(dense_axes, dtype=values.dtype)
        shape = [payload.shape[d] for d in kept] + [
            payload.shape[d] for d in range(k, payload.ndim) if d not in dims]
        pattern = SparseCOO(payload.indices[kept], values._data, shape, False)
        out = coalesced(with_values(pattern, values, name))
    if out.grad_fn is not None:
        out.grad_fn.present_as(name)
    return out


class SumOverEntries(SparseNode):
    """A sum over every sparse dim (and `dense_axes` of the values): a dense tensor. Its
    gradient is dense over every element, as PyTorch's sum backward gives it."""

    def __init__(self, dense_axes):
        self.dense_axes = dense_axes

    def forward(self, c):
        self.shape, self.sparse_dim = c.shape, c.sparse_dim
        return c.values.sum(axis=(0,) + self.dense_axes, dtype=c.values.dtype)

    def backward(self, g):
        k, shape = self.sparse_dim, self.shape
        kept_shape = [1] * k + [1 if d - k + 1 in self.dense_axes else shape[d]
                                for d in range(k, len(shape))]
        return g.reshape(kept_shape).expand(shape)


def _keep_dims(out, dims, ndim, name):
    """A sum's result with its reduced dims back as size-1 dims (keepdim=True): index rows of
    zeros for the sparse ones. PyTorch's sparse result is flagged uncoalesced."""
    if not is_sparse(out):
        shape = list(out.shape)
        for d in dims:
            shape.insert(d, 1)
        return out.reshape(shape)
    payload = out._data
    xp = payload.xp
    indices, shape = list(payload.indices), list(payload.shape)
    values = values_of(out)
    k_before = payload.sparse_dim + len([d for d in dims if d < ndim - payload.dense_dim])
    for d in dims:
        shape.insert(d, 1)
        if d < k_before:
            indices.insert(d, xp.zeros(payload.nnz, np.int64))
        else:
            values = values.unsqueeze(d - k_before + 1)
    index_array = xp.stack(indices) if indices else xp.zeros((0, payload.nnz), np.int64)
    pattern = SparseCOO(index_array, values._data, shape, payload.nnz <= 1)
    return with_values(pattern, values, name)


def vector_norm(op, inputs):
    """Tensor.norm of a sparse tensor: over every element only (PyTorch's norm_sparse), the
    norm of its coalesced values."""
    (s,) = inputs
    payload = s._data
    if len(op.dims) != payload.ndim and not getattr(op, 'every_dim', False):
        raise RuntimeError("norm of a sparse tensor: only full reductions are supported (as "
                           "PyTorch's norm_sparse), so 'dim' must either be empty or contain "
                           "all dimensions of the input; call .to_dense() first.")
    from ..linalg import vector_norm as norm_of
    out = norm_of(values_of(coalesced(s)), op.ord)
    if out.grad_fn is not None:
        out.grad_fn.present_as('NormBackward1')
    return out.reshape((1,) * payload.ndim) if op.keepdim else out


def any_all(op, inputs):
    """Tensor.any() of a sparse tensor: whether any stored value is nonzero (PyTorch looks at
    the stored values as they are: repeats that would cancel still count). PyTorch has no sparse
    kernel for any(dim) or all(), so they raise its NotImplementedError."""
    (s,) = inputs
    if op.is_all or op.dims is not None:
        from ._routing import refuse
        name = 'all' if op.is_all else 'any'
        return refuse(name if op.dims is None else f'{name}.dim', inputs)
    from .._tensor import Tensor
    values = s._data.values
    return Tensor._make(s._data.xp.asarray((values != 0).any(), dtype=bool))
