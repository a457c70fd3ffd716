"""grid_sample and affine_grid as graph nodes (GridSampler2D/3DBackward0,
AffineGridGeneratorBackward0).

grid_sample reads, for every grid point, a few input pixels per axis (taps): 2 for bilinear, 1 for
nearest, 4 for bicubic, each with a weight that is a polynomial of the point's fractional position
t along that axis. The value is the sum over tap combinations of the product of per-axis weights
times the pixel; out-of-range taps (padding_mode='zeros') add nothing. Coordinates follow
PyTorch's GridSampler.h: unnormalize from [-1, 1], then clip or reflect for 'border' and
'reflection'; the chain rule through those maps is a per-point multiplier.

The backward is written in Tensor ops (index_add for the input, the weights' slopes for the grid),
with t made a function of the grid that has the right derivative, so double backward works as in
PyTorch.
"""
import itertools
import math

import numpy as np

from ... import _deterministic, _dispatch, _dtype
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.graph import Node
from ...ops._util import xp_of
from ...ops.shape import stack
from . import _grid_sample_cuda
from ._pool_ops import scatter_add
from ._resample import cubic_coefficients

_A = -0.75  # PyTorch's bicubic constant


def _clip(xp, x, size):
    """Clip to [0, size - 1], NaN to 0 as PyTorch's kernels do (fmax ignores NaN); the
    derivative is 0 at and beyond the borders (GridSampler.h)."""
    inside = (x > 0) & (x < size - 1)
    return xp.fmin(xp.fmax(x, 0), size - 1), inside.astype(x.dtype)


def _reflect(xp, x, twice_low, twice_high):
    """Reflect into [low, high] (bounds given doubled); returns the value and the sign (+-1) of
    its derivative."""
    if twice_low == twice_high:
        return xp.zeros_like(x), xp.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = x - low
    sign = xp.where(x < 0, -1, 1).astype(x.dtype)
    x = xp.abs(x)
    extra = xp.fmod(x, span)
    even = xp.floor(x / span) % 2 == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def _unnormalize(g, size, align_corners):
    if align_corners:
        return (g + 1) * ((size - 1) / 2), (size - 1) / 2
    return (g + 1) * (size / 2) - 0.5, size / 2


def _pad_coordinates(xp, x, size, padding_mode, align_corners):
    """compute_coordinates: border clips, reflection reflects then clips. Returns the value and
    the derivative factor."""
    one = xp.ones_like(x)
    if padding_mode == 'border':
        return _clip(xp, x, size)
    if padding_mode == 'reflection':
        if align_corners:
            x, slope = _reflect(xp, x, 0, 2 * (size - 1))
        else:
            x, slope = _reflect(xp, x, -1, 2 * size - 1)
        x, inside = _clip(xp, x, size)
        return x, slope * inside
    return x, one


def axis_taps(xp, g, size, mode, padding_mode, align_corners):
    """For one axis, grid components g (any shape): ([(index, valid) per tap], t, multiplier):
    the integer positions read, whether each is inside the input, the fractional position t that
    the weights depend on, and d(coordinate)/d(g)."""
    x, multiplier = _unnormalize(g, size, align_corners)
    if mode == 'bicubic':
        base = xp.floor(x)
        taps = []
        for k in range(4):
            c, _ = _pad_coordinates(xp, base - 1 + k, size, padding_mode, align_corners)
            taps.append(c)
        t = x - base
        multiplier = xp.full_like(x, multiplier)
    else:
        x, slope = _pad_coordinates(xp, x, size, padding_mode, align_corners)
        multiplier = slope * multiplier
        if mode == 'nearest':
            taps, t = [xp.rint(x)], xp.zeros_like(x)
        else:
            base = xp.floor(x)
            taps, t = [base, base + 1], x - base
    out = []
    for c in taps:
        valid = (c >= 0) & (c <= size - 1)
        out.append((xp.where(valid, c, 0).astype(np.int64), valid))
    return out, t, multiplier


def tap_weights(mode, t):
    """The weights of an axis's taps as functions of t (arrays or Tensors)."""
    if mode == 'nearest':
        return [1]
    if mode == 'bilinear':
        return [1 - t, t]
    return cubic_coefficients(t, _A)


def tap_slopes(mode, t):
    """d(weight)/d(t) of each tap (for bicubic: minus get_cubic_coefficients_grad, which PyTorch
    subtracts)."""
    if mode == 'nearest':
        return [0]
    if mode == 'bilinear':
        return [-1, 1]
    A = _A
    x0, x1, x2, x3 = -1 - t, -t, 1 - t, 2 - t
    return [(3 * A * x0 + 10 * A) * x0 + 8 * A,
            (3 * (A + 2) * x1 + 2 * (A + 3)) * x1,
            (-3 * (A + 2) * x2 + 2 * (A + 3)) * x2,
            (-3 * A * x3 + 10 * A) * x3 - 8 * A]


def _product(factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


class _Taps:
    """Everything the forward and backward need about the sampling points, on arrays."""

    def __init__(self, xp, input_shape, grid, mode, padding_mode, align_corners):
        n, d = input_shape[0], len(input_shape) - 2
        self.n = n
        self.in_size = input_shape[2:]
        self.out_size = grid.shape[1:-1]
        q = math.prod(self.out_size)
        self.plane = math.prod(self.in_size)
        flat_grid = grid.reshape(n * q, d)
        self.axes = []   # per spatial axis (D, H, W order): (taps, t, multiplier)
        for i in range(d):
            component = flat_grid[:, d - 1 - i]   # grid's last dim is (x, y[, z]) = (W, H[, D])
            self.axes.append(axis_taps(xp, component, self.in_size[i], mode, padding_mode,
                                       align_corners))
        self.base = xp.repeat(xp.arange(n) * self.plane, q)

    def combinations(self):
        """(tap number per axis, flat row of the input, valid) for every tap combination."""
        strides = [math.prod(self.in_size[i + 1:]) for i in range(len(self.in_size))]
        for combo in itertools.product(*(range(len(taps)) for taps, _, _ in self.axes)):
            position, valid = self.base, True
            for (taps, _, _), k, stride in zip(self.axes, combo, strides):
                index, inside = taps[k]
                position = position + index * stride
                valid = valid & inside
            yield combo, position, valid


def _channels(x):
    """(N, C, *spatial) viewed as (N, C, prod(spatial)) (sizes spelt out: any may be 0)."""
    return x.reshape(x.shape[:2] + (math.prod(x.shape[2:]),))


def _rows(x, n, c):
    """(N, C, *spatial) as (N * prod(spatial), C): one row of channels per pixel."""
    return _channels(x).swapaxes(1, 2).reshape(n * math.prod(x.shape[2:]), c)


def _rows_and_zero(xp, x):
    """_rows(x) with one more row of zeros after them: out-of-range taps read that row, so that
    they add nothing without a mask over every channel (taking rows is also 3-4x quicker than
    indexing them)."""
    n, c = x.shape[:2]
    plane = math.prod(x.shape[2:])
    rows = xp.empty((n * plane + 1, c), dtype=x.dtype)
    rows[:-1].reshape(n, plane, c)[...] = _channels(x).swapaxes(1, 2)
    rows[-1] = 0
    return rows


def _copy_as(xp, values, shape):
    """values (any layout) copied into a new contiguous array of `shape` (not a view of one,
    which .grad would copy again)."""
    out = xp.empty(shape, dtype=values.dtype)
    out.reshape(values.shape)[...] = values
    return out


class GridSampler(Node):
    """Forward and a plain backward run on arrays; a backward under create_graph in Tensor ops
    (_backward_tensors), so double backward works."""
    saved_inputs = (0, 1)

    def __init__(self, mode, padding_mode, align_corners, spatial):
        self.mode, self.padding_mode, self.align_corners = mode, padding_mode, align_corners
        self.spatial = spatial

    def _taps(self, xp, input, grid):
        return _Taps(xp, input.shape, grid, self.mode, self.padding_mode, self.align_corners)

    def _combination_weights(self, xp, taps, dtype):
        """(combo, row, weight) per tap combination: the row of _rows_and_zero each sampling
        point reads (the zero row when out of range) and its weight (None for nearest: 1)."""
        zero_row = taps.n * taps.plane
        for combo, position, valid in taps.combinations():
            row = xp.where(valid, position, zero_row)
            if self.mode == 'nearest':
                yield combo, row, None
                continue
            weight = _product([tap_weights(self.mode, t)[k]
                               for (_, t, _), k in zip(taps.axes, combo)])
            # PyTorch's CPU kernel multiplies a masked-out tap's weight by 0 (so a NaN weight
            # from a NaN or infinite coordinate gives NaN); its CUDA kernel skips the tap
            yield combo, row, (weight * valid).astype(dtype, copy=False)

    def forward(self, input, grid):
        xp = xp_of(input)
        if input.dtype == np.float16:  # computed in float32, as PyTorch's kernels do
            return self.forward(input.astype(np.float32), grid.astype(np.float32)).astype(
                np.float16)
        if _grid_sample_cuda.usable(xp, input, grid, self.mode) and input.size and grid.size:
            out = _grid_sample_cuda.forward(xp, input, grid, self.mode, self.padding_mode,
                                            self.align_corners)
            if out is not None:   # one launch on CUDA
                return out
        taps = self._taps(xp, input, grid)
        rows = _rows_and_zero(xp, input)
        out = None
        for _, row, weight in self._combination_weights(xp, taps, input.dtype):
            values = xp.take(rows, row, axis=0)
            if weight is not None:
                values *= weight[:, None]
            out = values if out is None else xp.add(out, values, out=out)
        n, c = input.shape[:2]
        return _copy_as(xp, out.reshape(n, math.prod(taps.out_size), c).swapaxes(1, 2),
                        (n, c) + taps.out_size)

    def backward(self, g):
        input, grid = self.saved_tensors
        wanted = (self._edges[0] is not None, self._edges[1] is not None)
        if _dtype.is_bfloat16(input._data.dtype):
            # in float32, rounded once (the tap weights and sums of bfloat16 would otherwise
            # round at every step)
            grads = self._backward_tensors(g.float(), input.float(), grid.float(), *wanted)
            return tuple(None if t is None else t.to(input.dtype) for t in grads)
        if _dispatch._modes.grad_enabled or input._data.dtype == np.float16:
            return self._backward_tensors(g, input, grid, *wanted)
        grads = self._backward_arrays(g._data, input._data, grid._data, *wanted)
        return tuple(None if a is None else Tensor._make(a) for a in grads)

    def _backward_arrays(self, g, input, grid, want_input, want_grid):
        """_backward_tensors on arrays: the input's gradient scattered with one add.at per
        channel over all tap combinations (see scatter_add), the grid's from the taps' values."""
        xp = xp_of(input)
        if xp is not np and want_input:   # the input's gradient is added with atomics
            _deterministic.alert(f'grid_sampler_{input.ndim - 2}d_backward_cuda')
        if _grid_sample_cuda.usable(xp, input, grid, self.mode) and input.size and grid.size:
            grads = _grid_sample_cuda.backward(xp, g, input, grid, self.mode, self.padding_mode,
                                               self.align_corners, want_input, want_grid)
            if grads is not False:   # one launch on CUDA
                return grads
        n, c = input.shape[:2]
        d = input.ndim - 2
        taps = self._taps(xp, input, grid)
        combinations = list(self._combination_weights(xp, taps, input.dtype))
        grad_input = grad_grid = None
        if want_input:
            g_channels = _channels(g).swapaxes(0, 1).reshape(c, n * math.prod(taps.out_size))
            grad = self._scatter(xp, g_channels, combinations, n * taps.plane)
            grad_input = _copy_as(xp, grad[:, :-1].reshape(c, n, taps.plane).swapaxes(0, 1),
                                  input.shape)
        if want_grid and (self.mode == 'nearest' or c == 0):
            # zero, as in PyTorch (nearest: a step function; no channels: nothing sampled, and
            # the products below over an empty channel axis once gave NaN in a full test run,
            # which no isolated run reproduced)
            grad_grid = xp.zeros(grid.shape, dtype=grid.dtype)
        elif want_grid:
            g_rows = xp.ascontiguousarray(_rows(g, n, c))
            rows = _rows_and_zero(xp, input)
            weights = [tap_weights(self.mode, t) for _, t, _ in taps.axes]
            slopes = [tap_slopes(self.mode, t) for _, t, _ in taps.axes]
            coordinate_grads = [0] * d
            for combo, row, _ in combinations:
                along = xp.einsum('qc,qc->q', g_rows, xp.take(rows, row, axis=0))
                factors = [w[k] for w, k in zip(weights, combo)]
                for a in range(d):
                    coordinate_grads[a] = coordinate_grads[a] + _product(
                        [along * slopes[a][combo[a]]] + factors[:a] + factors[a + 1:])
            columns = [coordinate_grads[d - 1 - j] * taps.axes[d - 1 - j][2] for j in range(d)]
            grad_grid = xp.stack(columns, -1).reshape(grid.shape).astype(grid.dtype, copy=False)
        return grad_input, grad_grid

    @staticmethod
    def _scatter(xp, g_channels, combinations, zero_row):
        """The input's gradient per channel, (C, zero_row + 1): for every tap combination,
        g_channels (C, points) times the weights added at the rows read (out-of-range taps at
        zero_row, which the caller drops)."""
        rows = xp.concatenate([row for _, row, _ in combinations])
        weights = None if combinations[0][2] is None else \
            xp.concatenate([w for _, _, w in combinations])
        grad = xp.zeros((g_channels.shape[0], zero_row + 1), dtype=g_channels.dtype)
        share = xp.empty(rows.shape, dtype=g_channels.dtype)
        for channel, g_channel in zip(grad, g_channels):
            shares = share.reshape(len(combinations), -1)
            if weights is None:
                shares[...] = g_channel
            else:
                xp.multiply(weights.reshape(shares.shape), g_channel, out=shares)
            scatter_add(xp, channel, rows, share)
        return grad

    def _backward_tensors(self, g, input, grid, want_input, want_grid):
        xp = xp_of(input._data)
        n, c = input.shape[:2]
        d = input.dim() - 2
        taps = self._taps(xp, input._data, grid._data)
        flat_grid = grid.reshape(-1, d)
        weights, slopes = [], []
        for i, (_, t, multiplier) in enumerate(taps.axes):
            t = Tensor._make(t)
            if grad_mode.is_grad_enabled() and grid.requires_grad:
                # t's value, with the derivative d t / d grid = multiplier (the coordinate maps
                # are piecewise linear, so higher derivatives vanish)
                component = flat_grid[:, d - 1 - i]
                t = t + (component - component.detach()) * Tensor._make(multiplier)
            weights.append(tap_weights(self.mode, t))
            slopes.append(tap_slopes(self.mode, t))
        g_rows = _rows(g, n, c)
        rows = _rows(input, n, c) if want_grid else None
        grad_rows = g.new_zeros((n * taps.plane, c)) if want_input else None
        coordinate_grads = [0] * d
        for combo, position, valid in taps.combinations():
            position = Tensor._make(position)
            valid = Tensor._make(valid).unsqueeze(1)
            factors = [w[k] for w, k in zip(weights, combo)]
            weight = _product(factors)
            if want_input:
                share = g_rows * weight.unsqueeze(1) if self.mode != 'nearest' else g_rows
                grad_rows = grad_rows.index_add(0, position, share.where(valid, 0))
            if want_grid and self.mode != 'nearest':
                picked = rows.index_select(0, position).where(valid, 0)
                along = (g_rows * picked).sum(1)
                for a in range(d):
                    others = factors[:a] + factors[a + 1:]
                    term = along * slopes[a][combo[a]]
                    coordinate_grads[a] = coordinate_grads[a] + (
                        _product([term] + others) if others else term)
        grad_input = grad_grid = None
        if want_input:
            grad_input = grad_rows.reshape(n, taps.plane, c).transpose(1, 2).reshape(input.shape)
        if want_grid:
            if self.mode == 'nearest':  # zero, but still a function of the grid, as in PyTorch
                grad_grid = grid.where(Tensor._make(xp.zeros(grid.shape, dtype=bool)), 0.0)
            else:
                columns = [coordinate_grads[d - 1 - j] * Tensor._make(taps.axes[d - 1 - j][2])
                           for j in range(d)]
                grad_grid = stack(columns, -1).reshape(grid.shape)
        return grad_input, grad_grid

    def name(self):
        return f'GridSampler{self.spatial}DBackward0'


def base_grid(xp, np_dtype, spatial, align_corners):
    """affine_grid's (x, y[, z], 1) for every output point: linspace(-1, 1) per axis, scaled by
    (n - 1) / n without align_corners (PyTorch's linspace_from_neg_one)."""
    from ... import _creation
    from ..._dtype import from_numpy_dtype
    d = len(spatial)
    out = np.ones(tuple(spatial) + (d + 1,), dtype=np_dtype)
    for j in range(d):       # column j holds the coordinate along spatial axis d - 1 - j
        steps = spatial[d - 1 - j]
        if steps <= 1:
            line = np.zeros(max(steps, 1), dtype=np_dtype)
        else:
            line = _creation.linspace(-1, 1, steps, dtype=from_numpy_dtype(np_dtype))._data
            if not align_corners:
                line = line * (steps - 1) / steps
        shape = [1] * d
        shape[d - 1 - j] = -1
        out[..., j] = line.reshape(shape)
    return xp.asarray(out)


class AffineGridGenerator(Node):
    sees_bfloat16 = True    # (its base grid is a bfloat16 linspace, as PyTorch's: see forward)

    def __init__(self, spatial, align_corners):
        self.spatial, self.align_corners = tuple(spatial), align_corners

    def forward(self, theta):
        xp = xp_of(theta)
        base = base_grid(xp, theta.dtype, self.spatial, self.align_corners)
        self._base = base = base.reshape(-1, base.shape[-1])
        if _dtype.is_bfloat16(theta.dtype):
            # PyTorch's: the bfloat16 base grid times theta in one bfloat16 matrix product
            # (float sums, rounded once)
            grid = base.astype(np.float32) @ theta.astype(np.float32).swapaxes(1, 2)
            return grid.astype(theta.dtype).reshape(
                (theta.shape[0],) + self.spatial + (len(self.spatial),))
        # sum_j base[p, j] * theta[n, d, j] added left to right, one rounding per step: PyTorch's
        # numbers (a matmul's order differs in the last bit, which moves nearest-mode
        # grid_sample by a whole pixel where a coordinate lands on .5)
        grid = base[None, :, None, 0] * theta[:, None, :, 0]
        for j in range(1, base.shape[1]):
            grid = grid + base[None, :, None, j] * theta[:, None, :, j]
        return grid.reshape((theta.shape[0],) + self.spatial + (len(self.spatial),))

    def backward(self, g):
        n, d = g.shape[0], len(self.spatial)
        return g.reshape(n, -1, d).transpose(1, 2) @ Tensor._make(self._base)

    def name(self):
        return 'AffineGridGeneratorBackward0'
