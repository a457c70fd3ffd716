"""scatter_reduce / index_reduce (and their in-place forms) against PyTorch: every reduction
with and without self's values, float and integer dtypes, repeated indices, ties for amax/amin
(whose gradient PyTorch shares evenly), zeros for prod (whose gradient PyTorch computes
without dividing by them), NaN, grad_fn names, errors, and the 'cuda' device (prod has no CuPy
counterpart: it raises there)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')

REDUCTIONS = ['sum', 'prod', 'mean', 'amax', 'amin']


def _case(seed=0, ties=False, zeros=False, nan=False):
    """self (4, 3), index (3, 3) into dim 0 with repeats, src (3, 3)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, (4, 3)).astype(np.float64) if ties else rng.standard_normal((4, 3))
    src = rng.integers(-3, 4, (3, 3)).astype(np.float64) if ties else rng.standard_normal((3, 3))
    index = np.array([[0, 1, 3], [0, 2, 3], [2, 1, 3]])
    if zeros:
        a[0, 0] = 0
        src[1, 1] = 0
        src[0, 2] = src[1, 2] = 0          # two zeros into one position
    if nan:   # into (2, 0) last, and into (0, 0) before a larger value
        src[2, 0] = np.nan
        src[0, 0], src[1, 0] = np.nan, 10.0
    return a, index, src


def _run(lib, fn, arrays, dtype, device, grad=True):
    dev = device if lib is nbgrad else 'cpu'
    a, index, src = arrays
    grad = grad and dtype.startswith('float')
    x = lib.tensor(a, dtype=getattr(lib, dtype), device=dev, requires_grad=grad)
    s = lib.tensor(src, dtype=getattr(lib, dtype), device=dev, requires_grad=grad)
    i = lib.tensor(index, device=dev)
    out = fn(lib, x, i, s)
    result = [out.detach().cpu().numpy()]
    if grad:
        weights = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)),
                             dtype=out.dtype, device=dev)
        (out * weights).sum().backward()
        result += [x.grad.cpu().numpy(), s.grad.cpu().numpy(), out.grad_fn.name()]
    return result


def _compare(fn, arrays, dtype, device, grad=True):
    got = _run(nbgrad, fn, arrays, dtype, device, grad)
    expected = _run(torch, fn, arrays, dtype, 'cpu', grad)
    for g, e in zip(got, expected):
        if isinstance(e, str):
            assert g == e
        else:
            assert g.shape == e.shape and g.dtype == e.dtype
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def _skip_prod_on_cuda(reduce, device):
    if reduce == 'prod' and device != 'cpu':
        with pytest.raises(NotImplementedError, match='prod'):
            nbgrad.zeros(2, device=device).scatter_reduce(
                0, nbgrad.tensor([0, 0], device=device), nbgrad.ones(2, device=device), 'prod')
        pytest.skip('prod has no CuPy counterpart')


@pytest.mark.parametrize('include_self', [True, False])
@pytest.mark.parametrize('reduce', REDUCTIONS)
@pytest.mark.parametrize('case', ['plain', 'ties', 'zeros'])
def test_scatter_reduce(reduce, include_self, case, device):
    _skip_prod_on_cuda(reduce, device)
    arrays = _case(ties=case == 'ties', zeros=case == 'zeros')
    _compare(lambda lib, x, i, s: x.scatter_reduce(0, i, s, reduce, include_self=include_self),
             arrays, 'float64', device)


@pytest.mark.parametrize('include_self', [True, False])
@pytest.mark.parametrize('reduce', REDUCTIONS)
@pytest.mark.parametrize('dtype', ['int64', 'float32'])
def test_scatter_reduce_dtypes_and_dim_1(reduce, include_self, dtype, device):
    _skip_prod_on_cuda(reduce, device)
    a, index, src = _case(seed=1, ties=True)
    arrays = (a.T.copy(), index.T.copy(), src.T.copy())
    _compare(lambda lib, x, i, s: lib.scatter_reduce(x, 1, i, s, reduce,
                                                     include_self=include_self),
             arrays, dtype, device)


@pytest.mark.parametrize('reduce', ['amax', 'amin', 'sum', 'mean'])
def test_nan_propagates(reduce, device):
    _compare(lambda lib, x, i, s: x.scatter_reduce(0, i, s, reduce), _case(nan=True),
             'float64', device, grad=False)


@pytest.mark.parametrize('reduce', REDUCTIONS)
def test_in_place_form(reduce, device):
    _skip_prod_on_cuda(reduce, device)

    def fn(lib, x, i, s):
        y = x * 1
        y.scatter_reduce_(0, i, s, reduce, include_self=False)
        return y
    _compare(fn, _case(seed=2), 'float64', device)


@pytest.mark.parametrize('include_self', [True, False])
@pytest.mark.parametrize('reduce', ['prod', 'mean', 'amax', 'amin'])
def test_index_reduce(reduce, include_self, device):
    _skip_prod_on_cuda(reduce, device)
    rng = np.random.default_rng(3)
    a, src = rng.integers(-2, 3, (4, 3)).astype(float), rng.integers(-2, 3, (5, 3)).astype(float)
    index = np.array([0, 2, 0, 3, 2])

    def fn(lib, x, i, s):
        return x.index_reduce(0, i, s, reduce, include_self=include_self)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # PyTorch: "index_reduce() is in beta"
        _compare(fn, (a, index, src), 'float64', device)
        _compare(lambda lib, x, i, s: x.t().index_reduce(1, i, s.t(), reduce,
                                                         include_self=include_self),
                 (a, index, src), 'float64', device)


@pytest.mark.parametrize('case', ['reduce', 'include_self', 'index_dtype', 'bounds', 'ndim',
                                  'src_dtype', 'index_reduce_sum', 'index_reduce_count'])
def test_errors_are_pytorchs(case):
    import warnings

    def call(lib):
        x = lib.zeros(3, 4)
        i = lib.tensor([[0, 1]])
        if case == 'reduce':
            return x.scatter_reduce(0, i, lib.ones(1, 2), 'add')
        if case == 'include_self':
            return x.scatter_reduce(0, i, lib.ones(1, 2), 'sum', include_self=1)
        if case == 'index_dtype':
            return x.scatter_reduce(0, i.float(), lib.ones(1, 2), 'sum')
        if case == 'bounds':
            return x.scatter_reduce(0, lib.tensor([[0, 5]]), lib.ones(1, 2), 'sum')
        if case == 'ndim':
            return x.scatter_reduce(0, lib.tensor([0, 1]), lib.ones(1, 2), 'sum')
        if case == 'src_dtype':
            return x.scatter_reduce(0, i, lib.ones(1, 2, dtype=lib.float64), 'sum')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if case == 'index_reduce_sum':
                return x.index_reduce(0, lib.tensor([0, 1]), lib.ones(2, 4), 'sum')
            return x.index_reduce(0, lib.tensor([0, 1]), lib.ones(3, 4), 'prod')
    assert_same_error(call)
