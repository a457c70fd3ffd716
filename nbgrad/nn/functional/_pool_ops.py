"""Max and average pooling as graph nodes (PyTorch's grad_fn names), on NumPy or CuPy arrays.

The pooled spatial dims are the last `d` of the array; any leading dims (batch, channels, or just
channels for unbatched input) are carried along. Sliding-window pooling works one kernel offset at
a time: for each offset, the outputs whose window element at that offset lies inside the input
form a rectangle, and the elements they read a strided view of the input (Geometry.regions), so
padding is never materialised and never competes for the maximum. Each offset then costs one
output-sized maximum or add. Adaptive max pooling gathers its irregular windows into a
(lead..., *out, *win) layout with one take per axis (a reshape when the sizes divide evenly).
Large windows (and adaptive pooling to 7x7) are maximised instead with one argmax over a copy of
the windows as rows. Max pooling returns PyTorch's flat per-plane argmax indices, which its
backward scatters into (and whose own backward gathers from, so double backward works). Average
pooling's backward adds the gradient back with one strided add per kernel offset; its own
backward is average pooling again. On CUDA, max and average pooling of float32/float64 (sliding
and adaptive) are one kernel launch forward and one backward instead (_pool_cuda).
"""
import itertools
import math
from typing import NamedTuple

import numpy as np

from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node, also_of_input
from ...ops._util import xp_of
from ...ops.views import _index_add_at
from ..._threads import row_parts, run_parts
from . import _pool_cuda
from ..._select import select


class Geometry(NamedTuple):
    """One sliding-window pooling, per spatial dim: kernel, stride, padding, dilation, the input
    size and the output size (already checked against PyTorch's rules)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    in_size: tuple
    out_size: tuple

    def coordinates(self, i):
        """(out, kernel) table: the input position each window element reads along dim i."""
        o = np.arange(self.out_size[i])[:, None]
        k = np.arange(self.kernel[i])[None, :]
        return o * self.stride[i] - self.padding[i] + k * self.dilation[i]

    def reads_input(self):
        """Whether some window reads an input element (a dilated window over a tiny input can
        lie wholly in the padding: then every window does, along that dim)."""
        return all(((c >= 0) & (c < n)).any()
                   for c, n in ((self.coordinates(i), n) for i, n in enumerate(self.in_size)))

    def first_positions(self):
        """PyTorch's index of a window that reads no input: per dim, the window's first
        position that is not negative (past the input's end here), flat per plane."""
        flat = np.zeros((), dtype=np.int64)
        for i, step in enumerate(_plane_strides(self.in_size)):
            start = np.arange(self.out_size[i]) * self.stride[i] - self.padding[i]
            first = np.where(start < 0, start + -(start // self.dilation[i]) * self.dilation[i],
                             start)
            flat = flat[..., None] + first * step
        return flat

    def regions(self):
        """For each kernel offset n (row-major): (n, outputs, inputs), two tuples of slices of
        the spatial dims: the outputs whose window element at offset n lies inside the input,
        and the input elements they read. Offsets that only ever read padding are left out."""
        per_dim = []
        for k, s, p, dl, n_in, n_out in zip(*self):
            options = []
            for offset in range(k):
                shift = offset * dl - p       # input position of output o: o * s + shift
                first = min(max(0, -(shift // s)), n_out)
                last = min(n_out, max(first, (n_in - 1 - shift) // s + 1))
                start = first * s + shift
                options.append((slice(first, last),
                                slice(start, start + (last - first - 1) * s + 1, s)))
            per_dim.append(options)
        for n, choice in enumerate(itertools.product(*per_dim)):
            outputs = tuple(o for o, _ in choice)
            if all(o.stop > o.start for o in outputs):
                yield n, outputs, tuple(i for _, i in choice)

    def inside(self):
        """Whether every window lies wholly inside the input (no padding is ever read)."""
        return all(p == 0 and (n_out - 1) * s + (k - 1) * dl < n_in for k, s, p, dl, n_in, n_out
                   in zip(*self))


def _lowest(dtype):
    return -np.inf if dtype.kind == 'f' else np.iinfo(dtype).min


def _window_view(xp, a, geometry):
    """A read-only strided view (lead..., *out, *kernel) of an input that holds every window
    (geometry.inside()): no copy."""
    d = len(geometry.kernel)
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


# From this many elements per window, NumPy finds maxima quicker with one argmax over a copy of
# the windows as contiguous rows than with passes per window offset (8x8 windows: 40% less time;
# 3x3: twice the time). On CuPy the rows always win: a handful of launches, not a few per offset.
_ROWS_MIN_WINDOW = 16


def _by_rows(xp, window):
    """Whether windows of this shape take _max_and_argmax_by_rows."""
    return xp is not np or math.prod(window) >= _ROWS_MIN_WINDOW


def _max_and_argmax(xp, windows, d):
    """Max over the trailing d window axes of (lead..., *out, *win), and the window offset of the
    maximum as PyTorch's kernels pick it: the first maximum, or the last NaN."""
    win = windows.shape[windows.ndim - d:]
    if _by_rows(xp, win):
        return _max_and_argmax_by_rows(xp, windows, d)
    parts = [(n, (Ellipsis,), windows[(Ellipsis,) + offset])
             for n, offset in enumerate(np.ndindex(*win))]
    return _max_and_argmax_by_offsets(xp, windows.shape[:windows.ndim - d], windows.dtype, parts)


def _max_and_argmax_by_rows(xp, windows, d):
    """_max_and_argmax with each window copied into a row and one argmax (which takes the first
    maximum, as PyTorch, but the first NaN, where PyTorch takes the last)."""
    rows = windows.reshape(windows.shape[:windows.ndim - d] + (-1,))
    arg = rows.argmax(axis=-1)
    width = rows.shape[-1]
    if xp is not np:   # no device-to-host sync: the last NaN of every row, where there is one
        best = xp.take_along_axis(rows, arg[..., None], axis=-1)[..., 0]
        if best.dtype.kind == 'f':
            last_nan = (width - 1) - xp.isnan(rows[..., ::-1]).argmax(axis=-1)
            arg = select(xp, xp.isnan(best), last_nan, arg)
        return best, arg
    best = rows.reshape(-1).take(np.arange(0, arg.size * width, width).reshape(arg.shape) + arg)
    if best.dtype.kind == 'f':
        nan = np.isnan(best)   # the windows holding a NaN
        if nan.any():
            arg[nan] = width - 1 - np.isnan(rows[nan][:, ::-1]).argmax(axis=-1)
    return best, arg


def _max_and_argmax_by_offsets(xp, shape, dtype, parts):
    """The max of windows given offset by offset, and the offset of each maximum as in
    _max_and_argmax. parts: (n, outputs, values) for every window offset n in order: the
    outputs (an index of the result) whose windows have an element at offset n, and those
    elements. One output-sized pass or two per offset, in place."""
    best = xp.full(shape, _lowest(dtype), dtype=dtype)
    for _, outputs, values in parts:
        view = best[outputs]
        xp.maximum(view, values, out=view)  # NaN propagates
    # Backwards over the offsets, the first maximum wins: arg = n where window n holds the
    # maximum. As arithmetic, arg += hit * (n - arg), on small integers in whole arrays allocated
    # once: SIMD, where a masked copy (copyto(where=)) branches per element and is 50x slower,
    # and a region that is not the whole output (padding) iterates row by row, 5-20x slower.
    small = np.min_scalar_type(-(parts[-1][0] + 1))
    arg = xp.zeros(shape, dtype=small)
    hit = xp.empty(shape, dtype=bool)
    step = xp.empty(shape, dtype=small)
    for n, outputs, values in reversed(parts):
        hit_n = hit[outputs]
        if hit_n.shape != shape:   # outputs outside the region have no element at offset n
            hit.fill(False)
        xp.equal(values, best[outputs], out=hit_n)
        xp.subtract(n, arg, out=step)
        step *= hit
        arg += step
    if dtype.kind == 'f' and bool(xp.isnan(best).any()):
        for n, outputs, values in parts:   # forwards: the last NaN wins
            xp.copyto(arg[outputs], n, where=xp.isnan(values))
    return best, arg


def _flat_indices(xp, arg, tables, in_size):
    """The flat per-plane input index of each maximum, from its window offset."""
    d = len(tables)
    positions = _window_positions(tables, in_size)
    window_start = (np.arange(positions.shape[0]) * positions.shape[1]).reshape(
        arg.shape[arg.ndim - d:])
    return xp.take(xp.asarray(positions.reshape(-1)), arg + xp.asarray(window_start))


def scatter_add(xp, target, index, values):
    """target[index] += values for a 1-d target, repeated indices accumulating (in target's
    dtype, as PyTorch's CPU kernels add). Since NumPy 1.25 add.at has a fast loop for this case,
    quicker than a bincount over the whole target."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        _index_add_at(xp, target, index, values)


def _over_leading_parts(xp, a, fn):
    """fn(xp, a) -> an array or arrays whose first dim is a's: for a large NumPy input, over parts
    of a's first dim on the worker threads (_threads) and joined (each part's planes pool alone,
    so the result is the same)."""
    parts = row_parts(a.shape[0], a.size // max(a.shape[0], 1)) if xp is np else [None]
    if len(parts) == 1:
        return fn(xp, a)
    results = run_parts(lambda part: fn(xp, a[part]), parts)
    if isinstance(results[0], np.ndarray):
        return np.concatenate(results)
    return tuple(np.concatenate(pieces) for pieces in zip(*results))


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
        self._input_shape = a.shape
        self._cuda_spec = self._kernel_spec() if xp is not np else None
        result = None
        if self._cuda_spec is not None and _pool_cuda.usable(xp, a):   # one launch on CUDA
            result = _pool_cuda.max_forward(xp, a, self._cuda_spec, len(self.in_size))
        if result is None:
            values, arg = _over_leading_parts(xp, a, self._max_and_argmax)
            result = values, _flat_indices(xp, arg, self._tables(), self.in_size)
        self._indices = result[1]
        return result

    def backward(self, g, _):
        return also_of_input(dispatch(MaxPoolBackward(self._input_shape, len(self.in_size),
                                                      self.name(), self._disjoint(),
                                                      self._cuda_spec),
                                      g, Tensor._make(self._indices)), self)

    def _disjoint(self):
        return False

    def name(self):
        return self.node_name


class MaxPool(_MaxPoolBase):
    def __init__(self, geometry, node_name, op_name):
        self.geometry, self.node_name, self.op_name = geometry, node_name, op_name
        self.in_size = geometry.in_size
        self._reads_nothing = False

    def forward(self, a):
        if self.geometry.reads_input():
            return super().forward(a)
        # every window lies in the padding: PyTorch's lowest value, its index, no gradient
        if a.dtype.kind not in 'fiu':
            raise NotImplementedError(f'"{self.op_name}" not implemented for \'Bool\'')
        xp = xp_of(a)
        self._reads_nothing, self._input_shape = True, a.shape
        shape = a.shape[:a.ndim - len(self.in_size)] + self.geometry.out_size
        index = xp.asarray(self.geometry.first_positions())
        return (xp.full(shape, _lowest(a.dtype), dtype=a.dtype),
                xp.ascontiguousarray(xp.broadcast_to(index, shape)))

    def backward(self, g, _):
        if self._reads_nothing:
            return also_of_input(Tensor._make(xp_of(g._data).zeros(self._input_shape,
                                                                   g._data.dtype)), self)
        return super().backward(g, _)

    def _max_and_argmax(self, xp, a):
        g = self.geometry
        d = len(g.kernel)
        if _by_rows(xp, g.kernel) and g.inside():
            return _max_and_argmax_by_rows(xp, _window_view(xp, a, g), d)
        if xp is not np:
            return self._max_and_argmax_padded(xp, a)
        parts = [(n, (Ellipsis,) + outputs, a[(Ellipsis,) + inputs])
                 for n, outputs, inputs in g.regions()]
        return _max_and_argmax_by_offsets(xp, a.shape[:a.ndim - d] + g.out_size, a.dtype, parts)

    def _max_and_argmax_padded(self, xp, a):
        """_max_and_argmax by rows over a copy of the input padded with the lowest value (on
        CuPy: a handful of launches and no sync, where the offsets take a few per offset). A
        window whose maximum is that lowest value may pick a padding position: PyTorch picks its
        first position inside the input then, whose value is the same."""
        g = self.geometry
        d = len(g.kernel)
        lead, in_size = a.shape[:a.ndim - d], a.shape[a.ndim - d:]
        extent = [(o - 1) * s + (k - 1) * dl + 1
                  for o, s, k, dl in zip(g.out_size, g.stride, g.kernel, g.dilation)]
        padded_size = tuple(max(e, p + n) for e, p, n in zip(extent, g.padding, in_size))
        padded = xp.full(lead + padded_size, _lowest(a.dtype), dtype=a.dtype)
        padded[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(g.padding, in_size))] = a
        unpadded = g._replace(padding=(0,) * d, in_size=padded_size)
        best, arg = _max_and_argmax_by_rows(xp, _window_view(xp, padded, unpadded), d)
        # inside[o, n]: whether window o's element n lies in the input (host tables)
        inside = np.ones((1,) * (2 * d), bool)
        for i in range(d):
            coords = g.coordinates(i)
            axis_inside = (coords >= 0) & (coords < in_size[i])
            shape = [1] * (2 * d)
            shape[i], shape[d + i] = axis_inside.shape
            inside = inside & axis_inside.reshape(shape)
        inside = np.broadcast_to(inside, g.out_size + g.kernel).reshape(-1, math.prod(g.kernel))
        row_start = np.arange(inside.shape[0]).reshape(g.out_size) * inside.shape[1]
        chosen_inside = xp.take(xp.asarray(inside.reshape(-1)), arg + xp.asarray(row_start))
        first_inside = xp.asarray(inside.argmax(axis=1).reshape(g.out_size))
        return best, select(xp, chosen_inside, arg, first_inside)

    def _tables(self):
        return [self.geometry.coordinates(i) for i in range(len(self.in_size))]

    def _kernel_spec(self):
        g = self.geometry
        return _pool_cuda.spec(g.in_size, g.out_size, g.kernel, g.stride, g.padding,
                                   g.dilation)

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

    def _max_and_argmax(self, xp, a):
        return _max_and_argmax(xp, self._windows(xp, a), len(self.in_size))

    def _kernel_spec(self):
        return _pool_cuda.spec(self.in_size, self.out_size)

    def _windows(self, xp, a):
        # (lead..., o0, L0, o1, L1, ...): a reshape when every size divides evenly (the windows
        # are then a partition), else one take per axis, last first; then window axes last
        d, lead = len(self.in_size), a.ndim - len(self.in_size)
        if self._disjoint():
            windows = a.reshape(a.shape[:lead] + tuple(
                x for n, m in zip(self.in_size, self.out_size) for x in (m, n // m)))
        else:
            windows, tables = a, self._tables()
            for i in reversed(range(d)):
                windows = xp.take(windows, xp.asarray(tables[i]), axis=lead + i)
        order = (tuple(range(lead)) + tuple(lead + 2 * i for i in range(d))
                 + tuple(lead + 2 * i + 1 for i in range(d)))
        return windows.transpose(order)

    def _disjoint(self):
        return all(m and n % m == 0 for n, m in zip(self.in_size, self.out_size))


class MaxPoolBackward(Node):
    """The max-pool gradient: each output gradient added at its argmax (flat per-plane index)."""
    saved_inputs = (1,)

    def __init__(self, input_shape, spatial, forward_name, disjoint, cuda_spec=None):
        self.input_shape, self.spatial = input_shape, spatial
        self.forward_name, self.disjoint = forward_name, disjoint
        self.cuda_spec = cuda_spec      # the pooling's windows, for the CUDA kernel

    def forward(self, g, index):
        xp = xp_of(g)
        if self.cuda_spec is not None and _pool_cuda.usable(xp, g):   # one launch on CUDA
            grad = _pool_cuda.max_backward(xp, g, index, self.input_shape, self.cuda_spec,
                                           self.spatial)
            if grad is not None:
                return grad
        rows, plane = _planes(self.input_shape, self.spatial)
        out = xp.zeros(self.input_shape, dtype=g.dtype)  # not a view: .grad would copy one
        flat = out.reshape(-1)
        pos = (xp.arange(rows)[:, None] * plane + index.reshape(rows, -1)).reshape(-1)
        if self.disjoint:  # windows do not overlap: every input gets at most one gradient
            flat[pos] = g.reshape(-1)
        else:
            scatter_add(xp, flat, pos, g.reshape(-1))
        return out

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

    def cuda_spec(self):
        g = self.geometry
        return _pool_cuda.spec(g.in_size, g.out_size, g.kernel, g.stride, g.padding, g.dilation)

    def forward(self, a):
        xp = xp_of(a)
        g = self.geometry
        if xp is not np and _pool_cuda.usable(xp, a):   # one launch on CUDA
            out = _pool_cuda.average_forward(xp, a, self.cuda_spec(), len(g.kernel),
                                             self.count_include_pad, self.divisor_override)
            if out is not None:
                return out
        return _over_leading_parts(xp, a, self._average)

    def _average(self, xp, a):
        g = self.geometry
        sums = xp.zeros(a.shape[:a.ndim - len(g.kernel)] + g.out_size, _average_dtype(a.dtype))
        for _, outputs, inputs in g.regions():   # one strided add per kernel offset
            sums[(Ellipsis,) + outputs] += a[(Ellipsis,) + inputs]
        divisor = self.divisors()
        if a.dtype.kind in 'iu':  # C integer division truncates toward zero
            divisor = xp.asarray(divisor, dtype=sums.dtype)
            quotient = xp.abs(sums) // divisor
            return (select(xp, sums < 0, -quotient, quotient)).astype(a.dtype)
        out = sums / xp.asarray(divisor, dtype=sums.dtype)
        return out.astype(a.dtype, copy=False)

    def backward(self, g):
        # (a copy of this node: the backward is another graph node)
        return also_of_input(dispatch(AvgPoolBackward(self.replay_copy()), g), self)

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
        if xp is not np and _pool_cuda.usable(xp, g):   # one launch on CUDA
            grad = _pool_cuda.average_backward(
                xp, g, lead + geometry.in_size, self.pool.cuda_spec(), d,
                self.pool.count_include_pad, self.pool.divisor_override)
            if grad is not None:
                return grad
        return _over_leading_parts(xp, g, self._spread)

    def _spread(self, xp, g):
        geometry = self.pool.geometry
        lead = g.shape[:g.ndim - len(geometry.kernel)]
        acc = _average_dtype(g.dtype)
        share = g.astype(acc) / xp.asarray(self.pool.divisors(), dtype=acc)
        grad = xp.zeros(lead + geometry.in_size, dtype=acc)
        for _, outputs, inputs in geometry.regions():
            grad[(Ellipsis,) + inputs] += share[(Ellipsis,) + outputs]
        return grad.astype(g.dtype, copy=False)

    def backward(self, gg):
        return dispatch(self.pool.replay_copy(), gg)

    def name(self):
        return self.pool.node_name.replace('Backward0', 'BackwardBackward0')


class AdaptiveAvgPool(Node):
    """Adaptive average pooling on CUDA (float32/float64): one kernel each way (_pool_cuda),
    where the separable resampling of _resample (which the CPU uses) takes several launches per
    pooled dim. If the kernels do not compile, that resampling runs here instead."""

    def __init__(self, in_size, out_size, node_name, adjoint=False):
        self.in_size, self.out_size = tuple(in_size), tuple(out_size)
        self.node_name, self.adjoint = node_name, adjoint

    def forward(self, a):
        xp = xp_of(a)
        d = len(self.in_size)
        spec = _pool_cuda.spec(self.in_size, self.out_size)
        if self.adjoint:
            out = _pool_cuda.average_backward(xp, a, a.shape[:a.ndim - d] + self.in_size, spec, d)
        else:
            out = _pool_cuda.average_forward(xp, a, spec, d)
        return out if out is not None else self._resampling().forward(a)

    def _resampling(self):
        from ._resample import Resample, area_table, transposed
        tables = [area_table(n, m) for n, m in zip(self.in_size, self.out_size)]
        if self.adjoint:
            tables = [transposed(t, n) for t, n in zip(tables, self.in_size)]
        return Resample(tables, self.node_name)

    def backward(self, g):
        name = self.node_name
        other = name.replace('BackwardBackward0', 'Backward0') if self.adjoint else \
            name.replace('Backward0', 'BackwardBackward0')
        grad = dispatch(AdaptiveAvgPool(self.in_size, self.out_size, other, not self.adjoint), g)
        return grad if self.adjoint else also_of_input(grad, self)

    def name(self):
        return self.node_name
