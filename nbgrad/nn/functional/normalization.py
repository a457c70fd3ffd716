"""Normalisation functions: batch_norm, instance_norm, layer_norm, group_norm, rms_norm,
local_response_norm and normalize, with PyTorch's checks, errors and running-statistics updates.

batch_norm, layer_norm and group_norm are one graph node each (_norm_ops.AffineNorm, with PyTorch's
grad_fn names); instance_norm is batch_norm over (1, N*C, *) as in PyTorch, and the others are
composed of Tensor ops as PyTorch composes them.
"""
import math

import numpy as np

from ..._profiled_calls import profiled_call
from ... import _creation, _dispatch, _dtype
from ..._dispatch import dispatch
from ...autograd.grad_mode import no_grad
from ...ops.shape import cat
from ._norm_ops import AffineNorm

__all__ = ['batch_norm', 'instance_norm', 'layer_norm', 'group_norm', 'rms_norm',
           'local_response_norm', 'normalize']


def _word(t):
    return _dispatch._type_word(t._data.dtype)


def _check_floating(input, kernel):
    if not input.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(input)}\': '
                                  'normalisation needs a floating-point input, e.g. '
                                  'input.float()')


def _check_param_dtype(input, name, t):
    """Parameters and running stats share the input's dtype (float32 ones may go with a float16
    input, PyTorch's mixed-type case)."""
    if t is not None and t.dtype != input.dtype and not (
            _dtype.is_reduced_float(input._data.dtype) and t._data.dtype == np.float32):
        raise RuntimeError(f'mixed dtype: {name} is {_word(t)} but the input is {_word(input)}; '
                           f'convert it with .to({input.dtype})')


def _verify_batch_size(size):
    if math.prod([size[0]] + list(size[2:])) == 1:
        raise ValueError(f'Expected more than 1 value per channel when training, got input size '
                         f'{_size_text(size)}')


def _size_text(size):
    return f'nbgrad.Size({list(size)})' if isinstance(size, tuple) else str(list(size))


def _broadcast_dims(ndim, kept):
    """The axes of an ndim-dim input other than those in `kept`."""
    return tuple(i for i in range(ndim) if i not in kept)


# -- batch and instance norm --------------------------------------------------------------------

@profiled_call('aten::batch_norm')
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims; in training mode the given
    running statistics are updated in place with `momentum`."""
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f'batch_norm eps must be positive during training, but got {eps}')
    if eps < 0.0:
        raise ValueError(f'batch_norm eps must be non-negative, but got {eps}')
    return _native_batch_norm(input, weight, bias, running_mean, running_var, training,
                              momentum, eps)


def _native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """torch.batch_norm: the checks of PyTorch's kernel, then one AffineNorm node."""
    if input.dim() < 2:
        raise (IndexError if training else RuntimeError)(
            f'batch_norm: expected an input of shape (N, C, ...), with at least 2 dimensions, '
            f'but got a {input.dim()}-D input')
    if training and (running_mean is None) != (running_var is None):
        raise ValueError('running_mean and running_var must either both be None or neither be '
                         'None')
    for name, stat in (('running_mean', running_mean), ('running_var', running_var)):
        if not training and stat is None:
            raise RuntimeError(f'{name} must be defined in evaluation mode')
        if stat is not None and stat.requires_grad and _dispatch._modes.grad_enabled:
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with "
                               f"respect to argument '{name}'. This input cannot have "
                               'requires_grad True.')
    _check_floating(input, 'batch_norm')
    channels = input.shape[1]
    named = (('weight', weight), ('bias', bias), ('running_mean', running_mean),
             ('running_var', running_var))
    for name, t in named:
        if t is not None and t.numel() != channels:
            raise RuntimeError(f'{name} should contain {channels} elements not {t.numel()} '
                               f'(one per channel of the input of shape {list(input.shape)})')
        _check_param_dtype(input, name, t)
    ndim = input.dim()
    param_shape = (1, channels) + (1,) * (ndim - 2)
    others = _broadcast_dims(ndim, (1,))
    op = AffineNorm('batch', input.shape, others, param_shape, others, (channels,), eps,
                    use_input_stats=training, momentum=momentum)
    return dispatch(op, input, weight, bias, running_mean, running_var)


def _verify_spatial_size(size):
    if math.prod(size[2:]) == 1:
        raise ValueError(f'Expected more than 1 spatial element when training, got input size '
                         f'{_size_text(size)}')


@profiled_call('aten::instance_norm')
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims. As in PyTorch, it is batch
    norm on the input viewed as (1, N*C, *), with weight and running stats repeated N times; the
    running stats then get the batch average of the N updated copies."""
    if use_input_stats:
        _verify_spatial_size(input.shape)
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError('Expected running_mean and running_var to be defined when '
                           'use_input_stats is false')
    n, c = input.shape[:2]

    def repeated(t):
        return None if t is None else t.repeat(n)

    stats = [repeated(running_mean), repeated(running_var)]
    out = _native_batch_norm(input.contiguous().view((1, n * c) + tuple(input.shape[2:])),
                             repeated(weight), repeated(bias), *stats, use_input_stats,
                             momentum, eps)
    with no_grad():
        for target, copies in zip((running_mean, running_var), stats):
            if target is not None:
                target.copy_(copies.view(n, c).mean(0))
    return out.view(input.shape)


# -- layer, group and RMS norm -------------------------------------------------------------------

def _normalized_shape(normalized_shape, function):
    if isinstance(normalized_shape, int) or not all(
            isinstance(n, (int, np.integer)) for n in normalized_shape):
        raise TypeError(f"{function}(): argument 'normalized_shape' (position 2) must be tuple "
                        f'of ints, not {type(normalized_shape).__name__}')
    return tuple(int(n) for n in normalized_shape)


def _check_normalized_input(input, shape, params, separator=', '):
    """PyTorch's _check_layer_norm_inputs (shared by rms_norm)."""
    if not shape:
        raise RuntimeError('Expected normalized_shape to be at least 1-dimensional, i.e., '
                           'containing at least one element, but got normalized_shape = []')
    for name, t in params:
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f'Expected {name} to be of same shape as normalized_shape, but '
                               f'got {name} of shape {list(t.shape)} and normalized_shape = '
                               f'{list(shape)}')
    if input.dim() < len(shape) or tuple(input.shape[input.dim() - len(shape):]) != shape:
        expected = separator.join(str(n) for n in shape)
        raise RuntimeError(f'Given normalized_shape={list(shape)}, expected input with shape '
                           f'[*{", " if separator else ""}{expected}], but got input of size'
                           f'{list(input.shape)}')


@profiled_call('aten::layer_norm')
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims, then scale and shift elementwise."""
    shape = _normalized_shape(normalized_shape, 'layer_norm')
    _check_normalized_input(input, shape, (('weight', weight), ('bias', bias)))
    _check_floating(input, 'LayerNormKernelImpl')
    for name, t in (('weight', weight), ('bias', bias)):
        _check_param_dtype(input, name, t)
    lead = input.dim() - len(shape)
    rows = math.prod(input.shape[:lead])
    op = AffineNorm('layer', (rows, math.prod(shape)), (1,), shape, tuple(range(lead)), shape,
                    eps)
    return dispatch(op, input, weight, bias)


@profiled_call('aten::group_norm')
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels into num_groups groups; normalise each group of each sample over its
    channels and spatial dims, then scale and shift per channel."""
    if input.dim() < 2:
        raise RuntimeError(f'Expected at least 2 dimensions for input tensor but received '
                           f'{input.dim()}')
    n, c = input.shape[:2]
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if c % num_groups:
        raise RuntimeError(f'Expected number of channels in input to be divisible by num_groups, '
                           f'but got input of shape {list(input.shape)} and '
                           f'num_groups={num_groups}')
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f'Expected {name} to be a vector of size equal to the number of '
                               f'channels in input, but got {name} of shape {list(t.shape)} and '
                               f'input of shape {list(input.shape)}')
        _check_param_dtype(input, name, t)
    _check_floating(input, 'GroupNormKernelImpl')
    ndim = input.dim()
    per_group = input.numel() // (n * num_groups) if n * num_groups else 0
    op = AffineNorm('group', (n, num_groups, per_group), (2,), (1, c) + (1,) * (ndim - 2),
                    _broadcast_dims(ndim, (1,)), (c,), eps)
    return dispatch(op, input, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last dims, times weight; eps=None is the machine epsilon
    of the computation dtype. Composed as PyTorch composes it (float16 and bfloat16 are computed in float32)."""
    shape = _normalized_shape(normalized_shape, 'rms_norm')
    _check_normalized_input(input, shape, (('weight', weight),), separator='')
    _check_floating(input, 'rms_norm')
    work = input.float() if _dtype.is_reduced_float(input._data.dtype) else input
    if eps is None:
        eps = float(_dtype.finfo(work._data.dtype).eps)
    dims = tuple(range(input.dim() - len(shape), input.dim()))
    result = work * work.pow(2).mean(dims, keepdim=True).add(eps).rsqrt()
    if result.dtype != input.dtype:
        result = result.to(input.dtype)
    return result if weight is None else result * weight


# -- local response norm and Lp normalisation ----------------------------------------------------

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of input^2 over `size` neighbouring channels)^beta; the window
    of channel c is [c - size//2, c + (size-1)//2], zero-padded at the ends."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f'Expected 3D or higher dimensionality input (got {dim} dimensions)')
    if size <= 0:
        raise RuntimeError(f'local_response_norm: size should be greater than zero, but got '
                           f'{size}')
    if input.dtype in (_dtype.bool, _dtype.uint8):   # (PyTorch's goes through avg_pool)
        kernel = 'avg_pool2d' if dim == 3 else 'avg_pool3d_out_frame'
        raise _dispatch.no_kernel(kernel, input._data.dtype)
    if input.numel() == 0:
        return input
    squares = input.mul(input)
    channels = input.shape[1]

    def zeros(count):
        return _creation.zeros((input.shape[0], count) + tuple(input.shape[2:]),
                               dtype=input.dtype, device=input.device)

    padded = cat([zeros(size // 2), squares, zeros((size - 1) // 2)], 1)
    window = padded.narrow(1, 0, channels)
    for offset in range(1, size):
        window = window + padded.narrow(1, offset, channels)
    div = (window / size).mul(alpha).add(k).pow(beta)
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps). With out, the result is written there (and is not
    differentiable, as in PyTorch)."""
    if not input.is_floating_point() and not input.is_complex():
        raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex tensor as '
                           f'input. Got {_word(input)}')
    if out is None:
        denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
        return input / denom
    with no_grad():
        result = input / input.norm(p, dim, keepdim=True).clamp_min(eps)
        if tuple(out.shape) != tuple(result.shape):
            raise RuntimeError(f'normalize: out has shape {list(out.shape)} but the result has '
                               f'shape {list(result.shape)}')
        out.copy_(result)
    return out

