"""Telling CuPy arrays from NumPy arrays, cheaply: every op asks.

`hasattr(x, '__cuda_array_interface__')` evaluates CuPy's property, which builds a dict (the
dtype's descr, the strides, the current stream) on each access: microseconds, several times per
op, which is the same order as the op's own launch. The CuPy array classes are remembered the
first time one is seen, so the check is a set lookup afterwards.
"""
import numpy as np

_ndarray = np.ndarray
_cupy_classes = set()
_cupy = None


def is_cupy_array(x):
    """Whether x is a CuPy array (not NumPy's, nor another library's CUDA array)."""
    cls = x.__class__
    if cls is _ndarray:
        return False
    if cls in _cupy_classes:
        return True
    if cls.__module__.split('.')[0] == 'cupy' and hasattr(x, '__cuda_array_interface__'):
        _cupy_classes.add(cls)
        return True
    return False


def is_cuda_array(x):
    """Whether x is any CUDA array (CuPy's, a CUDA tensor of another library, Numba's...)."""
    return is_cupy_array(x) or (x.__class__ is not _ndarray
                                and hasattr(x, '__cuda_array_interface__'))


def cupy():
    """The cupy module (imported once)."""
    global _cupy
    if _cupy is None:
        import cupy as module
        _cupy = module
    return _cupy


class UninitializedArray(np.ndarray):
    """The empty host array inside an uninitialized parameter or buffer (nn.parameter): every
    NumPy operation on it, and nbgrad's shape checks, raise PyTorch's error for using an
    uninitialized parameter. It counts as a host array wherever nbgrad tells NumPy from CuPy."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise ValueError(uninitialized_use(ufunc.__name__))

    def __array_function__(self, func, types, args, kwargs):
        raise ValueError(uninitialized_use(func.__name__))

    @property
    def shape(self):    # what nbgrad's ops check before computing
        raise ValueError(uninitialized_use('an op'))


def uninitialized_use(what):
    return (f'Attempted to use an uninitialized parameter in {what}. This error happens when you '
            'are using a `LazyModule` or explicitly manipulating '
            '`nn.parameter.UninitializedParameter` objects. When using LazyModules Call '
            '`forward` with a dummy batch to initialize the parameters before calling nbgrad '
            'functions')


class MetaArray(np.ndarray):
    """The array of a tensor on the 'meta' device: a shape and a dtype, no memory (a zero-strided
    view of one zero, read-only). Ops on it compute on those zeros and keep only their results'
    shapes and dtypes (nbgrad/_dispatch.py); it reports contiguous strides, as PyTorch's meta
    tensors do."""

    @property
    def strides(self):
        strides, step = [], self.itemsize
        for size in reversed(self.shape):
            strides.append(step)
            step *= max(size, 1)
        return tuple(reversed(strides))


def meta_array(shape, dtype):
    """A MetaArray of this shape and dtype (no memory, whatever the shape)."""
    return np.broadcast_to(np.zeros((), dtype), tuple(shape)).view(MetaArray)


NO_DATA = 'Cannot copy out of meta tensor; no data!'


def is_host_array(a):
    """NumPy's array, or an uninitialized parameter's, or a meta tensor's (not a CuPy array)."""
    return a.__class__ is _ndarray or a.__class__ is UninitializedArray or \
        a.__class__ is MetaArray
