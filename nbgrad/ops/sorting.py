"""Sorting and selection: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode,
quantile/nanquantile, cummax/cummin, logcumsumexp.

Conventions shared by these ops (PyTorch's, checked against torch 2.x on the CPU):
- NaN sorts as the largest value: last in ascending order, first in descending order.
- Equal elements keep their input order (a stable sort), except on the CPU in sort/argsort with
  stable=False, topk, mode and kthvalue: there PyTorch's std::sort, std::partial_sort,
  std::nth_element and its own quickselect order ties their own way, and nbgrad replays them
  (ops/_introsort.py) for rows with ties, up to INTROSORT_BUDGET elements per call (beyond, and
  on a GPU, ties keep input order). median(dim) takes the stable order, as PyTorch's comparator
  breaks ties by index.
- Ops that select elements (sort, topk, kthvalue, median(dim), mode, cummax...) return
  (values, indices); the values are differentiable and their gradient goes to the selected input
  elements, the int64 indices are not differentiable.
"""
import numpy as np

from .. import _dtype
from .._dispatch import dispatch, _type_word
from .._tensor import Tensor
from ..autograd.graph import Node
from ..return_types import return_type
from ._util import promote, scan_accumulator, wrap_dim, xp_of
from .._node_names import presents_as

# ---------------------------------------------------------------------------------------------
# Array helpers (NumPy or CuPy, whichever the input lives on)
# ---------------------------------------------------------------------------------------------

def _check_sortable(a, name='sort', kernel=None):
    """Complex numbers have no order: sort/argsort/topk's RuntimeError, or (kernel given) the
    NotImplementedError of PyTorch's selection kernels (kthvalue, median, mode)."""
    if a.dtype.kind == 'c':
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(a)}\'')
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


INTROSORT_BUDGET = 1024     # elements replayed per call (Python: about 1 us each)


def _sort_order(a, axis, descending, stable):
    """sort/argsort's indices: stable, or for stable=False on the CPU PyTorch's std::sort order
    of ties (see the module docstring)."""
    order = _stable_argsort(a, axis, descending)
    if stable or (a.shape[axis] if a.ndim else 0) <= 16:    # (std::sort is stable up to 16)
        return order
    from ._introsort import introsort_order
    return _replayed(a, axis, order, order, lambda keys: introsort_order(keys, descending))


def _replayed(a, axis, order, picked, replay, every_row=False):
    """`picked` (positions along axis, from the stable `order`) with the rows of `a` that hold
    ties (or every row) replaced by replay(row as a list): PyTorch's CPU order of ties. GPU
    arrays and calls over INTROSORT_BUDGET elements keep the stable order."""
    if xp_of(a) is not np or a.size > INTROSORT_BUDGET or not picked.size:
        return picked
    n = a.shape[axis]
    rows = np.moveaxis(a, axis, -1).reshape(-1, n)
    ordered = np.take_along_axis(rows, np.moveaxis(order, axis, -1).reshape(-1, n), 1)
    ties = ordered[:, 1:] == ordered[:, :-1]
    if ordered.dtype.kind in 'fc':
        ties |= np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1])
    tied = np.arange(rows.shape[0]) if every_row else np.flatnonzero(ties.any(1))
    if not tied.size:
        return picked
    shape = np.moveaxis(picked, axis, -1).shape
    out = np.moveaxis(picked, axis, -1).reshape(-1, shape[-1]).copy()
    for r in tied:
        out[r] = replay(rows[r].tolist())
    return np.moveaxis(out.reshape(shape), -1, axis)


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
        return _sort_order(a, d, self.descending, self.stable)

    def name(self):
        return 'SortBackward1' if self.stable else 'SortBackward0'


class ArgSort(Node):
    differentiable = False

    def __init__(self, dim, descending, stable=False):
        self.dim, self.descending, self.stable = dim, descending, stable

    def forward(self, a):
        _check_sortable(a, 'argsort')
        if a.ndim == 0:
            return xp_of(a).zeros((), np.int64)
        return _sort_order(a, self.dim, self.descending, self.stable)


class TopK(_SelectAlongDim):
    """The k largest (or smallest) elements, in sorted order (for sorted=False, in the order
    PyTorch's CPU selection leaves them, where it replays it; sorted otherwise)."""
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
        picked = order[(slice(None),) * d + (slice(0, k),)]
        from ._introsort import topk_order
        # (unsorted, nth_element leaves even distinct values in its own order)
        return _replayed(a, d, order, picked,
                         lambda keys: topk_order(keys, k, self.largest, self.sorted),
                         every_row=not self.sorted and k * 64 > a.shape[d])

    def name(self):
        return 'TopkBackward0'


class KthValue(_SelectAlongDim):
    op_name = 'kthvalue'

    def __init__(self, k, dim, keepdim):
        self.k, self.dim, self.keepdim = k, dim, keepdim

    def _check(self, a):
        if a.dtype.kind == 'b':
            raise NotImplementedError('"kthvalue_cpu" not implemented for \'Bool\'')
        _check_sortable(a, 'kthvalue', 'kthvalue_cpu')
        self._check_reduction(a)
        size = a.shape[self.dim] if a.ndim else 1
        if not 1 <= self.k <= size:
            raise RuntimeError(f'kthvalue(): selected number k out of range for dimension '
                               f'{self.dim}')

    def _select(self, a, d):
        order = _stable_argsort(a, d, False)
        picked = order[(slice(None),) * d + (slice(self.k - 1, self.k),)]
        from ._introsort import quickselect_position
        return _replayed(a, d, order, picked,
                         lambda keys: [quickselect_position(keys, self.k - 1)])

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
        _check_sortable(a, self.op_name, 'median_out')
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
        _check_sortable(a, 'mode', 'mode_cpu')
        self._check_reduction(a)

    def _select(self, a, d):
        xp = xp_of(a)
        moved = xp.moveaxis(a, d, -1)
        n = moved.shape[-1]
        rows = moved.reshape(-1, n)
        # (PyTorch scans a std::sort-ed copy: the last of a run is std::sort's last tie)
        order = _sort_order(rows, 1, False, stable=False)
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
    contiguous_output = True

    def __init__(self, is_max, dim):
        self.is_max, self.dim = is_max, dim
        self.op_name = 'cummax' if is_max else 'cummin'

    def forward(self, a):
        if a.dtype.kind == 'c':
            raise NotImplementedError(f'"{self.op_name}_cpu" not implemented for '
                                      f'\'{_type_word(a.dtype)}\'')
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
        _check_sortable(a, name, 'median_cpu')
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
        # (evenly_distribute_backward: zero off the median, even for an infinite gradient)
        return (g / mask.sum()).expand(x.shape).where(mask, 0.0)

    def name(self):
        return ('Nanmedian' if self.ignore_nan else 'Median') + 'Backward0'


# ---------------------------------------------------------------------------------------------
# logcumsumexp
# ---------------------------------------------------------------------------------------------

class LogCumSumExp(Node):
    contiguous_output = True
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
        wide = scan_accumulator(xp_of(a), a.dtype)
        if wide is None:
            return _accumulate(a, 'logaddexp', self.dim)
        return _accumulate(a.astype(wide), 'logaddexp', self.dim).astype(a.dtype)

    def backward(self, g):
        """PyTorch's formula: sum_{i>=j} g_i exp(x_j - y_i), split by the sign of g so that it can
        be computed with logcumsumexp itself (stable, and differentiable again)."""
        (x,) = self.saved_tensors
        y = self.saved_output()
        if x.dim() == 0:
            return g
        d = self.dim
        from .elementwise import where
        lowest = float(_dtype.finfo(x._data.dtype).min)   # log(0) without -inf - -inf = nan

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
# Public functions
# ---------------------------------------------------------------------------------------------

def sort(input, dim=-1, descending=False, *, stable=False):
    d = wrap_dim(dim, input._data.ndim)
    values, indices = dispatch(Sort(d, bool(descending), bool(stable)), input)
    return return_type('sort', values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    return dispatch(ArgSort(wrap_dim(dim, input._data.ndim), bool(descending), bool(stable)),
                    input)


@presents_as('SortBackward0')
def msort(input):
    return sort(input, 0, stable=True).values     # (values only: no tie order to replay)


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
        sorted_ = sort(input.reshape(-1), stable=True).values
    else:
        d = wrap_dim(dim, a.ndim)
        shape = a.shape if a.ndim else (1,)
        out_shape = tuple(1 if i == d else s for i, s in enumerate(shape)) if keepdim else \
            tuple(s for i, s in enumerate(shape) if i != d)
        if a.ndim == 0:
            out_shape = ()
        sorted_ = sort(input.reshape(shape).unsqueeze(-1).transpose(d, -1), stable=True).values
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



for _name in ('sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode',
              'quantile', 'nanquantile', 'cummax', 'cummin', 'logcumsumexp'):
    setattr(Tensor, _name, globals()[_name])
del _name

__all__ = ['sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode',
           'quantile', 'nanquantile', 'cummax', 'cummin', 'logcumsumexp']
