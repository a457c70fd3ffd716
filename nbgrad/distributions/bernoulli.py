"""Bernoulli(probs or logits): 1 with probability p, 0 otherwise."""
import nbgrad
from nbgrad.nn.functional import binary_cross_entropy_with_logits
from . import constraints
from ._discrete_helpers import (BinaryProbsOrLogits, GivenParam, enumerate_integers,
                                expand_probs_or_logits, set_probs_or_logits)
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ['Bernoulli']


class Bernoulli(BinaryProbsOrLogits, GivenParam, ExponentialFamily):
    """Args: probs (Number, Tensor): the probability of 1; logits (Number, Tensor): its
    log-odds (give exactly one); validate_args (bool, optional)."""
    arg_constraints = {'probs': constraints.unit_interval, 'logits': constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        batch_shape = set_probs_or_logits(self, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        expand_probs_or_logits(self, new, batch_shape)
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs)
        mode[self.probs == 0.5] = float('nan')     # both values are modes
        return mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=nbgrad.Size()):
        shape = self._extended_shape(sample_shape)
        with nbgrad.no_grad():
            return nbgrad.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction='none')

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction='none')

    def enumerate_support(self, expand=True):
        return enumerate_integers(self, 2, expand)

    @property
    def _natural_params(self):
        return (nbgrad.logit(self.probs),)

    def _log_normalizer(self, x):
        return nbgrad.log1p(nbgrad.exp(x))

