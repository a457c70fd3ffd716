"""The graph node behind batch_norm, layer_norm and group_norm (PyTorch's native_batch_norm,
native_layer_norm and native_group_norm): one node each, with the closed-form backward.

All three are y = (x - mean) / sqrt(var + eps) * weight + bias; they differ only in which elements
share statistics and how weight broadcasts, so one class takes those as parameters. The backward
runs on arrays, in place, when no graph of it is wanted (the common case: these layers are hot);
with create_graph=True the same formulas run in Tensor ops, the statistics recomputed from x,
since their dependence on x is part of the second derivative. float16 inputs are normalised in
float32, as PyTorch does.

Layer norm, whose statistics are per row of a (rows, n) view, runs on NumPy one block of rows at a
time: each block's half-dozen passes then stay in the CPU's cache instead of streaming the whole
tensor from memory each time (a third less time for (64, 128, 512)), and its temporaries are
block-sized.
"""
import numpy as np

from ... import _dispatch, _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import xp_of
from . import _layer_norm_cuda
from ...ops.reduction import sum_keepdims
from ..._threads import row_parts, run_parts

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
    sees_bfloat16 = True    # (computed as half is: statistics in float32, see forward)

    def __init__(self, kind, stats_shape, axes, param_shape, param_axes, affine_shape, eps,
                 use_input_stats=True, momentum=0.0):
        self.kind, self.stats_shape, self.axes = kind, stats_shape, axes
        self.param_shape, self.param_axes, self.affine_shape = param_shape, param_axes, affine_shape
        self.eps, self.use_input_stats, self.momentum = eps, use_input_stats, momentum

    def forward(self, x, weight, bias, running_mean=None, running_var=None):
        xp = xp_of(x)
        xs = x.reshape(self.stats_shape)
        reduced = _dtype.is_reduced_float(xs.dtype)
        work = xs.astype(np.float32) if reduced else xs  # half, bfloat16: float statistics
        # the output is x's shape, computed in place in a stats_shape view of it
        out = xp.empty(x.shape, work.dtype)
        centered = out.reshape(self.stats_shape)
        self._bias_dtype = None if bias is None else bias.dtype
        if self.kind == 'layer' and work.size:
            self._mean, self._invstd = _layer_norm_rows(
                xp, work, _row_vector(weight), _row_vector(bias), self.eps, centered)
            return out.astype(x.dtype, copy=False)
        if not self.use_input_stats:
            mean = running_mean.reshape(self.param_shape).astype(work.dtype, copy=False)
            var = running_var.reshape(self.param_shape).astype(work.dtype, copy=False)
            xp.subtract(work, mean, out=centered)
        elif work.size == 0:  # nothing to average: PyTorch leaves the running stats alone
            keep = tuple(1 if i in self.axes else n for i, n in enumerate(work.shape))
            mean, var = xp.zeros(keep, work.dtype), xp.ones(keep, work.dtype)
        else:
            count = _count(work.shape, self.axes)
            mean = sum_keepdims(xp, work, self.axes) / count
            xp.subtract(work, mean, out=centered)
            var = _sum_of_products(xp, centered, centered, self.axes) / count
            if running_mean is not None:
                self._update_running(mean, var, running_mean, running_var, count)
        invstd = 1 / xp.sqrt(var + self.eps)
        if reduced and self.kind == 'batch' and self.use_input_stats and work.size:
            # PyTorch's batch statistics are tensors of the input's dtype: it normalises half
            # inputs with the mean and 1/std rounded to half (its running stats get them unrounded)
            mean, invstd = (v.astype(xs.dtype).astype(work.dtype) for v in (mean, invstd))
            xp.subtract(work, mean, out=centered)
        self._mean, self._invstd = mean, invstd
        centered *= invstd
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
            if not getattr(buffer.flags, 'writeable', True):
                continue      # (a meta buffer's stand-in values: nothing to update)
            mixed = m * value + (1 - m) * buffer.reshape(-1).astype(np.float64)
            buffer[...] = mixed.reshape(buffer.shape).astype(buffer.dtype)

    def _stats(self, xs):
        """mean and 1/std as Tensors: recomputed from x when a graph of the backward is being
        built (double backward needs their dependence on x), else the forward's arrays."""
        if self.use_input_stats and _dispatch._modes.grad_enabled and xs.requires_grad and \
                xs.numel() > 0:
            mean = xs.mean(self.axes, keepdim=True)
            var = (xs - mean).square().mean(self.axes, keepdim=True)
            return mean, (var + self.eps).rsqrt()
        return Tensor._make(self._mean), Tensor._make(self._invstd)

    def backward(self, g):
        x, weight = self.saved_tensors
        edges = self._edges
        wanted = [i < len(edges) and edges[i] is not None for i in range(3)]
        if _dispatch._modes.grad_enabled:  # create_graph: a differentiable backward
            grads = self._backward_tensors(g, x, weight, wanted)
        else:
            grads = self._backward_arrays(g._data, x._data, None if weight is None else
                                          weight._data, wanted)
        return tuple(grads) + (None,) * (len(edges) - 3)

    def _backward_arrays(self, g, x, weight, wanted):
        """The same formulas as _backward_tensors on arrays, in place where possible: about
        eight passes over the data instead of a dozen, and no graph. x's gradient is computed in
        an array of x's shape, never a view (a view would be copied when accumulated into
        x.grad)."""
        xp = xp_of(g)
        g = g.astype(self._mean.dtype, copy=False)
        grad = xp.empty(x.shape, g.dtype)   # x's gradient, and xhat before it
        if self.kind == 'layer' and x.size:
            grad_w, grad_b = _layer_norm_backward_rows(
                xp, g.reshape(self.stats_shape), x.reshape(self.stats_shape), self._mean,
                self._invstd, _row_vector(weight), wanted, grad.reshape(self.stats_shape))
        else:
            grad_w, grad_b = self._backward_whole(xp, g, x, weight, wanted, grad)
        grads = (grad.astype(x.dtype, copy=False) if wanted[0] else None,
                 None if grad_w is None else
                 grad_w.reshape(self.affine_shape).astype(weight.dtype, copy=False),
                 None if grad_b is None else
                 grad_b.reshape(self.affine_shape).astype(self._bias_dtype, copy=False))
        return [None if a is None else Tensor._make(a) for a in grads]

    def _backward_whole(self, xp, g, x, weight, wanted, grad):
        """_backward_arrays for batch and group norm: x's gradient into grad; returns those of
        weight and bias or None."""
        xhat = grad.reshape(self.stats_shape)
        grad_w = grad_b = None
        if wanted[2]:
            grad_b = self._sum_to_params(xp, g)
        if wanted[1] or (wanted[0] and self.use_input_stats):  # xhat = (x - mean) * invstd
            xp.subtract(x.reshape(self.stats_shape), self._mean, out=xhat)
            xhat *= self._invstd
        if wanted[1]:
            grad_w = _sum_of_products(xp, g, grad, self.param_axes)
        if wanted[0]:
            gy = (g if weight is None else g * weight.reshape(self.param_shape)).reshape(
                self.stats_shape)
            if not self.use_input_stats:
                xp.multiply(gy, self._invstd, out=xhat)
            else:
                count = max(_count(xhat.shape, self.axes), 1)
                mean_gy = sum_keepdims(xp, gy, self.axes) / count
                mean_gy_xhat = _sum_of_products(xp, gy, xhat, self.axes) / count
                xhat *= -mean_gy_xhat  # xhat is no longer needed: its memory takes the result
                xhat += gy
                xhat -= mean_gy
                xhat *= self._invstd
        return grad_w, grad_b

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
            grad_w = _as_dtype(self._sum_to_params(None, g * xhat.reshape(x.shape)),
                               weight._data.dtype)
        if wanted[2]:
            grad_b = _as_dtype(self._sum_to_params(None, g), self._bias_dtype)
        return grad_x, grad_w, grad_b

    def _sum_to_params(self, xp, t):
        """t (x's shape) summed over the dims weight and bias broadcast over (t: an array, or a
        Tensor when xp is None)."""
        if not self.param_axes:  # sum(()) would reduce every dimension, as in PyTorch
            return t.reshape(self.affine_shape)
        total = t.sum(self.param_axes) if xp is None else t.sum(axis=self.param_axes)
        return total.reshape(self.affine_shape)

    def name(self):
        return _NAMES[self.kind]


_BLOCK_ELEMENTS = 1 << 19  # 2 MiB of float32 per block: a few such arrays fit in the caches


def _row_blocks(xp, rows, n, part=None):
    """Slices of consecutive rows of a (rows, n) array (of its rows `part`, a slice, if given),
    about _BLOCK_ELEMENTS each on NumPy; one slice for everything on CuPy (a GPU wants few, large
    launches)."""
    start, stop = (0, rows) if part is None else (part.start, part.stop)
    step = stop - start if xp is not np else max(1, _BLOCK_ELEMENTS // max(n, 1))
    return [slice(lo, min(lo + step, stop)) for lo in range(start, stop, max(step, 1))]


def _row_parts(xp, rows, n):
    """The rows cut into one part per worker thread on NumPy, for large arrays (_threads)."""
    return row_parts(rows, n) if xp is np else [slice(0, rows)]


def _row_vector(param):
    """weight or bias (normalized_shape) as one row of the (rows, n) view, or None."""
    return None if param is None else param.reshape(-1)


def _layer_norm_rows(xp, xs, weight, bias, eps, out):
    """Layer norm of the rows of xs (rows, n) into out, block by block (the parts of a large
    array on several threads); returns the per-row mean and 1/std (rows, 1)."""
    if _layer_norm_cuda.usable(xp, xs, weight, bias, out):   # one launch on CUDA
        stats = _layer_norm_cuda.forward(xp, xs, weight, bias, eps, out)
        if stats is not None:
            return stats
    rows, n = xs.shape
    mean = xp.empty((rows, 1), xs.dtype)
    invstd = xp.empty((rows, 1), xs.dtype)

    def normalize(part):
        for block in _row_blocks(xp, rows, n, part):
            x_b, y_b, mean_b, invstd_b = xs[block], out[block], mean[block], invstd[block]
            xp.divide(sum_keepdims(xp, x_b, (1,)), n, out=mean_b)
            xp.subtract(x_b, mean_b, out=y_b)
            variance = _sum_of_products(xp, y_b, y_b, (1,)) / n
            xp.divide(1, xp.sqrt(variance + eps), out=invstd_b)
            y_b *= invstd_b
            if weight is not None:
                y_b *= weight
            if bias is not None:
                y_b += bias
    run_parts(normalize, _row_parts(xp, rows, n))
    return mean, invstd


def _layer_norm_backward_rows(xp, g, x, mean, invstd, weight, wanted, grad):
    """Layer norm's gradients from the rows of g and x (rows, n), block by block (the parts of
    a large array on several threads): x's written into grad (rows, n) when wanted[0]; returns
    those of weight and bias (n) or None (the parts' sums added in order)."""
    if xp is not np:   # two launches on CUDA (a broadcast gradient, from sum(), made dense)
        g = xp.ascontiguousarray(g)
    if _layer_norm_cuda.usable(xp, g, x, mean, invstd, weight, grad):
        result = _layer_norm_cuda.backward(xp, g, x, mean, invstd, weight, wanted, grad)
        if result is not False:
            return result
    rows, n = x.shape

    def backward(part):
        blocks = _row_blocks(xp, rows, n, part)
        grad_w = xp.zeros(n, grad.dtype) if wanted[1] else None
        grad_b = xp.zeros(n, grad.dtype) if wanted[2] else None
        scratch = None if weight is None or not wanted[0] or not blocks else \
            xp.empty((blocks[0].stop - blocks[0].start, n), grad.dtype)
        for block in blocks:
            g_b, xhat = g[block], grad[block]
            xp.subtract(x[block], mean[block], out=xhat)
            xhat *= invstd[block]
            if wanted[1]:
                grad_w += _sum_of_products(xp, g_b, xhat, (0,)).reshape(n)
            if wanted[2]:
                grad_b += g_b.sum(axis=0)
            if not wanted[0]:
                continue
            gy = g_b if weight is None else xp.multiply(g_b, weight, out=scratch[:len(xhat)])
            mean_gy = sum_keepdims(xp, gy, (1,)) / n
            mean_gy_xhat = _sum_of_products(xp, gy, xhat, (1,)) / n
            xhat *= -mean_gy_xhat  # xhat is no longer needed: its memory takes the result
            xhat += gy
            xhat -= mean_gy
            xhat *= invstd[block]
        return grad_w, grad_b
    sums = run_parts(backward, _row_parts(xp, rows, n))
    grad_w, grad_b = sums[0]
    for part_w, part_b in sums[1:]:
        if wanted[1]:
            grad_w += part_w
        if wanted[2]:
            grad_b += part_b
    return grad_w, grad_b


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
