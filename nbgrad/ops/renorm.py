"""torch.renorm: each slice along dim whose p-norm exceeds maxnorm is scaled down to norm
maxnorm. Composed as PyTorch computes it (factor = maxnorm / (norm + 1e-7) where norm > maxnorm,
1 elsewhere), so the gradient through the norm is PyTorch's renorm_backward."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._util import wrap_dim
from .elementwise import where


def renorm(input, p, dim, maxnorm):
    if input.dim() < 2:
        raise RuntimeError(f'renorm: input needs at least 2 dimensions, got {input.dim()} '
                           f'dimensions')
    if not p > 0:
        raise RuntimeError('renorm: non-positive-norm not supported')
    if maxnorm < 0:
        raise RuntimeError(f'renorm: expected maxnorm to be >= 0 but got {maxnorm}')
    kind = input._data.dtype.kind
    if kind not in _dtype.INEXACT_KINDS:
        from .._dispatch import _type_word
        raise NotImplementedError(f'"renorm_out" not implemented for '
                                  f"'{_type_word(input._data.dtype)}'")
    d = wrap_dim(dim, input.dim())
    from ..linalg import vector_norm
    reduce = tuple(i for i in range(input.dim()) if i != d)
    x = input.float() if _dtype.is_reduced_float(input._data.dtype) else input
    norm = vector_norm(x, p, reduce, keepdim=True)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    if _dtype.is_reduced_float(input._data.dtype):
        factor = factor.to(input.dtype)
    return input * factor


def renorm_(self, p, dim, maxnorm):
    from .._tensor_method_forms import _source_of_inplace
    return self.copy_(renorm(_source_of_inplace(self), p, dim, maxnorm))


Tensor.renorm = renorm
Tensor.renorm_ = renorm_

__all__ = ['renorm']
