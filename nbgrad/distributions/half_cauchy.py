"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""
import math

import nbgrad
from ._folded import _FoldedAtZero
from .cauchy import Cauchy

__all__ = ['HalfCauchy']


class HalfCauchy(_FoldedAtZero):
    """Args: scale (float or Tensor): the scale of the full Cauchy."""
    base_family = Cauchy
    _value_as_tensor = True

    def __init__(self, scale, validate_args=None):
        super().__init__(scale, validate_args=validate_args)

    @property
    def mean(self):
        return nbgrad.full(self._extended_shape(), math.inf, dtype=self.scale.dtype,
                          device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance
