"""nbgrad.testing.make_tensor: PyTorch's torch.testing.make_tensor.

The values come from nbgrad's random generator by the calls PyTorch makes (randint for bool and
integer dtypes, uniform_ for floating ones, uniform_ on the interleaved real and imaginary parts
for complex ones), so on the CPU a seed gives PyTorch's values.
"""
import collections.abc
import functools
import math
import warnings

from .. import _dtype
from .._creation import empty
from .._tensor import Tensor
from .._type_info import finfo, iinfo

__all__ = ['make_tensor']

_INTEGRAL_TYPES = (_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64)
_FLOATING_TYPES = (_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64)
_COMPLEX_TYPES = (_dtype.complex64, _dtype.complex128)
_BOOLEAN_OR_INTEGRAL_TYPES = (_dtype.bool, *_INTEGRAL_TYPES)
_FLOATING_OR_COMPLEX_TYPES = (*_FLOATING_TYPES, *_COMPLEX_TYPES)


def _among(dtype, dtypes):
    return any(dtype is d for d in dtypes)


def _uniform_random_(t, low, high):
    # uniform_ needs high - low to be finite in the dtype: draw half the range and double it
    if high - low >= finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    r"""A tensor of the given shape, dtype and device, filled with values drawn uniformly from
    [low, high) (PyTorch's torch.testing.make_tensor).

    low and high default by dtype: bool [0, 2), unsigned integers [0, 10), signed integers
    [-9, 10), floating and complex types [-9, 9) (for complex, the real and imaginary parts);
    bounds outside the dtype's finite range are clamped to it, and for bool and integer dtypes
    both are rounded up. noncontiguous=True gives a non-contiguous view (for more than one
    element); memory_format clones into that format; exclude_zero replaces zeros with 1 (bool,
    integers) or finfo(dtype).tiny (floating and complex types); requires_grad only for floating
    and complex dtypes.

    Raises ValueError for requires_grad with a bool or integer dtype, low >= high (low == high is
    deprecated for floating and complex types: a FutureWarning), NaN bounds, a range outside the
    dtype's, or noncontiguous together with memory_format; TypeError for a dtype it does not
    support.
    """
    def modify_low_high(low, high, *, lowest_inclusive, highest_exclusive, default_low,
                        default_high):
        """low and high, defaulted, checked and clamped to the dtype's range."""
        def clamp(a, lo, hi):
            return min(max(a, lo), hi)

        low = low if low is not None else default_low
        high = high if high is not None else default_high

        if any(isinstance(value, float) and math.isnan(value) for value in [low, high]):
            raise ValueError(f'`low` and `high` cannot be NaN, but got {low=} and {high=}')
        elif low == high and _among(dtype, _FLOATING_OR_COMPLEX_TYPES):
            warnings.warn('Passing `low==high` to `nbgrad.testing.make_tensor` for floating or '
                          'complex types is deprecated since 2.1 and will be removed in 2.3. '
                          'Use `nbgrad.full(...)` instead.', FutureWarning, stacklevel=3)
        elif low >= high:
            raise ValueError(f'`low` must be less than `high`, but got {low} >= {high}')
        elif high < lowest_inclusive or low >= highest_exclusive:
            raise ValueError(f'The value interval specified by `low` and `high` is [{low}, '
                             f'{high}), but {dtype} only supports [{lowest_inclusive}, '
                             f'{highest_exclusive})')

        low = clamp(low, lowest_inclusive, highest_exclusive)
        high = clamp(high, lowest_inclusive, highest_exclusive)
        if _among(dtype, _BOOLEAN_OR_INTEGRAL_TYPES):
            # low rounds up so that no value falls below it; high (exclusive for randint) too
            return math.ceil(low), math.ceil(high)
        return low, high

    # imported here: nbgrad/__init__ imports this module before nbgrad's random ops
    from .._random_ops import randint

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)

    if noncontiguous and memory_format is not None:
        raise ValueError('The parameters `noncontiguous` and `memory_format` are mutually '
                         f'exclusive, but got {noncontiguous=} and {memory_format=}')
    if requires_grad and _among(dtype, _BOOLEAN_OR_INTEGRAL_TYPES):
        raise ValueError('`requires_grad=True` is not supported for boolean and integral dtypes, '
                         f'but got {dtype=}')

    noncontiguous = noncontiguous and functools.reduce(lambda x, y: x * y, shape, 1) > 1
    if noncontiguous:
        # twice the last dimension, and every other element of it taken below
        shape = (*shape[:-1], 2 * shape[-1])

    if dtype is _dtype.bool:
        low, high = modify_low_high(low, high, lowest_inclusive=0, highest_exclusive=2,
                                    default_low=0, default_high=2)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif _among(dtype, _INTEGRAL_TYPES):
        info = iinfo(dtype)
        low, high = modify_low_high(
            low, high, lowest_inclusive=info.min,
            # randint cannot draw int64's maximum (its bounds are int64): PyTorch's limit
            highest_exclusive=info.max + (1 if dtype is not _dtype.int64 else 0),
            default_low=-9, default_high=10)  # uint8's -9 is clamped to 0
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif _among(dtype, _FLOATING_OR_COMPLEX_TYPES):
        info = finfo(dtype)
        low, high = modify_low_high(low, high, lowest_inclusive=info.min,
                                    highest_exclusive=info.max, default_low=-9, default_high=9)
        if _among(dtype, _COMPLEX_TYPES):
            # PyTorch fills view_as_real(result): real and imaginary parts in turn
            parts = empty((*shape, 2), device=device, dtype=dtype.to_real())
            _uniform_random_(parts, low, high)
            result = Tensor._make(parts._data.view(dtype.np).reshape(shape))
        else:
            result = empty(shape, device=device, dtype=dtype)
            _uniform_random_(result, low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        'nbgrad.testing.make_tensor().')

    if noncontiguous:
        result = result[..., 1::2]  # offset by 1 to also catch offsetting issues
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)

    if exclude_zero:
        result[result == 0] = (1 if _among(dtype, _BOOLEAN_OR_INTEGRAL_TYPES)
                               else finfo(dtype).tiny)

    if _among(dtype, _FLOATING_OR_COMPLEX_TYPES):
        result.requires_grad = requires_grad
    return result
