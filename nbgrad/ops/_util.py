"""Helpers shared by op implementations: array module lookup, PyTorch dtype promotion on raw arrays,
dim normalisation and argument conversion at the public-function boundary."""
import functools
import inspect
import numbers
import operator

import numpy as np

from .. import _dtype
from .._arrays import cupy, is_cuda_array, is_cupy_array
from .._tensor import Tensor, _wrap_dim

_ndarray = np.ndarray
_PY_SCALARS = (bool, int, float, complex)


def xp_of(*arrays):
    """NumPy or CuPy, whichever the (non-scalar) arrays belong to."""
    for a in arrays:
        if a.__class__ is _ndarray:
            return np
        if is_cupy_array(a):
            return cupy()
    return np


def promote(arrays):
    """The NumPy dtype PyTorch's promotion gives these arrays and Python scalars (None ignored)."""
    first = None
    same = True
    for a in arrays:
        if a is None or a.__class__ in _PY_SCALARS:
            continue
        if first is None:
            first = a.dtype
        elif a.dtype != first:
            same = False
    if same and first is not None:
        # all arrays share a dtype: only a Python scalar of a higher category can change it
        category = _CATEGORY_OF_KIND[first.kind]
        top = category
        for a in arrays:
            if a.__class__ in _PY_SCALARS:
                c = _SCALAR_CATEGORY[a.__class__]
                if c > top:
                    top = c
        if top == category:
            return first
    return _slow_promote(arrays).np


_CATEGORY_OF_KIND = {'b': 0, 'i': 1, 'u': 1, 'f': 2, 'c': 3, 'V': 2}    # ('V': bfloat16)
_SCALAR_CATEGORY = {bool: 0, int: 1, float: 2, complex: 3}


def _slow_promote(arrays):
    dims, zeros, scalars = [], [], []
    for a in arrays:
        if a is None:
            continue
        if a.__class__ in _PY_SCALARS:
            scalars.append(a)
        elif a.ndim:
            dims.append(_dtype.from_numpy_dtype(a.dtype))
        else:
            zeros.append(_dtype.from_numpy_dtype(a.dtype))
    return _dtype.result_type_from(dims, zeros, scalars)


def to_float_dtype(np_dtype):
    """Integer and bool computations that produce floats produce the default float dtype."""
    if np_dtype.kind in 'biu':
        return _dtype.get_default_dtype().np
    return np_dtype


# PyTorch's scans (cumsum, cumprod, logcumsumexp) keep their running value in a wider type and
# round each output: at::acc_type<T, false> on the CPU, <T, true> on CUDA (only half widens)
_SCAN_ACCUMULATOR = {np.dtype(np.float16): np.dtype(np.float32),
                     np.dtype(np.float32): np.dtype(np.float64),
                     np.dtype(np.complex64): np.dtype(np.complex128)}


def scan_accumulator(xp, np_dtype):
    """The dtype PyTorch's scan of np_dtype accumulates in on xp's device, or None (itself)."""
    wide = _SCAN_ACCUMULATOR.get(np.dtype(np_dtype))
    return wide if xp is np or np_dtype == np.float16 else None


def cast_all(arrays, np_dtype):
    """Cast arrays (not Python scalars) to np_dtype; a no-op for those already of that dtype."""
    return [a.astype(np_dtype) if a.__class__ not in _PY_SCALARS and a is not None
            and a.dtype != np_dtype else a for a in arrays]


def as_operand(value):
    """Public-function boundary: Tensors pass, Python numbers stay weak scalars, arrays and
    sequences become tensors; anything else is a TypeError naming the type."""
    if isinstance(value, Tensor) or value.__class__ in _PY_SCALARS:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Number):
        return complex(value) if isinstance(value, numbers.Complex) and not isinstance(
            value, numbers.Real) else float(value) if not isinstance(value, numbers.Integral) \
            else int(value)
    if isinstance(value, (np.ndarray, list, tuple)) or is_cuda_array(value):
        from .._creation import tensor
        return tensor(value)
    raise TypeError(f'expected a Tensor or a number, but got {type(value).__name__}')


def type_name(value):
    """A value's type as PyTorch's argument parser names it: 'float', 'numpy.float64'."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == 'builtins' else f'{module}.{cls.__qualname__}'


def require_tensor(value, fname, arg='input', position=1):
    """PyTorch's TypeError for a non-tensor where a function takes only tensors (atan2(t, 2.0):
    argument 'other' (position 2) must be Tensor, not float)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f'{type_name(value)}')
    return value


def no_overload(fname, *args, expected='(Tensor input, Tensor other)\n * (Tensor input, '
                                        'Number other)'):
    """PyTorch's TypeError when no overload takes these arguments (eq(2.0, t): a number
    first, where only Tensor.eq(number) exists)."""
    got = ', '.join('Tensor' if isinstance(a, Tensor) else type_name(a) for a in args)
    return TypeError(f'{fname}() received an invalid combination of arguments - got ({got}), '
                     f'but expected one of:\n * {expected}')


wrap_dim = _wrap_dim


def broadcast_error(shapes, op_name=None):
    """PyTorch's message for shapes that do not broadcast (a RuntimeError naming both sizes)."""
    shapes = [tuple(s) for s in shapes]
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + s for s in shapes]
    for d in range(ndim - 1, -1, -1):
        sizes = [p[d] for p in padded]
        big = [s for s in sizes if s != 1]
        if len(set(big)) > 1:
            i, j = _first_two_differing(sizes)
            where = f' (in {op_name}, shapes {[list(s) for s in shapes]})' if op_name else ''
            return RuntimeError(f'The size of tensor a ({sizes[i]}) must match the size of tensor '
                                f'b ({sizes[j]}) at non-singleton dimension {d}{where}')
    return RuntimeError(f'shapes {[list(s) for s in shapes]} do not broadcast')


def _first_two_differing(sizes):
    first = next(k for k, s in enumerate(sizes) if s != 1)
    second = next(k for k, s in enumerate(sizes) if s != 1 and s != sizes[first])
    return first, second


def along_axis(xp, index, axis):
    """The fancy index reaching a[i0, ..., index[i0, ...], ...] for every position of `index`
    (take/put along an axis, without NumPy's slower Python-level take/put_along_axis)."""
    grid = []
    for d, size in enumerate(index.shape):
        if d == axis:
            grid.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = size
            grid.append(xp.arange(size).reshape(shape))
    return tuple(grid)


def wrap_dims(dim, ndim):
    """dim=None/int/sequence -> sorted tuple of non-negative dims (None means all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        dims = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f'dim {tuple(dim)} appears multiple times in the list of dims')
    else:
        dims = (wrap_dim(dim, ndim),)
    # a 0-dim tensor accepts dim 0 or -1, and reducing over it reduces over nothing
    return () if ndim == 0 else dims


def shape_arg(args):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(nbgrad.Size([2, 3]))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    try:
        return tuple(int(s.__index__()) for s in args)
    except (AttributeError, TypeError):
        raise TypeError(f'size must be a sequence of ints, got {args!r}') from None


def int_like(value):
    """value as a Python int where PyTorch's parser takes it as one (an int, a NumPy integer,
    a one-element integer tensor: anything with __index__, but not a bool); None otherwise."""
    if value.__class__ is int:
        return value
    if isinstance(value, bool) or not hasattr(value, '__index__'):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def takes_size_keyword(fn):
    """fn(*size, ...) callable as fn(size=(2, 3)) too, as PyTorch's parser allows (its
    signature keeps PyTorch's *size)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if 'size' in kwargs:
            if args:
                raise TypeError(f"{fn.__name__}() got multiple values for argument 'size'")
            args = (kwargs.pop('size'),)
        return fn(*args, **kwargs)
    call.__signature__ = inspect.signature(fn)      # (the PyTorch-shaped one, out= included)
    return call


def size_arg(args, name):
    """The size argument of a factory (zeros, rand...): required, non-negative."""
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    shape = shape_arg(args)
    if any(s < 0 for s in shape):
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(shape)}: '
                           f'{list(shape)}')
    return shape


# ---------------------------------------------------------------------------------------------
# Index bounds on the GPU: NumPy raises for an out-of-range index, CuPy wraps it around silently
# (docs.cupy.dev, "Difference between CuPy and NumPy"), so CuPy's index arrays are checked here
# (one device sync). NumPy's are left to NumPy, which checks them for free.
# ---------------------------------------------------------------------------------------------

def out_of_bounds(index, size, negative_ok=True):
    """The first index outside [-size, size) (or [0, size) when negative_ok is False: gather,
    scatter, index_select... refuse negative indices in PyTorch), or None."""
    if not index.size or index.dtype.kind not in 'iu':
        return None
    low = -size if negative_ok else 0
    if index.__class__ is _ndarray:  # two cheap reductions on the CPU
        smallest, largest = int(index.min()), int(index.max())
        return smallest if smallest < low else largest if largest >= size else None
    bad = (index < low) | (index >= size)
    if not bool(bad.any()):  # one sync on the GPU
        return None
    return int(index[bad].ravel()[0])


def check_advanced_index(a, index):
    """IndexError, PyTorch's message, for an out-of-range integer array in a[index] (CuPy)."""
    if a.__class__ is _ndarray:
        return
    items = index if isinstance(index, tuple) else (index,)

    def width(item):  # how many of a's dimensions an index item consumes
        if item is None or item is Ellipsis or isinstance(item, bool):
            return 0
        if hasattr(item, 'dtype') and item.dtype == np.bool_:
            return item.ndim
        return 1
    dim = 0
    for item in items:
        if item is Ellipsis:
            dim = a.ndim - sum(width(i) for i in items[items.index(item) + 1:])
            continue
        if is_cupy_array(item) and item.dtype.kind in 'iu' and dim < a.ndim:
            bad = out_of_bounds(item, a.shape[dim])
            if bad is not None:
                raise IndexError(f'index {bad} is out of bounds for dimension {dim} with size '
                                 f'{a.shape[dim]}')
        dim += width(item)
