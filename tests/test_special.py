"""nbgrad._special against torch (CPU, the oracle), Python's math module and, where torch itself
is not accurate to float64 (trigamma, digamma near its root, ndtr's lower tail, erfinv next to
+-1), against mpmath at 40 digits.

Tolerances are relative unless stated. The kernels are a few ulp (eps = 2.2e-16) accurate; a
float64 bound of 2e-15 (~9 ulp) leaves room for both the kernel's and the oracle's rounding. An
absolute term appears only where the value crosses zero (lgamma and digamma's zeros), where
relative error is meaningless and the honest bound is a few ulp of the cancelling terms.
"""
import importlib.util
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip('torch')


_LEAVES = (
    'import importlib.util, sys, types\n'
    'def load_leaf(name, folder):\n'
    '    # the leaf modules of nbgrad (NumPy only: _special and its _select) as the\n'
    '    # submodules of a stand-in package, so nbgrad/__init__.py never runs\n'
    '    package = sys.modules.get("nbgrad_leaves")\n'
    '    if package is None:\n'
    '        package = sys.modules["nbgrad_leaves"] = types.ModuleType("nbgrad_leaves")\n'
    '        package.__path__ = [folder]\n'
    '    spec = importlib.util.spec_from_file_location(\n'
    '        "nbgrad_leaves." + name, folder + "/" + name + ".py")\n'
    '    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)\n'
    '    spec.loader.exec_module(module)\n'
    '    return module\n')
_FOLDER = str(pathlib.Path(__file__).resolve().parents[1] / 'nbgrad')


def _load_special():
    # _special is a leaf module (NumPy only, no nbgrad imports). Loading it from its file keeps
    # these numerical tests independent of the import state of the rest of the package.
    namespace = {}
    exec(_LEAVES, namespace)
    return namespace['load_leaf']('_special', _FOLDER)


sp = _load_special()

rng = np.random.default_rng(0)
nan, inf = np.nan, np.inf
F64 = 2e-15        # ~9 ulp: kernel (measured <= 7 ulp vs mpmath) + oracle rounding
F32 = 1e-6         # ~8 float32 ulp: torch's float32 kernels are a few ulp, ours round once


def grid(lo, hi, n=4000):
    """Dense uniform grid plus random points, so no region is sampled only at 'nice' values."""
    return np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n)])


def torch_ref(fn, x, dtype=torch.float64):
    return fn(torch.tensor(x, dtype=dtype)).numpy()


def check(got, ref, rtol, atol=0.0):
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, equal_nan=True)


# ---- float64 against torch on dense grids including the tails ------------------------------------
# (name, torch function, grid, rtol, atol); a comment gives the reason for any bound but F64.
F64_CASES = [
    ('erf', torch.special.erf, np.concatenate([grid(-8, 8), np.geomspace(1e-300, 1, 300)]), F64, 0),
    ('erfc', torch.special.erfc, grid(-6, 26.5), F64, 0),
    # torch's erfcx rounds x*x before exp(x*x) for x < 0: relative error ~x^2 eps (7e-14 at -26)
    ('erfcx', torch.special.erfcx, grid(-26, 1e3), 1e-13, 0),
    ('erfinv', torch.special.erfinv, grid(-0.999, 0.999), F64, 0),
    # torch's ndtr is 0.5 (1 + erf) in the lower tail, wrong below ~ -8 relatively; its absolute
    # error stays ~1e-16, so compare absolutely here (the tail is checked against mpmath below).
    ('ndtr', torch.special.ndtr, grid(-40, 10), F64, 2e-16),
    # for x > 0, torch's erfc(x/sqrt 2) inherits the rounding of x/sqrt 2: ~x^2 eps (3e-13 at 37)
    ('log_ndtr', torch.special.log_ndtr, grid(-1e3, 37), 5e-13, 0),
    ('ndtri', torch.special.ndtri, np.concatenate([grid(0, 1), np.geomspace(1e-300, 1e-2, 500)]),
     F64, 0),
    ('lgamma', torch.lgamma, np.concatenate([grid(1e-6, 50), np.geomspace(1e-300, 1e300, 600)]),
     F64, 0),
    # reflection: log|pi/sin| - lgamma(1-x) cancels near lgamma's negative zeros; bound = a few
    # ulp of the terms (~|x| log|x| eps)
    ('lgamma', torch.lgamma, grid(-50, 0), F64, 1e-13),
    # torch's digamma loses ~1e-13 relative next to the root 1.4616 (ours uses a Taylor series
    # there; see the mpmath test), and psi crosses zero once per negative unit interval.
    ('digamma', torch.special.digamma,
     np.concatenate([grid(1e-6, 100), np.geomspace(1e-300, 1e300, 600)]), F64, 1e-15),
    # torch reflects with tan(pi * modf(x)): the rounding of pi * r costs ~ulp(pi)/|tan| near
    # the poles (2e-12 relative at 7e-4 from one); ours reduces to |r| <= 1/2 first.
    ('digamma', torch.special.digamma, grid(-50, -1e-3), 1e-11, 1e-12),
    ('i0', torch.special.i0, grid(-700, 700), F64, 0),
    ('i0e', torch.special.i0e, grid(-1e4, 1e4), F64, 0),
    ('i1', torch.special.i1, grid(-700, 700), F64, 0),
    ('i1e', torch.special.i1e, grid(-1e4, 1e4), F64, 0),
]


@pytest.mark.parametrize('name,tfn,x,rtol,atol', F64_CASES,
                         ids=[f'{c[0]}-{i}' for i, c in enumerate(F64_CASES)])
def test_float64_vs_torch(name, tfn, x, rtol, atol):
    ref = torch_ref(tfn, x)
    keep = np.abs(ref) >= 1e-300      # leave out denormal results (precision lost by design)
    got = getattr(sp, name)(np, x)
    assert got.dtype == np.float64
    check(got[keep], ref[keep], rtol, atol)


@pytest.mark.parametrize('n', [1, 2, 3, 4])
def test_polygamma_vs_torch(n):
    # torch's trigamma keeps three asymptotic terms from x >= 6 (relative error up to ~2e-8)
    # and its zeta is good to ~1e-14, so torch is only a loose oracle here; mpmath is the tight
    # one below. Negative non-integers exercise the reflection formula.
    x = np.concatenate([grid(1e-3, 100), grid(-30, -1e-3) + 1e-7])
    ref = torch_ref(lambda t: torch.special.polygamma(n, t), x)
    check(sp.polygamma(np, n, x), ref, 5e-8 if n == 1 else 1e-11, 0)


# ---- float32 and float16: dtype preserved, values match torch's own float32 kernels --------------
# Grids stay where torch's float32 kernel is itself good to a few ulp: its ndtr is 0.5(1 + erf)
# (absolute accuracy only in the lower tail), and its erfcx(x < 0) and log_ndtr(x > 0) round
# x*x or x/sqrt 2 first (relative error ~x^2 float32 ulp). Ours is checked on the full ranges
# against the rounded float64 result in the next test.
F32_CASES = [
    ('erf', torch.special.erf, grid(-5, 5)), ('erfc', torch.special.erfc, grid(-5, 9)),
    ('erfcx', torch.special.erfcx, grid(-2, 100)),
    ('erfinv', torch.special.erfinv, grid(-0.99, 0.99)),
    ('ndtr', torch.special.ndtr, grid(-1, 5)), ('log_ndtr', torch.special.log_ndtr, grid(-100, 1)),
    ('ndtri', torch.special.ndtri, grid(1e-3, 1 - 1e-3)), ('lgamma', torch.lgamma, grid(-20, 100)),
    ('digamma', torch.special.digamma, grid(-20, 100)), ('i0', torch.special.i0, grid(-80, 80)),
    ('i0e', torch.special.i0e, grid(-100, 100)), ('i1', torch.special.i1, grid(-80, 80)),
    ('i1e', torch.special.i1e, grid(-100, 100)),
]
F32_FULL = {'erfc': grid(-5, 9.5), 'erfcx': grid(-9, 1e4), 'ndtr': grid(-13, 6),
            'log_ndtr': grid(-1e3, 14)}


@pytest.mark.parametrize('name,tfn,x', F32_CASES, ids=[c[0] for c in F32_CASES])
def test_float32_vs_torch(name, tfn, x):
    x = x.astype(np.float32)
    got = getattr(sp, name)(np, x)
    assert got.dtype == np.float32
    ref = torch_ref(tfn, x, torch.float32)
    # atol: torch's float32 kernels (not ours, which round a float64 result once) lose ~1e-6
    # absolute where the function crosses zero (lgamma at 1, 2 and for x < 0, digamma's roots)
    # and next to the poles, where float32 pi * x cannot resolve the distance to the pole.
    atol = {'lgamma': 1e-5, 'digamma': 1e-5}.get(name, 0.0)
    keep = np.isfinite(ref) & (np.abs(ref) > 1e-37)            # no float32 denormals
    if name in ('lgamma', 'digamma'):
        keep &= np.abs(x - np.rint(x)) > 1e-3
    check(got[keep], ref[keep], F32, atol)


@pytest.mark.parametrize('name,tfn,x', [c for c in F32_CASES if c[0] != 'erf'],
                         ids=[c[0] for c in F32_CASES if c[0] != 'erf'])
def test_float32_is_float64_rounded_once(name, tfn, x):
    # The float32 path widens (exactly) and runs the float64 kernel, whose accuracy the float64
    # tests establish, so it must equal that result rounded once, bit for bit, on full ranges.
    # (erf has its own single-precision kernel: the test below.)
    x = F32_FULL.get(name, x).astype(np.float32)
    got = getattr(sp, name)(np, x)
    wide = getattr(sp, name)(np, x.astype(np.float64))
    np.testing.assert_array_equal(got, wide.astype(np.float32))


def test_float32_erf_is_within_an_ulp_and_mostly_pytorchs_bits():
    """erf's single-precision kernel (GELU's hot path) against math.erf on two million points
    over every regime, and against PyTorch's float32 erf; special values exactly PyTorch's."""
    x = np.linspace(-6, 6, 2000001).astype(np.float32)
    exact = np.vectorize(math.erf)(x.astype(np.float64))
    got = sp.erf(np, x)
    assert got.dtype == np.float32
    ulps = np.abs(got.astype(np.float64) - exact) / np.spacing(
        np.abs(exact).astype(np.float32)).astype(np.float64)
    assert ulps.max() < 1.0
    ours, theirs = got, torch.special.erf(torch.from_numpy(x)).numpy()
    assert (ours == theirs).mean() > 0.95
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-45, 3.92, 10.0],
                       np.float32)
    got = sp.erf(np, special)
    expected = torch.special.erf(torch.from_numpy(special)).numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-7)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize('name', ['erf', 'erfc', 'erfinv', 'lgamma', 'digamma', 'i0', 'i1e',
                                  'ndtr', 'log_ndtr'])
def test_float16_computed_wide_and_rounded_once(name):
    x = np.linspace(-0.95, 3.0, 301).astype(np.float16)
    got = getattr(sp, name)(np, x)
    assert got.dtype == np.float16
    tfn = getattr(torch.special, name, None) or getattr(torch, name)
    ref = torch_ref(tfn, x.astype(np.float64)).astype(np.float16)     # exact result, rounded
    check(got.astype(np.float64), ref.astype(np.float64), 1e-3, 1e-7)   # 1e-3 ~ 1 half ulp


def test_zero_dim_and_python_scalars():
    out = sp.erf(np, np.float32(0.5))
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float32
    assert float(sp.lgamma(np, 3.0)) == pytest.approx(math.log(2.0), rel=1e-15)


# ---- math module spot checks (libm is ~1 ulp, except lgamma right at its zeros) ------------------
def test_math_module_spot_checks():
    xs = [-5.5, -2.0, -0.3, -1e-10, 0.0, 1e-300, 0.1, 0.46875, 0.5, 1.0, 3.9, 4.0, 4.1, 6.0, 10.0,
          26.0, 27.0]
    for x in xs:
        assert float(sp.erf(np, np.float64(x))) == pytest.approx(math.erf(x), rel=F64, abs=0)
        assert float(sp.erfc(np, np.float64(x))) == pytest.approx(math.erfc(x), rel=F64, abs=0)
    for x in [1e-300, 1e-8, 0.25, 0.5, 1 - 2 ** -40, 1.0, 1.5, 2 - 2 ** -40, 2.0, 2.5, 3.7, 9.99,
              10.0, 123.4, 1e10, 1e300, -0.5, -1.5, -100.25, -1e-9]:
        # abs: libm's lgamma is only absolutely accurate (~3e-16) right next to its zeros at
        # 1 and 2; relative accuracy there is checked against mpmath below.
        ref = math.lgamma(x)
        assert float(sp.lgamma(np, np.float64(x))) == pytest.approx(ref, rel=F64, abs=1e-15)


# ---- Tails and zeros against mpmath (40 digits), where torch is too coarse -----------------------
@pytest.fixture(scope='module')
def mp():
    mpmath = pytest.importorskip('mpmath')
    mpmath.mp.dps = 40
    return mpmath


def mp_ref(mp, f, x):
    """f at the exact binary value of each float (mpf(v), so no float64 rounding inside f)."""
    return np.array([float(f(mp.mpf(v))) for v in x.tolist()])


def test_mpmath_erf_erfc_tails(mp):
    x = np.concatenate([grid(-6, 26.5, 300), np.geomspace(1e-300, 1, 50)])
    check(sp.erf(np, x), mp_ref(mp, mp.erf, x), F64)
    check(sp.erfc(np, x), mp_ref(mp, mp.erfc, x), F64)   # no cancellation up to underflow
    x = grid(-26, 5e3, 300)
    check(sp.erfcx(np, x), mp_ref(mp, lambda v: mp.exp(v * v) * mp.erfc(v), x), F64)


def test_mpmath_erfinv_near_one(mp):
    x = np.concatenate([1 - np.geomspace(2 ** -53, 0.3, 300), grid(-1, 1, 300)[1:-1]])
    check(sp.erfinv(np, x), mp_ref(mp, mp.erfinv, x), F64)
    check(sp.erfinv(np, -x), -mp_ref(mp, mp.erfinv, x), F64)


def test_mpmath_normal_tails(mp):
    x = grid(-37, 9, 300)
    check(sp.ndtr(np, x), mp_ref(mp, mp.ncdf, x), F64)
    x = np.concatenate([grid(-1e4, 37, 300), grid(-3, 3, 100)])
    ref = mp_ref(mp, lambda v: mp.log(mp.ncdf(v)), x)
    keep = np.abs(ref) > 1e-300
    check(sp.log_ndtr(np, x)[keep], ref[keep], F64)
    p = np.concatenate([np.geomspace(1e-300, 0.5, 300), 1 - np.geomspace(1e-16, 0.5, 100)])

    # reference: the 40-digit root of ncdf(t) = p, started 1e-6 off ours so it must converge
    got = sp.ndtri(np, p)
    ref = np.array([float(mp.findroot(lambda t, v=mp.mpf(v): mp.ncdf(t) - v, g * (1 + 1e-6)))
                    for v, g in zip(p.tolist(), got.tolist())])
    check(got, ref, F64)


def test_mpmath_lgamma_near_one_and_two(mp):
    # log Gamma vanishes at 1 and 2: only a series in the exact x-1 / x-2 keeps relative accuracy.
    d = np.geomspace(1e-15, 0.3, 200)
    x = np.concatenate([1 - d, 1 + d, 2 - d, 2 + d, grid(0.5, 3, 200)])
    check(sp.lgamma(np, x), mp_ref(mp, lambda v: mp.log(abs(mp.gamma(v))), x), F64)


def test_mpmath_digamma_near_root(mp):
    x0 = 1.4616321449683622
    x = np.concatenate([x0 + np.geomspace(1e-15, 0.4, 100), x0 - np.geomspace(1e-15, 0.4, 100),
                        grid(1e-3, 12, 400)])
    check(sp.digamma(np, x), mp_ref(mp, mp.digamma, x), F64)


@pytest.mark.parametrize('n', [1, 2, 3, 4])
def test_mpmath_polygamma(mp, n):
    x = np.concatenate([grid(1e-3, 60, 300), np.geomspace(1e-50, 1e50, 60)])
    check(sp.polygamma(np, n, x), mp_ref(mp, lambda v: mp.polygamma(n, v), x), F64)
    # Negative non-integers by reflection: odd n has no zeros there; even n crosses zero, where
    # the bound is a few ulp of the reflection's O(1..100) terms.
    x = grid(-30, 0, 300) + 1e-7
    ref = mp_ref(mp, lambda v: mp.polygamma(n, v), x)
    atol = 0 if n % 2 else 1e-12
    check(sp.polygamma(np, n, x), ref, 5e-15, atol)


# ---- Special values: nan/inf propagation, poles and the conventions torch chose ------------------
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, -3.0, 0.5, -0.5, -2.5, inf, -inf, nan,
                    1e-300, -1e-300, 1e308, -1e308])


def same(got, ref):
    """Equal including nan positions and the sign of zeros and infinities (not of nans)."""
    np.testing.assert_array_equal(got, ref)
    num = ~np.isnan(ref)
    assert np.array_equal(np.signbit(got)[num], np.signbit(ref)[num])


def same_special(got, ref, rtol=1e-13):
    """nan/inf/0 positions (and signs) exactly; finite values only to a sanity bound, as the
    grid tests cover them tightly (torch's ndtr/digamma are less accurate than ours here)."""
    exact = ~np.isfinite(ref) | (ref == 0)
    same(got[exact], ref[exact])
    check(got, ref, rtol, 1e-300)


@pytest.mark.parametrize('name,tfn', [
    ('erf', torch.special.erf), ('erfc', torch.special.erfc), ('erfcx', torch.special.erfcx),
    ('ndtr', torch.special.ndtr), ('log_ndtr', torch.special.log_ndtr), ('lgamma', torch.lgamma),
    ('digamma', torch.special.digamma), ('i0e', torch.special.i0e), ('i1e', torch.special.i1e)])
def test_special_values_match_torch(name, tfn):
    same_special(getattr(sp, name)(np, SPECIAL), torch_ref(tfn, SPECIAL))


def test_inverse_function_domains_match_torch():
    p = np.array([0.0, 1.0, -0.0, -1e-300, 1 + 1e-16, 2.0, -1.0, inf, -inf, nan, 0.5])
    same_special(sp.ndtri(np, p), torch_ref(torch.special.ndtri, p))    # -inf, inf, nan outside
    same_special(sp.erfinv(np, p), torch_ref(torch.special.erfinv, p))  # +-inf at +-1, -0 kept


def test_pole_conventions():
    # digamma: torch returns copysign(inf, -x) at +-0 and nan at negative integers / -inf.
    same(sp.digamma(np, np.array([0.0, -0.0, -1.0, -7.0, -inf, inf])),
         np.array([-inf, inf, nan, nan, nan, inf]))
    # lgamma: +inf at every pole and at both infinities.
    same(sp.lgamma(np, np.array([0.0, -0.0, -1.0, -1e10, inf, -inf])), np.full(6, inf))
    for n in [1, 2, 3, 4]:
        sign = (-1.0) ** (n + 1)
        # At the poles: (-1)^(n+1) inf, the limit's sign, as torch gives at 0 (torch's trigamma
        # returns a finite ~1e32 at negative integers, an artefact of sin(pi x) != 0).
        got = sp.polygamma(np, n, np.array([0.0, -0.0, -1.0, -4.0]))
        same(got, np.full(4, sign * inf))
        ref0 = torch_ref(lambda t: torch.special.polygamma(n, t), [0.0])
        same(sp.polygamma(np, n, np.array([0.0])), ref0)
        # Deliberate departures from torch (artefacts of its zeta): psi^(n)(inf) = 0, (-inf) = nan.
        got = sp.polygamma(np, n, np.array([inf, -inf, nan]))
        assert got[0] == 0 and np.isnan(got[1]) and np.isnan(got[2])
    # I0/I1 grow without bound: inf at +-inf (torch computes exp(inf) * 0 = nan there).
    same(sp.i0(np, np.array([inf, -inf, nan, 0.0])), np.array([inf, inf, nan, 1.0]))
    same(sp.i1(np, np.array([inf, -inf, nan, 0.0])), np.array([inf, -inf, nan, 0.0]))
    # I0 stays finite up to where it overflows, not where exp(x) does (torch: inf above 709.78).
    assert np.isfinite(sp.i0(np, np.array([712.0])))[0]


def test_polygamma_zero_is_digamma_and_rejects_negative_order():
    x = grid(-5, 5, 100)
    same(sp.polygamma(np, 0, x), sp.digamma(np, x))
    with pytest.raises(ValueError):
        sp.polygamma(np, -1, x)


# ---- xlogy / xlog1py -----------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['xlogy', 'xlog1py'])
def test_xlogy_family(name):
    tfn = getattr(torch.special, name)
    x = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -3.0, nan, 0.0, 1.5, inf])
    y = np.array([0.0, nan, inf, -1.0, 0.0, 3.0, 0.5, 1.0, -2.0, -1.0, 2.0])
    same(getattr(sp, name)(np, x, y), tfn(torch.tensor(x), torch.tensor(y)).numpy())
    # broadcasting and dtype promotion (float32 x float64 -> float64; float32 stays float32)
    xa = grid(-3, 3, 50).astype(np.float32)[:, None]
    ya = grid(0.01, 5, 20)[None, :]
    got = getattr(sp, name)(np, xa, ya)
    ref = tfn(torch.tensor(xa), torch.tensor(ya)).numpy()
    assert got.dtype == ref.dtype == np.float64 and got.shape == ref.shape
    check(got, ref, F64)
    got32 = getattr(sp, name)(np, xa, ya.astype(np.float32))
    assert got32.dtype == np.float32
    check(got32, tfn(torch.tensor(xa), torch.tensor(ya.astype(np.float32))).numpy(), F32)


# ---- Backend genericity --------------------------------------------------------------------------
# The kernels touch only array functions CuPy also provides; the module imports with NumPy
# alone.
CUPY_SAFE = {'asarray', 'where', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'sin', 'cos', 'rint',
             'trunc', 'minimum', 'zeros_like', 'ones_like', 'signbit', 'isnan', 'result_type'}


class RestrictedXP:
    """numpy, but only the names above: a stand-in for checking the CuPy-compatible surface."""

    def __getattr__(self, name):
        if name not in CUPY_SAFE:
            raise AttributeError(f'xp.{name} is not in the checked NumPy/CuPy common subset')
        return getattr(np, name)


@pytest.mark.parametrize('name', ['erf', 'erfc', 'erfcx', 'erfinv', 'ndtr', 'log_ndtr', 'ndtri',
                                  'lgamma', 'digamma', 'i0', 'i0e', 'i1', 'i1e'])
def test_uses_only_common_array_api(name):
    x = np.concatenate([grid(-3, 3, 20), SPECIAL])
    same(getattr(sp, name)(RestrictedXP(), x), getattr(sp, name)(np, x))


def test_restricted_api_polygamma_and_xlogy():
    x = grid(-3, 3, 20)
    same(sp.polygamma(RestrictedXP(), 3, x), sp.polygamma(np, 3, x))
    same(sp.xlogy(RestrictedXP(), x, x), sp.xlogy(np, x, x))


def test_imports_with_numpy_alone():
    code = (_LEAVES + f'load_leaf("_special", {_FOLDER!r})\n'
            'bad = [m for m in ("scipy", "torch", "cupy", "nbgrad") if m in sys.modules]\n'
            'assert not bad, bad\n')
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.mark.parametrize('name', ['erf', 'gammaln', 'digamma', 'erfc'])
def test_large_arrays_go_through_in_blocks_with_the_same_values(name):
    """Arrays over two blocks run block by block (on nbgrad's threads when imported through
    nbgrad): the same values as small pieces, a shape kept, and PyTorch's values."""
    import nbgrad
    x = np.random.default_rng(7).uniform(-4, 6, (3, 70001)).astype(np.float32)
    kernel = {'gammaln': 'lgamma'}.get(name, name)
    alone = getattr(sp, kernel)(np, x)                     # sequential blocks (module alone)
    threaded = getattr(nbgrad.special, name)(nbgrad.tensor(x)).numpy()
    pieces = np.concatenate([getattr(sp, kernel)(np, x.reshape(-1)[i:i + 1000])
                             for i in range(0, x.size, 1000)]).reshape(x.shape)
    np.testing.assert_array_equal(alone, pieces)
    np.testing.assert_array_equal(threaded, pieces)
    expected = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(alone, expected, rtol=1e-5, atol=1e-5)
