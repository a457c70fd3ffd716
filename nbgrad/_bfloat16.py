"""bfloat16 tensors on the CPU: every op computes in float32 and rounds its result to bfloat16 once.

That is what PyTorch's CPU kernels do for bfloat16 (their "opmath" type is float: a sum
accumulates in float, gelu's formula runs in float, a matrix product multiplies and adds in float),
so doing it once, here at the dispatch point, gives PyTorch's numbers for every op at once. NumPy
on its own would round after each of its own ufunc calls instead (ml_dtypes' loops), and it has
no bfloat16 BLAS. The arrays are ml_dtypes' bfloat16 (see _dtype.enable_bfloat16), so a
bfloat16 tensor takes two bytes an element and views, copies and saved files are real bfloat16.

Ops that only move memory (views, conversions: `sees_bfloat16` on the op class) take the
bfloat16 arrays as they are. CUDA has no bfloat16 in nbgrad: CuPy has no such dtype.
"""
import numbers

import numpy as np

from . import _dtype
from ._tensor import Tensor

_FLOAT32 = np.dtype(np.float32)


def widen(op, inputs, arrays, bfloat16):
    """(arrays with each bfloat16 array as float32, whether the op's float32 results are to be
    rounded to bfloat16), or None when no array is bfloat16."""
    wide = None
    for i, a in enumerate(arrays):
        if getattr(a, 'dtype', None) is bfloat16:
            if wide is None:
                wide = list(arrays)
            wide[i] = a.astype(np.float32)
    if wide is None:
        return None
    return wide, _rounds(op, inputs)


def any_in(arrays, bfloat16):
    return any(getattr(a, 'dtype', None) is bfloat16 for a in arrays)


def _rounds(op, inputs):
    """Whether the op's result is bfloat16 by PyTorch's promotion of its operands (an op told
    its result dtype, like sum(dtype=...), keeps the one it computed)."""
    if getattr(op, 'dtype', None) is not None or getattr(op, 'np_dtype', None) is not None:
        return False
    dims, zero_dim, scalars = [], [], []
    for x in inputs:
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zero_dim).append(x.dtype)
        elif isinstance(x, numbers.Number):
            scalars.append(x)
    return _dtype.result_type_from(dims, zero_dim, scalars) is _dtype.bfloat16


def narrow(out, bfloat16):
    """The op's float32 results rounded to bfloat16 (others as they are)."""
    if isinstance(out, tuple):
        return tuple(narrow(a, bfloat16) for a in out)
    if getattr(out, 'dtype', None) == _FLOAT32:
        return np.asarray(out).astype(bfloat16)
    return out


def refuse_on_gpu(np_dtype):
    """A clear error where a bfloat16 array would go to a GPU (CuPy has no bfloat16 type)."""
    if _dtype.is_bfloat16(np_dtype):
        raise TypeError('nbgrad has no bfloat16 tensors on CUDA: CuPy has no bfloat16 type. Keep '
                        'bfloat16 tensors on the CPU, or use nbgrad.float16 on the GPU.')
