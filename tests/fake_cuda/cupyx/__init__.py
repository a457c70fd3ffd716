"""Fake cupyx: scatter_add and errstate."""
import threading

import numpy as np

_config = threading.local()

# CuPy: atomicAdd exists for these dtypes only (_routines_indexing.pyx, _scatter_op_single);
# the list is CuPy 14.2's as measured on an H200 (int64 included)
_SCATTER_ADD_DTYPES = {np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64,
                                             np.float16, np.float32, np.float64)}


def scatter_add(a, slices, value):
    import cupy
    key, advanced = cupy._device_index(a.shape, slices)
    if any(isinstance(k, np.ndarray) and k.dtype.kind in 'iu' for k in key) and \
            a.dtype not in _SCATTER_ADD_DTYPES:
        # CuPy: the integer-array path refuses other dtypes (a mask or basic index adds in a
        # plain kernel and takes any dtype)
        raise TypeError('scatter_add only supports int32, int64, float16, float32, float64, '
                        'uint32, uint64, as data type')
    cupy._check_devices((a, value))
    # out-of-range integer indices wrap around here too (_device_index), as in CuPy
    np.add.at(np.asarray(a), key, np.asarray(cupy._unwrap(value)))


def _scatter_extreme(ufunc, name, a, slices, value):
    import cupy
    key, _ = cupy._device_index(a.shape, slices)
    if any(isinstance(k, np.ndarray) and k.dtype.kind in 'iu' for k in key) and \
            a.dtype not in _SCATTER_ADD_DTYPES:
        # CuPy: the same atomic-capable dtypes as scatter_add (assumed; a GPU run checks)
        raise TypeError(f'{name} only supports int32, int64, float16, float32, float64, '
                        f'uint32, uint64, as data type')
    cupy._check_devices((a, value))
    ufunc.at(np.asarray(a), key, np.asarray(cupy._unwrap(value)))


def scatter_max(a, slices, value):
    _scatter_extreme(np.maximum, 'scatter_max', a, slices, value)


def scatter_min(a, slices, value):
    _scatter_extreme(np.minimum, 'scatter_min', a, slices, value)


def _linalg_errors():
    return getattr(_config, 'linalg', 'ignore')


class errstate:
    """cupyx.errstate(linalg='raise'): CuPy checks cuSOLVER's status (and raises LinAlgError) only
    inside it; by default ('ignore') a failed factorization just gives garbage (NaN here)."""

    def __init__(self, linalg=None):
        self.linalg = linalg

    def __enter__(self):
        self._previous = _linalg_errors()
        if self.linalg is not None:
            _config.linalg = self.linalg
        return self

    def __exit__(self, *exc):
        _config.linalg = self._previous
        return False


def empty_pinned(shape, dtype=float, order='C'):
    """CuPy's: a NumPy array in page-locked host memory (its base is the PinnedMemoryPointer)."""
    from cupy.cuda import memory
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return np.ndarray(shape, dtype=dtype, buffer=memory.alloc_pinned_memory(size), order=order)
