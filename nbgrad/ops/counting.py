"""Counting and searching: unique/unique_consecutive, searchsorted/bucketize, bincount,
histc/histogram, isin (PyTorch's semantics; see sorting.py for the ordering conventions).

Ops that PyTorch marks as not differentiable but whose float outputs still carry a grad_fn
(unique, bincount with weights, histogram) do the same here; their backward raises PyTorch's error.
"""
import builtins
import numbers

import numpy as np

from .._dispatch import dispatch, no_kernel
from .._tensor import Tensor
from ..autograd.graph import NOT_IMPLEMENTED, Node
from ..return_types import return_type
from ._util import as_operand, no_overload, wrap_dim, xp_of
from .sorting import _stable_argsort, _promote, _word

# This module names `min`/`max`/`range` arguments the way torch does; Python's builtins are
# reached as builtins.<name>.

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
    shape_from_values = True
    complex_autograd = True
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
    scalar_operands = 'common'      # (bucketize(1.3, bfloat16 boundaries) looks up bfloat16's 1.3)

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
    sees_bfloat16 = True    # (bfloat16 weights count in float64, as PyTorch's)

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
        if x.size == 0:  # PyTorch: int64 zeros, weights or not (CuPy 14.0 refused empties)
            return xp.zeros(self.minlength, np.int64)
        if weights is None:
            return xp.bincount(x, minlength=self.minlength).astype(np.int64, copy=False)
        # float32/float64 weights keep their dtype; any other weights count in float64 (PyTorch)
        out_dtype = weights.dtype if weights.dtype in (np.float32, np.float64) else np.float64
        if xp is np and out_dtype == np.float32:
            # PyTorch adds float32 weights in float32, in input order (np.bincount would sum
            # in float64 and round once: other last bits)
            out = np.zeros(max(int(x.max()) + 1, self.minlength), np.float32)
            np.add.at(out, x, weights)
            return out
        return xp.bincount(x, weights=weights.astype(np.float64),
                           minlength=self.minlength).astype(out_dtype)

    def name(self):
        return NOT_IMPLEMENTED


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
    if not bool(keep.any()):  # nothing in range (CuPy's bincount refuses empty input)
        return xp.zeros(bins, dtype)
    w = None if weight is None else weight.reshape(-1)[keep].astype(np.float64)
    return xp.bincount(pos[keep], weights=w, minlength=bins)[:bins].astype(dtype)


class Histc(Node):
    differentiable = False

    def __init__(self, bins, min, max):
        self.bins, self.min, self.max = bins, min, max

    def forward(self, a):
        if a.dtype == np.float16:   # PyTorch's histc takes half (its histogram does not)
            return self.forward(a.astype(np.float32)).astype(np.float16)
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
            lo, hi = _outer_edges(flat, self.range, 0)
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

    def name(self):
        return NOT_IMPLEMENTED


def _outer_edges(flat, range_pair, dim):
    """A histogram dimension's range: given, else the data's (0 to 1 for empty input), widened by
    0.5 on both sides when it is a single point (NumPy's rules, which PyTorch follows)."""
    if range_pair is not None:
        lo, hi = (float(v) for v in range_pair)
    elif flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    else:
        lo, hi = 0.0, 1.0
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{lo}, {hi}] is not "
                           f'finite')
    if lo > hi:
        raise RuntimeError(f'torch.histogramdd: min should not exceed max, but got min '
                           f'{lo:g} max {hi:g} for dimension {dim}')
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


class HistogramDD(_NotDifferentiable):
    """histogramdd(input (..., D), bins, range, weight, density) -> (hist, D bin edges): one
    histogram's binning per dimension (the same as histogram's), the bins combined."""
    error = RuntimeError
    message = 'derivative for aten::histogramdd is not implemented'

    def __init__(self, bins, range, density, dims):
        self.bins, self.range, self.density = bins, range, density
        self.num_outputs = 1 + dims

    def forward(self, a, weight, *given_edges):
        xp = xp_of(a)
        _check_histogram_dtype(a, 'histogramdd')
        dims = self.num_outputs - 1
        points = a.reshape(-1, dims)
        if weight is not None and weight.shape != a.shape[:-1]:
            raise RuntimeError(f'torch.histogramdd: if weight tensor is provided it should have '
                               f'the same shape as the input tensor excluding its innermost '
                               f'dimension, but got input with shape {list(a.shape)} and weight '
                               f'with shape {list(weight.shape)}')
        all_edges, index, shape = [], None, []
        for d in range(dims):
            column = xp.ascontiguousarray(points[:, d])
            if given_edges:
                edges = given_edges[d]
                if edges.dtype != a.dtype:
                    raise RuntimeError(f'torch.histogramdd: input tensor and bins tensors should '
                                       f'have the same dtype, but got input with dtype '
                                       f'{_dtype_name(a)} and bins for dimension {d} with dtype '
                                       f'{_dtype_name(edges)}')
                edges = edges.copy()
                pos = _bin_positions(column, edges, linear=False, local_search=False)
            else:
                count = self.bins[d]
                if count <= 0:
                    raise RuntimeError(f'torch.histogramdd(): bins must be > 0, but got {count} '
                                       f'for dimension {d}')
                pair = None if self.range is None else self.range[2 * d:2 * d + 2]
                lo, hi = _outer_edges(column, pair, d)
                edges = _torch_linspace(xp, lo, hi, count + 1, a.dtype)
                pos = _bin_positions(column, edges, linear=True, local_search=True)
            n = edges.shape[0] - 1
            index = pos if index is None else xp.where((index >= 0) & (pos >= 0),
                                                       index * n + pos, -1)
            all_edges.append(edges)
            shape.append(n)
        hist = _count_bins(index, int(np.prod(shape)), weight, a.dtype).reshape(shape)
        if self.density:
            volume = 1.0
            for d, edges in enumerate(all_edges):
                volume = xp.multiply.outer(volume, xp.diff(edges)) if d else xp.diff(edges)
            hist = (hist / hist.sum() / volume).astype(a.dtype)
        return (hist, *all_edges)

    def name(self):
        return NOT_IMPLEMENTED


def histogramdd(input, bins, range=None, weight=None, density=False):
    """input (..., D): points in D dimensions; bins: a count for every dimension, a count per
    dimension, or a tensor of edges per dimension; range: (min, max) per dimension, flat."""
    if input.dim() == 0:
        raise IndexError('Dimension specified as -1 but tensor has no dimensions')
    if input.dim() < 2:
        raise RuntimeError('torch.histogramdd: input tensor should have at least 2 dimensions')
    dims = input.shape[-1]
    bins = [bins] * dims if isinstance(bins, int) else list(bins)
    if len(bins) != dims:
        raise RuntimeError('histogramdd: The size of bins must be equal to the innermost '
                           'dimension of the input.')
    if range is not None and len(range) != 2 * dims:
        raise RuntimeError(f'torch.histogramdd: for a {dims}-dimensional histogram range should '
                           f'have {2 * dims} elements, but got {len(range)}')
    if bins and isinstance(bins[0], Tensor):
        results = dispatch(HistogramDD(None, range, density, dims), input, weight, *bins)
    else:
        results = dispatch(HistogramDD([int(b) for b in bins], range, density, dims), input,
                           weight)
    return return_type('histogramdd', results[0], tuple(results[1:]))


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


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if input.is_complex():      # (complex numbers have no order)
        raise NotImplementedError(f'"unique" not implemented for \'{_word(input._data)}\'')
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


def _refuse_bool(sorted_sequence, values):
    """PyTorch's search kernel has no bool type: refused when both sides are bool."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind == 'b' for t in (sorted_sequence, values)):
        raise no_kernel('searchsorted_out_cpu', 'bool')


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    if not isinstance(sorted_sequence, Tensor) or not isinstance(input, (Tensor, numbers.Number)):
        raise no_overload('searchsorted', sorted_sequence, input,
                          expected='(Tensor sorted_sequence, Tensor input, ...) or '
                                   '(Tensor sorted_sequence, Number self, ...)')
    values = input if isinstance(input, Tensor) else as_operand(input)
    _refuse_bool(sorted_sequence, values)
    return dispatch(SearchSorted(_side(right, side), out_int32), sorted_sequence, values, sorter)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if not isinstance(boundaries, Tensor):
        raise no_overload('bucketize', input, boundaries,
                          expected='(Tensor input, Tensor boundaries, ...)')
    if boundaries._data.ndim != 1:
        raise RuntimeError(f'boundaries tensor must be 1 dimension, but got dim('
                           f'{boundaries._data.ndim})')
    values = input if isinstance(input, Tensor) else as_operand(input)
    _refuse_bool(boundaries, values)
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
    for t in (elements, test_elements):
        if isinstance(t, Tensor) and t.is_complex():
            raise RuntimeError(f'Unsupported input type encountered for isin(): '
                               f'{_word(t._data)}')
    return dispatch(IsIn(bool(invert)), as_operand(elements), as_operand(test_elements))



for _name in ('unique', 'unique_consecutive', 'bincount', 'histc', 'histogram'):
    setattr(Tensor, _name, globals()[_name])
del _name

__all__ = ['unique', 'unique_consecutive', 'searchsorted', 'bucketize', 'bincount', 'histc',
           'histogram', 'histogramdd', 'isin']
