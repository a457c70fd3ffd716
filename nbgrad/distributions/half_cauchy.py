"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""
import math

import nbgrad
from ._folded import folded_at_zero
from .transformed_distribution import TransformedDistribution
from .cauchy import Cauchy

__all__ = ['HalfCauchy']


@folded_at_zero(Cauchy, value_as_tensor=True)
class HalfCauchy(TransformedDistribution):
    """Args: scale (float or Tensor): the scale of the full Cauchy."""

    @property
    def mean(self):
        return nbgrad.full(self._extended_shape(), math.inf, dtype=self.scale.dtype,
                          device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance
