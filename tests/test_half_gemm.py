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
