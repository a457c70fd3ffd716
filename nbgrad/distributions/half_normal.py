"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""
import math

from ._folded import folded_at_zero
from .transformed_distribution import TransformedDistribution
from .normal import Normal

__all__ = ['HalfNormal']


@folded_at_zero(Normal)
class HalfNormal(TransformedDistribution):
    """Args: scale (float or Tensor): the scale of the full Normal."""

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
