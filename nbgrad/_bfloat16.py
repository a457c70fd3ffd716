"""bfloat16 tensors on the CPU: every op computes in float32 and rounds its result to bfloat16 once.

That is what PyTorch's CPU kernels do for bfloat16 (their "opmath" type is float: a sum
accumulates in float, gelu's formula runs in float, a matrix product multiplies and adds in float),
so doing it once, here at the dispatch point, gives PyTorch's numbers for every op at once. NumPy
on its own would round after each of its own ufunc calls instead (ml_dtypes' loops), and it has
no bfloat16 BLAS. The arrays are ml_dtypes' bfloat16 (see _dtype.enable_bfloat16), so a
bfloat16 tensor takes two bytes an element and views, copies and saved files are real bfloat16.

Ops that only move memory (views, conversions: `sees_bfloat16` on the op class) take the
bfloat16 arrays as they are. CUDA has no bfloat16 in nbgrad: CuPy has no such dtype.

Scalars. PyTorch's elementwise kernels (TensorIterator) cast a Python number, or a 0-dim tensor
of another dtype, to the operands' common dtype before computing: x + 0.3 on bfloat16 adds
bfloat16(0.3) = 0.30078125, and x == 0.1 compares with bfloat16(0.1). Multiplication and
division are the exception: their kernels read a second operand that is a scalar at float
precision (original_scalar_value). Ops say which rule they follow in `scalar_operands`.

The default dtype. With set_default_dtype(bfloat16), integers meeting a float number give
bfloat16 with no bfloat16 operand at all (arange(4) / 4): elementwise ops then take the same
route, their integer operands cast to bfloat16 as PyTorch casts them (_from_default).
"""
import math
import numbers

import numpy as np

from . import _dtype
from ._sparse_coo import SparseCOO
from ._tensor import Tensor

_FLOAT32 = np.dtype(np.float32)


def widen(op, inputs, arrays, bfloat16):
    """(arrays with each bfloat16 array as float32, whether the op's float32 results are to be
    rounded to bfloat16), or None when nothing about the op is bfloat16 (no bfloat16 operand,
    no bfloat16 dtype it was told, no bfloat16 result by the default dtype)."""
    wide = None
    for i, a in enumerate(arrays):
        if getattr(a, 'dtype', None) is bfloat16:
            if wide is None:
                wide = list(arrays)
            wide[i] = _cast(a, np.float32)
    if wide is None:
        if _told_bfloat16(op, bfloat16):
            return list(arrays), True
        return _from_default(op, inputs, arrays, bfloat16)
    common = _common_dtype(inputs) is _dtype.bfloat16
    if common and op.scalar_operands is not None:
        _round_scalars(op, inputs, wide, bfloat16)
    if _told_bfloat16(op, bfloat16):
        return wide, True
    # an op told another result dtype, like sum(dtype=float32), keeps the one it computed
    told = getattr(op, 'dtype', None) is not None or getattr(op, 'np_dtype', None) is not None
    return wide, common and not told


def told(op, bfloat16):
    """Whether the op was told to compute in bfloat16 (see _told_bfloat16), without changing it.
    (On the dispatch fast path: the instance's own attributes, no getattr fallbacks.)"""
    attributes = op.__dict__
    for name in ('dtype', 'np_dtype'):
        value = attributes.get(name)
        if value is bfloat16 or value is _dtype.bfloat16:
            return True
    return False


def _told_bfloat16(op, bfloat16):
    """Whether the op was told to compute in bfloat16 (sum(dtype=bfloat16), softmax(dtype=...),
    out= of bfloat16): then it is retold float32, and its result is rounded once (PyTorch
    accumulates bfloat16 in float)."""
    for name in ('dtype', 'np_dtype'):
        value = getattr(op, name, None)
        if value is bfloat16 or value is _dtype.bfloat16:
            setattr(op, name, _FLOAT32 if value is bfloat16 else _dtype.float32)
            return True
    return False


def _from_default(op, inputs, arrays, bfloat16):
    """widen for an elementwise op without bfloat16 operands whose result is bfloat16 all the
    same: the default dtype is bfloat16 and integers meet a float number (int_tensor * 1.5) or
    give floats (arange(4).sin()). Its integer operands are cast to bfloat16 (as PyTorch casts
    them to the common dtype), as float32 values; None for every other op."""
    from . import _dispatch
    if not _dispatch._default_bfloat16 or op.scalar_operands is None:
        return None
    common = _common_dtype(inputs)
    if common is not _dtype.bfloat16 and not (getattr(op, 'result', None) == 'float' and
                                              common is not None and common.np.kind in 'biu'):
        return None
    wide = [a.astype(bfloat16).astype(np.float32)    # (bool operands, where's condition
            if getattr(a, 'dtype', None) is not None and a.dtype.kind in 'iu' else a  # too,
            for a in arrays]                                # compute as they are)
    if common is _dtype.bfloat16:
        _round_scalars(op, inputs, wide, bfloat16)
    return wide, True


def any_in(arrays, bfloat16):
    return any(getattr(a, 'dtype', None) is bfloat16 for a in arrays)


def _common_dtype(inputs):
    """PyTorch's promotion of the op's operands."""
    dims, zero_dim, scalars = [], [], []
    for x in inputs:
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zero_dim).append(x.dtype)
        elif isinstance(x, numbers.Number):
            scalars.append(x)
    return _dtype.result_type_from(dims, zero_dim, scalars)


def _round_scalars(op, inputs, wide, bfloat16):
    """Cast the op's scalar operands to bfloat16 (in wide, as float32 values), as PyTorch's
    elementwise kernels cast them to the common dtype (see the module docstring)."""
    at_float = op.scalar_operands
    for i, x in enumerate(inputs):
        if at_float != 'common' and i == 1:
            continue
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            if at_float == 'at float':   # (mul: 0.1 * x is PyTorch's mul(x, 0.1))
                continue
            wide[i] = to_bfloat16(x, bfloat16)
        elif isinstance(x, Tensor) and not x._data.ndim and x._data.dtype.kind in 'iuf' \
                and x._data.dtype is not bfloat16:
            wide[i] = x._data.astype(np.float32).astype(bfloat16).astype(np.float32)
    op.round_scalar_settings(bfloat16)


def to_bfloat16(value, bfloat16):
    """The Python number value as PyTorch's c10::BFloat16 holds it (converted through float, as
    its constructor takes), of value's type (an int too large for bfloat16 stays as it is)."""
    try:
        rounded = float(np.float32(value).astype(bfloat16))
    except OverflowError:
        return value
    if not isinstance(value, numbers.Integral):
        return rounded
    return int(rounded) if math.isfinite(rounded) else value


def narrow(out, bfloat16):
    """The op's float32 results rounded to bfloat16 (others as they are)."""
    if isinstance(out, tuple):
        return tuple(narrow(a, bfloat16) for a in out)
    if getattr(out, 'dtype', None) == _FLOAT32:
        return _cast(out, bfloat16)
    return out


def _cast(a, dtype):
    """a (an array, a NumPy scalar, or sparse values with their pattern) as dtype."""
    if a.__class__ is SparseCOO:
        return SparseCOO(a.indices, a.values.astype(dtype), a.shape, a.coalesced, a.compressed)
    return np.asarray(a).astype(dtype)


def refuse_on_gpu(np_dtype):
    """A clear error where a bfloat16 array would go to a GPU (CuPy has no bfloat16 type)."""
    if _dtype.is_bfloat16(np_dtype):
        raise TypeError('nbgrad has no bfloat16 tensors on CUDA: CuPy has no bfloat16 type. Keep '
                        'bfloat16 tensors on the CPU, or use nbgrad.float16 on the GPU.')
