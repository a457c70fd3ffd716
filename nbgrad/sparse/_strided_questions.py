"""What a sparse COO tensor answers to Tensor methods about strided memory, as PyTorch answers:
stride() is all zeros, storage_offset() is 0, tolist(), data_ptr() and contiguous() raise
PyTorch's RuntimeError, untyped_storage() and unflatten() its NotImplementedError (a sparse
tensor has no storage of its own). narrow_copy of a sparse tensor goes to
its sparse form (_narrow.py). Dense tensors keep the methods they had."""
import functools

from .._tensor import Tensor
from .._sparse_coo import SparseCOO

_NO_STORAGE = ("Cannot access data pointer of Tensor that doesn't have storage: a sparse "
               "tensor keeps its entries in .indices() and .values(); call .to_dense() first.")


def _is_sparse_payload(tensor):
    return isinstance(tensor, Tensor) and tensor._data.__class__ is SparseCOO


def _for_sparse(dense_method, sparse_method):
    """A Tensor method that runs sparse_method for a sparse tensor, dense_method otherwise."""
    @functools.wraps(dense_method)     # (its signature too: inspect follows __wrapped__)
    def method(self, *args, **kwargs):
        if _is_sparse_payload(self):
            return sparse_method(self, *args, **kwargs)
        return dense_method(self, *args, **kwargs)
    return method


def _sparse_stride(self, dim=None):
    ndim = self._data.ndim
    if dim is None:
        return (0,) * ndim
    from ..ops._util import wrap_dim
    wrap_dim(dim, ndim)     # (PyTorch's IndexError for a dim out of range)
    return 0


def _no_storage(self, *args, **kwargs):
    raise RuntimeError(_NO_STORAGE)


def _sparse_storage_offset(self):
    return 0


def _no_strided_copy(self, *args, **kwargs):
    raise RuntimeError('unsupported memory format option Contiguous: a sparse tensor has no '
                       'strided memory to make contiguous; call .to_dense() first.')


def _no_storage_impl(self, *args, **kwargs):
    raise NotImplementedError('Cannot access storage of SparseTensorImpl: call .to_dense() '
                              'first.')


def _no_view(self, *args, **kwargs):
    from ._routing import refuse
    refuse('view', (self,))


def _sparse_narrow_copy(self, dim, start, length):
    from ._narrow import narrow_copy
    return narrow_copy(self, dim, start, length)


def install():
    for name, sparse_method in [('stride', _sparse_stride), ('tolist', _no_storage),
                                ('data_ptr', _no_storage),
                                ('storage_offset', _sparse_storage_offset),
                                ('narrow_copy', _sparse_narrow_copy),
                                ('contiguous', _no_strided_copy),
                                ('untyped_storage', _no_storage_impl),
                                ('unflatten', _no_view)]:
        dense_method = getattr(Tensor, name)
        if getattr(dense_method, '_sparse_aware', False):    # (a re-import: once only)
            continue
        method = _for_sparse(dense_method, sparse_method)
        method._sparse_aware = True
        setattr(Tensor, name, method)
