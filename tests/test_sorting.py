"""Sorting, selection and counting ops (nbgrad/ops/sorting.py) against PyTorch on the CPU.

Inputs come from small integer pools (ties) with NaNs mixed in, as 0-dim, empty, transposed
(non-contiguous) and several-dim tensors of several dtypes. Values must match PyTorch exactly;
indices must match exactly where PyTorch defines them (stable sort, cummax/cummin, searchsorted,
unique, median's NaN) and otherwise must point at elements holding the returned values (PyTorch's
CPU introsort/quickselect order ties arbitrarily beyond 16 elements). Gradients are compared with
PyTorch's and gradchecked in float64 on inputs without ties.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nbgrad
from nbgrad.autograd import gradcheck, gradgradcheck
from nbgrad.ops import sorting
from torch_compare import dname

try:
    import torch
except ImportError:  # the oracle is an optional test dependency
    torch = None


class _NbgradWithSorting:
    """nbgrad with the functions of nbgrad.ops.sorting (which the package re-exports)."""

    def __getattr__(self, name):
        if name in sorting.__all__:
            return getattr(sorting, name)
        return getattr(nbgrad, name)


nb = _NbgradWithSorting()
# PyTorch warns when searchsorted gets non-contiguous tensors, which these tests do on purpose
pytestmark = pytest.mark.filterwarnings('ignore:torch.searchsorted.*non-contiguous:UserWarning')
needs_torch = pytest.mark.skipif(torch is None, reason='PyTorch (the test oracle) is not installed')
NAN = float('nan')


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def sample(shape, dtype, rng, *, ties=True, nans=False):
    """Random values of `dtype`; ties draws from a few integers so that equal elements are common;
    nans replaces about a fifth of the elements (at least one) by NaN."""
    dtype = np.dtype(dtype)
    if dtype == bool:
        return rng.integers(0, 2, shape).astype(bool)
    if ties or dtype.kind in 'iu':
        low = 0 if dtype.kind == 'u' else -3
        a = rng.integers(low, low + 7, shape).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    if nans and dtype.kind == 'f' and a.size:
        a.flat[rng.choice(a.size, max(1, a.size // 5), replace=False)] = np.nan
    return a


def make(lib, array, device='cpu', noncontig=False, requires_grad=False):
    """A tensor of `lib` with the values of `array`; noncontig makes it a strided view (a permuted
    tensor for 2+ dims, every other element for 1 dim) holding the same values."""
    dev = device if lib is nb else 'cpu'
    if noncontig and array.ndim >= 2:
        order = tuple(range(array.ndim))[::-1]
        t = lib.tensor(np.ascontiguousarray(array.transpose(order)), device=dev).permute(order)
    elif noncontig and array.ndim == 1:
        t = lib.tensor(np.repeat(array, 2), device=dev)[::2]
    else:
        t = lib.tensor(array, device=dev)
    if requires_grad:
        t.requires_grad_()
    return t


def to_np(t):
    return t.detach().cpu().numpy()


def assert_same(got, expected, *, rtol=0.0, atol=0.0):
    """Same dtype, shape and values (NaN equal to NaN); exact unless a tolerance is given."""
    assert dname(got.dtype) == dname(expected.dtype), (got.dtype, expected.dtype)
    g, e = to_np(got), to_np(expected)
    assert g.shape == e.shape, (g.shape, e.shape)
    if rtol or atol:
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, e)


def assert_picks(x, values, indices, dim, keepdim=True):
    """Each index points at an element of x (along dim) equal to the value next to it."""
    x, values, indices = to_np(x), to_np(values), to_np(indices)
    assert indices.dtype == np.int64 and indices.shape == values.shape
    if x.ndim == 0:
        assert indices.shape == () and indices == 0
        np.testing.assert_array_equal(values, x)
        return
    if not keepdim:
        values, indices = np.expand_dims(values, dim), np.expand_dims(indices, dim)
    np.testing.assert_array_equal(np.take_along_axis(x, indices, dim), values)


def dim_size(shape, dim):
    return shape[dim] if shape else 1


# Shapes with a dim to work along: 0-dim, empty (along and across dim), short rows (PyTorch's sort
# is stable there), long rows (it is not), and 3 dims.
SHAPE_DIMS = [((), 0), ((), -1), ((0,), 0), ((7,), 0), ((4, 5), 1), ((4, 5), 0), ((3, 0), 1),
              ((0, 3), 1), ((2, 3, 4), 1), ((2, 3, 4), -1), ((40,), 0), ((3, 37), 1), ((37, 2), 0)]
# For reductions (kthvalue, median, mode) the reduced dim must not be empty.
REDUCE_SHAPE_DIMS = [(s, d) for s, d in SHAPE_DIMS if dim_size(s, d) > 0]
SORT_DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'uint8', 'bool']


def input_variants(shape, dtypes, seed, nan_variants=(False, True)):
    """(numpy input, noncontig) pairs over dtypes, with and without NaN, contiguous or not."""
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        for nans in nan_variants:
            if nans and np.dtype(dtype).kind != 'f':
                continue
            for noncontig in (False, True):
                yield sample(shape, dtype, rng, nans=nans), noncontig


# ---------------------------------------------------------------------------------------------
# sort / argsort / msort / topk
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
@pytest.mark.parametrize('descending', [False, True])
@pytest.mark.parametrize('stable', [False, True])
def test_sort_matches_torch(shape, dim, descending, stable, device):
    for x, noncontig in input_variants(shape, SORT_DTYPES, seed=len(shape) + dim % 4):
        got = nb.sort(make(nb, x, device, noncontig), dim, descending, stable)
        expected = torch.sort(make(torch, x, noncontig=noncontig), dim=dim,
                              descending=descending, stable=stable)
        assert_same(got.values, expected.values)
        if stable or dim_size(shape, dim) <= 16:
            # PyTorch defines the order of ties for stable=True; its CPU sort is also stable on
            # rows of up to 16 elements (insertion sort)
            assert_same(got.indices, expected.indices)
        else:
            # ties in any order: the indices must still be a permutation picking the values
            assert_picks(make(torch, x), got.values, got.indices, dim)
            idx = np.moveaxis(to_np(got.indices), dim, -1)
            assert (np.sort(idx, axis=-1) == np.arange(idx.shape[-1])).all()


@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
@pytest.mark.parametrize('descending', [False, True])
def test_argsort_and_msort_match_torch(shape, dim, descending, device):
    for x, noncontig in input_variants(shape, SORT_DTYPES, seed=3):
        t, n = make(torch, x, noncontig=noncontig), make(nb, x, device, noncontig)
        assert_same(nb.argsort(n, dim=dim, descending=descending, stable=True),
                    torch.argsort(t, dim=dim, descending=descending, stable=True))
        assert_same(n.argsort(dim=dim, descending=descending, stable=True),
                    t.argsort(dim=dim, descending=descending, stable=True))
        assert_same(nb.msort(n), torch.msort(t))


def test_sort_is_stable_on_long_rows():
    # no oracle needed: equal keys keep their input order, also in descending order
    keys = np.array([2, 1, 2, 0, 1, 2, 0, 0, 1, 2] * 5, dtype=np.float32)
    x = nb.tensor(keys)
    for descending in (False, True):
        idx = nb.sort(x, descending=descending).indices.numpy()
        order = sorted(range(len(keys)), key=lambda i: (-keys[i] if descending else keys[i], i))
        assert idx.tolist() == order


@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
@pytest.mark.parametrize('largest', [True, False])
def test_topk_matches_torch(shape, dim, largest, device):
    size = dim_size(shape, dim)
    dtypes = [d for d in SORT_DTYPES if d != 'bool']
    for x, noncontig in input_variants(shape, dtypes, seed=5):
        for k in sorted({0, min(1, size), size // 2, size}):
            t, n = make(torch, x, noncontig=noncontig), make(nb, x, device, noncontig)
            for sorted_ in (True, False):
                got = nb.topk(n, k, dim, largest, sorted_)
                expected = torch.topk(t, k, dim, largest, sorted_)
                if sorted_:
                    assert_same(got.values, expected.values)
                else:  # any order is allowed; compare as sets (sorted along dim)
                    assert_same(nb.sort(got.values, dim).values,
                                torch.sort(expected.values, dim).values)
                assert_picks(t, got.values, got.indices, dim)


# ---------------------------------------------------------------------------------------------
# kthvalue / median / nanmedian / mode (reductions that return values and indices)
# ---------------------------------------------------------------------------------------------

def _kth_calls(size):
    """kthvalue for the smallest, middle and largest k."""
    return [(f'kthvalue(k={k})', lambda lib, x, dim, keepdim, k=k: lib.kthvalue(x, k, dim, keepdim))
            for k in sorted({1, (size + 1) // 2, size})]


# name, call, whether NaN inputs are compared, which indices PyTorch defines
REDUCTIONS = [
    ('median', lambda lib, x, dim, keepdim: lib.median(x, dim, keepdim), True, 'nan_rows'),
    ('nanmedian', lambda lib, x, dim, keepdim: lib.nanmedian(x, dim, keepdim), True, None),
    # mode with NaN is not defined in PyTorch: its CPU kernel sorts with `<`, which NaN breaks
    ('mode', lambda lib, x, dim, keepdim: lib.mode(x, dim, keepdim), False, 'short_rows'),
]


@needs_torch
@pytest.mark.parametrize('shape,dim', REDUCE_SHAPE_DIMS)
@pytest.mark.parametrize('keepdim', [False, True])
def test_value_index_reductions_match_torch(shape, dim, keepdim, device):
    size = dim_size(shape, dim)
    calls = [(name, fn, True, None) for name, fn in _kth_calls(size)] + REDUCTIONS
    for name, fn, with_nans, defined in calls:
        dtypes = [d for d in SORT_DTYPES if d != 'bool' or name == 'mode']
        for x, noncontig in input_variants(shape, dtypes, seed=7,
                                           nan_variants=(False, True) if with_nans else (False,)):
            t, n = make(torch, x, noncontig=noncontig), make(nb, x, device, noncontig)
            got, expected = fn(nb, n, dim, keepdim), fn(torch, t, dim, keepdim)
            assert_same(got.values, expected.values)
            assert_picks(t, got.values, got.indices, dim, keepdim or not shape)
            if defined == 'short_rows' and size <= 16:
                # the index of the last occurrence in PyTorch's (then stable) sorted copy
                assert_same(got.indices, expected.indices)
            if defined == 'nan_rows' and x.dtype.kind == 'f' and shape:
                # a slice holding NaN answers NaN at its first NaN
                nan_rows = np.isnan(x).any(axis=dim, keepdims=keepdim)
                np.testing.assert_array_equal(to_np(got.indices)[nan_rows],
                                              to_np(expected.indices)[nan_rows])


@needs_torch
@pytest.mark.parametrize('shape', [(), (1,), (0,), (6,), (7,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize('name', ['median', 'nanmedian'])
def test_median_of_all_elements_matches_torch(shape, name, device):
    dtypes = ['float32', 'float64', 'float16', 'int64', 'uint8']
    for x, noncontig in input_variants(shape, dtypes, seed=11):
        if x.size == 0 and x.dtype.kind != 'f':
            continue  # PyTorch returns an arbitrary integer for an empty integer median
        got = getattr(nb, name)(make(nb, x, device, noncontig))
        assert_same(got, getattr(torch, name)(make(torch, x, noncontig=noncontig)))
    all_nan = np.full((4,), np.nan, np.float32)
    assert_same(getattr(nb, name)(make(nb, all_nan, device)),
                getattr(torch, name)(torch.tensor(all_nan)))


def test_median_is_the_lower_median():
    # no oracle needed: for an even count the lower of the two middle values
    x = nb.tensor([4.0, 1.0, 3.0, 2.0])
    assert nb.median(x).item() == 2.0
    values, indices = nb.median(x, 0)
    assert values.item() == 2.0 and indices.item() == 3


# ---------------------------------------------------------------------------------------------
# cummax / cummin / logcumsumexp
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
@pytest.mark.parametrize('name', ['cummax', 'cummin'])
def test_cummax_cummin_match_torch(shape, dim, name, device):
    for x, noncontig in input_variants(shape, SORT_DTYPES, seed=13):
        got = getattr(nb, name)(make(nb, x, device, noncontig), dim)
        expected = getattr(torch, name)(make(torch, x, noncontig=noncontig), dim)
        # ties point at the latest equal element, NaN propagates and points at the latest NaN
        assert_same(got.values, expected.values)
        assert_same(got.indices, expected.indices)


@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
def test_logcumsumexp_matches_torch(shape, dim, device):
    rng = np.random.default_rng(17)
    for dtype in ('float32', 'float64', 'float16'):
        for x in (sample(shape, dtype, rng, ties=False) * 30, sample(shape, dtype, rng, nans=True)):
            if x.size > 2:  # -inf (exp = 0) and +inf entries
                x.flat[0], x.flat[-1] = -np.inf, np.inf
            for noncontig in (False, True):
                got = nb.logcumsumexp(make(nb, x, device, noncontig), dim)
                expected = torch.logcumsumexp(make(torch, x, noncontig=noncontig), dim)
                # float16 rounds every step of the scan to half precision, in both libraries
                tol = {'float16': 2e-3, 'float32': 1e-5, 'float64': 1e-12}[dtype]
                assert_same(got, expected, rtol=tol, atol=tol)


def test_logcumsumexp_is_stable_for_large_and_small_values():
    # the first element is far below the maximum: a global shift by the maximum would lose it
    x = nb.tensor([-1000.0, 0.0, 1000.0], dtype=nb.float64)
    np.testing.assert_allclose(nb.logcumsumexp(x, 0).numpy(),
                               [-1000.0, np.log1p(np.exp(-1000.0)), 1000.0])


# ---------------------------------------------------------------------------------------------
# quantile / nanquantile
# ---------------------------------------------------------------------------------------------

INTERPOLATIONS = ['linear', 'lower', 'higher', 'midpoint', 'nearest']
QUANTILE_SHAPE_DIMS = [((1,), None), ((7,), None), ((7,), 0), ((4, 5), 1), ((4, 5), 0),
                       ((4, 5), None), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), None), ((), 0)]


@needs_torch
@pytest.mark.parametrize('shape,dim', QUANTILE_SHAPE_DIMS)
@pytest.mark.parametrize('interpolation', INTERPOLATIONS)
@pytest.mark.parametrize('name', ['quantile', 'nanquantile'])
def test_quantile_matches_torch(shape, dim, interpolation, name, device):
    rng = np.random.default_rng(19)
    q_values = [0.0, 0.25, 0.3, 0.5, 0.9, 1.0]
    for dtype in ('float32', 'float64'):
        for x in (sample(shape, dtype, rng, ties=False), sample(shape, dtype, rng, nans=True)):
            for keepdim in (False, True):
                # q as a Python number, a 0-dim tensor and a 1-D tensor
                for q in (0.3, np.asarray(0.75, dtype), np.asarray(q_values, dtype)):
                    qn = q if isinstance(q, float) else make(nb, q, device)
                    qt = q if isinstance(q, float) else torch.tensor(q)
                    got = getattr(nb, name)(make(nb, x, device, True), qn, dim, keepdim,
                                            interpolation=interpolation)
                    expected = getattr(torch, name)(make(torch, x, noncontig=True), qt, dim,
                                                    keepdim, interpolation=interpolation)
                    assert_same(got, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# unique / unique_consecutive
# ---------------------------------------------------------------------------------------------

UNIQUE_FLAGS = [(False, False), (True, False), (False, True), (True, True)]


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


@needs_torch
@pytest.mark.parametrize('shape', [(), (0,), (9,), (4, 5), (2, 3, 4), (3, 0), (100,)])
@pytest.mark.parametrize('name', ['unique', 'unique sorted=False', 'unique_consecutive'])
@pytest.mark.parametrize('flags', UNIQUE_FLAGS)
def test_unique_flat_matches_torch(shape, name, flags, device):
    return_inverse, return_counts = flags
    for x, noncontig in input_variants(shape, SORT_DTYPES, seed=23):
        kwargs = dict(return_inverse=return_inverse, return_counts=return_counts)
        fn_name = name.split()[0]
        if name == 'unique sorted=False':  # PyTorch's CPU result is sorted all the same
            kwargs['sorted'] = False
        got = getattr(nb, fn_name)(make(nb, x, device, noncontig), **kwargs)
        expected = getattr(torch, fn_name)(make(torch, x, noncontig=noncontig), **kwargs)
        got, expected = _as_tuple(got), _as_tuple(expected)
        assert len(got) == len(expected)
        assert_same(got[0], expected[0])
        if return_counts:
            assert_same(got[-1], expected[-1])
        if return_inverse:
            # every NaN is its own group; which NaN gets which of those groups is arbitrary
            nan = np.isnan(x) if x.dtype.kind == 'f' else np.zeros(x.shape, bool)
            g, e = to_np(got[1]), to_np(expected[1])
            assert g.shape == e.shape and got[1].dtype == nb.int64
            np.testing.assert_array_equal(g[~nan], e[~nan])
            np.testing.assert_array_equal(np.sort(g[nan]), np.sort(e[nan]))


@needs_torch
@pytest.mark.parametrize('shape,dim', [((6, 3), 0), ((6, 3), 1), ((3, 6), -1), ((2, 5, 3), 1),
                                       ((0, 3), 0), ((5,), 0)])
@pytest.mark.parametrize('name', ['unique', 'unique_consecutive'])
def test_unique_along_dim_matches_torch(shape, dim, name, device):
    rng = np.random.default_rng(29)
    for dtype in ('float32', 'int64', 'bool'):
        # few distinct values per element, so that whole slices repeat
        x = rng.integers(0, 2, shape).astype(dtype)
        for noncontig in (False, True):
            got = getattr(nb, name)(make(nb, x, device, noncontig), return_inverse=True,
                                    return_counts=True, dim=dim)
            expected = getattr(torch, name)(make(torch, x, noncontig=noncontig),
                                            return_inverse=True, return_counts=True, dim=dim)
            for g, e in zip(got, expected):
                assert_same(g, e)


@needs_torch
def test_unique_nan_slices_are_distinct():
    x = np.array([[1.0, NAN], [1.0, NAN], [0.0, 1.0]], np.float32)
    got = nb.unique(nb.tensor(x), dim=0, return_inverse=True, return_counts=True)
    expected = torch.unique(torch.tensor(x), dim=0, return_inverse=True, return_counts=True)
    for g, e in zip(got, expected):
        assert_same(g, e)


# ---------------------------------------------------------------------------------------------
# searchsorted / bucketize
# ---------------------------------------------------------------------------------------------

def _sorted_sequence(rng, shape, dtype, nans):
    seq = np.sort(sample(shape, dtype, rng), axis=-1)
    if nans and shape[-1] > 1:
        seq[..., -1] = np.nan   # NaN sorts last
    return seq


@needs_torch
@pytest.mark.parametrize('seq_shape,value_shape', [((7,), (10,)), ((7,), (3, 4)), ((7,), ()),
                                                   ((1,), (5,)), ((0,), (3,)), ((7,), (0,)),
                                                   ((2, 6), (2, 5)), ((2, 3, 6), (2, 3, 4)),
                                                   ((20,), (30,))])
@pytest.mark.parametrize('side', ['left', 'right'])
def test_searchsorted_matches_torch(seq_shape, value_shape, side, device):
    rng = np.random.default_rng(31)
    for dtype, value_dtype in (('float32', 'float32'), ('float64', 'float64'),
                               ('int64', 'int64'), ('int32', 'int32'), ('int64', 'float32'),
                               ('float32', 'int64')):
        for nans in (False, True):
            if nans and dtype.startswith('int'):
                continue
            seq = _sorted_sequence(rng, seq_shape, dtype, nans)
            values = sample(value_shape, value_dtype, rng, nans=nans) + \
                np.asarray(0.5 if value_dtype.startswith('float') else 0, value_dtype)
            for noncontig in (False, True):
                sn, st_ = make(nb, seq, device, noncontig), make(torch, seq, noncontig=noncontig)
                vn, vt = make(nb, values, device), torch.tensor(values)
                for kwargs in (dict(side=side), dict(right=side == 'right'),
                               dict(right=side == 'right', out_int32=True)):
                    assert_same(nb.searchsorted(sn, vn, **kwargs),
                                torch.searchsorted(st_, vt, **kwargs))


@needs_torch
@pytest.mark.parametrize('right', [False, True])
def test_searchsorted_with_sorter_and_scalars_matches_torch(right, device):
    rng = np.random.default_rng(37)
    for shape in ((9,), (2, 9)):
        seq = sample(shape, 'float32', rng)
        sorter = np.argsort(seq, axis=-1, kind='stable')
        values = sample(shape[:-1] + (6,), 'float32', rng) + np.float32(0.5)
        got = nb.searchsorted(make(nb, seq, device), make(nb, values, device), right=right,
                              sorter=make(nb, sorter, device))
        expected = torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right,
                                      sorter=torch.tensor(sorter))
        assert_same(got, expected)
    seq = np.array([1.0, 2.0, 2.0, 3.0], np.float32)
    for scalar in (2, 2.0, 2.5, 0, 10):
        assert_same(nb.searchsorted(make(nb, seq, device), scalar, right=right),
                    torch.searchsorted(torch.tensor(seq), scalar, right=right))
        assert_same(nb.bucketize(scalar, make(nb, seq, device), right=right),
                    torch.bucketize(scalar, torch.tensor(seq), right=right))


@needs_torch
@pytest.mark.parametrize('shape', [(), (0,), (10,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize('right', [False, True])
def test_bucketize_matches_torch(shape, right, device):
    boundaries = np.array([-2.0, -1.0, -1.0, 0.5, 2.0], np.float32)
    for x, noncontig in input_variants(shape, ['float32', 'int64', 'float64'], seed=41):
        for out_int32 in (False, True):
            assert_same(nb.bucketize(make(nb, x, device, noncontig),
                                     make(nb, boundaries, device), out_int32=out_int32,
                                     right=right),
                        torch.bucketize(make(torch, x, noncontig=noncontig),
                                        torch.tensor(boundaries), out_int32=out_int32,
                                        right=right))


@needs_torch
@settings(max_examples=60, deadline=None)
@given(seq=hnp.arrays(np.float32, st.integers(0, 12),
                      elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0, np.inf, -np.inf, np.nan])),
       values=hnp.arrays(np.float32, st.integers(0, 6),
                         elements=st.sampled_from([-2.0, -1.0, 0.0, 0.25, 2.0, np.nan, np.inf])),
       right=st.booleans())
def test_searchsorted_hypothesis(seq, values, right):
    seq = np.sort(seq)   # NaNs last, as PyTorch sorts them
    assert_same(nb.searchsorted(nb.tensor(seq), nb.tensor(values), right=right),
                torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right))


@needs_torch
@settings(max_examples=60, deadline=None)
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=20),
                    elements=st.sampled_from([-1.0, 0.0, -0.0, 0.5, 2.0, np.inf, np.nan])),
       descending=st.booleans(), data=st.data())
def test_stable_sort_hypothesis(x, descending, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    got = nb.sort(nb.tensor(x), dim, descending, stable=True)
    expected = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
    assert_same(got.values, expected.values)
    assert_same(got.indices, expected.indices)


# ---------------------------------------------------------------------------------------------
# bincount / histc / histogram
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('n', [0, 1, 15, 200])
@pytest.mark.parametrize('minlength', [0, 3, 30])
def test_bincount_matches_torch(n, minlength, device):
    rng = np.random.default_rng(43)
    for dtype in ('int64', 'int32', 'uint8'):
        x = rng.integers(0, 12, n).astype(dtype)
        assert_same(nb.bincount(make(nb, x, device), minlength=minlength),
                    torch.bincount(torch.tensor(x), minlength=minlength))
        for wdtype in ('float32', 'float64', 'int64'):
            w = sample((n,), wdtype, rng, ties=False)
            got = nb.bincount(make(nb, x, device), make(nb, w, device), minlength)
            expected = torch.bincount(torch.tensor(x), torch.tensor(w), minlength)
            # PyTorch adds float32 weights in float32, NumPy in float64: last-bit differences
            assert_same(got, expected, rtol=1e-6, atol=1e-6)
        assert_same(make(nb, x, device, True).bincount(minlength=minlength),
                    make(torch, x, noncontig=True).bincount(minlength=minlength))


@needs_torch
@pytest.mark.parametrize('shape', [(), (0,), (50,), (6, 7)])
@pytest.mark.parametrize('bins', [1, 4, 10])
@pytest.mark.parametrize('limits', [(0, 0), (-1, 1), (0, 3), (2, 2), (-0.3, 0.7)])
def test_histc_matches_torch(shape, bins, limits, device):
    rng = np.random.default_rng(47)
    for dtype in ('float32', 'float64'):
        # integers land exactly on bin edges; normal samples fall inside and outside the range
        for x in (sample(shape, dtype, rng), sample(shape, dtype, rng, ties=False),
                  sample(shape, dtype, rng, nans=True)):
            lo, hi = limits
            try:
                expected = torch.histc(torch.tensor(x), bins, lo, hi)
            except RuntimeError:  # NaN in the data with the range taken from the data
                with pytest.raises(RuntimeError):
                    nb.histc(make(nb, x, device), bins, lo, hi)
                continue
            assert_same(nb.histc(make(nb, x, device, True), bins, lo, hi), expected)


@needs_torch
@pytest.mark.parametrize('shape', [(0,), (1,), (50,), (6, 7)])
@pytest.mark.parametrize('bins', [1, 3, 10])
@pytest.mark.parametrize('range_', [None, (0.0, 3.0), (-1.0, 1.0), (2.0, 2.0)])
@pytest.mark.parametrize('density', [False, True])
def test_histogram_matches_torch(shape, bins, range_, density, device):
    rng = np.random.default_rng(53)
    for dtype in ('float32', 'float64'):
        for x in (sample(shape, dtype, rng), sample(shape, dtype, rng, ties=False)):
            w = sample(shape, dtype, rng, ties=False) ** 2
            for weight in (None, w):
                got = nb.histogram(make(nb, x, device, True), bins, range=range_,
                                   weight=None if weight is None else make(nb, weight, device),
                                   density=density)
                expected = torch.histogram(torch.tensor(x), bins, range=range_,
                                           weight=None if weight is None else torch.tensor(weight),
                                           density=density)
                exact = weight is None and not density
                assert_same(got.hist, expected.hist, rtol=0 if exact else 1e-5,
                            atol=0 if exact else 1e-6)
                assert_same(got.bin_edges, expected.bin_edges, rtol=1e-6, atol=1e-6)


@needs_torch
@pytest.mark.parametrize('edges', [[0.0, 1.0, 2.5, 4.0], [-3.0, -1.0, -1.0, 0.0, 0.5, 3.0],
                                   [-1.0, 1.0], [2.0, 1.0]])
def test_histogram_with_explicit_edges_matches_torch(edges, device):
    rng = np.random.default_rng(59)
    x = sample((60,), 'float32', rng)
    w = sample((60,), 'float32', rng, ties=False) ** 2
    e = np.asarray(edges, np.float32)
    for weight, density in ((None, False), (w, False), (None, True), (w, True)):
        got = nb.histogram(make(nb, x, device), make(nb, e, device),
                           weight=None if weight is None else make(nb, weight, device),
                           density=density)
        expected = torch.histogram(torch.tensor(x), torch.tensor(e),
                                   weight=None if weight is None else torch.tensor(weight),
                                   density=density)
        assert_same(got.hist, expected.hist, rtol=1e-6, atol=1e-6)
        assert_same(got.bin_edges, expected.bin_edges)


# ---------------------------------------------------------------------------------------------
# isin
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('shapes', [((), (4,)), ((10,), (4,)), ((3, 4), (2, 3)), ((5,), (0,)),
                                    ((0,), (3,))])
@pytest.mark.parametrize('invert', [False, True])
def test_isin_matches_torch(shapes, invert, device):
    rng = np.random.default_rng(61)
    for dtype, test_dtype in (('int64', 'int64'), ('float32', 'float32'), ('int64', 'float32'),
                              ('float64', 'int32'), ('uint8', 'int64')):
        for nans in (False, True):
            x = sample(shapes[0], dtype, rng, nans=nans)
            test = sample(shapes[1], test_dtype, rng, nans=nans)
            for noncontig in (False, True):
                assert_same(nb.isin(make(nb, x, device, noncontig),
                                    make(nb, test, device), invert=invert),
                            torch.isin(make(torch, x, noncontig=noncontig), torch.tensor(test),
                                       invert=invert))
    test = np.array([1, 3, 5])
    assert_same(nb.isin(3, make(nb, test, device)), torch.isin(3, torch.tensor(test)))
    assert_same(nb.isin(make(nb, test, device), 3, invert=invert),
                torch.isin(torch.tensor(test), 3, invert=invert))


# ---------------------------------------------------------------------------------------------
# diff / trapezoid / trapz / cumulative_trapezoid
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('shape,dim', [((0,), 0), ((1,), 0), ((6,), 0), ((4, 5), 1), ((4, 5), 0),
                                       ((2, 3, 4), -1), ((2, 3, 4), 1), ((3, 0), 1)])
@pytest.mark.parametrize('n', [0, 1, 2, 7])
def test_diff_matches_torch(shape, dim, n, device):
    rng = np.random.default_rng(67)
    for x, noncontig in input_variants(shape, ['float32', 'float64', 'int64', 'uint8', 'bool'],
                                       seed=67):
        extra_shape = list(shape)
        extra_shape[dim] = 2
        pre = sample(tuple(extra_shape), x.dtype, rng)
        extra_shape[dim] = 1
        app = sample(tuple(extra_shape), x.dtype, rng)
        for p, a in ((None, None), (pre, None), (None, app), (pre, app)):
            got = nb.diff(make(nb, x, device, noncontig), n, dim,
                          None if p is None else make(nb, p, device),
                          None if a is None else make(nb, a, device))
            expected = torch.diff(make(torch, x, noncontig=noncontig), n, dim,
                                  None if p is None else torch.tensor(p),
                                  None if a is None else torch.tensor(a))
            assert_same(got, expected)


@needs_torch
def test_diff_promotes_prepend_and_append_like_torch():
    x = np.array([1, 4, 9], np.int64)
    for extra_dtype in ('float32', 'float64', 'int32', 'bool'):
        extra = np.array([2], extra_dtype)
        assert_same(nb.diff(nb.tensor(x), prepend=nb.tensor(extra)),
                    torch.diff(torch.tensor(x), prepend=torch.tensor(extra)))


TRAPEZOID_CASES = [
    # (name, call(lib, y, x_or_None), y shape, x shape or None)
    ('dx default', lambda lib, y, x: lib.trapezoid(y), (4, 5), None),
    ('dx 0.5 dim 0', lambda lib, y, x: lib.trapezoid(y, dx=0.5, dim=0), (4, 5), None),
    ('dx int', lambda lib, y, x: lib.trapezoid(y, dx=2, dim=1), (2, 3, 4), None),
    ('x 1-D', lambda lib, y, x: lib.trapezoid(y, x), (3, 5), (5,)),
    ('x 1-D dim 0', lambda lib, y, x: lib.trapezoid(y, x, dim=0), (3, 5), (3,)),
    ('x same shape', lambda lib, y, x: lib.trapezoid(y, x, dim=1), (3, 5), (3, 5)),
    ('x lower dim', lambda lib, y, x: lib.trapezoid(y, x), (2, 3, 5), (3, 5)),
    ('x broadcast row', lambda lib, y, x: lib.trapezoid(y, x), (3, 5), (1, 5)),
    ('empty', lambda lib, y, x: lib.trapezoid(y, dim=1), (2, 0), None),
    ('empty with x', lambda lib, y, x: lib.trapezoid(y, x), (2, 0), (0,)),
    ('trapz x', lambda lib, y, x: lib.trapz(y, x), (3, 5), (5,)),
    ('trapz dx', lambda lib, y, x: lib.trapz(y, dx=3.0), (3, 5), None),
    ('cumulative', lambda lib, y, x: lib.cumulative_trapezoid(y), (4, 5), None),
    ('cumulative dx', lambda lib, y, x: lib.cumulative_trapezoid(y, dx=0.5, dim=0), (4, 5), None),
    ('cumulative x', lambda lib, y, x: lib.cumulative_trapezoid(y, x), (3, 5), (5,)),
    ('cumulative x same shape', lambda lib, y, x: lib.cumulative_trapezoid(y, x, dim=0), (3, 5),
     (3, 5)),
    ('cumulative empty', lambda lib, y, x: lib.cumulative_trapezoid(y), (0,), None),
    ('cumulative one', lambda lib, y, x: lib.cumulative_trapezoid(y, dim=0), (1, 3), None),
]


@needs_torch
@pytest.mark.parametrize('case', TRAPEZOID_CASES, ids=[c[0] for c in TRAPEZOID_CASES])
def test_trapezoid_family_matches_torch(case, device):
    _, fn, y_shape, x_shape = case
    rng = np.random.default_rng(71)
    for y_dtype, x_dtype in (('float32', 'float32'), ('float64', 'float64'), ('int64', 'int64'),
                             ('int64', 'float32'), ('float32', 'float64')):
        y = sample(y_shape, y_dtype, rng, ties=False)
        x = None if x_shape is None else np.sort(sample(x_shape, x_dtype, rng, ties=False), -1)
        for noncontig in (False, True):
            got = fn(nb, make(nb, y, device, noncontig),
                     None if x is None else make(nb, x, device))
            expected = fn(torch, make(torch, y, noncontig=noncontig),
                          None if x is None else torch.tensor(x))
            assert_same(got, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Gradients: against PyTorch, then float64 gradcheck / gradgradcheck (inputs without ties)
# ---------------------------------------------------------------------------------------------

def _q(lib, x, values):
    return lib.tensor(values, dtype=x.dtype, device=x.device)


GRAD_CASES = [
    # (name, fn(lib, x) -> differentiable tensor, input shape, also gradgradcheck)
    ('sort', lambda lib, x: lib.sort(x, 1).values, (3, 5), True),
    ('sort descending dim 0', lambda lib, x: lib.sort(x, 0, descending=True).values, (4, 3),
     False),
    ('sort 0-dim', lambda lib, x: lib.sort(x).values, (), False),
    ('msort', lambda lib, x: lib.msort(x), (4, 3), False),
    ('topk', lambda lib, x: lib.topk(x, 2, dim=1).values, (3, 5), True),
    ('topk smallest dim 0', lambda lib, x: lib.topk(x, 3, 0, largest=False).values, (4, 3),
     False),
    ('kthvalue', lambda lib, x: lib.kthvalue(x, 2, 0, keepdim=True).values, (4, 3), False),
    ('median', lambda lib, x: lib.median(x), (3, 5), True),
    ('median dim', lambda lib, x: lib.median(x, 1).values, (3, 5), False),
    ('nanmedian', lambda lib, x: lib.nanmedian(x), (4, 3), False),
    ('nanmedian dim keepdim', lambda lib, x: lib.nanmedian(x, 0, True).values, (4, 3), False),
    ('mode', lambda lib, x: lib.mode(x, 1).values, (3, 5), False),
    ('cummax', lambda lib, x: lib.cummax(x, 1).values, (3, 5), True),
    ('cummin dim 0', lambda lib, x: lib.cummin(x, 0).values, (4, 3), False),
    ('logcumsumexp', lambda lib, x: lib.logcumsumexp(x, 1), (3, 5), True),
    ('logcumsumexp dim 0', lambda lib, x: lib.logcumsumexp(x, 0), (4, 3), False),
    ('quantile linear', lambda lib, x: lib.quantile(x, 0.3, dim=1), (3, 5), True),
    ('quantile q tensor', lambda lib, x: lib.quantile(x, _q(lib, x, [0.1, 0.75])), (3, 5), False),
    ('quantile midpoint', lambda lib, x: lib.quantile(x, 0.4, 0, interpolation='midpoint'),
     (4, 3), False),
    ('quantile nearest', lambda lib, x: lib.quantile(x, 0.4, 1, interpolation='nearest'),
     (3, 5), False),
    ('quantile lower', lambda lib, x: lib.quantile(x, 0.6, 1, True, interpolation='lower'),
     (3, 5), False),
    ('quantile higher', lambda lib, x: lib.quantile(x, 0.6, interpolation='higher'),
     (3, 5), False),
    ('nanquantile', lambda lib, x: lib.nanquantile(x, 0.6, dim=0), (4, 3), False),
    ('diff', lambda lib, x: lib.diff(x, 2, 1), (3, 5), True),
    ('diff prepend append', lambda lib, x: lib.diff(x, 1, 0, prepend=x[:1] * 2, append=x[-1:]),
     (4, 3), False),
    ('trapezoid', lambda lib, x: lib.trapezoid(x, dim=1), (3, 5), False),
    ('trapezoid dx', lambda lib, x: lib.trapezoid(x, dx=0.5, dim=0), (4, 3), False),
    ('trapezoid x', lambda lib, x: lib.trapezoid(x, _q(lib, x, [0.0, 1.0, 3.0, 3.5, 5.0])),
     (3, 5), False),
    ('trapz', lambda lib, x: lib.trapz(x), (3, 5), False),
    ('cumulative_trapezoid', lambda lib, x: lib.cumulative_trapezoid(x, dim=0), (4, 3), True),
    ('cumulative_trapezoid x',
     lambda lib, x: lib.cumulative_trapezoid(x, _q(lib, x, [0.0, 1.0, 3.0, 3.5, 5.0])), (3, 5),
     False),
]
GRAD_IDS = [c[0] for c in GRAD_CASES]


def _distinct(shape, seed):
    """float64 values far enough apart that +-1e-6 perturbations never reorder them."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n) * 0.37 + rng.uniform(0, 0.1, n)).reshape(shape)


@needs_torch
@pytest.mark.parametrize('case', GRAD_CASES, ids=GRAD_IDS)
def test_backward_matches_torch(case, device):
    _, fn, shape, _ = case
    x = _distinct(shape, 0)
    grads = []
    for lib in (nb, torch):
        t = make(lib, x, device, requires_grad=True)
        out = fn(lib, t)
        upstream = np.random.default_rng(1).standard_normal(tuple(out.shape))
        out.backward(make(lib, upstream, device) if lib is nb else torch.tensor(upstream))
        grads.append(t.grad)
    assert_same(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('case', GRAD_CASES, ids=GRAD_IDS)
def test_gradcheck(case):
    _, fn, shape, _ = case
    x = nb.tensor(_distinct(shape, 2), dtype=nb.float64, requires_grad=True)
    assert gradcheck(lambda t: fn(nb, t), (x,))


@pytest.mark.parametrize('case', [c for c in GRAD_CASES if c[3]], ids=[c[0] for c in GRAD_CASES
                                                                          if c[3]])
def test_gradgradcheck(case):
    _, fn, shape, _ = case
    x = nb.tensor(_distinct(shape, 3), dtype=nb.float64, requires_grad=True)
    assert gradgradcheck(lambda t: fn(nb, t), (x,))


@needs_torch
@pytest.mark.parametrize('name', ['median', 'nanmedian'])
def test_median_gradient_is_shared_by_ties_like_torch(name):
    # the whole-tensor median sends its gradient evenly to all elements equal to it (or all NaNs)
    for values in ([3.0, 1.0, 1.0, 2.0, 1.0, 5.0], [3.0, 1.0, NAN, 2.0, NAN, 5.0], [NAN, NAN]):
        grads = []
        for lib in (nb, torch):
            t = lib.tensor(values, requires_grad=True)
            getattr(lib, name)(t).backward()
            grads.append(t.grad)
        assert_same(grads[0], grads[1], rtol=1e-7)


@needs_torch
@pytest.mark.parametrize('name', ['cummax', 'cummin'])
def test_cummax_gradient_accumulates_on_repeated_indices(name):
    values = [1.0, 3.0, 2.0, 3.0, 0.5, NAN, 4.0]
    grads = []
    for lib in (nb, torch):
        t = lib.tensor(values, requires_grad=True)
        getattr(lib, name)(t, 0).values.backward(lib.arange(1.0, 8.0))
        grads.append(t.grad)
    assert_same(grads[0], grads[1])


@needs_torch
@pytest.mark.parametrize('interpolation', ['linear', 'midpoint', 'lower'])
def test_quantile_gradient_reaches_q_like_torch(interpolation):
    x = _distinct((3, 5), 5)
    q = np.array([0.15, 0.6, 0.9])
    grads = []
    for lib in (nb, torch):
        xt, qt = lib.tensor(x, requires_grad=True), lib.tensor(q, requires_grad=True)
        lib.quantile(xt, qt, dim=1, interpolation=interpolation).sum().backward()
        grads.append((xt.grad, qt.grad))
    for g, e in zip(*grads):
        if e is None:
            assert g is None or not to_np(g).any()
        else:
            assert_same(g, e, rtol=1e-10, atol=1e-12)
    xn = nb.tensor(x, requires_grad=True)
    qn = nb.tensor(q, requires_grad=True)
    assert gradcheck(lambda a, b: nb.quantile(a, b, dim=1), (xn, qn))


def test_indices_are_not_differentiable():
    x = nb.tensor(_distinct((3, 4), 7), requires_grad=True)
    for result in (nb.sort(x), nb.topk(x, 2), nb.kthvalue(x, 2), nb.median(x, 0),
                   nb.nanmedian(x, 1), nb.mode(x), nb.cummax(x, 1),
                   nb.cummin(x, 0)):
        assert result.values.requires_grad and not result.indices.requires_grad
        assert str(result.indices.dtype) == 'nbgrad.int64'


# ---------------------------------------------------------------------------------------------
# Autograd metadata, PyTorch's not-differentiable outputs, errors, methods, result types
# ---------------------------------------------------------------------------------------------

@needs_torch
def test_grad_fn_names_match_torch():
    calls = [lambda lib, x: lib.sort(x).values, lambda lib, x: lib.sort(x, stable=True).values,
             lambda lib, x: lib.topk(x, 2).values, lambda lib, x: lib.kthvalue(x, 2).values,
             lambda lib, x: lib.median(x), lambda lib, x: lib.median(x, 0).values,
             lambda lib, x: lib.nanmedian(x), lambda lib, x: lib.nanmedian(x, 0).values,
             lambda lib, x: lib.mode(x).values, lambda lib, x: lib.cummax(x, 0).values,
             lambda lib, x: lib.cummin(x, 0).values, lambda lib, x: lib.logcumsumexp(x, 0),
             lambda lib, x: lib.unique(x), lambda lib, x: lib.unique(x, dim=0),
             lambda lib, x: lib.unique_consecutive(x)]
    x = _distinct((5,), 9)
    for call in calls:
        got = call(nb, nb.tensor(x, requires_grad=True))
        expected = call(torch, torch.tensor(x, requires_grad=True))
        assert got.grad_fn.name() == expected.grad_fn.name()


# Ops whose float outputs PyTorch gives a grad_fn that refuses backward, and ops without one.
NOT_DIFFERENTIABLE = [
    ('unique', lambda lib, x: lib.unique(x), True),
    ('unique dim', lambda lib, x: lib.unique(x, dim=0), True),
    ('unique_consecutive', lambda lib, x: lib.unique_consecutive(x), True),
    ('histogram', lambda lib, x: lib.histogram(x, 3).hist, True),
    ('histogram edges', lambda lib, x: lib.histogram(x, 3).bin_edges, True),
    ('bincount weights', lambda lib, x: lib.bincount(lib.tensor([1, 0, 3, 1, 2]), x), True),
    ('histc', lambda lib, x: lib.histc(x, 3), False),
    ('argsort', lambda lib, x: lib.argsort(x), False),
    ('searchsorted', lambda lib, x: lib.searchsorted(x, x), False),
    ('bucketize', lambda lib, x: lib.bucketize(x, lib.tensor([0.5, 1.5])), False),
    ('isin', lambda lib, x: lib.isin(x, x), False),
]


@needs_torch
@pytest.mark.parametrize('case', NOT_DIFFERENTIABLE, ids=[c[0] for c in NOT_DIFFERENTIABLE])
def test_not_differentiable_outputs_behave_like_torch(case):
    _, fn, has_grad_fn = case
    x = np.array([3.0, 1.0, 1.0, 2.0, 0.0])
    got = fn(nb, nb.tensor(x, requires_grad=True))
    expected = fn(torch, torch.tensor(x, requires_grad=True))
    assert got.requires_grad == expected.requires_grad == has_grad_fn
    if has_grad_fn:
        with pytest.raises(Exception) as expected_error:
            expected.sum().backward()
        with pytest.raises(expected_error.type):
            got.sum().backward()


def _t(values, dtype=None):
    """A value builder for the error table: makes the tensor in whichever library is asked."""
    return lambda lib: lib.tensor(values, dtype=None if dtype is None else getattr(lib, dtype))


ERROR_CASES = [
    ('sort complex', lambda lib: lib.sort(_t([1 + 1j, 2])(lib))),
    ('sort bad dim', lambda lib: lib.sort(_t([1.0, 2.0])(lib), 1)),
    ('topk k too large', lambda lib: lib.topk(_t([1.0, 2.0])(lib), 3)),
    ('topk negative k', lambda lib: lib.topk(_t([1.0, 2.0])(lib), -1)),
    ('topk bool', lambda lib: lib.topk(_t([True, False])(lib), 1)),
    ('kthvalue k too large', lambda lib: lib.kthvalue(_t([1.0, 2.0])(lib), 3)),
    ('kthvalue k zero', lambda lib: lib.kthvalue(_t([1.0, 2.0])(lib), 0)),
    ('kthvalue empty dim', lambda lib: lib.kthvalue(lib.zeros(0, 3), 1, 0)),
    ('kthvalue bool', lambda lib: lib.kthvalue(_t([True, False])(lib), 1)),
    ('median empty dim', lambda lib: lib.median(lib.zeros(0, 3), 0)),
    ('median bool', lambda lib: lib.median(_t([True, False])(lib))),
    ('mode empty dim', lambda lib: lib.mode(lib.zeros(0, 3), 0)),
    ('logcumsumexp int', lambda lib: lib.logcumsumexp(_t([1, 2])(lib), 0)),
    ('quantile int', lambda lib: lib.quantile(_t([1, 2])(lib), 0.5)),
    ('quantile q > 1', lambda lib: lib.quantile(_t([1.0, 2.0])(lib), 1.5)),
    ('quantile q tensor > 1', lambda lib: lib.quantile(_t([1.0, 2.0])(lib), _t([0.2, 1.2])(lib))),
    ('quantile q dtype', lambda lib: lib.quantile(_t([1.0, 2.0])(lib), _t([0.5], 'float64')(lib))),
    ('quantile q 2-D', lambda lib: lib.quantile(_t([1.0, 2.0])(lib), _t([[0.5]])(lib))),
    ('quantile empty', lambda lib: lib.quantile(lib.zeros(0), 0.5)),
    ('quantile interpolation', lambda lib: lib.quantile(_t([1.0])(lib), 0.5,
                                                        interpolation='cubic')),
    ('unique dim of 0-dim', lambda lib: lib.unique(_t(3)(lib), dim=0)),
    ('unique zero-size other dim', lambda lib: lib.unique(lib.zeros(0, 3), dim=1)),
    ('searchsorted 0-dim boundaries', lambda lib: lib.searchsorted(_t(3.0)(lib), _t([1.0])(lib))),
    ('searchsorted shape mismatch', lambda lib: lib.searchsorted(lib.zeros(2, 3), _t([1.0])(lib))),
    ('searchsorted scalar with 2-D', lambda lib: lib.searchsorted(lib.zeros(2, 3), 1.0)),
    ('searchsorted side conflict', lambda lib: lib.searchsorted(_t([1.0])(lib), _t([1.0])(lib),
                                                                side='left', right=True)),
    ('searchsorted bad side', lambda lib: lib.searchsorted(_t([1.0])(lib), _t([1.0])(lib),
                                                           side='middle')),
    ('searchsorted sorter size', lambda lib: lib.searchsorted(_t([1.0, 2.0])(lib), _t([1.0])(lib),
                                                              sorter=_t([0])(lib))),
    ('searchsorted sorter dtype', lambda lib: lib.searchsorted(
        _t([1.0, 2.0])(lib), _t([1.0])(lib), sorter=_t([0, 1], 'int32')(lib))),
    ('searchsorted sorter range', lambda lib: lib.searchsorted(_t([1.0, 2.0])(lib), _t([1.0])(lib),
                                                               sorter=_t([0, 5])(lib))),
    ('bucketize 2-D boundaries', lambda lib: lib.bucketize(_t([1.0])(lib), lib.zeros(2, 2))),
    ('bincount negative', lambda lib: lib.bincount(_t([-1, 2])(lib))),
    ('bincount float', lambda lib: lib.bincount(_t([1.0, 2.0])(lib))),
    ('bincount 2-D', lambda lib: lib.bincount(_t([[1, 2]])(lib))),
    ('bincount weights length', lambda lib: lib.bincount(_t([1, 2])(lib), _t([1.0])(lib))),
    ('bincount minlength', lambda lib: lib.bincount(_t([1, 2])(lib), minlength=-1)),
    ('histc int', lambda lib: lib.histc(_t([1, 2])(lib), 3)),
    ('histc zero bins', lambda lib: lib.histc(_t([1.0, 2.0])(lib), 0)),
    ('histc min > max', lambda lib: lib.histc(_t([1.0, 2.0])(lib), 3, 3, 1)),
    ('histc infinite', lambda lib: lib.histc(_t([1.0, float('inf')])(lib), 3)),
    ('histogram int', lambda lib: lib.histogram(_t([1, 2])(lib), 3)),
    ('histogram bins dtype',
     lambda lib: lib.histogram(_t([1.0])(lib), _t([0.0, 1.0], 'float64')(lib))),
    ('histogram one edge', lambda lib: lib.histogram(_t([1.0])(lib), _t([1.0])(lib))),
    ('histogram weight shape', lambda lib: lib.histogram(_t([1.0, 2.0])(lib), 3,
                                                         weight=_t([1.0])(lib))),
    ('histogram bad range', lambda lib: lib.histogram(_t([1.0])(lib), 3, range=(2.0, 1.0))),
    ('histogram nan range', lambda lib: lib.histogram(_t([1.0, float('nan')])(lib), 3)),
    ('isin bool', lambda lib: lib.isin(_t([True])(lib), _t([True])(lib))),
    ('isin two numbers', lambda lib: lib.isin(2, 3)),
    ('diff 0-dim', lambda lib: lib.diff(_t(3.0)(lib))),
    ('diff negative n', lambda lib: lib.diff(_t([1.0, 2.0])(lib), -1)),
    ('diff prepend ndim', lambda lib: lib.diff(_t([1.0, 2.0])(lib), prepend=_t(0.0)(lib))),
    ('diff prepend shape', lambda lib: lib.diff(lib.zeros(2, 2), dim=0, prepend=lib.zeros(1, 3))),
    ('diff append number', lambda lib: lib.diff(_t([1.0, 2.0])(lib), append=5)),
    ('trapezoid 0-dim', lambda lib: lib.trapezoid(_t(1.0)(lib))),
    ('trapezoid bool', lambda lib: lib.trapezoid(_t([True, False])(lib))),
    ('trapezoid number for x', lambda lib: lib.trapezoid(_t([1.0, 2.0])(lib), 2.0)),
    ('trapezoid x and dx', lambda lib: lib.trapezoid(_t([1.0, 2.0])(lib), _t([0.0, 1.0])(lib),
                                                     dx=2)),
    ('cumulative_trapezoid number for x',
     lambda lib: lib.cumulative_trapezoid(_t([1.0, 2.0])(lib), 2.0)),
    ('trapezoid x size', lambda lib: lib.trapezoid(lib.zeros(2, 3), _t([0.0, 1.0])(lib))),
]


@needs_torch
@pytest.mark.parametrize('case', ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_torch(case):
    _, call = case
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(nb)


@needs_torch
def test_tensor_methods_match_functions():
    x = _distinct((3, 4), 13).astype(np.float32)
    n, t = nb.tensor(x), torch.tensor(x)
    calls = [lambda a: a.sort(1, True).values, lambda a: a.argsort(0), lambda a: a.msort(),
             lambda a: a.topk(2).indices, lambda a: a.kthvalue(2, 0).values,
             lambda a: a.median(), lambda a: a.nanmedian(1).indices, lambda a: a.mode(0).values,
             lambda a: a.quantile(0.4), lambda a: a.nanquantile(0.4, 1),
             lambda a: a.cummax(1).indices, lambda a: a.cummin(0).values,
             lambda a: a.logcumsumexp(1), lambda a: a.unique(return_counts=True)[1],
             lambda a: a.unique_consecutive(), lambda a: a.histc(5),
             lambda a: a.histogram(4).hist, lambda a: a.diff(dim=0),
             lambda a: (a * 2).long().flatten().bincount()]
    for call in calls:
        assert_same(call(n), call(t), rtol=1e-6, atol=1e-6)


def test_result_types():
    x = nb.tensor([[3.0, 1.0], [2.0, 2.0]])
    for name, result in (('sort', nb.sort(x)), ('topk', nb.topk(x, 1)),
                         ('kthvalue', nb.kthvalue(x, 1)), ('median', nb.median(x, 1)),
                         ('nanmedian', nb.nanmedian(x, 1)), ('mode', nb.mode(x)),
                         ('cummax', nb.cummax(x, 0)), ('cummin', nb.cummin(x, 0))):
        assert type(result).__name__ == name
        values, indices = result
        assert values is result.values and indices is result.indices
    hist, edges = nb.histogram(x, 2)
    assert type(nb.histogram(x, 2)).__name__ == 'histogram'
    assert hist.shape == (2,) and edges.shape == (3,)
