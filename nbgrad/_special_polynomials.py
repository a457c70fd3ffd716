"""Vectorised orthogonal-polynomial kernels of torch.special: chebyshev_polynomial_t/u/v/w, their
shifted forms, hermite_polynomial_h/he, laguerre_polynomial_l and legendre_polynomial_p, as
f(xp, x, n) over NumPy or CuPy arrays (or Python numbers) of one floating dtype.

Each is PyTorch's kernel (aten/src/ATen/native/Math.h), element for element:
  * n is truncated to an integer (int64); n < 0 gives 0, and so does a nan, infinite or
    out-of-range n (PyTorch's cast of those is an out-of-range value, negative on x86-64);
  * the special values first (x = +-1 for the Chebyshev and Legendre polynomials, x = 0 or 1
    for the shifted ones, x = 0 for Laguerre's), then, for |x| < 1 and n above a small bound,
    the trigonometric closed forms of the Chebyshev polynomials, else the three-term
    recurrence, which stops early where it meets a nan (PyTorch's loop does), so an overflow
    ends as inf or nan just as PyTorch's does; Hermite's give nan above degree 128 (float32) or
    512 (float64);
  * the arithmetic is done in the operands' dtype, in PyTorch's order of operations, with
    sin, cos and acos rounded as C's libm rounds them (_special_bessel.libm) and, in float32,
    each recurrence step's multiply and subtract rounded once, as PyTorch's compiled (fused)
    kernel does (_multiply_subtract): float32 results are then mostly PyTorch's, bit for bit;
    float64 ones agree to about n ulp.
One deliberate difference: where x is nan and n >= 2, PyTorch's loop never runs and returns an
uninitialised variable (0, nan or garbage, by build and dtype); this returns nan.

The recurrence runs as one loop over the degree for all elements together (each element
freezes once past its own degree), so its cost is the largest degree that still recurs times
the array size; PyTorch's is per element. Degrees in the millions (x just above 1, where the
values take that long to overflow) are slow here.
"""
import numpy as np

from ._select import select
from ._special_bessel import libm

_INT64_RANGE = 2.0 ** 63
# PyTorch's getHermitianLimit: degrees above it are nan
_HERMITE_LIMIT = {np.dtype(np.float32): 128, np.dtype(np.float64): 512}


def _operands(xp, x, n):
    """x and n as arrays of their (common, floating) dtype, broadcast together, and n as
    PyTorch's int64 degree."""
    dtype = next(np.dtype(v.dtype) for v in (x, n) if hasattr(v, 'dtype'))
    x, n = xp.broadcast_arrays(xp.asarray(x, dtype=dtype), xp.asarray(n, dtype=dtype))
    castable = xp.isfinite(n) & (xp.abs(n) < _INT64_RANGE)
    degree = select(xp, castable, n, dtype.type(-1)).astype(np.int64)
    return x, degree, dtype


def _recurrence(xp, steps, p, q, step, stop_at_nan=True):
    """q after `steps` passes (per element) of p, q = q, step(j, p, q), j = 1, 2, ...; an element
    stops early once q is nan when stop_at_nan (PyTorch's loop condition)."""
    if steps.size == 0:
        return q
    last = int(steps.max())
    for j in range(1, last + 1):
        running = steps >= j
        if stop_at_nan:
            running = running & ~xp.isnan(q)
        if not bool(running.any()):
            break
        new = step(j, p, q)
        if bool(running.all()):          # (one degree for all: no element to freeze)
            p, q = q, new
        else:
            p, q = select(xp, running, q, p), select(xp, running, new, q)
    return q


def _multiply_subtract(a, b, c):
    """a * b - c, rounded once in float32: PyTorch's x86-64 kernels are compiled with the
    multiply and subtract of each recurrence step fused (an FMA), which float32 reproduces by
    computing in float64 (where the product of two float32 numbers is exact) and rounding
    once; with separate roundings, float32 results drift from PyTorch's by some ulp per step.
    float64 rounds twice here (an exact emulation would cost a few dozen operations per
    step): it stays within about 1e-15 relative per step of PyTorch's."""
    if b.dtype == np.float32:
        wide = np.float64
        return (a.astype(wide) * b.astype(wide) - c.astype(wide)).astype(np.float32)
    return a * b - c


def _as(dtype, values):
    return values.astype(dtype)


def _even(n):
    return n % 2 == 0


def _finish(xp, dtype, out):
    return xp.asarray(out, dtype=dtype)


def _chebyshev(xp, x, n, kind, shifted):
    """T, U, V or W (kind), at x or (shifted) at 2x - 1."""
    x, n, dtype = _operands(xp, x, n)
    with np.errstate(all='ignore'):
        y = x + x - 1.0 if shifted else x
        two_y = y + y
        n_float = _as(dtype, n)
        n_plus_1 = _as(dtype, n + 1)
        two_n_plus_1 = _as(dtype, n + n + 1)
        even = _even(n)
        theta = libm(xp, 'arccos', y)
        # the edges: +-1 for the plain polynomials (x = 1 and x = -1), 1 and 0 for the shifted
        if shifted:
            top, bottom = x == 1.0, x == 0.0
            edge_mask = top | bottom
        else:
            edge_mask = xp.abs(x) == 1.0
            top = x > 0.0
        alternate = lambda value: select(xp, even, value, -value)      # noqa: E731
        if kind == 't':
            first, edge = y, select(xp, top, dtype.type(1), alternate(dtype.type(1)))
            closed = libm(xp, 'cos', n_float * theta)
            closed_from = 6
        elif kind == 'u':
            first, edge = two_y, select(xp, top, n_plus_1, alternate(n_plus_1))
            sine = libm(xp, 'sin', theta)
            closed = select(xp, sine != 0.0, libm(xp, 'sin', n_plus_1 * theta) / sine,
                            n_plus_1 * libm(xp, 'cos', n_plus_1 * theta) / y)
            closed_from = 6 if shifted else 8
        elif kind == 'v':
            first, edge = two_y - 1.0, select(xp, top, dtype.type(1), alternate(two_n_plus_1))
            closed = select(xp, libm(xp, 'sin', theta / 2.0) != 1.0,
                            libm(xp, 'cos', (n_float + 0.5) * theta) /
                            libm(xp, 'cos', theta / 2.0),
                            alternate(two_n_plus_1))
            closed_from = 6 if shifted else 8
        else:
            first, edge = two_y + 1.0, select(xp, top, two_n_plus_1, alternate(dtype.type(1)))
            # (at the top of the closed form's range: 2n + 1 for x > 0 in the plain form, only
            # the alternating +-1 in the shifted one, as PyTorch's kernels have it)
            at_top = alternate(dtype.type(1))
            if not shifted:
                at_top = select(xp, x > 0.0, two_n_plus_1, at_top)
            closed = select(xp, libm(xp, 'cos', theta / 2.0) != 1.0,
                            libm(xp, 'sin', (n_float + 0.5) * theta) /
                            libm(xp, 'sin', theta / 2.0), at_top)
            closed_from = 4 if shifted else 8
        closed_mask = (n > closed_from) & (xp.abs(y) < 1.0)
        recurs = (n >= 2) & ~edge_mask & ~closed_mask
        steps = select(xp, recurs, n - 1, 0)
        out = _recurrence(xp, steps, xp.ones_like(x), first,
                          lambda j, p, q: _multiply_subtract(two_y, q, p))
        out = select(xp, n == 1, first, out)
        out = select(xp, n == 0, dtype.type(1), out)
        out = select(xp, closed_mask, closed, out)
        out = select(xp, edge_mask, edge, out)
        out = select(xp, n < 0, dtype.type(0), out)
    return _finish(xp, dtype, out)


def chebyshev_polynomial_t(xp, x, n):
    """Chebyshev polynomial of the first kind T_n(x)."""
    return _chebyshev(xp, x, n, 't', False)


def chebyshev_polynomial_u(xp, x, n):
    """Chebyshev polynomial of the second kind U_n(x)."""
    return _chebyshev(xp, x, n, 'u', False)


def chebyshev_polynomial_v(xp, x, n):
    """Chebyshev polynomial of the third kind V_n(x)."""
    return _chebyshev(xp, x, n, 'v', False)


def chebyshev_polynomial_w(xp, x, n):
    """Chebyshev polynomial of the fourth kind W_n(x)."""
    return _chebyshev(xp, x, n, 'w', False)


def shifted_chebyshev_polynomial_t(xp, x, n):
    """T*_n(x) = T_n(2x - 1)."""
    return _chebyshev(xp, x, n, 't', True)


def shifted_chebyshev_polynomial_u(xp, x, n):
    """U*_n(x) = U_n(2x - 1)."""
    return _chebyshev(xp, x, n, 'u', True)


def shifted_chebyshev_polynomial_v(xp, x, n):
    """V*_n(x) = V_n(2x - 1)."""
    return _chebyshev(xp, x, n, 'v', True)


def shifted_chebyshev_polynomial_w(xp, x, n):
    """W*_n(x) = W_n(2x - 1)."""
    return _chebyshev(xp, x, n, 'w', True)


def _hermite(xp, x, n, physicists):
    x, n, dtype = _operands(xp, x, n)
    with np.errstate(all='ignore'):
        if physicists:      # H_{k+1} = 2x H_k - 2k H_{k-1}
            two_x = x + x
            first = two_x
            step = lambda j, p, q: _multiply_subtract(two_x, q, (2 * j) * p)    # noqa: E731
        else:               # He_{k+1} = x He_k - k He_{k-1}
            first = x
            step = lambda j, p, q: _multiply_subtract(x, q, j * p)              # noqa: E731
        too_high = n > _HERMITE_LIMIT[dtype]
        steps = select(xp, (n >= 2) & ~too_high, n - 1, 0)
        out = _recurrence(xp, steps, xp.ones_like(x), first, step, stop_at_nan=False)
        out = select(xp, too_high, dtype.type(np.nan), out)
        out = select(xp, n == 1, first, out)
        out = select(xp, n == 0, dtype.type(1), out)
        out = select(xp, n < 0, dtype.type(0), out)
    return _finish(xp, dtype, out)


def hermite_polynomial_h(xp, x, n):
    """Physicists' Hermite polynomial H_n(x) (nan above degree 128/512, as PyTorch)."""
    return _hermite(xp, x, n, True)


def hermite_polynomial_he(xp, x, n):
    """Probabilists' Hermite polynomial He_n(x) (nan above degree 128/512, as PyTorch)."""
    return _hermite(xp, x, n, False)


def laguerre_polynomial_l(xp, x, n):
    """Laguerre polynomial L_n(x); 1 at x = 0 for every n >= 0."""
    x, n, dtype = _operands(xp, x, n)
    with np.errstate(all='ignore'):
        one_minus_x = 1.0 - x
        at_zero = xp.abs(x) == 0.0
        steps = select(xp, (n >= 2) & ~at_zero, n - 1, 0)
        out = _recurrence(xp, steps, xp.ones_like(x), one_minus_x, lambda k, p, q:
                          _multiply_subtract((k + k) + one_minus_x, q, k * p) / (k + 1))
        out = select(xp, n == 1, one_minus_x, out)
        out = select(xp, (n == 0) | at_zero, dtype.type(1), out)
        out = select(xp, n < 0, dtype.type(0), out)
    return _finish(xp, dtype, out)


def legendre_polynomial_p(xp, x, n):
    """Legendre polynomial P_n(x)."""
    x, n, dtype = _operands(xp, x, n)
    with np.errstate(all='ignore'):
        edge_mask = xp.abs(x) == 1.0
        edge = select(xp, (x > 0.0) | _even(n), dtype.type(1), dtype.type(-1))
        steps = select(xp, (n >= 2) & ~edge_mask, n - 1, 0)
        out = _recurrence(xp, steps, xp.ones_like(x), x,
                          lambda k, p, q: _multiply_subtract((k + k + 1) * x, q, k * p) / (k + 1))
        out = select(xp, n == 1, x, out)
        out = select(xp, n == 0, dtype.type(1), out)
        out = select(xp, edge_mask, edge, out)
        out = select(xp, n < 0, dtype.type(0), out)
    return _finish(xp, dtype, out)


__all__ = ['chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v',
           'chebyshev_polynomial_w', 'shifted_chebyshev_polynomial_t',
           'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
           'shifted_chebyshev_polynomial_w', 'hermite_polynomial_h', 'hermite_polynomial_he',
           'laguerre_polynomial_l', 'legendre_polynomial_p']
