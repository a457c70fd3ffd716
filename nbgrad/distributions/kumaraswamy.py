"""The Kumaraswamy distribution on [0, 1]: (1 - U**(1/b))**(1/a) for U ~ Uniform(0, 1)."""
import nbgrad
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ['Kumaraswamy']


def _moments(a, b, n):
    """E[X**n] = b B(1 + n / a, b), through lgamma."""
    arg1 = 1 + n / a
    log_value = nbgrad.lgamma(arg1) + nbgrad.lgamma(b) - nbgrad.lgamma(arg1 + b)
    return b * nbgrad.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(concentration1, concentration0): density a b x**(a-1) (1 - x**a)**(b-1) with
    a = concentration1 (alpha) and b = concentration0 (beta)."""
    arg_constraints = {'concentration1': constraints.positive,
                       'concentration0': constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(nbgrad.full_like(self.concentration0, 0),
                            nbgrad.full_like(self.concentration0, 1),
                            validate_args=validate_args)
        # U -> U**(1/b) -> 1 - U**(1/b) -> (1 - U**(1/b))**(1/a): the inverse of the cdf
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        # ((a - 1) / (a b - 1))**(1/a), in log space for stability; undefined if a or b < 1
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        log_mode = nbgrad.where((b < 1) | (a < 1), nbgrad.full_like(log_mode, float('nan')),
                               log_mode)
        return log_mode.exp()

    @property
    def variance(self):
        return _moments(self.concentration1, self.concentration0, 2) - nbgrad.pow(self.mean, 2)

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        harmonic0 = nbgrad.digamma(self.concentration0 + 1) + euler_constant  # H(b)
        return (t0 + t1 * harmonic0 - nbgrad.log(self.concentration1)
                - nbgrad.log(self.concentration0))
