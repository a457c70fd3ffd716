"""nbgrad.ops._float32_bits: the float32 <-> float64 conversions through the bits that ldexp and
frexp use on the GPU (where CuPy's kernels flush float32 subnormals), checked bit for bit
against NumPy's casts, which keep subnormals and round to nearest even."""
import numpy as np

from nbgrad.ops._float32_bits import narrow, widen


def _float32_patterns():
    rng = np.random.default_rng(0)
    every_low = np.arange(0, 1 << 16, dtype=np.uint32)     # zero and the smallest subnormals
    specials = np.array([0x7F800000, 0xFF800000, 0x7FC00000, 0x00800000, 0x007FFFFF,
                         0x80800000, 0x807FFFFF, 0x7F7FFFFF], np.uint32)
    bits = np.concatenate([rng.integers(0, 1 << 32, 100_000, dtype=np.uint64).astype(np.uint32),
                           every_low, every_low | np.uint32(1 << 31), specials])
    return bits.view(np.float32)


def test_widen_is_exact_for_every_kind_of_float32():
    x = _float32_patterns()
    got = widen(np, x)
    expected = x.astype(np.float64)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.view(np.uint64)[~np.isnan(x)],
                                  expected.view(np.uint64)[~np.isnan(x)])
    assert np.isnan(got[np.isnan(x)]).all()


def test_narrow_rounds_as_numpy_including_subnormal_results():
    rng = np.random.default_rng(1)
    near_subnormal = rng.standard_normal(100_000) * 2.0 ** rng.integers(-160, -110, 100_000)
    halfway = (np.arange(1, 2000) + 0.5) * 2.0 ** -149          # ties round to even
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 2.0 ** -150, 2.0 ** -126 * (1 - 2 ** -25),
             3.5e38, -3.5e38]
    x = np.concatenate([near_subnormal, halfway, -halfway, rng.standard_normal(1000) * 1e38,
                        edges])
    with np.errstate(over='ignore'):
        expected = x.astype(np.float32)
    got = narrow(np, x)
    assert got.dtype == np.float32
    same = (got.view(np.uint32) == expected.view(np.uint32)) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), x[~same][:5]
