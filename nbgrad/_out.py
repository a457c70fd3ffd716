"""PyTorch's `out=` contract, in one place: `@accepts_out` (or `@accepts_out(factory=True)`) on a
function whose signature has `out=None` makes `f(..., out=t)` compute the result, write it into
`t` (resized if its shape differs) and return `t`.

Factories (zeros, arange, rand...) compute in out's dtype and on out's device unless told
otherwise; other functions cast their result into out's dtype when PyTorch's casting rules allow
it. As in PyTorch, out= does not mix with autograd: it raises when grad mode is on and an input
or out requires grad.
"""
import functools
import inspect
import warnings

import numpy as np

from ._tensor import Tensor
from . import _dtype
from ._dispatch import _type_word
from ._memory_overlap import refuse_out_overlap


def _requires_grad_anywhere(values):
    for v in values:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and _requires_grad_anywhere(v):
            return True
    return False


def _can_cast(src, dst):
    """PyTorch's rule for out=: no cast to a lower category (float -> int, int -> bool)."""
    order = {'b': 0, 'u': 1, 'i': 1, 'f': 2, 'V': 2, 'c': 3}     # ('V': bfloat16)
    return order[np.dtype(src).kind] <= order[np.dtype(dst).kind]


def write_out(out, result, name, warn_on_resize=True, rules=None):
    """Put result's values into `out` and return out (a tuple of outs for several results).
    rules: the op's own out= checks, see accepts_out."""
    rules = rules or {}
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f'{name}(): out must be a tuple of {len(result)} Tensors')
        written = [write_out(o, r, name, warn_on_resize, rules) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, '_fields') else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.device != result.device:
        raise RuntimeError(f'Expected out tensor to have device {result.device}, but got '
                           f'{out.device} instead')
    src, dst = result._data.dtype, out._data.dtype
    exact = rules.get('exact_dtype')
    if exact and src != dst:
        raise RuntimeError(_EXACT_DTYPE_MESSAGES[exact].format(
            name=name, src=_type_word(src), dst=_type_word(dst), src_c=_C_TYPES[src.name],
            dst_c=_C_TYPES[dst.name]))
    if not _can_cast(src, dst):
        if rules.get('cast_error') is TypeError:
            raise TypeError(f"torch.{name}(): input types can't be cast to the desired output "
                            f'type {_type_word(dst)}')
        raise RuntimeError(f"result type {_type_word(src)} can't be cast to the desired output "
                           f'type {_type_word(dst)}')
    array = result._data
    if out._data.shape != array.shape:
        if warn_on_resize and out._data.size:
            warnings.warn(f'An output with one or more elements was resized since it had shape '
                          f'{list(out.shape)}, which does not match the required output shape '
                          f'{list(array.shape)}. This behavior is deprecated, and in a future '
                          f'PyTorch release outputs will not be resized unless they have zero '
                          f'elements. You can explicitly reuse an out tensor t by resizing it, '
                          f'inplace, to zero elements with t.resize_(0).', UserWarning,
                          stacklevel=3)
        out._data = array.astype(dst, copy=True)  # a resize: new memory, as in PyTorch
    else:
        out._data[...] = array
    out._vc[0] += 1
    return out


# PyTorch's words for an out= of another dtype than the result's, by the ops that refuse one
_EXACT_DTYPE_MESSAGES = {
    True: '{name}: Expected the output tensor to have dtype {src}, but got an output tensor with '
          'dtype {dst}',
    'c': 'Expected out tensor to have dtype {src_c}, but got {dst_c} instead',
    'where': 'Expected out type to be {src} but got {dst}',
    'dot': 'result dtype {dst} does not match input dtype {src}',
    'mv': 'addmv input tensors must have the same dtype, but got {dst}, {src}, and {src}',
    'input': "Expected the dtype for input and out to match, but got {src} for input's dtype "
             "and {dst} for out's dtype.",
}
_C_TYPES = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'int64': 'long int',
            'int32': 'int', 'int16': 'short int', 'int8': 'signed char', 'uint8': 'unsigned char',
            'bool': 'bool', 'complex64': 'c10::complex<float>',
            'complex128': 'c10::complex<double>'}


def accepts_out(fn=None, *, factory=False, **rules):
    """rules, where an op checks out= differently: exact_dtype=True (tensordot: no cast at
    all), cast_error=TypeError (cat's kind of error for an impossible cast), dtype_from_out=True
    (sum: out's dtype is the computation's dtype= when none is given), receives_out=True (the
    function is given out as _out=, to see its layout: the random factories)."""
    if fn is None:
        return functools.partial(accepts_out, factory=factory, **rules)
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        from . import autograd
        if autograd.is_grad_enabled() and (
                _requires_grad_anywhere(args) or _requires_grad_anywhere(kwargs.values()) or
                _requires_grad_anywhere(out if isinstance(out, (list, tuple)) else (out,))):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               'automatic differentiation, but one of the arguments requires '
                               'grad.')
        if autograd.forward_ad.has_tangent_anywhere(list(args) + list(kwargs.values())):
            raise NotImplementedError(f'Trying to use forward AD with {name}_out that does not '
                                      f'support it because it is an out= function')
        refuse_out_overlap(name, out, args, kwargs)
        if rules.get('dtype_from_out') and isinstance(out, Tensor) and \
                kwargs.get('dtype') is None:
            kwargs['dtype'] = out.dtype
        if factory and isinstance(out, Tensor):
            if kwargs.get('dtype') is None:
                kwargs['dtype'] = out.dtype
            elif kwargs['dtype'] != out.dtype:
                raise RuntimeError(f"dtype {_type_word(_dtype.to_dtype(kwargs['dtype']).np)} "
                                   f'does not match dtype of out parameter '
                                   f'({_type_word(out._data.dtype)})')
            if kwargs.get('device') is None:
                kwargs['device'] = out.device
        if rules.get('receives_out'):
            kwargs['_out'] = out
        return write_out(out, fn(*args, **kwargs), name, not factory, rules)
    return wrapper


# PyTorch 2.13's torch.* functions that take out= (read from its stubs) and that nbgrad has; the
# factories among them carry @accepts_out(factory=True) already, the rest get it at import
OUT_FUNCTIONS = (
    'abs', 'absolute', 'acos', 'acosh', 'add', 'addbmm', 'addcdiv', 'addcmul', 'addmm', 'addmv',
    'addr', 'all', 'amax', 'amin', 'aminmax', 'angle', 'any', 'arange', 'arccos', 'arccosh',
    'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax', 'argmin', 'argsort', 'asin',
    'asinh', 'atan', 'atan2', 'atanh', 'baddbmm', 'bernoulli', 'bitwise_and', 'bitwise_left_shift',
    'bitwise_not', 'bitwise_or', 'bitwise_right_shift', 'bitwise_xor', 'bmm', 'bucketize', 'cat',
    'ceil', 'cholesky', 'cholesky_inverse', 'cholesky_solve', 'clamp', 'clamp_max', 'clamp_min',
    'clip', 'column_stack', 'complex', 'concat', 'concatenate', 'conj_physical', 'copysign', 'cos',
    'cosh', 'cross', 'cummax', 'cummin', 'cumprod', 'cumsum', 'deg2rad', 'diag', 'diff', 'digamma',
    'div', 'divide', 'dot', 'dstack', 'empty', 'eq', 'erf', 'erfc', 'erfinv', 'exp', 'exp2',
    'expm1', 'eye', 'fix', 'float_power', 'floor', 'floor_divide', 'fmax', 'fmin', 'fmod', 'frac',
    'frexp', 'full', 'gather', 'gcd', 'ge', 'ger', 'greater', 'greater_equal', 'gt', 'hardshrink',
    'heaviside', 'histc', 'histogram', 'hstack', 'hypot', 'i0', 'index_add', 'index_copy',
    'index_reduce', 'index_select', 'inner', 'inverse', 'isin', 'isneginf', 'isposinf', 'kron',
    'kthvalue', 'lcm', 'ldexp', 'le', 'lerp', 'less', 'less_equal', 'lgamma', 'linspace', 'log',
    'log10', 'log1p', 'log2', 'log_softmax', 'logaddexp', 'logaddexp2', 'logcumsumexp',
    'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logit', 'logspace', 'logsumexp',
    'lt', 'lu', 'lu_solve', 'lu_unpack', 'masked_select', 'matmul', 'matrix_power', 'max',
    'maximum', 'mean', 'median', 'min', 'minimum', 'mm', 'mode', 'msort', 'mul', 'multinomial',
    'multiply', 'mv', 'mvlgamma', 'nan_to_num', 'nanmean', 'nanmedian', 'nanquantile', 'nansum',
    'narrow_copy', 'ne', 'neg', 'negative', 'nextafter', 'nonzero', 'nonzero_static', 'norm',
    'normal', 'not_equal', 'ones', 'outer', 'polar', 'polygamma', 'pow', 'prod', 'qr', 'quantile',
    'rad2deg', 'rand', 'randint', 'randn', 'randperm', 'range', 'reciprocal', 'remainder',
    'renorm', 'round', 'row_stack', 'rsqrt', 'scatter', 'scatter_add', 'scatter_reduce',
    'searchsorted', 'sgn', 'sigmoid', 'sign', 'signbit', 'sin', 'sinc', 'sinh', 'slice_scatter',
    'slogdet', 'softmax', 'sort', 'sqrt', 'square', 'stack', 'std', 'sub', 'subtract', 'sum',
    'svd', 'take', 'take_along_dim', 'tan', 'tanh', 'tensordot', 'threshold', 'topk',
    'triangular_solve', 'tril', 'triu', 'true_divide', 'trunc', 'var', 'vdot',
    'view_as_complex_copy', 'view_as_real_copy', 'vstack', 'where', 'xlogy', 'zeros',
)


def _takes_out(fn):
    try:
        return 'out' in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True                  # not a Python function: leave it alone


# the same for torch.linalg (torch.special's and torch.fft's take out= already; the stubs give
# special.softmax/log_softmax an out= that PyTorch itself refuses)
LINALG_OUT_FUNCTIONS = (
    'cholesky', 'cond', 'cross', 'det', 'eig', 'eigvals', 'eigvalsh', 'inv', 'lstsq', 'lu',
    'lu_factor', 'lu_factor_ex', 'lu_solve', 'matmul',
    'matrix_norm', 'matrix_power', 'matrix_rank', 'multi_dot', 'norm', 'pinv', 'qr',
    'slogdet', 'solve', 'solve_ex', 'solve_triangular', 'svd', 'svdvals', 'tensorinv',
    'tensorsolve', 'vecdot', 'vector_norm')


# PyTorch's own out= rules for some of them: the reductions that take dtype= compute in out's
# dtype (sum(x, 1, out=int64) sums the values cast to int64), and the ones below refuse an out
# of another dtype than their result's
OUT_RULES = {
    **dict.fromkeys(('sum', 'prod', 'cumsum', 'cumprod'), {'dtype_from_out': True}),
    **dict.fromkeys(('matmul', 'mm', 'bmm', 'argmax', 'argmin', 'aminmax', 'sort', 'topk'),
                    {'exact_dtype': 'c'}),
    **dict.fromkeys(('amax', 'amin'), {'exact_dtype': 'input'}),
    **dict.fromkeys(('dot', 'vdot'), {'exact_dtype': 'dot'}),
    'inner': {'exact_dtype': True}, 'mv': {'exact_dtype': 'mv'},
    'where': {'exact_dtype': 'where'},
}


def add_out_parameters(namespace, names=OUT_FUNCTIONS):
    """Give each function of `names` in namespace (an nbgrad module's globals) PyTorch's out=,
    unless it takes one already. Only the torch.* spellings change: Tensor methods take none."""
    for name in names:
        fn = namespace.get(name)
        if fn is not None and not _takes_out(fn):
            namespace[name] = accepts_out(fn, **OUT_RULES.get(name, {}))
