"""Vectorised special functions over NumPy or CuPy arrays (no SciPy).

Every public function takes the array module first, ``f(xp, x)``, and uses only element-wise
functions that NumPy and CuPy share (where, exp, log, log1p, sqrt, sin, cos, rint, ...), so the
same code runs on either backend. Work is done in float64 and the result is cast back to the
input's floating dtype (float16/float32 gain accuracy this way; torch also upcasts half); erf
of float32/float16 inputs uses shorter approximations made for single precision (see erf).

Branches are evaluated everywhere and selected with ``where`` (no data-dependent Python control
flow, which would force a device sync on CuPy), through _select.select, which on NumPy chooses
by bits instead of by a branch per element; loops have fixed trip counts. The module imports
nothing from nbgrad but that leaf (it is tested on its own). Sources:
  * erf/erfc/erfcx: W. J. Cody's rational Chebyshev approximations (CALERF, Math. Comp. 1969).
  * ndtri and i0/i0e/i1/i1e: the Cephes Math Library (Moshier, 3-clause BSD), the same
    coefficients torch uses, so results agree with torch to rounding.
  * zeta (Hurwitz): Cephes' Euler-Maclaurin summation, as torch's.
  * lgamma/digamma/polygamma: Taylor series about 1, 2 and digamma's positive root, recurrences,
    reflection, and Stirling / Euler-Maclaurin asymptotics; coefficients are derived at import.
The regularized incomplete gamma functions are in _incomplete_gamma.py, on this module.
Edge-case conventions follow torch (see each function's docstring) except where torch returns
an artefact of its own arithmetic (noted).
"""
import functools
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ._select import select

_PI = math.pi
_SQRT_PI = math.sqrt(math.pi)
_FRAC_1_SQRT_PI = 1.0 / math.sqrt(math.pi)
_FRAC_1_SQRT_2 = 0.7071067811865476      # the double torch multiplies by in ndtr/log_ndtr
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_EULER = 0.57721566490153286061

# ---- Plumbing ------------------------------------------------------------------------------------
# NumPy arrays larger than this go through the kernel in blocks of this many elements: a
# kernel makes dozens of float64 temporaries, which at block size stay in the cache and reuse
# memory, where whole-array ones each cost fresh pages (erf of 512K floats: 17 ms whole, 6 ms
# in blocks, 4 ms in blocks on two threads)
_BLOCK = 1 << 16


def _apply(xp, fn, x, wide=True):
    """Run the kernel ``fn`` on x in float64 (or, wide=False, in x's own floating dtype, float16
    in float32) and cast back to x's floating dtype (large NumPy arrays block by block, the
    blocks shared among nbgrad's worker threads).

    NumPy's divide/overflow/invalid warnings are silenced: every branch is evaluated on every
    element and the unused ones legitimately produce inf/nan before ``where`` discards them.
    """
    x = xp.asarray(x)
    dtype = x.dtype if x.dtype.kind == 'f' else np.dtype('float64')
    compute = np.dtype('float64') if wide else np.promote_types(dtype, np.float32)
    if xp is np and x.size > 2 * _BLOCK:
        return _apply_in_blocks(fn, x, dtype, compute)
    with np.errstate(all='ignore'):
        out = fn(xp, x.astype(compute))
    return xp.asarray(out).astype(dtype, copy=False)


# (parts_of, run_parts) of nbgrad's worker threads, which nbgrad/_threads.py installs: this
# module does not import nbgrad (it is tested on its own), and then runs blocks in turn
parallel = [None]


def _apply_in_blocks(fn, x, dtype, compute):
    flat = x.reshape(-1)
    out = np.empty(flat.shape, dtype)

    def run(part):
        with np.errstate(all='ignore'):
            for start in range(part.start, part.stop, _BLOCK):
                block = slice(start, min(start + _BLOCK, part.stop))
                out[block] = fn(np, flat[block].astype(compute))
    if parallel[0] is None:
        run(slice(0, flat.size))
    else:
        parts_of, run_parts = parallel[0]
        run_parts(run, parts_of(flat.size, 1))
    return out.reshape(x.shape)


def _unary(kernel):
    @functools.wraps(kernel)
    def wrapper(xp, x):
        return _apply(xp, kernel, x)
    return wrapper


def _horner(z, coeffs):
    """Evaluate a polynomial with coefficients given highest power first (Cephes' polevl),
    in place after the first product (one new array, not two per coefficient)."""
    r = coeffs[0] * z
    r += coeffs[1]
    for c in coeffs[2:]:
        r *= z
        r += c
    return r


def _chbevl(z, coeffs):
    """Clenshaw sum of a Chebyshev series (Cephes' chbevl; coefficients highest order first)."""
    b0, b1, b2 = coeffs[0], 0.0, 0.0
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = z * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _pi_frac(xp, x):
    """r = x - nearest integer, exactly; sin/cos/tan(pi*r) keep full accuracy for large |x|."""
    return x - xp.rint(x)


def _cotpi(xp, r):
    """cot(pi r) for |r| <= 1/2. cos(pi r) is taken as sin(pi (1/2 - |r|)) so that it is exactly
    0 at r = +-1/2 (cos(pi/2) in floating point is 6e-17, which psi(-1/2) would inherit)."""
    return xp.sin(_PI * (0.5 - xp.abs(r))) / xp.sin(_PI * r)


def _is_nonpos_int(xp, x):
    return (x <= 0) & (x == xp.rint(x))


# Even Bernoulli numbers B2..B20, exact; all asymptotic series below are built from them.
_BERN = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30), Fraction(5, 66),
         Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510), Fraction(43867, 798),
         Fraction(-174611, 330)]


# ---- erf, erfc, erfcx (Cody) ---------------------------------------------------------------------
# Cody's coefficients rearranged highest power first. |x| <= 0.46875: erf = x * R1(x^2);
# 0.46875 < |x| <= 4: erfc = exp(-x^2) R2(x); |x| > 4: erfc = exp(-x^2)/x (1/sqrt(pi) - z R3(z)),
# z = 1/x^2. Near-minimax with relative error < 1e-17, so float64 rounding dominates.
_ERF_A = [1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
          3.77485237685302021e02, 3.20937758913846947e03]
_ERF_B = [1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03]
_ERF_C = [2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
          6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
          1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03]
_ERF_D = [1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03]
_ERF_P = [1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
          1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4]
_ERF_Q = [1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3]
_ERF_SMALL = 0.46875


def _erf_small(x):
    z = x * x
    return x * _horner(z, _ERF_A) / _horner(z, _ERF_B)


def _erfcx_large(xp, y):
    """exp(y^2) erfc(y) for y > 0.46875 (Cody's intervals 2 and 3)."""
    mid = _horner(y, _ERF_C) / _horner(y, _ERF_D)
    z = 1.0 / (y * y)
    far = (_FRAC_1_SQRT_PI - z * _horner(z, _ERF_P) / _horner(z, _ERF_Q)) / y
    return select(xp, y <= 4.0, mid, far)


def _exp_sq(xp, y, sign):
    """exp(sign * y^2) without the error of rounding y*y: split y = hi + lo with hi a multiple
    of 1/16, so hi*hi is exact and y^2 = hi^2 + (y-hi)(y+hi) (Cody's trick). Otherwise the
    rounding of y*y (relative 1e-16, absolute ~700e-16 near underflow) would multiply erfc."""
    y = xp.minimum(y, 64.0)          # exp(+-4096) is already 0 or inf; avoids inf - inf = nan
    hi = xp.trunc(y * 16.0) / 16.0
    return xp.exp(sign * (hi * hi)) * xp.exp(sign * ((y - hi) * (y + hi)))


def _erfc_large(xp, y):
    """erfc(y) for y > 0.46875; no cancellation in the tail."""
    return _exp_sq(xp, y, -1.0) * _erfcx_large(xp, y)


@_unary
def _erf64(xp, x):
    y = xp.abs(x)
    big = select(xp, x < 0, -1.0, 1.0) * (1.0 - _erfc_large(xp, y))
    return select(xp, y <= _ERF_SMALL, _erf_small(x), big)


# erf of float32 and float16 inputs: two polynomials, fitted for nbgrad by least squares on
# Chebyshev nodes against math.erf/erfc in float64, and evaluated in float64:
#   |x| <= 0.9277:  erf(x) = x * P(x^2), relative error 1.7e-8;
#   0.9277 < |x| < 3.92:  erf(|x|) = 1 - exp(Q(|x|)), Q ~ log(erfc), absolute error 1e-9;
#   |x| >= 3.92:  +-1 (erf rounds to 1 in float32 from there).
# Rounded to float32 the result is within 0.78 ulp of erf (PyTorch's float32 kernel: 0.71) and
# bit-equal to PyTorch's for 97% of inputs, at a third of Cody's cost (GELU's hot path).
_ERF32_SPLIT, _ERF32_ONE = 0.9277, 3.92
_ERF32_SMALL = [-0.0005959513870652219, 0.004986971656685344, -0.02676233419297247,
                0.1128169629369231, -0.37612482002472414, 1.1283791477387717]
_ERF32_LOG_ERFC = [1.638059852049276e-06, -4.604125143109563e-05, 0.0005963690037972372,
                   -0.004756162913055744, 0.02640743799186648, -0.11004905896228849,
                   -0.631866303175493, -1.1302056568534065, 0.00031226326857562703]


def _erf_single(xp, x):
    # (in place wherever possible: four arrays of x's size instead of thirteen, which GELU,
    # calling this on every block of every activation, felt)
    if x.ndim == 0:   # (NumPy's ufuncs give 0-d inputs scalars, which out= cannot take)
        return _erf_single(xp, x.reshape(1)).reshape(())
    if xp is np:
        out = _erf_single_compacted(x)
        if out is not None:
            return out
    y = xp.abs(x)
    z = x * x
    small = _horner(z, _ERF32_SMALL)
    small *= x
    xp.minimum(y, _ERF32_ONE, out=z)
    big = _horner(z, _ERF32_LOG_ERFC)
    xp.exp(big, out=big)
    xp.subtract(1.0, big, out=big)
    big = select(xp, y >= _ERF32_ONE, 1.0, big)
    _take_sign(xp, big, x, z)
    return select(xp, y <= _ERF32_SPLIT, small, big)


def _erf_single_compacted(x):
    """_erf_single with the second polynomial evaluated only where it is needed: the same
    formulas on the same values, so the same bits. Activations lie mostly inside the first
    polynomial's interval (81% of GELU's standard-normal inputs), where this takes a third
    less time; None when most of x lies outside it (the branchless form is quicker then)."""
    x = np.ascontiguousarray(x)      # (flat indices below address its C-ordered copy)
    y = np.abs(x)
    outside = np.flatnonzero(y > _ERF32_SPLIT)
    if outside.size > x.size // 2:
        return None
    z = x * x
    out = _horner(z, _ERF32_SMALL)
    out *= x
    if outside.size:
        flat, magnitude = out.reshape(-1), y.reshape(-1)[outside]
        big = _horner(np.minimum(magnitude, _ERF32_ONE), _ERF32_LOG_ERFC)
        np.exp(big, out=big)
        np.subtract(1.0, big, out=big)
        big[magnitude >= _ERF32_ONE] = 1.0
        flat[outside] = np.copysign(big, x.reshape(-1)[outside])
    return out


_SIGN_BITS = {4: (np.int32, np.int32(-2 ** 31)), 8: (np.int64, np.int64(-2 ** 63))}


def _take_sign(xp, magnitude, x, scratch):
    """copysign(magnitude, x) in place for magnitude >= 0 (or NaN): x's sign bit OR-ed in.
    NumPy's copysign is not vectorised (4x these two integer passes); scratch is x-sized."""
    ints, sign = _SIGN_BITS[x.dtype.itemsize]
    xp.bitwise_and(x.view(ints), sign, out=scratch.view(ints))
    xp.bitwise_or(magnitude.view(ints), scratch.view(ints), out=magnitude.view(ints))


_erf_single_precision = _unary(_erf_single)
# for kernels built on it elsewhere (GELU): the float64 kernel and the block runner
erf_single_kernel = _erf_single
elementwise = _apply


def erf(xp, x):
    """Error function. erf(+-inf) = +-1, erf(-0) = -0, nan propagates."""
    x = xp.asarray(x)
    if x.dtype in (np.float32, np.float16):
        return _erf_single_precision(xp, x)
    return _erf64(xp, x)


@_unary
def erfc(xp, x):
    """Complementary error function, relatively accurate down to underflow (x ~ 26.5)."""
    y = xp.abs(x)
    tail = _erfc_large(xp, y)
    return select(xp, y <= _ERF_SMALL, 1.0 - _erf_small(x), select(xp, x < 0, 2.0 - tail, tail))


def _erfcx64(xp, x):
    """exp(x^2) erfc(x) on float64; for x < 0 it is 2 exp(x^2) - erfcx(|x|)."""
    y = xp.abs(x)
    small = _exp_sq(xp, y, 1.0) * (1.0 - _erf_small(x))
    big = _erfcx_large(xp, y)
    big = select(xp, x < 0, 2.0 * _exp_sq(xp, y, 1.0) - big, big)   # overflows to inf for x < -26.6
    return select(xp, y <= _ERF_SMALL, small, big)


@_unary
def erfcx(xp, x):
    """Scaled complementary error function exp(x^2) erfc(x); erfcx(inf) = 0."""
    return _erfcx64(xp, x)


# ---- Normal distribution: ndtr, log_ndtr, ndtri; and erfinv --------------------------------------
def _normal_upper_tail(xp, a):
    """Q(a) = 1 - ndtr(a) = erfc(a/sqrt 2)/2 for a >= 0. Beyond Cody's small interval it is
    exp(-a^2/2) erfcx(a/sqrt 2)/2 with exp(-a^2/2) split on a itself: rounding t = a/sqrt 2
    first would cost a relative error ~a^2 ulp (1e-13 at a = 37), erfcx is insensitive to it."""
    t = a * _FRAC_1_SQRT_2
    b = xp.minimum(a, 64.0)          # exp(-2048) is already 0; avoids inf - inf = nan
    hi = xp.trunc(b * 16.0) / 16.0
    gauss = xp.exp(-0.5 * (hi * hi)) * xp.exp(-0.5 * ((b - hi) * (b + hi)))
    return select(xp, t <= _ERF_SMALL, 0.5 - 0.5 * _erf_small(t), 0.5 * gauss * _erfcx_large(xp, t))


@_unary
def ndtr(xp, x):
    """Standard normal CDF; both tails relatively accurate (the lower one down to underflow)."""
    q = _normal_upper_tail(xp, xp.abs(x))
    return select(xp, x < 0, q, 1.0 - q)


@_unary
def log_ndtr(xp, x):
    """log of the normal CDF (torch/SciPy's split): for x < -1, log(erfcx(-x/sqrt 2)/2) - x^2/2
    never underflows; otherwise log1p(-Q(x)) keeps precision as the CDF approaches 1."""
    a = xp.abs(x)
    lower = xp.log(0.5 * _erfcx64(xp, a * _FRAC_1_SQRT_2)) - 0.5 * (x * x)
    q = _normal_upper_tail(xp, a)
    upper = xp.log1p(-select(xp, x < 0, 1.0 - q, q))
    return select(xp, x < -1.0, lower, upper)


# Cephes ndtri: central rational in (p - 1/2) for exp(-2) < p < 1 - exp(-2); tails rational in
# 1/w, w = sqrt(-2 log p), split at w = 8 (p = exp(-32)). Quoted peak relative error 7e-16.
_NDTRI_P0 = [-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0]
_NDTRI_Q0 = [1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0]
_NDTRI_P1 = [4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
             4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4]
_NDTRI_Q1 = [1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
             1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4]
_NDTRI_P2 = [3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
             1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9]
_NDTRI_Q2 = [1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
             2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9]
_EXP_M2 = 0.13533528323661269189


def _ndtri_central(y):
    """ndtri(1/2 + y) / sqrt(2 pi) for |y| <= 1/2 - exp(-2)."""
    y2 = y * y
    return y + y * (y2 * _horner(y2, _NDTRI_P0) / _horner(y2, _NDTRI_Q0))


def _ndtri_tail(xp, p):
    """-ndtri(p) for 0 < p <= exp(-2), i.e. the positive quantile of the upper tail mass p."""
    w = xp.sqrt(-2.0 * xp.log(p))
    z = 1.0 / w
    r = select(xp, w < 8.0, _horner(z, _NDTRI_P1) / _horner(z, _NDTRI_Q1),
               _horner(z, _NDTRI_P2) / _horner(z, _NDTRI_Q2))
    return w - xp.log(w) / w - z * r


@_unary
def ndtri(xp, p):
    """Inverse normal CDF: ndtri(0) = -inf, ndtri(1) = inf, nan outside [0, 1] (as torch)."""
    upper = p > 1.0 - _EXP_M2
    central = (p > _EXP_M2) & ~upper
    tail = _ndtri_tail(xp, select(xp, upper, 1.0 - p, p))    # 1 - p is exact here (Sterbenz)
    res = select(xp, central, _ndtri_central(p - 0.5) * math.sqrt(2 * _PI),
                 select(xp, upper, tail, -tail))
    res = select(xp, p == 0, -np.inf, select(xp, p == 1, np.inf, res))
    return select(xp, (p < 0) | (p > 1), np.nan, res)


@_unary
def erfinv(xp, x):
    """Inverse error function: erfinv(+-1) = +-inf, nan for |x| > 1 (as torch).

    erfinv(x) = ndtri((1 + x)/2) / sqrt 2, evaluated without forming (1 + x)/2: the central
    Cephes branch takes y = x/2 directly and the tails take p = (1 - |x|)/2, both exact. One
    Halley step on erf (erfc in the tails, where 1 - |x| is exact) then polishes the result.
    """
    a = xp.abs(x)
    sign = select(xp, x < 0, -1.0, 1.0)
    central = a <= 1.0 - 2.0 * _EXP_M2
    r = select(xp, central, _ndtri_central(0.5 * x) * _SQRT_PI,
               sign * _ndtri_tail(xp, 0.5 * (1.0 - a)) * _FRAC_1_SQRT_2)
    # f = erf(r) - x, written as sign * ((1 - |x|) - erfc|r|) in the tails to avoid cancellation.
    s = xp.abs(r)
    erfc_s = select(xp, s <= _ERF_SMALL, 1.0 - _erf_small(s), _erfc_large(xp, s))
    f = select(xp, central, erf(xp, r) - x, sign * ((1.0 - a) - erfc_s))
    step = f / (2.0 * _FRAC_1_SQRT_PI * _exp_sq(xp, s, -1.0))
    r = r - step / (1.0 + r * step)        # Halley: f''/f' = -2r for erf
    r = select(xp, a == 1, sign * np.inf, r)
    return select(xp, a > 1, np.nan, r)


# ---- Hurwitz zeta (integer order), the engine for polygamma and the Taylor coefficients below ----
def _hurwitz_zeta(xp, s, a):
    """zeta(s, a) = sum_k (a + k)^-s for integer s >= 2 and a > 0.

    Sum terms directly until a >= M = 10 + 2s, then add the Euler-Maclaurin tail
    b^(1-s)/(s-1) + b^-s/2 + sum_j B2j/(2j)! (s)_(2j-1) b^(1-s-2j). Its j-th term shrinks like
    (s + 2j)^2j / (2 pi b)^2j, so b >= 10 + 2s makes ten Bernoulli terms ample (< 1e-19).
    Every term is positive, so the sum is accurate to a few ulp.
    """
    m = 10 + 2 * s
    acc = xp.zeros_like(a)
    for _ in range(m):
        low = a < m
        acc = acc + select(xp, low, (1.0 / a) ** s, 0.0)
        a = select(xp, low, a + 1.0, a)
    coeffs, rising = [], Fraction(s)                     # rising = (s)_(2j-1)
    for j, b in enumerate(_BERN, start=1):
        coeffs.append(float(b / math.factorial(2 * j) * rising))
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    u = 1.0 / a
    w = u * u
    series = _horner(w, coeffs[::-1])                    # sum_j c_j w^(j-1)
    return acc + u ** (s - 1) * (1.0 / (s - 1) + u * (0.5 + u * series))


# ---- lgamma --------------------------------------------------------------------------------------
# lgamma(2 + z) = (1 - gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1) z^k / k, |z| <= 1/2. The terms
# fall like 4^-k/k, so 28 of them reach 1e-18. lgamma's zeros at 1 and 2 are then exact zeros of
# the series in z = x - 1 or x - 2 (both exact), giving full relative accuracy there.
with np.errstate(all='ignore'):
    _ZETA_M1 = [float(_hurwitz_zeta(np, k, np.array(2.0))) for k in range(2, 30)]
_LGAMMA2 = [(-1) ** k * zk / k for k, zk in zip(range(2, 30), _ZETA_M1)][::-1] + [1.0 - _EULER]
# Stirling: lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + sum_k B2k / (2k (2k-1) x^(2k-1)).
_STIRLING = [float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_BERN, start=1)][::-1]
_LGAMMA_BIG = 10.0         # ten Stirling terms at x >= 10 leave an error below 1e-20


def _lgamma_pos(xp, y):
    """log Gamma(y) for y > 0 (inf and nan pass through)."""
    # Recurrence lgamma(t) = lgamma(t - 1) + log(t - 1) brings 2.5 <= y < 10 into [1.5, 2.5);
    # each t - 1 is exact and the product of at most 8 factors is rounded only ~8 times.
    mid = (y >= 2.5) & (y < _LGAMMA_BIG)
    t, prod = y, xp.ones_like(y)
    for _ in range(8):
        step = mid & (t >= 2.5)
        t = select(xp, step, t - 1.0, t)
        prod = select(xp, step, prod * t, prod)
    z = select(xp, y < 0.5, y,
               select(xp, y < 1.5, y - 1.0, select(xp, y < _LGAMMA_BIG, t - 2.0, 0.0)))
    extra = select(xp, y < 0.5, -xp.log(y) - xp.log1p(y),          # Gamma(y) = Gamma(y+2)/(y(y+1))
                   select(xp, y < 1.5, -xp.log1p(z), xp.log(prod)))
    series = z * _horner(z, _LGAMMA2) + extra
    w = 1.0 / y
    stirling = ((y - 0.5) * xp.log(y) - y + _HALF_LOG_2PI) + w * _horner(w * w, _STIRLING)
    res = select(xp, y < _LGAMMA_BIG, series, stirling)
    return select(xp, y == np.inf, np.inf, res)


@_unary
def lgamma(xp, x):
    """log|Gamma(x)|; inf at the poles 0, -1, -2, ... and at +-inf (as torch)."""
    neg = x < 0
    lg = _lgamma_pos(xp, select(xp, neg, 1.0 - x, x))
    # Reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x).
    r = _pi_frac(xp, x)
    refl = _LOG_PI - xp.log(xp.abs(xp.sin(_PI * r))) - lg
    res = select(xp, neg, refl, lg)
    return select(xp, _is_nonpos_int(xp, x) | (x == -np.inf), np.inf, res)


# ---- digamma and polygamma -----------------------------------------------------------------------
# psi(x) ~ log x - 1/(2x) - sum_k B2k / (2k x^2k); eight terms at x >= 10 leave < 1e-18.
_PSI_ASYM = [float(b / (2 * k)) for k, b in enumerate(_BERN[:8], start=1)][::-1]
# Near psi's positive root x0 the recurrence + asymptotic sum cancels to ~0, so use the Taylor
# series psi(x) = sum_k (-1)^(k+1) zeta(k+1, x0) (x - x0)^k, with x0 held as hi + lo (from a
# 36-digit decimal) so that x - x0 keeps full relative precision. The nearest singularity is the
# pole at 0, so terms fall like (|x - x0| / x0)^k: radius 0.5 and 36 terms reach 1e-17.
_PSI_ROOT_DEC = Decimal('1.461632144968362341262659542325721325')
_PSI_ROOT_HI = float(_PSI_ROOT_DEC)
_PSI_ROOT_LO = float(_PSI_ROOT_DEC - Decimal(_PSI_ROOT_HI))
with np.errstate(all='ignore'):
    _PSI_ROOT = [(-1) ** (k + 1) * float(_hurwitz_zeta(np, k + 1, np.array(_PSI_ROOT_HI)))
                 for k in range(1, 37)][::-1]


def _digamma_pos(xp, y):
    """psi(y) for y > 0 (inf and nan pass through)."""
    acc, t = xp.zeros_like(y), y
    for _ in range(10):                       # psi(t) = psi(t + 1) - 1/t until t >= 10
        low = t < 10.0
        acc = acc - select(xp, low, 1.0 / t, 0.0)
        t = select(xp, low, t + 1.0, t)
    w = 1.0 / (t * t)
    asym = xp.log(t) - 0.5 / t - w * _horner(w, _PSI_ASYM)
    # Below x0 + 1.5 the sum above cancels (up to ~10 ulp lost); instead move y by one into the
    # Taylor window: psi(y) = psi(y + 1) - 1/y below it (|psi| > 0.6 there, so at most mild
    # cancellation), psi(y) = psi(y - 1) + 1/(y - 1) above it (both positive, y - 1 exact).
    lo_, hi_ = _PSI_ROOT_HI - 0.5, _PSI_ROOT_HI + 0.5
    ys = select(xp, y < lo_, y + 1.0, select(xp, y >= hi_, y - 1.0, y))
    corr = select(xp, y < lo_, -1.0 / y, select(xp, y >= hi_, 1.0 / ys, 0.0))
    d = (ys - _PSI_ROOT_HI) - _PSI_ROOT_LO
    root = d * _horner(d, _PSI_ROOT) + corr
    return select(xp, y < _PSI_ROOT_HI + 1.5, root, acc + asym)


@_unary
def digamma(xp, x):
    """psi(x), torch's conventions: psi(+0) = -inf, psi(-0) = +inf, nan at negative integers
    and at -inf, psi(inf) = inf."""
    neg = x < 0
    psi = _digamma_pos(xp, select(xp, neg, 1.0 - x, x))
    r = _pi_frac(xp, x)
    psi = select(xp, neg, psi - _PI * _cotpi(xp, r), psi)                       # reflection
    psi = select(xp, neg & (x == xp.rint(x)), np.nan, psi)        # also catches x = -inf
    return select(xp, x == 0, select(xp, xp.signbit(x), np.inf, -np.inf), psi)


@functools.lru_cache(maxsize=None)
def _cot_derivative_poly(n):
    """Coefficients (highest power first) of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)).
    From d/dx c = -pi (1 + c^2): P_0 = c and P_(k+1) = -(1 + c^2) P_k'(c)."""
    p = [0, 1]                                      # lowest power first while building
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))] + [0, 0]
        p = [-(dp[i] + (dp[i - 2] if i >= 2 else 0)) for i in range(len(dp))]
    while len(p) > 2 and p[-1] == 0:
        p.pop()
    return [float(c) for c in p[::-1]]


def polygamma(xp, n, x):
    """n-th derivative of digamma, psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x) for n >= 1.

    Conventions: at the poles 0, -1, -2, ... the value is (-1)^(n+1) inf, the sign of the
    limit and of torch's result at 0 (torch's trigamma returns a huge finite number at the
    negative integers, an artefact of sin(pi x) != 0); psi^(n)(inf) = 0 and psi^(n)(-inf) = nan
    for every n (for n >= 2 torch gives nan at inf and +-inf at -inf, artefacts of its zeta).
    Negative non-integers use the reflection formula, so accuracy holds for large |x|.
    """
    n = int(n)
    if n < 0:
        raise ValueError('polygamma(n, x) requires n >= 0')
    if n == 0:
        return digamma(xp, x)

    def kernel(xp, x):
        neg = x < 0
        sign = (-1.0) ** (n + 1)
        psi = sign * math.factorial(n) * _hurwitz_zeta(xp, n + 1, select(xp, neg, 1.0 - x, x))
        # psi^(n)(x) = (-1)^n psi^(n)(1-x) - pi d^n/dx^n cot(pi x)
        r = _pi_frac(xp, x)
        cot = _cotpi(xp, r)
        refl = (-1.0) ** n * psi - _PI ** (n + 1) * _horner(cot, _cot_derivative_poly(n))
        res = select(xp, neg, refl, psi)
        res = select(xp, _is_nonpos_int(xp, x), sign * np.inf, res)
        return select(xp, x == -np.inf, np.nan, res)

    return _apply(xp, kernel, x)


# ---- Modified Bessel functions I0, I1 (Cephes Chebyshev expansions on [0, 8] and [8, inf)) -------
_I0E_A = [
    -4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
    1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
    -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
    9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
    -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
    1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
    -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
    1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
    -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
    1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1]
_I0E_B = [
    -7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
    3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
    1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
    -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
    7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
    -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10,
    3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
    2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
    8.04490411014108831608E-1]
_I1E_A = [
    2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
    -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
    3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
    -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9,
    9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
    -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
    4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
    -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
    2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
    -1.76416518357834055153E-1, 2.52587186443633654823E-1]
_I1E_B = [
    7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
    -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
    -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
    4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
    -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
    3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10,
    -3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
    -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
    7.78576235018280120474E-1]


def _bessel_e(xp, a, coef_small, coef_large, times_a):
    """exp(-a) I_nu(a) for a = |x| >= 0. The unused branch sees a harmless argument (0)."""
    small = a <= 8.0
    s = _chbevl(select(xp, small, 0.5 * a - 2.0, 0.0), coef_small)
    if times_a:
        s = s * a
    big = _chbevl(select(xp, small, 0.0, 32.0 / a - 2.0), coef_large) / xp.sqrt(a)
    return select(xp, small, s, big)


def _unscale(xp, a, e):
    """exp(a) * e, with exp(a/2) applied twice so I(a) stays finite as long as it fits, and
    I(inf) = inf (torch returns nan there: exp(inf) * 0)."""
    h = xp.exp(0.5 * a)
    return select(xp, a == np.inf, np.inf, (e * h) * h)


@_unary
def i0e(xp, x):
    """Exponentially scaled I0: exp(-|x|) I0(x); i0e(+-inf) = 0."""
    return _bessel_e(xp, xp.abs(x), _I0E_A, _I0E_B, False)


@_unary
def i0(xp, x):
    """Modified Bessel function I0 (even)."""
    a = xp.abs(x)
    return _unscale(xp, a, _bessel_e(xp, a, _I0E_A, _I0E_B, False))


@_unary
def i1e(xp, x):
    """Exponentially scaled I1: exp(-|x|) I1(x) (odd); i1e(+-inf) = +-0."""
    e = _bessel_e(xp, xp.abs(x), _I1E_A, _I1E_B, True)
    return select(xp, x < 0, -e, e)


@_unary
def i1(xp, x):
    """Modified Bessel function I1 (odd)."""
    a = xp.abs(x)
    v = _unscale(xp, a, _bessel_e(xp, a, _I1E_A, _I1E_B, True))
    return select(xp, x < 0, -v, v)


# ---- xlogy, xlog1py ------------------------------------------------------------------------------
def _binary(xp, x, y, logf):
    x, y = xp.asarray(x), xp.asarray(y)
    dtype = xp.result_type(x.dtype, y.dtype)
    if dtype.kind != 'f':
        dtype = np.dtype('float64')
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(all='ignore'):
        out = select(xp, xp.isnan(y64), np.nan, select(xp, x64 == 0, 0.0, x64 * logf(y64)))
    return xp.asarray(out).astype(dtype, copy=False)


def xlogy(xp, x, y):
    """x * log(y), defined as 0 where x == 0 unless y is nan (torch); broadcasts."""
    return _binary(xp, x, y, xp.log)


def xlog1py(xp, x, y):
    """x * log1p(y), defined as 0 where x == 0 unless y is nan (torch); broadcasts."""
    return _binary(xp, x, y, xp.log1p)


def _to_f64(xp, v):
    return xp.asarray(v, dtype=np.float64)


# ---- Hurwitz zeta(x, q) for real x (Cephes zeta, as torch's Math.h) -------------------------------
# Direct summation of (q + n)^-x until q + n > 9 and n >= 9 (or the terms fall below machine
# epsilon), then Euler-Maclaurin with 12 Bernoulli terms; the same operations as torch, element by
# element, with masks in place of its early returns.
_ZETA_A = [12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18]
_ZETA_EPS = 1.11022302462515654042e-16


def zeta(xp, x, q):
    """Hurwitz zeta sum_n (q + n)^-x in float64: inf at x = 1 and at non-positive integer q, nan
    for x < 1 and for q < 0 with non-integer x (torch)."""
    x, q = xp.broadcast_arrays(_to_f64(xp, x), _to_f64(xp, q))
    with np.errstate(all='ignore'):
        # torch's tests, in its order: x == 1 -> inf; x < 1 -> nan; then for q <= 0: integer
        # q -> inf, non-integer x -> nan
        nonpos = q <= 0
        edges = [(x == 1.0, np.inf), (x < 1.0, np.nan), (nonpos & (q == xp.floor(q)), np.inf),
                 (nonpos & (x != xp.floor(x)), np.nan)]
        skip = edges[0][0] | edges[1][0] | edges[2][0] | edges[3][0]
        # the direct sum runs while n < 9 or q + n <= 9: as many passes as the smallest q needs
        qs = select(xp, skip | xp.isnan(q), 9.0, q)
        n_max = 9
        if qs.size:
            n_max = max(9, int(math.floor(9.0 - float(xp.min(qs)))) + 1)
        s = xp.power(q, -x)
        a = q
        b = xp.zeros_like(s)
        returned = skip.copy()
        running = ~skip
        for i in range(1, n_max + 1):
            a = select(xp, running, a + 1.0, a)
            bn = xp.power(a, -x)
            b = select(xp, running, bn, b)
            s = select(xp, running, s + bn, s)
            stop = running & (-_ZETA_EPS * s < b) & (b < _ZETA_EPS * s)
            returned = returned | stop
            running = running & ~stop & ((i < 9) | (a <= 9.0))
        w = a
        live = ~returned
        s = select(xp, live, s + b * w / (x - 1.0) - 0.5 * b, s)
        a = xp.ones_like(s)
        k = xp.zeros_like(s)
        for coef in _ZETA_A:
            a = a * (x + k)
            b = b / w
            t = a * b / coef
            s = select(xp, live, s + t, s)
            live = live & ~(xp.abs(t / s) < _ZETA_EPS)
            k = k + 1.0
            a = a * (x + k)
            b = b / w
            k = k + 1.0
        for mask, value in reversed(edges):
            s = select(xp, mask, value, s)
    return s


__all__ = ['erf', 'erfc', 'erfcx', 'erfinv', 'ndtr', 'log_ndtr', 'ndtri', 'lgamma', 'digamma',
           'polygamma', 'i0', 'i0e', 'i1', 'i1e', 'xlogy', 'xlog1py', 'zeta']
