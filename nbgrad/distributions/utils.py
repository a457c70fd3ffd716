"""Helpers shared by the distributions: broadcasting parameters, probs/logits conversions, lazy
properties, standard-normal draws and the lower-triangular packing used by the matrix families."""
from functools import update_wrapper

import nbgrad
import nbgrad.nn.functional as F

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant

__all__ = [
    'broadcast_all',
    'logits_to_probs',
    'clamp_probs',
    'probs_to_logits',
    'lazy_property',
    'tril_matrix_to_vec',
    'vec_to_tril_matrix',
]

_NUMBER_TYPES = (int, float, bool)  # torch.types._Number


def _is_tensor_like(value):
    return isinstance(value, nbgrad.Tensor) or hasattr(type(value), '__torch_function__')


def broadcast_all(*values):
    """Broadcast tensors and numbers together. Numbers become tensors with the dtype and device of
    the first tensor among `values` (the default dtype when there is none)."""
    if not all(_is_tensor_like(v) or isinstance(v, _NUMBER_TYPES) for v in values):
        raise ValueError('Input arguments must all be instances of Number, '
                         'torch.Tensor or objects implementing __torch_function__.')
    if not all(_is_tensor_like(v) for v in values):
        options = dict(dtype=nbgrad.get_default_dtype())
        for value in values:
            if isinstance(value, nbgrad.Tensor):
                options = dict(dtype=value.dtype, device=value.device)
                break
        values = [v if _is_tensor_like(v) else nbgrad.tensor(v, **options) for v in values]
    broadcast = nbgrad.broadcast_tensors(*values)
    # as PyTorch's broadcast_tensors, a tensor that already has the broadcast shape comes back
    # itself (not an expanded view), so a distribution's parameter is the user's tensor
    return tuple(v if isinstance(v, nbgrad.Tensor) and v.shape == b.shape else b
                 for v, b in zip(values, broadcast))


def _standard_normal(shape, dtype, device):
    return nbgrad.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Log-odds (is_binary) or unnormalised log-probabilities along the last dim ->
    probabilities."""
    if is_binary:
        return nbgrad.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp probabilities into [eps, 1 - eps], eps being the dtype's machine epsilon."""
    eps = nbgrad.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Probabilities -> log-odds (is_binary) or log-probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return nbgrad.log(ps_clamped) - nbgrad.log1p(-ps_clamped)
    return nbgrad.log(ps_clamped)


class lazy_property:
    """A method computed on first access and then stored as an instance attribute (a non-data
    descriptor, so the stored value shadows it)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        # computed with grad on, so the cached value stays differentiable even when first read
        # inside no_grad (as sample() does)
        with nbgrad.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """Read on the class: looks like a property (documentation tools) and a lazy_property
    (Distribution's argument validation skips lazy arguments not computed yet)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag, device):
    arange = nbgrad.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries (below diagonal `diag`) of a (batch of) square matrix, row
    by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f'diag ({diag}) provided is outside [{-n}, {n - 1}].')
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: a (batch of) D x D lower-triangular matrix."""
    # the positive root of D**2 + (1+2*diag)*D - |diag|*(diag+1) - 2*vec.shape[-1] = 0
    n = (-(1 + 2 * diag)
         + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = nbgrad.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f'The size of last dimension is {vec.shape[-1]} which cannot be expressed '
                         'as the lower triangular part of a square D x D matrix.')
    n = round(n)
    mat = vec.new_zeros(vec.shape[:-1] + nbgrad.Size((n, n)))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat
