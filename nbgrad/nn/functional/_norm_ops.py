"""The graph node behind batch_norm, layer_norm and group_norm (PyTorch's native_batch_norm,
native_layer_norm and native_group_norm): one node each, with the closed-form backward.

All three are y = (x - mean) / sqrt(var + eps) * weight + bias; they differ only in which elements
share statistics and how weight broadcasts, so one class takes those as parameters. The backward
runs on arrays, in place, when no graph of it is wanted (the common case: these layers are hot);
with create_graph=True the same formulas run in Tensor ops, the statistics recomputed from x,
since their dependence on x is part of the second derivative. float16 inputs are normalised in
float32, as PyTorch does.
"""
import numpy as np

from ... import _dispatch, _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import xp_of

_NAMES = {'batch': 'NativeBatchNormBackward0', 'layer': 'NativeLayerNormBackward0',
          'group': 'NativeGroupNormBackward0'}


class AffineNorm(Node):
    """y = (x - mean) * invstd * weight + bias; inputs x, weight, bias[, running_mean, running_var]
    (None where absent).

    stats_shape: the shape x is viewed as for the statistics, which are reduced over `axes` of it
      (group norm views (N, C, *) as (N, G, -1); layer norm as (rows, normalized elements)).
    param_shape: the shape weight and bias are viewed as to broadcast against x; param_axes are the
      axes of x they are broadcast over (summed for their gradients); affine_shape is their own.
    use_input_stats: False normalises with running_mean/running_var instead (eval batch norm);
      those are constants for autograd. When True and running stats are given, they are updated
      in place as PyTorch's kernel does: r = momentum * s + (1 - momentum) * r, with s the batch
      mean and the unbiased batch variance (not bumping their version, as in PyTorch).
    """
    saved_inputs = (0, 1)

    def __init__(self, kind, stats_shape, axes, param_shape, param_axes, affine_shape, eps,
                 use_input_stats=True, momentum=0.0):
        self.kind, self.stats_shape, self.axes = kind, stats_shape, axes
        self.param_shape, self.param_axes, self.affine_shape = param_shape, param_axes, affine_shape
        self.eps, self.use_input_stats, self.momentum = eps, use_input_stats, momentum

    def forward(self, x, weight, bias, running_mean=None, running_var=None):
        xp = xp_of(x)
        xs = x.reshape(self.stats_shape)
        work = xs.astype(np.float32) if xs.dtype == np.float16 else xs  # half: float statistics
        if not self.use_input_stats:
            mean = running_mean.reshape(self.param_shape).astype(work.dtype, copy=False)
            var = running_var.reshape(self.param_shape).astype(work.dtype, copy=False)
            centered = work - mean
        elif work.size == 0:  # nothing to average: PyTorch leaves the running stats alone
            keep = tuple(1 if i in self.axes else n for i, n in enumerate(work.shape))
            mean, var = xp.zeros(keep, work.dtype), xp.ones(keep, work.dtype)
            centered = work - mean
        else:
            count = _count(work.shape, self.axes)
            mean = work.mean(axis=self.axes, keepdims=True)
            centered = work - mean
            var = _sum_of_products(xp, centered, centered, self.axes) / count
            if running_mean is not None:
                self._update_running(mean, var, running_mean, running_var, count)
        invstd = 1 / xp.sqrt(var + self.eps)
        self._mean, self._invstd = mean, invstd
        self._bias_dtype = None if bias is None else bias.dtype
        centered *= invstd  # centered is this op's own array: it becomes the output
        out = centered.reshape(x.shape)
        if weight is not None:
            out *= weight.reshape(self.param_shape)
        if bias is not None:
            out += bias.reshape(self.param_shape)
        return out.astype(x.dtype, copy=False)

    def _update_running(self, mean, var, running_mean, running_var, count):
        # PyTorch's CPU kernel mixes in double precision and stores in the buffers' dtype
        m = self.momentum
        unbiased = var.astype(np.float64).reshape(-1) * (count / (count - 1) if count > 1
                                                         else np.inf)
        for buffer, value in ((running_mean, mean.astype(np.float64).reshape(-1)),
                              (running_var, unbiased)):
            mixed = m * value + (1 - m) * buffer.reshape(-1).astype(np.float64)
            buffer[...] = mixed.reshape(buffer.shape).astype(buffer.dtype)

    def _stats(self, xs):
        """mean and 1/std as Tensors: recomputed from x when a graph of the backward is being
        built (double backward needs their dependence on x), else the forward's arrays."""
        if self.use_input_stats and _dispatch._grad_enabled and xs.requires_grad and \
                xs.numel() > 0:
            mean = xs.mean(self.axes, keepdim=True)
            var = (xs - mean).square().mean(self.axes, keepdim=True)
            return mean, (var + self.eps).rsqrt()
        return Tensor._make(self._mean), Tensor._make(self._invstd)

    def backward(self, g):
        x, weight = self.saved_tensors
        edges = self._edges
        wanted = [i < len(edges) and edges[i] is not None for i in range(3)]
        if _dispatch._grad_enabled:  # create_graph: a differentiable backward
            grads = self._backward_tensors(g, x, weight, wanted)
        else:
            grads = self._backward_arrays(g._data, x._data, None if weight is None else
                                          weight._data, wanted)
        return tuple(grads) + (None,) * (len(edges) - 3)

    def _backward_arrays(self, g, x, weight, wanted):
        """The same formulas as _backward_tensors on arrays, in place where possible: five or
        six passes over the data instead of a dozen, and no graph."""
        xp = xp_of(g)
        work = self._mean.dtype
        g = g.astype(work, copy=False)
        xhat = x.reshape(self.stats_shape).astype(work, copy=False) - self._mean
        xhat *= self._invstd
        grad_x = grad_w = grad_b = None
        if wanted[1]:
            grad_w = _sum_of_products(xp, g, xhat.reshape(x.shape), self.param_axes)
            grad_w = grad_w.reshape(self.affine_shape).astype(weight.dtype, copy=False)
        if wanted[2]:
            grad_b = (g.sum(axis=self.param_axes) if self.param_axes else g).reshape(
                self.affine_shape).astype(self._bias_dtype, copy=False)
        if wanted[0]:
            gy = (g if weight is None else g * weight.reshape(self.param_shape)).reshape(
                self.stats_shape)
            if not self.use_input_stats:
                grad_x = gy * self._invstd
            else:
                count = max(_count(xhat.shape, self.axes), 1)
                mean_gy = gy.sum(axis=self.axes, keepdims=True) / count
                mean_gy_xhat = _sum_of_products(xp, gy, xhat, self.axes) / count
                grad_x = xhat  # xhat is no longer needed: its memory takes the result
                grad_x *= -mean_gy_xhat
                grad_x += gy
                grad_x -= mean_gy
                grad_x *= self._invstd
            grad_x = grad_x.reshape(x.shape).astype(x.dtype, copy=False)
        return [None if a is None else Tensor._make(a) for a in (grad_x, grad_w, grad_b)]

    def _backward_tensors(self, g, x, weight, wanted):
        xs = x.reshape(self.stats_shape)
        mean, invstd = self._stats(xs)
        xhat = (xs - mean) * invstd
        grad_x = grad_w = grad_b = None
        if wanted[0]:
            gy = (g if weight is None else g * weight.reshape(self.param_shape))
            gy = gy.reshape(self.stats_shape)
            if not self.use_input_stats:
                grad_x = gy * invstd
            elif x.numel() == 0:
                grad_x = gy
            else:
                axes = self.axes
                grad_x = (gy - gy.mean(axes, keepdim=True)
                          - xhat * (gy * xhat).mean(axes, keepdim=True)) * invstd
            grad_x = _as_dtype(grad_x.reshape(x.shape), x._data.dtype)
        if wanted[1]:
            grad_w = _as_dtype(self._sum_to_params(g * xhat.reshape(x.shape)),
                               weight._data.dtype)
        if wanted[2]:
            grad_b = _as_dtype(self._sum_to_params(g), self._bias_dtype)
        return grad_x, grad_w, grad_b

    def _sum_to_params(self, t):
        # sum(()) would reduce every dimension, as in PyTorch: only sum when there is an axis
        return (t.sum(self.param_axes) if self.param_axes else t).reshape(self.affine_shape)

    def name(self):
        return _NAMES[self.kind]


def _count(shape, axes):
    n = 1
    for i in axes:
        n *= shape[i]
    return n


def _sum_of_products(xp, a, b, axes):
    """sum(a * b) over `axes` (kept as size-1 dims) in one pass, without making a * b."""
    names = 'abcdefghijklmnopqrstuvwxyz'[:a.ndim]
    kept = ''.join(n for i, n in enumerate(names) if i not in axes)
    shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return xp.einsum(f'{names},{names}->{kept}', a, b).reshape(shape)


def _as_dtype(grad, np_dtype):
    """A gradient in its input's dtype (float16 inputs are worked on in float32)."""
    return grad if grad._data.dtype == np_dtype else grad.to(_dtype.from_numpy_dtype(np_dtype))
