"""nbgrad._standard_gamma / _standard_gamma_grad / _sample_dirichlet / _dirichlet_grad against
PyTorch's: the CPU draws seed for seed (and the generator's state after them), the implicit
reparameterisation gradients, the errors; the vectorised (CUDA) sampler by goodness of fit."""
import math

import numpy as np
import pytest

import nbgrad
from nbgrad import _gamma_sampling
from nbgrad._philox import PhiloxEngine
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')

DTYPES = ['float64', 'float32']


def _alphas(dtype, shape=(6, 7), seed=0):
    """Concentrations spanning the boosted (< 1), middle and large regimes, plus edge values."""
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(-4, 4, size=shape))
    a.flat[:6] = [0.0, 1.0, 1e-30, 0.3, 50.0, 1e4]
    return a.astype(dtype)


def _both_seeded(fn, seed):
    torch.manual_seed(seed)
    expected = fn(torch)
    after_t = torch.randn(5, dtype=torch.float64)    # the generator's state, cached normal too
    nbgrad.manual_seed(seed)
    got = fn(nbgrad)
    after_n = nbgrad.randn(5, dtype=nbgrad.float64)
    return got, expected, after_n, after_t


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('seed', [0, 1, 7, 12345])
def test_standard_gamma_draws_equal_pytorch(dtype, seed):
    a = _alphas(dtype, seed=seed)
    got, expected, after_n, after_t = _both_seeded(
        lambda lib: lib._standard_gamma(lib.tensor(a)), seed)
    assert got.dtype == getattr(nbgrad, dtype)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_array_equal(after_n.numpy(), after_t.numpy())


def test_standard_gamma_edge_values_equal_pytorch():
    """NaN, inf and negative concentrations: PyTorch's values and number of draws."""
    a = np.array([np.nan, np.inf, -0.5, -1.0, 0.0, 1e-300, 2.0])
    got, expected, after_n, after_t = _both_seeded(
        lambda lib: lib._standard_gamma(lib.tensor(a)), 3)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_array_equal(after_n.numpy(), after_t.numpy())


def test_standard_gamma_reads_expanded_and_transposed_inputs_in_logical_order():
    base = _alphas('float64', shape=(3, 4))
    for make in (lambda lib: lib.tensor(base).t(),
                 lambda lib: lib.tensor(base[:1]).expand(5, 4)):
        got, expected, *_ = _both_seeded(lambda lib: lib._standard_gamma(make(lib)), 4)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_standard_gamma_with_a_generator():
    a = _alphas('float64', shape=(20,))
    expected = torch._standard_gamma(torch.tensor(a), generator=torch.Generator().manual_seed(9))
    got = nbgrad._standard_gamma(nbgrad.tensor(a), generator=nbgrad.Generator().manual_seed(9))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('seed', [0, 5])
def test_sample_dirichlet_equals_pytorch(dtype, seed):
    a = _alphas(dtype, shape=(5, 4), seed=seed)
    a[0] = [0.01, 0.02, 0.03, 0.04]            # gammas that underflow float32
    got, expected, after_n, after_t = _both_seeded(
        lambda lib: lib._sample_dirichlet(lib.tensor(a[:, :4] + (a[:, :4] == 0))), seed)
    # the normalising sum may round differently from PyTorch's vectorised one: 1 ulp
    np.testing.assert_array_almost_equal_nulp(got.numpy(), expected.numpy(), nulp=1)
    np.testing.assert_array_equal(after_n.numpy(), after_t.numpy())


def test_sample_dirichlet_of_a_scalar_and_of_empty_input():
    for a in (np.float64(2.0), np.zeros((0, 3))):
        got, expected, after_n, after_t = _both_seeded(
            lambda lib: lib._sample_dirichlet(lib.tensor(a)), 0)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
        np.testing.assert_array_equal(after_n.numpy(), after_t.numpy())


@pytest.mark.parametrize('dtype, rtol', [('float64', 1e-12), ('float32', 1e-6)])
def test_standard_gamma_grad_equals_pytorch(dtype, rtol):
    # every branch: x < 0.8 (series), alpha > 8 near and far from x = alpha, the rational fit
    rng = np.random.default_rng(1)
    alpha = np.concatenate([np.exp(rng.uniform(-3, 4, 300)), [9.0, 9.0, 20.0, 3.0]])
    x = np.concatenate([np.exp(rng.uniform(-4, 3.5, 300)), [9.5, 2.0, 30.0, 0.5]])
    a, xs = alpha.astype(dtype), x.astype(dtype)
    expected = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(xs)).numpy()
    got = nbgrad._standard_gamma_grad(nbgrad.tensor(a), nbgrad.tensor(xs)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize('dtype, rtol', [('float64', 1e-10), ('float32', 2e-4)])
def test_dirichlet_grad_equals_pytorch(dtype, rtol):
    # x near 0, x near 1, both concentrations large, and the rational correction in between
    rng = np.random.default_rng(2)
    alpha = np.exp(rng.uniform(-3, 3.5, 400))
    total = alpha + np.exp(rng.uniform(-3, 3.5, 400))
    x = rng.uniform(0.001, 0.999, 400)
    args = [v.astype(dtype) for v in (x, alpha, total)]
    expected = torch._dirichlet_grad(*(torch.tensor(v) for v in args)).numpy()
    got = nbgrad._dirichlet_grad(*(nbgrad.tensor(v) for v in args)).numpy()
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


def test_standard_gamma_backward_equals_pytorch():
    a = _alphas('float64', shape=(4, 5))[1:]
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(11)
        alpha = lib.tensor(a, requires_grad=True)
        x = lib._standard_gamma(alpha)
        (x * lib.arange(x.numel(), dtype=x.dtype).reshape(x.shape)).sum().backward()
        results.append((x.detach().numpy(), alpha.grad.numpy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


@pytest.mark.parametrize('call', [
    lambda lib: lib._standard_gamma(lib.tensor([1, 2])),
    lambda lib: lib._standard_gamma(lib.tensor([1.0, 2.0], dtype=lib.float16)),
    lambda lib: lib._sample_dirichlet(lib.tensor([1, 2])),
    lambda lib: lib._sample_dirichlet(lib.tensor([1.0, 2.0], dtype=lib.float16)),
], ids=['gamma-long', 'gamma-half', 'dirichlet-long', 'dirichlet-half'])
def test_dtype_errors_equal_pytorch(call):
    assert_same_error(call)


# ----------------------------------------------------------------- the vectorised (CUDA) sampler

def _ks_statistic(samples, alpha):
    """Kolmogorov-Smirnov distance between the samples and Gamma(alpha, 1), whose cdf is
    PyTorch's regularised incomplete gamma function."""
    xs = np.sort(samples)
    cdf = torch.special.gammainc(torch.tensor(float(alpha), dtype=torch.float64),
                                 torch.tensor(xs)).numpy()
    n = len(xs)
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


@pytest.mark.parametrize('alpha', [0.05, 0.3, 1.0, 2.5, 10.0, 300.0])
def test_vectorised_sampler_fits_the_gamma_distribution(alpha):
    n = 20000
    engine = PhiloxEngine(np, seed=alpha * 1000)
    samples = _gamma_sampling._gamma_vectorised(engine, np.full(n, alpha))
    # 1.95 / sqrt(n) is the KS critical value at significance 0.001
    assert _ks_statistic(samples, alpha) < 1.95 / math.sqrt(n)


def test_vectorised_sampler_edge_values():
    engine = PhiloxEngine(np, seed=0)
    out = _gamma_sampling._gamma_vectorised(engine, np.array([0.0, np.inf, np.nan, -1.0, 1.0]))
    assert out[0] == 0 and out[1] == np.inf and np.isnan(out[2:4]).all() and out[4] > 0


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_standard_gamma_on_cuda_fits_and_backpropagates():
    n = 20000
    nbgrad.manual_seed(0)
    alpha = nbgrad.full((n,), 0.7, device='cuda', dtype=nbgrad.float64, requires_grad=True)
    x = nbgrad._standard_gamma(alpha)
    assert x.device.type == 'cuda' and x.dtype == nbgrad.float64
    assert _ks_statistic(x.detach().cpu().numpy(), 0.7) < 1.95 / math.sqrt(n)
    x.sum().backward()
    # the gradient is the formula at the drawn samples, as PyTorch computes it on the CPU
    expected = torch._standard_gamma_grad(torch.full((n,), 0.7, dtype=torch.float64),
                                          torch.tensor(x.detach().cpu().numpy()))
    np.testing.assert_allclose(alpha.grad.cpu().numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_sample_dirichlet_on_cuda_has_the_dirichlet_mean():
    n = 20000
    conc = np.array([0.5, 2.0, 4.0])
    nbgrad.manual_seed(0)
    x = nbgrad._sample_dirichlet(nbgrad.tensor(conc, device='cuda').expand(n, 3)).cpu().numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    mean, total = conc / conc.sum(), conc.sum()
    std = np.sqrt(mean * (1 - mean) / (total + 1))
    # the sample mean is within 5 standard errors of the Dirichlet mean
    assert np.all(np.abs(x.mean(0) - mean) < 5 * std / math.sqrt(n))
