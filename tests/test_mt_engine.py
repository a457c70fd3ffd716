"""nbgrad._mt_engine against torch's CPU generator, seed for seed.

Every comparison here is bit-exact (np.array_equal) on x86-64 where torch dispatches its AVX2 or
AVX-512 kernels, which is where these tests are run. Elsewhere (ARM, ATEN_CPU_CAPABILITY=default)
torch evaluates float32 normals with scalar logf/sinf/cosf and does not fuse multiply-adds, so the
`fp` comparisons (float results that went through arithmetic) fall back to a tolerance of a few
ulp of the values' scale there (measured: <= 2.2e-6 for float32 randn); integer, boolean,
permutation and plain [0, 1) uniform results are compared exactly everywhere.
The Intel-only MKL kernel for bernoulli_(float p) is not reproduced, so that test skips on Intel.
"""
import platform

import numpy as np
import pytest

torch = pytest.importorskip('torch')
from nbgrad import _mt_engine as M  # noqa: E402

EXACT_FP = (platform.machine() in ('x86_64', 'AMD64')
            and torch.backends.cpu.get_cpu_capability() in ('AVX2', 'AVX512'))
SEEDS = [0, 1, 42, 2 ** 32 + 7, 2 ** 63 + 12345, -1, -(2 ** 63)]
SIZES = [1, 3, 15, 16, 17, 100, 1000, 100003]
FLOATS = ['float32', 'float64', 'float16']
INTS = ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool']


def T(name):
    """torch dtype with NumPy's name."""
    return torch.bool if name == 'bool' else getattr(torch, name)


def same(ours, theirs, fp=True):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if EXACT_FP or not fp or ours.dtype.kind != 'f':
        np.testing.assert_array_equal(ours, theirs)
    else:
        tol = {2: 1e-2, 4: 1e-5, 8: 1e-12}[ours.dtype.itemsize]
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def pair(seed):
    """An engine and torch's default generator, both seeded with `seed`."""
    torch.manual_seed(seed)
    return M.MT19937Engine(seed)


def torch_state():
    return torch.get_rng_state().numpy().tobytes()


def is_intel():
    try:
        with open('/proc/cpuinfo') as f:
            return 'GenuineIntel' in f.read()
    except OSError:
        return False


# ------------------------------------------------------------------- engine, seeds and state

@pytest.mark.parametrize('seed', SEEDS)
def test_seeds_and_raw_draws(seed):
    eng = pair(seed)
    assert eng.initial_seed() == torch.initial_seed()
    # random_(-2**63, None) is the raw random64() stream, reinterpreted as int64.
    full = torch.empty(1000, dtype=torch.int64).random_(-2 ** 63, None)
    same(M.random_full_range(eng, 1000), full)
    # random64() is two random() draws, high word first.
    saved = eng.get_state()
    u64 = eng.random_u64(10)
    eng.set_state(saved)
    u32 = eng.random_u32(20).astype(np.uint64)
    np.testing.assert_array_equal(u64, (u32[0::2] << np.uint64(32)) | u32[1::2])


def test_seed_out_of_range():
    eng = M.MT19937Engine()
    assert eng.initial_seed() == M.DEFAULT_SEED
    for bad in (2 ** 64, -(2 ** 63) - 1):
        with pytest.raises(ValueError):
            eng.seed(bad)
        with pytest.raises(ValueError):
            torch.manual_seed(bad)


def test_state_bytes_match_torch():
    eng = pair(3)
    assert eng.get_state() == torch_state()                  # freshly seeded: next == 0
    for k in (1, 623, 1, 1000):                              # across twists
        same(M.uniform(eng, k), torch.rand(k))
        assert eng.get_state() == torch_state()
    same(M.normal(eng, 3), torch.randn(3))                   # leaves a cached normal
    assert eng.next_double_normal is not None
    assert eng.get_state() == torch_state()


def test_state_round_trip_and_restore_from_torch():
    eng = pair(11)
    same(M.normal(eng, 5), torch.randn(5))
    saved, tsaved = eng.get_state(), torch.get_rng_state()
    first = [M.normal(eng, 7), M.uniform(eng, 100), M.randperm(eng, 50)]
    eng.set_state(saved)
    assert eng.get_state() == saved
    again = [M.normal(eng, 7), M.uniform(eng, 100), M.randperm(eng, 50)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # torch's own bytes load into our engine and continue torch's stream, cache included.
    other = M.MT19937Engine(999)
    other.set_state(tsaved.numpy().tobytes())
    torch.set_rng_state(tsaved)
    same(M.normal(other, 7), torch.randn(7))
    same(M.uniform(other, 100), torch.rand(100))
    # A freshly seeded state (next == 0) also round-trips; a truncated one is refused, with
    # PyTorch's kind of error
    fresh = M.MT19937Engine(5).get_state()
    eng.set_state(fresh)
    assert eng.get_state() == fresh
    with pytest.raises(RuntimeError):
        torch.set_rng_state(torch.frombuffer(bytearray(fresh[:-1]), dtype=torch.uint8))
    with pytest.raises(RuntimeError):
        eng.set_state(fresh[:-1])


# -------------------------------------------------------------------------------- uniform

@pytest.mark.parametrize('seed', SEEDS[:4])
@pytest.mark.parametrize('n', SIZES)
@pytest.mark.parametrize('dt', FLOATS)
def test_rand(seed, n, dt):
    eng = pair(seed)
    same(M.uniform(eng, n, dt), torch.rand(n, dtype=T(dt)), fp=False)
    same(M.uniform(eng, (n, 2), dt), torch.rand(n, 2, dtype=T(dt)), fp=False)  # stream goes on


@pytest.mark.parametrize('lo,hi', [(-3.7, 2.9), (1.3, 6e4), (0.1, 0.2), (-1.0, 1.0)])
@pytest.mark.parametrize('dt', FLOATS)
def test_uniform_range(lo, hi, dt):
    eng = pair(7)
    for n in (17, 10000):
        same(M.uniform(eng, n, dt, lo, hi), torch.empty(n, dtype=T(dt)).uniform_(lo, hi))


# --------------------------------------------------------------------------------- normal

@pytest.mark.parametrize('seed', SEEDS[:4])
@pytest.mark.parametrize('n', SIZES)
@pytest.mark.parametrize('dt', FLOATS)
def test_randn(seed, n, dt):
    eng = pair(seed)
    same(M.normal(eng, n, dt), torch.randn(n, dtype=T(dt)))
    same(M.normal(eng, n, dt, 0.5, 2.5), torch.empty(n, dtype=T(dt)).normal_(0.5, 2.5))


def test_randn_cache_across_calls_and_paths():
    # Sizes < 16 go through the cached Box-Muller pair; >= 16 do not touch the cache.
    eng = pair(0)
    for n in (1, 1, 3, 20, 5, 2, 16, 1, 33, 4, 0, 1):
        same(M.normal(eng, n, 'float64'), torch.randn(n, dtype=torch.float64))
        same(M.normal(eng, n), torch.randn(n))
        same(M.log_normal(eng, n, 0.1, 0.4), torch.empty(n).log_normal_(0.1, 0.4))


def test_randn_non_contiguous_uses_serial_path():
    eng = pair(4)
    t = torch.empty(20, 6).t()                      # 120 elements, not contiguous
    # The serial kernel walks memory order, i.e. the (20, 6) buffer behind the transpose.
    ours = M.normal(eng, (20, 6), 'float32', contiguous=False).T
    same(np.ascontiguousarray(ours), t.normal_().contiguous())


# ----------------------------------------------------------------------------- integers

@pytest.mark.parametrize('lo,hi', [(0, 10), (-5, 7), (0, 2 ** 28 - 1), (0, 2 ** 28), (3, 4),
                                   (-2 ** 40, 2 ** 41), (-2 ** 63, 2 ** 63 - 1)])
@pytest.mark.parametrize('n', [1, 17, 100003])
def test_randint_int64(lo, hi, n):
    eng = pair(5)
    same(M.randint(eng, n, lo, hi), torch.randint(lo, hi, (n,)))
    same(M.randint(eng, (n, 2), lo, hi), torch.randint(lo, hi, (n, 2)))


@pytest.mark.parametrize('dt,lo,hi', [
    ('int32', -100, 100), ('int16', 0, 30000), ('int8', -128, 128), ('uint8', 0, 256),
    ('bool', 0, 2), ('float32', -50, 50), ('float64', 0, 2 ** 40), ('float16', -1000, 1000)])
def test_randint_dtypes(dt, lo, hi):
    eng = pair(6)
    same(M.randint(eng, 1000, lo, hi, dt), torch.randint(lo, hi, (1000,), dtype=T(dt)), fp=False)


@pytest.mark.parametrize('dt', INTS + FLOATS)
def test_random_no_bounds(dt):
    eng = pair(8)
    same(M.random_(eng, 1000, dt), torch.empty(1000, dtype=T(dt)).random_(), fp=False)
    if dt in ('int64', 'float64', 'float32'):
        full = torch.empty(100, dtype=T(dt)).random_(-2 ** 63, None)
        same(M.random_full_range(eng, 100, dt), full, fp=False)


@pytest.mark.parametrize('n', [0, 1, 2, 3, 15, 16, 17, 100, 1000, 60000, 100003])
@pytest.mark.parametrize('seed', [0, 3, 2 ** 33 + 1])
def test_randperm(n, seed):
    eng = pair(seed)
    same(M.randperm(eng, n), torch.randperm(n), fp=False)
    same(M.randperm(eng, n, 'float32'), torch.randperm(n, dtype=torch.float32), fp=False)


@pytest.mark.parametrize('n', [1, 2, 3, 10, 1000])
def test_randperm_inside_out_matches_its_loop(n):
    # The n >= 2**32/20 branch needs gigabytes in torch, so check it against torch's loop instead.
    eng = M.MT19937Engine(n)
    saved = eng.get_state()
    got = M._randperm_inside_out(eng, n)
    eng.set_state(saved)
    draws, a = eng.random_u64(n), list(range(n))
    for i in range(n):
        z = int(draws[i] % np.uint64(i + 1))
        a[i] = a[z]
        a[z] = i
    np.testing.assert_array_equal(got, a)


# ------------------------------------------------------------------ other distributions

@pytest.mark.parametrize('dt', FLOATS)
@pytest.mark.parametrize('n', [1, 17, 20000])
def test_continuous_distributions(dt, n):
    eng = pair(9)
    e = torch.empty(n, dtype=T(dt))
    same(M.exponential(eng, n, 1.7, dt), e.exponential_(1.7))
    same(M.geometric(eng, n, 0.3, dt), e.geometric_(0.3))
    same(M.cauchy(eng, n, 0.37, 1.3, dt), e.cauchy_(0.37, 1.3))
    same(M.log_normal(eng, n, 0.2, 0.5, dt), e.log_normal_(0.2, 0.5))
    same(M.exponential(eng, n, 1.0, dt), e.exponential_())


def test_geometric_integer_dtype():
    eng = pair(10)
    same(M.geometric(eng, 1000, 0.2, 'int64'), torch.empty(1000, dtype=torch.int64).geometric_(0.2))


@pytest.mark.skipif(is_intel(), reason="torch's bernoulli_(float p) uses MKL's stream on Intel")
@pytest.mark.parametrize('dt', FLOATS + ['int64', 'bool'])
def test_bernoulli_scalar(dt):
    eng = pair(12)
    for p in (0.0, 0.3, 0.5, 1.0):
        same(M.bernoulli_scalar(eng, 1003, p, dt), torch.empty(1003, dtype=T(dt)).bernoulli_(p))


@pytest.mark.parametrize('pdt', FLOATS)
def test_bernoulli_tensor(pdt):
    eng = pair(13)
    p = np.random.default_rng(0).random((37, 5)).astype(pdt)
    same(M.bernoulli_tensor(eng, p), torch.bernoulli(torch.from_numpy(p)))
    same(M.bernoulli_tensor(eng, p, 'float32'), torch.empty(37, 5).bernoulli_(torch.from_numpy(p)))


@pytest.mark.parametrize('replacement', [False, True])
@pytest.mark.parametrize('dt', FLOATS)
@pytest.mark.parametrize('shape,k', [((10,), 1), ((10,), 4), ((3, 50), 7), ((4, 1000), 1),
                                     ((2, 6), 6)])
def test_multinomial(replacement, dt, shape, k):
    p = (np.random.default_rng(1).random(shape) + 0.01).astype(dt)
    if replacement and k > 1:       # the engine's own sampler
        eng = pair(14)
        for _ in range(2):
            expected = torch.multinomial(torch.from_numpy(p), k, replacement)
            same(M.multinomial(eng, p, k, replacement), expected)
        return
    # otherwise Exp(1) noise and a topk, at the public level (_random_ops.multinomial)
    import nbgrad
    mine, theirs = nbgrad.Generator().manual_seed(14), torch.Generator().manual_seed(14)
    for _ in range(2):
        expected = torch.multinomial(torch.from_numpy(p), k, replacement, generator=theirs)
        got = nbgrad.multinomial(nbgrad.tensor(p), k, replacement, generator=mine)
        assert got.numpy().tolist() == expected.tolist()


def test_mixed_stream():
    """One engine serving many kernels in a row stays in lock-step with torch."""
    eng = pair(2024)
    same(M.uniform(eng, 5), torch.rand(5))
    same(M.normal(eng, 3), torch.randn(3))
    same(M.randperm(eng, 10), torch.randperm(10))
    same(M.normal(eng, 1), torch.randn(1))                    # uses the cached sample
    same(M.randint(eng, 7, 0, 3), torch.randint(0, 3, (7,)))
    same(M.normal(eng, 40, 'float64'), torch.randn(40, dtype=torch.float64))
    same(M.multinomial(eng, np.array([0.2, 0.5, 0.3], np.float32), 4, True),
         torch.multinomial(torch.tensor([0.2, 0.5, 0.3]), 4, True))
    same(M.uniform(eng, 3, 'float64'), torch.rand(3, dtype=torch.float64))
    assert eng.get_state() == torch_state()
