"""What a dense op does when a sparse COO tensor reaches the dispatcher.

The dispatcher calls `route(op, inputs)` when an input of an op that is not one of the sparse
primitives holds a sparse payload. The op's name picks its sparse form here; an op without one
raises PyTorch's NotImplementedError for a missing sparse kernel, naming the op, so no dense
code ever runs on a sparse tensor's payload.
"""
import numbers

import numpy as np

from .._dtype import from_numpy_dtype
from .._tensor import Tensor
from .. import _sparse_coo as _coo
from . import _compressed, _dense_products, _indexing, _ops, _reductions
from ._build import coalesced, dispatch, is_sparse, node_name, values_of, with_values
from .._sparse_coo import SparseCOO

# ops that map zero to zero, so they act on the stored values alone; PyTorch coalesces first
# (its result is coalesced), except neg, which keeps the entries as they are
ZERO_PRESERVING = {
    'abs', 'sqrt', 'tanh', 'relu', 'square', 'pow', 'sin', 'sinh', 'asin', 'asinh', 'atan',
    'atanh', 'tan', 'expm1', 'log1p', 'sign', 'sgn', 'floor', 'ceil', 'trunc', 'frac', 'erf',
    'erfinv', 'deg2rad', 'rad2deg', 'signbit', 'isnan', 'isinf', 'isposinf',
    'isneginf',
}


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
    if _is_constant(other):
        return _linear(s, lambda v: v * other, lambda g: g * other, name)
    if _is_scalar(other):   # (a 0-d tensor that requires grad: it gets its gradient too)
        return with_values(s._data, values_of(s) * other, name)
    shape = s._data.shape
    if tuple(other.shape) == shape:
        return dispatch(_ops.MulDense(name), s, other)
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
    at_entries = rows[Tensor._make(_coo.linear_index(s._data.indices, shape[:k], s._data.xp))]
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
    if _is_constant(other):
        return _linear(s, lambda v: v / other, lambda g: g / other, node_name(op))
    return with_values(s._data, dispatch(op, values_of(s), other), node_name(op))


def _is_constant(x):
    """A number, or a 0-d dense tensor that needs no gradient."""
    return isinstance(x, numbers.Number) or (_is_scalar(x) and not x.requires_grad)


def _linear(s, fn, grad_fn, name, copy_indices=False):
    return dispatch(_ops.LinearInValues(fn, grad_fn, name, copy_indices), s)


def _rounding_divide(op, inputs):
    """// and div(rounding_mode=...): rounding does not distribute over repeated entries, so
    the tensor is coalesced first (PyTorch's result is coalesced)."""
    s, other = _scalar_divisor(op, inputs)
    if s.is_complex():
        refuse(_op_name(op), inputs)
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
    return _linear(s, lambda v: -v, lambda g: -g, node_name(op))


def _copy(op, inputs):
    """to(dtype/device) and clone(): new values, the same pattern (indices copied along)."""
    (s,) = inputs
    payload = s._data
    if op.__class__.__name__ == 'Clone':
        return _linear(s, lambda v: v.clone(), lambda g: g, node_name(op), copy_indices=True)
    if op.device is None:   # a dtype change where s is: the gradient converts back
        old, new = s.dtype, from_numpy_dtype(np.dtype(op.np_dtype))
        return _linear(s, lambda v: v.to(new), lambda g: g.to(old), node_name(op),
                       copy_indices=True)
    values = dispatch(op, values_of(s))     # (another device: the indices move along)
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
    if any(is_sparse(x) and x._data.ndim > 2 for x in inputs):
        # (PyTorch's matmul expands batched operands, which sparse tensors refuse; use bmm)
        raise RuntimeError('expand is unsupported for Sparse tensors: matmul of a sparse tensor '
                           'with more than 2 dims; use torch.bmm for a 3-d sparse batch.')
    if is_sparse(a) and is_sparse(b):
        return dispatch(_ops.SparseSparseMM(masked_grad=False), a, b)
    if is_sparse(a):
        if b.dim() == 1:
            return _mm(op, (a, b.unsqueeze(1))).squeeze(1)
        return dispatch(_ops.SparseDenseMM(False, node_name(op)), a, b)
    if b.dim() == 1:    # dense @ sparse vector: a matrix-vector product
        return _mm(op, (a, b.unsqueeze(1))).squeeze(-1)
    # dense @ sparse: (sparse^T @ dense^T)^T
    if a.dim() == 1:
        return _mm(op, (a.unsqueeze(0), b)).squeeze(0)
    return _mm(op, (b.t(), a.t())).t()


def _no_reshape(op, inputs):
    raise RuntimeError('reshape is not implemented for sparse tensors: a sparse tensor keeps '
                       'its size; call .to_dense() first, or index/permute it.')


def _masked_fill(op, inputs):
    """PyTorch's masked_fill clones its input to strided memory first, which a sparse input
    refuses (RuntimeError); a dense input with a sparse mask reaches masked_fill_, which has no
    sparse kernel (NotImplementedError)."""
    if is_sparse(inputs[0]):
        raise RuntimeError('unsupported memory format option Contiguous: masked_fill of a '
                           'sparse tensor is not supported; call .to_dense() first.')
    return refuse('masked_fill_.Scalar', inputs)


HANDLERS = {
    'basicindex': _indexing.select,
    'indexselect': _indexing.index_select,
    'unsqueeze': _indexing.unsqueeze,
    'permute': _indexing.permute,
    'vectornorm': _reductions.vector_norm,
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
    'sum': _reductions.sum_,
    'allany': _reductions.any_all,
    'bmm': _mm,     # (matmul of 3-d operands; torch.bmm itself goes to _dense_products)
    'linear': _dense_products.linear,
    'reshape': _no_reshape,
    'maskedfill': _masked_fill,
}
HANDLERS.update((name, _unary) for name in ZERO_PRESERVING)


def _op_name(op):
    from .._dispatch import _op_name as name_of
    return name_of(op)


def _refuse(op, inputs):
    refuse(_op_name(op), inputs)


def refuse(name, inputs):
    """PyTorch's NotImplementedError for an op without a sparse kernel, naming it."""
    device = 'CPU' if any(is_sparse(x) and x.is_cpu for x in inputs) else 'CUDA'
    raise NotImplementedError(
        f"Could not run 'aten::{name}' with arguments from the 'Sparse{device}' backend: "
        f"nbgrad's sparse COO tensors do not support {name}. Call .to_dense() first, or see "
        f'nbgrad.sparse for what sparse tensors support.')


def route(op, inputs):
    if any(_compressed.is_compressed(x) for x in inputs):   # CSR, CSC: their own forms
        return _compressed.route(op, inputs, HANDLERS)
    handler = HANDLERS.get(_op_name(op))
    if handler is None:
        return _refuse(op, inputs)
    return handler(op, inputs)


def refuse_inplace(op):
    raise NotImplementedError(
        f"nbgrad: in-place {_op_name(op)}_ with a sparse COO tensor (as the target or an "
        f'operand, here while recording autograd history) is not supported; use the '
        f'out-of-place form (x = x.{_op_name(op)}(...)) or .to_dense() first.')
