"""nbgrad.storage: the memory behind tensors (torch.storage).

UntypedStorage (tensor.untyped_storage()) is the bytes; TypedStorage (tensor.storage(), which
PyTorch 2.x deprecates but older code still calls) is the same memory read as elements of the
tensor's dtype: storage().size() counts elements, storage()[i] is a Python number, and
storage().data_ptr() compares as PyTorch's does to tell whether two tensors share memory.
Element access goes through a flat view of the owning array, so writes (s[i] = v, fill_,
copy_) land in every tensor that shares the memory, as in PyTorch."""
import numpy as np

from . import _dtype
from ._dispatch import _type_word
from ._storage import UntypedStorage, tensor_root
from ._user_warning import warn_once_at_caller

__all__ = ['UntypedStorage', 'TypedStorage', 'is_storage']

_DEPRECATED = ('TypedStorage is deprecated. It will be removed in the future and UntypedStorage '
               'will be the only storage class. This should only matter to you if you are using '
               'storages directly.  To access UntypedStorage directly, use '
               'tensor.untyped_storage() instead of tensor.storage()')


class TypedStorage:
    """A tensor's memory as a flat sequence of elements of one dtype."""
    is_sparse = False

    def __init__(self, untyped, dtype):
        self._untyped_storage = untyped
        self.dtype = dtype

    @classmethod
    def _of(cls, tensor):
        warn_once_at_caller(_DEPRECATED)
        return cls(UntypedStorage(tensor_root(tensor)), tensor.dtype)

    # -- the elements ---------------------------------------------------------------------------
    def _elements(self):
        """A flat view of the memory as self.dtype (writable: it is the memory itself)."""
        root = self._untyped_storage._root
        if not root.flags.c_contiguous:     # (an owner NumPy made in another order)
            root = root.T if root.T.flags.c_contiguous else root
        return root.reshape(-1).view(self.dtype.np)

    def _host_elements(self):
        flat = self._elements()
        return flat if flat.__class__ is np.ndarray else flat.get()

    def _index(self, idx):
        if isinstance(idx, slice):
            raise RuntimeError('slices are only supported in UntypedStorage.__getitem__')
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise RuntimeError(f"can't index a {type(self)} with {type(idx)}")
        size = self.size()
        if not -size <= idx < size:
            raise IndexError(f'index {idx} out of range for storage of size {size}')
        return int(idx) % size if size else 0

    def __getitem__(self, idx):
        return self._host_elements()[self._index(idx)].item()

    def __setitem__(self, idx, value):
        flat = self._elements()
        where = slice(None) if idx == slice(None) else (
            idx if isinstance(idx, slice) else self._index(idx))
        from ._tensor import Tensor
        if isinstance(value, Tensor):
            value = value._data
        flat[where] = value

    def __len__(self):
        return self.size()

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self):
        return self._host_elements().tolist()

    def size(self):
        return self._untyped_storage.nbytes() // self.element_size()

    def element_size(self):
        return self.dtype.itemsize

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        return self._untyped_storage

    # -- where it lives -------------------------------------------------------------------------
    @property
    def device(self):
        return self._untyped_storage.device

    @property
    def is_cuda(self):
        return self.device.type == 'cuda'

    def get_device(self):
        return self.device.index     # (None on the CPU, as PyTorch's TypedStorage)

    def is_shared(self):
        return False

    def is_pinned(self, device='cuda'):
        return False

    # -- writes and copies ----------------------------------------------------------------------
    def fill_(self, value):
        self._elements()[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        if len(source) != len(self):
            raise RuntimeError(f'size mismatch: expected {len(self)} elements, got '
                               f'{len(source)}')
        values = source._elements() if isinstance(source, TypedStorage) else \
            np.asarray(list(source))
        flat = self._elements()
        if values.__class__ is not flat.__class__:
            values = flat.__class__(values) if values.__class__ is np.ndarray else values.get()
        flat[...] = values
        return self

    def _like(self, flat, dtype):
        """A new storage holding the array flat (its own memory)."""
        return TypedStorage(UntypedStorage(flat), dtype)

    def clone(self):
        return self._like(self._elements().copy(), self.dtype)

    def cpu(self):
        return self if not self.is_cuda else self._like(self._host_elements().copy(), self.dtype)

    def type(self, dtype=None, non_blocking=False):
        """The legacy type name ('nbgrad.FloatStorage'), or a copy in dtype."""
        if dtype is None:
            where = 'cuda.' if self.is_cuda else ''
            return f'nbgrad.{where}{_type_word(self.dtype.np)}Storage'
        return self._to(_dtype.to_dtype(dtype))

    def _to(self, dtype):
        if dtype is self.dtype:
            return self
        return self._like(self._elements().astype(dtype.np), dtype)

    def __repr__(self):
        info = f'[nbgrad.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of size ' \
               f'{len(self)}]'
        values = self.tolist()
        shown = values[:20]
        lines = ' ' + '\n '.join(str(v) for v in shown) + ('\n ...' if len(values) > 20 else '')
        return lines + '\n' + info

    __str__ = __repr__


# storage.float(), .double()...: a copy in that dtype, as PyTorch's TypedStorage
for _name, _dt in (('float', 'float32'), ('double', 'float64'), ('half', 'float16'),
                   ('bfloat16', 'bfloat16'), ('long', 'int64'), ('int', 'int32'),
                   ('short', 'int16'), ('char', 'int8'), ('byte', 'uint8'), ('bool', 'bool'),
                   ('complex_float', 'complex64'), ('complex_double', 'complex128')):
    setattr(TypedStorage, _name,
            (lambda dt: lambda self: self._to(_dtype.to_dtype(dt)))(getattr(_dtype, _dt)))


# -- Tensor.set_ / is_set_to: a tensor rebound to other memory -----------------------------------

def _set(self, source=None, storage_offset=0, size=None, stride=None):
    """x.set_(t): x views t's memory (same elements, shape and strides); x.set_(storage,
    offset, size, stride): x views that storage; x.set_(): x is empty. x keeps its dtype and
    its own version counter, which counts the change, as in PyTorch."""
    from . import _dispatch
    from ._creation import empty
    from ._tensor import Tensor
    if _dispatch._modes.grad_enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError('a leaf Variable that requires grad is being used in an in-place '
                           'operation.')
    if source is None:
        data = empty(0, dtype=self.dtype, device=self.device)._data
    elif isinstance(source, Tensor):
        if source.dtype != self.dtype:
            raise RuntimeError(_type_mismatch(source.dtype, self.dtype))
        data = source._data
    elif isinstance(source, (TypedStorage, UntypedStorage)):
        if isinstance(source, TypedStorage) and source.dtype != self.dtype:
            raise RuntimeError(_type_mismatch(source.dtype, self.dtype))
        root = source._untyped_storage._root if isinstance(source, TypedStorage) else source._root
        flat = root.reshape(-1).view(self.dtype.np)
        size = (flat.size - storage_offset,) if size is None else tuple(size)
        stride = _contiguous_strides(size) if stride is None else tuple(stride)
        from .ops._util import xp_of
        data = xp_of(flat).lib.stride_tricks.as_strided(
            flat[storage_offset:], size, tuple(s * flat.itemsize for s in stride))
    else:
        raise TypeError(f'set_(): argument source must be a Tensor or a Storage, not '
                        f'{type(source).__name__}')
    self._data = data
    self._vc[0] += 1
    return self


def _type_mismatch(source, target):
    from .ops.matmul import _CPP_TYPES
    return (f'Could not set tensor of type {_CPP_TYPES[source.np.name]} to a tensor of type '
            f'{_CPP_TYPES[target.np.name]}')


def _contiguous_strides(size):
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _is_set_to(self, tensor):
    """Whether both tensors view the same elements of the same memory in the same layout."""
    return (tensor_root(self) is tensor_root(tensor) and self.data_ptr() == tensor.data_ptr()
            and self.shape == tensor.shape and self.stride() == tensor.stride())


def is_storage(obj, /):
    """Whether obj is a storage (torch.is_storage)."""
    return isinstance(obj, (TypedStorage, UntypedStorage))


def _attach():
    from ._tensor import Tensor
    Tensor.set_, Tensor.is_set_to = _set, _is_set_to


_attach()
