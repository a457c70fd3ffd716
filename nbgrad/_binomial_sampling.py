"""torch.binomial(count, prob, generator=None): Binomial(count, prob) samples.

The algorithm is ATen's sample_binomial (Distributions.h, adapted there from TensorFlow): below
count * min(p, 1-p) = 10 it inverts a sum of geometric variables, above it uses Hormann's BTRS
transformed rejection, each drawing double uniforms one at a time as they need them.

On the CPU this replays PyTorch's kernel draw for draw, element by element in C order, with its
mixed precision: the arithmetic ATen does in the tensor's scalar type (float32 products, log1pf)
is rounded to float32 here too, the rest is double, nothing fused (Distributions.cpp is built
without the per-CPU flags). So a seeded torch.binomial gives PyTorch's numbers. On CUDA the same
two algorithms run vectorised over the elements still rejecting, in double, with uniforms from the
device's generator: the right distribution, not PyTorch's CUDA numbers.
"""
import ctypes
import math

import numpy as np

from ._dispatch import dispatch, _type_word
from ._mt_engine import _UniformStream
from ._tensor import Tensor
from .autograd.graph import NOT_IMPLEMENTED, Node
from ._random_ops import _generator
from .ops._util import broadcast_error

__all__ = ['binomial']


def _libm_log1pf():
    """The C library's float log1p, which ATen calls for float32 tensors (glibc's is not
    correctly rounded, so rounding the double log1p would differ now and then)."""
    # (the process has libm loaded already: looked up there, or by its usual name, not with
    # ctypes.util.find_library, which starts a subprocess)
    fn = None
    for library in (None, 'libm.so.6'):
        try:
            fn = ctypes.CDLL(library).log1pf
            break
        except (OSError, AttributeError):
            continue
    if fn is None:
        return lambda x: _to_float32(math.log1p(x))
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def _to_float32(x):
    """static_cast<float>(double): round to nearest, inf beyond float's range."""
    return ctypes.c_float(x).value


class _ScalarT:
    """The operations ATen performs in scalar_t: exact for double, rounded to float32 for
    float (a float32 product, sum, quotient or square root computed in double and rounded once
    is the correctly rounded float32 result)."""

    def __init__(self, np_dtype):
        single = np.dtype(np_dtype) == np.float32
        self.round = _to_float32 if single else float
        self.log1p = _LOG1PF if single else math.log1p

    def mul(self, a, b):
        return self.round(a * b)

    def add(self, a, b):
        return self.round(a + b)

    def sub(self, a, b):
        return self.round(a - b)

    def div(self, a, b):
        return self.round(a / b)

    def sqrt(self, a):
        return self.round(math.sqrt(a))


_LOG1PF = _libm_log1pf()

# stirling_approx_tail(k) for k = 0..9: log(k!) minus its Stirling approximation
_TAIL_VALUES = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k < len(_TAIL_VALUES):
        return _TAIL_VALUES[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _inversion(count, prob, uniform, s):
    """Count geometric waiting times (trials to each success) until they pass `count`."""
    logprob = s.log1p(-prob)
    geom_sum, successes = 0.0, 0.0
    while True:
        geom_sum += math.ceil(math.log(uniform()) / logprob)
        if geom_sum > count:
            return successes
        successes += 1


def _btrs(count, prob, uniform, s):
    """Hormann's BTRS (transformed rejection with squeeze) for count * prob >= 10, prob <= 1/2."""
    stddev = s.sqrt(s.mul(s.mul(count, prob), s.sub(1, prob)))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = s.mul(count, prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = s.div(prob, s.sub(1, prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(math.floor(s.mul(s.add(count, 1), prob)))
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = s.round(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:        # (also catches -inf from u = -0.5)
            continue
        if us >= 0.07 and v <= v_r:   # inside the box where the hat is tight
            return k
        # ATen's ratio (TensorFlow's, which omits a log of Hormann's in the squeeze)
        v = math.log(v * alpha / (a / (us * us) + b))
        count_k1 = s.add(s.sub(count, k), 1)
        upperbound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                      + s.add(count, 1) * math.log((count - m + 1) / count_k1)
                      + (k + 0.5) * math.log(r * count_k1 / s.add(k, 1))
                      + _stirling_tail(m) + _stirling_tail(count - m)
                      - _stirling_tail(k) - _stirling_tail(s.sub(count, k)))
        if v <= upperbound:
            return k


def _sample_one(count, prob, uniform, s):
    """ATen's sample_binomial for one (count, prob)."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if not math.isfinite(count):      # ATen loops forever on these; answer NaN instead
        return math.nan
    if prob <= 0.5:
        if s.mul(count, prob) >= 10.0:
            return _btrs(count, prob, uniform, s)
        return _inversion(count, prob, uniform, s)
    if prob > 0.5:                    # the mirror image: count minus failures
        qprob = s.round(1.0 - prob)
        if s.mul(count, qprob) >= 10.0:
            return s.sub(count, _btrs(count, qprob, uniform, s))
        return s.sub(count, _inversion(count, qprob, uniform, s))
    return math.nan                   # prob is NaN


def _sample_cpu(engine, count, prob):
    s = _ScalarT(count.dtype)
    uniform = _UniformStream(engine)
    try:
        values = [_sample_one(c, p, uniform, s)
                  for c, p in zip(count.ravel().tolist(), prob.ravel().tolist())]
    finally:
        uniform.finish()      # the engine moves on by exactly the uniforms used
    return np.array(values, dtype=np.float64).astype(count.dtype).reshape(count.shape)


# ---------------------------------------------------------------------------------------------
# Vectorised (CUDA): the same two algorithms over the elements still drawing, in double
# ---------------------------------------------------------------------------------------------

def _sample_vectorised(xp, draw_uniform, count, prob):
    """draw_uniform(n) -> n double uniforms in [0, 1) (an xp array)."""
    count64, prob64 = count.astype(np.float64).ravel(), prob.astype(np.float64).ravel()
    out = xp.zeros(count64.shape, np.float64)
    flip = prob64 > 0.5
    q = xp.where(flip, 1.0 - prob64, prob64)
    live = (count64 > 0) & (prob64 > 0) & (prob64 < 1) & xp.isfinite(count64)
    big = live & (count64 * q >= 10.0)
    small = live & ~big
    out[small] = _inversion_vectorised(xp, draw_uniform, count64[small], q[small])
    out[big] = _btrs_vectorised(xp, draw_uniform, count64[big], q[big])
    out = xp.where(flip & live, count64 - out, out)
    out = xp.where(live | (count64 <= 0) | (prob64 <= 0), out, count64)     # prob >= 1: count
    out = xp.where(xp.isnan(prob64) | (~xp.isfinite(count64) & (count64 > 0) & (prob64 > 0)
                                      & (prob64 < 1)), np.nan, out)
    return out.astype(count.dtype).reshape(count.shape)


def _inversion_vectorised(xp, draw_uniform, count, prob):
    successes = xp.zeros(count.shape, np.float64)
    geom_sum = xp.zeros(count.shape, np.float64)
    active = xp.arange(count.size)
    logprob = xp.log1p(-prob)
    while active.size:
        geom_sum[active] += xp.ceil(xp.log(draw_uniform(active.size)) / logprob[active])
        going = geom_sum[active] <= count[active]
        successes[active[going]] += 1
        active = active[going]
    return successes


def _btrs_vectorised(xp, draw_uniform, count, prob):
    stddev = xp.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = xp.floor((count + 1) * prob)
    out = xp.zeros(count.shape, np.float64)
    active = xp.arange(count.size)
    while active.size:
        i = active
        u = draw_uniform(i.size) - 0.5
        v = draw_uniform(i.size)
        us = 0.5 - xp.abs(u)
        with np.errstate(divide='ignore', invalid='ignore'):
            k = xp.floor((2 * a[i] / us + b[i]) * u + c[i])
            valid = (k >= 0) & (k <= count[i])
            tight = valid & (us >= 0.07) & (v <= v_r[i])
            n = count[i]
            ks = xp.where(valid, k, 0.0)
            logv = xp.log(v * alpha[i] / (a[i] / (us * us) + b[i]))
            upper = ((m[i] + 0.5) * xp.log((m[i] + 1) / (r[i] * (n - m[i] + 1)))
                     + (n + 1) * xp.log((n - m[i] + 1) / (n - ks + 1))
                     + (ks + 0.5) * xp.log(r[i] * (n - ks + 1) / (ks + 1))
                     + _stirling_tail_vectorised(xp, m[i]) + _stirling_tail_vectorised(xp, n - m[i])
                     - _stirling_tail_vectorised(xp, ks) - _stirling_tail_vectorised(xp, n - ks))
        accept = tight | (valid & (logv <= upper))
        out[i[accept]] = k[accept]
        active = i[~accept]
    return out


def _stirling_tail_vectorised(xp, k):
    table = xp.asarray(_TAIL_VALUES)
    kp1sq = (k + 1) * (k + 1)
    approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    small = k < len(_TAIL_VALUES)
    return xp.where(small, table[xp.clip(k, 0, len(_TAIL_VALUES) - 1).astype(np.int64)], approx)


# ---------------------------------------------------------------------------------------------
# The op
# ---------------------------------------------------------------------------------------------

class _Binomial(Node):
    """Not differentiable, but (as in PyTorch) its output requires grad when an input does, and
    backward refuses."""

    def __init__(self, generator):
        self.generator = generator

    def forward(self, count, prob):
        xp = np if count.__class__ is np.ndarray else self.generator._engine.xp
        count, prob = xp.broadcast_arrays(count, prob)
        if xp is np:
            return _sample_cpu(self.generator._engine, count, prob)
        engine = self.generator._engine
        return _sample_vectorised(xp, lambda n: engine.uniform((n,), np.float64), count, prob)

    def backward(self, *grads):
        raise RuntimeError('derivative for aten::binomial is not implemented')

    def name(self):
        return NOT_IMPLEMENTED


def _check(count, prob):
    for position, (name, t) in enumerate((('count', count), ('prob', prob)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial(): argument '{name}' (position {position}) must be Tensor, "
                            f'not {type(t).__name__}')
    for name, t in (('count', count), ('prob', prob)):
        if not t.is_floating_point():
            raise ValueError(f'binomial only supports floating-point dtypes for {name}, got: '
                             f'{_type_word(t._data.dtype)}')
    if prob.dtype != count.dtype:
        raise RuntimeError(f'Found dtype {_type_word(prob._data.dtype)} but expected '
                           f'{_type_word(count._data.dtype)}')
    if count.dtype.name not in ('float32', 'float64'):
        raise NotImplementedError(f'"binomial_cpu" not implemented for '
                                  f"'{_type_word(count._data.dtype)}'")
    try:
        np.broadcast_shapes(tuple(count.shape), tuple(prob.shape))
    except ValueError:
        raise broadcast_error([count.shape, prob.shape]) from None


def binomial(count, prob, generator=None):
    """Samples of Binomial(count, prob), count and prob broadcast together (floating point, the
    same dtype); the result has count's dtype."""
    _check(count, prob)
    return dispatch(_Binomial(_generator(generator, count.device)), count, prob)
