"""nbgrad.fft (the torch.fft namespace) against PyTorch: values (complex results compared as
complex, to a tolerance of the result's precision relative to its largest magnitude), dtypes and
shapes of every transform for every norm, n/s padding and trimming, transforms over chosen (and
negative, unsorted) dims, integer and bool inputs, fftfreq/rfftfreq, fftshift/ifftshift with
gradients, out=, the gradients of the real-to-real transforms (irfft*/hfft* of a real input) and
PyTorch's errors, and the gradients through complex inputs and results (with gradcheck and
gradgradcheck). Every comparison takes the `device` fixture: nbgrad runs there ('cuda' under
NBGRAD_FAKE_CUDA=1 or on a GPU), PyTorch (the oracle) on the CPU.

Where nbgrad differs from PyTorch on purpose (see nbgrad/fft.py's docstring) the test says so:
  * a tensor empty in a dimension that is not transformed gives the empty result; PyTorch's CPU
    kernel raises an MKL error there. The expected shape comes from PyTorch's result for the
    same tensor with one row.
"""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, dname

torch = pytest.importorskip('torch')

NORMS = [None, 'backward', 'ortho', 'forward']
FLOATS = ['float32', 'float64']
COMPLEXES = ['complex64', 'complex128']


def data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith('complex'):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def make(lib, array, device='cpu', requires_grad=False):
    """A tensor of `array` (NumPy): PyTorch's on the CPU, nbgrad's on `device`."""
    kw = {'device': device} if lib is nbgrad else {}
    return lib.tensor(array, requires_grad=requires_grad, **kw)


def host(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return t.resolve_conj().numpy()
    return t.cpu().numpy()


def assert_close(got, expected, device, where='result', single=False):
    """nbgrad's result against PyTorch's: dtype, shape, device, and values to the precision of
    the dtype (single=True: of single precision, where a result was computed in it and then
    written into a double-precision out=). An FFT's error grows with the largest magnitude, so
    atol scales with it."""
    assert isinstance(got, nbgrad.Tensor), where
    assert dname(got.dtype) == dname(expected.dtype), f'{where}: {got.dtype} {expected.dtype}'
    assert tuple(got.shape) == tuple(expected.shape), f'{where}: {got.shape} {expected.shape}'
    assert got.device.type == device, where
    g, e = host(got), host(expected)
    eps = 2e-5 if single or e.dtype in (np.float32, np.complex64, np.float16) else 1e-12
    if e.dtype == np.float16:
        eps = 1e-3
    scale = max(1.0, float(np.nanmax(np.abs(e)))) if e.size and np.isfinite(e).any() else 1.0
    np.testing.assert_allclose(g, e, rtol=eps, atol=eps * scale, err_msg=where)


def run_both(fn, device):
    """fn(lib, T) with T(array) making lib's tensor; returns (nbgrad's, PyTorch's) results."""
    expected = fn(torch, lambda a, **kw: make(torch, a, **kw))
    got = fn(nbgrad, lambda a, **kw: make(nbgrad, a, device, **kw))
    return got, expected


# ---------------------------------------------------------------------------------------------
# Values, dtypes and shapes
# ---------------------------------------------------------------------------------------------

ONE_DIM = {  # name -> input dtypes PyTorch takes
    'fft': FLOATS + COMPLEXES, 'ifft': FLOATS + COMPLEXES, 'rfft': FLOATS, 'ihfft': FLOATS,
    'irfft': FLOATS + COMPLEXES, 'hfft': FLOATS + COMPLEXES}


@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('name,dtype', [(n, d) for n, ds in ONE_DIM.items() for d in ds])
def test_one_dimensional_transforms(name, dtype, norm, device):
    x = data((4, 6, 5), dtype)
    # n: the default, trimming, zero-padding, a single point; dims: last, first, negative
    for n, dim in [(None, -1), (3, -1), (9, -1), (1, -1), (None, 0), (7, 0), (None, -2),
                   (4, 1), (8, 2)]:
        got, expected = run_both(
            lambda lib, T: getattr(lib.fft, name)(T(x), n=n, dim=dim, norm=norm), device)
        assert_close(got, expected, device, f'{name}(n={n}, dim={dim}, norm={norm})')
    # positional arguments, PyTorch's order (input, n, dim, norm)
    got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(x), 4, 1, norm), device)
    assert_close(got, expected, device)


ND = {  # name -> input dtypes
    'fftn': FLOATS + COMPLEXES, 'ifftn': FLOATS + COMPLEXES, 'rfftn': FLOATS,
    'ihfftn': FLOATS, 'irfftn': FLOATS + COMPLEXES, 'hfftn': FLOATS + COMPLEXES}
TWO_DIM = {'fft2': ND['fftn'], 'ifft2': ND['ifftn'], 'rfft2': ND['rfftn'],
           'ihfft2': ND['ihfftn'], 'irfft2': ND['irfftn'], 'hfft2': ND['hfftn']}

ND_ARGS = [  # (s, dim): defaults, s alone (the last len(s) dims), dims alone, both, unsorted
    (None, None), ((3, 8), None), ((5,), None), (None, (0, 2)), (None, (2, 0)), (None, (1,)),
    ((3, -1), (2, 0)), ((6, 2, 7), (1, 0, 2)), ((2,), (-3,)), ((4, 4), (-1, -2)),
    ((1, 1), (0, 1))]
TWO_DIM_ARGS = [(None, (-2, -1)), ((3, 8), (-2, -1)), (None, (0, 2)), ((-1, 4), (2, 0)),
                (None, [1, 0]), ((7,), (1,))]


@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('name,dtype', [(n, d) for n, ds in ND.items() for d in ds] +
                         [(n, d) for n, ds in TWO_DIM.items() for d in ds])
def test_multi_dimensional_transforms(name, dtype, norm, device):
    x = data((4, 5, 6), dtype)
    for s, dim in (TWO_DIM_ARGS if name.endswith('2') else ND_ARGS):
        kw = {} if dim is None else {'dim': dim}
        got, expected = run_both(
            lambda lib, T: getattr(lib.fft, name)(T(x), s=s, norm=norm, **kw), device)
        assert_close(got, expected, device, f'{name}(s={s}, dim={dim}, norm={norm})')


@pytest.mark.parametrize('name', ['fftn', 'ifftn'])
def test_fftn_over_no_dims_is_the_complex_input(name, device):
    for x, kw in [(data((), 'float32'), {}), (data((3, 4), 'float64'), {'dim': ()}),
                  (data((3, 4), 'complex64'), {'s': ()}), (np.array(3), {})]:
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(x), **kw), device)
        assert_close(got, expected, device, f'{name}({x.dtype}, {kw})')


@pytest.mark.parametrize('name', sorted(ONE_DIM) + sorted(ND) + sorted(TWO_DIM))
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8', 'bool'])
def test_integer_and_bool_inputs_compute_in_the_default_float(name, dtype, device):
    x = (data((4, 6), 'float64') * 3).astype(dtype)
    got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(x)), device)
    assert_close(got, expected, device)
    previous = nbgrad.get_default_dtype()
    try:
        for lib in (torch, nbgrad):
            lib.set_default_dtype(lib.float64)
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(x)), device)
        assert dname(got.dtype) in ('complex128', 'float64')
        assert_close(got, expected, device, 'default dtype float64')
    finally:
        torch.set_default_dtype(torch.float32)
        nbgrad.set_default_dtype(previous)


def test_round_trips(device):
    """The inverse transforms undo the forward ones for every norm (checked against the input
    itself, so PyTorch is not needed as the oracle here)."""
    x = data((4, 6), 'float64')
    c = data((4, 6), 'complex128')
    f = nbgrad.fft
    for norm in NORMS:
        X, C = make(nbgrad, x, device), make(nbgrad, c, device)
        np.testing.assert_allclose(host(f.ifft(f.fft(C, norm=norm), norm=norm)), c, atol=1e-12)
        np.testing.assert_allclose(host(f.irfft(f.rfft(X, norm=norm), n=6, norm=norm)), x,
                                   atol=1e-12)
        np.testing.assert_allclose(host(f.irfftn(f.rfftn(X, norm=norm), s=(4, 6), norm=norm)),
                                   x, atol=1e-12)
        np.testing.assert_allclose(host(f.hfft(f.ihfft(X, norm=norm), n=6, norm=norm)), x,
                                   atol=1e-12)
        np.testing.assert_allclose(host(f.ifftn(f.fftn(C, norm=norm), norm=norm)), c,
                                   atol=1e-12)


def test_non_contiguous_and_view_inputs(device):
    x = data((6, 8), 'complex64')
    for view in (lambda t: t.T, lambda t: t[::2, 1::3], lambda t: t[:, 2]):
        got, expected = run_both(lambda lib, T: lib.fft.fft(view(T(x)), dim=0), device)
        assert_close(got, expected, device)
        got, expected = run_both(lambda lib, T: lib.fft.irfftn(view(T(x)).real), device)
        assert_close(got, expected, device)


def test_empty_batch_dims_give_empty_results(device):
    # deliberate difference: PyTorch's CPU (MKL) kernel raises for these; the shapes expected
    # are PyTorch's for the same tensor with one row, with that row removed
    for name in ['fft', 'ifft', 'rfft', 'ihfft', 'irfft', 'hfft']:
        one = getattr(torch.fft, name)(torch.zeros(1, 6))
        got = getattr(nbgrad.fft, name)(nbgrad.zeros(0, 6, device=device))
        assert tuple(got.shape) == (0,) + tuple(one.shape[1:])
        assert dname(got.dtype) == dname(one.dtype)
    got = nbgrad.fft.fftn(nbgrad.zeros(0, 6, device=device), dim=(1,), s=(4,))
    assert tuple(got.shape) == (0, 4) and got.dtype == nbgrad.complex64


def test_errors_name_the_empty_transformed_dim(device):
    for fn in [lambda lib, T: lib.fft.fft(T(np.zeros((0, 4))), dim=0),
               lambda lib, T: lib.fft.fftn(T(np.zeros((0, 4)))),
               lambda lib, T: lib.fft.rfft(T(np.zeros((4, 0)))),
               lambda lib, T: lib.fft.irfft(T(np.zeros((4, 0)))),
               lambda lib, T: lib.fft.irfftn(T(np.zeros((4, 0))))]:
        assert_same_error(lambda lib: fn(lib, lambda a: make(lib, a, device)))


# ---------------------------------------------------------------------------------------------
# out=
# ---------------------------------------------------------------------------------------------

OUT_CASES = [  # (name, input dtype, out dtype, kwargs)
    ('fft', 'float32', 'complex64', {}), ('fft', 'complex64', 'complex128', {'n': 7}),
    ('fft', 'float64', 'complex64', {}), ('ifft', 'complex128', 'complex128', {'dim': 0}),
    ('ifft', 'float32', 'complex64', {}), ('rfft', 'float32', 'complex128', {'norm': 'ortho'}),
    ('ihfft', 'float64', 'complex128', {}), ('irfft', 'complex64', 'float64', {'n': 5}),
    ('irfft', 'float32', 'float32', {}), ('hfft', 'complex128', 'float32', {}),
    ('hfft', 'complex64', 'float16', {}), ('fftn', 'float32', 'complex64', {'s': (3, 3)}),
    ('ifftn', 'complex64', 'complex128', {}), ('fft2', 'complex128', 'complex64', {}),
    ('ifft2', 'float64', 'complex128', {'dim': (1, 0)}), ('rfftn', 'float64', 'complex64', {}),
    ('rfft2', 'float32', 'complex64', {'s': (5, 5)}), ('irfftn', 'complex64', 'float32', {}),
    ('irfft2', 'complex128', 'float64', {'s': (4, 9)}), ('hfftn', 'complex64', 'float64', {}),
    ('hfft2', 'float32', 'float32', {}), ('ihfftn', 'float32', 'complex64', {}),
    ('ihfft2', 'float64', 'complex128', {'norm': 'forward'})]


@pytest.mark.parametrize('name,dtype,out_dtype,kw', OUT_CASES,
                         ids=[f'{c[0]}-{c[1]}-{c[2]}' for c in OUT_CASES])
def test_out(name, dtype, out_dtype, kw, device):
    x = data((4, 6), dtype)

    def call(lib, T):
        out = lib.empty(0, dtype=getattr(lib, out_dtype),
                        **({'device': device} if lib is nbgrad else {}))
        result = getattr(lib.fft, name)(T(x), out=out, **kw)
        assert result is out
        return out
    got, expected = run_both(call, device)
    assert_close(got, expected, device, single=dtype in ('float32', 'complex64'))


def test_out_of_another_shape_is_resized_with_pytorchs_warning(device):
    messages = []
    for lib in (torch, nbgrad):
        out = lib.zeros(5, dtype=lib.complex64,
                        **({'device': device} if lib is nbgrad else {}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.fft.fft(make(lib, data((3, 4), 'float32'), device if lib is nbgrad else 'cpu'),
                        out=out)
        assert tuple(out.shape) == (3, 4)
        # (PyTorch adds where in its C++ sources the warning comes from)
        messages.append([str(w.message).split(' (Triggered internally')[0] for w in caught])
    assert messages[1] == messages[0]


OUT_ERRORS = [  # (name, input dtype, out dtype, kwargs): PyTorch refuses these outs
    ('fft', 'float32', 'float32', {}), ('fft', 'complex64', 'float32', {}),
    ('ifft', 'float32', 'float32', {}), ('rfft', 'float32', 'int64', {}),
    ('ihfft', 'float32', 'float32', {}), ('irfft', 'complex64', 'complex64', {}),
    ('irfft', 'complex64', 'int64', {}), ('hfft', 'float32', 'complex64', {}),
    ('fftn', 'float32', 'float32', {}), ('ifftn', 'complex64', 'float64', {}),
    ('ifft2', 'float32', 'float32', {}), ('rfftn', 'float32', 'float32', {}),
    ('rfft2', 'float64', 'float64', {}), ('irfftn', 'float32', 'complex64', {}),
    ('irfft2', 'float32', 'complex64', {}), ('hfftn', 'float32', 'complex64', {}),
    ('hfft2', 'complex64', 'complex64', {}), ('ihfftn', 'float32', 'float32', {}),
    ('ihfft2', 'float32', 'float32', {}),
    # the conj_physical_out paths take only the result's dtype
    ('ifft', 'float32', 'complex128', {}), ('ihfft', 'float32', 'complex128', {}),
    ('ihfftn', 'float32', 'complex128', {'dim': (1,)}),
    # the out check against other errors: whichever PyTorch checks first
    ('fft', 'float32', 'float32', {'norm': 'bad'}), ('fft', 'complex64', 'float32',
                                                     {'norm': 'bad'}),
    ('irfft', 'float32', 'complex64', {'n': 0}), ('fftn', 'float32', 'float32',
                                                  {'dim': (0, 0)}),
    ('fftn', 'float32', 'float32', {'norm': 'bad'}), ('irfft', 'float16', 'complex64', {})]


@pytest.mark.parametrize('name,dtype,out_dtype,kw', OUT_ERRORS,
                         ids=[f'{c[0]}-{c[1]}-{c[2]}-{c[3]}' for c in OUT_ERRORS])
def test_out_errors(name, dtype, out_dtype, kw, device):
    x = data((4, 6), dtype)
    assert_same_error(lambda lib: getattr(lib.fft, name)(
        make(lib, x, device if lib is nbgrad else 'cpu'), **kw,
        out=lib.empty(0, dtype=getattr(lib, out_dtype),
                      **({'device': device} if lib is nbgrad else {}))))


@pytest.mark.parametrize('name,dtype,out_dtype', [
    ('fft', 'float32', 'complex64'), ('rfft', 'float64', 'complex128'),
    ('irfft', 'float32', 'float32'), ('hfftn', 'float64', 'float64'),
    ('fftn', 'float32', 'complex64'), ('rfft2', 'float32', 'complex64'),
    ('ihfft2', 'float32', 'complex64')])
def test_out_with_an_input_that_requires_grad(name, dtype, out_dtype, device):
    x = data((4, 6), dtype)
    assert_same_error(lambda lib: getattr(lib.fft, name)(
        make(lib, x, device if lib is nbgrad else 'cpu', requires_grad=True),
        out=lib.empty(0, dtype=getattr(lib, out_dtype),
                      **({'device': device} if lib is nbgrad else {}))))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

X = data((3, 4), 'float32')
C = data((3, 4), 'complex64')
H = X.astype(np.float16)
ERRORS = {
    'bad norm': lambda f, T: f.fft(T(X), norm='bad'),
    'bad norm, complex': lambda f, T: f.ifft(T(C), norm='Ortho'),
    'bad norm, nd': lambda f, T: f.irfftn(T(C), norm='bad'),
    'bad norm, 0-d fftn': lambda f, T: f.ifftn(T(np.float32(1)), norm='x'),
    'n before norm': lambda f, T: f.fft(T(X), n=0, norm='bad'),
    'n = 0': lambda f, T: f.fft(T(X), n=0),
    'n < 0': lambda f, T: f.rfft(T(X), n=-2),
    'irfft n = 0': lambda f, T: f.irfft(T(C), n=0),
    'irfft of one point': lambda f, T: f.irfft(T(np.zeros((3, 1), 'complex64'))),
    'hfft of one point': lambda f, T: f.hfft(T(np.zeros((3, 1), 'complex64'))),
    'irfftn of one point': lambda f, T: f.irfftn(T(np.zeros((3, 1), 'complex64'))),
    'irfftn s=-1 of one point': lambda f, T: f.irfftn(T(np.zeros((3, 1))), s=(3, -1)),
    'dim out of range': lambda f, T: f.fft(T(X), dim=2),
    'negative dim out of range': lambda f, T: f.ihfft(T(X), dim=-3),
    '0-d input': lambda f, T: f.fft(T(np.float32(1))),
    '0-d input, dim 0': lambda f, T: f.irfft(T(np.float32(1)), dim=0),
    'fft2 of 1-d': lambda f, T: f.fft2(T(X[0])),
    'nd dim out of range': lambda f, T: f.fftn(T(X), dim=(0, 5)),
    'repeated dims': lambda f, T: f.fftn(T(X), dim=(0, 0)),
    'repeated dims, negative': lambda f, T: f.rfftn(T(X), dim=(1, -1)),
    'repeated dims, 2-d': lambda f, T: f.irfft2(T(C), dim=(-2, 0)),
    's and dim lengths': lambda f, T: f.fftn(T(X), s=(2,), dim=(0, 1)),
    's and default 2-d dims': lambda f, T: f.fft2(T(np.zeros((2, 3, 4))), s=(2, 2, 2)),
    'int s for fft2': lambda f, T: f.ifft2(T(X), s=3),
    's longer than ndim': lambda f, T: f.fftn(T(X), s=(2, 2, 2)),
    's = 0': lambda f, T: f.hfftn(T(C), s=(0, 4)),
    's = -2': lambda f, T: f.fftn(T(X), s=(-2, 2)),
    'rfftn no dims': lambda f, T: f.rfftn(T(X), dim=()),
    'rfftn of 0-d': lambda f, T: f.rfftn(T(np.float32(1))),
    'irfftn no dims': lambda f, T: f.irfftn(T(X), dim=()),
    'hfftn no dims': lambda f, T: f.hfftn(T(X), dim=[]),
    'ihfftn no dims': lambda f, T: f.ihfftn(T(X), dim=()),
    'rfft of complex': lambda f, T: f.rfft(T(C)),
    'rfft of complex before n': lambda f, T: f.rfft(T(C), n=0),
    'ihfft of complex': lambda f, T: f.ihfft(T(C)),
    'rfftn of complex': lambda f, T: f.rfftn(T(C), dim=(0, 0)),
    'rfft2 of complex': lambda f, T: f.rfft2(T(C)),
    'ihfftn of complex': lambda f, T: f.ihfftn(T(C)),
    'ihfft2 of complex': lambda f, T: f.ihfft2(T(C)),
    'ihfftn of complex, dims first': lambda f, T: f.ihfftn(T(C), dim=(0, 0)),
    'float16': lambda f, T: f.fft(T(H)),
    'float16 before n': lambda f, T: f.rfft(T(H), n=0),
    'float16 before dim': lambda f, T: f.irfft(T(H), dim=4),
    'float16, nd': lambda f, T: f.fftn(T(H)),
    'float16 after dims': lambda f, T: f.rfftn(T(H), dim=(0, 0)),
    'float16, no dims': lambda f, T: f.fftn(T(H), dim=()),
    'float16 ihfftn': lambda f, T: f.ihfft2(T(H)),
    'float16 hfft': lambda f, T: f.hfft(T(H)),
    # the parser's TypeErrors
    'n float': lambda f, T: f.fft(T(X), n=3.0),
    'n bool': lambda f, T: f.fft(T(X), n=True),
    'dim tuple': lambda f, T: f.fft(T(X), dim=(0,)),
    'fft2 dim None': lambda f, T: f.fft2(T(X), dim=None),
    'norm int': lambda f, T: f.fft(T(X), norm=1),
    's floats': lambda f, T: f.fftn(T(X), s=(3.0,)),
    'dim floats': lambda f, T: f.rfftn(T(X), dim=(1.0,)),
    'input a list': lambda f, T: f.fft([1.0, 2.0]),
    'out a list': lambda f, T: f.fft(T(X), out=[]),
}


@pytest.mark.parametrize('case', list(ERRORS))
def test_errors(case, device):
    assert_same_error(lambda lib: ERRORS[case](
        lib.fft, lambda a: make(lib, a, device if lib is nbgrad else 'cpu')))


# ---------------------------------------------------------------------------------------------
# Autograd
# ---------------------------------------------------------------------------------------------

REAL_TO_REAL = [  # irfft*/hfft* of a real input: differentiable in nbgrad as in PyTorch
    ('irfft', {}), ('irfft', {'n': 7}), ('irfft', {'n': 4, 'dim': 0, 'norm': 'ortho'}),
    ('irfft', {'n': 12, 'norm': 'forward'}), ('hfft', {}), ('hfft', {'n': 5, 'norm': 'ortho'}),
    ('hfft', {'n': 9, 'dim': 0, 'norm': 'forward'}), ('irfftn', {}),
    ('irfftn', {'s': (3, 7), 'dim': (1, 0)}), ('irfftn', {'s': (6,), 'norm': 'ortho'}),
    ('hfftn', {'s': (2, 4), 'norm': 'forward'}), ('hfftn', {'dim': (0,)}),
    ('irfft2', {'s': (5, 5)}), ('hfft2', {'norm': 'ortho'})]


@pytest.mark.parametrize('name,kw', REAL_TO_REAL, ids=[f'{n}-{k}' for n, k in REAL_TO_REAL])
def test_real_to_real_transforms_are_differentiable(name, kw, device):
    x = data((4, 5), 'float64')
    w = data(getattr(torch.fft, name)(torch.tensor(x), **kw).shape, 'float64', seed=1)
    v = data((4, 5), 'float64', seed=2)
    results = []
    for lib in (torch, nbgrad):
        dev = device if lib is nbgrad else 'cpu'
        xt = make(lib, x, dev, requires_grad=True)
        y = getattr(lib.fft, name)(xt, **kw)
        assert y.grad_fn.name() == 'FftC2RBackward0'
        loss = (y * y * make(lib, w, dev)).sum()   # non-linear, so second derivatives are not 0
        g, = lib.autograd.grad(loss, xt, create_graph=True)
        (g * make(lib, v, dev)).sum().backward()
        results.append((y, g, xt.grad))
    for got, expected, what in zip(results[1], results[0], ['value', 'grad', 'grad of grad']):
        assert_close(got, expected, device, what)


def test_real_to_real_gradcheck(device):
    x = nbgrad.tensor(data((3, 4), 'float64'), device=device, requires_grad=True)
    for fn in [lambda t: nbgrad.fft.irfft(t, n=5), lambda t: nbgrad.fft.hfft2(t, s=(4, 6)),
               lambda t: nbgrad.fft.irfftn(t, s=(2, 4), dim=(1, 0), norm='ortho')]:
        assert nbgrad.autograd.gradcheck(fn, (x,))
        assert nbgrad.autograd.gradgradcheck(fn, (x,))


def test_float32_gradient_dtype(device):
    got, expected = run_both(lambda lib, T: lib.autograd.grad(
        lib.fft.irfft(x := T(data((3, 4), 'float32'), requires_grad=True), n=5).sum(), x)[0],
        device)
    assert_close(got, expected, device)


TRANSFORMS_FOR_GRAD = [
    lambda f, x: f.fft(x), lambda f, x: f.ifft(x, n=3), lambda f, x: f.rfft(x),
    lambda f, x: f.ihfft(x), lambda f, x: f.fftn(x), lambda f, x: f.ifft2(x, norm='ortho'),
    lambda f, x: f.rfftn(x, dim=0), lambda f, x: f.rfft2(x, s=(5, 3)), lambda f, x: f.ihfftn(x),
    lambda f, x: f.ihfft2(x, norm='forward'), lambda f, x: f.fftn(x, dim=()),
    lambda f, x: f.irfft(x * 1j), lambda f, x: f.hfftn(x * (1 + 1j)),
    lambda f, x: f.irfft(x * (1 - 2j), n=7, norm='ortho'), lambda f, x: f.hfft(x * 1j, n=4),
    lambda f, x: f.irfftn(x * (2 + 1j), s=(2, 6)), lambda f, x: f.hfft2(x * 1j, norm='forward'),
    lambda f, x: f.fft2(x * (1 + 1j), s=(2, 6))]


@pytest.mark.parametrize('dtype', ['float64', 'complex128', 'float32'])
@pytest.mark.parametrize('case', range(len(TRANSFORMS_FOR_GRAD)))
def test_gradients_through_complex_match_pytorch(case, dtype, device):
    """Every transform is differentiable through complex inputs and results, with PyTorch's
    gradient (the adjoint transform): a real loss weighting the result's real and imaginary
    parts differently, of a real or complex input."""
    fn = TRANSFORMS_FOR_GRAD[case]
    if dtype.startswith('complex') and case in (2, 3, 6, 7, 8, 9):
        pytest.skip('r2c transforms take real inputs')
    x = data((3, 4), dtype)

    def grad(lib, T):
        t = T(x, requires_grad=True)
        out = fn(lib.fft, t)
        w = T(data(tuple(out.shape), 'complex128', seed=1).astype(
            'complex64' if dtype == 'float32' else 'complex128'))
        loss = (out * w).real.sum() + (out.abs() ** 2).sum()
        return lib.autograd.grad(loss, t)[0]
    got, expected = run_both(grad, device)
    assert_close(got, expected.resolve_conj(), device, single=dtype == 'float32')


@pytest.mark.parametrize('case', range(len(TRANSFORMS_FOR_GRAD)))
def test_complex_gradcheck(case, device):
    """Second derivatives too: the adjoint's gradient is the transform again."""
    fn = TRANSFORMS_FOR_GRAD[case]
    x = nbgrad.tensor(data((2, 3), 'float64'), device=device, requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda t: fn(nbgrad.fft, t), (x,))
    assert nbgrad.autograd.gradgradcheck(lambda t: fn(nbgrad.fft, t), (x,))


def test_grad_fn_names():
    def names(lib):
        x = lib.ones(4, requires_grad=True)
        z = lib.ones(4, dtype=lib.complex64, requires_grad=True)
        return [type(t.grad_fn).__name__ for t in (lib.fft.fft(z), lib.fft.rfft(x),
                                                  lib.fft.irfft(z), lib.fft.fft(x))]
    assert names(nbgrad) == names(torch)


# ---------------------------------------------------------------------------------------------
# fftfreq, rfftfreq
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['fftfreq', 'rfftfreq'])
@pytest.mark.parametrize('dtype', [None, 'float32', 'float64', 'float16'])
def test_frequencies(name, dtype, device):
    for n in [0, 1, 2, 5, 8, 11, 100, 3001]:
        for d in [1.0, 0.3, 2, -0.5, 1e-3, 0.0]:
            def call(lib, T):
                kw = {} if dtype is None else {'dtype': getattr(lib, dtype)}
                if lib is nbgrad:
                    kw['device'] = device
                return getattr(lib.fft, name)(n, d, **kw)
            got, expected = run_both(call, device)
            assert_close(got, expected, device, f'{name}({n}, {d}, dtype={dtype})')


def test_frequency_options(device):
    for name in ['fftfreq', 'rfftfreq']:
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(
            n=9, d=0.25, dtype=lib.float64, requires_grad=True,
            **({'device': device} if lib is nbgrad else {})), device)
        assert got.requires_grad and got.is_leaf and expected.requires_grad
        assert_close(got, expected, device)
        # out= takes its dtype and device from out
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(
            6, out=lib.empty(0, dtype=lib.float64,
                             **({'device': device} if lib is nbgrad else {}))), device)
        assert_close(got, expected, device)
        # d as a 0-d tensor, n as a NumPy integer
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(
            np.int64(7), T(0.5), **({'device': device} if lib is nbgrad else {})), device)
        assert_close(got, expected, device)
        # the default dtype
        previous = nbgrad.get_default_dtype()
        try:
            for lib in (torch, nbgrad):
                lib.set_default_dtype(lib.float64)
            got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(
                5, **({'device': device} if lib is nbgrad else {})), device)
            assert_close(got, expected, device)
        finally:
            torch.set_default_dtype(torch.float32)
            nbgrad.set_default_dtype(previous)
    # rfftfreq of a negative n: PyTorch's n / 2 + 1 in C++ (truncated) elements
    for n in [-1, -2, -3]:
        got, expected = run_both(lambda lib, T: lib.fft.rfftfreq(n), device)
        assert_close(got, expected, 'cpu')


FREQ_ERRORS = {
    'int dtype': lambda lib: lib.fft.fftfreq(5, dtype=lib.int64),
    'bool dtype': lambda lib: lib.fft.rfftfreq(5, dtype=lib.bool),
    'complex dtype': lambda lib: lib.fft.fftfreq(5, dtype=lib.complex64),
    'complex128 dtype': lambda lib: lib.fft.rfftfreq(5, dtype=lib.complex128),
    'negative n': lambda lib: lib.fft.fftfreq(-1),
    'negative n, rfftfreq': lambda lib: lib.fft.rfftfreq(-4),
    'negative n before dtype': lambda lib: lib.fft.fftfreq(-3, dtype=lib.int64),
    'n float': lambda lib: lib.fft.fftfreq(5.0),
    'd complex': lambda lib: lib.fft.fftfreq(5, d=2j),
    'd tensor with grad': lambda lib: lib.fft.fftfreq(5, d=lib.tensor(2., requires_grad=True)),
    'd 1-d tensor': lambda lib: lib.fft.rfftfreq(5, d=lib.tensor([1., 2.])),
    'int out': lambda lib: lib.fft.fftfreq(5, out=lib.empty(0, dtype=lib.int64)),
    'dtype and out': lambda lib: lib.fft.rfftfreq(5, dtype=lib.float32,
                                                  out=lib.empty(0, dtype=lib.float64)),
}


@pytest.mark.parametrize('case', list(FREQ_ERRORS))
def test_frequency_errors(case):
    assert_same_error(FREQ_ERRORS[case])


# ---------------------------------------------------------------------------------------------
# fftshift, ifftshift
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['fftshift', 'ifftshift'])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'bool', 'complex64',
                                   'float16'])
def test_shifts(name, dtype, device):
    x = (data((4, 5, 7), 'complex128' if dtype.startswith('complex') else 'float64') * 3)
    x = x.astype(dtype)
    for dim in [None, 0, -1, (0, 2), [2, -2], (1, 1)]:
        kw = {} if dim is None else {'dim': dim}
        got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(x), **kw), device)
        assert_close(got, expected, device, f'{name}(dim={dim})')
    got, expected = run_both(lambda lib, T: getattr(lib.fft, name)(T(np.zeros((0, 3)))),
                             device)
    assert_close(got, expected, device)


def test_shifts_undo_each_other(device):
    x = nbgrad.tensor(data((5, 6), 'float64'), device=device)
    for dim in [None, 0, (1,), (0, 1)]:
        kw = {} if dim is None else {'dim': dim}
        back = nbgrad.fft.ifftshift(nbgrad.fft.fftshift(x, **kw), **kw)
        np.testing.assert_array_equal(host(back), host(x))


@pytest.mark.parametrize('name', ['fftshift', 'ifftshift'])
def test_shift_gradients(name, device):
    x = data((4, 5), 'float64')
    w = data((4, 5), 'float64', seed=1)
    for dim in [None, 1, (0, -1), (0, 0)]:
        results = []
        for lib in (torch, nbgrad):
            dev = device if lib is nbgrad else 'cpu'
            xt = make(lib, x, dev, requires_grad=True)
            y = getattr(lib.fft, name)(xt, **({} if dim is None else {'dim': dim}))
            assert y.grad_fn.name() == 'RollBackward0'
            (y * make(lib, w, dev)).sum().backward()
            results.append((y, xt.grad))
        for got, expected in zip(results[1], results[0]):
            assert_close(got, expected, device, f'{name}(dim={dim})')


SHIFT_ERRORS = {
    '0-d': lambda f, T: f.fftshift(T(np.float32(1))),
    'no dims': lambda f, T: f.ifftshift(T(X), dim=()),
    '0-d dim 0': lambda f, T: f.fftshift(T(np.float32(1)), dim=0),
    'dim out of range': lambda f, T: f.ifftshift(T(X), dim=(3,)),
}


@pytest.mark.parametrize('case', list(SHIFT_ERRORS))
def test_shift_errors(case, device):
    assert_same_error(lambda lib: SHIFT_ERRORS[case](
        lib.fft, lambda a: make(lib, a, device if lib is nbgrad else 'cpu')))


def test_shifts_take_no_out():
    for lib in (torch, nbgrad):
        with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
            lib.fft.fftshift(lib.zeros(3), out=lib.zeros(3))


# ---------------------------------------------------------------------------------------------
# The namespace, and the (fake or real) cupy.fft nbgrad relies on
# ---------------------------------------------------------------------------------------------

def test_namespace_matches_torch():
    names = ['fft', 'ifft', 'fft2', 'ifft2', 'fftn', 'ifftn', 'rfft', 'irfft', 'rfft2',
             'irfft2', 'rfftn', 'irfftn', 'hfft', 'ihfft', 'hfft2', 'ihfft2', 'hfftn', 'ihfftn',
             'fftfreq', 'rfftfreq', 'fftshift', 'ifftshift']
    assert sorted(nbgrad.fft.__all__) == sorted(names)
    for name in names:
        assert callable(getattr(torch.fft, name)) and callable(getattr(nbgrad.fft, name))


@pytest.mark.cuda
def test_cupy_fft_keeps_single_precision():
    """The CuPy behaviours nbgrad's CUDA path (and the fake CuPy) rely on: device arrays only,
    float32 computes in complex64, norm='forward' exists, n < 1 is a ValueError."""
    cupy = pytest.importorskip('cupy')
    x = cupy.arange(8, dtype=np.float32)
    assert isinstance(cupy.fft.fft(x), cupy.ndarray)
    assert cupy.fft.fft(x).dtype == np.complex64
    assert cupy.fft.rfftn(x, axes=(0,)).dtype == np.complex64
    assert cupy.fft.irfftn(cupy.fft.rfft(x), s=(8,), axes=(0,)).dtype == np.float32
    assert cupy.fft.fftn(x.astype(np.float64), axes=(0,)).dtype == np.complex128
    assert cupy.fft.fft(cupy.arange(4)).dtype == np.complex128
    np.testing.assert_allclose(cupy.asnumpy(cupy.fft.fft(x, norm='forward')),
                               np.fft.fft(np.arange(8.), norm='forward'), atol=1e-6)
    with pytest.raises(TypeError):
        cupy.fft.fft(np.ones(4))
    with pytest.raises(ValueError):
        cupy.fft.fft(x, n=0)
