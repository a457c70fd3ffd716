"""The shared body of HalfNormal and HalfCauchy: a symmetric base distribution centred at 0,
folded onto [0, inf) by AbsTransform, so its density doubles there."""
import math

import nbgrad
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class _FoldedAtZero(TransformedDistribution):
    """|X| for X ~ base(0, scale); subclasses give base_family and the moments."""
    arg_constraints = {'scale': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base_family = None  # the symmetric family X is drawn from, called as base_family(0, scale)
    _value_as_tensor = False  # whether log_prob first converts value (HalfCauchy's does)

    def __init__(self, scale, validate_args=None):
        # the base is not validated: its scale is checked as this distribution's own parameter
        base_dist = self.base_family(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        # checked against the public class (HalfNormal, HalfCauchy), as PyTorch's expand is
        public = next(c for c in type(self).__mro__ if _FoldedAtZero in c.__bases__)
        new = self._get_checked_instance(public, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return nbgrad.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        if self._value_as_tensor:
            value = nbgrad.as_tensor(value, dtype=self.base_dist.scale.dtype,
                                    device=self.base_dist.scale.device)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return nbgrad.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
