"""torch.sparse: sparse tensors in COO format (an int64 index tensor and a value tensor), and
2-d compressed ones (CSR, CSC: see _compressed.py).

A sparse COO tensor is an ordinary nbgrad.Tensor whose layout is nbgrad.sparse_coo. It takes part
in autograd (its values, or the sparse tensor itself as a leaf, receive gradients), moves between
devices, prints as PyTorch prints it, and supports what PyTorch's COO tensors support most:
elementwise arithmetic with sparse tensors and scalars, products with dense matrices, sums,
softmax, transposes, and the zero-preserving elementwise functions (abs, sqrt, tanh, relu...).
Anything else raises PyTorch's NotImplementedError for a missing sparse kernel, naming the op.

One decision differs from PyTorch: indices are always checked against the size (PyTorch checks
only under check_invariants=True, and an index out of range is undefined behaviour there).
"""
import contextlib

import numpy as np

from .._arrays import is_host_array
from .._dtype import float32, float64
from .._tensor import Tensor
from ..ops._util import wrap_dim, wrap_dims
from .. import _sparse_coo as _coo
from . import _build, _ops
from .._sparse_coo import SparseCOO
from ._reductions import sparse_sum_dims
from ._compressed import is_compressed, layout_name
from ._spdiags import spdiags
from ._sampled_addmm import sampled_addmm
from ._gradcheck import as_sparse_gradcheck

__all__ = ['mm', 'addmm', 'sum', 'softmax', 'log_softmax', 'check_sparse_tensor_invariants',
           'spdiags', 'sampled_addmm', 'as_sparse_gradcheck']


def _require_sparse(tensor, fn, compressed_too=False):
    if not isinstance(tensor, Tensor) or tensor._data.__class__ is not SparseCOO or (
            is_compressed(tensor) and not compressed_too):
        raise RuntimeError(f'{fn} expected sparse coordinate tensor layout but got '
                           f'{layout_name(tensor)}')


def mm(mat1, mat2, reduce=None):
    """sparse @ dense -> dense (the sparse input's gradient keeps its pattern), or sparse @ sparse
    -> sparse."""
    if reduce is not None:
        raise NotImplementedError("torch.sparse.mm's reduce= is not supported by nbgrad; "
                                  'call it without reduce (a sum).')
    if _build.is_sparse(mat1) and not _build.is_sparse(mat2):
        return _build.dispatch(_ops.SparseDenseMM(True, 'SparseAddmmBackward0'), mat1, mat2)
    if _build.is_sparse(mat1) and _build.is_sparse(mat2):
        if is_compressed(mat1) or is_compressed(mat2):
            return mat1.mm(mat2)    # (CSR @ CSR is CSR, as in PyTorch)
        return _build.dispatch(_ops.SparseSparseMM(masked_grad=True), mat1, mat2)
    return mat1.mm(mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """beta * mat + alpha * (mat1 @ mat2) for sparse mat1 and dense mat and mat2."""
    _require_sparse(mat1, 'sparse.addmm', compressed_too=True)
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:   # mat's values are ignored, as PyTorch's (NaN in it does not propagate)
        from ..ops.scaled_products import _ignoring
        return _ignoring(mat, product)
    return product + (mat if beta == 1 else mat * beta)


def sum(input, dim=None, dtype=None):  # noqa: A001 (torch.sparse.sum)
    """All elements (a dense 0-d tensor), or over `dim` (an int or a sequence): sparse while a
    sparse dim remains."""
    if is_compressed(input):    # (PyTorch's sparse.sum coalesces, which CSR refuses)
        raise RuntimeError(f'coalesce expected sparse coordinate tensor layout but got '
                           f'{layout_name(input)}')
    _require_sparse(input, 'sparse.sum')
    if dim is None:
        return _build.dispatch(_ops.SumAll(dtype, sparse_grad=True), input)
    dims = wrap_dims(dim, input._data.ndim)
    if len(dims) == input._data.ndim:
        return _build.dispatch(_ops.SumAll(dtype, sparse_grad=True), input)
    return sparse_sum_dims(input, dims, dtype)


def _softmax(input, dim, dtype, log):
    _require_sparse(input, 'sparse.log_softmax' if log else 'sparse.softmax')
    dim = wrap_dim(dim, input._data.ndim)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype not in (float32, float64):
        raise NotImplementedError(f'"softmax" not implemented for {input.dtype}: sparse softmax '
                                  f'takes float32 or float64 values; pass dtype=torch.float32 '
                                  f'to convert them.')
    k = input._data.sparse_dim
    if dim >= k:    # along a dense dim: the values' own softmax, entry by entry
        c = _build.coalesced(input)
        fn = Tensor.log_softmax if log else Tensor.softmax
        values = fn(_build.values_of(c), dim - k + 1)
        return _build.with_values(c._data, values, _ops.Softmax(dim, log).name())
    return _build.dispatch(_ops.Softmax(dim, log), input)


def softmax(input, dim, *, dtype=None):
    """softmax along dim over the stored entries (the missing ones count as -inf)."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim, *, dtype=None):
    return _softmax(input, dim, dtype, True)


class check_sparse_tensor_invariants(contextlib.ContextDecorator):
    """PyTorch's switch for checking indices against the size. nbgrad always checks them, so
    this changes nothing; it exists so that code using it runs."""

    def __init__(self, enable=True):
        self.enable = enable

    @staticmethod
    def is_enabled():
        return True

    @staticmethod
    def enable():
        pass

    @staticmethod
    def disable():
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# -- construction --------------------------------------------------------------------------------

def sparse_coo_tensor(indices=None, values=None, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """torch.sparse_coo_tensor: indices (sparse_dim, nnz), values (nnz, *dense_shape); or, as
    PyTorch's other overload, sparse_coo_tensor(size) (positional or size=): an empty tensor of
    that size."""
    from .._creation import tensor as make_tensor
    if values is None:
        return _empty_of_size(indices, size, dtype, device, requires_grad, is_coalesced)
    if isinstance(values, Tensor):
        if dtype is not None and values.dtype != dtype:
            values = values.to(dtype)
        if device is not None:
            values = values.to(device)
    else:
        values = make_tensor(values, dtype=dtype, device=device)
    if isinstance(indices, Tensor):
        index_array = indices.detach().to(values.device)._data
    else:
        index_array = make_tensor(indices, device=values.device)._data
    index_array = index_array.astype(np.int64, copy=False)
    shape = _checked_shape(index_array, values, size)
    if is_coalesced and not _coo.sorted_distinct(SparseCOO(index_array, values._data, shape,
                                                           False)):
        raise RuntimeError('sparse_coo_tensor(is_coalesced=True): the indices repeat or are '
                           'not sorted, so the tensor is not coalesced (PyTorch checks this '
                           'under check_invariants=True; nbgrad always does). Leave '
                           'is_coalesced out, or call .coalesce().')
    # PyTorch calls a new tensor with at most one entry coalesced unless told otherwise
    coalesced_flag = bool(is_coalesced) if is_coalesced is not None else \
        index_array.shape[1] <= 1
    pattern = SparseCOO(index_array, values._data, shape, coalesced_flag)
    if requires_grad:
        if values._data.dtype.kind not in 'fc':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                               'gradients')
        out = Tensor._make(pattern.with_values(values._data))
        out._requires_grad = True
        return out
    return _build.with_values(pattern, values, 'SparseCooTensorWithDimsAndTensorsBackward0')


def _empty_of_size(size_positional, size, dtype, device, requires_grad, is_coalesced):
    """sparse_coo_tensor(size) / sparse_coo_tensor(size=size): no entries, coalesced."""
    from .._creation import tensor as make_tensor
    if size_positional is not None and size is not None:   # (indices and size, no values)
        raise RuntimeError('Could not infer dtype of NoneType: sparse_coo_tensor(indices, '
                           'values, size) needs the values.')
    size = size if size is not None else size_positional
    if size is None:
        raise TypeError('sparse_coo_tensor() received an invalid combination of arguments - '
                        'got (), but expected (indices, values, size=None, ...) or (size)')
    if isinstance(size, Tensor):
        if size.dim() != 0:     # (a 0-d one reads as one integer, as PyTorch's parser reads it)
            raise TypeError("sparse_coo_tensor(): argument 'size' (position 1) must be tuple of "
                            "ints, not Tensor")
        size = (int(size),)
    if is_coalesced is not None:
        raise TypeError('sparse_coo_tensor(size) takes no is_coalesced= (an empty tensor is '
                        'coalesced); leave it out.')
    size = tuple(int(n) for n in size)
    return sparse_coo_tensor(np.zeros((len(size), 0), np.int64),
                             make_tensor([], dtype=dtype, device=device), size,
                             device=device, requires_grad=requires_grad)


def _checked_shape(indices, values, size):
    if indices.ndim != 2:
        raise RuntimeError(f'indices must be a 2-d tensor (sparse_dim, nnz), but got one of '
                           f'shape {list(indices.shape)}')
    sparse_dim, nnz = indices.shape
    if values._data.ndim == 0 or values._data.shape[0] != nnz:
        got = values._data.shape[0] if values._data.ndim else 'a 0-d tensor'
        raise RuntimeError(f'indices and values must have same nnz, but got nnz from indices: '
                           f'{nnz}, nnz from values: {got}')
    dense_shape = tuple(values._data.shape[1:])
    if nnz and sparse_dim:
        lowest = int(indices.min(axis=1).min())
        if lowest < 0:
            d = int(np.argmax(_host(indices.min(axis=1)) < 0))
            raise RuntimeError(f'found negative index {lowest} for dim {d}')
        highest = _host(indices.max(axis=1))
    else:
        highest = np.full(sparse_dim, -1)
    if size is None:
        return tuple(int(h) + 1 for h in highest) + dense_shape
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                           f'{len(size)}, sparse_dim = {sparse_dim}, dense_dim = '
                           f'{len(dense_shape)}')
    if size[sparse_dim:] != dense_shape:
        raise RuntimeError(f'values has incorrect size, expected {[nnz, *size[sparse_dim:]]}, '
                           f'got {[nnz, *dense_shape]}')
    for d in range(sparse_dim):
        if highest[d] >= size[d]:
            raise RuntimeError(f'size is inconsistent with indices: for dim {d}, size is '
                               f'{size[d]} but found index {int(highest[d])}')
    return size


def _host(array):
    return array if is_host_array(array) else array.get()


def _dense_to_sparse(tensor, sparse_dim=None):
    ndim = tensor._data.ndim
    k = ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < k <= ndim if ndim else k != 0:
        raise RuntimeError(f'sparse_dim must be in [1, {ndim}] for a {ndim}-d tensor, but got '
                           f'{k}')
    pattern = _coo.from_dense(tensor._data, k)
    dense_values = tensor.reshape((-1,) + tuple(tensor.shape[k:]))
    at = Tensor._make(_coo.linear_index(pattern.indices, tensor.shape[:k], pattern.xp))
    # (PyTorch's node for to_sparse() is its overload 1, for to_sparse(sparse_dim) overload 0)
    name = 'ToSparseBackward1' if sparse_dim is None else 'ToSparseBackward0'
    return _build.with_values(pattern, dense_values[at], name)
