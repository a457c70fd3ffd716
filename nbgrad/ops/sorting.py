"""Sorting, selection and counting: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode,
quantile/nanquantile, cummax/cummin, logcumsumexp, unique/unique_consecutive,
searchsorted/bucketize, bincount, histc/histogram, isin, diff, trapezoid/trapz/cumulative_trapezoid.

Conventions shared by these ops (PyTorch's, checked against torch 2.x on the CPU):
- NaN sorts as the largest value: last in ascending order, first in descending order.
- Equal elements keep their input order (a stable sort) everywhere, whether or not `stable=True`.
  PyTorch only promises that for stable=True; its CPU introsort happens to be stable for rows of up
  to 16 elements and differs beyond that. Any order of ties is a correct answer there.
- Ops that select elements (sort, topk, kthvalue, median(dim), mode, cummax...) return
  (values, indices); the values are differentiable and their gradient goes to the selected input
  elements, the int64 indices are not differentiable.
- Ops that PyTorch marks as not differentiable but whose float outputs still carry a grad_fn
  (unique, bincount with weights, histogram) do the same here; their backward raises PyTorch's
  error.
"""
import builtins

import numpy as np

from .. import _dtype
from .._dispatch import dispatch, _type_word
from .._tensor import Tensor
from ..autograd.graph import Node
from ..return_types import return_type
from ._util import as_operand, promote, wrap_dim, xp_of

# This module defines `sorted`, `min`/`max` keyword arguments and `range` parameters the way torch
# names them; Python's builtins are reached as builtins.<name>.



# ---------------------------------------------------------------------------------------------
# Array helpers (NumPy or CuPy, whichever the input lives on)
# ---------------------------------------------------------------------------------------------

def _check_sortable(a, name='sort'):
    if a.dtype.kind == 'c':
        raise RuntimeError(f'{name}(): Sort does not support complex dtypes on CPU')


def _stable_argsort(a, axis, descending):
    """Indices that sort `a` along `axis`; ties keep input order; NaN is the largest value.

    NumPy/CuPy already put NaN last in ascending order. For descending order, sort the reversed
    array ascending and reverse the result back: ties then come out in input order too (a plain
    argsort of -a would not work for unsigned and bool dtypes, and would move NaN)."""
    xp = xp_of(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind='stable').astype(np.int64, copy=False)
    n = a.shape[axis]
    reversed_order = xp.argsort(xp.flip(a, axis), axis=axis, kind='stable')
    return (n - 1 - xp.flip(reversed_order, axis)).astype(np.int64, copy=False)


def _positions(xp, shape, axis):
    """0, 1, ..., n-1 along `axis`, shaped to broadcast against an array of `shape`."""
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return xp.arange(shape[axis], dtype=np.int64).reshape(view)


def _accumulate(a, ufunc_name, axis):
    """ufunc.accumulate along axis. NumPy scans sequentially (as PyTorch's CPU kernels do); CuPy
    does not have accumulate for every ufunc, so it gets a log-step (Hillis-Steele) scan instead."""
    xp = xp_of(a)
    fn = getattr(xp, ufunc_name)
    if xp is np:
        return fn.accumulate(a, axis=axis)
    out = xp.moveaxis(a, axis, -1).copy()
    n, step = out.shape[-1], 1
    while step < n:
        out[..., step:] = fn(out[..., step:], out[..., :-step])
        step *= 2
    return xp.moveaxis(out, -1, axis)


def _promote(values):
    """PyTorch's result dtype for arrays and Python scalars.

    Works around nbgrad._dtype.promote_types following NumPy across categories (int64 with float32
    gives float64 there; PyTorch keeps float32). In PyTorch an integer or bool tensor never widens
    a float one, so when both kinds are present the float operands (and scalars) alone decide."""
    dtype = promote(values)
    arrays = [v for v in values if hasattr(v, 'dtype')]
    floats = [a for a in arrays if a.dtype.kind in 'fc']
    if dtype.kind in 'fc' and floats and len(floats) < len(arrays):
        candidate = promote(floats + [v for v in values if not hasattr(v, 'dtype')])
        if candidate.kind == dtype.kind:
            dtype = candidate
    return dtype


def _cast_tensors(tensors):
    """Tensors (None skipped) cast to their common dtype, by _promote's rules (differentiably)."""
    present = [t for t in tensors if t is not None]
    dtype = _promote([t._data for t in present])
    target = _dtype.from_numpy_dtype(dtype)
    return [t if t is None or t._data.dtype == dtype else t.to(target) for t in tensors]


def _is_float(a):
    return a.dtype.kind == 'f'


def _word(a):
    return _type_word(a.dtype)


# ---------------------------------------------------------------------------------------------
# Ops that select elements along a dim: (values, indices)
# ---------------------------------------------------------------------------------------------

def _scatter_back(g, indices, dim, keepdim, input_shape):
    """The gradient of values = input.take_along_dim(indices, dim): g summed into the picked places.

    scatter_add rather than a plain write: cummax/cummin pick the same element many times. Built
    from Tensor ops, so double backward works (scatter_add's backward is a gather)."""
    if not input_shape:
        return g.reshape(())
    if not keepdim:
        g = g.unsqueeze(dim)
        indices = xp_of(indices).expand_dims(indices, dim)
    return g.new_zeros(input_shape).scatter_add(dim, Tensor._make(indices), g)


class _SelectAlongDim(Node):
    """Base for ops returning (values, indices) with values = input gathered at indices along dim.

    Subclasses implement `_select(a, dim)`, returning int64 indices with the dim kept (size 1 for
    reductions, n for sort, k for topk); forward gathers the values and drops the dim unless
    keepdim. A 0-dim input is handled as a 1-element vector."""
    num_outputs = 2
    non_differentiable_outputs = (1,)
    keepdim = True   # sort, topk, cummax/cummin: outputs have the input's number of dims
    op_name = None

    def forward(self, a):
        self._check(a)
        self._input_shape = a.shape
        xp = xp_of(a)
        zero_dim = a.ndim == 0
        d = 0 if zero_dim else self.dim
        if zero_dim:
            a = a.reshape(1)
        idx = self._select(a, d)
        values = xp.take_along_axis(a, idx, axis=d)
        if zero_dim:
            values, idx = values.reshape(()), idx.reshape(())
        elif not self.keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        self._indices = idx
        return values, idx

    def _check(self, a):
        pass

    def _check_reduction(self, a):
        """Reductions (kthvalue, median, mode) need at least one element along dim."""
        if a.ndim and a.shape[self.dim] == 0:
            raise IndexError(f'{self.op_name}(): Expected reduction dim {self.dim} to have '
                             f'non-zero size.')

    def backward(self, g, _):
        return _scatter_back(g, self._indices, self.dim, self.keepdim, self._input_shape)


class Sort(_SelectAlongDim):
    op_name = 'sort'

    def __init__(self, dim, descending, stable):
        self.dim, self.descending, self.stable = dim, descending, stable

    def _check(self, a):
        _check_sortable(a)

    def _select(self, a, d):
        return _stable_argsort(a, d, self.descending)

    def name(self):
        return 'SortBackward1' if self.stable else 'SortBackward0'


class ArgSort(Node):
    differentiable = False

    def __init__(self, dim, descending):
        self.dim, self.descending = dim, descending

    def forward(self, a):
        _check_sortable(a, 'argsort')
        if a.ndim == 0:
            return xp_of(a).zeros((), np.int64)
        return _stable_argsort(a, self.dim, self.descending)


class TopK(_SelectAlongDim):
    """The k largest (or smallest) elements, in sorted order (also for sorted=False, which lets
    PyTorch return them in any order)."""
    op_name = 'topk'

    def __init__(self, k, dim, largest, sorted):
        self.k, self.dim, self.largest, self.sorted = k, dim, largest, sorted

    def _check(self, a):
        if a.dtype.kind == 'b':
            raise RuntimeError('topk does not support bool dtypes on CPU')
        _check_sortable(a, 'topk')
        size = a.shape[self.dim] if a.ndim else 1
        if not 0 <= self.k <= size:
            raise RuntimeError('selected index k out of range')

    def _select(self, a, d):
        order = _stable_argsort(a, d, self.largest)
        k = self.k if self._input_shape else 1  # PyTorch returns the element itself for 0-dim, k=0
        return order[(slice(None),) * d + (slice(0, k),)]

    def name(self):
        return 'TopkBackward0'


class KthValue(_SelectAlongDim):
    op_name = 'kthvalue'

    def __init__(self, k, dim, keepdim):
        self.k, self.dim, self.keepdim = k, dim, keepdim

    def _check(self, a):
        if a.dtype.kind == 'b':
            raise NotImplementedError('"kthvalue_cpu" not implemented for \'Bool\'')
        _check_sortable(a, 'kthvalue')
        self._check_reduction(a)
        size = a.shape[self.dim] if a.ndim else 1
        if not 1 <= self.k <= size:
            raise RuntimeError(f'kthvalue(): selected number k out of range for dimension '
                               f'{self.dim}')

    def _select(self, a, d):
        order = _stable_argsort(a, d, False)
        return order[(slice(None),) * d + (slice(self.k - 1, self.k),)]

    def name(self):
        return 'KthvalueBackward0'


class MedianDim(_SelectAlongDim):
    """median(dim) / nanmedian(dim): the lower median of each slice.

    median: a slice holding NaN has median NaN, at the index of its first NaN (as PyTorch).
    nanmedian: the lower median of the non-NaN elements; an all-NaN slice gives NaN at index 0."""

    def __init__(self, dim, keepdim, ignore_nan):
        self.dim, self.keepdim, self.ignore_nan = dim, keepdim, ignore_nan
        self.op_name = 'nanmedian' if ignore_nan else 'median'

    def _check(self, a):
        if a.dtype.kind == 'b':
            raise NotImplementedError(f'"{self.op_name}_cpu" not implemented for \'Bool\'')
        _check_sortable(a, self.op_name)
        self._check_reduction(a)

    def _select(self, a, d):
        xp = xp_of(a)
        order = _stable_argsort(a, d, False)
        n = a.shape[d]
        k = (n - 1) // 2
        median = order[(slice(None),) * d + (slice(k, k + 1),)]
        if not _is_float(a):
            return median
        nan = xp.isnan(a)
        if self.ignore_nan:
            count = n - nan.sum(axis=d, keepdims=True)            # NaNs sort last
            k = xp.maximum((count - 1) // 2, 0).astype(np.int64)
            return xp.take_along_axis(order, k, axis=d)
        first_nan = xp.argmax(nan, axis=d, keepdims=True).astype(np.int64)
        return xp.where(nan.any(axis=d, keepdims=True), first_nan, median)

    def name(self):
        return ('Nanmedian' if self.ignore_nan else 'Median') + 'Backward1'


class Mode(_SelectAlongDim):
    """The most frequent value of each slice; among equally frequent values the smallest, at the
    index of its last occurrence (PyTorch scans its sorted copy of the slice). NaN != NaN, so
    every NaN counts once."""
    op_name = 'mode'

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def _check(self, a):
        _check_sortable(a, 'mode')
        self._check_reduction(a)

    def _select(self, a, d):
        xp = xp_of(a)
        moved = xp.moveaxis(a, d, -1)
        n = moved.shape[-1]
        rows = moved.reshape(-1, n)
        order = _stable_argsort(rows, 1, False)
        s = xp.take_along_axis(rows, order, axis=1)
        starts = xp.ones(s.shape, bool)
        starts[:, 1:] = s[:, 1:] != s[:, :-1]
        ends = xp.ones(s.shape, bool)
        ends[:, :-1] = starts[:, 1:]
        pos = xp.arange(n, dtype=np.int64)
        run_start = _accumulate(xp.where(starts, pos, 0), 'maximum', 1)
        run_length = xp.where(ends, pos - run_start + 1, 0)
        best = xp.argmax(run_length, axis=1)[:, None]             # first longest run: smallest
        idx = xp.take_along_axis(order, best, axis=1)            # last element of that run
        return xp.moveaxis(idx.reshape(moved.shape[:-1] + (1,)), -1, d)

    def name(self):
        return 'ModeBackward0'


class CumMaxMin(_SelectAlongDim):
    """cummax/cummin: running max/min and where it was last attained.

    PyTorch's CPU loop updates (value, index) when the new element is >= (<=) the running value or
    is NaN; so ties point at the latest equal element and a NaN propagates, pointing at the latest
    NaN. Equivalently: index[i] = last j <= i with a[j] == value[j] (NaN matching NaN)."""

    def __init__(self, is_max, dim):
        self.is_max, self.dim = is_max, dim
        self.op_name = 'cummax' if is_max else 'cummin'

    def forward(self, a):
        self._input_shape = a.shape
        xp = xp_of(a)
        if a.ndim == 0:
            self._indices = xp.zeros((), np.int64)
            return a.copy(), self._indices
        d = self.dim
        values = _accumulate(a, 'maximum' if self.is_max else 'minimum', d)
        attained = a == values
        if _is_float(a):
            attained |= xp.isnan(a) & xp.isnan(values)
        pos = _positions(xp, a.shape, d)
        idx = _accumulate(xp.where(attained, pos, 0), 'maximum', d)
        self._indices = idx
        return values, idx

    def name(self):
        return ('Cummax' if self.is_max else 'Cummin') + 'Backward0'


# ---------------------------------------------------------------------------------------------
# Reductions to one value: median(), nanmedian()
# ---------------------------------------------------------------------------------------------

class MedianAll(Node):
    """median()/nanmedian() of all elements (lower median). As in PyTorch, the gradient is shared
    evenly by all elements equal to the result (all NaNs when the result is NaN)."""
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, ignore_nan):
        self.ignore_nan = ignore_nan

    def forward(self, a):
        name = 'nanmedian' if self.ignore_nan else 'median'
        if a.dtype.kind == 'b':
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
        _check_sortable(a, name)
        xp = xp_of(a)
        flat = a.reshape(-1)
        if _is_float(a):
            nan = xp.isnan(flat)
            if self.ignore_nan:
                flat = flat[~nan]
            elif bool(nan.any()):
                return xp.full((), np.nan, a.dtype)
        n = flat.size
        if n == 0:
            # PyTorch: NaN for floats; for integers the lowest value (an empty median has no value)
            fill = np.nan if _is_float(a) else np.iinfo(a.dtype).min
            return xp.full((), fill, a.dtype)
        k = (n - 1) // 2
        return xp.partition(flat, k)[k:k + 1].reshape(())

    def backward(self, g):
        (x,) = self.saved_tensors
        y = self.saved_output()
        mask = x == y
        if x.is_floating_point():
            mask = mask | (x.isnan() & y.isnan())
        return g * mask / mask.sum()

    def name(self):
        return ('Nanmedian' if self.ignore_nan else 'Median') + 'Backward0'


# ---------------------------------------------------------------------------------------------
# logcumsumexp
# ---------------------------------------------------------------------------------------------

class LogCumSumExp(Node):
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, a):
        if a.dtype.kind != 'f':
            # PyTorch supports complex here too; NumPy has no complex logaddexp
            raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{_word(a)}\'')
        if a.ndim == 0:
            return a.copy()
        return _accumulate(a, 'logaddexp', self.dim)

    def backward(self, g):
        """PyTorch's formula: sum_{i>=j} g_i exp(x_j - y_i), split by the sign of g so that it can
        be computed with logcumsumexp itself (stable, and differentiable again)."""
        (x,) = self.saved_tensors
        y = self.saved_output()
        if x.dim() == 0:
            return g
        d = self.dim
        from .elementwise import where
        lowest = float(np.finfo(x._data.dtype).min)   # log(0) without -inf - -inf = nan

        def reverse_logcumsumexp(t):
            return logcumsumexp(t.flip(d), d).flip(d)
        log_abs = g.abs().log()
        log_pos = where(g > 0, log_abs, lowest)
        log_neg = where(g < 0, log_abs, lowest)
        return (reverse_logcumsumexp(log_pos - y) + x).exp() - \
            (reverse_logcumsumexp(log_neg - y) + x).exp()

    def name(self):
        return 'LogcumsumexpBackward0'


# ---------------------------------------------------------------------------------------------
# unique / unique_consecutive
# ---------------------------------------------------------------------------------------------

class _NotDifferentiable(Node):
    """An op whose float outputs get a grad_fn (as in PyTorch) that refuses to run backward."""
    error = NotImplementedError
    message = ''

    def backward(self, *grads):
        raise self.error(self.message)


class Unique(_NotDifferentiable):
    """Returns (values, inverse, counts) always; the public functions pick what was asked for.

    Equal elements are grouped after a stable sort (or as they come, for unique_consecutive);
    NaN != NaN, so every NaN is its own group, as in PyTorch. sorted=False also sorts (PyTorch's
    CPU result is sorted too). With dim, whole slices along dim are compared, in lexicographic
    order."""
    num_outputs = 3
    non_differentiable_outputs = (1, 2)

    def __init__(self, dim, consecutive):
        self.dim, self.consecutive = dim, consecutive
        self.message = ("the derivative for 'unique_consecutive' is not implemented." if consecutive
                        else "the derivative for '_unique2' is not implemented." if dim is None
                        else "the derivative for 'unique_dim' is not implemented.")

    def forward(self, a):
        xp = xp_of(a)
        if self.dim is None:
            rows = a.reshape(-1, 1)
        else:
            if a.ndim == 0:
                raise IndexError(f'Dimension specified as {self.dim} but tensor has no dimensions')
            if a.size == 0 and a.shape[self.dim] != 0:
                raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                                   "unique cannot be applied")
            moved = xp.moveaxis(a, self.dim, 0)
            rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
        n = rows.shape[0]
        if self.consecutive:
            order = None
            s = rows
        else:
            if rows.shape[1] == 1:
                order = _stable_argsort(rows[:, 0], 0, False)
            elif rows.shape[1] == 0:   # nothing to compare: all (empty) slices are equal
                order = xp.arange(n, dtype=np.int64)
            else:
                order = xp.lexsort(rows.T[::-1]).astype(np.int64)  # column 0 is the primary key
            s = rows[order]
        starts = xp.ones(n, bool)
        starts[1:] = (s[1:] != s[:-1]).any(axis=1)
        group = xp.cumsum(starts, dtype=np.int64) - 1
        if order is None:
            inverse = group
        else:
            inverse = xp.empty(n, np.int64)
            inverse[order] = group
        first = xp.nonzero(starts)[0]
        counts = xp.diff(xp.concatenate([first, xp.asarray([n], np.int64)])).astype(np.int64)
        values = s[starts]
        if self.dim is None:
            return values.reshape(-1), inverse.reshape(a.shape), counts
        values = values.reshape((values.shape[0],) + moved.shape[1:])
        return xp.moveaxis(values, 0, self.dim), inverse, counts

    def name(self):
        if self.consecutive:
            return 'UniqueConsecutiveBackward0'
        return 'Unique2Backward0' if self.dim is None else 'UniqueDimBackward0'


def _unique_result(out, return_inverse, return_counts):
    values, inverse, counts = out
    result = (values,) + ((inverse,) if return_inverse else ()) + \
        ((counts,) if return_counts else ())
    return result if len(result) > 1 else values


# ---------------------------------------------------------------------------------------------
# searchsorted / bucketize
# ---------------------------------------------------------------------------------------------

def _binary_search(seq, values, right, sorter):
    """PyTorch's lower_bound/upper_bound loop, run for every value at once.

    seq: (B, N), values: (B, M), sorter: (B, N) or None -> (B, M) int64. Reproducing the loop
    (rather than calling np.searchsorted) gives PyTorch's answers for NaN too: the test
    `!(mid >= v)` is true for a NaN on either side, so a NaN value lands at N, and a NaN at the end
    of seq counts as smaller than every value (NumPy would count it as larger).
    Each step halves every active interval, so N.bit_length() steps finish all searches."""
    xp = xp_of(seq)
    b, n = seq.shape
    start = xp.zeros(values.shape, np.int64)
    end = xp.full(values.shape, n, np.int64)
    rows = xp.arange(b)[:, None]
    for _ in range(n.bit_length()):
        active = start < end
        mid = start + ((end - start) >> 1)
        probe = xp.minimum(mid, n - 1)
        if sorter is not None:
            probe = sorter[rows, probe]
        mid_value = seq[rows, probe]
        go_right = ~(mid_value > values) if right else ~(mid_value >= values)
        start = xp.where(active & go_right, mid + 1, start)
        end = xp.where(active & ~go_right, mid, end)
    return start


class SearchSorted(Node):
    differentiable = False

    def __init__(self, right, out_int32, name='searchsorted'):
        self.right, self.out_int32, self.op_name = right, out_int32, name

    def forward(self, seq, values, sorter=None):
        xp = xp_of(seq)
        where = f'torch.{self.op_name}(): '
        if seq.ndim == 0:
            raise RuntimeError(f'{where}boundaries tensor should have positive dimension, but got '
                               f'0 dimension')
        scalar = values.__class__ in (bool, int, float)
        if scalar:
            values = xp.asarray(values, dtype=_promote([seq, values]))
        if seq.ndim > 1:
            if values.ndim == 0:
                raise RuntimeError(f'{where}input value can be a scalar only when boundaries tensor'
                                   f' dimension is 1, but we got boundaries tensor dim({seq.ndim}) '
                                   f"and input value's dim({values.ndim}) numel({values.size})")
            if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
                raise RuntimeError(f'{where}boundaries tensor should be 1 dimension or the first '
                                   f'N-1 dimensions of boundaries tensor and input value tensor '
                                   f'must match, but we got boundaries tensor {list(seq.shape)} '
                                   f'and input value tensor {list(values.shape)}')
        if sorter is not None:
            if sorter.shape != seq.shape:
                raise RuntimeError(f'{where}boundary and sorter must have the same size, but got '
                                   f'boundary tensor {list(seq.shape)}and got sorter tensor '
                                   f'{list(sorter.shape)}')
            if sorter.dtype != np.int64:
                raise RuntimeError(f'{where}sorter must be a tensor of long dtype but got dtype '
                                   f'{_word(sorter)}')
            if sorter.size and (int(sorter.min()) < 0 or int(sorter.max()) >= seq.shape[-1]):
                raise RuntimeError(f'{where}sorter index out of range')
        dtype = _promote([seq, values])
        seq, values = seq.astype(dtype, copy=False), values.astype(dtype, copy=False)
        # one row of boundaries per row of values (a single row for 1-D boundaries)
        n = seq.shape[-1]
        rows = int(np.prod(seq.shape[:-1]))
        flat_values = values.reshape(rows, values.size // rows if rows else 0)
        result = _binary_search(seq.reshape(rows, n), flat_values, self.right,
                                None if sorter is None else sorter.reshape(rows, n))
        return result.reshape(values.shape).astype(np.int32 if self.out_int32 else np.int64,
                                                   copy=False)


# ---------------------------------------------------------------------------------------------
# bincount / histc / histogram
# ---------------------------------------------------------------------------------------------

class Bincount(_NotDifferentiable):
    error = RuntimeError
    message = 'derivative for aten::bincount is not implemented'

    def __init__(self, minlength):
        self.minlength = minlength

    def forward(self, x, weights=None):
        xp = xp_of(x)
        if x.dtype.kind not in 'iu':
            raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_word(x)}\'')
        if self.minlength < 0:
            raise RuntimeError('minlength should be >= 0')
        if x.ndim != 1 or (x.size and int(x.min()) < 0):
            raise RuntimeError('bincount only supports 1-d non-negative integral inputs.')
        if weights is not None and (weights.ndim != 1 or weights.shape[0] != x.shape[0]):
            raise RuntimeError('weights should be 1-d and have the same length as input')
        x = x.astype(np.int64, copy=False)
        if weights is None or x.size == 0:   # PyTorch: empty input gives int64, weights or not
            return xp.bincount(x, minlength=self.minlength).astype(np.int64, copy=False)
        # float32/float64 weights keep their dtype; any other weights count in float64 (PyTorch)
        out_dtype = weights.dtype if weights.dtype in (np.float32, np.float64) else np.float64
        return xp.bincount(x, weights=weights.astype(np.float64),
                           minlength=self.minlength).astype(out_dtype)

    def name(self):
        return 'NotImplemented'


def _check_histogram_dtype(a, kernel):
    if a.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(a)}\'')


def _torch_linspace(xp, start, end, steps, dtype):
    """torch.linspace's CPU formula, so that histogram's bin edges (and so the bins of values lying
    on them) match PyTorch's: the first half counts up from start, the second half down from end
    (both ends exact), each value one fused multiply-add of the dtype's step (PyTorch's kernels are
    compiled with FMA contraction), emulated here in a wider float and rounded once."""
    wide = np.float64 if dtype == np.float32 else np.longdouble
    start, end = dtype.type(start), dtype.type(end)
    step = wide((end - start) / dtype.type(builtins.max(steps - 1, 1)))
    i = np.arange(steps)
    up = wide(start) + step * i.astype(wide)
    down = wide(end) - step * (steps - 1 - i).astype(wide)
    return xp.asarray(np.where(i < steps // 2, up, down).astype(dtype))


def _bin_positions(flat, edges, linear, local_search):
    """Bin of each element of `flat`, -1 where it falls outside [edges[0], edges[-1]] or is NaN.

    PyTorch's histogram kernel: with evenly spaced edges the bin is found by one division (histc),
    optionally corrected by looking at the neighbouring edges (histogram with a bin count);
    otherwise by binary search (histogram with explicit edges). The last bin includes its right
    edge."""
    xp = xp_of(flat)
    nb = edges.shape[0]
    lo, hi = edges[0], edges[nb - 1]
    inside = (flat >= lo) & (flat <= hi)
    x = xp.where(inside, flat, lo)
    if linear:
        pos = ((x - lo) * flat.dtype.type(nb - 1) / (hi - lo)).astype(np.int64)
        pos = xp.clip(pos, 0, nb - 1)
        if local_search:
            # upper_bound among edges[pos-1 : pos+2] (clipped to the array), minus one
            low = xp.maximum(pos - 1, 0)
            high = xp.minimum(pos + 2, nb)
            count = xp.zeros_like(pos)
            for offset in range(3):
                k = low + offset
                count += (k < high) & (edges[xp.minimum(k, nb - 1)] <= x)
            pos = low + count - 1
    else:
        pos = _binary_search(edges.reshape(1, -1), x.reshape(1, -1), True, None).reshape(-1) - 1
    pos = xp.where(pos == nb - 1, nb - 2, pos)
    return xp.where(inside, pos, -1)


def _count_bins(pos, bins, weight, dtype):
    xp = xp_of(pos)
    keep = pos >= 0
    w = None if weight is None else weight.reshape(-1)[keep].astype(np.float64)
    return xp.bincount(pos[keep], weights=w, minlength=bins)[:bins].astype(dtype)


class Histc(Node):
    differentiable = False

    def __init__(self, bins, min, max):
        self.bins, self.min, self.max = bins, min, max

    def forward(self, a):
        _check_histogram_dtype(a, 'histogram_cpu')
        if self.bins <= 0:
            raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {self.bins} for '
                               f'dimension 0')
        lo, hi = float(self.min), float(self.max)
        if lo == hi and a.size:
            lo, hi = float(a.min()), float(a.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f'torch.histc: range of [{lo}, {hi}] is not finite')
        if not lo < hi:
            raise RuntimeError('torch.histc: max must be larger than min')
        edges = _torch_linspace(xp_of(a), lo, hi, self.bins + 1, a.dtype)
        pos = _bin_positions(a.reshape(-1), edges, linear=True, local_search=False)
        return _count_bins(pos, self.bins, None, a.dtype)


class Histogram(_NotDifferentiable):
    """histogram(input, bins=int|Tensor, range, weight, density) -> (hist, bin_edges)."""
    num_outputs = 2
    error = RuntimeError
    message = 'derivative for aten::histogram is not implemented'

    def __init__(self, bins, range, density):
        self.bins, self.range, self.density = bins, range, density

    def forward(self, a, edges=None, weight=None):
        xp = xp_of(a)
        _check_histogram_dtype(a, 'histogramdd')
        if edges is not None:
            if edges.dtype != a.dtype:
                raise RuntimeError(f'torch.histogramdd: input tensor and bins tensors should have '
                                   f'the same dtype, but got input with dtype {_dtype_name(a)} '
                                   f'and bins for dimension 0 with dtype {_dtype_name(edges)}')
            if edges.ndim != 1:
                raise RuntimeError(f'torch.histogramdd: bins tensor should have one dimension, '
                                   f'but got {edges.ndim} dimensions in the bins tensor for '
                                   f'dimension 0')
            if edges.shape[0] < 2:
                raise RuntimeError(f'torch.histogram(): bins must be > 0, but got '
                                   f'{edges.shape[0] - 1} for dimension 0')
        if weight is not None and weight.shape != a.shape:
            raise RuntimeError(f'torch.histogramdd: if weight tensor is provided it should have '
                               f'the same shape as the input tensor excluding its innermost '
                               f'dimension, but got input with shape {list(a.reshape(-1, 1).shape)}'
                               f' and weight with shape {list(weight.shape)}')
        flat = a.reshape(-1)
        if edges is None:
            if self.bins <= 0:
                raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {self.bins} '
                                   f'for dimension 0')
            lo, hi = self._outer_edges(flat)
            edges = _torch_linspace(xp, lo, hi, self.bins + 1, a.dtype)
            pos = _bin_positions(flat, edges, linear=True, local_search=True)
        else:
            edges = edges.copy()
            pos = _bin_positions(flat, edges, linear=False, local_search=False)
        nbins = edges.shape[0] - 1
        hist = _count_bins(pos, nbins, weight, a.dtype)
        if self.density:
            hist = (hist / hist.sum() / xp.diff(edges)).astype(a.dtype)
        return hist, edges

    def _outer_edges(self, flat):
        """The histogram's range: given, else the data's (0 to 1 for empty input), widened by 0.5
        on both sides when it is a single point (NumPy's rules, which PyTorch follows)."""
        if self.range is not None:
            lo, hi = (float(v) for v in self.range)
        elif flat.size:
            lo, hi = float(flat.min()), float(flat.max())
        else:
            lo, hi = 0.0, 1.0
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo}, {hi}] is not "
                               f'finite')
        if lo > hi:
            raise RuntimeError(f'torch.histogramdd: min should not exceed max, but got min '
                               f'{lo:g} max {hi:g} for dimension 0')
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi

    def name(self):
        return 'NotImplemented'


def _dtype_name(a):
    return {'float32': 'float', 'float64': 'double'}.get(a.dtype.name, a.dtype.name)


# ---------------------------------------------------------------------------------------------
# isin
# ---------------------------------------------------------------------------------------------

class IsIn(Node):
    differentiable = False

    def __init__(self, invert):
        self.invert = invert

    def forward(self, elements, test_elements):
        arrays = [v for v in (elements, test_elements) if v.__class__ not in (bool, int, float)]
        xp = xp_of(*arrays)
        for v in (elements, test_elements):
            if v.__class__ is bool or (hasattr(v, 'dtype') and v.dtype.kind == 'b'):
                raise RuntimeError('Unsupported input type encountered for isin(): Bool')
        dtype = _promote([elements, test_elements])
        elements = xp.asarray(elements, dtype=dtype)
        test_elements = xp.asarray(test_elements, dtype=dtype)
        return xp.asarray(xp.isin(elements, test_elements, invert=self.invert))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def sort(input, dim=-1, descending=False, stable=False):
    d = wrap_dim(dim, input._data.ndim)
    values, indices = dispatch(Sort(d, bool(descending), bool(stable)), input)
    return return_type('sort', values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    return dispatch(ArgSort(wrap_dim(dim, input._data.ndim), bool(descending)), input)


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    d = wrap_dim(dim, input._data.ndim)
    values, indices = dispatch(TopK(int(k), d, bool(largest), bool(sorted)), input)
    return return_type('topk', values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input._data.ndim)
    values, indices = dispatch(KthValue(int(k), d, keepdim), input)
    return return_type('kthvalue', values, indices)


def _median(ignore_nan):
    name = 'nanmedian' if ignore_nan else 'median'

    def fn(input, dim=None, keepdim=False):
        if dim is None:
            return dispatch(MedianAll(ignore_nan), input)
        d = wrap_dim(dim, input._data.ndim)
        values, indices = dispatch(MedianDim(d, keepdim, ignore_nan), input)
        return return_type(name, values, indices)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f'{name}(input) -> Tensor: the lower median of all elements'
                  f'{" ignoring NaN" if ignore_nan else " (NaN if any is NaN)"}.\n'
                  f'{name}(input, dim, keepdim=False) -> (values, indices) along dim.')
    return fn


median = _median(False)
nanmedian = _median(True)


def mode(input, dim=-1, keepdim=False):
    d = wrap_dim(dim, input._data.ndim)
    values, indices = dispatch(Mode(d, keepdim), input)
    return return_type('mode', values, indices)


def cummax(input, dim):
    values, indices = dispatch(CumMaxMin(True, wrap_dim(dim, input._data.ndim)), input)
    return return_type('cummax', values, indices)


def cummin(input, dim):
    values, indices = dispatch(CumMaxMin(False, wrap_dim(dim, input._data.ndim)), input)
    return return_type('cummin', values, indices)


def logcumsumexp(input, dim):
    return dispatch(LogCumSumExp(wrap_dim(dim, input._data.ndim)), input)


_INTERPOLATIONS = ('linear', 'lower', 'higher', 'midpoint', 'nearest')


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    """PyTorch's quantile_compute, in Tensor ops so that gradients flow through sort, gather and
    lerp: sort, turn q into fractional ranks (in the input's dtype, as PyTorch does), gather the
    values on both sides of each rank and interpolate. A NaN makes quantile NaN (its rank is moved
    to the last, NaN, element); nanquantile ranks among the non-NaN elements only."""
    from .elementwise import lerp, where
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError('quantile() input tensor must be either float or double dtype')
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError('quantile() q must be a scalar or 1D tensor')
        if q._data.dtype != a.dtype:
            raise RuntimeError('quantile() q tensor must be same dtype as the input tensor')
        if q._data.size and not bool(((q._data >= 0) & (q._data <= 1)).all()):
            raise RuntimeError('quantile() q values must be in the range [0, 1]')
        q_tensor = q
    else:
        q = float(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f'quantile() q must be in the range [0, 1] but got {q}')
        q_tensor = Tensor._make(xp_of(a).asarray(q, dtype=a.dtype))
    if a.size == 0:
        raise RuntimeError('quantile() input tensor must be non-empty')
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f'quantile() interpolation must be one of linear, lower, higher, '
                           f'midpoint or nearest, but got {interpolation}')

    if dim is None:
        out_shape = (1,) * a.ndim if keepdim else ()
        sorted_ = sort(input.reshape(-1)).values
    else:
        d = wrap_dim(dim, a.ndim)
        shape = a.shape if a.ndim else (1,)
        out_shape = tuple(1 if i == d else s for i, s in enumerate(shape)) if keepdim else \
            tuple(s for i, s in enumerate(shape) if i != d)
        if a.ndim == 0:
            out_shape = ()
        sorted_ = sort(input.reshape(shape).unsqueeze(-1).transpose(d, -1)).values
    n = sorted_.shape[-1]
    sorted_ = sorted_.reshape(out_shape + (n,))

    q1 = q_tensor.reshape(-1)
    if ignore_nan:
        count = (~sorted_.isnan()).sum(-1, keepdim=True)
        ranks = q1 * (count - 1).to(q1.dtype)   # explicit cast: see _promote
        ranks = ranks.masked_fill(ranks < 0, 0)       # all-NaN slice: rank 0, a NaN
    else:
        ranks = q1 * (n - 1)
        ranks = where(sorted_.isnan().any(-1, keepdim=True), float(n - 1), ranks)
    if interpolation == 'lower':
        ranks = ranks.floor()
    elif interpolation == 'higher':
        ranks = ranks.ceil()
    elif interpolation == 'nearest':
        ranks = ranks.round()                         # half to even, as PyTorch's round
    below = ranks.detach().to(_dtype.int64)
    result = sorted_.gather(-1, below)
    if interpolation in ('linear', 'midpoint'):
        weights = ranks - below.to(ranks.dtype) if interpolation == 'linear' else \
            ranks.detach().new_full(tuple(ranks.shape), 0.5)
        above = ranks.detach().ceil().to(_dtype.int64)
        result = lerp(result, sorted_.gather(-1, above), weights)
    if q_tensor._data.ndim == 0:
        return result.squeeze(-1)
    return result.unsqueeze(0).transpose(0, -1).squeeze(-1)


def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    return _quantile(input, q, dim, keepdim, interpolation, True)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    d = None if dim is None else wrap_dim(dim, builtins.max(input._data.ndim, 1))
    out = dispatch(Unique(d, False), input)
    return _unique_result(out, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    d = None if dim is None else wrap_dim(dim, builtins.max(input._data.ndim, 1))
    out = dispatch(Unique(d, True), input)
    return _unique_result(out, return_inverse, return_counts)


def _side(right, side):
    if side is not None:
        if side not in ('left', 'right'):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f'{side}')
        if side == 'left' and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        return side == 'right'
    return bool(right)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    values = input if isinstance(input, Tensor) else as_operand(input)
    return dispatch(SearchSorted(_side(right, side), out_int32), sorted_sequence, values, sorter)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries._data.ndim != 1:
        raise RuntimeError(f'boundaries tensor must be 1 dimension, but got dim('
                           f'{boundaries._data.ndim})')
    values = input if isinstance(input, Tensor) else as_operand(input)
    return dispatch(SearchSorted(bool(right), out_int32, 'bucketize'), boundaries, values)


def bincount(input, weights=None, minlength=0):
    return dispatch(Bincount(int(minlength)), input, weights)


def histc(input, bins=100, min=0, max=0):
    return dispatch(Histc(int(bins), min, max), input)


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    if isinstance(bins, Tensor):
        hist, edges = dispatch(Histogram(None, range, density), input, bins, weight)
    else:
        hist, edges = dispatch(Histogram(int(bins), range, density), input, None, weight)
    return return_type('histogram', hist, edges)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f'isin() received an invalid combination of arguments - got '
                        f'({type(elements).__name__}, {type(test_elements).__name__}), but '
                        f'expected at least one Tensor')
    return dispatch(IsIn(bool(invert)), as_operand(elements), as_operand(test_elements))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim (logical_xor for bool), after concatenating prepend and
    append; built from narrow and sub, so it is differentiable (twice) for free."""
    from .shape import cat
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError('diff expects input to be at least one-dimensional')
    if n < 0:
        raise RuntimeError(f'order must be non-negative but got {n}')
    d = wrap_dim(dim, ndim)
    for name, extra in (('prepend', prepend), ('append', append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f'{type(extra).__name__}')
        if extra._data.ndim != ndim:
            raise RuntimeError('diff expects prepend or append to be the same dimension as input')
        for i in builtins.range(ndim):
            if i != d and extra.shape[i] != input.shape[i]:
                raise RuntimeError(f'diff expects the shape of tensor to prepend or append to '
                                   f'match that of input except along the differencing '
                                   f'dimension; input.size({i}) = {input.shape[i]}, but got '
                                   f'tensor.size({i}) = {extra.shape[i]}')
    if n == 0:
        return input.clone()
    result = input
    if prepend is not None or append is not None:
        result = cat([t for t in _cast_tensors([prepend, input, append]) if t is not None], d)
    is_bool = result._data.dtype.kind == 'b'
    for _ in builtins.range(builtins.min(n, result.shape[d])):
        length = result.shape[d] - 1
        later, earlier = result.narrow(d, 1, length), result.narrow(d, 0, length)
        result = later.logical_xor(earlier) if is_bool else later - earlier
    return result


def _trapezoid_args(y, x, dx, name):
    if y._data.ndim == 0:
        raise IndexError('Dimension specified as -1 but tensor has no dimensions')
    if y._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}: received a bool input for `y`, but bool is not supported')
    if x is not None and (dx is not None or not isinstance(x, Tensor)):
        raise TypeError(f'{name}() received an invalid combination of arguments: x must be a '
                        f'Tensor of sample points, dx a number (keyword-only), not both')
    if isinstance(dx, (bool, complex)):
        raise RuntimeError(f'{name}: Currently, complex numbers and bool are not supported for '
                           f'`dx`.')


def _x_spacing(y, x, d, name):
    """dx = x[1:] - x[:-1] along d, with a 1-D x laid along d and a lower-dim x padded in front."""
    if x._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}: received a bool input for `x`, but bool is not supported')
    ndim = y._data.ndim
    if x._data.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f'{name}: There must be one `x` value for each sample point')
        x = x.reshape(tuple(x.shape[0] if i == d else 1 for i in builtins.range(ndim)))
    elif x._data.ndim < ndim:
        x = x.reshape((1,) * (ndim - x._data.ndim) + tuple(x.shape))
    length = builtins.max(x.shape[d] - 1, 0)
    return x.narrow(d, 1, length) - x.narrow(d, 0, length)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoid rule along dim, with sample points x or a constant spacing dx (default 1)."""
    _trapezoid_args(y, x, dx, 'trapezoid')
    d = wrap_dim(dim, y._data.ndim)
    n = y.shape[d]
    if n == 0:
        from .._creation import zeros
        return zeros(tuple(s for i, s in enumerate(y.shape) if i != d), dtype=y.dtype,
                     device=y.device)
    if isinstance(x, Tensor):
        y, x = _cast_tensors([y, x])
        spacing = _x_spacing(y, x, d, 'trapezoid')
        return ((spacing * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))) / 2.).sum(d)
    dx = 1 if dx is None else dx
    ends = (y.select(d, 0) + y.select(d, -1)) * 0.5
    total = y.sum(d)
    if total._data.dtype != ends._data.dtype:
        # PyTorch: int64 sum - float32 -> float32 (see _promote for why this is explicit)
        total = total.to(ends.dtype)
    return (total - ends) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid integrals along dim (one fewer element than y along dim)."""
    _trapezoid_args(y, x, dx, 'cumulative_trapezoid')
    d = wrap_dim(dim, y._data.ndim)
    n = y.shape[d]
    length = builtins.max(n - 1, 0)
    if isinstance(x, Tensor):
        y, x = _cast_tensors([y, x])
    left, right = y.narrow(d, 0, length), y.narrow(d, builtins.min(1, n), length)
    if isinstance(x, Tensor):
        spacing = _x_spacing(y, x, d, 'cumulative_trapezoid')
        return ((spacing * (left + right)) / 2.).cumsum(d)
    dx = 1 if dx is None else dx
    return (dx / 2. * (left + right)).cumsum(d)


# ---------------------------------------------------------------------------------------------
# Tensor methods (PyTorch has these as methods too; searchsorted, bucketize, isin and the
# trapezoid family are functions only)
# ---------------------------------------------------------------------------------------------

for _name in ('sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode',
              'quantile', 'nanquantile', 'cummax', 'cummin', 'logcumsumexp', 'unique',
              'unique_consecutive', 'bincount', 'histc', 'histogram', 'diff'):
    setattr(Tensor, _name, globals()[_name])
del _name

__all__ = ['sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode',
           'quantile', 'nanquantile', 'cummax', 'cummin', 'logcumsumexp', 'unique',
           'unique_consecutive', 'searchsorted', 'bucketize', 'bincount', 'histc', 'histogram',
           'isin', 'diff', 'trapezoid', 'trapz', 'cumulative_trapezoid']
