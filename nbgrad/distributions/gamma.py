"""The Gamma distribution with shape `concentration` and inverse scale `rate`."""
import nbgrad
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ['Gamma']


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density rate**a x**(a-1) exp(-rate x) / Gamma(a) on x >= 0.
    rsample is reparameterised through _standard_gamma's implicit gradient."""
    arg_constraints = {'concentration': constraints.positive, 'rate': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = self.concentration.size()   # () when all are numbers (0-d tensors)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(Gamma, batch_shape, _instance, ('concentration', 'rate'))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        value = nbgrad._standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        # keep samples positive where the division underflowed, without recording it in autograd
        value.detach().clamp_(min=nbgrad.finfo(value.dtype).tiny)
        return value

    def log_prob(self, value):
        value = nbgrad.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (nbgrad.xlogy(self.concentration, self.rate)
                + nbgrad.xlogy(self.concentration - 1, value)
                - self.rate * value - nbgrad.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return nbgrad.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - nbgrad.log(self.rate) + nbgrad.lgamma(self.concentration)
                + (1.0 - self.concentration) * nbgrad.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return nbgrad.lgamma(x + 1) + (x + 1) * nbgrad.log(-y.reciprocal())
