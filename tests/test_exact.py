"""nbgrad._exact's fused multiply-adds (which PyTorch's samplers and linspace need bit for bit)
against exact rational arithmetic: fma(a, b, c) must be a * b + c rounded once, to nearest even,
including operands near float64's limits, and IEEE's results where the product overflows or an
operand is inf or nan."""
from fractions import Fraction

import numpy as np
import pytest

from nbgrad._exact import fma32, fma64

MAX = np.finfo(np.float64).max


def _exact_fma(a, b, c, dtype):
    """a * b + c computed exactly, rounded once to dtype (Python's float() of a Fraction rounds
    correctly; float32 by rounding the exact value's float64 neighbours is not enough, so the
    exact value is compared against the float32 candidates)."""
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if dtype == np.float64:
        try:
            return float(exact)
        except OverflowError:
            return float('inf') if exact > 0 else float('-inf')
    guess = np.float32(float(exact))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess,
                  np.nextafter(guess, np.float32(np.inf))]
    best = min(candidates, key=lambda v: (abs(Fraction(float(v)) - exact),
                                          int(np.float32(v).view(np.int32)) & 1))
    return float(best)


def _samples(rng, n, dtype):
    a = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    b = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    # c cancels most of a * b, where a separate multiply and add would lose the low bits
    c = -(a * b) * (1 + rng.standard_normal(n) * 1e-9)
    return [x.astype(dtype) for x in (a, b, c)]


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_random_operands_round_once(dtype):
    a, b, c = _samples(np.random.default_rng(0), 2000, dtype)
    got = (fma64 if dtype == np.float64 else fma32)(a, b, c)
    expected = [_exact_fma(x, y, z, dtype) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(np.asarray(got, np.float64), expected)


def test_operands_near_float64_maximum():
    """PyTorch's samplers meet these: uniform_ over half of float64's range (make_tensor's
    whole-range draws), where the old split of b overflowed to nan."""
    rng = np.random.default_rng(1)
    u = rng.random(500)
    cases = [(u, np.full(500, MAX), np.full(500, -MAX / 2)),
             (np.full(500, MAX / 3), u * 2, -u * MAX / 7),
             (u * 2.0 ** 1000, u * 2.0 ** 20, np.full(500, 1.0))]
    for a, b, c in cases:
        got = fma64(a, b, c)
        expected = [_exact_fma(x, y, z, np.float64) for x, y, z in zip(a, b, c)]
        np.testing.assert_array_equal(got, expected)


def test_non_finite_products_follow_ieee():
    a = np.array([MAX, np.inf, np.nan, 2.0, -np.inf, MAX])
    b = np.array([4.0, 1.0, 1.0, np.inf, 0.0, -4.0])
    c = np.array([1.0, 1.0, 1.0, -np.inf, 1.0, 1.0])
    expected = [np.inf, np.inf, np.nan, np.nan, np.nan, -np.inf]
    np.testing.assert_array_equal(fma64(a, b, c), expected)
