"""Tensor's sparse methods and attributes (is_sparse, layout, to_sparse, coalesce, _values...),
with PyTorch's answers for dense tensors too (to_dense() of a dense tensor is itself,
sparse_dim() is 0, coalesce() is an error)."""
from .. import _layout
from .._memory_format import contiguous_format
from .._tensor import Tensor
from . import _build, _ops
from .._sparse_coo import SparseCOO
from ._printing import format_sparse


def _payload(tensor, fn):
    data = tensor._data
    if data.__class__ is not SparseCOO:
        raise RuntimeError(f'{fn} expected sparse coordinate tensor layout but got Strided')
    return data


def _no_dense_kernel(tensor, name):
    if tensor._data.__class__ is not SparseCOO:
        device = 'CPU' if tensor.is_cpu else 'CUDA'
        raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the "
                                  f"'{device}' backend: {name}() is for sparse tensors, and "
                                  f'this one is dense.')
    return tensor._data


def to_dense(self, dtype=None, *, masked_grad=None):
    if self._data.__class__ is not SparseCOO:
        return self if dtype is None else self.to(dtype)
    out = _build.dispatch(_ops.ToDense(), self)
    return out if dtype is None else out.to(dtype)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout not in (None, _layout.sparse_coo) or blocksize is not None or dense_dim is not None:
        raise NotImplementedError(f'nbgrad has sparse COO tensors only, not {layout}; call '
                                  f'to_sparse() without layout=.')
    if self._data.__class__ is SparseCOO:
        if sparse_dim is not None and sparse_dim != self._data.sparse_dim:
            raise RuntimeError('to_sparse: conversion between different sparse_dim of a sparse '
                               'tensor is not supported (as in PyTorch)')
        return self
    from . import _dense_to_sparse
    return _dense_to_sparse(self, sparse_dim)


def coalesce(self):
    if _payload(self, 'coalesce').coalesced:
        return self
    return _build.dispatch(_ops.Coalesce(), self)


def is_coalesced(self):
    return _payload(self, 'is_coalesced').coalesced


def _indices(self):
    return Tensor._make(_no_dense_kernel(self, '_indices').indices)


def _values(self):
    return Tensor._make(_no_dense_kernel(self, '_values').values)


def _coalesced_payload(tensor, what):
    data = _no_dense_kernel(tensor, what)
    if not data.coalesced:
        raise RuntimeError(f'Cannot get {what} on an uncoalesced tensor, please call '
                           f'.coalesce() first')
    return data


def indices(self):
    return Tensor._make(_coalesced_payload(self, 'indices').indices)


def values(self):
    _coalesced_payload(self, 'values')
    return _build.values_of(self, keeps_flag=True)


def sparse_dim(self):
    data = self._data
    return data.sparse_dim if data.__class__ is SparseCOO else 0


def dense_dim(self):
    data = self._data
    return data.dense_dim if data.__class__ is SparseCOO else data.ndim


def _nnz(self):
    return _no_dense_kernel(self, '_nnz').nnz


def sparse_mask(self, mask):
    pattern = _payload(mask, 'sparse_mask')
    if self._data.__class__ is SparseCOO:
        self = self.to_dense()
    if tuple(self.shape) != pattern.shape:
        raise RuntimeError(f'sparse_mask(): operands have incompatible sizes; self has size '
                           f'{list(self.shape)} but mask has size {list(pattern.shape)}')
    return _ops.dispatch_mask(self, pattern)


def _refuse_numpy(original):
    def numpy(self, *, force=False):
        if self._data.__class__ is SparseCOO:
            raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                            'first.')
        return original(self, force=force)
    numpy.__doc__ = original.__doc__
    return numpy


def _item_through_dense(original):
    def item(self):
        if self._data.__class__ is SparseCOO and self._data.size == 1:
            return original(self.detach().to_dense())
        return original(self)
    item.__doc__ = original.__doc__
    return item


_original_repr = Tensor.__repr__


def __repr__(self, *, tensor_contents=None):
    if self._data.__class__ is SparseCOO:
        return format_sparse(self)
    return _original_repr(self, tensor_contents=tensor_contents)


_original_reduce_ex = Tensor.__reduce_ex__


def __reduce_ex__(self, protocol):
    """Pickling (copy.copy, multiprocessing) keeps a sparse tensor's entries and device; not
    requires_grad, as PyTorch's sparse rebuild does not."""
    payload = self._data
    if payload.__class__ is not SparseCOO:
        return _original_reduce_ex(self, protocol)
    host = Tensor._make(payload.values).numpy(force=True)
    return _rebuild_sparse, (Tensor._make(payload.indices).numpy(force=True), host,
                             payload.shape, payload.coalesced, str(self.device))


def _rebuild_sparse(indices, values, shape, coalesced, device):
    from . import sparse_coo_tensor
    return sparse_coo_tensor(indices, values, shape, device=device, is_coalesced=coalesced)


def _layout_of(self):
    return _layout.sparse_coo if self._data.__class__ is SparseCOO else _layout.strided


for _name, _fn in [('to_dense', to_dense), ('to_sparse', to_sparse),
                   ('coalesce', coalesce), ('is_coalesced', is_coalesced),
                   ('_indices', _indices), ('_values', _values), ('indices', indices),
                   ('values', values), ('sparse_dim', sparse_dim), ('dense_dim', dense_dim),
                   ('_nnz', _nnz), ('sparse_mask', sparse_mask), ('__repr__', __repr__),
                   ('__reduce_ex__', __reduce_ex__)]:
    setattr(Tensor, _name, _fn)
Tensor.to_sparse_coo = lambda self: to_sparse(self)
Tensor.is_sparse_csr = property(lambda self: False)     # (nbgrad has no compressed layouts)


def _refuse_compressed(name):
    raise NotImplementedError(f'{name}(): nbgrad has sparse COO tensors only, not the compressed '
                              f'layouts (CSR, CSC, BSR, BSC) yet; use to_sparse() for a COO '
                              f'tensor.')


Tensor.to_sparse_csr = lambda self, dense_dim=None: _refuse_compressed('to_sparse_csr')
Tensor.to_sparse_csc = lambda self, dense_dim=None: _refuse_compressed('to_sparse_csc')
Tensor.to_sparse_bsr = lambda self, blocksize, dense_dim=None: _refuse_compressed('to_sparse_bsr')
Tensor.to_sparse_bsc = lambda self, blocksize, dense_dim=None: _refuse_compressed('to_sparse_bsc')
Tensor.is_sparse = property(lambda self: self._data.__class__ is SparseCOO)
Tensor.layout = property(_layout_of)
Tensor.numpy = _refuse_numpy(Tensor.numpy)
Tensor.item = _item_through_dense(Tensor.item)     # (float(), int(), bool() read item())
_dense_is_contiguous = Tensor.is_contiguous


def is_contiguous(self, *, memory_format=contiguous_format):
    """False for a sparse tensor (it has no strided memory), as PyTorch answers."""
    if self._data.__class__ is SparseCOO:
        return False
    return _dense_is_contiguous(self, memory_format=memory_format)


is_contiguous.__doc__ = _dense_is_contiguous.__doc__ or is_contiguous.__doc__
Tensor.is_contiguous = is_contiguous
