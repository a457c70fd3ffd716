"""Matrix products through cuBLAS's gemm called directly (ops/_cublas_gemm.py), against NumPy:
every operand layout it takes (C-contiguous, a transpose, a stack of rows), the ones it leaves to
cupy.matmul (strided views, other dtypes, batches), and products inside autograd. On the fake
CuPy the gemm is fake_cuda's column-major model of cuBLAS; on a GPU it is cuBLAS."""
import numpy as np
import pytest

import nbgrad
from nbgrad.ops import _cublas_gemm

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')]


@pytest.fixture
def direct(monkeypatch):
    """The shapes of the products that went to cuBLAS directly during the test."""
    shapes = []
    matmul = _cublas_gemm.matmul

    def counting(cp, a, b):
        out = matmul(cp, a, b)
        if out is not None:
            shapes.append(out.shape)
        return out
    monkeypatch.setattr(_cublas_gemm, 'matmul', counting)
    return shapes


def _operand(rng, shape, transposed, dtype):
    """A NumPy array and the same values on 'cuda' (as the transpose of a contiguous one if
    transposed)."""
    if transposed:
        array = rng.standard_normal(shape[::-1]).astype(dtype)
        return array.T, nbgrad.tensor(array, device='cuda').T
    array = rng.standard_normal(shape).astype(dtype)
    return array, nbgrad.tensor(array, device='cuda')


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('a_t', [False, True])
@pytest.mark.parametrize('b_t', [False, True])
@pytest.mark.parametrize('m, k, n', [(5, 3, 4), (1, 7, 1), (6, 1, 2), (64, 33, 17)])
def test_layouts(m, k, n, a_t, b_t, dtype, direct):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, a_cuda = _operand(rng, (m, k), a_t, dtype)
    b, b_cuda = _operand(rng, (k, n), b_t, dtype)
    got = (a_cuda @ b_cuda).cpu().numpy()
    tolerance = 1e-5 if dtype == 'float32' else 1e-12
    np.testing.assert_allclose(got, a @ b, rtol=tolerance, atol=tolerance)
    assert got.dtype == np.dtype(dtype) and direct == [(m, n)]


def test_a_stack_of_rows_is_one_gemm(direct):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 6, 8)).astype(np.float32), \
        rng.standard_normal((5, 8)).astype(np.float32)
    layer = nbgrad.nn.functional.linear(nbgrad.tensor(x, device='cuda'),
                                        nbgrad.tensor(w, device='cuda'))
    np.testing.assert_allclose(layer.cpu().numpy(), x @ w.T, rtol=1e-5, atol=1e-5)
    assert direct == [(4, 6, 5)]      # one GEMM of 24 rows, reshaped


def test_products_of_two_dtypes_are_refused_before_any_gemm(direct):
    """PyTorch's mm takes one dtype (no promotion): refused with its message, nothing run."""
    a = nbgrad.ones(6, 8, device='cuda')
    with pytest.raises(RuntimeError, match='expected m1 and m2 to have the same dtype'):
        a @ nbgrad.ones(8, 3, device='cuda', dtype=nbgrad.float64)
    assert direct == []


@pytest.mark.parametrize('case', ['strided', 'half', 'batch', 'int'])
def test_other_products_go_to_cupy(case, direct):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 8))
    b = rng.standard_normal((8, 3))
    if case == 'strided':
        a_cuda, b_cuda = nbgrad.tensor(a, device='cuda')[::2], nbgrad.tensor(b, device='cuda')
        expected = a[::2] @ b
    elif case == 'half':
        a_cuda, b_cuda = (nbgrad.tensor(v, device='cuda').half() for v in (a, b))
        expected = a.astype(np.float16).astype(np.float64) @ b.astype(np.float16)
    elif case == 'batch':
        a, b = rng.standard_normal((2, 6, 8)), rng.standard_normal((2, 8, 3))
        a_cuda, b_cuda = (nbgrad.tensor(v, device='cuda') for v in (a, b))
        expected = a @ b
    elif case == 'int':
        a, b = rng.integers(-5, 5, (6, 8)), rng.integers(-5, 5, (8, 3))
        a_cuda, b_cuda = (nbgrad.tensor(v, device='cuda') for v in (a, b))
        expected = a @ b
    got = (a_cuda @ b_cuda).cpu().numpy().astype(np.float64)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)
    assert direct == []


def test_linear_layer_forward_and_backward(direct):
    """A Linear layer's three products (x W^T, g W, g^T x) all go direct, with PyTorch's
    gradients."""
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(3)
    x, w, g = (rng.standard_normal(s).astype(np.float32) for s in ((7, 5), (4, 5), (7, 4)))
    ours = [nbgrad.tensor(v, device='cuda', requires_grad=True) for v in (x, w)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w)]
    nbgrad.nn.functional.linear(*ours).backward(nbgrad.tensor(g, device='cuda'))
    torch.nn.functional.linear(*theirs).backward(torch.tensor(g))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.cpu().numpy(), reference.grad.numpy(), rtol=1e-5,
                                   atol=1e-5)
    assert sorted(direct) == sorted([(7, 4), (7, 5), (4, 5)])
