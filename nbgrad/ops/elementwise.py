"""Elementwise ops, made from one table each for unary, binary and ternary math.

Every op promotes its inputs with PyTorch's rules, computes with a NumPy/CuPy ufunc (or a small
function of the array module), and states each input's derivative as a formula in Tensor ops, so
that double backward works. Broadcasting is undone centrally by the engine (graph.sum_to_shape).
The node class each table row becomes, with the promotion and broadcast checks, is in
_elementwise_op.py.
"""
import cmath
import math
import warnings

import numpy as np

from .. import _dtype, _scalar_bounds, _special
from .._complex_autograd import conj as _conj
from . import _special_cuda
from .._dispatch import dispatch, dispatch_inplace, no_kernel
from .._tensor import Tensor
from ..autograd.graph import NOT_IMPLEMENTED, Node
from ..autograd.grad_mode import is_grad_enabled
from ._complex_refusals import refuse_complex_inputs
from ._elementwise_op import (  # noqa: F401  (also used from here: Elementwise, _make_op, _dtype_word)
    Elementwise, _PY_SCALARS, _dtype_word, _make_op, explains_broadcast)
from .._int_scalars import fits
from .._select import select
from . import _integer_arithmetic as integer_arithmetic
from ._util import promote, xp_of, as_operand, require_tensor, no_overload
from .._bfloat16 import to_bfloat16

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zero(g, *_):
    """A zero gradient, as PyTorch's zeros_like(grad): zero even where grad is inf or NaN."""
    return g.new_zeros(g.shape)


def _only_where(g, mask):
    """g where mask holds, 0 elsewhere (PyTorch selects; g * mask would turn an infinite or
    NaN gradient into NaN where mask is off: x.clamp(min=0).sqrt() at x < 0)."""
    return g.where(mask, 0.0)


def _sgn_grad(g, x, y):
    """sgn's gradient: zero for real inputs; for complex ones PyTorch's sgn_backward,
    (g - sgn(x)^2 conj(g)) / 2|x|, 0 at x = 0 (sgn(z) = z/|z| is not holomorphic)."""
    if not x.is_complex():
        return _zero(g)
    magnitude = x.abs()
    return ((g - y * y * g.conj()) / (magnitude * 2)).masked_fill(magnitude == 0, 0)


# ---------------------------------------------------------------------------------------------
# Unary: name -> op class. Derivatives get (grad, x, y).
# ---------------------------------------------------------------------------------------------
UNARY = {}


def _unary(name, derivative=None, ufunc=None, compute=None, saves='', result='float',
           table=UNARY, **kw):
    table[name] = _make_op(name, 1, ufunc=ufunc or (None if compute else name), compute=compute,
                           derivatives=(derivative,) if derivative else None, saves=saves,
                           result=result, **kw)


_unary('neg', lambda g, x, y: -g, ufunc='negative', result='same',
       refuse_bool=('Negation, the `-` operator, on a bool tensor is not supported. If you '
                             'are trying to invert a mask, use the `~` or `logical_not()` operator '
                             'instead.'))
_unary('abs', lambda g, x, y: g * x.sgn(), ufunc='absolute', saves='x', result='same',
       refuse_bool=(NotImplementedError, '"abs_cpu" not implemented for \'Bool\''))
_unary('sign', _zero, result='same', compute=lambda xp, x: real_sign(xp, x))
_unary('sgn', _sgn_grad, saves='xy', result='same',
       compute=lambda xp, x: xp.sign(x) if x.dtype.kind == 'c' else real_sign(xp, x))
_unary('exp', lambda g, x, y: g * y, saves='y')
_unary('exp2', lambda g, x, y: g * y * _LN2, saves='y')
_unary('expm1', lambda g, x, y: g * (y + 1), saves='y')
_unary('log', lambda g, x, y: g / x, saves='x')
_unary('log2', lambda g, x, y: g / (x * _LN2), saves='x')
_unary('log10', lambda g, x, y: g / (x * _LN10), saves='x')
_unary('log1p', lambda g, x, y: g / (x + 1), saves='x', backward_name='Log1PBackward0')
_unary('sqrt', lambda g, x, y: g / (y * 2), saves='y')
def _half_in_float(compute):
    """compute(xp, *arrays) in float32 for float16 NumPy arrays, rounded once: PyTorch's CPU
    kernels compute half in float, where a formula of NumPy's half ufuncs rounds each step."""
    def computed(xp, *arrays):
        if xp is np and any(getattr(a, 'dtype', None) == np.float16 for a in arrays):
            wide = [a.astype(np.float32) if getattr(a, 'dtype', None) == np.float16 else a
                    for a in arrays]
            return compute(xp, *wide).astype(np.float16)
        return compute(xp, *arrays)
    return computed


_unary('rsqrt', lambda g, x, y: g * y.pow(3) * -0.5, saves='y',
       compute=_half_in_float(lambda xp, x: xp.reciprocal(xp.sqrt(x))))
_unary('sin', lambda g, x, y: g * x.cos(), saves='x')
_unary('cos', lambda g, x, y: g * -x.sin(), saves='x')
_unary('tan', lambda g, x, y: g * (y * y + 1), saves='y')
_unary('asin', lambda g, x, y: g * (1 - x * x).rsqrt(), ufunc='arcsin', saves='x')
_unary('acos', lambda g, x, y: -g * (1 - x * x).rsqrt(), ufunc='arccos', saves='x')
_unary('atan', lambda g, x, y: g / (x * x + 1), ufunc='arctan', saves='x')
_unary('sinh', lambda g, x, y: g * x.cosh(), saves='x')
_unary('cosh', lambda g, x, y: g * x.sinh(), saves='x')
def _in_float(derivative, half=True):
    """derivative(g, x, y) computed in float for bfloat16 (and half) and rounded once, as
    PyTorch's fused backward kernels (tanh_backward, sigmoid_backward) do. (Its half
    sigmoid_backward computes in half, op by op: half=False.)"""
    def rounded_once(g, x, y):
        if _dtype.is_bfloat16(g._data.dtype) or (half and g._data.dtype == np.float16):
            x, y = (None if v is None else v.float() for v in (x, y))
            return derivative(g.float(), x, y).to(g.dtype)
        return derivative(g, x, y)
    return rounded_once


_unary('tanh', _in_float(lambda g, x, y: g * (1 - y * y)), saves='y')
_unary('asinh', lambda g, x, y: g * (x * x + 1).rsqrt(), ufunc='arcsinh', saves='x')
# (x - 1)(x + 1) rather than PyTorch's x^2 - 1 (no cancellation near 1); + 0.0 makes its -0 at
# x = -1 a +0, so the gradient there is PyTorch's +inf
_unary('acosh', lambda g, x, y: g * (((x - 1) * (x + 1) + 0.0).rsqrt() if not x.is_complex()
                                     else (x - 1).rsqrt() * (x + 1).rsqrt()),  # (PyTorch's
       ufunc='arccosh', saves='x')                                   # branch for complex x)
_unary('atanh', lambda g, x, y: g / (1 - x * x), ufunc='arctanh', saves='x')
_unary('sigmoid', _in_float(lambda g, x, y: g * (1 - y) * y, half=False), saves='y',
       compute=lambda xp, x: _sigmoid(xp, x))
_unary('logit', lambda g, x, y: _logit_grad(g, x), saves='x',
       compute=lambda xp, x: xp.log(x / (1 - x)))
_unary('erf', lambda g, x, y: g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI, saves='x',
       compute=lambda xp, x: _on_device(_special_cuda.erf, _special.erf, xp, x))
_unary('erfc', lambda g, x, y: g * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI, saves='x',
       compute=lambda xp, x: _on_device(_special_cuda.erfc, _special.erfc, xp, x))
_unary('erfinv', lambda g, x, y: g * (y * y).exp() * (math.sqrt(math.pi) / 2), saves='y',
       compute=lambda xp, x: _special.erfinv(xp, x))
_unary('lgamma', lambda g, x, y: g * x.digamma(), saves='x',
       compute=lambda xp, x: _special.lgamma(xp, x))
_unary('digamma', lambda g, x, y: g * _polygamma1(x), saves='x',
       compute=lambda xp, x: _special.digamma(xp, x))
_unary('reciprocal', lambda g, x, y: -g * y * y, saves='y')
_unary('square', lambda g, x, y: _square_grad(g, x), saves='x', result='same',
       backward_name='PowBackward0',   # (bool squares to int64, as pow(bool, 2) in PyTorch)
       compute=lambda xp, x: xp.square(x.astype(np.int64) if x.dtype.kind == 'b' else x))
_unary('relu', lambda g, x, y: dispatch(ThresholdBackward(), g, y), saves='y', result='same',
       compute=lambda xp, x: _scalar_bounds.maximum(xp, x, 0),
       refuse_bool='Boolean inputs not supported for relu')
_unary('floor', _zero, result='same', compute=lambda xp, x: x if x.dtype.kind in 'biu'
       else xp.floor(x), refuse_bool=(NotImplementedError, '"floor_vml_cpu" not implemented for '
                                       "'Bool'"))
_unary('ceil', _zero, result='same', compute=lambda xp, x: x if x.dtype.kind in 'biu'
       else xp.ceil(x), refuse_bool=(NotImplementedError, '"ceil_vml_cpu" not implemented for '
                                       "'Bool'"))
_unary('trunc', _zero, result='same', compute=lambda xp, x: x if x.dtype.kind in 'biu'
       else xp.trunc(x), refuse_bool=(NotImplementedError, '"trunc_vml_cpu" not implemented for '
                                       "'Bool'"))
_unary('round', _zero, result='same', compute=lambda xp, x: x if x.dtype.kind in 'biu'
       else xp.round(x), refuse_bool=(NotImplementedError, '"round_vml_cpu" not implemented for '
                                       "'Bool'"))
_unary('frac', lambda g, x, y: g, result='same', compute=lambda xp, x: x - xp.trunc(x),
       float_only=True)
_unary('sinc', lambda g, x, y: g * _sinc_grad(x), saves='x', compute=lambda xp, x: _sinc(xp, x))
_unary('logical_not', result='bool', compute=lambda xp, x: xp.logical_not(x))
_unary('bitwise_not', result='int', compute=lambda xp, x: xp.invert(x))
_unary('isnan', result='bool', compute=lambda xp, x: xp.isnan(x) if x.dtype.kind in 'fc'
       else xp.zeros(x.shape, bool))
_unary('isinf', result='bool', compute=lambda xp, x: xp.isinf(x) if x.dtype.kind in 'fc'
       else xp.zeros(x.shape, bool))
_unary('isfinite', result='bool', compute=lambda xp, x: xp.isfinite(x) if x.dtype.kind in 'fc'
       else xp.ones(x.shape, bool))
_unary('signbit', result='bool', compute=lambda xp, x: xp.signbit(x))
_unary('i0', lambda g, x, y: g * x.special_i1(), saves='x',
       compute=lambda xp, x: _special.i0(xp, x))


class ThresholdBackward(Node):
    """relu's gradient, 0 where y <= 0 else g, as one op (PyTorch's threshold_backward: g
    passes where y is NaN, and an inf or NaN g stops where y <= 0)."""
    saved_inputs = (1,)

    def forward(self, g, y):
        return select(xp_of(g, y), y <= 0, 0, g)

    def backward(self, gg):
        (y,) = self.saved_tensors
        # y only selects where the gradient passes: its derivative is zero, but (as in PyTorch)
        # a zero, so that autograd.grad w.r.t. relu's input finds it used
        return dispatch(ThresholdBackward(), gg, y), \
            (y.detach() * 0 if self._edges[1] is not None else None)


def real_sign(xp, x, out=None):
    """PyTorch's sign of a real array, (0 < x) - (x < 0): NaN gives 0, where NumPy's sign
    gives NaN (and this is vectorised, which NumPy's float sign is not). Bool stays as it is."""
    if x.dtype.kind == 'b':
        return x
    return xp.subtract(x > 0, x < 0, dtype=x.dtype if out is None else out.dtype, out=out)


def _sigmoid(xp, x):
    """PyTorch's kernel's formula, 1 / (1 + exp(-x)), in place (float16 in float32, as PyTorch
    computes it): accurate on both sides of zero; below about -88 (float32) exp(-x) overflows
    and the result is 0, as PyTorch's is."""
    wide = x.astype(np.float32) if x.dtype == np.float16 else x
    out = xp.negative(wide, out=xp.empty_like(wide))     # (out=: an array for 0-d x too)
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)
    return out.astype(x.dtype, copy=False)


def _logit_grad(g, x):
    """PyTorch's logit_backward without eps: nan outside [0, 1] and g * inf at 0 and 1 (so +inf
    at -0.0 too, where g / (x * (1 - x)) would give -inf)."""
    edge = (x == 0) | (x == 1)
    # (g / +0 there: g * inf, with g outside the selection, so that differentiating by g does
    # not meet 0 * inf where the edge is not selected)
    return where((x < 0) | (x > 1), math.nan, g / where(edge, 0.0, x * (1 - x)))


def _polygamma1(x):
    return dispatch(parameterised_unary.Polygamma(1), x)


def _on_device(cuda_kernel, array_formula, xp, x):
    """CUDA's own function in one launch where it serves x (_special_cuda), else _special's
    array formula."""
    out = None if xp is np else cuda_kernel(xp, x)
    return array_formula(xp, x) if out is None else out


def _sinc(xp, x):
    """PyTorch's formula: 1 at 0, else sin(pi * x) / (pi * x) with the product rounded to x's
    dtype (float16 computed in float32). CuPy's sinc differs: sinpi in double precision, and
    1 for NaN."""
    wide = x.astype(np.float32) if x.dtype == np.float16 else x
    product = wide * wide.real.dtype.type(np.pi)
    with np.errstate(invalid='ignore', divide='ignore'):
        out = xp.sin(product) / product
    return select(xp, x == 0, out.dtype.type(1), out).astype(x.dtype, copy=False)


def _sinc_grad(x):
    """PyTorch's sinc_backward: 0 where pi x^2 is 0 (x == 0, and tiny x whose square
    underflows, where the quotient would be 0 / 0)."""
    pix = x * math.pi
    squared_pi = x * x * math.pi
    grad = ((pix.cos() * pix - pix.sin()) / squared_pi)
    return grad.masked_fill(squared_pi == 0, 0.0)


# ---------------------------------------------------------------------------------------------
# Binary: derivatives get (grad, a, b, out).
# ---------------------------------------------------------------------------------------------
BINARY = {}


def _binary(name, da=None, db=None, ufunc=None, compute=None, saves='', result='same',
            table=BINARY, **kw):
    derivatives = (da, db) if (da or db) else None
    table[name] = _make_op(name, 2, ufunc=ufunc or (None if compute else name), compute=compute,
                           derivatives=derivatives, saves=saves, result=result, **kw)


def _ident(g, *_):
    return g


_binary('add', _ident, _ident)
def _sub_refusal(is_bool):
    # ATen's sub_check: a Python scalar counts as a tensor of its type (1 - mask is one bool
    # operand, mask - True two)
    if all(is_bool):
        return ('Subtraction, the `-` operator, with two bool tensors is not supported. Use the '
                '`^` or `logical_xor()` operator instead.')
    return ('Subtraction, the `-` operator, with a bool tensor is not supported. If you are '
            'trying to invert a mask, use the `~` or `logical_not()` operator instead.')


_binary('sub', _ident, lambda g, a, b, y: -g, ufunc='subtract', refuse_bool=_sub_refusal)
_binary('mul', lambda g, a, b, y: g * b, lambda g, a, b, y: g * a, ufunc='multiply', saves='ab',
        saved_input_users={0: (1,), 1: (0,)})
# (-g * (a / b) / b, PyTorch's order: no b * b to underflow or overflow)
_binary('div', lambda g, a, b, y: g / b, lambda g, a, b, y: -g * (a / b) / b, ufunc='true_divide',
        saves='ab', result='float', saved_input_users={0: (1,), 1: (0, 1)})
_binary('div_trunc', compute=integer_arithmetic.div_trunc,
        backward_name='DivBackward2')
_binary('floor_divide', compute=integer_arithmetic.floor_div,
        backward_name='DivBackward2')
# PyTorch's mul and div kernels read a scalar second operand at float precision, where other
# elementwise kernels cast it to the common dtype (bfloat16: see _bfloat16.py)
for _name in ('div', 'div_trunc', 'floor_divide'):
    BINARY[_name].scalar_operands = 'second at float'
BINARY['mul'].scalar_operands = 'at float'
_binary('remainder', _ident, lambda g, a, b, y: -g * a.div(b, rounding_mode='floor'), saves='ab',
        compute=integer_arithmetic.remainder)
_binary('fmod', _ident, lambda g, a, b, y: -g * a.div(b, rounding_mode='trunc'), saves='ab',
        compute=integer_arithmetic.fmod)
_binary('pow', lambda g, a, b, y: _pow_grad_base(g, a, b), lambda g, a, b, y: _pow_grad_exp(g, a, b, y),
        saves='ab out', compute=integer_arithmetic.power, backward_name='PowBackward1')
_binary('atan2', lambda g, a, b, y: g * b * _atan2_recip(a, b),
        lambda g, a, b, y: g * -a * _atan2_recip(a, b), ufunc='arctan2', saves='ab',
        result='float')
_binary('hypot', lambda g, a, b, y: g * a / y, lambda g, a, b, y: g * b / y, saves='ab out',
        result='float', float_only=True)
_binary('maximum', lambda g, a, b, y: _minmax_grad(g, a, b, True),
        lambda g, a, b, y: _minmax_grad(g, b, a, True), saves='ab', ordered=True)
_binary('minimum', lambda g, a, b, y: _minmax_grad(g, a, b, False),
        lambda g, a, b, y: _minmax_grad(g, b, a, False), saves='ab', ordered=True)
_binary('fmax', lambda g, a, b, y: _only_where(g, (a >= b) | b.isnan()),
        lambda g, a, b, y: _only_where(g, ~((a >= b) | b.isnan())), saves='ab', ordered=True)
_binary('fmin', lambda g, a, b, y: _only_where(g, (a <= b) | b.isnan()),
        lambda g, a, b, y: _only_where(g, ~((a <= b) | b.isnan())), saves='ab', ordered=True)
_binary('logaddexp', lambda g, a, b, y: g / (1 + (b - a).exp()),
        lambda g, a, b, y: g / (1 + (a - b).exp()), saves='ab', result='float', float_only=True,
        compute=lambda xp, a, b: _logaddexp(xp, a, b))
_binary('logaddexp2', lambda g, a, b, y: g / (1 + (b - a).exp2()),
        lambda g, a, b, y: g / (1 + (a - b).exp2()), saves='ab', result='float',
        float_only=True, compute=_half_in_float(lambda xp, a, b: _logaddexp2(xp, a, b)))
_binary('xlogy', lambda g, a, b, y: _xlogy_da(g, a, b, BINARY['xlogy'], 0.0),
        lambda g, a, b, y: g * a / b, saves='ab', result='float',
        compute=lambda xp, a, b: _in_operand_dtype(_special.xlogy(xp, a, b), a, b))
_binary('copysign', lambda g, a, b, y: g * _copysign_grad(a, y), _zero,
        saves='a out', result='float')
# nextafter: PyTorch's derivatives (grad where self != other, none for other); no integer,
# bool or complex kernel
def _nextafter(xp, a, b):
    if xp is np or a.dtype != np.float16:
        return xp.nextafter(a, b)
    # CuPy's float16 nextafter gives NaN stepping from an infinity (seen on an H200): step the
    # bits as C's nextafter does. Away from zero is +1 on the sign-magnitude bits, whatever
    # the sign; from zero, the smallest subnormal with b's sign.
    a, b = (xp.ascontiguousarray(v) for v in xp.broadcast_arrays(a, b))
    away = (b > a) == (a > 0)
    stepped = (a.view(np.int16) + select(xp, away, 1, -1).astype(np.int16)).view(np.float16)
    tiny = np.float16(2.0 ** -24)
    out = select(xp, a == 0, select(xp, b > 0, tiny, -tiny), stepped)
    out = select(xp, a == b, b, out)
    return select(xp, xp.isnan(a) | xp.isnan(b), np.float16('nan'), out).astype(np.float16)


_binary('nextafter', lambda g, a, b, y: where(a != b, g, 0.0), lambda g, a, b, y: g.new_zeros(
    g.shape), saves='ab', float_only=True, compute=_nextafter)
BINARY['nextafter'].fast_kinds = 'f'
BINARY['nextafter']._check_dtype = lambda self, dt: _refuse_kinds(dt, 'biuc', 'nextafter_cpu')
BINARY['hypot'].fast_kinds = 'f'    # (no complex kernel either: NumPy's hypot has none)
BINARY['hypot']._check_dtype = lambda self, dt: _refuse_kinds(dt, 'biuc', 'hypot_cpu')


def _refuse_kinds(dt, kinds, kernel):
    if dt.kind in kinds:
        raise no_kernel(kernel, dt)


for _name, _uf in (('eq', 'equal'), ('ne', 'not_equal'), ('logical_and', 'logical_and'),
                   ('logical_or', 'logical_or'), ('logical_xor', 'logical_xor')):
    _binary(_name, ufunc=_uf, result='bool')
for _name, _uf in (('lt', 'less'), ('le', 'less_equal'), ('gt', 'greater'),
                   ('ge', 'greater_equal')):
    _binary(_name, ufunc=_uf, result='bool', ordered=True)
for _name, _uf in (('bitwise_and', 'bitwise_and'), ('bitwise_or', 'bitwise_or'),
                   ('bitwise_xor', 'bitwise_xor'), ('bitwise_left_shift', 'left_shift'),
                   ('bitwise_right_shift', 'right_shift')):
    _binary(_name, ufunc=_uf, result='int')


# ops with no bool kernel in PyTorch: refused when the operands' common dtype is bool (a bool
# tensor with an int operand computes in int64, as there)
for _name, _kernel in (('fmod', 'fmod_cpu'), ('remainder', 'remainder_cpu'),
                       ('floor_divide', 'div_floor_cpu'), ('div_trunc', 'div_trunc_cpu'),
                       ('bitwise_left_shift', 'lshift_cpu'),
                       ('bitwise_right_shift', 'rshift_cpu')):
    BINARY[_name].fast_kinds = BINARY[_name].fast_kinds.replace('b', '')
    BINARY[_name]._check_dtype = lambda self, dt, kernel=_kernel: _refuse_kinds(dt, 'b', kernel)


# special functions with no complex kernel in PyTorch (NumPy would drop the imaginary part)
for _table, _name, _kernel in ((UNARY, 'erf', 'erf_vml_cpu'), (UNARY, 'erfc', 'erfc_vml_cpu'),
                               (UNARY, 'erfinv', 'erfinv_vml_cpu'),
                               (UNARY, 'lgamma', 'lgamma_vml_cpu'), (UNARY, 'digamma', 'digamma'),
                               (UNARY, 'i0', 'i0_vml_cpu'), (UNARY, 'logit', 'logit_cpu'),
                               (BINARY, 'xlogy', 'xlogy_cpu')):
    _table[_name].fast_kinds = _table[_name].fast_kinds.replace('c', '')
    _table[_name]._check_dtype = lambda self, dt, kernel=_kernel: _refuse_kinds(dt, 'c', kernel)


def _refuse_bool_power(self, arrays):
    # bool ** bool has no kernel; bool ** True does (PyTorch's tensor-scalar overload)
    base, exponent = arrays
    if exponent.__class__ not in _PY_SCALARS and exponent.dtype.kind == 'b' and (
            base.__class__ is bool or (base.__class__ not in _PY_SCALARS and
                                       base.dtype.kind == 'b')):
        raise no_kernel('pow', 'bool')


BINARY['pow'].fast_kinds = BINARY['pow'].fast_kinds.replace('b', '')
BINARY['pow']._check_operands = _refuse_bool_power


def _named_by_scalar_operand(table, name, names):
    """PyTorch names a binary op's node by its overload: names[0] for two tensors, names[1]
    when self is a Python number, names[2] when other is (XlogyBackward0/1/2)."""
    base = table[name]

    def forward(self, a, b):
        if a.__class__ in _PY_SCALARS:
            self.backward_name = names[1]
        elif b.__class__ in _PY_SCALARS:
            self.backward_name = names[2]
        return base.forward(self, a, b)
    table[name] = type(base.__name__, (base,), {'forward': forward, 'backward_name': names[0]})


_named_by_scalar_operand(BINARY, 'xlogy', ('XlogyBackward0', 'XlogyBackward1', 'XlogyBackward2'))
# (a number base: PowBackward2; a number exponent goes to _ScalarPow, PowBackward0)
_named_by_scalar_operand(BINARY, 'pow', ('PowBackward1', 'PowBackward2', 'PowBackward1'))


refuse_complex_inputs(UNARY, BINARY)    # (before floor_divide's subclasses below)

# Complex autograd (see _complex_autograd): the holomorphic ops' formulas serve complex inputs
# given the conjugated operands; abs and sgn have their own complex formulas.
for _table, _names in ((UNARY, ('neg', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p',
                                'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan',
                                'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'sigmoid',
                                'reciprocal', 'square', 'sinc')),
                       (BINARY, ('add', 'sub', 'mul', 'div', 'logaddexp'))):
    for _name in _names:
        _table[_name].conj_operands = _table[_name].complex_autograd = True
UNARY['abs'].complex_autograd = UNARY['sgn'].complex_autograd = True
BINARY['pow'].complex_autograd = True   # (its derivatives conjugate themselves)



def _with_derivatives(name, derivatives, backward_name):
    base = BINARY[name]
    return type(base.__name__, (base,), {'derivatives': derivatives, 'differentiable': True,
                                         'backward_name': backward_name})


def _square_grad(g, x):
    if is_grad_enabled():
        # create_graph: PyTorch's pow_backward, g * (2 * x.pow(1)), whose x.pow(1) keeps a
        # graph, so third derivatives are zeros (not an error). Same numbers: * 2 is exact.
        return g * (x.pow(1) * 2)
    return g * x * 2


def _no_derivative(kernel):
    def refuse(*_):
        raise RuntimeError(f'derivative for aten::{kernel} is not implemented')
    return refuse


# div(rounding_mode=) is differentiable in PyTorch, with zero gradients (DivBackward2);
# floor_divide (//) records a NotImplemented node whose backward raises
_ROUNDED_DIV = {mode: _with_derivatives(name, (_zero, _zero), 'DivBackward2')
                for mode, name in (('trunc', 'div_trunc'), ('floor', 'floor_divide'))}
BINARY['floor_divide'] = _with_derivatives(
    'floor_divide', (_no_derivative('floor_divide'),) * 2, NOT_IMPLEMENTED)


# pow's derivatives conjugate explicitly (PyTorch's g * conj(b a^(b-1)), g * conj(a^b log a)):
# the conjugated-operands rule would take a^conj(b) for a negative real base, a value on the
# other side of log's branch cut
def _pow_grad_base(g, a, b):
    if b.__class__ in _PY_SCALARS:
        if b == 0:
            return _zero(g)
        return g * _conj(b * a.pow(b - 1))   # (PyTorch's association: its rounding)
    # d/da a^b = b * a^(b-1), defined as 0 where b == 0 (PyTorch's convention)
    return (g * _conj(b * a.pow(b - 1))).masked_fill(b == 0, 0.0)


def _pow_grad_exp(g, a, b, y):
    is_complex = y.is_complex()
    if a.__class__ in _PY_SCALARS:
        if a == 0:
            return _zero(g)   # 0**b: PyTorch gives 0 gradient where b >= 0
        if is_complex:        # (a negative base has a complex log here)
            return g * _conj(y * cmath.log(a))
        if a < 0:             # (a negative base: NaN, as PyTorch's log of it)
            return g * y * math.nan
        return g * y * math.log(a)
    # d/db a^b = a^b log a; 0 where a == 0 and b >= 0 (avoids 0 * -inf = nan); a complex b
    # compares its real part, as PyTorch's
    nonnegative = (b.real if b.is_complex() else b) >= 0
    if is_complex:
        log_a = (a if a.is_complex() else a.to(y.dtype)).log()
        return (g * _conj(y * log_a)).masked_fill((a == 0) & nonnegative, 0.0)
    return (g * y * a.log()).masked_fill((a == 0) & nonnegative, 0.0)


def _logaddexp(xp, a, b):
    """NumPy's logaddexp; for complex numbers (which it has no loop for) PyTorch's:
    the larger by real part, m, plus log1p(exp(other - m))."""
    if not any(getattr(v, 'dtype', None) is not None and v.dtype.kind == 'c' for v in (a, b)):
        return xp.logaddexp(a, b)
    first = xp.real(a) >= xp.real(b)
    larger, smaller = select(xp, first, a, b), select(xp, first, b, a)
    return larger + xp.log1p(xp.exp(smaller - larger))


def _logaddexp2(xp, a, b):
    """PyTorch's kernel: a where both are the same infinity, else
    max(a, b) + log1p(2^-|a - b|) / ln 2."""
    out = xp.maximum(a, b) + xp.log1p(xp.exp2(-xp.abs(a - b))) * (1 / math.log(2))
    return select(xp, xp.isinf(a) & (a == b), a, out)


def _minmax_grad(g, mine, other, is_max):
    """PyTorch's: the gradient, halved where the inputs tie, 0 where `mine` loses. A NaN on
    either side neither ties nor loses, so both inputs get the whole gradient there."""
    loses = (mine < other) if is_max else (mine > other)
    return where(mine == other, g / 2, g).masked_fill(loses, 0.0)


def _atan2_recip(a, b):
    """PyTorch's 1 / (a^2 + b^2) for atan2's gradients, 0 where that sum is 0 (at the origin,
    and where it underflows)."""
    denom = a * a + b * b
    return denom.reciprocal().masked_fill(denom == 0, 0.0)


def _xlogy_da(g, a, b, op, edge):
    """PyTorch's d/da of xlogy(a, b) (op Xlogy, edge 0) and xlog1py (edge -1): the op itself
    applied to (g, b), then 0 where a == 0 and b <= edge, the directional derivative along
    a = 0 (pytorch#80770). A Python-number b is masked unless b > edge (so also when it is nan)."""
    d = dispatch(op(), g, b)
    if isinstance(b, Tensor):
        return d.masked_fill((a == 0) & (b <= edge), 0.0)
    return d if b > edge else d.masked_fill(a == 0, 0.0)


def _in_operand_dtype(result, a, b):
    """xlogy/xlog1py's kernel result in the dtype the operands were promoted to (the kernel
    itself would widen a Python number to float64)."""
    array = b if a.__class__ in _PY_SCALARS else a
    return result.astype(array.dtype, copy=False)


def _copysign_grad(a, y):
    # PyTorch's copysign_tensor_self_backward: y / a, 0 where a == 0 (NaN where a is infinite
    # or NaN, as in PyTorch)
    return (y / a).masked_fill(a == 0, 0.0)


# ---------------------------------------------------------------------------------------------
# Ternary ops: where, lerp, clamp, addcmul, addcdiv
# ---------------------------------------------------------------------------------------------
class Where(Elementwise):
    shown_inputs = (1, 2)   # (the condition has no edge in PyTorch's node)
    complex_autograd = True
    backward_name = 'WhereBackward0'
    op_name = 'where'
    saved_inputs = (0,)
    derivatives = (None, True, True)

    @explains_broadcast
    def forward(self, cond, a, b):
        if cond.__class__ in _PY_SCALARS:
            raise TypeError(f'where() expected condition to be a bool tensor, got '
                            f'{type(cond).__name__} (use torch.tensor(cond) or a comparison)')
        if cond.dtype.kind != 'b':
            raise RuntimeError(f'where expected condition to be a boolean tensor, but got a tensor '
                               f'with dtype {getattr(cond, "dtype", type(cond).__name__)}')
        dt = promote((a, b))
        a, b = fits(a, dt, False), fits(b, dt, False)   # a Python int becomes an element of dt
        a, b = self._prepare((a, b))
        # (NumPy would give two Python scalars its own float64; PyTorch uses the promoted dtype)
        return select(xp_of(cond, a, b), cond, a, b).astype(dt, copy=False)

    def backward(self, g):
        (cond,) = self.saved_tensors
        ga = where(cond, g, 0.0) if self._edges[1] is not None else None
        gb = where(cond, 0.0, g) if self._edges[2] is not None else None
        return None, ga, gb


def _refuse_bool_clamp(x, lo, hi):
    """PyTorch's clamp kernels that have no bool type: both bounds, or a Python-bool bound, on a
    bool tensor (one bool tensor bound alone it computes)."""
    bounds = [b for b in (lo, hi) if b is not None]
    if x.dtype.kind != 'b' or not all(b.__class__ is bool or (
            b.__class__ not in _PY_SCALARS and b.dtype.kind == 'b') for b in bounds):
        return
    scalars = [b.__class__ is bool for b in bounds]
    if len(bounds) == 2:
        kernel = 'clamp_scalar_cpu' if all(scalars) else 'clamp_cpu'
    elif scalars[0]:
        kernel = 'clamp_min_scalar_cpu' if lo is not None else 'clamp_max_scalar_cpu'
    else:
        return
    raise no_kernel(kernel, 'bool')


def _may_be_nan(bound):
    """Whether a clamp bound may be NaN somewhere (anything but a Python number that is not)."""
    return bound.__class__ not in (int, float) or bound != bound


class Clamp(Elementwise):
    backward_name = 'ClampBackward1'
    op_name = 'clamp'
    saved_inputs = (0, 1, 2)

    def forward_into(self, out, x, lo, hi):
        # (a complex number bound: PyTorch refuses it before checking the in-place cast)
        if lo.__class__ is complex or hi.__class__ is complex:
            raise NotImplementedError('clamp is not supported for complex types')
        return Elementwise.forward_into(self, out, x, lo, hi)

    @explains_broadcast
    def forward(self, x, lo, hi):
        if lo is None and hi is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        if any(getattr(v, 'dtype', None) is not None and v.dtype.kind == 'c' for v in (x, lo, hi)):
            raise NotImplementedError('clamp is not supported for complex types')
        _refuse_bool_clamp(x, lo, hi)
        dt = promote((x, lo, hi))   # a Python bound becomes an element of it (c10's check)
        lo, hi = fits(lo, dt), fits(hi, dt)
        x, lo, hi = self._prepare((x, lo, hi))
        xp = xp_of(x)
        out = x
        if lo is not None:
            out = _scalar_bounds.maximum(xp, out, lo)
            if x.dtype.kind == 'f' and _may_be_nan(lo):   # the input's NaN propagates, as in
                out = select(xp, xp.isnan(x), x, out)        # PyTorch, not a NaN bound's
        if hi is not None:
            out = _scalar_bounds.minimum(xp, out, hi)
            if x.dtype.kind == 'f' and _may_be_nan(hi):
                out = select(xp, xp.isnan(x), x, out)
        return out

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = (x <= hi) & inside if inside is not True else x <= hi
        e = self._edges
        gx = None if e[0] is None else g if inside is True else _only_where(g, inside)
        # PyTorch's clamp_backward_min_max: where min > max the result is max, so the gradient
        # goes to max (and to min only where min < max)
        glo = ghi = None
        if len(e) > 1 and e[1] is not None:
            glo = _only_where(g, x < lo if hi is None else (x < lo) & (lo < hi))
        if len(e) > 2 and e[2] is not None:
            ghi = _only_where(g, x > hi if lo is None else (x > hi) | (hi < lo))
        return gx, glo, ghi


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def unary(name):
    op = UNARY[name]

    def fn(input):
        return dispatch(op(), _tensor_input(input, name))
    fn.__name__ = fn.__qualname__ = name
    return fn


# PyTorch's binary functions with no Number overload: a Python number (or anything but a
# tensor) on either side is its parser's TypeError, where the op tables would compute it
TENSOR_ONLY = frozenset({'atan2', 'hypot', 'maximum', 'minimum', 'fmax', 'fmin', 'logaddexp',
                         'logaddexp2', 'logical_and', 'logical_or', 'logical_xor', 'nextafter'})
# ... and those whose Number overload is for `other` only (eq(2.0, t) matches no overload)
TENSOR_FIRST = frozenset({'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'copysign', 'fmod'})


def binary(name):
    op = BINARY[name]

    if name in TENSOR_ONLY:
        def fn(input, other):
            if not isinstance(other, Tensor) or not isinstance(input, Tensor):
                require_tensor(input, name)
                require_tensor(other, name, 'other', 2)
            return dispatch(op(), input, other)
    elif name in TENSOR_FIRST:
        def fn(input, other):
            if not isinstance(input, Tensor):
                raise no_overload(name, input, other)
            return dispatch(op(), input, as_operand(other))
    else:
        def fn(input, other):
            if name in _TENSOR_SOMEWHERE and not isinstance(input, Tensor) and \
                    not isinstance(other, Tensor):
                raise no_overload(name, input, other, expected=_SCALAR_OVERLOADS)
            return dispatch(op(), as_operand(input), as_operand(other))
    fn.__name__ = fn.__qualname__ = name
    return fn


# functions whose PyTorch overloads all take a tensor (torch.pow(2, 3) is a TypeError there,
# torch.add(2, 3) a tensor), each checked against PyTorch 2.13
_TENSOR_SOMEWHERE = frozenset(('remainder', 'pow', 'xlogy', 'bitwise_and', 'bitwise_or',
                               'bitwise_xor', 'bitwise_left_shift', 'bitwise_right_shift'))
_SCALAR_OVERLOADS = ('(Tensor input, Tensor other)\n * (Number self, Tensor other)\n'
                     ' * (Tensor input, Number other)')


def _tensor_input(x, name):
    if isinstance(x, Tensor):
        return x
    raise TypeError(f'{name}(): argument \'input\' must be Tensor, not {type(x).__name__}')


def add(input, other, *, alpha=1):
    input, other = as_operand(input), as_operand(other)
    if alpha != 1:
        return dispatch(*scaled_sum.alpha_form('add', input, other, alpha))
    return dispatch(BINARY['add'](), input, other)


def sub(input, other, *, alpha=1):
    input, other = as_operand(input), as_operand(other)
    if alpha != 1:
        return dispatch(*scaled_sum.alpha_form('sub', input, other, alpha))
    return dispatch(BINARY['sub'](), input, other)


def _dtype_of(np_dtype):
    from .._dtype import from_numpy_dtype
    return from_numpy_dtype(np_dtype)


def mul(input, other):
    return dispatch(BINARY['mul'](), as_operand(input), as_operand(other))


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return dispatch(BINARY['div'](), as_operand(input), as_operand(other))
    if rounding_mode in ('trunc', 'floor'):
        return dispatch(_ROUNDED_DIV[rounding_mode](), as_operand(input), as_operand(other))
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


def pow(input, exponent):
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise no_overload('pow', input, exponent, expected=_SCALAR_OVERLOADS)
    input, exponent = as_operand(input), as_operand(exponent)
    if exponent.__class__ in _PY_SCALARS and isinstance(input, Tensor):
        if exponent == 2 and input._data.dtype.kind == 'f':
            return dispatch(UNARY['square'](), input)
        return dispatch(_ScalarPow(exponent), input)
    return dispatch(BINARY['pow'](), input, exponent)


# PyTorch's float and double pow by these exponents (pow_tensor_scalar_kernel): products,
# sqrt, rsqrt and reciprocal, bit for bit, where np.power rounds differently in the last bit
_POW_BY_PRODUCTS = {
    2: lambda xp, x: x * x,
    3: lambda xp, x: x * x * x,
    -2: lambda xp, x: 1 / (x * x),
    0.5: lambda xp, x: xp.sqrt(x),
    -0.5: lambda xp, x: xp.reciprocal(xp.sqrt(x)),     # (nbgrad's rsqrt)
    -1: lambda xp, x: xp.reciprocal(x),
}


class _ScalarPow(Elementwise):
    """x ** c for a Python number c (PowBackward0): saves only x."""
    backward_name = 'PowBackward0'
    op_name = 'pow'
    saved_inputs = (0,)
    complex_autograd = True

    _bfloat16 = None     # the bfloat16 NumPy dtype where the result is bfloat16

    def __init__(self, exponent):
        self.exponent = self._forward_exponent = exponent

    def round_scalar_settings(self, bfloat16):
        # PyTorch's bfloat16 kernel raises to the exponent cast to bfloat16; the backward
        # formula takes it as given
        self._forward_exponent = to_bfloat16(self.exponent, bfloat16)
        self._bfloat16 = bfloat16

    def forward(self, x):
        exponent = self._forward_exponent
        (x,) = self._prepare((x, exponent))[:1]
        if x.dtype.kind in 'iu' and exponent.__class__ is int and exponent < 0:
            raise RuntimeError('Integers to negative integer powers are not allowed.')
        if x.dtype.kind == 'b':   # a bool tensor ** True is itself, ** False all True (NumPy's
            return x.copy() if exponent else xp_of(x).ones_like(x)   # bool power: int8)
        xp = xp_of(x)
        if x.dtype == np.float32 or x.dtype == np.float64:
            special = _POW_BY_PRODUCTS.get(exponent)
            if special is not None and self._bfloat16 is not None and exponent in (3, -2):
                # PyTorch's bfloat16 kernel rounds x * x to bfloat16 before the next step
                square = (x * x).astype(self._bfloat16).astype(np.float32)
                return square * x if exponent == 3 else 1 / square
            if special is not None:
                return special(xp, x)
        return xp.power(x, exponent)

    def forward_into(self, out, x):
        return self.forward(x)

    def _prepare(self, arrays):
        return Elementwise._prepare(self, arrays)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (_pow_grad_base(g, x, self.exponent),)


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if isinstance(condition, Tensor) and condition._data.dtype == np.uint8:
        warnings.warn('where received a uint8 condition tensor. This behavior is deprecated and '
                      'will be removed in a future version of PyTorch. Use a boolean condition '
                      'instead.', UserWarning, stacklevel=2)
        condition = condition != 0
    return dispatch(Where(), condition, as_operand(input), as_operand(other))


def clamp(input, min=None, max=None):
    return _clamp(input, min, max, 'Clamp', '1', '0')


def clamp_min(input, min):
    return _clamp(input, min, None, 'ClampMin', '0', '1')


def clamp_max(input, max):
    return _clamp(input, None, max, 'ClampMax', '0', '1')


def _clamp(input, min, max, name, scalar_overload, tensor_overload):
    """clamp's op, named as PyTorch names the overload: ClampMinBackward0 for a number bound,
    ClampMinBackward1 for a tensor one (clamp's own are the other way round)."""
    if not isinstance(input, Tensor):
        fname = {'Clamp': 'clamp', 'ClampMin': 'clamp_min', 'ClampMax': 'clamp_max'}[name]
        raise no_overload(fname, *(v for v in (input, min, max) if v is not None),
                          expected='(Tensor input, Tensor min, Tensor max)')
    lo = as_operand(min) if min is not None else None
    hi = as_operand(max) if max is not None else None
    op = Clamp()
    tensor_bound = isinstance(lo, Tensor) or isinstance(hi, Tensor)
    op.backward_name = f'{name}Backward{tensor_overload if tensor_bound else scalar_overload}'
    return dispatch(op, input, lo, hi)


def float_power(input, exponent):
    """pow in float64, or in complex128 when either operand is complex."""
    input = as_operand(input)
    exponent = as_operand(exponent)
    is_complex = any(x.is_complex() if isinstance(x, Tensor) else isinstance(x, complex)
                     for x in (input, exponent))
    if isinstance(input, Tensor):
        input = input.cdouble() if is_complex else input.double()
    if isinstance(exponent, Tensor):
        exponent = exponent.cdouble() if is_complex else exponent.double()
    return pow(input, exponent)


def true_divide(input, other):
    return div(input, other)


def rsub(input, other, *, alpha=1):
    if not isinstance(input, Tensor):   # (PyTorch's overloads take a tensor first)
        raise no_overload('rsub', input, other)
    return sub(other, input, alpha=alpha)


# In-place variants share the op classes: x.add_(y) is dispatch_inplace(Add(), x, y).
def inplace(op_cls):
    def fn(self, *args):
        return dispatch_inplace(op_cls(), self, *(as_operand(a) for a in args))
    return fn


# torch.special's ops register themselves in the tables above (special_table.py); the unary ops
# with a parameter (polygamma's n...) use this module's helpers
from . import special_table  # noqa: E402,F401
from . import parameterised_unary  # noqa: E402
from .parameterised_unary import polygamma  # noqa: E402,F401
from .lerp import Lerp, lerp, lerp_operands  # noqa: E402,F401  (torch.lerp, Tensor.lerp_)
from . import scaled_sum  # noqa: E402  (add and sub with alpha)
from .addc import addcdiv, addcmul, refuse_bool_addcmul  # noqa: E402,F401  (torch.addcmul...)
