"""Unary ops with a parameter, each its own node class: polygamma(n, x), mvlgamma(x, p),
round(x, decimals=d) and logit(x, eps) (the tables of elementwise.py hold the parameterless
ones)."""
import math

import numpy as np

from .. import _special
from .._dispatch import dispatch, no_kernel
from .._select import select
from ..autograd.graph import Node
from ._elementwise_op import _dtype_word
from ._util import to_float_dtype, xp_of
from .elementwise import _zero, where


class Polygamma(Node):
    """polygamma(n, x), the n-th derivative of digamma."""

    saved_inputs = (0,)

    def __init__(self, n):
        if n < 0:
            raise RuntimeError(f'polygamma(n, x) does not support negative n (got {n})')
        self.n = n

    def forward(self, x):
        if x.dtype.kind in 'biu':
            x = x.astype(to_float_dtype(x.dtype))
        if x.dtype.kind == 'c':
            raise no_kernel(('digamma', 'trigamma')[self.n] if self.n < 2 else 'polygamma',
                            x.dtype)
        xp = xp_of(x)
        if self.n == 0:
            return _special.digamma(xp, x)
        return _special.polygamma(xp, self.n, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * dispatch(Polygamma(self.n + 1), x)


class Mvlgamma(Node):
    """mvlgamma(x, p), the log of the multivariate gamma function (torch.special.multigammaln):
    p(p-1)/4 log(pi) + sum of lgamma(x - j/2) for j < p, computed in float64 and rounded once.
    As in PyTorch, no domain check: where some x - j/2 is a pole the result is inf."""

    saved_inputs = (0,)

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        if x.dtype.kind == 'b':
            raise RuntimeError('The input tensor may not be a boolean tensor.')
        if self.p < 1:
            raise RuntimeError('p has to be greater than or equal to 1')
        if x.dtype.kind == 'c':  # PyTorch fails making its offsets in the complex dtype
            raise NotImplementedError(f'"arange_cpu" not implemented for '
                                      f'\'{_dtype_word(x.dtype)}\'')
        dtype = x.dtype if x.dtype.kind == 'f' else to_float_dtype(x.dtype)
        xp = xp_of(x)
        wide = x.astype(np.float64)
        total = 0.0
        for j in range(self.p - 1, -1, -1):   # PyTorch's order: offsets -(p-1)/2 ... 0
            total = total + _special.lgamma(xp, wide - 0.5 * j)
        total = total + self.p * (self.p - 1) / 4 * math.log(math.pi)
        return xp.asarray(total).astype(dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        total = x.digamma()
        for j in range(1, self.p):
            total = total + (x - 0.5 * j).digamma()
        return (g * total,)


class RoundDecimals(Node):
    """round(x, decimals=d), PyTorch's round.decimals (torch.special.round, any d): rint(x * 10^d)
    / 10^d, or rint(x / 10^-d) * 10^-d for d < 0, in x's dtype (float32 for float16, PyTorch's
    opmath type). Floating inputs only, as PyTorch's kernels."""

    def __init__(self, decimals):
        self.decimals = int(decimals)

    def name(self):
        return 'RoundBackward1'

    def forward(self, x):
        d = self.decimals
        if x.dtype.kind != 'f':
            kernel = 'round_vml_cpu' if d == 0 else 'round_cpu'
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_word(x.dtype)}\'')
        xp = xp_of(x)
        if d == 0:
            return xp.rint(x)
        wide = x.astype(np.float32) if x.dtype == np.float16 else x
        ten = wide.dtype.type(np.float64(10.0) ** abs(d))   # inf past the range, as PyTorch
        r = xp.rint(wide * ten) / ten if d > 0 else xp.rint(wide / ten) * ten
        return r.astype(x.dtype, copy=False)

    def backward(self, g):
        return (_zero(g),)


class LogitEps(Node):
    """logit(x, eps) for eps >= 0: log(z / (1 - z)) with z = x clamped to [eps, 1 - eps] (bounds
    in x's dtype, as PyTorch's kernel); the gradient is 0 outside that interval and, as without
    eps, g * inf at 0 and 1 (LogitBackward0)."""

    saved_inputs = (0,)

    def __init__(self, eps):
        self.eps = float(eps)

    def name(self):
        return 'LogitBackward0'

    def _bounds(self, dtype):
        lo = dtype.type(self.eps)
        return lo, dtype.type(1) - lo

    def forward(self, x):
        if x.dtype.kind in 'biu':
            x = x.astype(to_float_dtype(x.dtype))
        xp = xp_of(x)
        lo, hi = self._bounds(x.dtype)
        z = select(xp, x < lo, lo, select(xp, x > hi, hi, x)).astype(x.dtype, copy=False)
        return xp.log(z / (1 - z)).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        lo, hi = self._bounds(x._data.dtype)
        outside = (x < float(lo)) | (x > float(hi))
        # (g / +0 at 0 and 1: g * inf; denominators chosen without g, so that differentiating
        # by g meets no 0 * inf where a branch is not selected)
        denominator = where(outside, 1.0, where((x == 0) | (x == 1), 0.0, x * (1 - x)))
        return (where(outside, 0.0, g / denominator),)


def polygamma(n, input):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    return dispatch(Polygamma(n), input)
