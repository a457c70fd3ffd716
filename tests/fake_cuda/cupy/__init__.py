"""A CPU imitation of the slice of CuPy's API that nbgrad uses (see ../README.md).

Where CuPy 14 behaves differently from NumPy in a way nbgrad can trip over, the fake does what
CuPy does; each such place says so in a comment starting with 'CuPy:'."""
import numpy as _np

from . import cuda  # noqa: F401
from . import random  # noqa: F401
from . import lib  # noqa: F401
from . import linalg  # noqa: F401
from . import fft  # noqa: F401

_PY_SCALARS = (bool, int, float, complex)


class ndarray(_np.ndarray):
    """Behaves like a NumPy array but is a different class, as cupy.ndarray is."""

    def __array_finalize__(self, obj):
        # CuPy: a view shares its source's memory, so it lives on the source's GPU and its .base
        # is the array owning that memory (never a chain); new memory is allocated on the current
        # device and has base None
        src = None if _np.ndarray.flags.__get__(self).owndata else _fake_source(obj)
        if src is None:  # CuPy: new memory comes from the current allocator (the pool)
            self._device_id, self._base = cuda.runtime.getDevice(), None
            self._memory = cuda.alloc(self.nbytes)
        else:
            self._device_id = src._device_id
            self._base = src if src._base is None else src._base

    @property
    def base(self):
        return self._base

    @property
    def device(self):
        return cuda.Device(self._device_id)

    @property
    def __cuda_array_interface__(self):
        return {'shape': self.shape, 'typestr': self.dtype.str, 'version': 3,
                'data': (self.ctypes.data, False)}

    @property
    def flags(self):
        return _Flags(_np.ndarray.flags.__get__(self), self._base is None)

    @property
    def data(self):
        return _Pointer(self.ctypes.data, self._device_id)

    def get(self):
        return _np.asarray(self).copy()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # CuPy never returns scalars: 0-d results stay arrays
        return _wrap(_np.ndarray.__array_wrap__(self, obj, context, False))

    def __getitem__(self, key):
        key, advanced = _device_index(self.shape, key)
        if advanced:
            _check_devices((self,))  # a gather kernel
        if not any(k is Ellipsis for k in key):
            key += (Ellipsis,)  # CuPy: integer indices give a 0-d view, never a scalar
        return _np.ndarray.__getitem__(self, key)

    def __setitem__(self, key, value):
        key, advanced = _device_index(self.shape, key)
        _check_devices((self, value))
        if not advanced and _is_host_array(value) and value.ndim:
            # CuPy: without an array index, a[...] = v is a.fill(v), which takes only scalars
            # (an advanced index converts v with cupy.array, so there a host array is fine)
            raise ValueError('non-scalar numpy.ndarray cannot be used for fill')
        _np.ndarray.__setitem__(self, key, _unwrap(value))

    def fill(self, value):
        if _is_host_array(value) and value.shape != ():
            raise ValueError('non-scalar numpy.ndarray cannot be used for fill')  # CuPy's fill
        _check_devices((self,))
        _np.ndarray.fill(self, value)

    def take(self, indices, axis=None, out=None):
        return take(self, indices, axis, out)

    def __repr__(self):
        return 'array(' + repr(_np.asarray(self))[6:]

    def __reduce__(self):
        raise TypeError('fake cupy arrays are not picklable (neither are real ones)')


class _Flags:
    """CuPy's flags: contiguity and ownership only. CuPy has no read-only arrays, so there is
    no `writeable` for nbgrad to lean on; owndata is CuPy's `base is None`."""

    def __init__(self, flags, owndata):
        self.c_contiguous, self.f_contiguous = flags.c_contiguous, flags.f_contiguous
        self.owndata = owndata


class _Pointer:
    """CuPy's MemoryPointer: the address and the device it is on."""

    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id


def _fake_source(obj):
    """The fake array whose memory obj (an array, or NumPy's helper objects around one) views."""
    while obj is not None and not isinstance(obj, ndarray):
        obj = getattr(obj, 'base', None)
    return obj


def _is_host_array(a):
    return isinstance(a, _np.ndarray) and not isinstance(a, ndarray)


def _reject_host_arrays(values, name):
    """CuPy: functions take device arrays only ("Unsupported type <class 'numpy.ndarray'>"), a
    0-d host array included; move host data with cupy.asarray first."""
    for v in values:
        if _is_host_array(v):
            raise TypeError(f"Unsupported type {type(v)} (cupy.{name}: a host numpy.ndarray; move "
                            f"it to the device with cupy.asarray first, as real CuPy requires)")
        if isinstance(v, (list, tuple)):
            _reject_host_arrays(v, name)


def _check_devices(values):
    """CuPy: kernels run on the current device; an operand on another GPU needs peer access, and
    where that is unavailable CuPy raises ValueError (here peer access is never available)."""
    current = cuda.runtime.getDevice()
    for v in values:
        if isinstance(v, ndarray) and v._device_id != current:
            raise ValueError(f'The device where the array resides ({v._device_id}) is different '
                             f'from the current device ({current}). Peer access is unavailable '
                             f'between these devices.')
        if isinstance(v, (list, tuple)):
            _check_devices(v)


def _apply_ufunc(ufunc, method, inputs, kwargs):
    """A CuPy ufunc call: NumPy computes it on the plain arrays; the result is a device array."""
    outs = kwargs.get('out')
    outs = () if outs is None else outs if isinstance(outs, tuple) else (outs,)
    operands = inputs[:1] + inputs[2:] if method == 'at' else inputs  # at(a, indices, b)
    for v in operands + tuple(o for o in outs if o is not None):
        # CuPy: ufunc operands are device arrays, Python scalars or NumPy scalars; anything
        # else, a host ndarray of any shape included, is "Unsupported type"
        if not (isinstance(v, ndarray) or type(v) in _PY_SCALARS or isinstance(v, _np.generic)):
            raise TypeError(f'Unsupported type {type(v)}')
    _check_devices(operands + outs)
    result = getattr(ufunc, method)(*_unwrap(inputs), **{k: _unwrap(v) for k, v in kwargs.items()})
    if method == 'at':
        return None
    if outs:
        return outs[0] if len(outs) == 1 else outs
    return _wrap(result)


class _Ufunc:
    """cupy.add etc.: NumPy's ufunc with CuPy's rules for its operands (see _apply_ufunc), also
    when no operand is a device array."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _apply_ufunc(self._ufunc, '__call__', args, kwargs)

    def __getattr__(self, name):
        if name in ('reduce', 'accumulate', 'reduceat', 'outer', 'at'):
            return lambda *args, **kwargs: _apply_ufunc(self._ufunc, name, args, kwargs)
        return getattr(self._ufunc, name)


def _device_index(shape, key):
    """An index as CuPy reads it: list/array indices become arrays, and out-of-range values in
    integer arrays wrap around (idx % n) where NumPy raises IndexError (CuPy's docs, "Difference
    between CuPy and NumPy"). Plain integer indices still raise IndexError, as in CuPy.
    Returns (the index as a tuple, whether it has an array index)."""
    key = key if isinstance(key, tuple) else (key,)
    items = []
    for k in key:
        if isinstance(k, (_np.ndarray, list, tuple, bool, _np.bool_)):
            k = _np.asarray(_unwrap(k))
        items.append(k)
    used = [k.ndim if isinstance(k, _np.ndarray) and k.dtype == bool else
            0 if k is None or k is Ellipsis else 1 for k in items]
    axis, advanced = 0, False
    for i, k in enumerate(items):
        if k is Ellipsis:
            axis = len(shape) - sum(used[i + 1:])
            continue
        if isinstance(k, _np.ndarray):
            advanced = True
            if k.dtype.kind in 'iu' and axis < len(shape) and shape[axis]:
                items[i] = k % shape[axis]
        axis += used[i]
    return tuple(items), advanced


def _wrap(value):
    if isinstance(value, ndarray):
        return value
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


# ---------------------------------------------------------------------------------------------
# Functions that differ from NumPy's
# ---------------------------------------------------------------------------------------------

def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        # CuPy: an array on the current device is returned as it is (no copy); one on another
        # device is copied to the current one
        if a._device_id != cuda.runtime.getDevice():
            a = a.copy()
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    # host -> device is a copy into new memory on the current device, as in CuPy
    return _wrap(_np.array(_unwrap(a), dtype=dtype, copy=True))


def array(a, dtype=None, copy=True, order='K', ndmin=0):
    return _wrap(_np.array(_unwrap(a), dtype=dtype, copy=True, ndmin=ndmin))


def asnumpy(a):
    return _np.asarray(a).copy()


def _host_scalar_only(value, name):
    # CuPy's copyto (which full uses): a host array is read as a scalar, so it must have size 1
    if _is_host_array(value) and value.size != 1:
        raise ValueError(f'non-scalar numpy.ndarray cannot be used for {name}')


def full(shape, fill_value, dtype=None, order='C'):
    _host_scalar_only(fill_value, 'copyto')
    return _wrap(_np.full(shape, _unwrap(fill_value), dtype=dtype))


def full_like(a, fill_value, dtype=None, order='K', subok=None, shape=None):
    _reject_host_arrays((a,), 'full_like')
    _host_scalar_only(fill_value, 'copyto')
    return _wrap(_np.full_like(_unwrap(a), _unwrap(fill_value), dtype=dtype, shape=shape))


def copyto(dst, src, casting='same_kind', where=None):
    _host_scalar_only(src, 'copyto')
    _reject_host_arrays((dst, where), 'copyto')
    _check_devices((dst, where))
    _np.copyto(_unwrap(dst), _unwrap(src), casting=casting,
               where=True if where is None else _unwrap(where))


def broadcast_to(array, shape):
    """Like CuPy's, the stride-0 view is writable (NumPy's is read-only)."""
    if not isinstance(array, ndarray):
        # CuPy: broadcast_to(ndarray array, shape) is typed; scalars and host arrays are refused
        raise TypeError(f"Argument 'array' has incorrect type (expected cupy.ndarray, got "
                        f"{type(array).__name__})")
    base = _np.asarray(array)
    strides = _np.broadcast_to(base, shape).strides
    return _np.lib.stride_tricks.as_strided(base, shape, strides).view(ndarray)


def where(condition, x=None, y=None):
    if x is None and y is None:
        return _function('nonzero')(condition)
    if x is None or y is None:
        raise ValueError("Must provide both 'x' and 'y' or neither.")
    # CuPy: _where_ufunc(condition.astype('?'), x, y): a Python bool condition has no astype
    # (AttributeError), and the rest follows the ufunc rules
    condition = condition.astype('?')
    for v in (condition, x, y):
        if not (isinstance(v, ndarray) or type(v) in _PY_SCALARS or isinstance(v, _np.generic)):
            raise TypeError(f'Unsupported type {type(v)}')
    _check_devices((condition, x, y))
    return _wrap(_np.where(*_unwrap((condition, x, y))))


def take(a, indices, axis=None, out=None):
    # CuPy: take wraps out-of-range indices around (NumPy's mode='wrap'); indices may be host data
    _reject_host_arrays((a,), 'take')
    _check_devices((a, indices))
    result = _np.take(_unwrap(a), _unwrap(indices), axis=axis, mode='wrap')
    if out is not None:
        out[...] = result
        return out
    return _wrap(result)


def take_along_axis(a, indices, axis):
    # CuPy: a[fancy index], so out-of-range indices wrap around as in __getitem__
    _reject_host_arrays((a, indices), 'take_along_axis')
    _check_devices((a, indices))
    n = a.shape[axis] if axis is not None else a.size
    idx = _unwrap(indices)
    if n and idx.dtype.kind in 'iu':
        idx = idx % n
    return _wrap(_np.take_along_axis(_unwrap(a), idx, axis))


def from_dlpack(x):
    return _np.from_dlpack(x).view(ndarray)


# functions CuPy takes straight from NumPy (or that read only dtypes): host arrays are fine there
_HOST_OK = {'result_type', 'can_cast', 'promote_types', 'min_scalar_type', 'common_type',
            'may_share_memory', 'shares_memory'}


def _function(name):
    """A NumPy function as CuPy's: device arrays in, device arrays out."""
    target = getattr(_np, name)

    def wrapper(*args, **kwargs):
        values = list(args) + list(kwargs.values())
        if name not in _HOST_OK:
            _reject_host_arrays(values, name)
        result = _wrap(target(*[_unwrap(a) for a in args],
                              **{k: _unwrap(v) for k, v in kwargs.items()}))
        first = result[0] if isinstance(result, (tuple, list)) and result else result
        if isinstance(first, ndarray) and first.base is None:
            _check_devices(values)  # new memory: a kernel ran on the current device
        return result
    wrapper.__name__ = name
    return wrapper


def __getattr__(name):
    """Every other NumPy function, with array results re-wrapped as fake device arrays."""
    target = getattr(_np, name)
    if isinstance(target, type) or not callable(target):
        return target
    if isinstance(target, _np.ufunc):
        return _Ufunc(target)
    return _function(name)


class RawKernel:
    """cupy.RawKernel. With g++ on the machine the fake runs the kernel's own CUDA C++ source on
    the CPU (_cpu_compiler); without, the Python twin of each kernel nbgrad defines
    (_raw_kernels.TWINS, by name). Source that does not compile, or a kernel without a twin,
    raises CompileException at the first launch, as CuPy does."""

    def __init__(self, code, name, options=(), backend='nvrtc', translate_cucomplex=False,
                 *, enable_cooperative_groups=False, jitify=False):
        self.code, self.name = code, name

    def __call__(self, grid, block, args, *, shared_mem=0):
        from . import _cpu_compiler, _raw_kernels
        # CuPy: kernel arguments are device arrays or NumPy scalars (their C type is the
        # scalar's); a host array or a Python number is refused
        for a in args:
            if not (isinstance(a, ndarray) or isinstance(a, _np.generic)):
                raise TypeError(f'Unsupported type {type(a)}')
        _check_devices(args)
        if _cpu_compiler.available():
            try:
                run = _cpu_compiler.kernel(self.code, self.name)
            except _cpu_compiler.CompileError as e:
                raise cuda.compiler.CompileException(str(e)) from None
            run(grid, block, args)
            return
        twin = _raw_kernels.TWINS.get(self.name)
        if twin is None:
            raise cuda.compiler.CompileException(
                f'fake cupy has no Python twin of the kernel {self.name!r} (and no g++)')
        twin(self.code, args)


def get_default_memory_pool():
    return cuda.memory.default_pool


_pinned = cuda.memory.MemoryPool()


def get_default_pinned_memory_pool():
    return _pinned


__version__ = '0.0-fake'
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64, uint8, uint64 = (_np.int8, _np.int16, _np.int32, _np.int64, _np.uint8,
                                            _np.uint64)
bool_ = _np.bool_
newaxis = None
inf, nan, pi, e = _np.inf, _np.nan, _np.pi, _np.e
