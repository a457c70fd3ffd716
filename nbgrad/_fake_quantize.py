"""torch.fake_quantize_per_tensor_affine and torch.fake_quantize_per_channel_affine: quantize
and dequantize in one step, as quantization-aware training does, with PyTorch's CPU kernel
arithmetic: q = nearbyint(x * (1/scale)) + zero_point (1/scale in float32), clamped to
[quant_min, quant_max] with fmin/fmax (so NaN goes to quant_min), then (q - zero_point) * scale
in float32. The gradient passes straight through where the unclamped q was inside the range and
is 0 elsewhere. (A float zero point, per channel, is added before rounding, as PyTorch's.)
"""
import numpy as np

from . import _dtype
from ._dispatch import _type_word, dispatch
from ._tensor import Tensor
from .autograd.graph import Node

__all__ = ['fake_quantize_per_tensor_affine', 'fake_quantize_per_channel_affine']


class FakeQuantize(Node):
    def __init__(self, scale, zero_point, quant_min, quant_max, integer_zero_point, name):
        # scale and zero_point: float32 / zero-point arrays broadcasting against the input
        self.scale, self.zero_point = scale, zero_point
        self.quant_min, self.quant_max = quant_min, quant_max
        self.integer_zero_point, self._name = integer_zero_point, name

    def forward(self, x):
        if x.dtype.kind != 'f':
            raise NotImplementedError('"fake_quantize_tensor_cachemask_kernel_type_handling" '
                                      f"not implemented for '{_type_word(x.dtype)}'")
        inverse = (np.float32(1) / self.scale).astype(np.float32)
        # PyTorch's kernel: x * inverse in double for double inputs, in float otherwise
        scaled = (x if x.dtype == np.float64 else x.astype(np.float32)) * inverse
        if self.integer_zero_point:
            q = np.rint(scaled) + self.zero_point
        else:
            q = np.rint(scaled + self.zero_point)
        self.mask = (q >= self.quant_min) & (q <= self.quant_max)
        clamped = np.fmin(np.fmax(q, self.quant_min), self.quant_max)
        if self.integer_zero_point:      # (q - zero_point is an integer: one rounding either way)
            out = ((clamped.astype(np.int64) - self.zero_point) * self.scale).astype(np.float32)
        else:                            # PyTorch's kernel computes this one in double
            out = ((clamped.astype(np.float64) - self.zero_point.astype(np.float64))
                   * self.scale.astype(np.float64)).astype(np.float32)
        return out.astype(x.dtype, copy=False)

    def backward(self, g):
        return (g * Tensor._make(self.mask.astype(g._data.dtype)),)

    def name(self):
        return self._name


def _check_range(quant_min, quant_max, zero_point):
    if quant_min > quant_max:
        raise RuntimeError('`quant_min` should be less than or         equal to `quant_max`.')
    if np.any((zero_point < quant_min) | (zero_point > quant_max)):
        raise RuntimeError('`zero_point` must be between `quant_min` and `quant_max`.')


def _not_differentiable(function, **qparams):
    from . import autograd
    for name, value in qparams.items():
        if isinstance(value, Tensor) and value.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(f"The function '{function}' is not differentiable with respect "
                               f"to argument '{name}'. This input cannot have requires_grad "
                               'True.')


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """One scale and zero point for the whole tensor (numbers, or one-element tensors)."""
    tensor_qparams = isinstance(scale, Tensor) or isinstance(zero_point, Tensor)
    if not tensor_qparams and isinstance(zero_point, float):
        raise TypeError('fake_quantize_per_tensor_affine(): argument \'zero_point\' must be int '
                        '(or both scale and zero_point Tensors), not float')
    _not_differentiable('_fake_quantize_per_tensor_affine_cachemask_tensor_qparams',
                        scale=scale, zero_point=zero_point)
    scale = _one_value(scale, float)
    zero_point = _one_value(zero_point, int)
    _check_range(quant_min, quant_max, zero_point)
    name = 'FakeQuantizePerTensorAffineCachemask' + \
        ('TensorQparams' if tensor_qparams else '') + 'Backward0'
    node = FakeQuantize(np.float32(scale), np.int64(zero_point), quant_min, quant_max, True, name)
    return dispatch(node, input)


def _one_value(value, kind):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f'a Tensor with {value.numel()} elements cannot be converted to '
                               'Scalar')
        value = value.item()
    return kind(value)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """A scale and zero point (1-D tensors) for each index of `axis`."""
    _not_differentiable('fake_quantize_per_channel_affine_cachemask', scale=scale,
                        zero_point=zero_point)
    if scale.dtype not in (_dtype.float32, _dtype.bfloat16):
        raise RuntimeError(f'Scale must be Float or BFloat16, found {_type_word(scale._data.dtype)}')
    zero_kind = zero_point._data.dtype
    if zero_kind not in (np.int32, np.float32, np.float16):
        raise RuntimeError(f'Zero-point must be Int32, Float or Half, found '
                           f'{_type_word(zero_kind)}')
    dim = _normalized_axis(axis, input.dim())
    if scale.dim() != 1 or zero_point.dim() != 1 or scale.numel() != zero_point.numel() or \
            scale.numel() != input.shape[dim]:
        raise RuntimeError('dimensions of scale and zero-point are not consistent with input '
                           'tensor')
    shape = [1] * input.dim()
    shape[dim] = -1
    zeros = zero_point._data.reshape(shape)
    integer = zero_kind == np.int32
    _check_range(quant_min, quant_max, zeros if integer else np.trunc(zeros))   # (PyTorch's)
    node = FakeQuantize(scale._data.astype(np.float32).reshape(shape),
                        zeros.astype(np.int64) if integer else zeros.astype(np.float32),
                        quant_min, quant_max, integer,
                        'FakeQuantizePerChannelAffineCachemaskBackward0')
    return dispatch(node, input)


def _normalized_axis(axis, ndim):
    if axis < 0:      # (PyTorch's kernel takes no negative axis)
        raise RuntimeError('`axis` must be between 0 and number of dimensions of input')
    if axis >= ndim:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-ndim}, '
                         f'{ndim - 1}], but got {axis})')
    return axis
