"""Regularized incomplete gamma functions P(a, x) and Q(a, x) over NumPy or CuPy arrays
(torch.special.gammainc / gammaincc), in float64, on _special's lgamma and erfc.

Three methods, each where it is accurate and quick, chosen element by element where SciPy and
PyTorch choose them:
  * Numerical Recipes' series for P and Lentz's continued fraction for Q (Cephes igam/igamc);
  * for small x, Q's own series (SciPy's igamc_series), where 1 - P would cancel;
  * for large a near x, Temme's uniform expansion (DLMF 8.12), its coefficients derived here
    in exact fractions.
Like _special, a leaf: it imports nothing from nbgrad but _special and _select.
"""
import math
from fractions import Fraction

import numpy as np

from ._select import select
from ._special import _BERN, _EULER, _horner, _hurwitz_zeta, _lgamma_pos, _to_f64, erfc


# lgamma(1 + a) = -gamma a + sum_{k>=2} (-1)^k zeta(k) a^k / k for |a| <= 1/2 (SciPy's
# lgam1p_taylor; 40 terms reach 1e-16 at the edge)
with np.errstate(all='ignore'):
    _LGAMMA1P = [(-1) ** k * (1.0 + float(_hurwitz_zeta(np, k, np.array(2.0)))) / k
                 for k in range(2, 42)][::-1] + [-_EULER]


def _lgamma1p(xp, a):
    """lgamma(1 + a) for a > 0, without rounding 1 + a where a is small (SciPy's lgam1p)."""
    small = select(xp, a <= 0.5, a, 0.0)
    return select(xp, a <= 0.5, small * _horner(small, _LGAMMA1P), _lgamma_pos(xp, a + 1.0))


# ---- Regularized incomplete gamma functions P(a, x), Q(a, x) ------------------------------------
# Numerical Recipes' gser/gcf (Cephes igam/igamc): the series for P where x < a + 1, the modified
# Lentz continued fraction for Q elsewhere, each scaled by x^a e^-x / Gamma(a). The iterations
# run on all elements at once, frozen where converged; convergence is checked (one device sync)
# every _IGAM_CHUNK iterations. Both need O(sqrt(a)) iterations near x ~ a.
_IGAM_EPS = 1.1102230246251565e-16
_IGAM_TINY = 1e-300
_IGAM_CHUNK = 32
_IGAM_MAX_ITER = 1 << 17


def _igam_edges(xp, a, x, upper):
    """torch's boundary values (calc_igamma/calc_igammac, SciPy's): (mask, value) pairs in the
    order torch tests them; the first that holds wins."""
    one, zero = (0.0, 1.0) if upper else (1.0, 0.0)
    return [((x < 0) | (a < 0), np.nan),
            (a == 0, select(xp, x > 0, one, np.nan)),
            (x == 0, zero),
            (xp.isinf(a), select(xp, xp.isinf(x), np.nan, zero)),
            (xp.isinf(x), one)]


def _igam_pq(xp, a, x):
    """(P, Q) for finite a > 0, x > 0 (other elements: anything)."""
    use_series = x < a + 1.0
    # Elements of the other branch get harmless stand-ins, so that each loop converges fast.
    sa = select(xp, use_series, a, 1.0)
    sx = select(xp, use_series, x, 0.5)
    ca = select(xp, use_series, 1.0, a)
    cx = select(xp, use_series, 2.0, x)
    ok = xp.isfinite(a) & xp.isfinite(x) & (a > 0) & (x > 0)
    temme = ok & (a > _TEMME_MIN_A) & ((xp.abs(x - a) < _TEMME_WIDTH * xp.sqrt(a)) |
                                       (a >= _TEMME_EVERYWHERE))
    iterate = ok & ~temme      # (Temme's elements take stand-ins in the loops too)
    sa, sx = select(xp, iterate, sa, 1.0), select(xp, iterate, sx, 0.5)
    ca, cx = select(xp, iterate, ca, 1.0), select(xp, iterate, cx, 2.0)
    # series: sum_n x^n / (a (a+1) ... (a+n))
    ap = sa
    term = 1.0 / sa
    total = term
    s_done = xp.zeros(a.shape, dtype=bool)
    # continued fraction (modified Lentz)
    b = cx + 1.0 - ca
    c = xp.full(a.shape, 1.0 / _IGAM_TINY)
    d = 1.0 / b
    h = d
    c_done = xp.zeros(a.shape, dtype=bool)
    i = 0
    while i < _IGAM_MAX_ITER:
        for _ in range(_IGAM_CHUNK):
            i += 1
            ap = ap + 1.0
            term = select(xp, s_done, term, term * sx / ap)
            total = select(xp, s_done, total, total + term)
            s_done = s_done | (xp.abs(term) < xp.abs(total) * _IGAM_EPS)
            an = -i * (i - ca)
            b = b + 2.0
            dn = an * d + b
            dn = select(xp, xp.abs(dn) < _IGAM_TINY, _IGAM_TINY, dn)
            cn = b + an / c
            cn = select(xp, xp.abs(cn) < _IGAM_TINY, _IGAM_TINY, cn)
            dn = 1.0 / dn
            delta = dn * cn
            d = select(xp, c_done, d, dn)
            c = select(xp, c_done, c, cn)
            h = select(xp, c_done, h, h * delta)
            c_done = c_done | (xp.abs(delta - 1.0) < _IGAM_EPS)
        if bool(xp.all(s_done & c_done)):
            break
    log_fac = a * xp.log(x) - x - _lgamma_pos(xp, a)
    fac = xp.exp(log_fac)
    p_series = total * fac
    q_frac = h * fac
    p = select(xp, use_series, p_series, 1.0 - q_frac)
    q = select(xp, use_series, 1.0 - p_series, q_frac)
    # small x, and a not large next to it: Q by its own series, where 1 - P would cancel (to
    # a negative Q for tiny a); SciPy's and PyTorch's igamc choose it on the same conditions
    own = ok & (x <= 1.1) & select(xp, x <= 0.5, -0.4 / xp.log(x) >= a, x * 1.1 >= a)
    if bool(xp.any(own)):
        q = select(xp, own, _igamc_series(xp, select(xp, own, a, 0.5), select(xp, own, x, 0.5)),
                   q)
    if bool(xp.any(temme)):
        tp, tq = _temme_pq(xp, select(xp, temme, a, 1000.0), select(xp, temme, x, 1000.0))
        p, q = select(xp, temme, tp, p), select(xp, temme, tq, q)
    return p, q


# ---- Temme's uniform expansion of P(a, x), Q(a, x) for large a near x (DLMF 8.12) ----------------
# Q = erfc(eta sqrt(a/2)) / 2 + R, P = erfc(-eta sqrt(a/2)) / 2 - R, with lambda = x / a,
# eta = sign(lambda - 1) sqrt(2 (lambda - 1 - log lambda)) and
# R = exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta) a^-k. PyTorch and SciPy take it for
# a > 200 where |x - a| / a < 4.5 / sqrt(a): there the series and continued fraction need
# O(sqrt(a)) steps and lose accuracy with them (gammainc(1e10, 1e10) came out 0.405 after two
# seconds, for 0.5000013). _TEMME[k][n] is the eta^n coefficient of c_k: the output of
# _temme_table(6, 26), which derives it exactly (tests/test_special_namespace.py checks it).
_TEMME_MIN_A, _TEMME_WIDTH = 200.0, 4.5
# From a = 1e6 on, nbgrad takes it at every x: the loops would need O(sqrt(a)) steps out to
# where P and Q reach 0 and 1, and beyond |eta| ~ 0.04 they are 0 and 1 in double precision
# (exp(-a eta^2 / 2) underflows), so the expansion's truncation in eta never shows
_TEMME_EVERYWHERE = 1e6


def _temme_table(terms, orders):
    """The coefficients of c_0..c_{terms-1} as power series in eta, from exact fractions:
    mu = lambda - 1 from mu - log(1 + mu) = eta^2 / 2; c_0 = 1/mu - 1/eta;
    c_k = c_{k-1}'(eta) / eta + (-1)^k gamma_k / mu (DLMF 8.12.8, 8.12.10), gamma_k the
    Stirling coefficients of Gamma*(a). Takes a second or two: run offline, kept as _TEMME."""
    size = orders + 2 * terms + 2

    def times(u, v):
        out = [Fraction(0)] * size
        for i, ui in enumerate(u):
            if ui:
                for j, vj in enumerate(v[:size - i]):
                    out[i + j] += ui * vj
        return out
    s = [Fraction(1)] + [Fraction(0)] * (size - 1)       # mu / eta, one order at a time
    for n in range(1, size):
        total, power, j = Fraction(0), times(s, s), 2
        while j - 2 <= n:
            total += Fraction((-1) ** j, j) * power[n - (j - 2)]
            power, j = times(power, s), j + 1
        s[n] = -total
    inv = [Fraction(1)] + [Fraction(0)] * (size - 1)     # eta / mu
    for n in range(1, size):
        inv[n] = -sum(s[i] * inv[n - i] for i in range(1, n + 1))
    exponent = [Fraction(0)] * (terms + 1)               # log Gamma*(a) in powers of 1/a
    for j, b in enumerate(_BERN, start=1):
        if 2 * j - 1 <= terms:
            exponent[2 * j - 1] = b / (2 * j * (2 * j - 1))
    gammas = [Fraction(1)] + [Fraction(0)] * terms        # its exponential
    for n in range(1, terms + 1):
        gammas[n] = sum(i * exponent[i] * gammas[n - i] for i in range(1, n + 1)) / n
    table = [inv[1:]]
    for k in range(1, terms):
        prev = table[-1]
        if prev[1] + (-1) ** k * gammas[k] != 0:         # c_k's 1/eta terms must cancel
            raise ArithmeticError('Temme coefficients: c_%d is not analytic' % k)
        table.append([(m + 2) * prev[m + 2] + (-1) ** k * gammas[k] * inv[m + 1]
                      for m in range(len(prev) - 2)])
    return [[float(c) for c in row[:orders]] for row in table]


_TEMME = [
    [-0.3333333333333333, 0.08333333333333333, -0.014814814814814815, 0.0011574074074074073,
     0.0003527336860670194, -0.0001787551440329218, 3.919263178522438e-05,
     -2.185448510679992e-06, -1.85406221071516e-06, 8.296711340953087e-07,
     -1.7665952736826078e-07, 6.707853543401498e-09, 1.0261809784240309e-08,
     -4.382036018453353e-09, 9.14769958223679e-10, -2.5514193994946248e-11,
     -5.830772132550426e-11, 2.4361948020667415e-11, -5.0276692801141755e-12,
     1.1004392031956135e-13, 3.371763262400985e-13, -1.392388722418162e-13,
     2.8534893807047445e-14, -5.139111834242572e-16, -1.9752288294349442e-15,
     8.099521156704561e-16],
    [-0.001851851851851852, -0.003472222222222222, 0.0026455026455026454, -0.0009902263374485596,
     0.00020576131687242798, -4.018775720164609e-07, -1.8098550334489977e-05,
     7.64916091608111e-06, -1.6120900894563446e-06, 4.647127802807434e-09, 1.378633446915721e-07,
     -5.752545603517705e-08, 1.1951628599778148e-08, -1.7543241719747647e-11,
     -1.0091543710600413e-09, 4.162792991842583e-10, -8.56390702649298e-11,
     6.067215101604758e-14, 7.1624989648114856e-12, -2.933186643771437e-12,
     5.996696365683689e-13, -2.1671786527323313e-16, -4.978339972369262e-14,
     2.0291628823713425e-14, -4.13125571381061e-15, 8.286516239883097e-19],
    [0.004133597883597883, -0.0026813271604938273, 0.0007716049382716049, 2.0093878600823047e-06,
     -0.0001073665322636516, 5.2923448829120125e-05, -1.2760635188618728e-05,
     3.423578734096138e-08, 1.3721957309062934e-06, -6.298992138380055e-07,
     1.4280614206064242e-07, -2.0477098421990866e-10, -1.409252991086752e-08,
     6.228974084922022e-09, -1.3670488396617114e-09, 9.428356159014678e-13,
     1.2872252400089318e-10, -5.5645956134363323e-11, 1.197593554636698e-11,
     -4.1689782251838634e-15, -1.0940640427884595e-12, 4.662239946390136e-13,
     -9.905105763906907e-14, 1.8931876768373515e-17, 8.859221872591127e-15,
     -3.737820398046405e-15],
    [0.0006494341563786008, 0.00022947209362139917, -0.0004691894943952557,
     0.00026772063206283885, -7.561801671883977e-05, -2.396505113867297e-07,
     1.1082654115347302e-05, -5.6749528269915965e-06, 1.4230900732435883e-06,
     -2.7861080291528143e-11, -1.6958404091930278e-07, 8.099464905388083e-08,
     -1.9111168485973655e-08, 2.3928620439808118e-12, 2.0620131815488797e-09,
     -9.460496661855133e-10, 2.1541049775774907e-10, -1.388823336813903e-14,
     -2.1894761681963938e-11, 9.790998951171684e-12, -2.178219188018096e-12,
     6.208819573407901e-17, 2.126978363279737e-13, -9.344688791517433e-14, 2.045367122678285e-14,
     -2.58260790403495e-19],
    [-0.0008618882909167117, 0.0007840392217200666, -0.0002990724803031902,
     -1.4638452578843418e-06, 6.641498215465122e-05, -3.968365047179435e-05,
     1.1375726970678419e-05, 2.507497226237533e-10, -1.6954149536558305e-06,
     8.907507532205309e-07, -2.292934834000805e-07, 2.956794137544049e-11,
     2.8865829742708783e-08, -1.4189739437803219e-08, 3.4463580499464896e-09,
     -2.3024517174528067e-13, -3.9409233028046403e-10, 1.86023389685045e-10,
     -4.356323005056618e-11, 1.278600101629623e-15, 4.67927502665792e-12, -2.149246470613483e-12,
     4.908815614809652e-13, -6.33859148489156e-18, -5.045332069080094e-14,
     2.2722958222901286e-14],
    [-0.00033679855336635813, -6.972813758365857e-05, 0.0002772753244959392,
     -0.00019932570516188847, 6.797780477937208e-05, 1.419062920643967e-07,
     -1.3594048189768693e-05, 8.018470256334202e-06, -2.291481176508095e-06,
     -3.252473551298454e-10, 3.4652846491085265e-07, -1.8447187191171344e-07,
     4.8240967037894184e-08, -1.7989466721743514e-14, -6.306194500013523e-09,
     3.162417628774568e-09, -7.840924253697429e-10, 5.192679165254041e-15, 9.358944242306784e-11,
     -4.513426216163278e-11, 1.0799129993116828e-11, -3.661886712685252e-17,
     -1.210902069055155e-12, 5.680743584990564e-13, -1.3249659916340829e-13,
     1.8987240764284076e-19],
]


# mu - log(1 + mu) = sum_{n>=2} (-1)^n mu^n / n for |mu| < 1/2 (50 terms: 1e-17 at the edge)
_MU_LOG1P = [(-1) ** n / n for n in range(2, 52)][::-1]


def _temme_pq(xp, a, x):
    """(P, Q) by Temme's expansion, for a > 200 with |x - a| / a < 4.5 / sqrt(a), and for
    a >= 1e6 at any x > 0."""
    mu = (x - a) / a
    small = xp.abs(mu) < 0.5
    m = select(xp, small, mu, 0.0)
    half_eta2 = select(xp, small, m * m * _horner(m, _MU_LOG1P), mu - xp.log1p(mu))
    eta = select(xp, mu < 0, -1.0, 1.0) * xp.sqrt(2.0 * half_eta2)
    series = xp.zeros_like(a)
    inverse_a = 1.0 / a
    near = xp.clip(eta, -1.0, 1.0)    # (farther out R underflows: keep the series finite)
    for row in reversed(_TEMME):                          # sum_k c_k(eta) a^-k, Horner in 1/a
        series = series * inverse_a + _horner(near, row[::-1])
    r = xp.exp(-a * half_eta2) / xp.sqrt(2.0 * math.pi * a) * series
    scaled = eta * xp.sqrt(a / 2.0)
    return 0.5 * erfc(xp, -scaled) - r, 0.5 * erfc(xp, scaled) + r


_IGAMC_TERMS = 30          # x^n / n! / (a + n) at x = 1.1, n = 30: below 1e-30


def _igamc_series(xp, a, x):
    """Q(a, x) for x <= 1.1 (SciPy's igamc_series): 1 - x^a / Gamma(a + 1) from lgam1p, less
    x^a / Gamma(a) times sum_n (-x)^n / (n! (a + n))."""
    fac = xp.ones_like(x)
    total = xp.zeros_like(x)
    for n in range(1, _IGAMC_TERMS + 1):
        fac = fac * (-x / n)
        total = total + fac / (a + n)
    log_x = xp.log(x)
    return -xp.expm1(a * log_x - _lgamma1p(xp, a)) - \
        xp.exp(a * log_x - _lgamma_pos(xp, a)) * total


def _igam(xp, a, x, upper):
    a, x = xp.broadcast_arrays(_to_f64(xp, a), _to_f64(xp, x))
    with np.errstate(all='ignore'):
        p, q = _igam_pq(xp, a, x)
        res = q if upper else p
        for mask, value in reversed(_igam_edges(xp, a, x, upper)):
            res = select(xp, mask, value, res)
    return res


def igamma(xp, a, x):
    """Regularized lower incomplete gamma P(a, x) in float64 (torch.special.gammainc); torch's
    boundary values: nan for a < 0 or x < 0, P(0, x>0) = 1, P(a, 0) = 0, P(inf, x) = 0,
    P(a, inf) = 1, P(0, 0) = P(inf, inf) = nan."""
    return _igam(xp, a, x, False)


def igammac(xp, a, x):
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x) in float64 (gammaincc)."""
    return _igam(xp, a, x, True)


__all__ = ['igamma', 'igammac']
