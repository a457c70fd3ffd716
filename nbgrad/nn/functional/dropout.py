"""Dropout functions: dropout, alpha_dropout, feature_alpha_dropout, dropout1d/2d/3d.

They follow ATen's _dropout_impl step for step: the noise tensor is made with the same shape and
dtype and filled by the same `bernoulli_(1 - p)` call, then scaled the same way, so after
manual_seed the masks on the CPU are PyTorch's (nbgrad's generator reproduces PyTorch's stream).
The result is `input * noise` (MulBackward0) or, for alpha dropout, `input * noise + b`
(AddBackward0), as in PyTorch.
"""
import math
import warnings

from ..._profiled_calls import profiled_call
from ... import _creation

__all__ = ['dropout', 'alpha_dropout', 'feature_alpha_dropout', 'dropout1d', 'dropout2d',
           'dropout3d']

# -SELU's negative saturation value, scale * alpha: alpha dropout sets dropped units to it
_SELU_SATURATION = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f'dropout probability has to be between 0 and 1, but got {p}')


def _dropout_impl(input, p, train, inplace, feature=False, alpha=False):
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:  # a product (not zeros) so NaN stays NaN, as in PyTorch
        zero = _creation.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if feature:
        if input.dim() < 2:
            raise RuntimeError(f'Feature dropout requires at least 2 dimensions in the input '
                               f'(N, C, ...), got a {input.dim()}-D input')
        noise = input.new_empty(tuple(input.shape[:2]) + (1,) * (input.dim() - 2))
    else:
        noise = _creation.empty_like(input)
    noise.bernoulli_(1 - p)
    if not alpha:
        noise.div_(1 - p)
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    shift = noise.add(-1).mul_(_SELU_SATURATION * a).add_(_SELU_SATURATION * a * p)
    noise.mul_(a)
    return (input.mul_(noise) if inplace else input * noise).add_(shift)


@profiled_call('aten::dropout')
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's saturation value and the result is
    scaled and shifted to keep zero mean and unit variance."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (one draw per (sample, channel))."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


# dropout{n}d: the input dims it takes without and with a batch dim
_CHANNEL_DROPOUT = {1: (2, 3), 2: (3, 4), 3: (4, 5)}


def _channel_dropout(n, input, p, training, inplace):
    """Zero whole channels of an input with n spatial dims and an optional batch dim."""
    _check_p(p)
    ndim = input.dim()
    unbatched, batched = _CHANNEL_DROPOUT[n]
    name = f'dropout{n}d'
    if n == 1 and ndim not in (unbatched, batched):
        raise RuntimeError(
            f'dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that '
            'dropout1d exists to provide channel-wise dropout on inputs with 1 spatial '
            'dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D '
            'inputs).')
    if n > 1 and ndim not in (unbatched, batched):
        warnings.warn(
            f'{name}: Received a {ndim}-D input to {name}, which is deprecated and will result '
            f'in an error in a future release. To retain the behavior and silence this warning, '
            f'please use dropout instead. Note that {name} exists to provide channel-wise '
            f'dropout on inputs with {n} spatial dimensions, a channel dimension, and an '
            f'optional batch dimension (i.e. {unbatched}D or {batched}D inputs).', stacklevel=3)
    if n == 2 and ndim == 3:
        # PyTorch's historical behaviour, kept by PyTorch itself (pytorch#77081)
        warnings.warn(
            'dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D '
            'dropout behavior is desired - input is interpreted as shape (N, C, L), where C is '
            'the channel dim. This behavior will change in a future release to interpret the '
            'input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D '
            'channel-wise dropout behavior, please switch to using dropout1d instead.',
            stacklevel=3)
        return _dropout_impl(input, p, training, inplace, feature=True)
    add_batch = n != 2 and ndim != batched
    if add_batch:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _dropout_impl(input, p, training, inplace, feature=True)
    if add_batch:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p."""
    return _channel_dropout(1, input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs with probability p (3-D inputs are taken as
    (N, C, L), with a warning, as in PyTorch)."""
    return _channel_dropout(2, input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p."""
    return _channel_dropout(3, input, p, training, inplace)
