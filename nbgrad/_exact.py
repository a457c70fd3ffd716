"""Correctly rounded fused multiply-add in NumPy (Python 3.11's math has no fma).

PyTorch's x86 builds contract `a * b + c` into one fused multiply-add, so reproducing its numbers
bit for bit (random samplers, linspace) needs fma's single rounding, emulated here exactly.
"""
import numpy as np

_f32, _f64, _i64 = np.float32, np.float64, np.int64


def _round_to_odd(s, t):
    """s + t exactly (t the rounding error of s) -> s, or its odd neighbour toward t when inexact.
    Rounding that to a narrower format then gives the correctly rounded value of s + t."""
    bits = s.view(_i64)
    fix = (t != 0) & ((bits & 1) == 0)
    return np.where(fix, bits + np.where((t > 0) == (s > 0), 1, -1), bits).view(_f64)


def _two_sum(a, b):
    s = a + b
    bp = s - a
    return s, (a - (s - bp)) + (b - bp)


def fma32(a, b, c, exact_sum=False):
    """float32 fma(a, b, c). The product of two floats is exact in float64, so rounding the
    float64 sum to float32 is right unless the sum was inexact and landed exactly on a float32
    midpoint (the 29 dropped bits read 1000...0); those rare elements are redone with round-to-odd.
    exact_sum=True skips the check where the caller has shown the float64 sum is exact."""
    s = np.multiply(a, b, dtype=_f64)
    s += c
    out = s.astype(_f32)
    if not exact_sum:
        mid = (s.view(_i64) & 0x1FFFFFFF) == 0x10000000
        if mid.any():
            a, b, c = (np.broadcast_to(v, s.shape)[mid] for v in (a, b, c))
            p = np.multiply(a, b, dtype=_f64)
            out[mid] = _round_to_odd(*_two_sum(p, c.astype(_f64))).astype(_f32)
    return out


def _split(x):
    """Veltkamp's split of x (|x| <= 2**996, so x * (2**27 + 1) cannot overflow) into a high
    part of 26 bits and the exact rest."""
    t = x * 134217729.0
    high = t - (t - x)
    return high, x - high


def fma64(a, b, c):
    """float64 fma(a, b, c) from Dekker's exact product and two exact sums (Boldo-Melquiond).
    An operand beyond 2**996 is split scaled down by 2**-28 (powers of two scale exactly), and
    the product's error scaled back. Where a * b or its error is not finite (overflow, inf or
    nan operands) the result is a * b + c, which is IEEE's fma there (and, for a product within
    2**-26 of float64's maximum, a value within an ulp of it)."""
    a, b, c = (np.asarray(v, _f64) for v in (a, b, c))
    p = a * b
    scale_a = np.where(np.abs(a) > 2.0 ** 996, 2.0 ** -28, 1.0)
    scale_b = np.where(np.abs(b) > 2.0 ** 996, 2.0 ** -28, 1.0)
    a_s, b_s = a * scale_a, b * scale_b
    (ah, al), (bh, bl) = _split(a_s), _split(b_s)
    p_s = a_s * b_s
    # p + e == a * b exactly
    e = (((ah * bh - p_s) + ah * bl + al * bh) + al * bl) / (scale_a * scale_b)
    s, t = _two_sum(p, c)
    v, w = _two_sum(t, e)
    return np.where(np.isfinite(p) & np.isfinite(e), s + _round_to_odd(v, w), p + c)
