"""Fractional max pooling (Graham, "Fractional Max-Pooling", 2014; PyTorch's
fractional_max_pool2d/3d): windows of a fixed size whose start positions advance by a
non-integer step, drawn per plane from `_random_samples` (uniform in [0, 1), one per spatial dim),
so an input is reduced by a ratio that need not be an integer.

Along a dim of input size n, output size m and window k, PyTorch's start positions for a sample
u are  floor((i + u) * alpha) - floor(u * alpha)  for i < m - 1, with alpha = (n - k) / (m - 1),
and n - k for the last window, computed in the input's floating type; they are reproduced here
in that type, so the windows (and, with PyTorch's samples, the results) are PyTorch's. Each
window gives its first maximum, or its last NaN, as PyTorch's kernels do.
"""
import math

import numpy as np

from ..._dtype import bfloat16
from ..._random_ops import rand
from ..._dispatch import dispatch
from ...autograd.graph import Node
from ...ops._util import xp_of
from ._pool_ops import MaxPoolBackward, _max_and_argmax_by_rows

__all__ = ['fractional_max_pool2d', 'fractional_max_pool2d_with_indices',
           'fractional_max_pool3d', 'fractional_max_pool3d_with_indices']

# PyTorch's sample for each spatial dim: 2-d kernels read (W, H), 3-d ones (T, H, W)
_SAMPLE_OF_DIM = {2: (1, 0), 3: (0, 1, 2)}


def _starts(samples, n, m, k, dtype):
    """Window starts (planes, m) along a dim, from one sample per plane (planes,)."""
    planes = samples.shape[0]
    starts = np.empty((planes, m), np.int64)
    if m > 1:
        kind = dtype.type
        alpha = kind(n - k) / kind(m - 1)
        u = samples.astype(dtype)
        i = np.arange(m - 1, dtype=dtype)
        starts[:, :-1] = ((i[None, :] + u[:, None]) * alpha).astype(np.int64) - \
            (u * alpha).astype(np.int64)[:, None]
    if m > 0:
        starts[:, -1] = n - k
    return starts


class FractionalMaxPool(Node):
    """(values, flat per-plane indices) of fractional max pooling over the last d dims."""
    num_outputs = 2
    non_differentiable_outputs = (1,)

    def __init__(self, d, kernel, out_size, samples):
        self.d, self.kernel, self.out_size = d, kernel, out_size
        self.samples = samples      # (planes, d) host array of the input's floating type

    def forward(self, a):
        xp = xp_of(a)
        d = self.d
        lead, in_size = a.shape[:a.ndim - d], a.shape[a.ndim - d:]
        planes = math.prod(lead)
        flat = a.reshape((planes,) + in_size)
        # per plane and dim: the input positions of every window element, (planes, out, k)
        positions = [_starts(self.samples[:, _SAMPLE_OF_DIM[d][i]], in_size[i],
                             self.out_size[i], self.kernel[i], self.samples.dtype)[:, :, None]
                     + np.arange(self.kernel[i])[None, None, :] for i in range(d)]
        # the flat per-plane index of every window element: (planes, *out, *kernel)
        index = np.zeros((planes,) + tuple(self.out_size) + tuple(self.kernel), np.int64)
        stride = 1
        for i in reversed(range(d)):
            shape = [planes] + [1] * (2 * d)
            shape[1 + i], shape[1 + d + i] = self.out_size[i], self.kernel[i]
            index = index + positions[i].reshape(shape) * stride
            stride *= in_size[i]
        index = xp.asarray(index)
        windows = xp.take_along_axis(flat.reshape(planes, -1),
                                     index.reshape(planes, -1), axis=1).reshape(index.shape)
        values, arg = _max_and_argmax_by_rows(xp, windows, d)
        chosen = xp.take_along_axis(index.reshape(index.shape[:1 + d] + (-1,)), arg[..., None],
                                    axis=-1)[..., 0]
        shape = lead + tuple(self.out_size)
        self._input_shape, self._indices = a.shape, chosen.reshape(shape)
        return values.reshape(shape), self._indices

    def backward(self, g, _):
        from ..._tensor import Tensor
        return dispatch(MaxPoolBackward(self._input_shape, self.d, self.name(), False), g,
                        Tensor._make(self._indices))

    def name(self):
        return f'FractionalMaxPool{self.d}DBackward0'


def _tuple(value, d):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * d


def _fractional(d, input, kernel_size, output_size, output_ratio, samples):
    fn = f'fractional_max_pool{d}d'
    if output_size is None and output_ratio is None:
        raise ValueError(f'{fn} requires specifying either an output_size or an output_ratio')
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f'{fn}(): Expected {d + 1}D or {d + 2}D tensor, but got: '
                           f'{list(input.shape)}')
    kernel = _tuple(kernel_size, d)
    if output_size is None:
        ratio = _tuple(output_ratio, d)
        output_size = [int(input.size(-d + i) * ratio[i]) for i in range(d)]
    out = _tuple(output_size, d)
    names = ('time', 'height', 'width')[3 - d:]
    for i in range(d):
        n = input.size(-d + i)
        if out[i] + kernel[i] - 1 > n:
            raise RuntimeError(f'{fn}(): pool {names[i]} {kernel[i]} too large relative to '
                               f'input {names[i]} {n}')
    batch = 1 if input.dim() == d + 1 else input.size(0)
    channels = input.size(-d - 1)
    if samples is None:
        samples = rand(batch, channels, d, dtype=input.dtype, device=input.device)
    if samples.dim() != 3:
        raise RuntimeError(f'Expect _random_samples to have 3 dimensions, got '
                           f'{samples.dim()}')
    if samples.size(0) != batch:
        raise RuntimeError('Expect _random_samples.size(0) no less then input batch size.')
    if samples.size(1) != channels:
        raise RuntimeError('Expect _random_samples.size(1) equals to input channel size.')
    if samples.size(2) != d:
        raise RuntimeError(f'Expect _random_samples.size(2) equals to {d}; got '
                           f'{samples.size(2)}.')
    host = samples.detach().cpu()
    # (bfloat16 samples as they are: PyTorch computes the windows in the samples' type)
    host = (host._data if host.dtype is bfloat16 else host.numpy()).reshape(batch * channels, d)
    if not np.issubdtype(host.dtype, np.floating) and host.dtype != bfloat16.np:
        host = host.astype(np.float64)
    return dispatch(FractionalMaxPool(d, kernel, out, host), input)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    out = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                             _random_samples=_random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                             _random_samples=_random_samples)
    return out if return_indices else out[0]
