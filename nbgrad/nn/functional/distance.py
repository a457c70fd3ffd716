"""Distances between vectors: pairwise_distance, cosine_similarity and pdist, composed of Tensor
ops the way PyTorch composes them (so values and gradients, including at zero vectors, agree).
"""
import math

import numpy as np

from ... import _creation, _dispatch, _dtype
from ...autograd.grad_mode import no_grad
from ...ops._util import _slow_promote
from ...ops.shape import broadcast_tensors

__all__ = ['pairwise_distance', 'cosine_similarity', 'pdist']


def _word(t):
    return _dispatch._type_word(t._data.dtype)


def _last_dim_norm(t, p, keepdim):
    """t.norm(p) over the last dim; a 0-d t is its own one-element vector and gives a 0-d norm
    (nbgrad's reductions do not take dim 0 of a 0-d tensor, as PyTorch's do)."""
    if t.dim() == 0:
        return t.reshape(1).norm(p, 0)
    return t.norm(p, -1, keepdim=keepdim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast inputs."""
    return _last_dim_norm(x1 - x2 + eps, p, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """<x1, x2> / (max(||x1||, eps) * max(||x2||, eps)) along dim, computed as the dot product of
    the two normalised vectors (PyTorch's order, which keeps the result in [-1, 1]). As in
    PyTorch, the clamp to eps is invisible to autograd: the norms are clamped in place under
    no_grad."""
    common = _slow_promote([x1._data, x2._data])
    if not common.is_floating_point:
        raise RuntimeError(f'expected common dtype to be floating point, yet common dtype is '
                           f'{_dispatch._type_word(common.np)}')
    # vector_norm takes only floating point: integral inputs are converted, others stay
    x1, x2 = broadcast_tensors(*(x if x.is_floating_point() else x.to(common) for x in (x1, x2)))
    normalized = []
    for x in (x1, x2):
        norm = x.norm(2, dim, keepdim=True).clone()
        with no_grad():
            norm.clamp_min_(eps)
        normalized.append(x / norm)
    return (normalized[0] * normalized[1]).sum(dim)


def pdist(input, p=2):
    """The p-norm distances between all pairs of rows i < j of a 2-D input, in row-major order of
    (i, j): n*(n-1)/2 values."""
    if input.dim() != 2:
        raise RuntimeError(f'pdist only supports 2D tensors, got: {input.dim()}D')
    if not input.is_floating_point():
        raise RuntimeError(f'pdist only supports floating-point dtypes, got {_word(input)}')
    if input._data.dtype == np.float16:
        raise NotImplementedError('"pdist" not implemented for \'Half\'')
    if p < 0:
        raise RuntimeError(f'pdist only supports non-negative p values, got {p}')
    n = input.shape[0]
    first, second = np.triu_indices(n, 1)
    first = _creation.tensor(first, dtype=_dtype.int64, device=input.device)
    second = _creation.tensor(second, dtype=_dtype.int64, device=input.device)
    diff = input.index_select(0, first) - input.index_select(0, second)
    if p == math.inf and diff.shape[1]:
        # PyTorch's pdist gives every coordinate tied for the maximum the whole gradient
        # sign(diff) (the inf-norm's own gradient shares it out among the ties)
        size = diff.abs()
        largest = size.amax(1, keepdim=True).detach()
        at_max = (size == largest).to(size.dtype)
        return largest.squeeze(1) + ((size - size.detach()) * at_max).sum(1)
    return diff.norm(p, 1)
