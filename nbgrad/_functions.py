"""The torch-level math functions (nbgrad.exp, nbgrad.cat, ...), collected from the op modules."""
from .ops import elementwise as _ew
from .ops.elementwise import (add, sub, mul, div, pow, where, lerp, clamp, clamp_min, clamp_max,  # noqa
                              addcmul, addcdiv, polygamma, float_power, true_divide, rsub,
                              ldexp, frexp)
from .ops.reduction import (sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax,  # noqa
                            argmax, argmin, all, any, var, std, var_mean, std_mean, logsumexp,
                            cumsum, cumprod, softmax, log_softmax, count_nonzero)
from .ops.views import (view_as, reshape, transpose, swapaxes, swapdims, t, permute,  # noqa
                        squeeze, unsqueeze, flatten, unflatten, movedim, moveaxis, narrow,
                        select, as_strided, diagonal, split, chunk, tensor_split, unbind,
                        broadcast_to)
from .ops.shape import (cat, concat, concatenate, stack, hstack, vstack, row_stack, dstack,  # noqa
                        column_stack, flip, fliplr, flipud, roll, tile, repeat_interleave, tril,
                        triu, diag, diag_embed, diagflat, diagonal_scatter, clone,
                        broadcast_tensors, broadcast_shapes, meshgrid, cartesian_prod, rot90,
                        block_diag, atleast_1d, atleast_2d, atleast_3d, combinations, vander)
from .ops.indexing import (gather, scatter, scatter_add, index_select, index_add, index_copy,  # noqa
                           index_fill, masked_fill, masked_select, masked_scatter, take,
                           take_along_dim, nonzero, argwhere, index_put)
from .ops.scatter_reduce import scatter_reduce, index_reduce  # noqa: F401
from .ops.matmul import (matmul, mm, bmm, mv, dot, vdot, outer, ger, addmm, addmv, baddbmm,  # noqa
                         addbmm, addr, inner, tensordot, einsum, kron)
from ._creation import tril_indices, triu_indices  # noqa
from .ops import complex_ops as _complex
from .ops.windows import (hann_window, hamming_window, bartlett_window, blackman_window,  # noqa
                          kaiser_window)

# elementwise functions made from the op tables: nbgrad.exp, nbgrad.maximum, nbgrad.eq, ...
for _name in _ew.UNARY:
    if _name != 'special_i1':
        globals()[_name] = _ew.unary(_name)
for _name in _ew.BINARY:
    if _name not in ('add', 'sub', 'div', 'div_trunc', 'pow'):
        globals()[_name] = _ew.binary(_name)
absolute, negative, fix = abs, neg, trunc  # noqa: F821
arcsin, arccos, arctan = asin, acos, atan  # noqa: F821
arcsinh, arccosh, arctanh = asinh, acosh, atanh  # noqa: F821
arctan2 = atan2  # noqa: F821
multiply, divide, subtract = mul, div, sub
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne  # noqa: F821
clip = clamp


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return input.nan_to_num(nan, posinf, neginf)


def conj(input):
    return input.conj()


# complex numbers (ops/complex_ops.py), re-exported by assignment like the aliases above
real, imag, view_as_real, view_as_complex = (_complex.real, _complex.imag, _complex.view_as_real,
                                             _complex.view_as_complex)
view_as_real_copy, view_as_complex_copy = _complex.view_as_real_copy, _complex.view_as_complex_copy
complex, polar, angle = _complex.complex, _complex.polar, _complex.angle
conj_physical, conj_physical_ = _complex.conj_physical, _complex.conj_physical_


def resolve_conj(input):
    return input.resolve_conj()


def resolve_neg(input):
    return input.resolve_neg()


def is_conj(input):
    return input.is_conj()


def is_neg(input):
    return input.is_neg()


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool((input == other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    from .ops._util import as_operand
    from ._tensor import Tensor
    other = as_operand(other)
    if isinstance(other, Tensor) and input.dtype != other.dtype:
        raise RuntimeError(f'{input.dtype} did not match {other.dtype}')
    import numpy as np
    a = input._data
    b = other._data if isinstance(other, Tensor) else other
    result = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan) if a.__class__ is \
        np.ndarray else _cupy_isclose(a, b, rtol, atol, equal_nan)
    return Tensor._make(np.asarray(result) if a.__class__ is np.ndarray else result)


def _cupy_isclose(a, b, rtol, atol, equal_nan):
    import cupy
    return cupy.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


__all__ = [n for n in dir() if not n.startswith('_')]
