"""Distribution: the abstract base class of every probability distribution (shapes, argument and
sample validation, sample/rsample, the moments and the method names subclasses fill in)."""
import warnings

import nbgrad
from . import constraints
from .utils import lazy_property

__all__ = ['Distribution']


def _all_true(valid):
    return bool(valid.all())


class Distribution:
    """Args: batch_shape (torch.Size): the shape over which parameters are batched;
    event_shape (torch.Size): the shape of one sample; validate_args (bool, optional): whether to
    validate parameters and values (default: the class-wide setting, on unless python -O)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=nbgrad.Size(), event_shape=nbgrad.Size(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_parameters()
        super().__init__()

    def _validate_parameters(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f'{self.__class__} does not define `arg_constraints`. '
                          'Please set `arg_constraints = {}` or initialize the distribution '
                          'with `validate_args=False` to turn off validation.', stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # cannot be checked
            if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                continue  # a lazily computed parameter the user did not give
            value = getattr(self, param)
            if not _all_true(constraint.check(value)):
                raise ValueError(f'Expected parameter {param} '
                                 f'({type(value).__name__} of shape {tuple(value.shape)}) '
                                 f'of distribution {repr(self)} '
                                 f'to satisfy the constraint {repr(constraint)}, '
                                 f'but found invalid values:\n{value}')

    def expand(self, batch_shape, _instance=None):
        """A new distribution (or `_instance`, filled in by a subclass) with its parameters
        expanded to `batch_shape` (views, no copies; no validation repeated)."""
        raise NotImplementedError

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def arg_constraints(self):
        """A dict from parameter names to the Constraint each must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The Constraint describing the distribution's support."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f'{self.__class__} does not implement mode')

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=nbgrad.Size()):
        """A sample of shape sample_shape + batch_shape + event_shape, not differentiable."""
        with nbgrad.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=nbgrad.Size()):
        """A reparameterised sample: differentiable with respect to the parameters."""
        raise NotImplementedError

    def sample_n(self, n):
        """Deprecated: sample((n,))."""
        warnings.warn('`sample_n(n)` will be deprecated. Use `sample((n,))` instead.',
                      FutureWarning, stacklevel=2)
        return self.sample(nbgrad.Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """All values of a discrete distribution along dim 0: shape (cardinality,) + batch_shape
        + event_shape, or with singleton batch dims when expand=False."""
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return nbgrad.exp(self.entropy())

    def _extended_shape(self, sample_shape=nbgrad.Size()):
        """sample_shape + batch_shape + event_shape."""
        if not isinstance(sample_shape, nbgrad.Size):
            sample_shape = nbgrad.Size(sample_shape)
        return nbgrad.Size(sample_shape + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        """Check a value given to log_prob/cdf/icdf: a tensor whose rightmost dims match the
        event shape, broadcastable with the batch shape, and within the support."""
        if not isinstance(value, nbgrad.Tensor):
            raise ValueError('The value argument to log_prob must be a Tensor')

        event_dim_start = len(value.size()) - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError('The right-most size of value must match event_shape: '
                             f'{value.size()} vs {self._event_shape}.')

        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError('Value is not broadcastable with batch_shape+event_shape: '
                                 f'{actual_shape} vs {expected_shape}.')
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f'{self.__class__} does not define `support` to enable '
                          'sample validation. Please initialize the distribution with '
                          '`validate_args=False` to turn off validation.', stacklevel=2)
            return
        if support is None:
            raise AssertionError('support is unexpectedly None')
        if not _all_true(support.check(value)):
            raise ValueError('Expected value argument '
                             f'({type(value).__name__} of shape {tuple(value.shape)}) '
                             f'to be within the support ({repr(support)}) '
                             f'of the distribution {repr(self)}, '
                             f'but found invalid values:\n{value}')

    def _get_checked_instance(self, cls, _instance=None):
        """The object expand() fills in: `_instance`, or a bare instance of type(self) (refused
        when a subclass has its own __init__ but no expand of its own)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f'Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom '
                '__init__ method must also define a custom .expand() method.')
        return self.__new__(type(self)) if _instance is None else _instance

    def _expand_parameters(self, cls, batch_shape, _instance, names):
        """expand() of a family whose parameters `names` have the batch shape (no event dims):
        a new instance of cls (or _instance) whose parameters are this one's expanded (views),
        set up without validating them again, with this one's validate_args."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = nbgrad.Size(batch_shape)
        for name in names:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        super(cls, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self):
        params = [k for k in self.arg_constraints if k in self.__dict__]
        values = [self.__dict__[p] for p in params]
        shown = [f'{p}: {v if v.numel() == 1 else v.size()}' for p, v in zip(params, values)]
        return self.__class__.__name__ + '(' + ', '.join(shown) + ')'
