"""The KL-divergence registry: register_kl(TypeP, TypeQ) decorates a closed form, and
kl_divergence(p, q) calls the most specific registered match for (type(p), type(q)).

The closed forms live next to the families they concern (_kl_core.py, _kl_continuous.py,
_kl_discrete.py); the one here, for two members of the same exponential family, is generic.
"""
import warnings
from functools import total_ordering

import nbgrad
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import _sum_rightmost

__all__ = ['register_kl', 'kl_divergence']

_KL_REGISTRY = {}  # the source of truth: a few general (type_p, type_q) pairs -> functions
_KL_MEMOIZE = {}  # the lookups made so far: many specific (type_p, type_q) pairs -> functions


def register_kl(type_p, type_q):
    """Decorator registering a function kl(p, q) for kl_divergence, e.g.

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ...

    Lookup picks the most specific match ordered by subclass; when that is ambiguous (one match
    more specific in p, another in q) it warns (RuntimeWarning): register the more specific pair
    to break the tie."""
    # PyTorch's check: `not isinstance(t, type) and issubclass(t, ...)`, so a non-class raises
    # issubclass's own TypeError
    for name, cls in (('type_p', type_p), ('type_q', type_q)):
        if not isinstance(cls, type) and issubclass(cls, Distribution):
            raise TypeError(f'Expected {name} to be a Distribution subclass but got {cls}')

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()  # a new registration may change what the lookups find
        return fun

    return decorator


@total_ordering
class _Match:
    """A registered (type_p, type_q) pair, ordered lexicographically by specificity."""
    __slots__ = ['types']

    def __init__(self, *types):
        self.types = types

    def __eq__(self, other):
        return self.types == other.types

    def __le__(self, other):
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p, type_q):
    """The most specific registered match (assuming single inheritance), or NotImplemented."""
    matches = [(super_p, super_q) for super_p, super_q in _KL_REGISTRY
               if issubclass(type_p, super_p) and issubclass(type_q, super_q)]
    if not matches:
        return NotImplemented
    # the most specific match by p first and by q first must agree, or the choice is ambiguous
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun = _KL_REGISTRY[left_p, left_q]
    right_fun = _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(f'Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). '
                      f'Please register_kl({left_p.__name__}, {right_q.__name__})',
                      RuntimeWarning, stacklevel=2)
    return left_fun


def kl_divergence(p, q):
    """KL(p || q) = integral of p(x) log(p(x) / q(x)), a tensor of the batch shape.

    Raises NotImplementedError when no pair matching (type(p), type(q)) is registered."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(f'No KL(p || q) is implemented for p type {p.__class__.__name__} '
                                  f'and q type {q.__class__.__name__}')
    return fun(p, q)


def _infinite_like(tensor):
    """The KL divergence where q's support misses part of p's: +inf everywhere."""
    return nbgrad.full_like(tensor, float('inf'))


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """A Bregman divergence of the log normaliser F: F(theta_q) - F(theta_p)
    - <theta_q - theta_p, grad F(theta_p)>."""
    if type(p) is not type(q):
        raise NotImplementedError('The cross KL-divergence between different exponential families '
                                  'cannot                             be computed using Bregman '
                                  'divergences')
    p_nparams = [param.detach().requires_grad_() for param in p._natural_params]
    q_nparams = q._natural_params
    lg_normal = p._log_normalizer(*p_nparams)
    gradients = nbgrad.autograd.grad(lg_normal.sum(), p_nparams, create_graph=True)
    result = q._log_normalizer(*q_nparams) - lg_normal
    for p_param, q_param, grad in zip(p_nparams, q_nparams, gradients):
        result -= _sum_rightmost((q_param - p_param) * grad, len(q.event_shape))
    return result
