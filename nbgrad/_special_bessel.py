"""Vectorised Bessel-family kernels of torch.special (no SciPy): airy_ai, bessel_j0/j1/y0/y1,
modified_bessel_k0/k1, scaled_modified_bessel_k0/k1 and spherical_bessel_j0.

Each is PyTorch's kernel (aten/src/ATen/native/Math.h, itself derived from the Cephes Math
Library, Moshier, 3-clause BSD): the same rational and Chebyshev approximations, the same
interval boundaries, the same special values (y0(0) = -inf, k0(x < 0) = nan, airy_ai(+-inf) =
nan, ...) and, operation for operation, the same arithmetic. Unlike nbgrad/_special.py, the work
is done in the input's own dtype, as PyTorch's kernel templates are: float32 inputs evaluate the
float32-rounded coefficients in float32 (a float64 evaluation would be closer to the true
function, and further from PyTorch's numbers), and airy_ai's power series stops at float32's
epsilon. The one exception is PyTorch's too: modified_bessel_k0 takes log(0.5 * x) in double.
sin, cos, exp and log are rounded as C's libm rounds them (libm below). What is not reproduced
is PyTorch's compiler fusing some multiplies and adds (FMA): float64 values agree with
PyTorch's to a few ulp (1e-13 relative next to a zero of J or Y), float32 ones within
PyTorch's own float32 error.

Every function takes the array module first, f(xp, x), and uses only element-wise functions
that NumPy and CuPy share (so the CUDA path is this same code; its loops ask the device once
a pass whether to go on); branches are evaluated everywhere and picked with select (see
_special.py for the plumbing: _apply runs large NumPy arrays block by block).
"""
import functools
import math

import numpy as np

from ._select import select
from ._special import _I0E_A, _I1E_A, _apply, _chbevl, _horner

_PI_4 = 0.785398163397448309615660845819875721         # pi / 4
_3PI_4 = 2.356194490192344928846982537459627163        # 3 pi / 4
_SQRT_2_PI = 0.797884560802865355879892119868763737    # sqrt(2 / pi)
_2_PI = 0.636619772367581343075535053490057448         # 2 / pi
_1_SQRT_PI = 5.64189583547756286948e-01                # 1 / sqrt(pi)


def libm(xp, name, v):
    """xp.<name>(v) (sin, cos, arccos, exp, log) as C's libm gives it for v's dtype: NumPy's
    float32 versions are vectorised approximations a unit in the last place or so off, where
    glibc's sinf, cosf, acosf, expf and logf, which PyTorch's kernels call, are (nearly)
    correctly rounded; so float32 is evaluated in float64 and rounded once. One ulp matters
    here: a recurrence or cos(n acos x) at n = 500 multiplies it."""
    fn = getattr(xp, name)
    if v.dtype == np.float32:
        return fn(v.astype(np.float64)).astype(np.float32)
    return fn(v)


def _in_own_dtype(kernel):
    """f(xp, x): the kernel on x in x's floating dtype (float16 in float32), cast back."""
    @functools.wraps(kernel)
    def wrapper(xp, x):
        return _apply(xp, kernel, x, wide=False)
    return wrapper


# ---- airy_ai -------------------------------------------------------------------------------------
_AIRY_AN = [3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
            1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
            1.40264691163389668864e+01, 9.99999999999999995305e-01]
_AIRY_AD = [5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
            1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
            1.40959135607834029598e+01, 1.00000000000000000470e+00]
_AIRY_AFN = [-1.31696323418331795333e-01, -6.26456544431912369773e-01,
             -6.93158036036933542233e-01, -2.79779981545119124951e-01,
             -4.91900132609500318020e-02, -4.06265923594885404393e-03,
             -1.59276496239262096340e-04, -2.77649108155232920844e-06,
             -1.67787698489114633780e-08]
_AIRY_AFD = [1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
             9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
             4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07]
_AIRY_AGN = [1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
             9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
             5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
             8.11789239554389293311e-08, 3.41551784765923618484e-10]
_AIRY_AGD = [9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
             5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
             4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
             4.91834570062930015649e-09]
_AIRY_C1, _AIRY_C2 = 0.355028053887817239260, 0.258819403792806798405
# the power series converges in 12 passes in float64 on |x| < 2.09; a bound, not a tuning knob
_AIRY_MAX_PASSES = 64


def _airy_oscillating(xp, x):
    """x < -2.09: the modulus-phase asymptotic form."""
    root = xp.sqrt(-x)
    zeta = -2.0 * x * root / 3.0
    z = 1.0 / zeta
    zz = z * z
    t = zeta + 0.25 * math.pi
    return _1_SQRT_PI / xp.sqrt(root) * (
        libm(xp, 'sin', t) * (1.0 + zz * _horner(zz, _AIRY_AFN) / _horner(zz, _AIRY_AFD))
        - libm(xp, 'cos', t) * (z * _horner(zz, _AIRY_AGN) / _horner(zz, _AIRY_AGD)))


def _airy_decaying(xp, x):
    """x >= 2.09: the exponentially decaying asymptotic form (0 once exp(zeta) overflows)."""
    zeta = 2.0 * x * xp.sqrt(x) / 3.0
    inv = 1.0 / zeta
    ratio = _horner(inv, _AIRY_AN) / _horner(inv, _AIRY_AD)
    return _1_SQRT_PI * ratio / (2.0 * xp.sqrt(xp.sqrt(x)) * libm(xp, 'exp', zeta))


def _airy_series(xp, x):
    """|x| < 2.09 (and nan): the Maclaurin series f(x) and g(x) of Ai = c1 f - c2 g, summed
    until a term of f falls to the dtype's epsilon relative to f, element by element (PyTorch
    stops each element's loop there). The elements still summing all share the pass count,
    so the divisors k are the same numbers for all of them."""
    eps = np.finfo(x.dtype).eps
    f = xp.ones_like(x)
    g = x.copy()
    m = xp.ones_like(x)
    n = x.copy()
    z = x * x * x
    running = xp.ones(x.shape, dtype=bool)
    for i in range(1, _AIRY_MAX_PASSES + 1):
        k = 3.0 * i
        m_next = m * z / (k - 1.0) / k
        n_next = n * z / k / (k + 1.0)
        m = select(xp, running, m_next, m)
        n = select(xp, running, n_next, n)
        f = select(xp, running, f + m, f)
        g = select(xp, running, g + n, g)
        running = running & (xp.abs(m / f) > eps)
        if not bool(running.any()):
            break
    return _AIRY_C1 * f - _AIRY_C2 * g


@_in_own_dtype
def airy_ai(xp, x):
    """Airy function Ai(x); nan at +-inf (PyTorch), 0 above 103.892."""
    oscillating = x < -2.09
    decaying = x >= 2.09
    middle = ~(oscillating | decaying)      # (nan included)
    out = _airy_series(xp, select(xp, middle, x, x.dtype.type(0.0)))
    out = select(xp, oscillating, _airy_oscillating(xp, select(xp, oscillating, x,
                                                              x.dtype.type(-3.0))), out)
    out = select(xp, decaying, _airy_decaying(xp, select(xp, decaying, x, x.dtype.type(3.0))),
                 out)
    out = select(xp, x > 103.892, x.dtype.type(0.0), out)
    return select(xp, xp.isinf(x), x.dtype.type(np.nan), out)


# ---- bessel_j0, bessel_j1, bessel_y0, bessel_y1 --------------------------------------------------
# x > 5: Hankel's asymptotic form (P/Q rational functions of 25/x^2) for all four; x <= 5: j0
# and j1 as rational functions of x^2 times factors with the first two zeros, y0 and y1 from
# j0 and j1 plus a rational function.
_J0_PP = [7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01]
_J0_PQ = [9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00]
_J0_QP = [-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
          -5.14105326766599330220e+01, -6.05014350600728481186e+00]
_J0_QQ = [6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
          7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
          2.42005740240291393179e+02]
_J0_RP = [-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15]
_J0_RQ = [4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
          1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
          3.18121955943204943306e+16, 1.71086294081043136091e+18]
_J0_ZEROS_SQ = (5.78318596294678452118e+00, 3.04712623436620863991e+01)
_Y0_YP = [1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16]
_Y0_YQ = [1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
          8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
          2.50596256172653059228e+17]
_J1_PP = [7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00]
_J1_PQ = [5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01]
_J1_QP = [5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01]
_J1_QQ = [7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
          9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
          3.36093607810698293419e+02]
_J1_RP = [-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15]
_J1_RQ = [6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
          2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
          8.95222336184627338078e+16, 5.32278620332680085395e+18]
_J1_ZEROS_SQ = (1.46819706421238932572e+01, 4.92184563216946036703e+01)
_Y1_YP = [1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17]
_Y1_YQ = [5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
          1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
          6.87141087355300489866e+16, 3.97270608116560655612e+18]


def _hankel(xp, x, order, second_kind):
    """x > 5: sqrt(2/(pi x)) (P cos(x - phase) - 5/x Q sin(x - phase)) for J, and P sin +
    5/x Q cos for Y; phase = pi/4 (order 0) or 3 pi/4 (order 1)."""
    if order == 0:
        w = 25.0 / (x * x)
        pp, pq, qp, qq, phase = _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, _PI_4
    else:
        w = 5.0 / x * (5.0 / x)
        pp, pq, qp, qq, phase = _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, _3PI_4
    p = _horner(w, pp) / _horner(w, pq)
    q = 5.0 / x * (_horner(w, qp) / _horner(w, qq))
    shifted = x - phase
    if second_kind:
        wave = p * libm(xp, 'sin', shifted) + q * libm(xp, 'cos', shifted)
    else:
        wave = p * libm(xp, 'cos', shifted) - q * libm(xp, 'sin', shifted)
    return wave * _SQRT_2_PI / xp.sqrt(x)


def _j0_small(xp, x):
    """0 <= x <= 5 (1 - x^2/4 below 1e-5)."""
    z = x * x
    rational = (z - _J0_ZEROS_SQ[0]) * (z - _J0_ZEROS_SQ[1]) * _horner(z, _J0_RP) / \
        _horner(z, _J0_RQ)
    return select(xp, x < 0.00001, 1.0 - z / 4.0, rational)


def _j1_small(xp, x):
    """|x| <= 5 (odd)."""
    z = x * x
    return _horner(z, _J1_RP) / _horner(z, _J1_RQ) * x * (z - _J1_ZEROS_SQ[0]) * \
        (z - _J1_ZEROS_SQ[1])


def _split_at_5(xp, x, small, large):
    """small(x) where x <= 5, large(x) elsewhere (nan included); each sees only its own
    arguments (a harmless 1 or 6 elsewhere)."""
    near = x <= 5.0
    one = x.dtype.type(1.0)
    return select(xp, near, small(xp, select(xp, near, x, one)),
                  large(xp, select(xp, near, x.dtype.type(6.0), x)))


@_in_own_dtype
def bessel_j0(xp, x):
    """Bessel function of the first kind of order 0 (even); nan at +-inf (PyTorch)."""
    return _split_at_5(xp, xp.abs(x), _j0_small, lambda xp, a: _hankel(xp, a, 0, False))


@_in_own_dtype
def bessel_j1(xp, x):
    """Bessel function of the first kind of order 1 (odd); nan at +-inf (PyTorch)."""
    negative = x < 0
    a = select(xp, negative, -x, x)      # (keeps -0.0, whose j1 PyTorch gives as -0.0)
    out = _split_at_5(xp, a, _j1_small, lambda xp, a: _hankel(xp, a, 1, False))
    return select(xp, negative, -out, out)


def _y0_small(xp, x):
    z = x * x
    return _horner(z, _Y0_YP) / _horner(z, _Y0_YQ) + \
        _2_PI * libm(xp, 'log', x) * _j0_small(xp, x)


def _y1_small(xp, x):
    z = x * x
    return x * (_horner(z, _Y1_YP) / _horner(z, _Y1_YQ)) + \
        _2_PI * (_j1_small(xp, x) * libm(xp, 'log', x) - 1.0 / x)


def _second_kind(xp, x, small, order):
    """Y0/Y1: -inf at 0, nan for x < 0 (and at +-inf, from the asymptotic form)."""
    out = _split_at_5(xp, x, small, lambda xp, a: _hankel(xp, a, order, True))
    out = select(xp, x < 0, x.dtype.type(np.nan), out)
    return select(xp, x == 0, x.dtype.type(-np.inf), out)


@_in_own_dtype
def bessel_y0(xp, x):
    """Bessel function of the second kind of order 0."""
    return _second_kind(xp, x, _y0_small, 0)


@_in_own_dtype
def bessel_y1(xp, x):
    """Bessel function of the second kind of order 1."""
    return _second_kind(xp, x, _y1_small, 1)


# ---- modified_bessel_k0/k1 and their scaled forms, exp(x) K(x) -----------------------------------
# Chebyshev expansions in x^2 - 2 on (0, 2] (with I0/I1 and log(x/2)) and in 8/x - 2 above.
_K0_A = [1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01]
_K0_B = [5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00]
_K1_A = [-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00]
_K1_B = [-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00]


def _i0(xp, x):
    """PyTorch's modified_bessel_i0_forward for 0 < x <= 2 (the only place K needs it)."""
    return libm(xp, 'exp', x) * _chbevl(x / 2.0 - 2.0, _I0E_A)


def _i1(xp, x):
    """PyTorch's modified_bessel_i1_forward for 0 < x <= 2."""
    return _chbevl(x / 2.0 - 2.0, _I1E_A) * x * libm(xp, 'exp', x)


def _k0_small(xp, x, scaled):
    series = _chbevl(x * x - 2.0, _K0_A)
    if scaled:
        return (series - libm(xp, 'log', 0.5 * x) * _i0(xp, x)) * libm(xp, 'exp', x)
    # PyTorch's kernel writes log(0.5 * x) with a double 0.5: that product, the log and the
    # rest of the expression are double even for float32 (rounded once, at the end)
    wide = x.astype(np.float64)
    i0 = _i0(xp, x).astype(np.float64)
    return (series.astype(np.float64) - libm(xp, 'log', 0.5 * wide) * i0).astype(x.dtype)


def _k1_small(xp, x, scaled):
    out = libm(xp, 'log', 0.5 * x) * _i1(xp, x) + _chbevl(x * x - 2.0, _K1_A) / x
    return out * libm(xp, 'exp', x) if scaled else out


def _k_large(xp, x, coeffs, scaled):
    out = _chbevl(8.0 / x - 2.0, coeffs)
    return out / xp.sqrt(x) if scaled else libm(xp, 'exp', -x) * out / xp.sqrt(x)


def _modified_second_kind(xp, x, small, coeffs, scaled):
    """K0/K1 (or exp(x) K): inf at 0, nan for x < 0; (0, 2] and (2, inf] (nan) apart."""
    near = x <= 2.0
    out = select(xp, near, small(xp, select(xp, near, x, x.dtype.type(1.0)), scaled),
                 _k_large(xp, select(xp, near, x.dtype.type(3.0), x), coeffs, scaled))
    out = select(xp, x < 0, x.dtype.type(np.nan), out)
    return select(xp, x == 0, x.dtype.type(np.inf), out)


@_in_own_dtype
def modified_bessel_k0(xp, x):
    """Modified Bessel function of the second kind of order 0."""
    return _modified_second_kind(xp, x, _k0_small, _K0_B, False)


@_in_own_dtype
def modified_bessel_k1(xp, x):
    """Modified Bessel function of the second kind of order 1."""
    return _modified_second_kind(xp, x, _k1_small, _K1_B, False)


@_in_own_dtype
def scaled_modified_bessel_k0(xp, x):
    """exp(x) K0(x)."""
    return _modified_second_kind(xp, x, _k0_small, _K0_B, True)


@_in_own_dtype
def scaled_modified_bessel_k1(xp, x):
    """exp(x) K1(x)."""
    return _modified_second_kind(xp, x, _k1_small, _K1_B, True)


# ---- spherical_bessel_j0 -------------------------------------------------------------------------
_SPHERICAL_J0_DIVISORS = (-6.0, 120.0, -5040.0, 362880.0, -39916800.0, 6227020800.0)


@_in_own_dtype
def spherical_bessel_j0(xp, x):
    """sin(x) / x: its Taylor polynomial below |x| = 1/2, 0 at +-inf (PyTorch)."""
    t = x.dtype.type
    z = x * x
    # PyTorch's coefficients are T(+-1) / T(d), divided in the dtype itself
    coeffs = [t(1.0 if d > 0 else -1.0) / t(abs(d)) for d in _SPHERICAL_J0_DIVISORS]
    poly = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        poly = c + z * poly
    series = 1.0 + z * poly
    out = select(xp, xp.abs(x) < 0.5, series, libm(xp, 'sin', x) / x)
    return select(xp, xp.isinf(x), t(0.0), out)


__all__ = ['airy_ai', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_k0',
           'modified_bessel_k1', 'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1',
           'spherical_bessel_j0']
