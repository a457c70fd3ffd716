"""Max and average pooling as graph nodes (PyTorch's grad_fn names), on NumPy or CuPy arrays.

The pooled spatial dims are the last `d` of the array; any leading dims (batch, channels, or just
channels for unbatched input) are carried along. Sliding-window pooling takes one strided view
(lead..., *out, *kernel) of the padded input, without copying it, and reduces it with one
output-sized maximum or add per kernel offset; adaptive max pooling gathers its irregular windows
into the same layout with one take per axis. Max pooling returns PyTorch's flat per-plane argmax
indices, which its backward scatters into (and whose own backward gathers from, so double
backward works). Average pooling's backward adds the gradient back with one strided add per
kernel offset; its own backward is average pooling again.
"""
import itertools
import math
from typing import NamedTuple

import numpy as np

from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...ops._util import xp_of
from ...ops.views import _index_add_at


class Geometry(NamedTuple):
    """One sliding-window pooling, per spatial dim: kernel, stride, padding, dilation, the input
    size and the output size (already checked against PyTorch's rules)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    in_size: tuple
    out_size: tuple

    def reach(self, i):
        """Padded length a window view along dim i needs (ceil_mode windows may pass the end)."""
        last_start = (self.out_size[i] - 1) * self.stride[i]
        needed = last_start + (self.kernel[i] - 1) * self.dilation[i] + 1
        return max(needed, self.in_size[i] + self.padding[i])

    def coordinates(self, i):
        """(out, kernel) table: the input position each window element reads along dim i."""
        o = np.arange(self.out_size[i])[:, None]
        k = np.arange(self.kernel[i])[None, :]
        return o * self.stride[i] - self.padding[i] + k * self.dilation[i]


def _lowest(dtype):
    return -np.inf if dtype.kind == 'f' else np.iinfo(dtype).min


def _padded(xp, a, geometry, fill):
    """a with `padding` (and the extra right margin ceil_mode needs) filled with `fill`."""
    d = len(geometry.kernel)
    lefts = geometry.padding
    totals = tuple(geometry.reach(i) + lefts[i] for i in range(d))
    if totals == a.shape[a.ndim - d:]:
        return a
    padded = xp.full(a.shape[:a.ndim - d] + totals, fill, dtype=a.dtype)
    inner = tuple(slice(p, p + n) for p, n in zip(lefts, geometry.in_size))
    padded[(Ellipsis,) + inner] = a
    return padded


def _window_view(xp, a, geometry, fill):
    """A read-only strided view (lead..., *out, *kernel) of the padded input: no copy."""
    d = len(geometry.kernel)
    a = _padded(xp, a, geometry, fill)
    lead, strides = a.shape[:a.ndim - d], a.strides
    spatial = strides[a.ndim - d:]
    shape = lead + geometry.out_size + geometry.kernel
    view_strides = (strides[:a.ndim - d] + tuple(s * st for s, st in zip(spatial, geometry.stride))
                    + tuple(s * dl for s, dl in zip(spatial, geometry.dilation)))
    return xp.lib.stride_tricks.as_strided(a, shape, view_strides)


def _plane_strides(in_size):
    return tuple(math.prod(in_size[i + 1:]) for i in range(len(in_size)))


def _window_positions(tables, in_size):
    """(prod(out), prod(win)) host table: the flat per-plane input index of every window
    element, from the per-dim (out_i, win_i) coordinate tables."""
    d = len(tables)
    positions = np.zeros((), dtype=np.int64)
    for i, (table, step) in enumerate(zip(tables, _plane_strides(in_size))):
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = table.shape
        positions = positions + table.reshape(shape) * step
    return positions.reshape(math.prod(positions.shape[:d]), math.prod(positions.shape[d:]))


def _max_and_argmax(xp, windows, d):
    """Max over the trailing d window axes of (lead..., *out, *win), and the window offset of the
    maximum as PyTorch's kernels pick it: the first maximum, or the last NaN. One pass per window
    offset over output-sized views: no copy of the windows."""
    offsets = list(np.ndindex(*windows.shape[windows.ndim - d:]))
    best = windows[(Ellipsis,) + offsets[0]].copy()
    for offset in offsets[1:]:
        xp.maximum(best, windows[(Ellipsis,) + offset], out=best)  # NaN propagates
    arg = xp.full(best.shape, len(offsets) - 1, dtype=np.int64)
    for n in range(len(offsets) - 2, -1, -1):   # backwards: the first maximum wins
        arg = xp.where(windows[(Ellipsis,) + offsets[n]] == best, n, arg)
    if best.dtype.kind == 'f' and bool(xp.isnan(best).any()):
        for n, offset in enumerate(offsets):
            arg = xp.where(xp.isnan(windows[(Ellipsis,) + offset]), n, arg)
    return best, arg


def _argmax_and_indices(xp, windows, tables, in_size):
    """Max pooling of the windows, and the flat per-plane input index of each maximum."""
    d = len(tables)
    values, arg = _max_and_argmax(xp, windows, d)
    positions = _window_positions(tables, in_size)
    window_start = (np.arange(positions.shape[0]) * positions.shape[1]).reshape(
        values.shape[values.ndim - d:])
    index = xp.take(xp.asarray(positions.reshape(-1)), arg + xp.asarray(window_start))
    return values, index


def _planes(input_shape, spatial):
    """(number of pooled planes, elements per plane) of an input whose last `spatial` dims pool."""
    lead = len(input_shape) - spatial
    return math.prod(input_shape[:lead]), math.prod(input_shape[lead:])


class _MaxPoolBase(Node):
    """Max pooling returning (values, indices); subclasses say how to read the windows."""
    num_outputs = 2
    non_differentiable_outputs = (1,)

    def forward(self, a):
        if a.dtype.kind not in 'fiu':
            raise NotImplementedError(f'"{self.op_name}" not implemented for \'Bool\'')
        xp = xp_of(a)
        values, indices = _argmax_and_indices(xp, self._windows(xp, a), self._tables(),
                                              self.in_size)
        self._indices = indices
        self._input_shape = a.shape
        return values, indices

    def backward(self, g, _):
        return dispatch(MaxPoolBackward(self._input_shape, len(self.in_size), self.name(),
                                        self._disjoint()), g, Tensor._make(self._indices))

    def _disjoint(self):
        return False

    def name(self):
        return self.node_name


class MaxPool(_MaxPoolBase):
    def __init__(self, geometry, node_name, op_name):
        self.geometry, self.node_name, self.op_name = geometry, node_name, op_name
        self.in_size = geometry.in_size

    def _windows(self, xp, a):
        return _window_view(xp, a, self.geometry, _lowest(a.dtype))

    def _tables(self):
        return [self.geometry.coordinates(i) for i in range(len(self.in_size))]

    def _disjoint(self):
        g = self.geometry
        return all(s >= (k - 1) * dl + 1 for k, s, dl in zip(g.kernel, g.stride, g.dilation))


def adaptive_windows(in_len, out_len):
    """PyTorch's adaptive windows [floor(i*in/out), ceil((i+1)*in/out)) as an (out, L) table of
    input positions, L the longest window; shorter windows are padded with -1."""
    o = np.arange(out_len)
    start = (o * in_len) // out_len
    end = ((o + 1) * in_len + out_len - 1) // out_len
    longest = int((end - start).max()) if out_len else 1
    table = start[:, None] + np.arange(longest)[None, :]
    return np.where(table < end[:, None], table, -1)


class AdaptiveMaxPool(_MaxPoolBase):
    def __init__(self, in_size, out_size, node_name, op_name):
        self.in_size, self.out_size = in_size, out_size
        self.node_name, self.op_name = node_name, op_name

    def _tables(self):
        # a short window repeats its last position, which leaves the first maximum unchanged
        tables = []
        for n, m in zip(self.in_size, self.out_size):
            t = adaptive_windows(n, m)
            tables.append(np.where(t < 0, t.max(axis=1, keepdims=True), t))
        return tables

    def _windows(self, xp, a):
        # one take per axis, last first: (lead..., o0, L0, o1, L1, ...), then window axes last
        d, lead = len(self.in_size), a.ndim - len(self.in_size)
        windows, tables = a, self._tables()
        for i in reversed(range(d)):
            windows = xp.take(windows, xp.asarray(tables[i]), axis=lead + i)
        order = (tuple(range(lead)) + tuple(lead + 2 * i for i in range(d))
                 + tuple(lead + 2 * i + 1 for i in range(d)))
        return windows.transpose(order)


class MaxPoolBackward(Node):
    """The max-pool gradient: each output gradient added at its argmax (flat per-plane index)."""
    saved_inputs = (1,)

    def __init__(self, input_shape, spatial, forward_name, disjoint):
        self.input_shape, self.spatial = input_shape, spatial
        self.forward_name, self.disjoint = forward_name, disjoint

    def forward(self, g, index):
        xp = xp_of(g)
        rows, plane = _planes(self.input_shape, self.spatial)
        out = xp.zeros(rows * plane, dtype=g.dtype)
        pos = (xp.arange(rows)[:, None] * plane + index.reshape(rows, -1)).reshape(-1)
        if self.disjoint:  # windows do not overlap: every input gets at most one gradient
            out[pos] = g.reshape(-1)
        else:
            _index_add_at(xp, out, pos, g.reshape(-1))
        return out.reshape(self.input_shape)

    def backward(self, gg):
        (index,) = self.saved_tensors
        rows, plane = _planes(self.input_shape, self.spatial)
        picked = gg.reshape(rows, plane).gather(1, index.reshape(rows, -1))
        return picked.reshape(index.shape), None

    def name(self):
        return self.forward_name.replace('Backward0', 'BackwardBackward0')


class MaxUnpool(Node):
    """max_unpool: input values written at their flat per-plane indices of a zero output."""
    saved_inputs = (1,)

    def __init__(self, out_size, node_name):
        self.out_size, self.node_name = tuple(out_size), node_name

    def forward(self, a, index):
        xp = xp_of(a)
        d = len(self.out_size)
        lead = a.shape[:a.ndim - d]
        rows, plane = math.prod(lead), math.prod(self.out_size)
        flat_index = index.reshape(rows, -1)
        if flat_index.size:
            low, high = int(flat_index.min()), int(flat_index.max())
            if low < 0 or high >= plane:
                bad = low if low < 0 else high
                raise RuntimeError(f'Found an invalid max index: {bad} (output volumes are of '
                                   f'size {"x".join(map(str, self.out_size))})')
        out = xp.zeros(rows * plane, dtype=a.dtype)
        out[(xp.arange(rows)[:, None] * plane + flat_index).reshape(-1)] = a.reshape(-1)
        return out.reshape(lead + self.out_size)

    def backward(self, g):
        (index,) = self.saved_tensors
        d = len(self.out_size)
        rows = math.prod(index.shape[:index.dim() - d])
        picked = g.reshape(rows, -1).gather(1, index.reshape(rows, -1))
        return picked.reshape(index.shape), None

    def name(self):
        return self.node_name


def _average_dtype(dtype):
    """PyTorch sums float16 windows in float32."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class AvgPool(Node):
    """Average pooling: window sums over the zero-padded input, divided per output position."""

    def __init__(self, geometry, count_include_pad, divisor_override, node_name):
        self.geometry, self.count_include_pad = geometry, count_include_pad
        self.divisor_override, self.node_name = divisor_override, node_name

    def divisors(self):
        """The divisor of each output position (an integer array of the output's spatial shape),
        or the override; PyTorch clips a window to the padded input, or to the input itself when
        padding does not count."""
        if self.divisor_override is not None:
            return self.divisor_override
        g = self.geometry
        total = np.ones((), dtype=np.int64)
        for i in range(len(g.kernel)):
            start = np.arange(g.out_size[i]) * g.stride[i] - g.padding[i]
            end = np.minimum(start + g.kernel[i], g.in_size[i] + g.padding[i])
            if not self.count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, g.in_size[i])
            total = np.multiply.outer(total, end - start)
        return total

    def forward(self, a):
        xp = xp_of(a)
        windows = _window_view(xp, a, self.geometry, 0)
        offsets = list(np.ndindex(*self.geometry.kernel))  # one strided add per kernel offset
        sums = windows[(Ellipsis,) + offsets[0]].astype(_average_dtype(a.dtype))
        for offset in offsets[1:]:
            sums += windows[(Ellipsis,) + offset]
        divisor = self.divisors()
        if a.dtype.kind in 'iu':  # C integer division truncates toward zero
            divisor = xp.asarray(divisor, dtype=sums.dtype)
            quotient = xp.abs(sums) // divisor
            return (xp.where(sums < 0, -quotient, quotient)).astype(a.dtype)
        out = sums / xp.asarray(divisor, dtype=sums.dtype)
        return out.astype(a.dtype, copy=False)

    def backward(self, g):
        return dispatch(AvgPoolBackward(self.replay_copy()), g)  # a copy: not this graph node

    def name(self):
        return self.node_name


class AvgPoolBackward(Node):
    """Each output gradient / divisor added to every input of its window (one strided add per
    kernel offset); its own gradient is the average pooling again."""

    def __init__(self, pool):
        self.pool = pool

    def forward(self, g):
        xp = xp_of(g)
        geometry = self.pool.geometry
        d = len(geometry.kernel)
        lead = g.shape[:g.ndim - d]
        acc = _average_dtype(g.dtype)
        share = g.astype(acc) / xp.asarray(self.pool.divisors(), dtype=acc)
        padded_size = tuple(geometry.reach(i) + geometry.padding[i] for i in range(d))
        grad = xp.zeros(lead + padded_size, dtype=acc)
        for offset in itertools.product(*(range(k) for k in geometry.kernel)):
            window = tuple(slice(k, k + s * (n - 1) + 1, s) for k, s, n in
                           zip(offset, geometry.stride, geometry.out_size))
            grad[(Ellipsis,) + window] += share
        inner = tuple(slice(p, p + n) for p, n in zip(geometry.padding, geometry.in_size))
        return grad[(Ellipsis,) + inner].astype(g.dtype)

    def backward(self, gg):
        return dispatch(self.pool.replay_copy(), gg)

    def name(self):
        return self.pool.node_name.replace('Backward0', 'BackwardBackward0')
