"""The torch-level math functions (nbgrad.exp, nbgrad.cat, ...), collected from the op modules."""
from ._arrays import MetaArray, meta_array
from .ops import elementwise as _ew
from .ops.elementwise import (add, sub, mul, div, pow, where, lerp, clamp, clamp_min, clamp_max,  # noqa
                              addcmul, addcdiv, polygamma, float_power, true_divide, rsub)
from .ops.exponents import ldexp, frexp  # noqa: F401
from .ops.reduction import (sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax,  # noqa
                            argmax, argmin, all, any, var, std, var_mean, std_mean, logsumexp,
                            cumsum, cumprod, softmax, log_softmax, count_nonzero)
from .ops.views import (view_as, reshape, transpose, swapaxes, swapdims, t, permute,  # noqa
                        squeeze, unsqueeze, flatten, unflatten, movedim, moveaxis, narrow,
                        select, as_strided, diagonal, split, chunk, tensor_split, unbind,
                        broadcast_to)
from .ops.shape import (cat, concat, concatenate, stack, hstack, vstack, row_stack, dstack,  # noqa
                        column_stack, flip, fliplr, flipud, roll, tile, repeat_interleave, tril,
                        triu, diag, diag_embed, diagflat, diagonal_scatter, select_scatter,
                        slice_scatter, clone, broadcast_tensors, broadcast_shapes, meshgrid,
                        cartesian_prod, rot90, block_diag, atleast_1d, atleast_2d, atleast_3d,
                        combinations, vander)
from .ops.indexing import (gather, scatter, scatter_add, index_select, index_add, index_copy,  # noqa
                           index_fill, masked_fill, masked_select, masked_scatter, take,
                           take_along_dim, nonzero, nonzero_static, argwhere, index_put)
from .ops.scatter_reduce import scatter_reduce, index_reduce  # noqa: F401
from .ops.as_strided_scatter import as_strided_scatter  # noqa: F401
from .ops.matmul import (matmul, mm, bmm, mv, dot, vdot, outer, ger, inner, tensordot,  # noqa
                         einsum, kron)
from .ops.scaled_products import addmm, addmv, baddbmm, addbmm, addr  # noqa: F401
from ._creation import tril_indices, triu_indices  # noqa
from .ops import complex_ops as _complex
from .ops.windows import (hann_window, hamming_window, bartlett_window, blackman_window,  # noqa
                          kaiser_window)
from ._node_names import presents_as

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


def _tensor_args(fname, input, other, other_name='other'):
    """PyTorch's TypeError for a number where a function takes two tensors only."""
    _is_tensor_arg(input, fname)
    _is_tensor_arg(other, fname, other_name, 2)


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    _tensor_args('equal', input, other)
    return input.shape == other.shape and bool((input == other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _tensor_args('allclose', input, other)
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    from .ops._util import as_operand
    from ._tensor import Tensor
    _tensor_args('isclose', input, other)
    for name, tolerance in (('rtol', rtol), ('atol', atol)):
        if tolerance < 0:
            raise RuntimeError(f'{name} must be greater than or equal to zero, but got '
                               f'{tolerance:g}')
    other = as_operand(other)
    if input.is_sparse or (isinstance(other, Tensor) and other.is_sparse):
        from .sparse._routing import refuse
        refuse('isclose', (input, other))
    if isinstance(other, Tensor) and input.dtype != other.dtype:
        from ._dispatch import _type_word
        raise RuntimeError(f'{_type_word(input._data.dtype)} did not match '
                           f'{_type_word(other._data.dtype)}')
    if isinstance(other, Tensor) and other.device != input.device:
        # a CPU 0-d tensor goes with a tensor on any device, as in every binary op
        if other.dim() == 0 and other.device.type == 'cpu':
            other = other.to(input.device)
        elif input.dim() == 0 and input.device.type == 'cpu':
            input = input.to(other.device)
        else:
            raise RuntimeError('Expected all tensors to be on the same device, but found at '
                               f'least two devices, {input.device} and {other.device}!')
    import numpy as np
    a = input._data
    b = other._data if isinstance(other, Tensor) else other
    try:
        np.broadcast_shapes(a.shape, np.shape(b))
    except ValueError:
        from .ops._util import broadcast_error
        raise broadcast_error([a.shape, np.shape(b)]) from None
    if a.__class__ is MetaArray:     # (a shape and a dtype only)
        return Tensor._make(meta_array(np.broadcast_shapes(a.shape, np.shape(b)), np.bool_))
    result = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan) if a.__class__ is \
        np.ndarray else _cupy_isclose(a, b, rtol, atol, equal_nan)
    return Tensor._make(np.asarray(result) if a.__class__ is np.ndarray else result)


def _cupy_isclose(a, b, rtol, atol, equal_nan):
    import cupy
    return cupy.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


# ---- torch-level signatures that differ from the Tensor methods sharing the op -------------
# (torch.reshape(x, shape) takes no *shape, torch.dot's second tensor is `tensor`, ...)
from .ops import views as _views, shape as _shape, matmul as _matmul  # noqa: E402


def reshape(input, shape):
    return _views.reshape(input, shape)


def permute(input, dims):
    return _views.permute(input, dims)


def flip(input, dims):
    if not isinstance(dims, (list, tuple)):     # (Tensor.flip(0) takes varargs; torch.flip not)
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not "
                        f'{type(dims).__name__}')
    return _shape.flip(input, dims)


def broadcast_to(input, size):
    return _views.expand(input, size)


def dot(input, tensor):
    return _matmul.dot(input, tensor)


def swapaxes(input, axis0, axis1):
    return _views.transpose(input, axis0, axis1)


def nan_to_num(input, nan=None, posinf=None, neginf=None):
    return input.nan_to_num(nan, posinf, neginf)


def round(input, *, decimals=None):
    """torch.round; decimals (round.decimals, RoundBackward1) when given."""
    if decimals is None:
        return _ew.unary('round')(input)
    from .special import round as _round_decimals
    return _round_decimals(input, decimals=decimals)


def logit(input, eps=None):
    if eps is None or eps < 0:      # (a negative eps is no eps in PyTorch's kernel)
        return _ew.unary('logit')(input)
    from .special import logit as _logit
    return _logit(input, eps)


def result_type(tensor, other):
    from .ops._util import _slow_promote
    from ._tensor import Tensor
    arrays = [t._data if isinstance(t, Tensor) else t for t in (tensor, other)]
    return _slow_promote(arrays)


# ---- small functions PyTorch has at the top level ------------------------------------------

def _is_tensor_arg(x, fname, arg='input', position=1):
    from .ops._util import require_tensor
    require_tensor(x, fname, arg, position)


@presents_as('Deg2RadBackward0')
def deg2rad(input):
    _is_tensor_arg(input, 'deg2rad')
    return input * (3.141592653589793 / 180.0) if input.dtype.is_floating_point or \
        input.dtype.is_complex else input.to(_dtype_mod.get_default_dtype()) * (
            3.141592653589793 / 180.0)


@presents_as('Rad2DegBackward0')
def rad2deg(input):
    _is_tensor_arg(input, 'rad2deg')
    return input * (180.0 / 3.141592653589793) if input.dtype.is_floating_point or \
        input.dtype.is_complex else input.to(_dtype_mod.get_default_dtype()) * (
            180.0 / 3.141592653589793)


def _integer_binary(name, ufunc):
    def fn(input, other):
        from ._tensor import Tensor
        from .ops._util import as_operand, xp_of
        _tensor_args(name, input, other)
        other = as_operand(other)
        dt = result_type(input, other)
        if dt.is_floating_point or dt.is_complex or dt.name == 'bool':
            word = {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'bfloat16': 'BFloat16',
                    'bool': 'Bool'}.get(dt.name, dt.name)
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{word}\'')
        a, b = input._data.astype(dt.np), other._data.astype(dt.np)
        xp = xp_of(a, b)   # (a 0-d result comes back from the ufunc as a NumPy scalar)
        return Tensor._make(xp.asarray(getattr(xp, ufunc)(a, b)).astype(dt.np))
    fn.__name__ = fn.__qualname__ = name
    return fn


gcd = _integer_binary('gcd', 'gcd')
lcm = _integer_binary('lcm', 'lcm')


def heaviside(input, values):
    from ._tensor import Tensor
    from .ops._util import xp_of
    _tensor_args('heaviside', input, values, 'values')
    if input.is_complex() or values.is_complex():
        raise RuntimeError('heaviside is not yet implemented for complex tensors.')
    if input.dtype != values.dtype:
        raise RuntimeError('heaviside is not yet implemented for tensors with different dtypes')
    a, v = input._data, values._data
    xp = xp_of(a, v)
    out = xp.where(a == 0, v, (a > 0).astype(a.dtype))
    return Tensor._make(xp.asarray(out).astype(a.dtype))


def isneginf(input):
    return isinf(input) & (input < 0) if not input.dtype.is_complex else \
        _complex_error('isneginf')  # noqa: F821


def isposinf(input):
    return isinf(input) & (input > 0) if not input.dtype.is_complex else \
        _complex_error('isposinf')  # noqa: F821


def _complex_error(name):
    raise RuntimeError(f'{name} does not support complex inputs.')


def isreal(input):
    if input.dtype.is_complex:
        return imag(input) == 0
    return ones_like(input, dtype=_dtype_mod.bool)


def ravel(input):
    return _views.reshape(input, (-1,))


@presents_as('TraceBackward0')
def trace(input):
    if input.dim() != 2:
        raise RuntimeError(f'trace: expected a matrix, but got tensor with dim {input.dim()}')
    if input._data.dtype.kind == 'b':
        from ._dispatch import no_kernel
        raise no_kernel('trace', 'bool')
    return input.diagonal().sum()


def dist(input, other, p=2):
    _tensor_args('dist', input, other)
    from . import linalg
    return linalg.vector_norm(input - other, p)


def _split_along(name, dim, min_dims):
    def fn(input, indices_or_sections):
        if input.dim() < min_dims:
            raise RuntimeError(f'torch.{name} requires a tensor with at least {min_dims} '
                               f'dimension, but got a tensor with {input.dim()} dimensions!')
        d = 0 if name == 'hsplit' and input.dim() == 1 else dim
        from ._tensor import Tensor
        if not isinstance(indices_or_sections, (int, list, tuple, Tensor)):
            from .ops._util import no_overload
            raise no_overload(name, input, indices_or_sections,
                              expected='(Tensor input, int sections)\n'
                                       ' * (Tensor input, tuple of ints indices)')
        if isinstance(indices_or_sections, int):
            size = input.shape[d]
            if indices_or_sections == 0 or size % indices_or_sections:
                raise RuntimeError(f'torch.{name} attempted to split along dimension {d}, but '
                                   f'the size of the dimension {size} is not divisible by the '
                                   f'split_size {indices_or_sections}!')
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = fn.__qualname__ = name
    return fn


hsplit = _split_along('hsplit', 1, 1)
vsplit = _split_along('vsplit', 0, 2)
dsplit = _split_along('dsplit', 2, 3)


def is_nonzero(input):
    n = input.numel()
    if n == 0:
        raise RuntimeError('Boolean value of Tensor with no values is ambiguous')
    if n > 1:
        raise RuntimeError('Boolean value of Tensor with more than one value is ambiguous')
    return bool(input.item())


def is_same_size(input, other):
    return input.shape == other.shape


def is_signed(input):
    return input.dtype.is_signed


def positive(input):
    return input.positive()


def adjoint(input):
    return input.mH


def detach(input):
    return input.detach()


def get_device(input):
    return input.get_device()


def nextafter(input, other):
    _is_tensor_arg(input, 'nextafter')
    _is_tensor_arg(other, 'nextafter', 'other', 2)
    return _ew.binary('nextafter')(input, other)


def igamma(input, other):
    _is_tensor_arg(input, 'igamma')
    _is_tensor_arg(other, 'igamma', 'other', 2)
    from .ops import gamma_zeta
    return gamma_zeta.igamma(input, other)


def igammac(input, other):
    _is_tensor_arg(input, 'igammac')
    _is_tensor_arg(other, 'igammac', 'other', 2)
    from .ops import gamma_zeta
    return gamma_zeta.igammac(input, other)


from ._out import accepts_out as _accepts_out  # noqa: E402
igamma, igammac = _accepts_out(igamma), _accepts_out(igammac)


def mvlgamma(input, p):
    _is_tensor_arg(input, 'mvlgamma')
    return _Tensor.mvlgamma(input, p)


def split_with_sizes(input, split_sizes, dim=0):
    return _Tensor.split_with_sizes(input, split_sizes, dim)


def narrow_copy(input, dim, start, length):
    return _Tensor.narrow_copy(input, dim, start, length)


from .ops.statistics import cov, corrcoef  # noqa: E402,F401
from .ops.flat_index import put, unravel_index  # noqa: E402,F401
from .ops.filling import fill  # noqa: E402,F401
from .ops.renorm import renorm  # noqa: E402,F401
from . import _dtype as _dtype_mod  # noqa: E402
from ._creation import ones_like  # noqa: E402
from ._tensor import Tensor as _Tensor  # noqa: E402

# ... and as Tensor methods (x.trace() is torch.trace(x); _tensor_methods makes the x.f_())
for _name in ('trace', 'ravel', 'deg2rad', 'rad2deg', 'gcd', 'lcm', 'heaviside', 'isneginf',
              'isposinf', 'isreal', 'dist', 'hsplit', 'vsplit', 'dsplit',
              'is_nonzero', 'is_same_size', 'is_signed', 'equal', 'allclose', 'isclose'):
    setattr(_Tensor, _name, globals()[_name])
for _name in ('deg2rad', 'rad2deg', 'gcd', 'lcm', 'heaviside'):
    getattr(_Tensor, _name + '_').__signature__ = __import__('inspect').signature(globals()[_name])


__all__ = [n for n in dir() if not n.startswith('_')]
