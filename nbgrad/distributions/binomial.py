"""Binomial(total_count, probs or logits): the number of successes in total_count trials."""
import nbgrad
from . import constraints
from ._discrete_helpers import (BinaryProbsOrLogits, GivenParam, enumerate_integers,
                                expand_probs_or_logits, set_count_and_probs_or_logits)
from .distribution import Distribution

__all__ = ['Binomial']


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (the mean of the one-sided gradients)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryProbsOrLogits, GivenParam, Distribution):
    """Args: total_count (int or Tensor): the number of trials, broadcastable with probs/logits;
    probs (Tensor): the success probability; logits (Tensor): its log-odds (give exactly one);
    validate_args (bool, optional)."""
    arg_constraints = {'total_count': constraints.nonnegative_integer,
                       'probs': constraints.unit_interval,
                       'logits': constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        batch_shape = set_count_and_probs_or_logits(self, total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        expand_probs_or_logits(self, new, batch_shape)
        super(Binomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        with nbgrad.no_grad():
            return nbgrad.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = nbgrad.lgamma(self.total_count + 1)
        log_factorial_k = nbgrad.lgamma(value + 1)
        log_factorial_nmk = nbgrad.lgamma(self.total_count - value + 1)
        # n * log(1 + exp(logits)), written to stay finite for large |logits|
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * nbgrad.log1p(nbgrad.exp(-nbgrad.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = self._homogeneous_total_count('entropy')
        log_prob = self.log_prob(enumerate_integers(self, 1 + total_count, False))
        return -(nbgrad.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = self._homogeneous_total_count('enumerate_support')
        return enumerate_integers(self, 1 + total_count, expand)

    def _homogeneous_total_count(self, method):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(f'Inhomogeneous total count not supported by `{method}`.')
        return total_count
