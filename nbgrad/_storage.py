"""Storage: the flat memory behind a tensor and its views (PyTorch's untyped_storage()).

A tensor's storage is the array that owns the memory its array points into (NumPy's `.base`
chain); storage_offset() and stride() are in elements of the tensor's dtype, as in PyTorch.
"""
import numpy as np


def root_array(a):
    """The array that owns the memory `a` views (itself if it owns its data).

    The .base chain may pass through non-array helper objects (NumPy's as_strided wraps its input
    in one), so follow every .base and keep the last array of a's kind."""
    root = a
    node = getattr(a, 'base', None)
    while node is not None:
        if isinstance(node, type(a)) or (a.__class__ is np.ndarray and isinstance(node, np.ndarray)):
            root = node
        node = getattr(node, 'base', None)
    return root


def tensor_root(tensor):
    """The array that owns a tensor's memory, found through the tensor it views (its _base):
    CuPy's strided views (as_strided, used for diagonal and unfold) do not record their base.
    A tensor made as such a view of a storage without a _base (one loaded from a file) names
    its storage's array in `_storage_root`."""
    owner = tensor if tensor._base is None else tensor._base
    root = owner.__dict__.get('_storage_root')
    return root if root is not None else root_array(owner._data)


def _pointer(a):
    if a.__class__ is np.ndarray:
        return a.__array_interface__['data'][0]
    return a.data.ptr


def element_offset(a, root=None):
    root = root_array(a) if root is None else root
    return (_pointer(a) - _pointer(root)) // a.itemsize


def storage_offset(tensor):
    return element_offset(tensor._data, tensor_root(tensor))


class UntypedStorage:
    """The bytes behind a tensor. Two tensors share memory iff their storages' data_ptr() match."""

    def __init__(self, root):
        self._root = root

    @classmethod
    def _of(cls, tensor):
        return cls(tensor_root(tensor))

    def data_ptr(self):
        return _pointer(self._root)

    def nbytes(self):
        return self._root.nbytes

    def size(self):
        return self._root.nbytes

    __len__ = size

    @property
    def device(self):
        from ._device import device_of_array
        return device_of_array(self._root)

    def tolist(self):
        return list(self._bytes())

    def _bytes(self):
        root = self._root
        host = root if root.__class__ is np.ndarray else root.get()
        return np.ascontiguousarray(host).reshape(-1).view(np.uint8)

    def __getitem__(self, i):
        return int(self._bytes()[i])

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and self.data_ptr() == other.data_ptr()

    def __hash__(self):
        return hash(self.data_ptr())

    def __repr__(self):
        data = self._bytes()
        shown = ' ' + '\n '.join(str(int(b)) for b in data[:20]) + ('\n ...' if data.size > 20 else '')
        return f'{shown}\n[nbgrad.storage.UntypedStorage(device={self.device}) of size {data.size}]'
