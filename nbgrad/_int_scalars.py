"""A Python int written into an integer tensor, as PyTorch converts it (c10::checked_convert):
signed types take their range; unsigned types also take negatives down to -max, which wrap
(fill_(-1) on uint8 gives 255, a common way to write the largest value); beyond that PyTorch's
RuntimeError. NumPy would raise OverflowError for every negative, and wrap 300 to 44 in places.
Used where a scalar becomes an element: fill_, full, masked_fill, index_fill, scatter's value,
x[i] = v, where, and tensor() from lists."""
import math

import numpy as np

from . import _dtype

_C_NAMES = {'uint8': 'uint8_t', 'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int',
            'int64': 'int64_t', 'uint16': 'uint16_t', 'uint32': 'uint32_t', 'uint64': 'uint64_t',
            'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'float32': 'float', 'float64': 'double'}


def fits(value, np_dtype, float_targets=True):
    """value (a Python int) as an element of the integer np_dtype; RuntimeError on overflow.
    A Python float must be finite and in range for an integer np_dtype and, with float_targets,
    in range (or infinite, or NaN) for float16/float32, as c10's checked conversion wants.
    Anything else is returned as it is."""
    if value.__class__ is float:
        kind = np.dtype(np_dtype).kind
        if kind in 'iu':
            info = np.iinfo(np_dtype)
            if not info.min <= value <= info.max:      # (NaN too)
                raise overflow(np_dtype)
        elif kind in _dtype.FLOATING_KINDS and float_targets and not math.isinf(value) and \
                abs(value) > float(_dtype.finfo(np_dtype).max):
            raise overflow(np_dtype)
        return value
    if value.__class__ is not int or np.dtype(np_dtype).kind not in 'iu':
        return value
    info = np.iinfo(np_dtype)
    if info.min <= value <= info.max:
        return value
    if info.min == 0 and -info.max <= value < 0:
        return value + info.max + 1
    raise overflow(np_dtype)


def overflow(np_dtype, c_name=True):
    """PyTorch's error, naming the type as C++ does (uint8_t) or, for tensor(), as uint8."""
    name = np.dtype(np_dtype).name
    spelled = _C_NAMES.get(name, name) if c_name else name
    return RuntimeError(f'value cannot be converted to type {spelled} without overflow')


def fit_array(values, np_dtype):
    """An int64 (or object) array of Python ints converted to the integer np_dtype by the same
    rule, for tensor() of lists (PyTorch names the type without _t there)."""
    info = np.iinfo(np_dtype)
    low = -info.max if info.min == 0 else info.min
    if values.size and (values.min() < low or values.max() > info.max):
        raise overflow(np_dtype, c_name=False)
    return values.astype(np.int64).astype(np_dtype)
