"""nbgrad.binomial (nbgrad/_binomial_sampling.py) against torch.binomial: on the CPU the same
draws after the same seed (both of ATen's algorithms, float32 and float64), PyTorch's broadcasting,
edge values, errors and autograd behaviour; the vectorised CUDA sampler by goodness of fit."""
import math

import numpy as np
import pytest

import nbgrad
from nbgrad import _binomial_sampling
from torch_compare import assert_same, assert_same_error

torch = pytest.importorskip('torch')


def _pair(lib, count, prob, dtype):
    dt = getattr(lib, dtype)
    return lib.tensor(np.asarray(count), dtype=dt), lib.tensor(np.asarray(prob), dtype=dt)


def _seeded(lib, seed, fn):
    lib.manual_seed(seed)
    return fn(lib)


def _same_draws(count, prob, dtype, seed=0):
    """Seeded binomial draws equal PyTorch's bit for bit, and the generator ends in the same
    state (the next uniforms agree), which checks the number of uniforms each element used."""
    def draw(lib):
        out = lib.binomial(*_pair(lib, count, prob, dtype))
        return out, lib.rand(4, dtype=lib.float64)
    expected = _seeded(torch, seed, draw)
    got = _seeded(nbgrad, seed, draw)
    assert_same(got, expected, rtol=0, atol=0)


RNG = np.random.default_rng(20240611)
N = 2000
REGIMES = {
    # count * min(p, 1-p) < 10: inversion of geometric waiting times
    'inversion': (RNG.integers(0, 40, N).astype(float), RNG.uniform(0, 1, N) ** 3),
    'inversion_mirrored': (RNG.integers(0, 40, N).astype(float), 1 - RNG.uniform(0, 1, N) ** 3),
    # count * min(p, 1-p) >= 10: BTRS, both sides of 1/2
    'btrs': (RNG.integers(20, 500, N).astype(float), RNG.uniform(0.05, 1, N)),
    'btrs_huge_counts': (RNG.integers(10 ** 4, 10 ** 7, N).astype(float), RNG.uniform(0, 1, N)),
    'mixed': (RNG.integers(0, 200, N).astype(float), RNG.uniform(0, 1, N)),
    'non_integer_counts': (RNG.uniform(0, 100, N), RNG.uniform(0, 1, N)),
}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('regime', list(REGIMES))
def test_seeded_draws_equal_pytorchs(regime, dtype):
    count, prob = REGIMES[regime]
    _same_draws(count, prob, dtype, seed=len(regime))


@pytest.mark.filterwarnings('ignore:An output with one or more elements was resized')
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_edge_values(dtype):
    count = [[0.0], [-3.0], [7.0], [40.0]]
    prob = [0.0, 1.0, 1.5, -0.5, float('nan'), 0.5, 1e-9, 1 - 1e-7]
    _same_draws(count, prob, dtype, seed=3)


def test_broadcast_shapes_and_expanded_inputs():
    def draw(lib):
        c = lib.tensor([[10.0], [50.0]])
        p = lib.tensor([0.1, 0.5, 0.9])
        expanded = lib.tensor([10.0, 300.0]).expand(3, 2)
        return (lib.binomial(c.expand(2, 3), p.expand(2, 3)),
                lib.binomial(expanded, lib.tensor([0.5, 0.3]).expand(3, 2)),
                lib.binomial(lib.tensor(25.0), lib.tensor(0.4)),
                lib.binomial(lib.empty(0, 3), lib.empty(0, 3)))
    assert_same(_seeded(nbgrad, 5, draw), _seeded(torch, 5, draw), rtol=0, atol=0)


def test_broadcasting_count_and_prob():
    """count (2, 1) with prob (3,): the result has the broadcast shape (PyTorch resizes its
    output, with a deprecation warning nbgrad does not repeat)."""
    def draw(lib):
        return lib.binomial(lib.tensor([[10.0], [50.0]]), lib.tensor([0.1, 0.5, 0.9]))
    with pytest.warns(UserWarning):
        expected = _seeded(torch, 6, draw)
    assert_same(_seeded(nbgrad, 6, draw), expected, rtol=0, atol=0)


def test_generator_argument():
    def draw(lib):
        gen = lib.Generator().manual_seed(11)
        c, p = _pair(lib, [30.0, 5.0, 100.0], [0.4, 0.2, 0.7], 'float64')
        return lib.binomial(c, p, gen), lib.binomial(count=c, prob=p, generator=gen)
    lib_state = nbgrad.get_rng_state()
    assert_same(draw(nbgrad), draw(torch), rtol=0, atol=0)
    assert bool((nbgrad.get_rng_state() == lib_state).all())  # the default generator untouched


@pytest.mark.parametrize('case', [
    lambda lib: lib.binomial(lib.tensor([10]), lib.tensor([0.5])),
    lambda lib: lib.binomial(lib.tensor([10.0]), lib.tensor([1])),
    lambda lib: lib.binomial(lib.tensor([10.0]), lib.tensor([0.5], dtype=lib.float64)),
    lambda lib: lib.binomial(lib.tensor([10.0], dtype=lib.float64), lib.tensor([0.5])),
    lambda lib: lib.binomial(lib.tensor([10.0], dtype=lib.half), lib.tensor([0.5], dtype=lib.half)),
    lambda lib: lib.binomial(lib.tensor([10.0, 3.0]), lib.tensor([0.5, 0.3, 0.2])),
    lambda lib: lib.binomial(lib.tensor(10.0), 0.5),
], ids=['long_count', 'long_prob', 'dtype_mismatch', 'dtype_mismatch_double', 'half',
        'shapes', 'number_prob'])
def test_errors(case):
    state = nbgrad.get_rng_state()
    assert_same_error(case)
    assert bool((nbgrad.get_rng_state() == state).all())    # no draw made before refusing


def test_output_requires_grad_but_backward_refuses():
    for lib in (torch, nbgrad):
        prob = lib.tensor([0.3, 0.6], requires_grad=True)
        out = lib.binomial(lib.tensor([4.0, 9.0]), prob)
        assert out.requires_grad
        with pytest.raises(RuntimeError, match='derivative for aten::binomial is not implemented'):
            out.sum().backward()
    with nbgrad.no_grad():
        assert not nbgrad.binomial(nbgrad.tensor([4.0]), prob).requires_grad


# ---------------------------------------------------------------------------------------------
# Goodness of fit
# ---------------------------------------------------------------------------------------------

def chi_square_threshold(df, tail_z=4.753):
    """The chi-square quantile with upper tail ~1e-6 (Wilson-Hilferty): a fixed-seed test that
    fails only if the sampler is wrong."""
    c = 2.0 / (9.0 * df)
    return df * (1.0 - c + tail_z * math.sqrt(c)) ** 3


def assert_binomial_fit(samples, count, prob):
    """Pearson's chi-square of integer samples against PyTorch's Binomial(count, prob) pmf, with
    bins pooled until each expects at least 5 draws."""
    samples = np.asarray(samples).ravel()
    n = samples.size
    assert np.all(samples == np.round(samples)) and samples.min() >= 0 and samples.max() <= count
    pmf = torch.distributions.Binomial(count, torch.tensor(prob, dtype=torch.float64)).log_prob(
        torch.arange(count + 1, dtype=torch.float64)).exp().numpy()
    observed = np.bincount(samples.astype(np.int64), minlength=count + 1).astype(float)
    bins_obs, bins_exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, n * pmf):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            bins_obs.append(acc_o)
            bins_exp.append(acc_e)
            acc_o = acc_e = 0.0
    bins_obs[-1] += acc_o
    bins_exp[-1] += acc_e
    bins_obs, bins_exp = np.array(bins_obs), np.array(bins_exp)
    stat = float(((bins_obs - bins_exp) ** 2 / bins_exp).sum())
    df = len(bins_obs) - 1
    assert df >= 1
    assert stat < chi_square_threshold(df), f'chi-square {stat:.1f} with {df} dof'


FIT_CASES = [(10, 0.3), (25, 0.02), (40, 0.9), (100, 0.5), (1000, 0.03), (2000, 0.97)]


@pytest.mark.parametrize('count, prob', FIT_CASES)
def test_cpu_sampler_fits_the_binomial(count, prob):
    nbgrad.manual_seed(1)
    samples = nbgrad.binomial(nbgrad.full((20000,), float(count), dtype=nbgrad.float64),
                              nbgrad.full((20000,), prob, dtype=nbgrad.float64))
    assert_binomial_fit(samples.numpy(), count, prob)


@pytest.mark.parametrize('count, prob', FIT_CASES)
def test_vectorised_sampler_fits_the_binomial(count, prob):
    """The CUDA algorithm, run here over NumPy with NumPy's uniforms."""
    rng = np.random.default_rng(count)
    counts = np.full(20000, float(count), np.float32)
    samples = _binomial_sampling._sample_vectorised(np, rng.random, counts,
                                                    np.full(20000, prob, np.float32))
    assert samples.dtype == np.float32
    assert_binomial_fit(samples, count, prob)


def test_vectorised_sampler_edge_values():
    count = np.array([0.0, -3.0, 7.0, 7.0, 7.0, 7.0, np.inf])
    prob = np.array([0.5, 0.5, 0.0, 1.0, 1.5, np.nan, 0.5])
    out = _binomial_sampling._sample_vectorised(np, np.random.default_rng(0).random, count, prob)
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 7.0, 7.0, np.nan, np.nan])


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
@pytest.mark.parametrize('count, prob', [(10, 0.3), (300, 0.6)])
def test_cuda_sampler_fits_the_binomial(count, prob):
    nbgrad.manual_seed(2)
    c = nbgrad.full((20000,), float(count), device='cuda')
    out = nbgrad.binomial(c, nbgrad.full((20000,), prob, device='cuda'))
    assert out.device.type == 'cuda' and out.dtype == nbgrad.float32
    assert_binomial_fit(out.cpu().numpy(), count, prob)
    # the device generator, seeded again, gives the same draws
    nbgrad.manual_seed(2)
    again = nbgrad.binomial(c, nbgrad.full((20000,), prob, device='cuda'))
    np.testing.assert_array_equal(again.cpu().numpy(), out.cpu().numpy())
