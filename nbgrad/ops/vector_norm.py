"""linalg.vector_norm as one graph node, with PyTorch's gradient (norm_backward): a subgradient
of 0 where the norm is 0, ties of the inf-norm sharing the gradient, no gradient for ord=0."""
import math

import numpy as np

from ..autograd.graph import Node
from ._util import xp_of


def _refuse_empty(x, p, axis, every_dim):
    """PyTorch's errors for a norm without an identity over an empty tensor (no dim given) or
    an empty dimension."""
    order = p if abs(p) == math.inf else int(p) if p == int(p) else p
    if every_dim and x.size == 0:
        raise RuntimeError(f'linalg.vector_norm cannot compute the {order} norm on an empty '
                           f'tensor because the operation does not have an identity')
    for d in () if every_dim else axis:
        if x.shape[d] == 0:
            raise RuntimeError(f'linalg.vector_norm cannot compute the {order} norm on the '
                               f'dimension {d}because this dimension is empty and the operation '
                               f'does not have an identity')


def _reduced_count(a, axis):
    dims = range(a.ndim) if axis is None else axis
    return math.prod(a.shape[d] for d in dims)


class VectorNorm(Node):
    # norm_backward's formulas hold for complex x as written: x.sgn() and x * |x|^(p-2) are the
    # gradients of |x| and |x|^p in PyTorch's convention (the norm, and so g, are real)
    complex_autograd = True
    contiguous_output = True
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, ord, dims, keepdim, every_dim=False):
        self.ord, self.dims, self.keepdim, self.every_dim = ord, dims, keepdim, every_dim

    def forward(self, x):
        xp, p, axis = xp_of(x), self.ord, self.dims
        a = xp.abs(x)
        result_dtype = a.dtype
        if a.dtype == np.float16:   # PyTorch sums half powers in float (1000^2 overflows half)
            a = a.astype(np.float32)
        if p < 0 or p == math.inf:     # (no identity: max, min or a negative power)
            _refuse_empty(x, p, axis, self.every_dim)
        if p in (math.inf, -math.inf):
            out = a.max(axis=axis, keepdims=self.keepdim) if p > 0 else \
                a.min(axis=axis, keepdims=self.keepdim)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=self.keepdim).astype(a.dtype)
        elif p == 1:
            out = a.sum(axis=axis, keepdims=self.keepdim)
        elif _reduced_count(a, axis) == 1:
            # one element per norm: PyTorch's kernel returns |x| itself (no x^p to overflow:
            # the norm of [1e20] is 1e20, not inf)
            out = a.sum(axis=axis, keepdims=self.keepdim)
        elif p == 2:
            out = xp.sqrt((a * a).sum(axis=axis, keepdims=self.keepdim))
        else:
            out = ((a ** p).sum(axis=axis, keepdims=self.keepdim)) ** (1.0 / p)
        return xp.asarray(out, dtype=result_dtype)

    def backward(self, g):
        (x,) = self.saved_tensors
        norm = self.saved_output()
        p = self.ord
        if p == 0:
            return None
        if not self.keepdim:  # put the reduced dims back, to broadcast against x
            for d in self.dims:
                g, norm = g.unsqueeze(d), norm.unsqueeze(d)
        if p == 1:
            return x.sgn() * g
        if p == 2:
            return g * (x / norm).masked_fill(norm == 0, 0)
        if p in (math.inf, -math.inf):
            size = x.abs()
            mask = (size == norm) | size.isnan()
            return x.sgn() * ((g / mask.sum(self.dims, keepdim=True)) * mask)
        if p < 1:
            scaled = x.sgn() * x.abs().pow(p - 1).masked_fill(x == 0, 0)
            return scaled * g * norm.pow(1 - p)
        scaled = x.sgn() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
        return scaled * (g / norm.pow(p - 1)).masked_fill(norm == 0, 0)

    def name(self):
        return 'LinalgVectorNormBackward0'
