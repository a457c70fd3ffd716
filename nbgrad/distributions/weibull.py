"""Weibull(scale, concentration): scale * E ** (1 / concentration) for E ~ Exponential(1)."""
import nbgrad
from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .utils import broadcast_all, euler_constant

__all__ = ['Weibull']


class Weibull(TransformedDistribution):
    """Args: scale (float or Tensor): lambda; concentration (float or Tensor): k, the shape."""
    arg_constraints = {'scale': constraints.positive, 'concentration': constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(nbgrad.ones_like(self.scale), validate_args=validate_args)
        super().__init__(base_dist, self._transforms(self), validate_args=validate_args)

    @staticmethod
    def _transforms(weibull):
        return [PowerTransform(exponent=weibull.concentration_reciprocal),
                AffineTransform(loc=0, scale=weibull.scale)]

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        super(Weibull, new).__init__(base_dist, self._transforms(new), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * nbgrad.exp(nbgrad.lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self):
        ratio = (self.concentration - 1) / self.concentration
        return self.scale * ratio ** self.concentration.reciprocal()

    @property
    def variance(self):
        second = nbgrad.exp(nbgrad.lgamma(1 + 2 * self.concentration_reciprocal))
        first_squared = nbgrad.exp(2 * nbgrad.lgamma(1 + self.concentration_reciprocal))
        return self.scale.pow(2) * (second - first_squared)

    def entropy(self):
        return (euler_constant * (1 - self.concentration_reciprocal)
                + nbgrad.log(self.scale * self.concentration_reciprocal) + 1)
