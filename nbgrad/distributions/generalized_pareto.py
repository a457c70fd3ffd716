"""The generalized Pareto distribution with a location, a scale and a shape (concentration)."""
import math

import nbgrad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ['GeneralizedPareto']


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration): survival function (1 + c z)**(-1/c) for
    z = (x - loc) / scale (exp(-z) at c = 0). Exponential (loc = 0, c = 0), Pareto (c > 0,
    loc = scale / c) and Uniform (c = -1) are special cases. Follows TensorFlow Probability's."""
    arg_constraints = {'loc': constraints.real, 'scale': constraints.positive,
                       'concentration': constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        batch_shape = self.loc.size()   # () when all are numbers (0-d tensors)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(GeneralizedPareto, batch_shape, _instance, ('loc', 'scale', 'concentration'))

    def rsample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        u = nbgrad.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe_concentration(self, zero_dtype=None):
        """Where the concentration is (close to) 0, and the concentration with those entries
        replaced by 1, so that the c != 0 branch stays finite (and its gradient too).
        zero_dtype=None compares with a default-dtype 0, as PyTorch's log_prob and
        log_survival_function do: like theirs, they raise for parameters of another dtype."""
        zero = nbgrad.tensor(0.0, dtype=zero_dtype, device=self.concentration.device)
        eq_zero = nbgrad.isclose(self.concentration, zero)
        safe = nbgrad.where(eq_zero, nbgrad.ones_like(self.concentration), self.concentration)
        return eq_zero, safe

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + nbgrad.ones_like(z)
        where_nonzero = nbgrad.where(y == 0, y, y * nbgrad.log1p(safe_conc * z))
        return -self.scale.log() - nbgrad.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -nbgrad.log1p(safe_conc * z) / safe_conc
        return nbgrad.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return nbgrad.log1p(-nbgrad.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return nbgrad.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_concentration(self.concentration.dtype)
        logu = nbgrad.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * nbgrad.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return nbgrad.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1        # infinite mean otherwise (NaN, as PyTorch)
        safe_conc = nbgrad.where(valid, self.concentration, 0.5)
        return nbgrad.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = nbgrad.where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return nbgrad.where(valid, result, math.nan)

    def entropy(self):
        return nbgrad.broadcast_to(nbgrad.log(self.scale) + self.concentration + 1,
                                  self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        # [loc, loc - scale / c] for c < 0, [loc, inf) otherwise
        lower = self.loc
        upper = nbgrad.where(self.concentration < 0, lower - self.scale / self.concentration,
                            math.inf)
        return constraints.interval(lower, upper)
