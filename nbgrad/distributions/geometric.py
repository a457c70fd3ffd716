"""Geometric(probs or logits): the number of failures before the first success,
P(k) = (1 - p)**k p for k = 0, 1, ... (Tensor.geometric_ counts the trials instead, from 1)."""
import nbgrad
from nbgrad.nn.functional import binary_cross_entropy_with_logits
from . import constraints
from ._discrete_helpers import BinaryProbsOrLogits, expand_probs_or_logits, set_probs_or_logits
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ['Geometric']


class Geometric(BinaryProbsOrLogits, Distribution):
    """Args: probs (Number, Tensor): the success probability, in (0, 1]; logits (Number,
    Tensor): its log-odds (give exactly one); validate_args (bool, optional)."""
    arg_constraints = {'probs': constraints.unit_interval, 'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        batch_shape = set_probs_or_logits(self, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            # unit_interval admits 0, which has no geometric distribution
            value = self.probs
            valid = value > 0
            if not valid.all():
                invalid_value = value.data[~valid]
                raise ValueError('Expected parameter probs '
                                 f'({type(value).__name__} of shape {tuple(value.shape)}) '
                                 f'of distribution {repr(self)} '
                                 f'to be positive but found invalid values:\n{invalid_value}')

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        expand_probs_or_logits(self, new, batch_shape)
        super(Geometric, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return nbgrad.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=nbgrad.Size()):
        # inversion: floor(log(u) / log(1 - p)), u kept off 0 (log(0) = -inf)
        shape = self._extended_shape(sample_shape)
        tiny = nbgrad.finfo(self.probs.dtype).tiny
        with nbgrad.no_grad():
            u = self.probs.new_empty(shape).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone(memory_format=nbgrad.contiguous_format)
        probs[(probs == 1) & (value == 0)] = 0      # 0 * log(0) counts as 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction='none') / self.probs
