"""The graph nodes behind nn.functional's activations (see activation.py for the API).

Each elementwise activation is one node made from a row of `ROWS`: a forward on raw arrays
(NumPy or CuPy) following PyTorch's CPU kernel (same branches at the kinks, same constants), and a
derivative written in Tensor ops, so that double backward works. Derivatives that are piecewise
constant in x are nodes of their own (_PiecewiseGrad), so that the gradient stays connected to x
as PyTorch's ...BackwardBackward0 nodes do. prelu, rrelu and glu have a node class each.
"""
import math
from typing import Callable, NamedTuple

import numpy as np

from ... import _dispatch, _dtype, _scalar_bounds, _special
from ..._dispatch import dispatch, dispatch_inplace, _type_word
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops.elementwise import where, _sigmoid
from ...ops._util import xp_of
from ...ops import _special_cuda
from ..._select import select

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))  # hardsigmoid_backward's constant
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


_C_TYPES = {'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int', 'int64': 'int64_t',
            'uint8': 'uint8_t', 'float16': 'float', 'float32': 'float'}
_FLOAT_MAX = float(np.finfo(np.float32).max)


def _converted(value, dtype):
    """A Python number as PyTorch's kernels take it: c10's checked conversion to the tensor's
    dtype (to float for float16 and float32 math). Out of range is a RuntimeError; floats are
    truncated for integer dtypes; negative ints wrap around into unsigned ones, as in c10."""
    if value.__class__ not in (int, float) or dtype == np.float64:
        return value
    if dtype.kind == 'f':
        fits = math.isinf(value) or value != value or abs(value) <= _FLOAT_MAX
    elif value.__class__ is float:
        fits = np.iinfo(dtype).min <= value <= np.iinfo(dtype).max  # NaN and inf do not
    else:
        info = np.iinfo(dtype)
        fits = value <= info.max and (value >= info.min or (dtype.kind == 'u' and
                                                            -value <= info.max))
    if not fits:
        raise RuntimeError(f'value cannot be converted to type {_C_TYPES[dtype.name]} without '
                           f'overflow')
    return value if dtype.kind == 'f' else np.array(int(value)).astype(dtype)[()]


class _PiecewiseGrad(Node):
    """The gradient of an activation whose slope is piecewise constant, rule(xp, g, x, *params)
    on arrays. A node of its own, so the gradient stays connected to x (with derivative zero
    there) for double backward, as in PyTorch (its ...BackwardBackward0 nodes)."""
    saved_inputs = (1,)

    def __init__(self, rule, params, backward_name):
        self.rule, self.params, self.backward_name = rule, params, backward_name

    def forward(self, g, x):
        return self.rule(xp_of(g), g, x, *self.params).astype(g.dtype, copy=False)

    def backward(self, gg):
        (x,) = self.saved_tensors
        ggg = dispatch(_PiecewiseGrad(self.rule, self.params, self.backward_name), gg, x)
        # x does reach this node: its gradient is zero, not missing (autograd.grad(..., x) works)
        return ggg, (x.detach() * 0 if self._edges[1] is not None else None)

    def name(self):
        return self.backward_name


def _piecewise(rule, name):
    def grad(g, x, *params):
        return dispatch(_PiecewiseGrad(rule, params, name), g, x)
    return grad


def _threshold(xp, x, threshold, value):
    return select(xp, x <= threshold, value, x)


def _relu6_of_x_plus_3(xp, x):
    """clamp(x + 3, 0, 6): hardsigmoid times 6 (hardswish multiplies x by it before dividing,
    as PyTorch's kernel does, which rounds differently from x * (it / 6))."""
    return _scalar_bounds.minimum(xp, _scalar_bounds.maximum(xp, x + 3, 0), 6)


def _hardtanh(xp, x, min_val, max_val):
    # NaN propagates, as in clamp
    return _scalar_bounds.minimum(xp, _scalar_bounds.maximum(xp, x, min_val), max_val)


def _leaky_rule(xp, g, x, slope):
    return select(xp, x > 0, g, g * slope)


def _shrunk(x, lambd):
    return (x >= -lambd) & (x <= lambd)


def _elu(xp, x, alpha, scale, input_scale):
    # min(x, 0) keeps expm1 from overflowing on the branch where() discards
    negative = xp.expm1(_scalar_bounds.minimum(xp, x, 0) * input_scale) * (alpha * scale)
    return select(xp, x <= 0, negative, x * scale)


def _elu_grad(g, x, alpha, scale, input_scale):
    # where(x < 0, x, 0), not clamp: PyTorch's second derivative is 0 at x = 0, and exp never
    # overflows on the discarded branch (which would give inf * 0 = nan in double backward)
    negative = (where(x < 0, x, 0.0) * input_scale).exp() * (input_scale * alpha * scale)
    return where(x <= 0, g * negative, g * scale)


def _elu_grad_from_result(g, y, alpha, scale, input_scale):
    if alpha < 0:
        raise RuntimeError('In-place elu backward calculation is triggered with a negative slope '
                           'which is not supported. This is caused by calling in-place forward '
                           'function with a negative slope, please call out-of-place version '
                           'instead.')
    return where(y <= 0, g * input_scale * (y + alpha * scale), g * scale)


def _leaky_relu_grad_from_result(g, y, slope):
    if slope < 0:
        raise RuntimeError('In-place leakyReLu backward calculation is triggered with a negative '
                           'slope which is not supported. This is caused by calling in-place '
                           'forward function with a negative slope, please call out-of-place '
                           'version instead.')
    return dispatch(_PiecewiseGrad(_leaky_rule, (slope,), 'LeakyReluBackwardBackward0'), g, y)


def _gelu(xp, x, approximate):
    if approximate == 'tanh':
        return 0.5 * x * (1 + xp.tanh(_GELU_BETA * (x + _GELU_KAPPA * x * x * x)))
    if xp is not np:   # one launch on CUDA, where the kernel serves x's dtype
        out = _special_cuda.gelu(xp, x)
        if out is not None:
            return out
    if x.dtype == np.float64:
        # x * Phi(x) with Phi = erfc(-x / sqrt 2) / 2: no cancellation in 1 + erf for x << 0
        return 0.5 * x * _special.erfc(xp, x * -_SQRT1_2)
    # single precision: PyTorch's formula through the single-precision erf, computed in float32
    # as PyTorch's float32 kernel computes it, in one blocked kernel (_special.elementwise;
    # float32 arithmetic takes half the time of float64 and agrees with PyTorch as closely). For
    # x < -5 or so 1 + erf cancels to 0 where x * Phi(x) is a tiny negative number: the same
    # values as PyTorch's float32 GELU, which computes it this way
    return _special.elementwise(xp, _gelu_single, x, wide=False)


def _gelu_single(xp, d):
    # 0.5 * d * (1 + erf(d / sqrt 2)), in place (the halving is exact, so its place is free)
    out = _special.erf_single_kernel(xp, d * _SQRT1_2)
    out += 1.0
    out *= d
    out *= 0.5
    return out


def _gelu_slope_single(xp, d):
    """GELU's derivative Phi(x) + x phi(x), for float32 inputs (PyTorch's kernel's formula):
    0.5 * (1 + erf(d / sqrt 2)) + d * exp(-d^2 / 2) / sqrt(2 pi), in place."""
    if d.ndim == 0:   # (NumPy's ufuncs give 0-d inputs scalars, which out= cannot take)
        return _gelu_slope_single(xp, d.reshape(1)).reshape(())
    out = _special.erf_single_kernel(xp, d * _SQRT1_2)
    out += 1.0
    out *= 0.5
    density = d * d
    density *= -0.5
    xp.exp(density, out=density)
    density *= d
    density *= _INV_SQRT_2PI
    out += density
    return out


def _gelu_grad(g, x, approximate):
    if approximate == 'tanh':
        inner = (x + x * x * x * _GELU_KAPPA) * _GELU_BETA
        t = inner.tanh()
        slope = (1 + t) * 0.5 + x * 0.5 * (1 - t * t) * _GELU_BETA * (1 + x * x * (3 * _GELU_KAPPA))
        return g * slope
    xp = xp_of(x._data)
    if not _dispatch._modes.grad_enabled and xp is not np:   # one launch on CUDA
        out = _special_cuda.gelu_backward(xp, g._data, x._data)
        if out is not None:
            return Tensor._make(out)
    if not _dispatch._modes.grad_enabled and x._data.dtype == np.float32 and \
            g._data.dtype == np.float32:
        # no graph of the gradient wanted: one blocked kernel for the slope
        slope = _special.elementwise(xp, _gelu_slope_single, x._data, wide=False)
        return Tensor._make(xp.asarray(g._data * slope))   # (0-d: NumPy gives a scalar)
    if x.dtype == _dtype.float64:
        cdf = (x * -_SQRT1_2).erfc() * 0.5
    else:   # as the forward (and PyTorch's kernel) in single precision
        cdf = ((x * _SQRT1_2).erf() + 1) * 0.5
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _silu_grad(g, x):
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


def _mish_grad(g, x):
    s = x.sigmoid()
    t = dispatch(Activation('softplus', (1.0, 20.0)), x).tanh()
    return g * (t + x * s * (1 - t * t))


def _softplus(xp, x, beta, threshold):
    bx = x * beta
    return select(xp, bx > threshold, x, xp.log1p(xp.exp(bx)) / beta)


class _Row(NamedTuple):
    """One activation: its kernels and how PyTorch names and saves its graph node."""
    forward: Callable             # (xp, x, *params) -> array
    grad: Callable                # (g, x, *params) -> Tensor, from the saved input
    name: str                     # grad_fn name
    kernel: str                   # PyTorch's kernel name in dtype errors
    inplace_name: str = None      # grad_fn name of the in-place form (None: no in-place form)
    grad_from_result: Callable = None  # in-place form that saves its result: (g, y, *params)
    integers: bool = False        # PyTorch has integer kernels too


ROWS = {
    'threshold': _Row(_threshold,
                      _piecewise(lambda xp, g, x, t, v: select(xp, x <= t, 0, g),
                                 'ThresholdBackwardBackward0'),
                      'ThresholdBackward0', 'threshold_cpu', 'ThresholdBackward1', integers=True),
    'hardtanh': _Row(_hardtanh,
                     _piecewise(lambda xp, g, x, lo, hi: select(xp, (x <= lo) | (x >= hi), 0, g),
                                'HardtanhBackwardBackward0'),
                     'HardtanhBackward0', 'hardtanh_cpu', 'HardtanhBackward0', integers=True),
    'leaky_relu': _Row(lambda xp, x, slope: select(xp, x > 0, x, x * slope),
                       _piecewise(_leaky_rule, 'LeakyReluBackwardBackward0'),
                       'LeakyReluBackward0', 'leaky_relu_cpu', 'LeakyReluBackward1',
                       _leaky_relu_grad_from_result),
    'elu': _Row(_elu, _elu_grad, 'EluBackward0', 'elu_cpu', 'EluBackward1', _elu_grad_from_result),
    'celu': _Row(_elu, _elu_grad, 'CeluBackward0', 'elu_cpu', 'CeluBackward1',
                 _elu_grad_from_result),
    'gelu': _Row(_gelu, _gelu_grad, 'GeluBackward0', 'GeluKernelImpl'),
    'hardswish': _Row(lambda xp, x: x * _relu6_of_x_plus_3(xp, x) / 6,
                      lambda g, x: where(x <= -3, 0.0, where(x < 3, g * (x / 3 + 0.5), g)),
                      'HardswishBackward0', 'hardswish_cpu', 'HardswishBackward0'),
    'hardsigmoid': _Row(lambda xp, x: _relu6_of_x_plus_3(xp, x) / 6,
                        _piecewise(lambda xp, g, x: select(xp, (x > -3) & (x < 3),
                                                           g * _ONE_SIXTH_F32, 0),
                                   'HardsigmoidBackwardBackward0'),
                        'HardsigmoidBackward0', 'hardsigmoid_cpu', 'HardsigmoidBackward0'),
    'silu': _Row(lambda xp, x: x / (1 + xp.exp(-x)), _silu_grad,
                 'SiluBackward0', 'silu_cpu', 'SiluBackward0'),
    'mish': _Row(lambda xp, x: x * xp.tanh(xp.log1p(xp.exp(x))), _mish_grad,
                 'MishBackward0', 'mish_cpu', 'MishBackward0'),
    'softplus': _Row(_softplus,
                     lambda g, x, beta, t: where(x * beta > t, g, g * (x * beta).sigmoid()),
                     'SoftplusBackward0', 'softplus_cpu'),
    'logsigmoid': _Row(lambda xp, x: _scalar_bounds.minimum(xp, x, 0) -
                       xp.log1p(xp.exp(-xp.abs(x))),
                       lambda g, x: g * (-x).sigmoid(), 'LogSigmoidBackward0', 'log_sigmoid_cpu'),
    'hardshrink': _Row(lambda xp, x, lambd: select(xp, _shrunk(x, lambd), 0, x),
                       _piecewise(lambda xp, g, x, lambd: select(xp, _shrunk(x, lambd), 0, g),
                                  'HardshrinkBackwardBackward0'),
                       'HardshrinkBackward0', 'hardshrink_cpu'),
    'softshrink': _Row(lambda xp, x, lambd: select(xp, x > lambd, x - lambd,
                                                   select(xp, x < -lambd, x + lambd, x * 0)),
                       _piecewise(lambda xp, g, x, lambd: select(xp, _shrunk(x, lambd), 0, g),
                                  'SoftshrinkBackwardBackward0'),
                       'SoftshrinkBackward0', 'softshrink_check'),
}


class Activation(Node):
    """An elementwise activation from a row of ROWS, with its parameters."""

    def __init__(self, kind, params=(), inplace=False):
        self.row = ROWS[kind]
        self.op_name = kind
        self.params = params
        self.backward_name = self.row.inplace_name if inplace else self.row.name
        if inplace and self.row.grad_from_result is not None:
            self.saved_inputs, self.saves_output = (), True
        else:
            self.saved_inputs = (0,)

    def forward(self, x):
        row = self.row
        kind = x.dtype.kind
        if kind != 'f' and not (row.integers and kind in 'iu'):
            raise NotImplementedError(f'"{row.kernel}" not implemented for '
                                      f'\'{_type_word(x.dtype)}\'')
        params = [_converted(p, x.dtype) for p in self.params]
        xp = xp_of(x)
        if x.dtype == np.float16:  # computed in float, as PyTorch's half kernels do
            return row.forward(xp, x.astype(np.float32), *params).astype(np.float16)
        return row.forward(xp, x, *params).astype(x.dtype, copy=False)

    def backward(self, g):
        saved = self.saved_output() if self.saves_output else self.saved_tensors[0]
        grad = self.row.grad_from_result if self.saves_output else self.row.grad
        if _dtype.is_reduced_float(saved._data.dtype):
            # PyTorch's backward kernels (silu_backward, elu_backward...) compute half and
            # bfloat16 in float and round once; the formula's own ops would round at each step
            return grad(g.float(), saved.float(), *self.params).to(saved.dtype)
        return grad(g, saved, *self.params)

    def name(self):
        return self.backward_name


def write_back(op, input):
    """input.<op>_(): the engine's in-place path (version bump, leaf and view checks, history)."""
    dispatch_inplace(op, input)
    if op.saves_output and op._saved_output is not None:
        # PyTorch saves the modified tensor itself, so that changing it again in place makes
        # backward fail; the engine saved the freshly computed array, which nothing can change
        op._saved_output = (input._data, input._vc, input._vc[0])
    return input


class PreluKernel(Node):
    """x if x > 0 else w * x, with w broadcast over x (PyTorch's _prelu_kernel)."""
    saved_inputs = (0, 1)

    def forward(self, x, w):
        if x.dtype.kind != 'f':
            raise NotImplementedError(f'"prelu_cpu" not implemented for \'{_type_word(x.dtype)}\'')
        return select(xp_of(x), x > 0, x, w * x).astype(x.dtype, copy=False)

    def backward(self, g):
        x, w = self.saved_tensors
        positive = x > 0
        gx = where(positive, g, w * g) if self._edges[0] is not None else None
        gw = where(positive, 0.0, x * g) if self._edges[1] is not None else None
        return gx, gw  # the engine sums gw back to w's broadcast shape

    def name(self):
        return 'PreluKernelBackward0'


_RRELU_NOISE_FREE = 1e-6  # below this upper - lower, PyTorch's backward uses the mean slope


class RReLUWithNoise(Node):
    """Leaky ReLU whose negative slopes are drawn from U(lower, upper) in training, one per
    element x <= 0 (PyTorch's rrelu_with_noise); the mean slope in evaluation."""

    def __init__(self, lower, upper, training, inplace):
        self.lower, self.upper, self.training = lower, upper, training
        self.backward_name = 'RreluWithNoiseBackward1' if inplace else 'RreluWithNoiseBackward0'
        if inplace:
            self.saved_inputs, self.saves_output = (), True
        else:
            self.saved_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        training = self.training
        if x.dtype.kind != 'f' or (training and xp is np and x.dtype == np.float16):
            kernel = 'rrelu_with_noise_out_cpu' if training else 'leaky_relu_cpu'
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(x.dtype)}\'')
        if not training:
            slope = _converted((self.lower + self.upper) / 2, x.dtype)
            return select(xp, x > 0, x, x * slope).astype(x.dtype, copy=False)
        self._noise = noise = self._draw_noise(xp, x)
        return (x * noise).astype(x.dtype, copy=False)

    def _draw_noise(self, xp, x):
        from ... import random
        nonpositive = x <= 0
        if xp is np:
            # PyTorch's CPU loop: for each element x <= 0, in order, one
            # uniform_real_distribution<double>(lower, upper) draw, rounded to the op's math type
            from ..._mt_engine import _uniform01_double
            math_type = np.float64 if x.dtype == np.float64 else np.float32
            low, high = float(math_type(self.lower)), float(math_type(self.upper))
            unit = _uniform01_double(random.default_generator._engine, int(nonpositive.sum()))
            noise = np.ones(x.shape, x.dtype)
            noise[nonpositive] = (unit * (high - low) + low).astype(math_type)
            return noise
        from ..._random_ops import _sample
        generator = random.cuda_generator(x.device.id)
        slopes = _sample(generator, 'uniform', x.shape, x.dtype, self.lower, self.upper)
        return select(xp, nonpositive, slopes, 1).astype(x.dtype)

    def backward(self, g):
        reference = self.saved_output() if self.saves_output else self.saved_tensors[0]
        if self.training and self.upper - self.lower > _RRELU_NOISE_FREE:
            return g * Tensor._make(self._noise)
        slope = (self.lower + self.upper) / 2
        if self.saves_output:
            return _leaky_relu_grad_from_result(g, reference, slope)
        return dispatch(_PiecewiseGrad(_leaky_rule, (slope,), 'RreluWithNoiseBackwardBackward0'),
                        g, reference)

    def name(self):
        return self.backward_name


class Glu(Node):
    """a * sigmoid(b), where a and b are the two halves of the input along dim."""
    saved_inputs = (0,)

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        if x.dtype.kind != 'f':
            raise NotImplementedError(f'"glu_cpu" not implemented for \'{_type_word(x.dtype)}\'')
        size = x.shape[self.dim]
        if size % 2:
            raise RuntimeError(f'Halving dimension must be even, but dimension {self.dim} is size '
                               f'{size}')
        xp = xp_of(x)
        a, b = xp.split(x, [size // 2], axis=self.dim)
        if x.dtype == np.float16:
            return (a.astype(np.float32) * _sigmoid(xp, b.astype(np.float32))).astype(x.dtype)
        return a * _sigmoid(xp, b)

    def backward(self, g):
        (x,) = self.saved_tensors
        half = x.shape[self.dim] // 2
        a, b = x.narrow(self.dim, 0, half), x.narrow(self.dim, half, half)
        s = b.sigmoid()
        ga = g * s
        from ...ops.shape import cat
        return cat([ga, ga * a * (1 - s)], self.dim)

    def name(self):
        return 'GluBackward0'

