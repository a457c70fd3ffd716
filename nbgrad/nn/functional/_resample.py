"""Separable resampling: interpolate (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear) and adaptive average pooling, as one graph node.

Each of these maps an input axis to an output axis with a small table: for every output position,
a few input positions (taps) and their weights. A table is (index, weight, divisor): index is an
(out, taps) integer array with -1 for unused taps, weight the matching weights (None: all ones),
divisor an optional per-output divisor (adaptive pooling divides window sums by their lengths).
The node applies the tables one axis at a time, last axis first as PyTorch's kernels do, each as
a few gathers and multiply-adds. The gradient of a table map is the map of its transposed table
(computed once, on the host), so the backward is the same node with other tables, and so is the
double backward.

The tables follow PyTorch's index and weight arithmetic (UpSample.h): the same scales, the same
float32 (or float64) operations in the same order, and the fused multiply-adds PyTorch's CPU build
contracts them into (found by matching its weights bit for bit), so float32 weights agree exactly.
"""
from typing import NamedTuple

import numpy as np

from ..._dispatch import dispatch
from ...autograd.graph import Node, also_of_input
from ...ops._util import xp_of
from ._pool_ops import adaptive_windows


class Table(NamedTuple):
    index: np.ndarray
    weight: object = None
    divisor: object = None


def _constant(values):
    """The one value of a host array whose entries are all equal (1.0 for None), else None."""
    if values is None:
        return 1.0
    flat = np.asarray(values).reshape(-1)
    return float(flat[0]) if flat.size and (flat == flat[0]).all() else None


def _uniform_form(table, in_len):
    """('blocks', k) when output o is the sum of inputs o*k .. o*k + k-1 (adaptive average
    pooling by an exact factor), ('repeat', k) when output o is input o // k (nearest upsampling
    by an integer factor, and the adjoint of 'blocks'), each with a constant weight and divisor;
    None for any other table. Shapes rule out most tables before any array is compared."""
    index, weight, divisor = table
    out_len, taps = index.shape
    if _constant(weight) is None or _constant(divisor) is None:
        return None
    if taps > 1 and out_len * taps == in_len and \
            (index == np.arange(in_len).reshape(out_len, taps)).all():
        return 'blocks', taps
    if taps == 1 and in_len and out_len > in_len and out_len % in_len == 0 and \
            (index[:, 0] == np.arange(out_len) // (out_len // in_len)).all():
        return 'repeat', out_len // in_len
    return None


def _apply_uniform(xp, a, axis, table, form):
    """_apply_table for a table of _uniform_form: one reduction or one repeat instead of a gather
    per tap (several times quicker, and no index arrays)."""
    kind, k = form
    weight, divisor = _constant(table.weight), _constant(table.divisor)
    if kind == 'repeat':  # scale the small input, then repeat it
        a = a * a.dtype.type(weight) if weight != 1.0 else a
        out = xp.repeat(a, k, axis=axis)
        return out / a.dtype.type(divisor) if divisor != 1.0 else out
    windows = a.reshape(a.shape[:axis] + (a.shape[axis] // k, k) + a.shape[axis + 1:])
    names = 'abcdefghijklmnopqrstuvwxyz'[:windows.ndim]   # einsum: SIMD sums of short windows
    out = xp.einsum(f'{names}->{names[:axis + 1] + names[axis + 2:]}', windows)
    if weight != 1.0:
        out *= a.dtype.type(weight)
    if divisor != 1.0:
        out /= a.dtype.type(divisor)
    return out


def _apply_table(xp, a, axis, table):
    """The resampling of a along one axis."""
    form = _uniform_form(table, a.shape[axis])
    if form is not None and (a.dtype.kind in 'fc' or table.weight is table.divisor is None):
        return _apply_uniform(xp, a, axis, table, form)
    index, weight, divisor = table
    if a.shape[axis] == 0:   # nothing to read (the gradient of an empty output): zeros
        return xp.zeros(a.shape[:axis] + (index.shape[0],) + a.shape[axis + 1:], a.dtype)
    safe = np.where(index < 0, 0, index)
    bshape = [1] * a.ndim
    bshape[axis] = -1
    out = None
    for t in range(index.shape[1]):
        column = xp.take(a, xp.asarray(safe[:, t]), axis=axis)
        if weight is not None:
            column *= xp.asarray(weight[:, t], dtype=a.dtype).reshape(bshape)
        unused = index[:, t] < 0
        if unused.any():  # a padding tap adds nothing (not even 0 * inf)
            column = xp.where(xp.asarray(~unused).reshape(bshape), column, 0)
        if out is None:
            out = column
        else:
            out += column
    if divisor is not None:
        out /= xp.asarray(divisor, dtype=a.dtype).reshape(bshape)
    return out


def transposed(table, in_len):
    """The table of the adjoint map (out -> in becomes in -> out): the gradient's table."""
    index, weight, divisor = table
    out_len, taps = index.shape
    w = np.ones(index.shape) if weight is None else np.asarray(weight, dtype=np.float64)
    if divisor is not None:
        w = w / np.asarray(divisor, dtype=np.float64)[:, None]
    used = index >= 0
    source = index[used]
    target = np.broadcast_to(np.arange(out_len)[:, None], index.shape)[used]
    w = w[used]
    order = np.argsort(source, kind='stable')
    source, target, w = source[order], target[order], w[order]
    counts = np.bincount(source, minlength=in_len)
    width = max(int(counts.max(initial=0)), 1)
    slot = np.arange(source.size) - (np.cumsum(counts) - counts)[source]
    new_index = np.full((in_len, width), -1, dtype=np.int64)
    new_index[source, slot] = target
    if weight is None and divisor is None:
        return Table(new_index)
    new_weight = np.zeros((in_len, width), dtype=w.dtype)
    new_weight[source, slot] = w
    return Table(new_index, new_weight)


class Resample(Node):
    """Resampling of the trailing spatial dims by per-axis tables (None: axis unchanged)."""

    def __init__(self, tables, node_name, adjoint_name=None):
        self.tables, self.node_name = tuple(tables), node_name
        self.adjoint_name = adjoint_name or node_name.replace('Backward0', 'BackwardBackward0')

    def forward(self, a):
        xp = xp_of(a)
        d = len(self.tables)
        self._in_size = a.shape[a.ndim - d:]
        work = a.astype(np.float32) if a.dtype == np.float16 else a  # float16 works in float32
        for i in reversed(range(d)):
            if self.tables[i] is not None:
                work = _apply_table(xp, work, a.ndim - d + i, self.tables[i])
        if work is a:
            work = a.copy()
        return work.astype(a.dtype, copy=False)

    def backward(self, g):
        adjoint = tuple(None if t is None else transposed(t, n)
                        for t, n in zip(self.tables, self._in_size))
        grad = dispatch(Resample(adjoint, self.adjoint_name, self.node_name), g)
        # adaptive average pooling's backward is a function of its input too; upsampling's not
        adaptive_pool = self.node_name.startswith('AdaptiveAvgPool') and \
            not self.node_name.endswith('BackwardBackward0')
        return also_of_input(grad, self) if adaptive_pool else grad

    def name(self):
        return self.node_name


# ---------------------------------------------------------------------------------------------
# Tables (PyTorch's UpSample.h arithmetic; cd is the compute dtype, float32 or float64)
# ---------------------------------------------------------------------------------------------

def area_table(in_len, out_len):
    """Adaptive average pooling's windows (mode='area' of interpolate)."""
    index = adaptive_windows(in_len, out_len)
    return Table(index, None, (index >= 0).sum(axis=1).astype(np.float64))


def _scale_value(in_len, out_len, scale, cd):
    """compute_scales_value: 1/scale when the caller gave a scale, else in/out."""
    if scale is not None and scale > 0:
        return cd(1.0 / scale)
    return cd(in_len) / cd(out_len)


def _pixel_scale(in_len, out_len, align_corners, scale, cd):
    """area_pixel_compute_scale."""
    if align_corners:
        return cd(in_len - 1) / cd(out_len - 1) if out_len > 1 else cd(0)
    return _scale_value(in_len, out_len, scale, cd)


def _fma(a, b, c, cd):
    """a * b + c rounded once, as a fused multiply-add (for float32: exact in float64 first)."""
    if cd == np.float32:
        return (np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.float64(c)).astype(cd)
    return a * b + c


def _source_index(ratio, out_len, align_corners, cubic, cd):
    """area_pixel_compute_source_index for every output position."""
    o = np.arange(out_len).astype(cd)
    if align_corners:
        return ratio * o
    real = _fma(ratio, o + cd(0.5), -0.5, cd)
    return real if cubic else np.where(real < 0, cd(0), real)


def _floor_and_fraction(real, in_len, cd):
    """guard_index_and_lambda: the index below (at most in_len - 1) and the clamped fraction."""
    index = np.minimum(np.floor(real).astype(np.int64), in_len - 1)
    return index, np.minimum(np.maximum(real - index.astype(cd), cd(0)), cd(1))


def nearest_table(in_len, out_len, scale, exact, shortcuts=True):
    """shortcuts: PyTorch's 2-D nearest kernel copies an axis whose length is kept and halves
    the index of one doubled, whatever scale_factor says (nearest_idx); its 1-D and 3-D
    kernels always compute floor(o * scale)."""
    o = np.arange(out_len)
    if not exact and shortcuts and out_len == in_len:
        index = o
    elif not exact and shortcuts and out_len == 2 * in_len:
        index = o >> 1
    else:
        s = _scale_value(in_len, out_len, scale, np.float32)
        if exact:  # floorf((i + 0.5) * scale): a double product rounded to float
            source = ((o + 0.5) * np.float64(s)).astype(np.float32)
        else:
            source = o.astype(np.float32) * s
        index = np.minimum(np.floor(source).astype(np.int64), in_len - 1)
    return Table(index[:, None])


def linear_table(in_len, out_len, align_corners, scale, cd):
    if out_len == in_len:
        o = np.arange(out_len)
        return Table(np.stack([o, o], axis=1),
                     np.stack([np.ones(out_len, cd), np.zeros(out_len, cd)], axis=1))
    ratio = _pixel_scale(in_len, out_len, align_corners, scale, cd)
    i0, lambda1 = _floor_and_fraction(_source_index(ratio, out_len, align_corners, False, cd),
                                      in_len, cd)
    i1 = i0 + (i0 < in_len - 1)
    return Table(np.stack([i0, i1], axis=1), np.stack([cd(1) - lambda1, lambda1], axis=1))


def cubic_coefficients(t, A=-0.75):
    """get_cubic_upsample_coefficients (A = -0.75), for arrays or Tensors of fractions t."""
    def near(x):   # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return [far(t + 1), near(t), near(1 - t), far((1 - t) + 1)]


def _cubic_table_weights(t, cd):
    """cubic_coefficients with the multiply-adds PyTorch's CPU kernel fuses."""
    A = cd(-0.75)

    def near(x):
        return _fma(A + 2, x, -(A + 3), cd) * x * x + cd(1)

    def far(x):
        return _fma(_fma(A, x, -(5 * A), cd), x, 8 * A, cd) * x - 4 * A

    return [far(t + cd(1)), near(t), near(cd(1) - t), far((cd(1) - t) + cd(1))]


def cubic_table(in_len, out_len, align_corners, scale, cd):
    ratio = _pixel_scale(in_len, out_len, align_corners, scale, cd)
    base, t = _floor_and_fraction(_source_index(ratio, out_len, align_corners, True, cd),
                                  in_len, cd)
    index = np.clip(base[:, None] - 1 + np.arange(4)[None, :], 0, in_len - 1)
    weights = _cubic_table_weights(t, cd)
    return Table(index, np.stack([w.astype(cd) for w in weights], axis=1))


# Antialiased resampling (interpolate(antialias=True); PyTorch's _compute_weights_aa): each
# output reads a window of inputs around its centre, weighted by a filter that is widened by the
# scale when shrinking (so every input contributes: no aliasing) and normalized to sum to 1.
def _aa_linear(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0.0)


def _aa_cubic(x, a=-0.5):   # Keys' a = -0.5, as PIL (plain bicubic uses -0.75)
    x = np.abs(x)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _aa_lanczos(x, a=3):
    x = np.abs(x)
    return np.where(x < a, np.sinc(x) * np.sinc(x / a), 0.0)


AA_FILTERS = {'bilinear': (_aa_linear, 2), 'bicubic': (_aa_cubic, 4),
              'lanczos': (_aa_lanczos, 6)}


def aa_table(in_len, out_len, align_corners, scale, cd, mode):
    """The antialiased table of mode (bilinear, bicubic or lanczos) along one axis: per output,
    its window's input positions (-1: unused) and normalized filter weights. An axis whose
    length is kept is copied, whatever scale_factor says (as PyTorch's kernels)."""
    if out_len == in_len:
        return Table(np.arange(out_len)[:, None], np.ones((out_len, 1), cd))
    filter_fn, interp_size = AA_FILTERS[mode]
    ratio = float(_pixel_scale(in_len, out_len, align_corners, scale, np.float64))
    widen = ratio >= 1.0
    support = interp_size * 0.5 * (ratio if widen else 1.0)
    centre = ratio * (np.arange(out_len) + 0.5)
    low = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    high = np.minimum((centre + support + 0.5).astype(np.int64), in_len)
    taps = int(np.ceil(support)) * 2 + 1
    index = low[:, None] + np.arange(taps)[None, :]
    used = index < high[:, None]
    weight = np.where(used, filter_fn((index - centre[:, None] + 0.5) /
                                      (ratio if widen else 1.0)), 0.0)
    total = weight.sum(axis=1, keepdims=True)
    weight = np.divide(weight, total, out=weight, where=total != 0)
    return Table(np.where(used, index, -1), weight.astype(cd))
