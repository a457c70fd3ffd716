"""The Fisher-Snedecor (F) distribution with df1 and df2 degrees of freedom."""
import nbgrad
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ['FisherSnedecor']


def _nan_where(condition, value):
    """value with NaN where condition holds (the moment does not exist there)."""
    return nbgrad.where(condition, nbgrad.full_like(value, float('nan')), value)


class FisherSnedecor(Distribution):
    """FisherSnedecor(df1, df2): the ratio (X1 / df1) / (X2 / df2) of independent chi-squared
    variables with df1 and df2 degrees of freedom. rsample draws both through Gamma's."""
    arg_constraints = {'df1': constraints.positive, 'df2': constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        # X / df for X ~ Chi2(df) is Gamma(df / 2, rate df / 2); PyTorch scales both rates by 2,
        # which cancels in the ratio. (Like PyTorch, these validate with the default setting.)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        batch_shape = self.df1.size()   # () when all are numbers (0-d tensors)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(FisherSnedecor, batch_shape, _instance, ('df1', 'df2', '_gamma1', '_gamma2'))

    @property
    def mean(self):
        df2 = _nan_where(self.df2 <= 2, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return _nan_where(self.df1 <= 2, mode)

    @property
    def variance(self):
        df2 = _nan_where(self.df2 <= 4, self.df2)
        return (2 * df2.pow(2) * (self.df1 + df2 - 2)
                / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))

    def rsample(self, sample_shape=nbgrad.Size(())):
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).view(shape)
        x2 = self._gamma2.rsample(sample_shape).view(shape)
        # keep the ratio finite and positive where a Gamma draw underflowed to 0
        tiny = nbgrad.finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        half1, half2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        log_normalizer = (half1 + half2).lgamma() - half1.lgamma() - half2.lgamma()
        return (log_normalizer + half1 * ratio.log() + (half1 - 1) * nbgrad.log(value)
                - (half1 + half2) * nbgrad.log1p(ratio * value))
