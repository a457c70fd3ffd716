"""Covariance and correlation matrices (torch.cov, torch.corrcoef), composed from differentiable
tensor ops as PyTorch composes them (aten/src/ATen/native/Correlation.cpp), so values, dtypes
and gradients are PyTorch's."""
import warnings

from .. import _dtype
from .._tensor import Tensor
from ._util import as_operand


def _type_word(t):
    from .._dispatch import _type_word as word
    return word(t._data.dtype)


def _check_weights(w, name, integral, observations):
    if w.dim() > 1:
        raise RuntimeError(f'cov(): expected {name} to have one or fewer dimensions but got '
                           f'{name} with {w.dim()} dimensions')
    kind = w._data.dtype.kind
    if integral and kind not in 'iu':
        raise RuntimeError(f'cov(): expected {name} to have integral dtype but got {name} with '
                           f'{_type_word(w)} dtype')
    if not integral and kind not in _dtype.FLOATING_KINDS:
        raise RuntimeError(f'cov(): expected {name} to have floating point dtype but got {name} '
                           f'with {_type_word(w)} dtype')
    if w.numel() != observations:
        raise RuntimeError(f'cov(): expected {name} to have the same numel as there are '
                           f'observations in the input but got {w.numel()} != {observations}')
    if observations and bool((w.min() < 0).item()):
        raise RuntimeError(f'cov(): {name} cannot be negative')


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows of input (variables) over its columns (observations), weighted by
    fweights (integer frequencies) and aweights (float weights)."""
    if input.dim() > 2:
        raise RuntimeError(f'cov(): expected input to have two or fewer dimensions but got an '
                           f'input with {input.dim()} dimensions')
    if input._data.dtype.kind == 'b':
        raise RuntimeError('cov(): bool dtype is not supported for input')
    x = input.reshape(1, -1) if input.dim() < 2 else input
    observations = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights(fweights, 'fweights', True, observations)
        w = fweights
    if aweights is not None:
        _check_weights(aweights, 'aweights', False, observations)
        w = aweights if w is None else w * aweights
    if w is None:
        from .._creation import scalar_tensor
        w_sum = scalar_tensor(observations, dtype=_dtype.int64, device=x.device)
    else:
        w_sum = w.sum()
        if not bool((w_sum != 0).item()):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if bool((as_operand(norm_factor) <= 0).item()):
        warnings.warn('cov(): degrees of freedom is <= 0. Correction should be strictly less '
                      'than the number of observations.', UserWarning, stacklevel=2)
        norm_factor = abs(norm_factor * 0)      # +0 (PyTorch clamps it): c / 0 keeps c's sign
    x = x - avg.unsqueeze(1)
    c = x.mm((x if w is None else x * w).t().conj())
    return (c / norm_factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the rows of input, clipped to [-1, 1]."""
    if input.dim() > 2:
        raise RuntimeError(f'corrcoef(): expected input to have two or fewer dimensions but got '
                           f'an input with {input.dim()} dimensions')
    c = cov(input)
    if c.dim() == 0:
        return c / c    # nan for a variance of nan, inf or 0; 1 otherwise
    d = c.diagonal()
    stddev = (d.real if d.is_complex() else d).sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    if c.is_complex():
        from .complex_ops import complex as make_complex
        return make_complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


Tensor.cov = cov
Tensor.corrcoef = corrcoef

__all__ = ['cov', 'corrcoef']
