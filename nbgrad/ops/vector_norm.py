"""linalg.vector_norm as one graph node, with PyTorch's gradient (norm_backward): a subgradient
of 0 where the norm is 0, ties of the inf-norm sharing the gradient, no gradient for ord=0."""
import math

import numpy as np

from ..autograd.graph import Node
from ._util import xp_of


class VectorNorm(Node):
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, ord, dims, keepdim):
        self.ord, self.dims, self.keepdim = ord, dims, keepdim

    def forward(self, x):
        xp, p, axis = xp_of(x), self.ord, self.dims
        a = xp.abs(x)
        result_dtype = a.dtype
        if a.dtype == np.float16:   # PyTorch sums half powers in float (1000^2 overflows half)
            a = a.astype(np.float32)
        if p in (math.inf, -math.inf):
            if a.size == 0 and any(x.shape[d] == 0 for d in axis or range(x.ndim)):
                raise RuntimeError(f'linalg.vector_norm cannot compute the {p} norm on an empty '
                                   f'tensor because the operation does not have an identity')
            out = a.max(axis=axis, keepdims=self.keepdim) if p > 0 else \
                a.min(axis=axis, keepdims=self.keepdim)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=self.keepdim).astype(a.dtype)
        elif p == 1:
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
