"""float16 matrix products on the CPU (ops/_half_gemm.py): computed in float32 and rounded once,
so they equal PyTorch's float32 product rounded to half exactly, and PyTorch's own half
products to a float16 rounding; forward and backward of matmul, linear, conv2d and einsum."""
import numpy as np
import pytest
import torch

import nbgrad

RNG = np.random.default_rng(0)


def _half(*shape):
    return RNG.standard_normal(shape).astype(np.float16)


CASES = {
    'matmul': ((_half(6, 40), _half(40, 5)), lambda lib, a, b: a @ b),
    'bmm': ((_half(3, 6, 40), _half(3, 40, 5)), lambda lib, a, b: lib.bmm(a, b)),
    'linear': ((_half(6, 40), _half(5, 40)), lambda lib, a, b: lib.nn.functional.linear(a, b)),
    'conv2d': ((_half(2, 3, 9, 9), _half(4, 3, 3, 3)),
               lambda lib, a, b: lib.nn.functional.conv2d(a, b, padding=1)),
    'einsum': ((_half(6, 40), _half(40, 5)), lambda lib, a, b: lib.einsum('ij,jk->ik', a, b)),
}


@pytest.mark.parametrize('name', list(CASES))
def test_half_products_are_float32_products_rounded_once(name):
    arrays, call = CASES[name]
    got = call(nbgrad, *(nbgrad.tensor(a) for a in arrays))
    widened = call(torch, *(torch.tensor(a).float() for a in arrays)).half()
    assert got.dtype == nbgrad.float16
    np.testing.assert_array_equal(got.numpy(), widened.numpy())


@pytest.mark.parametrize('name', list(CASES))
def test_half_forward_and_backward_agree_with_pytorch(name):
    arrays, call = CASES[name]
    results = []
    for lib in (torch, nbgrad):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = call(lib, *inputs)
        out.float().square().sum().backward()
        results.append([out.detach().float().numpy()] +
                       [t.grad.float().numpy() for t in inputs])
    for expected, got in zip(*results):
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=4e-3, atol=4e-3 * scale)


def _stack(dtype, *shape, transposed=False):
    a = RNG.standard_normal(shape).astype(dtype)
    return np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1) if transposed else a


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
@pytest.mark.parametrize('a, b', [
    ((4, 6, 40), (40, 5)), ((2, 3, 6, 40), (40, 5)), ((4, 6, 40, 'T'), (40, 5)),
    ((0, 6, 40), (40, 5)), ((4, 6, 0), (0, 5)), ((4, 6, 40), (40, 0))])
def test_a_stack_times_a_matrix_is_one_product_of_its_rows(dtype, a, b):
    """A 3-d (or more) input times a matrix (Linear's case) is computed as one product of all
    the stack's rows, as PyTorch folds it, also for a stack whose rows are not evenly spaced
    (a transposed batch) and for empty ones; values and gradients as PyTorch's."""
    transposed = a[-1] == 'T'
    x = _stack(dtype, *a[:3 if transposed else len(a)], transposed=transposed)
    w = RNG.standard_normal(b).astype(dtype)
    results = []
    for lib in (nbgrad, torch):
        xs, ws = (lib.tensor(v, requires_grad=True) for v in (x, w))
        out = xs @ ws
        out.backward(lib.ones_like(out))
        results.append([out.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()])
    tolerance = 2e-3 if dtype == 'float16' else 1e-5 if dtype == 'float32' else 1e-12
    for got, expected in zip(*results):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                                   rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'int64'])
@pytest.mark.parametrize('shapes', [((2, 1), (1, 3)), ((4, 2, 1), (1, 3)), ((4, 2, 1), (4, 1, 3))])
def test_outer_products_keep_the_sign_of_zero(dtype, shapes):
    """A product over one inner element (an outer product): PyTorch's float32/64 mm gives
    0 * -1 = -0, its half GEMM and batched bmm +0; printed, the sign shows."""
    a = np.zeros(shapes[0]).astype(dtype)
    b = -np.ones(shapes[1]).astype(dtype)
    a[..., 1:, :] = 2
    got = (nbgrad.tensor(a) @ nbgrad.tensor(b)).numpy()
    expected = (torch.tensor(a) @ torch.tensor(b)).numpy()
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
