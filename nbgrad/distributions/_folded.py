"""The shared body of HalfNormal and HalfCauchy: a symmetric base distribution centred at 0,
folded onto [0, inf) by AbsTransform, so its density doubles there.

A class decorator rather than a common base class: PyTorch's HalfNormal and HalfCauchy derive
from TransformedDistribution directly, and code that looks at __bases__ or __mro__ (or registers
KL divergences by class) sees the same hierarchy here."""
import math

import nbgrad
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


def folded_at_zero(base_family, value_as_tensor=False):
    """Decorate a TransformedDistribution subclass into |X| for X ~ base_family(0, scale).
    value_as_tensor: log_prob first converts its value to a tensor (HalfCauchy's does)."""
    def __init__(self, scale, validate_args=None):
        # the base is not validated: its scale is checked as this distribution's own parameter
        base_dist = base_family(0, scale, validate_args=False)
        TransformedDistribution.__init__(self, base_dist, AbsTransform(),
                                         validate_args=validate_args)

    def decorate(cls):
        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(cls, _instance)
            return TransformedDistribution.expand(self, batch_shape, _instance=new)

        members = dict(arg_constraints={'scale': constraints.positive},
                       support=constraints.nonnegative, has_rsample=True, __init__=__init__,
                       expand=expand, scale=property(_scale), mode=property(_mode),
                       log_prob=_log_prob_maker(value_as_tensor), cdf=_cdf, icdf=_icdf,
                       entropy=_entropy)
        for name, member in members.items():
            if name not in vars(cls):
                if callable(member) and not isinstance(member, type):
                    member.__qualname__ = f'{cls.__name__}.{name}'
                setattr(cls, name, member)
        return cls
    return decorate


def _scale(self):
    return self.base_dist.scale


def _mode(self):
    return nbgrad.zeros_like(self.scale)


def _log_prob_maker(value_as_tensor):
    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        if value_as_tensor:
            value = nbgrad.as_tensor(value, dtype=self.base_dist.scale.dtype,
                                     device=self.base_dist.scale.device)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return nbgrad.where(value >= 0, log_prob, -math.inf)
    return log_prob


def _cdf(self, value):
    if self._validate_args:
        self._validate_sample(value)
    return 2 * self.base_dist.cdf(value) - 1


def _icdf(self, prob):
    return self.base_dist.icdf((prob + 1) / 2)


def _entropy(self):
    return self.base_dist.entropy() - math.log(2)
