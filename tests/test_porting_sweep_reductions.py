"""Differences from PyTorch in reductions, sorting and histograms that porting sweeps found,
each fixed and checked here against PyTorch itself."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both


@pytest.mark.parametrize('fn', ['std_mean', 'var_mean'])
@pytest.mark.parametrize('unbiased', [True, False])
def test_std_mean_takes_a_positional_bool_as_unbiased(fn, unbiased):
    both(lambda lib: getattr(lib, fn)(lib.tensor([[1., 7., 3., 4.], [4., 2., 6., 9.]]), unbiased))
    both(lambda lib: getattr(lib, fn)(lib.tensor([1., 7., 3.]), unbiased))


@pytest.mark.parametrize('values', [[float('nan'), 1., 2.], [float('nan'), 1., float('nan')],
                                    [3., 1., 3.]])
@pytest.mark.parametrize('fn', ['max', 'min', 'amax'])
def test_full_max_min_gradient_goes_to_the_nans(fn, values):
    def run(lib):
        a = lib.tensor(values, requires_grad=True)
        getattr(lib, fn)(a).backward()
        return a.grad
    both(run)


@pytest.mark.parametrize('fn', ['nansum', 'nanmean'])
def test_nansum_gradient_of_infinities_is_one(fn):
    def run(lib):
        a = lib.tensor([float('inf'), 1., float('nan'), -float('inf')], requires_grad=True)
        getattr(lib, fn)(a).backward()
        return a.grad
    both(run)


@pytest.mark.parametrize('reduce', ['max', 'min'])
@pytest.mark.parametrize('include_self', [True, False])
def test_scatter_reduce_takes_max_and_min(reduce, include_self):
    both(lambda lib: lib.scatter_reduce(lib.zeros(2), 0, lib.tensor([0, 0, 1]),
                                        lib.tensor([1., 3., -2.]), reduce,
                                        include_self=include_self))
    both(lambda lib: lib.zeros(2).scatter_reduce_(0, lib.tensor([0, 0, 1]),
                                                  lib.tensor([1., 3., -2.]), reduce))


def test_histc_takes_half():
    both(lambda lib: lib.histc(lib.tensor([1., 2., 2.5], dtype=lib.float16), 3))


@pytest.mark.parametrize('dims', [(0,), (-1,), ()])
def test_flip_of_a_0d_tensor(dims):
    both(lambda lib: lib.tensor(3.).flip(dims))


@pytest.mark.parametrize('call', [
    lambda lib: lib.zeros(3, 4).flip((0, 0)),
    lambda lib: lib.amax(lib.zeros(0, 3)),
    lambda lib: lib.amin(lib.zeros(0, 3), 0),
    lambda lib: lib.aminmax(lib.zeros(0)),
    lambda lib: lib.aminmax(lib.zeros(0, 3), dim=0),
    lambda lib: lib.masked_select(lib.zeros(3, 4), lib.tensor([True, False])),
    lambda lib: lib.take_along_dim(lib.zeros(3, 4), lib.tensor([0]), 1),
], ids=['flip repeated dims', 'amax empty', 'amin empty dim', 'aminmax empty',
        'aminmax empty dim', 'masked_select shapes', 'take_along_dim ndim'])
def test_reduction_and_index_errors_have_pytorchs_kinds(call):
    both(call)


@pytest.mark.parametrize('ord', [float('inf'), -float('inf'), -1, -0.5, 2, 0])
@pytest.mark.parametrize('shape, dim', [((0,), None), ((0, 3), None), ((0, 3), 0),
                                        ((0, 3), (0, 1)), ((3, 0), 0)])
def test_vector_norm_without_an_identity_over_an_empty_tensor(ord, shape, dim):
    error = both(lambda lib: lib.linalg.vector_norm(lib.zeros(shape), ord, dim))
    if error is None:     # torch raised: the same message (its missing space included)
        assert_same_error(lambda lib: lib.linalg.vector_norm(lib.zeros(shape), ord, dim))


@pytest.mark.parametrize('fn', ['std', 'var'])
def test_float32_variance_accumulates_in_double_on_the_cpu(fn):
    """Squares of 1e20 overflow float32: PyTorch's CPU result is finite, and so is nbgrad's
    (the same bits). Values near 1e5 apart by 1e-3: nbgrad's float32 result is the exact
    variance rounded once; PyTorch's own is about 1e-3 off there (0.083487 for 0.0834181)."""
    both(lambda lib: getattr(lib, fn)(lib.tensor([1e20, -1e20, 3e19])),
         check=lambda g, e: assert_same(g, e, bitwise=True))
    x = nbgrad.full((1000,), 1e5) + nbgrad.arange(1000.) * 1e-3
    exact = np.var(x.numpy().astype(np.float64), ddof=1)
    expected = np.float32(np.sqrt(exact) if fn == 'std' else exact)
    assert getattr(nbgrad, fn)(x).item() == expected


@pytest.mark.parametrize('call', [
    lambda lib, x: lib.sum(x, 1, out=lib.empty(2, dtype=lib.int64)),
    lambda lib, x: lib.sum(x, 1, out=lib.empty(2, dtype=lib.float16)),
    lambda lib, x: lib.prod(x, 1, out=lib.empty(2, dtype=lib.int64)),
    lambda lib, x: lib.cumsum(x, 1, out=lib.empty(2, 2, dtype=lib.int64)),
    lambda lib, x: lib.cumprod(x, 1, out=lib.empty(2, 2, dtype=lib.float16)),
    lambda lib, x: lib.mean(x, 1, out=lib.empty(2, dtype=lib.int64)),
    lambda lib, x: lib.amin(x, 1, out=lib.empty(2, dtype=lib.float64)),
    lambda lib, x: lib.argmax(x, 1, out=lib.empty(2, dtype=lib.int32)),
    lambda lib, x: lib.sort(x, 1, out=(lib.empty(2, 2), lib.empty(2, 2, dtype=lib.int32))),
    lambda lib, x: lib.logsumexp(x, 1, out=lib.empty(2, dtype=lib.float64)),
], ids=['sum int64', 'sum half', 'prod int64', 'cumsum int64', 'cumprod half', 'mean int64',
        'amin float64', 'argmax int32', 'sort int32 indices', 'logsumexp float64'])
def test_out_dtype_rules_of_reductions(call):
    """sum/prod/cumsum/cumprod compute in out's dtype; amin/argmax/sort refuse another dtype;
    the others cast their result when PyTorch's casting rules allow."""
    both(lambda lib: call(lib, lib.tensor([[1.5, 2.7], [3.2, 4.9]])))


@pytest.mark.parametrize('dims', [1, 2, 3])
@pytest.mark.parametrize('options', ['counts', 'per-dim counts', 'range', 'weight', 'density',
                                     'edges', 'batched'])
def test_histogramdd(dims, options):
    rng = np.random.default_rng(dims)
    points = np.round(rng.standard_normal((50, dims)), 1).astype(np.float32)   # values on edges

    def run(lib):
        x = lib.tensor(points)
        kwargs = {}
        bins = 4
        if options == 'per-dim counts':
            bins = [3 + d for d in range(dims)]
        elif options == 'range':
            kwargs['range'] = [v for d in range(dims) for v in (-1.0, 1.0 + d)]
        elif options == 'weight':
            kwargs['weight'] = lib.arange(50.)
        elif options == 'density':
            kwargs['density'] = True
        elif options == 'edges':
            bins = [lib.tensor([-3., -0.5, 0., 0.5, 3.])[:3 + d] for d in range(dims)]
        elif options == 'batched':
            x = x.reshape(5, 10, dims)
        return lib.histogramdd(x, bins, **kwargs)
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.histogramdd(lib.tensor([1., 2.]), bins=2),
    lambda lib: lib.histogramdd(lib.tensor(1.), bins=2),
    lambda lib: lib.histogramdd(lib.zeros(4, 2), bins=[2]),
    lambda lib: lib.histogramdd(lib.zeros(4, 2), bins=2, range=[0., 1.]),
    lambda lib: lib.histogramdd(lib.zeros(4, 2), bins=2, weight=lib.ones(3)),
    lambda lib: lib.histogramdd(lib.zeros(0, 2), bins=2),
    lambda lib: lib.histogramdd(lib.zeros(4, 2, dtype=lib.int64), bins=2),
], ids=['1-d input', '0-d input', 'bins count', 'range length', 'weight shape', 'empty',
        'integer input'])
def test_histogramdd_edge_cases(call):
    both(call)
