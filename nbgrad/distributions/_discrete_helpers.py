"""Helpers shared by the discrete families: the probs-or-logits parameterisation (exactly one is
given, the other computed on first use; expand() carries over whichever exists), Tensor.new for
_new, and the enumerated support of integer-valued families."""
import nbgrad
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ['check_exactly_one', 'set_probs_or_logits', 'set_count_and_probs_or_logits',
           'is_number', 'new_like', 'expand_probs_or_logits', 'BinaryProbsOrLogits', 'GivenParam',
           'enumerate_integers']


def check_exactly_one(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError('Either `probs` or `logits` must be specified, but not both.')


def set_probs_or_logits(dist, probs, logits):
    """Store the one given (as a tensor) as dist.probs or dist.logits and dist._param; returns
    the batch shape: () for a Python number, else the tensor's shape."""
    check_exactly_one(probs, logits)
    given = probs if probs is not None else logits
    (dist._param,) = broadcast_all(given)
    setattr(dist, 'probs' if probs is not None else 'logits', dist._param)
    return nbgrad.Size() if is_number(given) else dist._param.size()


def set_count_and_probs_or_logits(dist, total_count, probs, logits):
    """As set_probs_or_logits, with dist.total_count broadcast with it (and of its dtype);
    returns the broadcast shape."""
    check_exactly_one(probs, logits)
    total_count, dist._param = broadcast_all(total_count,
                                             probs if probs is not None else logits)
    dist.total_count = total_count.type_as(dist._param)
    setattr(dist, 'probs' if probs is not None else 'logits', dist._param)
    return dist._param.size()


def is_number(value):
    """torch.types._Number: a Python int, float or bool (such a parameter gives batch_shape ())."""
    return isinstance(value, (int, float, bool))


def new_like(param, *args, **kwargs):
    """Tensor.new(*args) with param's dtype and device: sizes as ints or a torch.Size give an
    uninitialised tensor, other data (a list, a tuple) a tensor of those values."""
    if all(isinstance(a, int) for a in args):
        return param.new_empty(args, **kwargs)
    if len(args) == 1 and isinstance(args[0], nbgrad.Size):
        return param.new_empty(args[0], **kwargs)
    return param.new_tensor(*args, **kwargs)


def expand_probs_or_logits(source, new, param_shape):
    """Give `new` whichever of source's probs and logits exist (given or already computed),
    expanded to param_shape, with new._param the last of them (PyTorch's order)."""
    for name in ('probs', 'logits'):
        if name in source.__dict__:
            setattr(new, name, source.__dict__[name].expand(param_shape))
            new._param = new.__dict__[name]


class BinaryProbsOrLogits:
    """Mixin of the families with one success probability: probs in [0, 1] or logits, its
    log-odds (Bernoulli, Binomial, Geometric, NegativeBinomial, LogitRelaxedBernoulli)."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)


class GivenParam:
    """Mixin exposing the parameter the family was given (self._param): its shape and
    tensors like it (all of them but Geometric, as in PyTorch)."""

    @property
    def param_shape(self):
        return self._param.size()

    def _new(self, *args, **kwargs):
        return new_like(self._param, *args, **kwargs)


def enumerate_integers(dist, count, expand, dtype=None):
    """0 .. count-1 along a new leading dim followed by dist's batch shape (singleton dims, or
    the full shape with expand): the enumerated support of a scalar-event discrete family."""
    values = nbgrad.arange(count, dtype=dist._param.dtype if dtype is None else dtype,
                          device=dist._param.device)
    values = values.view((-1,) + (1,) * len(dist._batch_shape))
    if expand:
        values = values.expand((-1,) + dist._batch_shape)
    return values
