"""torch.cdist: the p-norm distance between every row of x1 (..., P, M) and every row of x2
(..., R, M), batch dims broadcast, as PyTorch computes it.

Two paths, chosen by PyTorch's rule: for p = 2 with more than 25 rows on either side (or
compute_mode='use_mm_for_euclid_dist') the squared distances come from one matrix product,
||a||^2 + ||b||^2 - 2 a.b, clamped at 0 before the square root (PyTorch's _euclidean_dist, whose
result differs from the direct sum by rounding); otherwise every difference is formed and
reduced. Each path is one graph node with PyTorch's gradient formulas, zero where a distance is
zero (and, for p < 1, where a coordinate difference is zero), so gradients agree at coincident
points too.
"""
import math

from .. import _dispatch, _dtype
from .._dispatch import dispatch
from ..autograd.graph import Node
from ._util import require_tensor, xp_of
from .shape import broadcast_shapes

_MODES = {'use_mm_for_euclid_dist_if_necessary': 0, 'use_mm_for_euclid_dist': 1,
          'donot_use_mm_for_euclid_dist': 2}


def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    require_tensor(x1, 'cdist', 'x1')
    require_tensor(x2, 'cdist', 'x2', 2)
    if compute_mode not in _MODES:
        raise ValueError(f'{compute_mode} is not a valid value for compute_mode')
    for name, x in (('X1', x1), ('X2', x2)):
        if x.dim() < 2:
            raise RuntimeError(f'cdist only supports at least 2D tensors, {name} got: '
                               f'{x.dim()}D')
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f'X1 and X2 must have the same number of columns. X1: '
                           f'{x1.shape[-1]} X2: {x2.shape[-1]}')
    for name, x in (('X1', x1), ('X2', x2)):
        if not x.is_floating_point():
            raise RuntimeError(f'cdist only supports floating-point dtypes, {name} got: '
                               f'{_dispatch._type_word(x._data.dtype)}')
    if p < 0:
        raise RuntimeError('cdist only supports non-negative p values')
    mode = _MODES[compute_mode]
    by_products = p == 2 and (mode == 1 or (mode == 0 and (x1.shape[-2] > 25 or
                                                           x2.shape[-2] > 25)))
    if x1.device.type == 'cpu' and not by_products and _dtype.is_reduced_float(x1._data.dtype):
        # PyTorch's CPU cdist kernel has no half or bfloat16 (it refuses before comparing the
        # dtypes); its matrix-product path for Euclidean distances takes them
        raise _dispatch.no_kernel('cdist', x1._data.dtype)
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f'expected m1 and m2 to have the same dtype, but got: '
                           f'{_dispatch._type_word(x1._data.dtype).lower()} != '
                           f'{_dispatch._type_word(x2._data.dtype).lower()}')
    batch = tuple(broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
    x1 = x1.expand(batch + tuple(x1.shape[-2:]))
    x2 = x2.expand(batch + tuple(x2.shape[-2:]))
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    if by_products:
        out = dispatch(EuclideanDist(), x1.reshape((-1,) + tuple(x1.shape[-2:])),
                       x2.reshape((-1,) + tuple(x2.shape[-2:])))
        return out.view(batch + (rows1, rows2))   # (PyTorch's grad_fn here: ViewBackward0)
    return dispatch(Cdist(float(p)), x1, x2)


def _differences(xp, a, b):
    """(..., P, R, M): a's rows minus b's rows."""
    return a[..., :, None, :] - b[..., None, :, :]


class Cdist(Node):
    """The direct path: every difference formed, then its p-norm."""
    saved_inputs = (0, 1)
    saves_output = True

    def __init__(self, p):
        self.p = p

    def forward(self, a, b):
        xp = xp_of(a)
        shape = a.shape[:-1] + b.shape[-2:-1]
        if a.shape[-1] == 0 or not math.prod(shape):
            return xp.zeros(shape, a.dtype)
        diff = xp.abs(_differences(xp, a, b))
        p = self.p
        if p == 0:
            return (diff != 0).sum(-1).astype(a.dtype)
        if p == 1:
            return diff.sum(-1)
        if p == 2:
            return xp.sqrt((diff * diff).sum(-1))
        if p == math.inf:
            return diff.max(-1)
        return (diff ** p).sum(-1) ** (1 / p)

    def backward(self, grad):
        x1, x2 = self.saved_tensors
        dist = self.saved_output()
        return _direct_backward(grad, x1, x2, dist, self.p)

    def name(self):
        return 'CdistBackward0'


def _direct_backward(grad, x1, x2, dist, p):
    """PyTorch's _cdist_backward (aten/src/ATen/native/Distance.cpp), as Tensor ops: each
    difference's share of the gradient, summed over the other side's rows."""
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    g, d = grad.unsqueeze(-1), dist.unsqueeze(-1)
    zero = diff.new_zeros(())
    if p == 0 or diff.numel() == 0:
        share = diff * 0
    elif p == 1:
        share = g * diff.sign()
    elif p == 2:
        share = (g * diff / d).where(d != 0, zero)
    elif p == math.inf:
        share = g * diff.sign() * (diff.abs() == d).to(diff.dtype)
    elif p < 2:
        cut = (d == 0) | ((diff == 0) & (p < 1))
        share = (diff.sign() * diff.abs().pow(p - 1) * g / d.pow(p - 1)).where(~cut, zero)
    else:
        share = (diff * diff.abs().pow(p - 2) * g / d.pow(p - 1)).where(d != 0, zero)
    return share.sum(-2), -share.sum(-3)


class EuclideanDist(Node):
    """The matrix-product path for p = 2 (PyTorch's _euclidean_dist), on (B, P, M) and
    (B, R, M): [-2a, ||a||^2, 1] . [b, 1, ||b||^2], clamped at 0, square-rooted."""
    saved_inputs = (0, 1)
    saves_output = True

    def forward(self, a, b):
        xp = xp_of(a)
        a_norm = (a * a).sum(-1, keepdims=True)
        b_norm = (b * b).sum(-1, keepdims=True)
        left = xp.concatenate([a * -2, a_norm, xp.ones_like(a_norm)], -1)
        right = xp.concatenate([b, xp.ones_like(b_norm), b_norm], -1)
        squares = xp.matmul(left, right.swapaxes(-1, -2))
        return xp.sqrt(xp.maximum(squares, 0))

    def backward(self, grad):
        x1, x2 = self.saved_tensors
        res = self.saved_output()
        # PyTorch's _euclidean_dist_backward, as Tensor ops (so it has a gradient of its own)
        ratio = (grad / res).masked_fill(res == 0, 0)
        return (x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2),
                x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1))

    def name(self):
        return 'EuclideanDistBackward0'
