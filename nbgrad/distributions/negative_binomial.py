"""NegativeBinomial(total_count, probs or logits): the number of successes before total_count
failures, each trial a success with probability p (total_count may be any non-negative real)."""
import nbgrad
import nbgrad.nn.functional as F
from . import constraints
from ._discrete_helpers import (BinaryProbsOrLogits, GivenParam, expand_probs_or_logits,
                                set_count_and_probs_or_logits)
from .distribution import Distribution
from .gamma import Gamma
from .utils import lazy_property

__all__ = ['NegativeBinomial']


class NegativeBinomial(BinaryProbsOrLogits, GivenParam, Distribution):
    """Args: total_count (float or Tensor): the number of failures, non-negative; probs (Tensor):
    the success probability, in [0, 1); logits (Tensor): its log-odds (give exactly one);
    validate_args (bool, optional)."""
    arg_constraints = {'total_count': constraints.greater_than_eq(0),
                       'probs': constraints.half_open_interval(0.0, 1.0),
                       'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        batch_shape = set_count_and_probs_or_logits(self, total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        expand_probs_or_logits(self, new, batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.total_count * nbgrad.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / nbgrad.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=nbgrad.exp(-self.logits),
                     validate_args=False)

    def sample(self, sample_shape=nbgrad.Size()):
        # a Poisson whose rate is Gamma(total_count, (1 - p) / p): the gamma-Poisson mixture
        with nbgrad.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return nbgrad.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = (self.total_count * F.logsigmoid(-self.logits)
                                 + value * F.logsigmoid(self.logits))
        log_normalization = (-nbgrad.lgamma(self.total_count + value) + nbgrad.lgamma(1.0 + value)
                             + nbgrad.lgamma(self.total_count))
        # total_count + value == 0 is a degenerate distribution whose one value has log_prob 0
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
