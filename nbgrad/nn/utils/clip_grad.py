"""PyTorch's gradient clipping: clip_grad_norm_, clip_grad_value_, and the two halves of
clip_grad_norm_ (get_total_norm, clip_grads_with_norm_). They run under no_grad and change the
.grad tensors in place.

foreach is accepted and changes nothing: nbgrad has no fused multi-tensor kernels, and every
device nbgrad has (CPU, CUDA) is one where PyTorch accepts foreach=True.
"""
import functools
import types
import warnings

import nbgrad

from ..._tensor import Tensor

__all__ = ['clip_grad_norm', 'clip_grad_norm_', 'clip_grad_value_', 'get_total_norm',
           'clip_grads_with_norm_']


def _no_grad(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with nbgrad.no_grad():
            return func(*args, **kwargs)
    return wrapper


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all the tensors together, as if concatenated into one vector."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return nbgrad.tensor(0.0)
    first_device = tensors[0].device
    norms = [nbgrad.linalg.vector_norm(t, norm_type).to(first_device) for t in tensors]
    total_norm = nbgrad.linalg.vector_norm(nbgrad.stack(norms), norm_type)
    if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
        raise RuntimeError(f'The total norm of order {norm_type} for gradients from `parameters` '
                           f'is non-finite, so it cannot be clipped. To disable this error and '
                           f'scale the gradients by the non-finite norm anyway, set '
                           f'`error_if_nonfinite=False`')
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by max_norm / (total_norm + 1e-6) where that is below 1."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    clip_coef_clamped = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(clip_coef_clamped.to(g.device))


_get_total_norm = get_total_norm  # PyTorch's private names for the same functions
_clip_grads_with_norm_ = clip_grads_with_norm_


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of `parameters` so that their total norm is at most max_norm;
    return the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn('`parameters` is an empty generator, no gradient clipping will occur.',
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn('`torch.nn.utils.clip_grad_norm` is now deprecated in favor of '
                  '`torch.nn.utils.clip_grad_norm_`.', FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of `parameters` into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    for grad in grads:
        grad.clamp_(min=-clip_value, max=clip_value)
