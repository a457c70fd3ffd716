"""What a dense op does when a sparse COO tensor reaches the dispatcher.

The dispatcher calls `route(op, inputs)` when an input of an op that is not one of the sparse
primitives holds a sparse payload. The op's name picks its sparse form here; an op without one
raises PyTorch's NotImplementedError for a missing sparse kernel, naming the op, so no dense
code ever runs on a sparse tensor's payload.
"""
import numbers

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
    return type(op).__name__ + 'Backward0' if not hasattr(op, 'node_name') else op.node_name


def values_of(s, name='ValuesBackward0'):
    """The values of sparse tensor s as a dense tensor that carries s's gradient back."""
    return dispatch(_ops.Values(name), s)


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
    if tuple(other.shape) != s._data.shape:
        raise RuntimeError(f'mul(sparse, dense): the shapes must match, but the sparse tensor '
                           f'is {list(s._data.shape)} and the dense one {list(other.shape)}')
    k = s._data.sparse_dim
    rows = other.reshape((-1,) + tuple(other.shape[k:]))
    at = Tensor._make(_coo.linear_index(s._data.indices, s._data.shape[:k], s._data.xp))
    return with_values(s._data, values_of(s) * rows[at], name)


def _div(op, inputs):
    s, other = inputs
    if not is_sparse(s) or not _is_scalar(other):
        raise RuntimeError('div of sparse tensors: only a sparse tensor divided by a scalar (a '
                           'number or a 0-d tensor) is supported, as in PyTorch.')
    return with_values(s._data, dispatch(op, values_of(s), other), node_name(op))


def _unary(op, inputs):
    (s,) = inputs[:1]
    if op.__class__.__name__ == '_ScalarPow' and not op.exponent > 0:
        raise RuntimeError(f'pow: cannot raise a sparse tensor to the power {op.exponent}; '
                           f'only positive exponents keep its missing entries zero.')
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
        return dispatch(_ops.SparseSparseMM(), a, b)
    if is_sparse(a):
        if b.dim() == 1:
            return _mm(op, (a, b.unsqueeze(1))).squeeze(1)
        return dispatch(_ops.SparseDenseMM(False, node_name(op)), a, b)
    # dense @ sparse: (sparse^T @ dense^T)^T
    if a.dim() == 1:
        return _mm(op, (a.unsqueeze(0), b)).squeeze(0)
    return _mm(op, (b.t(), a.t())).t()


def _sum(op, inputs):
    (s,) = inputs
    payload = s._data
    if getattr(op, 'keepdim', False):
        raise NotImplementedError('sum of a sparse tensor with keepdim=True is not supported '
                                  '(as in PyTorch); call .to_dense() first.')
    dims = tuple(sorted(d % payload.ndim for d in op.dims)) if payload.ndim else ()
    dtype = getattr(op, 'dtype', None)
    if len(dims) == payload.ndim:
        return dispatch(_ops.SumAll(dtype), s)
    return sparse_sum_dims(s, dims, dtype)


def sparse_sum_dims(s, dims, dtype=None):
    """torch.sparse.sum over `dims`: a sparse tensor while a sparse dim is left, else dense."""
    c = coalesced(s)
    payload = c._data
    k = payload.sparse_dim
    values = values_of(c, 'SumBackward0')
    dense_axes = tuple(d - k + 1 for d in dims if d >= k)
    if dense_axes:
        values = values.sum(dense_axes)
    if dtype is not None:
        values = values.to(dtype)
    kept = [d for d in range(k) if d not in dims]
    shape = [payload.shape[d] for d in kept] + [
        payload.shape[d] for d in range(k, payload.ndim) if d not in dims]
    if not kept:
        return values.sum(0)
    pattern = SparseCOO(payload.indices[kept], values._data, shape, False)
    return coalesced(with_values(pattern, values, 'SumBackward0'))


def _select(op, inputs):
    """s[i] (and s[i, j, ...]) over sparse dims: the entries with those indices, in their
    stored order, one dim fewer each (PyTorch's select on a sparse tensor)."""
    (s,) = inputs
    payload = s._data
    index = op.index if isinstance(op.index, tuple) else (op.index,)
    if not all(isinstance(i, int) for i in index) or len(index) > payload.sparse_dim:
        raise NotImplementedError('indexing a sparse COO tensor: only integers over its sparse '
                                  'dims (s[i], s[i, j]) are supported; call .to_dense() first '
                                  'for slices, masks or index tensors.')
    indices = payload.indices
    xp = payload.xp
    keep = xp.ones(indices.shape[1], bool)
    for d, i in enumerate(index):
        size = payload.shape[d]
        if not -size <= i < size:
            raise IndexError(f'index {i} is out of bounds for dimension {d} with size {size}')
        keep &= indices[d] == i % size
    at = xp.flatnonzero(keep)
    values = values_of(s, 'SelectBackward0')[Tensor._make(at)]
    n = len(index)
    if n == payload.sparse_dim:     # every sparse dim selected: the dense remainder
        return values.sum(0)
    # (a result of at most one entry counts as coalesced, as a new PyTorch tensor does)
    pattern = SparseCOO(indices[n:, at], values._data, payload.shape[n:],
                        payload.coalesced or at.shape[0] <= 1)
    return with_values(pattern, values, 'SelectBackward0')


HANDLERS = {
    'basicindex': _select,
    'add': lambda op, inputs: _add(op, inputs, 1),
    'sub': lambda op, inputs: _add(op, inputs, -1),
    'mul': _mul,
    'div': _div,
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


def route(op, inputs):
    from .._dispatch import _op_name
    name = _op_name(op)
    handler = HANDLERS.get(name)
    if handler is None:
        device = 'CPU' if any(is_sparse(x) and x.is_cpu for x in inputs) else 'CUDA'
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the 'Sparse{device}' backend: "
            f"nbgrad's sparse COO tensors do not support {name}. Call .to_dense() first, or see "
            f'nbgrad.sparse for what sparse tensors support.')
    return handler(op, inputs)


def refuse_inplace(op):
    from .._dispatch import _op_name
    raise NotImplementedError(
        f"nbgrad: in-place {_op_name(op)}_ on a sparse COO tensor is not supported; use the "
        f'out-of-place form (s = s.{_op_name(op)}(...)) or .to_dense() first.')
