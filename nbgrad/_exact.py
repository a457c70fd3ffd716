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


def fma64(a, b, c):
    """float64 fma(a, b, c) from Dekker's exact product and two exact sums (Boldo-Melquiond)."""
    a, b, c = (np.asarray(v, _f64) for v in (a, b, c))
    p = a * b
    ah, bh = a * 134217729.0, b * 134217729.0       # Veltkamp split into 26+27 bits
    ah, bh = ah - (ah - a), bh - (bh - b)
    al, bl = a - ah, b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl   # p + e == a * b exactly
    s, t = _two_sum(p, c)
    v, w = _two_sum(t, e)
    return s + _round_to_odd(v, w)
