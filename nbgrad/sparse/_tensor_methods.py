"""Tensor's sparse methods and attributes (is_sparse, layout, to_sparse, coalesce, _values...),
with PyTorch's answers for dense tensors too (to_dense() of a dense tensor is itself,
sparse_dim() is 0, coalesce() is an error)."""
from .. import _layout
from .._memory_format import contiguous_format
from .._tensor import Tensor
from . import _build, _ops
from .._sparse_coo import SparseCOO
from ._compressed import is_compressed, layout_name, to_coo, to_compressed
from ._printing import format_sparse


def _payload(tensor, fn):
    data = tensor._data
    if data.__class__ is not SparseCOO or data.compressed is not None:
        raise RuntimeError(f'{fn} expected sparse coordinate tensor layout but got '
                           f'{layout_name(tensor)}')
    return data


def _no_dense_kernel(tensor, name):
    data = tensor._data
    if data.__class__ is not SparseCOO or data.compressed is not None:
        device = 'CPU' if tensor.is_cpu else 'CUDA'
        backend = device if data.__class__ is not SparseCOO else \
            data.compressed.backend + device
        what = 'is for sparse tensors, and this one is dense' \
            if data.__class__ is not SparseCOO else 'is for COO tensors'
        raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the "
                                  f"'{backend}' backend: {name}() {what}.")
    return data


def to_dense(self, dtype=None, *, masked_grad=None):
    if self._data.__class__ is not SparseCOO:
        return self if dtype is None else self.to(dtype)
    if dtype is not None and is_compressed(self):
        raise RuntimeError('dtype argument is not supported by sparse_csr_to_dense')
    out = _build.dispatch(_ops.ToDense(), self)
    return out if dtype is None else out.to(dtype)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout in (_layout.sparse_csr, _layout.sparse_csc) and blocksize is None and \
            sparse_dim is None:
        return to_compressed(self, layout, dense_dim)
    if layout not in (None, _layout.sparse_coo) or blocksize is not None or dense_dim is not None:
        raise NotImplementedError(f'nbgrad has the sparse COO, CSR and CSC layouts, not {layout} '
                                  f'(or blocks, or dense dims); call to_sparse() without '
                                  f'layout=, or to_sparse_csr().')
    if is_compressed(self):
        if sparse_dim is not None and sparse_dim != 2:
            raise RuntimeError('to_sparse: conversion from a compressed tensor to a COO tensor '
                               'with another sparse_dim is not supported (as in PyTorch)')
        return to_coo(self)
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
    if is_compressed(self):
        _payload(self, 'indices')   # (PyTorch's error for a compressed layout)
    return Tensor._make(_coalesced_payload(self, 'indices').indices)


def values(self):
    if is_compressed(self):     # (a CSR tensor's values, in its order)
        return _build.values_of(self)
    _coalesced_payload(self, 'values')
    return _build.values_of(self, keeps_flag=True)


def _compressed_indices(names, fn, which):
    """crow_indices() and friends: the compressed tensor's index arrays (PyTorch's error for
    another layout)."""
    def method(self):
        data = self._data
        if not is_compressed(self) or data.compressed.names[0] not in names:
            kind = 'row' if 'crow_indices' in names else 'column'
            raise RuntimeError(f'{fn} expected sparse {kind} compressed tensor layout but got '
                               f'{layout_name(self)}')
        index = data.compressed
        return Tensor._make(index.compressed_indices if which == 0 else index.plain_indices)
    method.__name__ = fn
    return method


def sparse_dim(self):
    data = self._data
    return data.sparse_dim if data.__class__ is SparseCOO else 0


def dense_dim(self):
    data = self._data
    return data.dense_dim if data.__class__ is SparseCOO else data.ndim


def _nnz(self):
    if is_compressed(self):
        return self._data.nnz
    return _no_dense_kernel(self, '_nnz').nnz


def sparse_mask(self, mask):
    pattern = _payload(mask, 'sparse_mask')
    if is_compressed(self):
        raise RuntimeError(f'sparse_mask: expected a dense or COO tensor, but got '
                           f'{layout_name(self)}; call .to_dense() first')
    if self._data.__class__ is SparseCOO:
        self = self.to_dense()
    if tuple(self.shape) != pattern.shape:
        raise RuntimeError(f'sparse_mask(): operands have incompatible sizes; self has size '
                           f'{list(self.shape)} but mask has size {list(pattern.shape)}')
    return _ops.dispatch_mask(self, pattern)


def _refuse_numpy(original):
    def numpy(self, *, force=False):
        if self._data.__class__ is SparseCOO:
            raise TypeError(f"can't convert {layout_name(self)} layout tensor to numpy. Use "
                            f'Tensor.to_dense() first.')
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
    if payload.compressed is not None:
        index = payload.compressed
        return _rebuild_compressed, (Tensor._make(index.compressed_indices).numpy(force=True),
                                     Tensor._make(index.plain_indices).numpy(force=True), host,
                                     payload.shape, index.layout.name, str(self.device))
    return _rebuild_sparse, (Tensor._make(payload.indices).numpy(force=True), host,
                             payload.shape, payload.coalesced, str(self.device))


def _rebuild_sparse(indices, values, shape, coalesced, device):
    from . import sparse_coo_tensor
    return sparse_coo_tensor(indices, values, shape, device=device, is_coalesced=coalesced)


def _rebuild_compressed(compressed_indices, plain_indices, values, shape, layout, device):
    from ._compressed import sparse_compressed_tensor
    return sparse_compressed_tensor(compressed_indices, plain_indices, values, shape,
                                    layout=getattr(_layout, layout), device=device)


def _layout_of(self):
    data = self._data
    if data.__class__ is not SparseCOO:
        return _layout.strided
    return _layout.sparse_coo if data.compressed is None else data.compressed.layout


for _name, _fn in [('to_dense', to_dense), ('to_sparse', to_sparse),
                   ('coalesce', coalesce), ('is_coalesced', is_coalesced),
                   ('_indices', _indices), ('_values', _values), ('indices', indices),
                   ('values', values), ('sparse_dim', sparse_dim), ('dense_dim', dense_dim),
                   ('_nnz', _nnz), ('sparse_mask', sparse_mask), ('__repr__', __repr__),
                   ('__reduce_ex__', __reduce_ex__)]:
    setattr(Tensor, _name, _fn)
for _name, _names, _which in [('crow_indices', ('crow_indices',), 0),
                              ('col_indices', ('crow_indices',), 1),
                              ('ccol_indices', ('ccol_indices',), 0),
                              ('row_indices', ('ccol_indices',), 1)]:
    setattr(Tensor, _name, _compressed_indices(_names, _name, _which))
Tensor.to_sparse_coo = lambda self: to_sparse(self)
Tensor.is_sparse_csr = property(lambda self: is_compressed(self) and self._data.compressed.is_csr)


def _refuse_blocks(name):
    raise NotImplementedError(f'{name}(): nbgrad has the sparse COO, CSR and CSC layouts, not the '
                              f'block ones (BSR, BSC); use to_sparse_csr() or to_sparse().')


def to_sparse_csr(self, dense_dim=None):
    return to_compressed(self, _layout.sparse_csr, dense_dim)


def to_sparse_csc(self, dense_dim=None):
    return to_compressed(self, _layout.sparse_csc, dense_dim)


Tensor.to_sparse_csr = to_sparse_csr
Tensor.to_sparse_csc = to_sparse_csc
Tensor.to_sparse_bsr = lambda self, blocksize, dense_dim=None: _refuse_blocks('to_sparse_bsr')
Tensor.to_sparse_bsc = lambda self, blocksize, dense_dim=None: _refuse_blocks('to_sparse_bsc')
# (PyTorch's is_sparse is True for COO tensors only)
Tensor.is_sparse = property(lambda self: self._data.__class__ is SparseCOO and
                            self._data.compressed is None)
Tensor.layout = property(_layout_of)
Tensor.numpy = _refuse_numpy(Tensor.numpy)
Tensor._item = _item_through_dense(Tensor._item)     # (item(), float(), int(), bool() read it)
_dense_is_contiguous = Tensor.is_contiguous


def is_contiguous(self, *, memory_format=contiguous_format):
    """False for a sparse tensor (it has no strided memory), as PyTorch answers."""
    if self._data.__class__ is SparseCOO:
        return False
    return _dense_is_contiguous(self, memory_format=memory_format)


is_contiguous.__doc__ = _dense_is_contiguous.__doc__ or is_contiguous.__doc__
Tensor.is_contiguous = is_contiguous


def _install_torch_functions():
    """torch.spmm and friends and the compressed-tensor factories, as torch.* functions (this
    module is where nbgrad attaches what nbgrad.sparse adds to the tensor API), and the Tensor
    methods PyTorch has for them (smm, sspaddmm)."""
    import sys
    from . import _spmm, _compressed
    torch_module = sys.modules[__name__.split('.')[0]]
    for fn in (_spmm.spmm, _spmm.smm, _spmm.hspmm, _spmm.sspaddmm,
               _compressed.sparse_csr_tensor, _compressed.sparse_csc_tensor,
               _compressed.sparse_compressed_tensor):
        setattr(torch_module, fn.__name__, fn)
    Tensor.smm = _spmm.smm

    def sspaddmm(self, mat1, mat2, *, beta=1, alpha=1):   # (the method has no out=)
        return _spmm.sspaddmm(self, mat1, mat2, beta=beta, alpha=alpha)
    Tensor.sspaddmm = sspaddmm


_install_torch_functions()


def _install_strided_answers():
    from . import _strided_questions
    _strided_questions.install()


_install_strided_answers()
