"""Counting, searching and calculus ops (nbgrad/ops/counting.py, calculus.py) against PyTorch:
unique, searchsorted/bucketize, bincount/histc/histogram, isin, diff and the trapezoid family
(inputs and conventions as in test_sorting.py)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from sorting_cases import (
    NAN, SORT_DTYPES, assert_same, input_variants, make, nb, needs_torch, sample, to_np, torch)

# PyTorch warns when searchsorted gets non-contiguous tensors, which these tests do on purpose
pytestmark = pytest.mark.filterwarnings('ignore:torch.searchsorted.*non-contiguous:UserWarning')


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
