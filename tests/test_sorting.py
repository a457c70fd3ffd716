"""Sorting and selection ops (nbgrad/ops/sorting.py) against PyTorch on the CPU.

Inputs come from small integer pools (ties) with NaNs mixed in, as 0-dim, empty, transposed
(non-contiguous) and several-dim tensors of several dtypes. Values must match PyTorch exactly;
indices must match exactly where PyTorch defines them (stable sort, cummax/cummin, searchsorted,
unique, median's NaN) and where nbgrad replays PyTorch's order of ties (sort and argsort with
stable=False on the CPU, whose std::sort orders ties its own way beyond 16 elements); elsewhere
(topk/kthvalue/mode, and sort on a GPU) they must point at elements holding the returned
values; test_*_order_ties_as_pytorch_on_the_cpu check the CPU's replayed order itself. Gradients are compared with
PyTorch's and gradchecked in float64 on inputs without ties.
"""
import numpy as np
import pytest

from nbgrad.autograd import gradcheck, gradgradcheck
from sorting_cases import (
    NAN, REDUCE_SHAPE_DIMS, SHAPE_DIMS, SORT_DTYPES, assert_picks, assert_same, dim_size,
    input_variants, make, nb, needs_torch, sample, to_np, torch)


# ---------------------------------------------------------------------------------------------
# sort / argsort / msort / topk
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize('shape,dim', SHAPE_DIMS)
@pytest.mark.parametrize('descending', [False, True])
@pytest.mark.parametrize('stable', [False, True])
def test_sort_matches_torch(shape, dim, descending, stable, device):
    for x, noncontig in input_variants(shape, SORT_DTYPES, seed=len(shape) + dim % 4):
        got = nb.sort(make(nb, x, device, noncontig), dim, descending, stable=stable)
        expected = torch.sort(make(torch, x, noncontig=noncontig), dim=dim,
                              descending=descending, stable=stable)
        assert_same(got.values, expected.values)
        if stable or dim_size(shape, dim) <= 16 or device == 'cpu':
            # PyTorch defines the order of ties for stable=True; for stable=False nbgrad replays
            # its CPU std::sort (stable itself on rows of up to 16 elements)
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
        if device == 'cpu':     # (ties in std::sort's order: see test_sort_matches_torch)
            assert_same(nb.argsort(n, dim=dim, descending=descending),
                        torch.argsort(t, dim=dim, descending=descending))


@needs_torch
@pytest.mark.parametrize('descending', [False, True])
def test_unstable_sort_orders_ties_as_pytorch_on_the_cpu(descending):
    """Rows of many lengths from small pools (ties everywhere, NaN too): std::sort's order."""
    rng = np.random.default_rng(0)
    for n in list(range(15, 40)) + [100, 1000]:
        for pool in (2, 5):
            keys = rng.integers(0, pool, n).astype(np.float32)
            keys[rng.random(n) < 0.05] = np.nan
            got = nb.sort(nb.tensor(keys), descending=descending).indices
            expected = torch.sort(torch.tensor(keys), descending=descending).indices
            assert to_np(got).tolist() == expected.tolist(), (n, pool)


@needs_torch
@pytest.mark.parametrize('largest', [False, True])
@pytest.mark.parametrize('sorted_', [False, True])
def test_topk_and_mode_order_ties_as_pytorch_on_the_cpu(largest, sorted_):
    """topk's partial_sort (k * 64 <= n) and nth_element paths, and mode's sorted scan."""
    rng = np.random.default_rng(1)
    for n in (5, 17, 40, 130, 700, 1024):
        keys = rng.integers(0, 4, n).astype(np.float32)
        for k in sorted({1, 2, max(1, n // 64), n // 3, n}):
            got = nb.topk(nb.tensor(keys), k, largest=largest, sorted=sorted_).indices
            expected = torch.topk(torch.tensor(keys), k, largest=largest, sorted=sorted_).indices
            assert to_np(got).tolist() == expected.tolist(), (n, k)
        assert int(nb.mode(nb.tensor(keys)).indices) == int(torch.mode(torch.tensor(keys))
                                                             .indices), n


@needs_torch
def test_kthvalue_and_median_order_ties_as_pytorch_on_the_cpu():
    """kthvalue's quickselect (Sorting.cpp) and median's index-ordered nth_element, on rows of
    a few values with NaNs, every k."""
    rng = np.random.default_rng(2)
    for n in (2, 3, 7, 16, 33, 100):
        for pool in (2, 4):
            keys = rng.integers(0, pool, (3, n)).astype(np.float32)
            keys[rng.random((3, n)) < 0.1] = np.nan
            for k in range(1, n + 1):
                got = nb.kthvalue(nb.tensor(keys), k, 1)
                expected = torch.kthvalue(torch.tensor(keys), k, 1)
                assert to_np(got.indices).tolist() == expected.indices.tolist(), (n, pool, k)
            for name in ('median', 'nanmedian'):
                got = getattr(nb.tensor(keys), name)(1).indices
                expected = getattr(torch.tensor(keys), name)(1).indices
                assert to_np(got).tolist() == expected.tolist(), (n, pool, name)


@needs_torch
def test_pack_padded_sequence_orders_equal_lengths_as_pytorch():
    """enforce_sorted=False sorts the lengths without stable=True: with 24 sequences of a few
    lengths, PyTorch's order of equal lengths decides the packed batch order."""
    lengths = [3, 5, 5, 2, 5, 3, 3, 5, 2, 2, 5, 3] * 2
    x = np.arange(24 * 5, dtype=np.float32).reshape(24, 5, 1)
    got = nb.nn.utils.rnn.pack_padded_sequence(nb.tensor(x), nb.tensor(lengths),
                                               batch_first=True, enforce_sorted=False)
    expected = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                                       batch_first=True, enforce_sorted=False)
    assert to_np(got.sorted_indices).tolist() == expected.sorted_indices.tolist()
    assert to_np(got.data).tolist() == expected.data.tolist()


def test_stable_sort_keeps_input_order_on_long_rows():
    # no oracle needed: with stable=True equal keys keep their input order, also descending
    keys = np.array([2, 1, 2, 0, 1, 2, 0, 0, 1, 2] * 5, dtype=np.float32)
    x = nb.tensor(keys)
    for descending in (False, True):
        idx = nb.sort(x, descending=descending, stable=True).indices.numpy()
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
                if device == 'cpu':     # (nbgrad replays PyTorch's selection order of ties)
                    assert_same(got.values, expected.values)
                    assert_same(got.indices, expected.indices)
                elif sorted_:
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
            if defined == 'short_rows' and (size <= 16 or device == 'cpu'):
                # the last occurrence in PyTorch's std::sort-ed copy (stable up to 16; replayed
                # on the CPU beyond)
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


@needs_torch
@pytest.mark.parametrize('dtype', ['float16', 'float32', 'complex64'])
@pytest.mark.parametrize('scan', ['cumsum', 'cumprod', 'logcumsumexp'])
def test_long_scans_accumulate_as_pytorch_does(scan, dtype):
    """PyTorch's CPU scans keep the running value in a wider type (float16 in float32, float32
    in float64) and round each output; a scan in the input's own type drifts (float32 cumsum of
    a million 0.1: 100958 instead of 100000; float16 stalls at 256)."""
    if scan == 'logcumsumexp' and dtype == 'complex64':
        pytest.skip('nbgrad has no complex logcumsumexp')
    n = 20000 if dtype == 'float16' else 1_000_000
    value = {'cumsum': 0.1, 'cumprod': 1.00001, 'logcumsumexp': -5.0}[scan]

    def run(lib):
        x = lib.full((n,), value, dtype=getattr(lib, dtype))
        if scan == 'cumprod' and dtype == 'float16':
            x = lib.full((n,), 1.0009765625, dtype=getattr(lib, dtype))
        return getattr(x, scan)(0)[::997]
    got, expected = run(nb), run(torch)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
