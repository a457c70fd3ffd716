"""Sums of large float arrays through BLAS (ops/_blas_sum.py), as nbgrad.sum, mean, softmax and
the norms use them: values against float64 with errors of PyTorch's size, shapes and dtypes as
PyTorch's, special values (inf, nan, -0.0) as PyTorch's, and the layouts it leaves to NumPy."""
import numpy as np
import pytest
import torch

import nbgrad
from nbgrad.ops._blas_sum import float_sum

RNG = np.random.default_rng(0)

# (shape, dims): rows (trailing dims), columns (leading dims), whole arrays, long rows and
# columns with a remainder past the 1024-element chunks
CASES = [((1024, 1000), (1,)), ((3, 5000), (1,)), ((5000, 3), (0,)), ((2000, 1500), (0,)),
         ((64, 128, 512), (2,)), ((64, 128, 512), (1, 2)), ((64, 128, 512), (0, 1)),
         ((7, 3000), (0, 1)), ((1 << 20,), (0,)), ((5, 3001), (1,)), ((3001, 5), (0,))]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape, dims', CASES)
def test_sums_match_pytorch_within_its_own_error(shape, dims, dtype):
    a = RNG.standard_normal(shape).astype(dtype)
    exact = a.astype(np.longdouble).sum(axis=dims)
    for keepdim in (False, True):
        got = nbgrad.sum(nbgrad.tensor(a), dim=dims, keepdim=keepdim)
        expected = torch.sum(torch.tensor(a), dim=dims, keepdim=keepdim)
        assert tuple(got.shape) == tuple(expected.shape)
        assert str(got.dtype).split('.')[1] == str(expected.dtype).split('.')[1]
    if dtype == 'float64':      # NumPy's own sum (the BLAS path is float32's)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
        return
    error = np.abs(got.numpy().reshape(exact.shape) - exact).max()
    torch_error = np.abs(expected.numpy().reshape(exact.shape) - exact).max()
    # the same size of error as PyTorch's (both add with wide accumulators), or the random walk
    # of rounding errors of standard normal values (4 eps sqrt(n)) where PyTorch's is tiny
    summed = a.size // exact.size
    assert error <= 4 * torch_error + 4 * np.finfo(dtype).eps * np.sqrt(summed)
    np.testing.assert_allclose(nbgrad.tensor(a).mean(dims).numpy(),
                               torch.tensor(a).mean(dims).numpy(), rtol=1e-4, atol=1e-6)


def test_a_whole_sum_through_blas_is_used():
    """The path runs (its error differs from NumPy's pairwise sum, so a silent fallback would
    show)."""
    a = RNG.standard_normal((1 << 20,)).astype(np.float32)
    assert float_sum(a, None, False) is not None
    assert float_sum(a, None, False) != a.sum()


def test_special_values_sum_as_in_pytorch():
    for fill in (np.inf, -np.inf, np.nan):
        a = RNG.standard_normal((64, 1000)).astype(np.float32)
        a[3, 17] = fill
        a[5, 5] = np.inf
        a[5, 6] = -np.inf
        for dims in ((1,), (0,), (0, 1)):
            got = nbgrad.tensor(a).sum(dims).numpy()
            expected = torch.tensor(a).sum(dims).numpy()
            np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
            np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    zeros = np.full((8, 1000), -0.0, np.float32)
    got, expected = nbgrad.tensor(zeros).sum(1).numpy(), torch.tensor(zeros).sum(1).numpy()
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_layouts_it_does_not_handle_go_to_numpy():
    a = RNG.standard_normal((100, 200)).astype(np.float32)
    assert float_sum(a.T, (1,), False) is None             # not C-contiguous
    assert float_sum(a[::2], (1,), False) is None
    assert float_sum(a.reshape(10, 10, 200), (1,), False) is None   # a middle dim
    assert float_sum(a.astype(np.float16), (1,), False) is None
    assert float_sum(a[:10, :10], (1,), False) is None      # small: NumPy is as quick
    assert float_sum(a.astype(np.float64), (1,), False) is None     # NumPy's is more precise
    assert float_sum(a.astype(np.int32), (1,), False) is None
    three = a.reshape(10, 10, 200)
    np.testing.assert_allclose(nbgrad.tensor(three).sum(1).numpy(),
                               torch.tensor(three).sum(1).numpy(), rtol=1e-5, atol=1e-5)
