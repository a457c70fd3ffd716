"""torch.special's Bessel-family functions (airy_ai, bessel_j0/j1/y0/y1, modified_bessel_k0/k1,
scaled_modified_bessel_k0/k1, spherical_bessel_j0) and orthogonal polynomials (chebyshev_polynomial_
t/u/v/w, their shifted forms, hermite_polynomial_h/he, laguerre_polynomial_l,
legendre_polynomial_p) against PyTorch on the CPU, the oracle: values over wide grids (negative,
zero, subnormal, huge, +-inf, nan; float32 and float64; integer and bool inputs; every degree
from -3 to 1000 and non-integer, nan and infinite degrees; broadcasting, Python numbers on
either side), dtypes, out=, the refusals, and the absence of derivatives.

Tolerances. float64: 1e-12 relative plus 1e-15 absolute for the Bessel functions (the absolute
term is a few ulp of the order-one terms that cancel at a zero of J or Y); for the polynomials
32 (n + 2) eps relative to max(|value|, 1) (a recurrence of n steps, or cos(n acos x), carries
an error that grows with n; PyTorch's own float64 kernel rounds differently, its compiler
fusing multiplies and adds). float32: no further from PyTorch's float32 value than four times
PyTorch's own float32 error (its float32 value against its float64 one), plus a few float32
ulp (times n + 2 for the polynomials; for J, Y and Ai, of the order-one terms that cancel at a
zero). NaN must be NaN and an infinity the same infinity wherever PyTorch's value is defined.
"""
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

from torch_compare import assert_same, assert_same_error, both  # noqa: E402

BESSEL = ['airy_ai', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_k0',
          'modified_bessel_k1', 'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1',
          'spherical_bessel_j0']
POLYNOMIALS = ['chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v',
               'chebyshev_polynomial_w', 'shifted_chebyshev_polynomial_t',
               'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
               'shifted_chebyshev_polynomial_w', 'hermite_polynomial_h', 'hermite_polynomial_he',
               'laguerre_polynomial_l', 'legendre_polynomial_p']
# the functions that oscillate about zero with order-one terms (see the module doc)
_CANCELLING = {'airy_ai', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1',
               'spherical_bessel_j0'}
_EPS32 = float(np.finfo(np.float32).eps)
_EPS64 = float(np.finfo(np.float64).eps)

rng = np.random.default_rng(0)

# every interval boundary of PyTorch's kernels and its neighbours, the specials, ordinary and
# random values, and logarithmic sweeps on both sides of zero
_BOUNDARIES = [0.00001, 0.5, 2.0, 2.09, 5.0, 8.0, 8.3203353, 103.892]
BESSEL_GRID = np.concatenate([
    [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-300, 1e-45, 1e-38, -1e-45, 3e38, -3e38,
     1e300, -1e300, 1e10, -1e10, 88.8, -88.8, 700.0, 710.0],
    *[[b, -b, np.nextafter(b, 0), np.nextafter(b, 1e9), -np.nextafter(b, 0),
       -np.nextafter(b, 1e9)] for b in _BOUNDARIES],
    np.linspace(-40, 40, 4001), rng.standard_normal(1000) * 10,
    np.logspace(-10, 3, 600), -np.logspace(-10, 3, 600)])

POLY_X = np.concatenate([
    [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, np.inf, -np.inf, np.nan, 1e-300, 1e-8, -1e-8,
     1 + 1e-12, 1 - 1e-12, -1 + 1e-12, -1 - 1e-12, 1e10, -1e10, 1e200, 3e38],
    np.linspace(-3, 3, 97), np.linspace(-1, 1, 41), rng.uniform(-1.2, 1.2, 40)])
POLY_N = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 30, 100, 128, 129, 300, 512,
                   513, 1000, 2.5, 4.99, 7.9, -0.5, 0.7, np.nan, np.inf, -np.inf, 1e30, -1e30])


def _check(got, expected, bound, where, args, overflow_edge=False):
    """NaN where PyTorch has NaN, the same infinities, and |got - expected| <= bound on the
    finite values; args (the inputs) name the first differences. overflow_edge: an infinity
    counts as PyTorch's value where that is within a factor 4 of the largest finite number
    (PyTorch's compiled recurrences fuse each step's multiply and subtract, so their last
    step before overflow can stay finite where nbgrad's float64, rounding twice, overflows)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    bad_nan = np.isnan(got) != np.isnan(expected)
    infinite = np.isinf(expected) | np.isinf(got)
    bad_inf = infinite & ~np.isnan(expected) & (got != expected)
    if overflow_edge:
        with np.errstate(invalid='ignore'):
            bad_inf &= ~(np.isinf(got) & (np.sign(got) == np.sign(expected)) &
                         (np.abs(expected) > np.finfo(np.float64).max / 4))
    finite = np.isfinite(expected) & np.isfinite(got)
    with np.errstate(all='ignore'):
        bad_value = finite & ~(np.abs(got - expected) <= bound)
    bad = bad_nan | bad_inf | bad_value
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:5]
        raise AssertionError(f'{where}: {int(bad.sum())} of {bad.size} differ, e.g. at '
                             f'{[a.ravel()[i].tolist() for a in args]}: nbgrad '
                             f'{got.ravel()[i].tolist()}, PyTorch {expected.ravel()[i].tolist()}')


def _bessel_bound(name, dtype, x, expected):
    if dtype == 'float64':
        return 1e-12 * np.abs(expected) + 1e-15
    own = getattr(torch.special, name)(torch.from_numpy(x.astype(np.float64))).numpy()
    with np.errstate(all='ignore'):
        return (4 * np.abs(expected - own) + 8 * _EPS32 * np.abs(expected)
                + (8 * _EPS32 if name in _CANCELLING else 0.0) + 1e-38)


def _on(device, array, dtype=None):
    return nbgrad.tensor(array, dtype=dtype, device=device)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', BESSEL)
def test_bessel_values(name, dtype, device):
    x = BESSEL_GRID.astype(dtype)
    expected = getattr(torch.special, name)(torch.from_numpy(x))
    got = getattr(nbgrad.special, name)(_on(device, x))
    assert got.dtype == getattr(nbgrad, dtype) and got.device.type == device
    _check(got.cpu().numpy(), expected.numpy(), _bessel_bound(name, dtype, x, expected.numpy()),
           f'{name} {dtype}', (x,))


@pytest.mark.parametrize('name', BESSEL)
def test_bessel_special_values_are_pytorchs(name):
    # the values PyTorch's kernels return by rule, exactly: at 0 and -0 (inf, -inf, 1, 0 or
    # -0), +-inf (0, nan), nan, negative arguments of Y and K (nan), beyond airy_ai's 103.892
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-300, 103.9, 1e300])
    for dtype in ('float32', 'float64'):
        values = x.astype(dtype)
        expected = getattr(torch.special, name)(torch.from_numpy(values)).numpy()
        got = getattr(nbgrad.special, name)(nbgrad.tensor(values)).numpy()
        np.testing.assert_array_equal(np.signbit(got[:2]), np.signbit(expected[:2]))
        special = ~np.isfinite(expected) | (expected == 0) | (np.abs(values) == 0)
        np.testing.assert_array_equal(got[special], expected[special])


def test_bessel_large_arrays_in_blocks():
    # NumPy arrays above 128K elements run block by block on nbgrad's worker threads
    x = rng.uniform(-30, 30, 300_001)
    for name in ('bessel_y1', 'airy_ai', 'modified_bessel_k1'):
        expected = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
        got = getattr(nbgrad.special, name)(nbgrad.tensor(x)).numpy()
        _check(got, expected, 1e-12 * np.abs(expected) + 1e-15, name, (x,))


def _polynomial_bound(name, dtype, x, n, expected):
    degree = np.where(np.isfinite(n) & (np.abs(n) < 2.0 ** 63), np.abs(n), 0.0)
    scale = np.maximum(np.abs(expected), 1.0)
    if dtype == 'float64':
        return 32 * (degree + 2) * _EPS64 * scale
    own = getattr(torch.special, name)(torch.from_numpy(x.astype(np.float64)),
                                       torch.from_numpy(n.astype(np.float64))).numpy()
    with np.errstate(all='ignore'):
        return 4 * np.abs(expected - own) + 16 * (degree + 2) * _EPS32 * scale


def _uninitialised(name, x, n):
    """Where PyTorch's kernel returns an uninitialised variable: x nan and n >= 2, where the
    recurrence's loop (which stops at nan) never runs; Hermite's initialise theirs."""
    if name.startswith('hermite'):
        return np.zeros(np.broadcast_shapes(x.shape, n.shape), bool)
    with np.errstate(invalid='ignore'):
        return np.isnan(x) & (np.abs(n) < 2.0 ** 63) & (np.trunc(n) >= 2)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', POLYNOMIALS)
def test_polynomial_values(name, dtype, device):
    x, n = (v.astype(dtype) for v in np.meshgrid(POLY_X, POLY_N, indexing='ij'))
    expected = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    got = getattr(nbgrad.special, name)(_on(device, x), _on(device, n))
    assert got.dtype == getattr(nbgrad, dtype) and got.device.type == device
    got = got.cpu().numpy()
    undefined = _uninitialised(name, x, n)
    assert np.isnan(got[undefined]).all()          # nbgrad's choice there: nan
    bound = _polynomial_bound(name, dtype, x, n, expected)
    _check(got[~undefined], expected[~undefined], bound[~undefined], f'{name} {dtype}',
           (x[~undefined], n[~undefined]), overflow_edge=dtype == 'float64')


# the arguments whose values PyTorch's kernels give by rule (or through exact arithmetic):
# the edges, +-inf, and for Hermite 0
_RULED_X = {'shifted': [1.0, 0.0, np.inf, -np.inf], 'laguerre': [0.0, -0.0, np.inf, -np.inf],
            'hermite': [0.0, -0.0, np.inf, -np.inf], '': [1.0, -1.0, np.inf, -np.inf]}


@pytest.mark.parametrize('name', POLYNOMIALS)
def test_polynomial_special_values_are_pytorchs(name):
    # exactly: n < 0 (and nan, inf, out-of-range n) -> 0, n = 0 -> 1, n = 1, the edges
    # x = +-1 (1 and 0 for the shifted ones, 0 for Laguerre's), Hermite's nan beyond its
    # degree limit, the infinities and nans that +-inf runs into
    family = next(f for f in ('shifted', 'laguerre', 'hermite', '') if name.startswith(f))
    x = np.array(_RULED_X[family])[:, None]
    n = np.array([-2.0, -0.5, 0.0, 0.9, 1.0, 2.0, 3.0, 9.0, 10.0, 129.0, 513.0, np.nan, np.inf,
                  1e30])[None, :]
    for dtype in ('float32', 'float64'):
        args = [np.broadcast_to(v, (x.size, n.size)).astype(dtype) for v in (x, n)]
        expected = getattr(torch.special, name)(*map(torch.from_numpy, args)).numpy()
        got = getattr(nbgrad.special, name)(*map(nbgrad.tensor, args)).numpy()
        np.testing.assert_array_equal(got, expected, err_msg=f'{name} {dtype}')


@pytest.mark.parametrize('name', POLYNOMIALS)
def test_polynomial_operands_broadcast_and_promote(name):
    # (input, n): either may be a Python number (not both); n's dtype takes part in the
    # promotion (a float64 n makes a float64 result) unless it is 0-dim; ints and bools compute
    # in the default float dtype; n is truncated
    calls = [
        lambda lib: (lib.tensor([[0.3], [-0.7], [1.5]]), lib.tensor([0, 1, 2, 5, 9])),
        lambda lib: (lib.tensor([0.3, -0.7, 1.5]), 4),
        lambda lib: (lib.tensor([0.3, -0.7, 1.5]), 4.9),
        lambda lib: (lib.tensor([0.3, -0.7, 1.5]), True),
        lambda lib: (0.25, lib.tensor([0, 3, 8, 12])),
        lambda lib: (-2, lib.tensor([0, 3, 8, 12])),
        lambda lib: (lib.tensor([1, 2, 3]), lib.tensor([2, 3, 4])),
        lambda lib: (lib.tensor([True, False]), lib.tensor([3])),
        lambda lib: (lib.tensor([0.3, 0.6], dtype=lib.float64), lib.tensor([3, 7])),
        lambda lib: (lib.tensor([0.3, 0.6]), lib.tensor([3.0, 7.0], dtype=lib.float64)),
        lambda lib: (lib.tensor([0.3, 0.6]), lib.tensor(7.0, dtype=lib.float64)),
        lambda lib: (lib.tensor(0.3, dtype=lib.float64), lib.tensor([3.0, 7.0])),
        lambda lib: (lib.tensor([0.3, 0.6]), lib.tensor([3, 7], dtype=lib.int32)),
        lambda lib: (lib.tensor([3, 4], dtype=lib.int8), 2),
        lambda lib: (lib.tensor(0.3), lib.tensor(5)),
        lambda lib: (lib.zeros(0), 3),
        lambda lib: (lib.ones(2, 0), lib.tensor([[1.0], [2.0]])),
        lambda lib: (lib.arange(12.0).reshape(3, 4).t() / 6, lib.arange(3)),   # non-contiguous
    ]
    for make in calls:
        both(lambda lib: getattr(lib.special, name)(*make(lib)), lambda g, e: assert_same(
            g, e, rtol=1e-5, atol=1e-6))


@pytest.mark.parametrize('name', BESSEL)
def test_bessel_dtypes_and_shapes(name):
    # integer and bool inputs compute in the default float dtype; 0-dim, empty and
    # non-contiguous inputs keep their shape
    for make in (lambda lib: lib.tensor([0, 1, 3, -2, 7]),
                 lambda lib: lib.tensor([True, False]),
                 lambda lib: lib.tensor([0, 1, 3, -2, 7], dtype=lib.int8),
                 lambda lib: lib.tensor(1.5, dtype=lib.float64),
                 lambda lib: lib.zeros(0, 3),
                 lambda lib: (lib.arange(12.0).reshape(3, 4) - 5).t()[::2]):
        both(lambda lib: getattr(lib.special, name)(make(lib)),
             lambda g, e: assert_same(g, e, rtol=2e-6, atol=1e-7))
    # ... the default float dtype, whichever it is
    for lib in (nbgrad, torch):
        lib.set_default_dtype(lib.float64)
    try:
        both(lambda lib: getattr(lib.special, name)(lib.tensor([1, 2, 4])),
             lambda g, e: assert_same(g, e, rtol=1e-12, atol=1e-15))
    finally:
        for lib in (nbgrad, torch):
            lib.set_default_dtype(lib.float32)


def test_hermite_degree_limits():
    # PyTorch's Hermite kernels give nan above degree 128 in float32 and 512 in float64
    for dtype in ('float32', 'float64'):
        for name in ('hermite_polynomial_h', 'hermite_polynomial_he'):
            both(lambda lib: getattr(lib.special, name)(
                lib.tensor([0.1, -0.3], dtype=getattr(lib, dtype)),
                lib.tensor([[128.0], [129.0], [512.0], [513.0]])),
                lambda g, e: assert_same(g, e, rtol=1e-5, atol=0))


# ---- what PyTorch refuses, and what it does not do ------------------------------------------
@pytest.mark.parametrize('name', BESSEL + POLYNOMIALS)
def test_refusals(name):
    polynomial = name in POLYNOMIALS

    def call(lib, *args, **kwargs):
        return getattr(lib.special, name)(*args, *((3,) if polynomial else ()), **kwargs)
    # no float16, bfloat16 or complex kernel (the message names PyTorch's CPU kernel)
    for dtype in ('float16', 'complex64'):   # (nbgrad has no bfloat16)
        assert_same_error(lambda lib: call(lib, lib.ones(2, dtype=getattr(lib, dtype))))
    # a Python number where a tensor is needed
    if polynomial:
        both(lambda lib: getattr(lib.special, name)(0.5, 3))
        both(lambda lib: getattr(lib.special, name)(lib.ones(2), lib.ones(3)))
        assert_same_error(lambda lib: getattr(lib.special, name)(lib.ones(2), 1 + 2j))
    else:
        assert_same_error(lambda lib: call(lib, 0.5))
    # out= of a lower category
    assert_same_error(lambda lib: call(lib, lib.ones(2), out=lib.empty(2, dtype=lib.long)))


@pytest.mark.parametrize('name', BESSEL + POLYNOMIALS)
def test_no_derivative(name):
    # PyTorch defines none: the result of an input that requires grad does not require grad
    # (no graph node), so backward through it is refused as through any constant
    extra = (3,) if name in POLYNOMIALS else ()

    def run(lib):
        x = lib.tensor([0.3, 1.7], requires_grad=True)
        y = getattr(lib.special, name)(x, *extra)
        assert not y.requires_grad and y.grad_fn is None
        if extra:
            n = lib.tensor([2.0, 5.0], requires_grad=True)
            z = getattr(lib.special, name)(lib.tensor([0.3, 1.7]), n)
            assert not z.requires_grad and z.grad_fn is None
        y.sum().backward()
    both(run)


@pytest.mark.parametrize('name', ['bessel_j0', 'airy_ai', 'scaled_modified_bessel_k1',
                                  'chebyshev_polynomial_u', 'hermite_polynomial_he',
                                  'laguerre_polynomial_l'])
@pytest.mark.parametrize('out_shape', [(3,), (0,), (5,)], ids=['same', 'empty', 'resized'])
def test_out(name, out_shape, device):
    # out= is written in its own dtype, resized where its shape differs; and, unlike for
    # differentiable ops, PyTorch writes it even where the input or out requires grad
    extra = (4,) if name in POLYNOMIALS else ()

    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor([0.25, 1.5, 3.75], device=dev, requires_grad=True)
        o = lib.full(out_shape, -7.0, dtype=lib.float64, device=dev)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')          # the resize warning
            r = getattr(lib.special, name)(x, *extra, out=o)
        leaf = lib.zeros(3, device=dev, requires_grad=True)
        getattr(lib.special, name)(x, *extra, out=leaf)
        return r is o, o.cpu(), leaf.detach().cpu(), leaf.requires_grad
    got, expected = run(nbgrad), run(torch)
    assert got[0] and expected[0]
    assert got[3] == expected[3]
    assert_same(got[1], expected[1], rtol=1e-6, atol=1e-7)
    assert_same(got[2], expected[2], rtol=1e-6, atol=1e-7)


def test_namespace_only():
    # torch.special's functions only: no torch.<name>, torch.special_<name> or Tensor method
    for name in BESSEL + POLYNOMIALS:
        assert callable(getattr(nbgrad.special, name)) and name in nbgrad.special.__all__
        for lib in (torch, nbgrad):
            assert not hasattr(lib, name) and not hasattr(lib, 'special_' + name)
            assert not hasattr(lib.Tensor, name) and not hasattr(lib.Tensor, 'special_' + name)


@pytest.mark.parametrize('name', ['airy_ai', 'bessel_j0', 'scaled_modified_bessel_k0',
                                  'spherical_bessel_j0'])
def test_keyword_argument(name):
    # PyTorch's schemas name the argument 'input' for some and 'x' for others
    both(lambda lib: getattr(lib.special, name)(**{
        'x' if name in ('airy_ai', 'scaled_modified_bessel_k0', 'spherical_bessel_j0')
        else 'input': lib.tensor([0.5, 2.0])}), lambda g, e: assert_same(g, e))
    both(lambda lib: lib.special.chebyshev_polynomial_t(x=lib.tensor([0.5]), n=3))
