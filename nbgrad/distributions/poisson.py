"""Poisson(rate): non-negative integers k with probability rate**k exp(-rate) / k!."""
import nbgrad
from . import constraints
from ._discrete_helpers import is_number
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ['Poisson']


class Poisson(ExponentialFamily):
    """Args: rate (Number, Tensor): the rate (mean), non-negative; validate_args (bool,
    optional)."""
    arg_constraints = {'rate': constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = nbgrad.Size() if is_number(rate) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(Poisson, batch_shape, _instance, ('rate',))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        with nbgrad.no_grad():
            return nbgrad.poisson(self.rate.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self):
        return (nbgrad.log(self.rate),)

    def _log_normalizer(self, x):
        return nbgrad.exp(x)
