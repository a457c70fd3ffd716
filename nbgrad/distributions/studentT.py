"""Student's t distribution with df degrees of freedom, location loc and scale."""
import math

import nbgrad
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ['StudentT']


class StudentT(Distribution):
    """StudentT(df, loc=0, scale=1): loc + scale * N(0, 1) / sqrt(Chi2(df) / df)."""
    arg_constraints = {'df': constraints.positive, 'loc': constraints.real,
                       'scale': constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(StudentT, batch_shape, _instance, ('df', 'loc', 'scale', '_chi2'))

    @property
    def mean(self):
        # undefined (NaN) for df <= 1
        return nbgrad.where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        # infinite for 1 < df <= 2, undefined (NaN) for df <= 1
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        return nbgrad.where(self.df > 2, finite, nbgrad.where(self.df > 1, math.inf, math.nan))

    def rsample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        X = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        Z = self._chi2.rsample(sample_shape)
        Y = X * nbgrad.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + nbgrad.lgamma(0.5 * self.df) - nbgrad.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * nbgrad.log1p(y ** 2.0 / self.df) - Z

    def entropy(self):
        lbeta = (nbgrad.lgamma(0.5 * self.df) + math.lgamma(0.5)
                 - nbgrad.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log()
                + 0.5 * (self.df + 1)
                * (nbgrad.digamma(0.5 * (self.df + 1)) - nbgrad.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
