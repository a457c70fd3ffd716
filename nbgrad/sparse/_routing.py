"""What a dense op does when a sparse COO tensor reaches the dispatcher.

The dispatcher calls `route(op, inputs)` when an input of an op that is not one of the sparse
primitives holds a sparse payload. The op's name picks its sparse form here; an op without one
raises PyTorch's NotImplementedError for a missing sparse kernel, naming the op, so no dense
code ever runs on a sparse tensor's payload.
"""
import numbers

import numpy as np

from .._dtype import from_numpy_dtype, int64
from .._tensor import Tensor
from .. import _sparse_coo as _coo
from . import _ops
from .._sparse_coo import SparseCOO

# ops that map zero to zero, so they act on the stored values alone; PyTorch coalesces first
# (its result is coalesced), except neg, which keeps the entries as they are
ZERO_PRESERVING = {
    'abs', 'sqrt', 'tanh', 'relu', 'square', 'pow', 'sin', 'sinh', 'asin', 'asinh', 'atan',
    'atanh', 'tan', 'expm1', 'log1p', 'sign', 'sgn', 'floor', 'ceil', 'trunc', 'frac', 'erf',
    'erfinv', 'deg2rad', 'rad2deg', 'nan_to_num', 'signbit', 'isnan', 'isinf', 'isposinf',
    'isneginf',
}


def dispatch(op, *inputs):
    from .._dispatch import dispatch as _dispatch
    return _dispatch(op, *inputs)


def is_sparse(x):
    return isinstance(x, Tensor) and x._data.__class__ is SparseCOO


def node_name(op):
    """The name PyTorch gives the node of `op` applied to a sparse tensor."""
    return getattr(op, 'node_name', None) or op.name()


def values_of(s, name='ValuesBackward0', keeps_flag=False):
    """The values of sparse tensor s as a dense tensor that carries s's gradient back."""
    return dispatch(_ops.Values(name, keeps_flag), s)


def with_values(pattern, values, name, coalesced=None):
    """A sparse tensor with `pattern`'s indices (a payload) and the dense tensor `values`."""
    flag = pattern.coalesced if coalesced is None else coalesced
    return dispatch(_ops.FromValues(pattern.indices, pattern.shape, flag, name), values)


def coalesced(s):
    return s if s._data.coalesced else dispatch(_ops.Coalesce(), s)


def _is_scalar(x):
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and not is_sparse(x) and
                                             x._data.ndim == 0)


def _add(op, inputs, sign):
    a, b = inputs
    name = 'add' if sign > 0 else 'sub'
    if is_sparse(a) and is_sparse(b):
        return dispatch(_ops.AddSparse(sign, node_name(op)), a, b)
    if is_sparse(b) and isinstance(a, Tensor):
        return dispatch(_ops.DenseAddSparse(sign, node_name(op)), a, b)
    raise RuntimeError(f'{name}(sparse, dense) is not supported. Use {name}(dense, sparse) '
                       f'instead.')


def _mul(op, inputs):
    a, b = inputs
    if is_sparse(a) and is_sparse(b):
        return dispatch(_ops.MulSparse(), a, b)
    s, other = (a, b) if is_sparse(a) else (b, a)
    name = node_name(op)
    if _is_scalar(other):
        return with_values(s._data, values_of(s) * other, name)
    shape = s._data.shape
    if tuple(other.shape) == shape:     # (other's gradient: sparse, with s's pattern)
        at_entries = dispatch(_ops.GatherAt(s._data), other)
    else:
        try:
            fits = np.broadcast_shapes(tuple(other.shape), shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f'mul(sparse, dense): the dense tensor {list(other.shape)} must '
                               f'broadcast to the sparse tensor\'s size {list(shape)}')
        # a broadcast operand: read through its expanded form; its gradient is dense (PyTorch
        # cannot reduce a sparse gradient to its size)
        k = s._data.sparse_dim
        rows = other.expand(shape).reshape((-1,) + shape[k:])
        at_entries = rows[Tensor._make(_coo.linear_index(s._data.indices, shape[:k],
                                                         s._data.xp))]
    return with_values(s._data, values_of(s) * at_entries, name)


def _scalar_divisor(op, inputs):
    s, other = inputs
    if not is_sparse(s) or not _is_scalar(other):
        raise RuntimeError(f'{_op_name(op)} of sparse tensors: only a sparse tensor divided by a '
                           f'scalar (a number or a 0-d dense tensor) is supported, as in '
                           f'PyTorch.')
    return s, other


def _div(op, inputs):
    s, other = _scalar_divisor(op, inputs)
    return with_values(s._data, dispatch(op, values_of(s), other), node_name(op))


def _rounding_divide(op, inputs):
    """// and div(rounding_mode=...): rounding does not distribute over repeated entries, so
    the tensor is coalesced first (PyTorch's result is coalesced)."""
    s, other = _scalar_divisor(op, inputs)
    c = coalesced(s)
    return with_values(c._data, dispatch(op, values_of(c), other), node_name(op),
                       coalesced=True)


def _unary(op, inputs):
    (s,) = inputs[:1]
    if any(isinstance(x, Tensor) for x in inputs[1:]):
        return _refuse(op, inputs)      # (pow with a tensor exponent: PyTorch has no kernel)
    if getattr(op, 'exponent', None) == 0:
        raise RuntimeError('pow: cannot raise to zeroth power on sparse tensor; it would make '
                           'the result tensor dense (call .to_dense() first)')
    c = coalesced(s)
    values = dispatch(op, values_of(c), *inputs[1:])
    return with_values(c._data, values, node_name(op), coalesced=True)


def _neg(op, inputs):
    (s,) = inputs
    return with_values(s._data, -values_of(s), node_name(op))


def _copy(op, inputs):
    """to(dtype/device) and clone(): new values, the same pattern (indices copied along)."""
    (s,) = inputs
    payload = s._data
    if op.__class__.__name__ == 'Clone':
        values = values_of(s).clone()
        indices = payload.indices.copy()
    else:
        values = dispatch(op, values_of(s))
        indices = Tensor._make(payload.indices).to(values.device)._data
    pattern = SparseCOO(indices, values._data, payload.shape, payload.coalesced)
    return with_values(pattern, values, node_name(op))


def _transpose(op, inputs):
    (s,) = inputs
    ndim = s._data.ndim
    dim0, dim1 = (op.dim0 % ndim, op.dim1 % ndim) if ndim else (0, 0)
    return dispatch(_ops.Transpose(dim0, dim1, node_name(op)), s)


def _mm(op, inputs):
    a, b = inputs
    if is_sparse(a) and is_sparse(b):
        return dispatch(_ops.SparseSparseMM(masked_grad=False), a, b)
    if is_sparse(a):
        if b.dim() == 1:
            return _mm(op, (a, b.unsqueeze(1))).squeeze(1)
        return dispatch(_ops.SparseDenseMM(False, node_name(op)), a, b)
    # dense @ sparse: (sparse^T @ dense^T)^T
    if a.dim() == 1:
        return _mm(op, (a.unsqueeze(0), b)).squeeze(0)
    return _mm(op, (b.t(), a.t())).t()


def _sum(op, inputs):
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
    out = sparse_sum_dims(s, dims, dtype, name)
    return _keep_dims(out, dims, payload.ndim, name) if op.keepdim else out


def sparse_sum_dims(s, dims, dtype=None, name='SparseSumBackward0'):
    """torch.sparse.sum over `dims` (sorted, non-negative): a coalesced sparse tensor while a
    sparse dim is left, else dense."""
    c = coalesced(s)
    payload = c._data
    k = payload.sparse_dim
    values = values_of(c)
    dense_axes = tuple(d - k + 1 for d in dims if d >= k)
    if dense_axes:
        values = values.sum(dense_axes)
    if dtype is not None:
        values = values.to(dtype)
    kept = [d for d in range(k) if d not in dims]
    shape = [payload.shape[d] for d in kept] + [
        payload.shape[d] for d in range(k, payload.ndim) if d not in dims]
    if not kept:
        out = values.sum(0)
    else:
        pattern = SparseCOO(payload.indices[kept], values._data, shape, False)
        out = coalesced(with_values(pattern, values, name))
    if out.grad_fn is not None:
        out.grad_fn.present_as(name)
    return out


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


def _index_items(op, payload):
    """s[...] as {dim: integer}: PyTorch indexes a sparse tensor with integers and full
    slices only (a slice would need a strided view)."""
    index = op.index if isinstance(op.index, tuple) else (op.index,)
    if index and index[-1] is Ellipsis:
        index = index[:-1]
    picks = {}
    for d, item in enumerate(index):
        if isinstance(item, slice) and item == slice(None):
            continue
        if isinstance(item, numbers.Integral) and not isinstance(item, bool) and \
                d < payload.ndim:
            size = payload.shape[d]
            if not -size <= item < size:
                raise IndexError(f'index {item} is out of bounds for dimension {d} with size '
                                 f'{size}')
            picks[d] = int(item) % size
            continue
        raise NotImplementedError(
            'indexing a sparse COO tensor: only integers and full slices (s[i], s[:, j], '
            's[i, j]) are supported, as in PyTorch; call .to_dense() first for other slices, '
            'masks or index tensors.')
    return picks


def _select(op, inputs):
    """s[i], s[:, j], s[i, j]...: the entries with those indices, in their stored order, one
    dim fewer per integer (PyTorch's select on a sparse tensor). Once every sparse dim is
    selected, the result is dense (the entries there summed)."""
    (s,) = inputs
    payload = s._data
    k = payload.sparse_dim
    picks = _index_items(op, payload)
    xp = payload.xp
    keep = xp.ones(payload.nnz, bool)
    for d, i in picks.items():
        if d < k:
            keep &= payload.indices[d] == i
    at = xp.flatnonzero(keep)
    values = values_of(s)[Tensor._make(at)]
    dense_picks = tuple(picks.get(d, slice(None)) for d in range(k, payload.ndim))
    if any(isinstance(p, int) for p in dense_picks):
        values = values[(slice(None),) + dense_picks]
    sparse_left = [d for d in range(k) if d not in picks]
    if not sparse_left:
        return values.sum(0)
    shape = [payload.shape[d] for d in range(payload.ndim) if d not in picks]
    # (PyTorch flags the result uncoalesced unless it has at most one entry)
    pattern = SparseCOO(payload.indices[sparse_left][:, at], values._data, shape,
                        at.shape[0] <= 1)
    return with_values(pattern, values, 'SelectBackward0')


def _index_select(op, inputs):
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
    xp = payload.xp
    wanted = index._data.reshape(-1).astype(np.int64)
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


def _unsqueeze(op, inputs):
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


def _permute(op, inputs):
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


def _vector_norm(op, inputs):
    """Tensor.norm of a sparse tensor: over every element only (PyTorch's norm_sparse), the
    norm of its coalesced values."""
    (s,) = inputs
    payload = s._data
    if len(op.dims) != payload.ndim and not getattr(op, 'every_dim', False):
        raise RuntimeError("norm of a sparse tensor: only full reductions are supported (as "
                           "PyTorch's norm_sparse), so 'dim' must either be empty or contain "
                           "all dimensions of the input; call .to_dense() first.")
    from ..linalg import vector_norm
    out = vector_norm(values_of(coalesced(s)), op.ord)
    if out.grad_fn is not None:
        out.grad_fn.present_as('NormBackward1')
    return out.reshape((1,) * payload.ndim) if op.keepdim else out


HANDLERS = {
    'basicindex': _select,
    'indexselect': _index_select,
    'unsqueeze': _unsqueeze,
    'permute': _permute,
    'vectornorm': _vector_norm,
    'add': lambda op, inputs: _add(op, inputs, 1),
    'sub': lambda op, inputs: _add(op, inputs, -1),
    'mul': _mul,
    'div': _div,
    'div_trunc': _rounding_divide,
    'floor_divide': _rounding_divide,
    'neg': _neg,
    'tocopy': _copy,
    'clone': _copy,
    't': _transpose,
    'transpose': _transpose,
    'mm': _mm,
    'matmul': _mm,
    'mv': _mm,
    'sum': _sum,
}
HANDLERS.update((name, _unary) for name in ZERO_PRESERVING)


def _op_name(op):
    from .._dispatch import _op_name as name_of
    return name_of(op)


def _refuse(op, inputs):
    name = _op_name(op)
    device = 'CPU' if any(is_sparse(x) and x.is_cpu for x in inputs) else 'CUDA'
    raise NotImplementedError(
        f"Could not run 'aten::{name}' with arguments from the 'Sparse{device}' backend: "
        f"nbgrad's sparse COO tensors do not support {name}. Call .to_dense() first, or see "
        f'nbgrad.sparse for what sparse tensors support.')


def route(op, inputs):
    handler = HANDLERS.get(_op_name(op))
    if handler is None:
        return _refuse(op, inputs)
    return handler(op, inputs)


def refuse_inplace(op):
    raise NotImplementedError(
        f"nbgrad: in-place {_op_name(op)}_ on a sparse COO tensor is not supported; use the "
        f'out-of-place form (s = s.{_op_name(op)}(...)) or .to_dense() first.')
