"""nbgrad.special (the torch.special namespace) against PyTorch: values in float32 and float64 on
domains with the edge values (0, -0, negatives, large magnitudes, +-inf, nan), gradients
(float64 backward with PyTorch's grad_fn names, second derivatives, gradcheck), the dtypes of
integer, bool and float16 inputs and the dtypes PyTorch refuses, out=, and the aliases being
the same functions in both libraries. Every comparison takes the `device` fixture: nbgrad runs
there ('cuda' under NBGRAD_FAKE_CUDA=1 or on a GPU), PyTorch (the oracle) on the CPU.

Where nbgrad differs from PyTorch on purpose, the test says so and checks nbgrad against the
mathematical value instead (never against numbers taken from nbgrad's own output):
  * i0/i1 (and modified_bessel_i0/i1) at +-inf: inf and +-inf; PyTorch's kernels give nan
    (exp(inf) * 0), see nbgrad/_special.py.
  * ndtr: PyTorch computes (1 + erf(x / sqrt 2)) / 2, which cancels in the lower tail (0 below
    x ~ -8.3); nbgrad's kernel stays relatively accurate there, so ndtr compares absolutely.
  * digamma's derivative (trigamma) at its poles (non-positive integers): nbgrad gives inf,
    PyTorch finite numbers of its arithmetic (1e15 at -1 in float32).
"""
import math
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, both, dname

torch = pytest.importorskip('torch')

inf, nan = math.inf, math.nan

# A real line with the edge values, probabilities (logit, ndtri) and erfinv's [-1, 1]
REALS = [0.0, -0.0, 0.3, 0.5, 1.0, -1.0, 2.0, -2.5, 1e-8, -1e-8, 5.0, -5.0, 30.0, -30.0, 100.0,
         -100.0, 1e10, -1e10, inf, -inf, nan]
PROBS = [0.0, -0.0, 1e-300, 1e-10, 0.02, 0.3, 0.5, 0.9, 1 - 1e-12, 1.0, -0.5, 1.5, inf, nan]
UNIT = [-1.0, -0.999, -0.5, -1e-10, 0.0, -0.0, 0.3, 0.9, 0.999999, 1.0, 1.5, -2.0, nan]
POLES = [-1.0, -5.0, -30.0, -100.0, -1e10]


def without(values, *drop):
    return [v for v in values if not any(v == d for d in drop)]


# name -> (value domain, gradient domain, float32 rtol). The gradient domain leaves out only the
# points named in the comment (where PyTorch's own arithmetic decides the number).
UNARY = {
    'expit': (REALS, REALS, 2e-6),
    'logit': (PROBS, PROBS, 2e-6),
    'erf': (REALS, REALS, 2e-6),
    'erfc': (REALS, REALS, 2e-6),
    # erfcx(x < 0) in PyTorch's float32 rounds x*x first: relative error ~x^2 ulp (25 ulp at -5)
    # d/dx = 2 x erfcx - 2/sqrt(pi) cancels for large x: x = 1e10 is noise in both libraries
    'erfcx': (REALS, without(REALS, 1e10), 5e-6),
    'erfinv': (UNIT, UNIT, 2e-6),
    'gammaln': (REALS, REALS, 2e-6),
    'digamma': (REALS, without(REALS, *POLES), 2e-6),
    'psi': (REALS, without(REALS, *POLES), 2e-6),
    'i0': (without(REALS, inf, -inf), without(REALS, inf, -inf), 2e-6),
    'i0e': (REALS, REALS, 2e-6),
    'i1': (without(REALS, inf, -inf), without(REALS, inf, -inf), 2e-6),
    'i1e': (REALS, REALS, 2e-6),
    'modified_bessel_i0': (without(REALS, inf, -inf), None, 2e-6),
    'modified_bessel_i1': (without(REALS, inf, -inf), None, 2e-6),
    'ndtr': (REALS, REALS, 2e-6),
    'ndtri': (PROBS, PROBS, 2e-6),
    # d/dx = exp(-(log_ndtr(x) + x^2/2)) / sqrt(2 pi) cancels for large negative x: at -1e10
    # the two terms are 5e19 and PyTorch gets inf (float64) or 0 (float32) from the last bit
    'log_ndtr': (REALS, without(REALS, -1e10), 2e-6),
    'exp2': (REALS, REALS, 2e-6),
    'expm1': (REALS, REALS, 2e-6),
    'log1p': (REALS, REALS, 2e-6),
    'round': (REALS, REALS, 0),
    'sinc': (REALS, REALS, 2e-6),
    'entr': (REALS, REALS, 2e-6),
}

# float64 gradient tolerances where the two libraries' derivatives are not within 1e-10:
# PyTorch's trigamma keeps three asymptotic terms (relative error ~2e-8, see test_special.py);
# i0e' = i1e - i0e and i1e' cancel for large |x| (1e10: five digits lost).
GRAD_RTOL = {'digamma': 1e-7, 'psi': 1e-7, 'i0e': 1e-5, 'i1e': 1e-5}


def _run(lib, fn, values, dtype, device, grad):
    """fn(lib, x) for x = values; the result and, with grad, the gradient of sum(w * result)
    (weights 1, 2, 3, ... so that a misplaced element shows) and the grad_fn's name."""
    dev = device if lib is nbgrad else 'cpu'
    x = lib.tensor(values, dtype=getattr(lib, dtype), device=dev, requires_grad=grad)
    y = fn(lib, x)
    out = {'value': y.detach().cpu().numpy(), 'dtype': dname(y.dtype)}
    if grad:
        w = lib.arange(1, y.numel() + 1, dtype=y.dtype, device=dev).reshape(tuple(y.shape))
        (y * w).sum().backward()
        out['grad'] = x.grad.cpu().numpy()
        out['grad_fn'] = y.grad_fn.name()
    return out


def _compare(fn, values, dtype, device, grad=False, rtol=1e-12, grad_rtol=1e-10, atol=None):
    got = _run(nbgrad, fn, values, dtype, device, grad)
    expected = _run(torch, fn, values, dtype, 'cpu', grad)
    assert got['dtype'] == expected['dtype']
    if atol is None:  # denormal results are not compared (flushing differs)
        atol = float(np.finfo(dtype).tiny)
    np.testing.assert_allclose(got['value'], expected['value'], rtol=rtol, atol=atol,
                               err_msg=f'values at {values}')
    if grad:
        assert got['grad_fn'] == expected['grad_fn']
        np.testing.assert_allclose(got['grad'], expected['grad'], rtol=grad_rtol,
                                   atol=float(np.finfo(dtype).tiny), err_msg=f'grad at {values}')


def _call(name, **kw):
    return lambda lib, x: getattr(lib.special, name)(x, **kw)


# ---- unary functions: values, gradients, grad_fn names ---------------------------------------
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name', list(UNARY))
def test_values(name, dtype, device):
    values, _, rtol32 = UNARY[name]
    rtol = rtol32 if dtype == 'float32' else 1e-12
    # ndtr: see the module docstring. PyTorch's float32 composite is good to ~1e-8 absolutely.
    atol = {'float32': 3e-8, 'float64': 2e-16}[dtype] if name == 'ndtr' else None
    if name in ('digamma', 'psi') and dtype == 'float64':
        rtol = 1e-11   # PyTorch reflects with tan(pi * x) for x < 0 (see test_special.py)
    _compare(_call(name), values, dtype, device, rtol=rtol, atol=atol)


@pytest.mark.parametrize('name', [n for n in UNARY if UNARY[n][1] is not None])
def test_gradients_and_grad_fn(name, device):
    _compare(_call(name), UNARY[name][1], 'float64', device, grad=True, rtol=1e-11,
             grad_rtol=GRAD_RTOL.get(name, 1e-10), atol=2e-16 if name == 'ndtr' else None)


@pytest.mark.parametrize('name', ['i0', 'i1', 'modified_bessel_i0', 'modified_bessel_i1'])
def test_bessel_i_at_infinity_is_the_limit(name, device):
    # I0(+-inf) = inf, I1(+-inf) = +-inf (PyTorch: nan, an artefact of exp(inf) * 0)
    x = nbgrad.tensor([inf, -inf], dtype=nbgrad.float64, device=device)
    got = getattr(nbgrad.special, name)(x).cpu().numpy()
    odd = name.endswith('1')
    np.testing.assert_array_equal(got, [inf, -inf] if odd else [inf, inf])


def test_ndtr_lower_tail_is_relatively_accurate(device):
    # Phi(x) = erfc(-x / sqrt 2) / 2, from the standard library (PyTorch's ndtr gives 0 here)
    xs = [-10.0, -20.0, -37.0]
    got = nbgrad.special.ndtr(nbgrad.tensor(xs, dtype=nbgrad.float64, device=device))
    expected = [math.erfc(-x / math.sqrt(2)) / 2 for x in xs]
    np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-13)


def test_digamma_gradient_at_poles_is_infinite(device):
    x = nbgrad.tensor(POLES, dtype=nbgrad.float64, device=device, requires_grad=True)
    nbgrad.special.psi(x).sum().backward()
    assert np.all(x.grad.cpu().numpy() == inf)   # trigamma has a double pole at each


@pytest.mark.parametrize('name', ['erfcx', 'ndtr', 'ndtri', 'log_ndtr', 'i0e', 'i1', 'i1e',
                                  'entr', 'expit', 'logit', 'gammaln', 'i0'])
def test_second_derivatives(name, device):
    # the derivative formulas are themselves differentiable: d2/dx2 of sum(f(x)) as PyTorch's
    # (gammaln's is trigamma, good to ~1e-9 in PyTorch)
    rtol = 1e-8 if name == 'gammaln' else 1e-10
    values = {'ndtri': [0.02, 0.3, 0.5, 0.9], 'logit': [0.02, 0.3, 0.5, 0.9],
              'entr': [0.02, 0.3, 1.0, 7.5]}.get(name, [-3.5, -0.7, 0.0, 0.4, 1.0, 6.0])

    def second(lib, x):
        (g,) = lib.autograd.grad(getattr(lib.special, name)(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg

    got = second(nbgrad, nbgrad.tensor(values, dtype=nbgrad.float64, device=device,
                                       requires_grad=True))
    expected = second(torch, torch.tensor(values, dtype=torch.float64, requires_grad=True))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.detach().cpu().numpy(), e.detach().numpy(), rtol=rtol,
                                   atol=1e-14)


@pytest.mark.parametrize('name,values', [
    ('erfcx', [-2.0, -0.3, 0.2, 0.7, 3.0, 40.0]), ('ndtr', [-6.0, -1.2, 0.0, 0.4, 3.0]),
    ('ndtri', [1e-3, 0.1, 0.5, 0.8, 0.999]), ('log_ndtr', [-30.0, -2.0, -0.5, 0.5, 4.0]),
    ('i0e', [-12.0, -1.0, 0.3, 2.0, 9.0]), ('i1', [-7.0, -0.5, 1e-3, 2.0, 10.0]),
    ('i1e', [-12.0, -1.0, 0.3, 2.0, 9.0]), ('entr', [1e-3, 0.2, 1.0, 4.0]),
])
def test_gradcheck(name, values, device):
    fn = getattr(nbgrad.special, name)
    x = nbgrad.tensor(values, dtype=nbgrad.float64, device=device, requires_grad=True)
    assert nbgrad.autograd.gradcheck(fn, (x,))
    assert nbgrad.autograd.gradgradcheck(fn, (x,))


def test_i1_gradients_at_zero_are_one_half(device):
    # I1'(0) = 1/2 and (e^-|x| I1)'(0) = 1/2: PyTorch substitutes the limit where |x| <= eps
    for dtype in ('float32', 'float64'):
        for name in ('i1', 'i1e'):
            _compare(_call(name), [0.0, -0.0, 1e-20, -1e-20], dtype, device, grad=True)


# ---- dtypes: integer, bool, float16 inputs; the dtypes PyTorch has no kernel for ------------
DTYPE_INPUTS = {
    'int64': lambda lib, dev: lib.tensor([0, 1, 2, -1, 7], device=dev),
    'bool': lambda lib, dev: lib.tensor([True, False], device=dev),
    'uint8': lambda lib, dev: lib.tensor([0, 3, 200], dtype=lib.uint8, device=dev),
    'float16': lambda lib, dev: lib.tensor([0.0, 0.25, 0.5, 0.75], dtype=lib.float16, device=dev),
    'complex64': lambda lib, dev: lib.tensor([0.5 + 0.5j], dtype=lib.complex64, device=dev),
}
ELEMENTWISE = [n for n in UNARY] + ['polygamma', 'multigammaln', 'xlogy', 'xlog1py', 'logsumexp',
                                    'softmax', 'log_softmax']


def _apply(name, lib, x):
    s = lib.special
    if name == 'polygamma':
        return s.polygamma(2, x)
    if name == 'multigammaln':
        return s.multigammaln(x + 3 if x.dtype != lib.bool else x, 2)
    if name in ('xlogy', 'xlog1py'):
        return getattr(s, name)(x, x)
    if name in ('logsumexp', 'softmax', 'log_softmax'):
        return getattr(s, name)(x, 0)
    return getattr(s, name)(x)


@pytest.mark.parametrize('kind', list(DTYPE_INPUTS))
@pytest.mark.parametrize('name', ELEMENTWISE)
def test_input_dtypes(name, kind, device):
    # integer and bool inputs compute in the default float dtype (float32), float16 stays,
    # and where PyTorch has no kernel (complex; float16 for erfcx, ndtri, log_ndtr and the
    # modified Bessel functions; integers for round and softmax) nbgrad raises the same kind
    if kind == 'complex64' and name in ('expit', 'logit', 'erf', 'erfc', 'erfinv', 'gammaln',
                                        'digamma', 'psi', 'i0', 'exp2', 'expm1', 'log1p', 'sinc',
                                        'polygamma', 'xlogy', 'logsumexp', 'softmax',
                                        'log_softmax'):
        pytest.skip('complex inputs of the aliased top-level ops are not this namespace\'s')

    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        return _apply(name, lib, DTYPE_INPUTS[kind](lib, dev)).cpu()

    def check(got, expected):
        assert dname(got.dtype) == dname(expected.dtype)
        rtol = 1e-3 if kind == 'float16' else 2e-6
        np.testing.assert_allclose(got.numpy().astype(np.float64),
                                   expected.numpy().astype(np.float64), rtol=rtol, atol=1e-30)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        both(run, check)


def test_refusals_name_pytorch_kernels():
    # (the CPU messages; on 'cuda' PyTorch's would name its CUDA kernels)
    for fn in (lambda lib: lib.special.erfcx(lib.tensor([1.0], dtype=lib.float16)),
               lambda lib: lib.special.entr(lib.tensor([1j])),
               lambda lib: lib.special.xlog1py(lib.tensor([1j]), 2.0),
               lambda lib: lib.special.round(lib.tensor([1, 2])),
               lambda lib: lib.special.round(lib.tensor([1, 2]), decimals=2),
               lambda lib: lib.special.multigammaln(lib.tensor([True]), 2),
               lambda lib: lib.special.multigammaln(lib.tensor([3.0]), 0)):
        assert_same_error(fn)


def test_python_numbers_are_refused_where_pytorch_wants_a_tensor():
    for fn in (lambda lib: lib.special.erfcx(1.0), lambda lib: lib.special.expit(1.0),
               lambda lib: lib.special.xlog1py(1.0, 2.0), lambda lib: lib.special.xlogy(1.0, 2),
               lambda lib: lib.special.round(1.5), lambda lib: lib.special.i1(2)):
        both(fn)


# ---- xlogy and xlog1py: three overloads, PyTorch's gradient at x = 0 -------------------------
XA = [0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 0.0, -1.5, 3.0, 1e-300, -0.0]
XB = [2.0, 0.0, -1.0, -2.0, 3.0, nan, nan, -0.5, inf, 1e300, -0.99]
SCALARS = [2.0, 0.5, 0.0, -0.5, -1.0, -2.0, nan, inf, 3]


def _binary_run(lib, name, a, b, device):
    dev = device if lib is nbgrad else 'cpu'
    A = lib.tensor(a, dtype=lib.float64, device=dev, requires_grad=True) \
        if isinstance(a, list) else a
    B = lib.tensor(b, dtype=lib.float64, device=dev, requires_grad=True) \
        if isinstance(b, list) else b
    y = getattr(lib.special, name)(A, B)
    y.backward(lib.arange(1.0, y.numel() + 1, dtype=lib.float64, device=dev))
    grads = [t.grad.cpu().numpy() for t in (A, B) if isinstance(t, lib.Tensor)]
    return y.detach().cpu().numpy(), grads, y.grad_fn.name(), dname(y.dtype)


def _binary_compare(name, a, b, device):
    got = _binary_run(nbgrad, name, a, b, device)
    expected = _binary_run(torch, name, a, b, 'cpu')
    assert got[2:] == expected[2:]
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13, atol=0)
    for g, e in zip(got[1], expected[1]):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=0)


@pytest.mark.parametrize('name', ['xlogy', 'xlog1py'])
def test_xlogy_xlog1py_tensors(name, device):
    _binary_compare(name, XA, XB, device)
    # broadcasting: the gradients are summed back to each operand's shape
    a = [[0.0], [1.5], [-2.0]]
    b = [0.5, 0.0, -1.0, 4.0]

    def run(lib, dev):
        A = lib.tensor(a, dtype=lib.float64, device=dev, requires_grad=True)
        B = lib.tensor(b, dtype=lib.float64, device=dev, requires_grad=True)
        y = getattr(lib.special, name)(A, B)
        y.sum().backward()
        return [t.detach().cpu().numpy() for t in (y, A.grad, B.grad)]
    for g, e in zip(run(nbgrad, device), run(torch, 'cpu')):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=0)


@pytest.mark.parametrize('scalar', SCALARS, ids=str)
@pytest.mark.parametrize('name', ['xlogy', 'xlog1py'])
def test_xlogy_xlog1py_with_a_python_number(name, scalar, device):
    # PyTorch's Scalar overloads: other a number (Backward2; d/dself masked where self == 0
    # unless other > edge) and self a number (Backward1)
    _binary_compare(name, XA, scalar, device)
    _binary_compare(name, scalar, XB, device)


@pytest.mark.parametrize('name', ['xlogy', 'xlog1py'])
def test_xlogy_xlog1py_promotion(name, device):
    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        f = getattr(lib.special, name)
        i = lib.tensor([0, 1, 3], device=dev)
        h = lib.tensor([0.0, 0.5, 2.0], dtype=lib.float16, device=dev)
        d = lib.tensor([0.0, 0.5, 2.0], dtype=lib.float64, device=dev)
        s = lib.tensor([0.0, 0.5, 2.0], device=dev)
        results = [f(i, i), f(i, 2.5), f(3, i), f(i, 2), f(h, 2.0), f(h, h), f(s, d), f(d, s),
                   f(i > 0, i), f(s, lib.tensor(2.0, dtype=lib.float64, device=dev))]
        return [r.cpu() for r in results]
    both(run, _list_close)


def _list_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert dname(g.dtype) == dname(e.dtype)
        np.testing.assert_allclose(g.numpy().astype(np.float64), e.numpy().astype(np.float64),
                                   rtol=1e-3 if dname(e.dtype) == 'float16' else 1e-6)


def test_top_level_xlogy_gradient(device):
    # special.xlogy is torch.xlogy: the derivative at self == 0 is PyTorch's at the top level too
    def run(lib, dev):
        a = lib.tensor(XA, dtype=lib.float64, device=dev, requires_grad=True)
        y = lib.xlogy(a, lib.tensor(XB, dtype=lib.float64, device=dev))
        y.sum().backward()
        return y.detach().cpu().numpy(), a.grad.cpu().numpy(), y.grad_fn.name()
    got, expected = run(nbgrad, device), run(torch, 'cpu')
    assert got[2] == expected[2]
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13)


# ---- multigammaln, polygamma, round(decimals), logit(eps) -----------------------------------
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('p', [1, 2, 3, 5])
def test_multigammaln(p, dtype, device):
    # no domain check in PyTorch 2.13: below (p - 1)/2 the sum meets lgamma's other branches
    values = [3.0, 2.5, 10.0, 100.0, 0.4, 1e5, 1.7, inf, nan]
    rtol = 2e-6 if dtype == 'float32' else 1e-12
    _compare(lambda lib, x: lib.special.multigammaln(x, p), values, dtype, device,
             grad=dtype == 'float64', rtol=rtol, grad_rtol=1e-11)


@pytest.mark.parametrize('n', [0, 1, 2, 3])
def test_polygamma(n, device):
    values = [0.3, 1.0, 2.5, 7.0, 40.0, -0.5, -2.25]
    # PyTorch's trigamma (n = 1, and the gradient for n = 0) is good to ~2e-8, its zeta to 1e-14
    _compare(lambda lib, x: lib.special.polygamma(n, x), values, 'float64', device, grad=True,
             rtol=1e-7 if n == 1 else 1e-11, grad_rtol=1e-7 if n == 0 else 1e-9)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
@pytest.mark.parametrize('decimals', [0, 1, 2, 3, -1, -2, 400, -400])
def test_round_decimals(decimals, dtype, device):
    # ties to even after scaling by 10**decimals in the input's dtype (float32 for float16)
    values = [1.25, 2.5, -1.35, 125.0, 150.0, 0.0049, -0.0051, -0.0, 1e300, inf, -inf, nan,
              12345.678, 0.5, -0.5, 1.5]
    _compare(lambda lib, x: lib.special.round(x, decimals=decimals), values, dtype, device,
             grad=dtype != 'float16', rtol=0, atol=0)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('eps', [None, -1.0, 0.0, 1e-6, 0.1, 0.5, 0.6])
def test_logit_eps(eps, dtype, device):
    values = [-0.5, 0.0, -0.0, 1e-7, 0.05, 0.1, 0.5, 0.9, 1.0, 1.5, inf, -inf, nan]
    rtol = 2e-6 if dtype == 'float32' else 1e-13
    _compare(lambda lib, x: lib.special.logit(x, eps), values, dtype, device, grad=True,
             rtol=rtol, grad_rtol=rtol)
    both(lambda lib: lib.special.logit(lib.tensor([0, 1, 2]), eps))


# ---- logsumexp, softmax, log_softmax --------------------------------------------------------
X2 = [[1.0, 2.0, 3.0], [-1.0, 0.0, 1000.0], [-inf, -inf, -inf], [inf, 0.0, 1.0]]


REDUCTIONS = {
    'logsumexp': lambda lib, x: lib.special.logsumexp(x, 1),
    'logsumexp_keepdim': lambda lib, x: lib.special.logsumexp(x, 0, keepdim=True),
    'logsumexp_dims': lambda lib, x: lib.special.logsumexp(x, (0, 1)),
    'softmax': lambda lib, x: lib.special.softmax(x[:2], 1),
    'softmax_dtype': lambda lib, x: lib.special.softmax(x[:2], 0, dtype=lib.float32),
    'log_softmax': lambda lib, x: lib.special.log_softmax(x[:2], -1),
    'log_softmax_dtype': lambda lib, x: lib.special.log_softmax(x[:2], 0, dtype=lib.float32),
}


@pytest.mark.parametrize('call', list(REDUCTIONS))
def test_reductions(call, device):
    # (with dtype=float32 the float64 input's gradient went through float32)
    rtol = 1e-6 if call.endswith('dtype') else 1e-12
    _compare(REDUCTIONS[call], X2, 'float64', device, grad=True, rtol=rtol, grad_rtol=rtol)
    _compare(REDUCTIONS[call], X2, 'float32', device, rtol=1e-6)


def test_reductions_need_dim():
    for fn in (lambda lib: lib.special.softmax(lib.ones(3)),
               lambda lib: lib.special.logsumexp(lib.ones(3)),
               lambda lib: lib.special.softmax(lib.tensor([1, 2]), 0),
               # softmax takes its dtype positionally too, log_softmax only by keyword
               lambda lib: lib.special.softmax(lib.ones(3), 0, lib.float64),
               lambda lib: lib.special.log_softmax(lib.ones(3), 0, lib.float64)):
        both(fn)


# ---- the aliases are PyTorch's aliases ------------------------------------------------------
ALIASES = [('expit', 'sigmoid'), ('logit', 'logit'), ('erf', 'erf'), ('erfc', 'erfc'),
           ('erfinv', 'erfinv'), ('gammaln', 'lgamma'), ('digamma', 'digamma'),
           ('psi', 'digamma'), ('i0', 'i0'), ('exp2', 'exp2'), ('expm1', 'expm1'),
           ('log1p', 'log1p'), ('sinc', 'sinc'), ('i1', None), ('i0e', None), ('ndtr', None),
           ('multigammaln', 'mvlgamma'), ('round', 'round')]


@pytest.mark.parametrize('alias,target', ALIASES, ids=[a for a, _ in ALIASES])
def test_aliases_match_pytorch(alias, target, device):
    # where PyTorch's torch.special.X is torch.Y (same values and grad_fn), nbgrad's is too
    values = [0.1, 0.5, 2.5, 3.0, -0.7]

    def run(lib, fn, dev):
        x = lib.tensor(values, dtype=lib.float64, device=dev, requires_grad=True)
        y = fn(x)
        return y.detach().cpu().numpy(), y.grad_fn.name()
    args = {'multigammaln': (3,)}.get(alias, ())
    torch_special = run(torch, lambda x: getattr(torch.special, alias)(x + 3, *args)
                        if args else getattr(torch.special, alias)(x), 'cpu')
    nb_special = run(nbgrad, lambda x: getattr(nbgrad.special, alias)(x + 3, *args)
                     if args else getattr(nbgrad.special, alias)(x), device)
    assert nb_special[1] == torch_special[1]
    np.testing.assert_allclose(nb_special[0], torch_special[0], rtol=1e-12)
    if target is not None and hasattr(nbgrad, target) and target != 'round':
        torch_top = run(torch, lambda x: getattr(torch, target)(x + 3, *args)
                        if args else getattr(torch, target)(x), 'cpu')
        nb_top = run(nbgrad, lambda x: getattr(nbgrad, target)(x + 3, *args)
                     if args else getattr(nbgrad, target)(x), device)
        assert (nb_top[1] == nb_special[1]) == (torch_top[1] == torch_special[1])
        np.testing.assert_array_equal(nb_top[0], nb_special[0])


# ---- out= ----------------------------------------------------------------------------------
OUT_CALLS = {
    'erf': lambda lib, x, o: lib.special.erf(x, out=o),
    'expit': lambda lib, x, o: lib.special.expit(x, out=o),
    'erfcx': lambda lib, x, o: lib.special.erfcx(x, out=o),
    'ndtr': lambda lib, x, o: lib.special.ndtr(x, out=o),
    'i1e': lambda lib, x, o: lib.special.i1e(x, out=o),
    'entr': lambda lib, x, o: lib.special.entr(x, out=o),
    'logit_eps': lambda lib, x, o: lib.special.logit(x, 0.2, out=o),
    'round': lambda lib, x, o: lib.special.round(x, decimals=1, out=o),
    'polygamma': lambda lib, x, o: lib.special.polygamma(1, x, out=o),
    'multigammaln': lambda lib, x, o: lib.special.multigammaln(x + 2, 2, out=o),
    'xlog1py': lambda lib, x, o: lib.special.xlog1py(x, 2.0, out=o),
    'xlogy': lambda lib, x, o: lib.special.xlogy(3.0, x, out=o),
    'logsumexp': lambda lib, x, o: lib.special.logsumexp(x, 0, out=o),
}


@pytest.mark.parametrize('out_shape', [(3,), (0,), ()], ids=['same', 'empty', 'scalar'])
@pytest.mark.parametrize('call', list(OUT_CALLS))
def test_out(call, out_shape, device):
    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor([0.25, 0.5, 0.75], device=dev)
        o = lib.full(out_shape, -7.0, dtype=lib.float64, device=dev)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')   # the resize warning
            r = OUT_CALLS[call](lib, x, o)
        return r is o, o.cpu()
    both(run, lambda g, e: (_list_close([g[1]], [e[1]]), g[0] == e[0] or pytest.fail('identity')))


@pytest.mark.parametrize('call', [c for c in OUT_CALLS if c != 'ndtr'])
def test_out_refuses_autograd(call):
    # PyTorch's message names its ATen op: erf(), sigmoid(), special_erfcx(), mvlgamma(), ...
    def fn(lib):
        x = lib.tensor([0.25, 0.5, 0.75], requires_grad=True)
        return OUT_CALLS[call](lib, x, lib.empty(3 if call != 'logsumexp' else ()))
    assert_same_error(fn)


def test_out_dtype_rules():
    both(lambda lib: lib.special.entr(lib.tensor([1, 2]), out=lib.empty(2, dtype=lib.long)))
    both(lambda lib: lib.special.i0e(lib.tensor([1.0, 2.0]), out=lib.empty(2, dtype=lib.float64)))


def test_ndtr_out_with_autograd_is_a_copy(device):
    # PyTorch's ndtr is a composite whose out= ends in a differentiable copy
    def run(lib, dev):
        x = lib.tensor([-1.0, 0.0, 2.0], dtype=lib.float64, device=dev, requires_grad=True)
        o = lib.empty(3, dtype=lib.float64, device=dev)
        r = lib.special.ndtr(x, out=o)
        r.sum().backward()
        return r is o, r.grad_fn.name(), o.detach().cpu().numpy(), x.grad.cpu().numpy()
    got, expected = run(nbgrad, device), run(torch, 'cpu')
    assert got[0] and expected[0]
    for lib, name in ((nbgrad, got[1]), (torch, expected[1])):   # each library's copy_ node
        x = lib.ones(1, requires_grad=True)
        assert name == lib.empty(1).copy_(x * 2).grad_fn.name()
    for g, e in zip(got[2:], expected[2:]):
        np.testing.assert_allclose(g, e, rtol=1e-13)


# ---- the namespace --------------------------------------------------------------------------
def test_namespace():
    import torch as real_torch
    public = set(nbgrad.special.__all__)
    assert public == {n for n in dir(nbgrad.special) if not n.startswith('_')} - {'Tensor'}
    assert public <= set(dir(real_torch.special))
    missing = {n for n in dir(real_torch.special) if not n.startswith('_')} - public
    assert missing <= {'Tensor', 'torch', 'common_args', 'multi_dim_common'}
    # torch.special's own ops stay in the namespace: no nbgrad.special_ndtr, no Tensor method
    for name in ('erfcx', 'ndtr', 'ndtri', 'log_ndtr', 'i0e', 'i1e', 'entr', 'xlog1py',
                 'modified_bessel_i0'):
        assert not hasattr(nbgrad, 'special_' + name) and not hasattr(real_torch, 'special_' + name)
        assert not hasattr(nbgrad.Tensor, 'special_' + name)
    assert not hasattr(nbgrad, 'special_i1')
    assert nbgrad.special is getattr(nbgrad, 'special')


def test_gammaincc_for_tiny_a_is_a_times_e1():
    """Q(a, x) -> a E1(x) as a -> 0 (E1 from its series, which nbgrad does not compute):
    nbgrad sums Q's own series there, as SciPy does, where 1 - P cancelled to a negative
    number; PyTorch's float64 value is 0.6% off at a = 1e-45 (it rounds 1 + a in lgamma)."""
    x = np.array([1e-45, 1e-10, 0.01, 0.3, 1.0, 1.1])
    euler = 0.5772156649015329
    e1 = -euler - np.log(x) + np.array([sum((-1) ** (k + 1) * v ** k / (k * math.factorial(k))
                                            for k in range(1, 40)) for v in x])
    for a in (1e-45, 1e-30, 1e-20):
        got = nbgrad.special.gammaincc(nbgrad.tensor(np.full_like(x, a)), nbgrad.tensor(x))
        np.testing.assert_allclose(got.numpy(), a * e1, rtol=1e-12)


def test_temme_table_is_its_derivation():
    """_TEMME is what _temme_table derives in exact fractions (DLMF 8.12.8-8.12.10)."""
    from nbgrad import _incomplete_gamma as ig
    assert ig._temme_table(len(ig._TEMME), len(ig._TEMME[0])) == ig._TEMME


@pytest.mark.parametrize('a', [201.0, 1e3, 1e6, 1e10, 1e15])
def test_gammainc_for_large_a_near_x(a):
    """Temme's expansion, as PyTorch takes it for a > 200 within 4.5 sqrt(a) of x: PyTorch's
    values (to its own 1e-10 at a ~ 200; past a ~ 1e12 its x / a - 1 loses digits, so only
    up to 1e10) and, at x = a, the expansion's closed form
    1/2 + (1/3 + 1/(540 a) - 25/(6048 a^2)) / sqrt(2 pi a) (to its next term, 1e-3 a^-3.5).
    The series and continued fraction that ran here before took two seconds at a = 1e10 and
    returned 0.405."""
    offsets = np.array([0.0, 1.0, -2.0, 4.4, -4.4, 0.3, 3.0])
    x = a * (1 + offsets / math.sqrt(a))
    got = [f(nbgrad.tensor(np.full_like(x, a)), nbgrad.tensor(x)).numpy()
           for f in (nbgrad.special.gammainc, nbgrad.special.gammaincc)]
    expected = [f(torch.tensor(np.full_like(x, a)), torch.tensor(x)).numpy()
                for f in (torch.special.gammainc, torch.special.gammaincc)]
    if a <= 1e10:
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-10)
    np.testing.assert_allclose(got[0] + got[1], 1.0, rtol=0, atol=4e-16)
    closed = 0.5 + (1 / 3 + 1 / (540 * a) - 25 / (6048 * a * a)) / math.sqrt(2 * math.pi * a)
    assert abs(got[0][0] - closed) < 1e-13 + 1e-3 * a ** -3.5


def test_gammainc_tails_for_huge_a_approach_the_normal():
    """Far from x = a, for a >= 1e6 nbgrad keeps Temme's expansion: P(a, a - k sqrt(a)) tends
    to Phi(-k) (PyTorch's series stops early there: 1e-19 for 6e-16 at a = 1e15, k = 8), and
    the upper tail is PyTorch's."""
    a = 1e15
    k = np.array([5.0, 8.0, 12.0])
    lower = nbgrad.special.gammainc(nbgrad.tensor(np.full(3, a)),
                                    nbgrad.tensor(a - k * math.sqrt(a))).numpy()
    normal = np.array([math.erfc(v / math.sqrt(2)) / 2 for v in k])
    np.testing.assert_allclose(lower, normal, rtol=2e-5)
    upper = nbgrad.special.gammaincc(nbgrad.tensor(np.full(3, a)),
                                     nbgrad.tensor(a + k * math.sqrt(a))).numpy()
    expected = torch.special.gammaincc(torch.tensor(np.full(3, a)),
                                       torch.tensor(a + k * math.sqrt(a))).numpy()
    np.testing.assert_allclose(upper, expected, rtol=1e-7)
    far = nbgrad.special.gammainc(nbgrad.tensor([3e38, 3e38]), nbgrad.tensor([3e35, 3e41]))
    np.testing.assert_array_equal(far.numpy(), [0.0, 1.0])
