"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""
import math

from ._folded import _FoldedAtZero
from .normal import Normal

__all__ = ['HalfNormal']


class HalfNormal(_FoldedAtZero):
    """Args: scale (float or Tensor): the scale of the full Normal."""
    base_family = Normal

    def __init__(self, scale, validate_args=None):
        super().__init__(scale, validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
