"""torch.cdist against PyTorch: values, gradients and grad_fn names for every kind of p, both
computation paths (direct and matrix-product, by PyTorch's rule and by compute_mode), batch
broadcasting, coincident points and zero coordinate differences (where the gradient formulas
have their special cases), empty inputs, double backward, errors, and the 'cuda' device."""
import math

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')

P_VALUES = [0, 0.5, 1, 1.5, 2, 3, math.inf]
SHAPES = {'2d': ((3, 4), (5, 4)), 'batched': ((2, 6, 3), (2, 7, 3)),
          'broadcast': ((2, 1, 3, 3), (5, 4, 3)), 'mm-rows': ((2, 30, 3), (2, 7, 3))}


def _inputs(shapes, seed=0, coincide=True):
    """Random rows, with x2's first row equal to x1's first (a zero distance) and one shared
    coordinate between x1's second row and x2's second (a zero difference), and a tie of
    absolute differences for p = inf. Not for the matrix-product path: there a zero distance
    comes out as rounding noise (~1e-8, or 0, depending on the BLAS's order of additions, in
    PyTorch too), and the gradient at it as noise over noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if coincide and a.shape[:-2] == b.shape[:-2]:
        b[..., 0, :] = a[..., 0, :]
        b[..., 1, 0] = a[..., 1, 0]
        b[..., 2, 1] = a[..., 2, 1] + 1.5
        b[..., 2, 2] = a[..., 2, 2] - 1.5
    return a, b


def _run(lib, a, b, p, dtype, device='cpu', **kwargs):
    dev = device if lib is nbgrad else 'cpu'
    x = lib.tensor(a, dtype=getattr(lib, dtype), device=dev, requires_grad=True)
    y = lib.tensor(b, dtype=getattr(lib, dtype), device=dev, requires_grad=True)
    d = lib.cdist(x, y, p=p, **kwargs)
    weights = lib.tensor(np.cos(np.arange(d.numel())).reshape(tuple(d.shape)), dtype=d.dtype,
                         device=dev)
    (d * weights).sum().backward()
    return [t.detach().cpu().numpy() for t in (d, x.grad, y.grad)], d.grad_fn.name()


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('p', P_VALUES)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_values_and_gradients(p, shape, dtype, device):
    a, b = _inputs(SHAPES[shape], coincide=not (p == 2 and shape == 'mm-rows'))
    got, got_name = _run(nbgrad, a, b, p, dtype, device)
    expected, expected_name = _run(torch, a, b, p, dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == 'float64' else dict(rtol=2e-5, atol=2e-5)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, **tol)
    assert got_name == expected_name


@pytest.mark.parametrize('mode', ['use_mm_for_euclid_dist', 'donot_use_mm_for_euclid_dist',
                                  'use_mm_for_euclid_dist_if_necessary'])
@pytest.mark.parametrize('shape', ['2d', 'mm-rows'])
def test_compute_modes(mode, shape):
    a, b = _inputs(SHAPES[shape], seed=1, coincide=False)
    got, got_name = _run(nbgrad, a, b, 2, 'float64', compute_mode=mode)
    expected, expected_name = _run(torch, a, b, 2, 'float64', compute_mode=mode)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10)
    assert got_name == expected_name


@pytest.mark.parametrize('shapes', [((2, 0, 3), (2, 4, 3)), ((3, 0), (4, 0)),
                                    ((0, 2, 3), (0, 5, 3))])
def test_empty_inputs(shapes):
    a, b = np.ones(shapes[0]), np.ones(shapes[1])
    for p in (2, math.inf, 0.5):
        got, _ = _run(nbgrad, a, b, p, 'float64')
        expected, _ = _run(torch, a, b, p, 'float64')
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_array_equal(g, e)


def test_double_backward_of_the_matrix_product_path():
    a, b = _inputs(SHAPES['mm-rows'], seed=2, coincide=False)

    def second(lib):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.cdist(x, y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        return gx.detach().numpy(), y.grad.numpy()
    for g, e in zip(second(nbgrad), second(torch)):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize('case', ['1d', 'columns', 'integers', 'negative_p', 'mode', 'dtypes'])
def test_errors_are_pytorchs(case):
    def call(lib):
        f = lib.ones(2, 3)
        if case == '1d':
            return lib.cdist(lib.ones(3), lib.ones(3))
        if case == 'columns':
            return lib.cdist(f, lib.ones(2, 4))
        if case == 'integers':
            return lib.cdist(lib.ones(2, 3, dtype=lib.long), lib.ones(2, 3, dtype=lib.long))
        if case == 'negative_p':
            return lib.cdist(f, f, p=-1)
        if case == 'mode':
            return lib.cdist(f, f, compute_mode='fast')
        return lib.cdist(lib.ones(30, 3), lib.ones(30, 3, dtype=lib.float64))
    assert_same_error(call)
