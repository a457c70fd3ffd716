"""Categorical(probs or logits): an index in 0 .. K-1, drawn with the (normalised) weights of the
last dimension."""
import nbgrad
from . import constraints
from ._discrete_helpers import (check_exactly_one, enumerate_integers, expand_probs_or_logits,
                                new_like)
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ['Categorical']


class Categorical(Distribution):
    """Args: probs (Tensor): non-negative, finite weights with a non-zero sum along the last dim
    (normalised to sum to 1); logits (Tensor): unnormalised log-probabilities (normalised by
    logsumexp); give exactly one; validate_args (bool, optional)."""
    arg_constraints = {'probs': constraints.simplex, 'logits': constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        check_exactly_one(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError('`probs` parameter must be at least one-dimensional.')
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError('`logits` parameter must be at least one-dimensional.')
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndimension() > 1 else nbgrad.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        expand_probs_or_logits(self, new, batch_shape + nbgrad.Size((self._num_events,)))
        new._num_events = self._num_events
        super(Categorical, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return new_like(self._param, *args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):     # undefined for categories
        return nbgrad.full(self._extended_shape(), float('nan'), dtype=self.probs.dtype,
                          device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return nbgrad.full(self._extended_shape(), float('nan'), dtype=self.probs.dtype,
                          device=self.probs.device)

    def sample(self, sample_shape=nbgrad.Size()):
        # one multinomial call drawing all samples for each batch row, as PyTorch does (so a
        # seeded sample gives PyTorch's numbers)
        if not isinstance(sample_shape, nbgrad.Size):
            sample_shape = nbgrad.Size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        samples_2d = nbgrad.multinomial(probs_2d, sample_shape.numel(), True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = nbgrad.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        # logits of zero-probability categories are -inf; clamping them makes 0 * logit = 0
        min_real = nbgrad.finfo(self.logits.dtype).min
        logits = nbgrad.clamp(self.logits, min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        return enumerate_integers(self, self._num_events, expand, dtype=nbgrad.long)
