"""A CPU imitation of the slice of CuPy's API that nbgrad uses (see ../README.md)."""
import numpy as _np

from . import cuda  # noqa: F401
from . import random  # noqa: F401
from . import lib  # noqa: F401
from . import linalg  # noqa: F401


class ndarray(_np.ndarray):
    """Behaves like a NumPy array but is a different class, as cupy.ndarray is."""

    def __array_finalize__(self, obj):
        pass

    @property
    def device(self):
        return cuda.Device(0)

    @property
    def __cuda_array_interface__(self):
        return {'shape': self.shape, 'typestr': self.dtype.str, 'version': 3,
                'data': (self.ctypes.data, False)}

    @property
    def flags(self):
        return _Flags(_np.ndarray.flags.__get__(self))

    @property
    def data(self):
        return _Pointer(self.ctypes.data)

    def get(self):
        return _np.asarray(self).copy()

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # CuPy never returns scalars: 0-d results stay arrays
        result = _np.ndarray.__array_wrap__(self, obj, context, False)
        return result.view(ndarray) if isinstance(result, _np.ndarray) else asarray(result)

    def __getitem__(self, key):
        return _wrap(_np.ndarray.__getitem__(self, _unwrap_index(key)))

    def __setitem__(self, key, value):
        _np.ndarray.__setitem__(self, _unwrap_index(key), value)

    def __repr__(self):
        return 'array(' + repr(_np.asarray(self))[6:]

    def __reduce__(self):
        raise TypeError('fake cupy arrays are not picklable (neither are real ones)')


class _Flags:
    """CuPy's flags: contiguity and ownership only. CuPy has no read-only arrays, so there is
    no `writeable` for nbgrad to lean on."""

    def __init__(self, flags):
        self.c_contiguous, self.f_contiguous = flags.c_contiguous, flags.f_contiguous
        self.owndata = flags.owndata


class _Pointer:
    def __init__(self, ptr):
        self.ptr = ptr


def _unwrap_index(key):
    if isinstance(key, tuple):
        return tuple(_np.asarray(k) if isinstance(k, ndarray) else k for k in key)
    return _np.asarray(key) if isinstance(key, ndarray) else key


def _wrap(value):
    if isinstance(value, _np.ndarray):
        return value.view(ndarray)
    if isinstance(value, _np.generic):
        return _np.asarray(value).view(ndarray)
    if isinstance(value, tuple):
        wrapped = tuple(_wrap(v) for v in value)
        return type(value)(*wrapped) if hasattr(value, '_fields') else wrapped
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _unwrap(value):
    if isinstance(value, ndarray):
        return _np.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def asarray(a, dtype=None, order=None):
    if isinstance(a, _np.ndarray) and not isinstance(a, ndarray):
        a = a.copy()  # host -> "device" is a copy, as in CuPy
    return _np.asarray(_unwrap(a), dtype=dtype).view(ndarray)


def array(a, dtype=None, copy=True, order='K', ndmin=0):
    return _np.array(_unwrap(a), dtype=dtype, copy=True, ndmin=ndmin).view(ndarray)


def broadcast_to(array, shape):
    """Like CuPy's, the stride-0 view is writable (NumPy's is read-only)."""
    base = _np.asarray(array)
    strides = _np.broadcast_to(base, shape).strides
    return _np.lib.stride_tricks.as_strided(base, shape, strides).view(ndarray)


def asnumpy(a):
    return _np.asarray(a).copy()


def from_dlpack(x):
    return _np.from_dlpack(x).view(ndarray)


def __getattr__(name):
    """Every other NumPy function, with array results re-wrapped as fake device arrays."""
    target = getattr(_np, name)
    if isinstance(target, type) or not callable(target):
        return target
    if isinstance(target, _np.ufunc):
        return target  # ufuncs keep the subclass through __array_wrap__

    def wrapper(*args, **kwargs):
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, _np.ndarray) and not isinstance(a, ndarray) and a.ndim:
                raise TypeError(f'cupy.{name}: got a host numpy.ndarray; move it to the device '
                                f'with cupy.asarray first (this is what real CuPy does)')
        return _wrap(target(*[_unwrap(a) for a in args],
                            **{k: _unwrap(v) for k, v in kwargs.items()}))
    wrapper.__name__ = name
    return wrapper


class _MemoryPool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


_pool = _MemoryPool()
_pinned = _MemoryPool()


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pinned


__version__ = '0.0-fake'
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64, uint8, uint64 = (_np.int8, _np.int16, _np.int32, _np.int64, _np.uint8,
                                            _np.uint64)
bool_ = _np.bool_
newaxis = None
inf, nan, pi, e = _np.inf, _np.nan, _np.pi, _np.e
