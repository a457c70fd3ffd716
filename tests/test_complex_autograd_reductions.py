"""Complex tensors through norms, gradient clipping, cumprod, var/std, logsumexp and lerp,
against PyTorch: forward values (real outputs where PyTorch's are real) and gradients in
PyTorch's convention (z.grad = dL/dx + i dL/dy), also through create_graph, plus a float64
central-difference check of that convention that uses neither library's autograd."""
import math
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

RNG = np.random.default_rng(0)


def _c(*shape, rng=RNG):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


Z = _c(3, 4)
Z_SPECIAL = Z.copy()
Z_SPECIAL[0, 1] = 0                     # a zero (sgn's and |x|^(p-1)'s special case)
Z_SPECIAL[2] = 0                        # a zero row (a norm of 0)
Z_SPECIAL[1, 2], Z_SPECIAL[1, 3] = 3 + 4j, -4 + 3j      # a tie of |x| (the inf-norm's)


def _np(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        t = t.resolve_conj()
    return t.numpy()


def _weights(shape):
    """Fixed complex weights so a complex output's every element counts in the loss."""
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) + 1) * (1 - 0.5j)


def _real_loss(lib, out):
    """A real scalar from any output: sum(Re(w * out)) (w real for a real output)."""
    w = _weights(tuple(out.shape))
    w = lib.tensor(w if out.is_complex() else w.real.copy(), dtype=out.dtype)
    return (out * w).real.sum() if out.is_complex() else (out * w).sum()


def _run(lib, fn, *values):
    xs = [lib.tensor(v, requires_grad=True) for v in values]
    out = fn(lib, *xs)
    _real_loss(lib, out).backward()
    return out, [x.grad for x in xs]


def _assert_close(got, expected, where, rtol=1e-10, atol=1e-12):
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1], where
    g, e = _np(got), _np(expected)
    assert g.shape == e.shape, where
    for part in (np.real, np.imag):
        np.testing.assert_allclose(part(g), part(e), rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=where)


def _same_as_torch(fn, *values, rtol=1e-10, atol=1e-12):
    """fn(lib, *leaves) forward and the leaves' gradients, nbgrad against torch."""
    out_t, grads_t = _run(torch, fn, *values)
    out_n, grads_n = _run(nbgrad, fn, *values)
    _assert_close(out_n, out_t, 'forward', rtol, atol)
    for i, (g_n, g_t) in enumerate(zip(grads_n, grads_t)):
        if g_t is None:
            assert g_n is None, f'input {i}: torch gives no gradient'
        else:
            _assert_close(g_n, g_t, f'gradient of input {i}', rtol, atol)


def _numerical_grad(fn, value, h=1e-6):
    """dL/dx + i dL/dy of L = _real_loss(fn(z)) by float64 central differences (forward only,
    in nbgrad, no autograd): the convention itself checked without either library's backward."""
    def loss(v):
        with nbgrad.no_grad():
            return float(_real_loss(nbgrad, fn(nbgrad, nbgrad.tensor(v))))
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        for unit in (1, 1j):
            up, down = value.copy(), value.copy()
            up[index] += h * unit
            down[index] -= h * unit
            grad[index] += unit * (loss(up) - loss(down)) / (2 * h)
    return grad


# ---------------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------------

ORDS = [2, 1, math.inf, -math.inf, 0, 3, 1.5, 0.5, -1]


@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('dim', [None, 1, (0, 1), 0], ids=str)
@pytest.mark.parametrize('ord', ORDS, ids=str)
def test_vector_norm(ord, dim, keepdim):
    _same_as_torch(lambda lib, x: lib.linalg.vector_norm(x, ord, dim, keepdim), Z_SPECIAL)


@pytest.mark.parametrize('ord', [2, 1, math.inf, 3, 1.5, 0.5])
def test_vector_norm_gradient_numerically(ord):
    """Away from zeros and ties, where the norm is differentiable."""
    z = _c(2, 3)
    _, (grad,) = _run(nbgrad, lambda lib, x: lib.linalg.vector_norm(x, ord, 1), z)
    expected = _numerical_grad(lambda lib, x: lib.linalg.vector_norm(x, ord, 1), z)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('ord', [2, 1, 3, 1.5, math.inf])
def test_vector_norm_double_backward(ord):
    def grad_of_grad(lib):
        x = lib.tensor(Z, requires_grad=True)
        (g,) = lib.autograd.grad(lib.linalg.vector_norm(x, ord, 1).sum(), x, create_graph=True)
        (g.real * 2 + g.imag * 3).sum().backward()
        return x.grad
    _assert_close(grad_of_grad(nbgrad), grad_of_grad(torch), 'second derivative')


@pytest.mark.parametrize('case', [
    lambda lib, x: x.norm(),
    lambda lib, x: x.norm(1, dim=0, keepdim=True),
    lambda lib, x: lib.norm(x, p='fro', dim=1),
    lambda lib, x: lib.norm(x, 3, dim=0),
    lambda lib, x: lib.linalg.norm(x),
    lambda lib, x: lib.linalg.norm(x, 'fro'),
    lambda lib, x: lib.linalg.norm(x, 1, dim=1),
    lambda lib, x: lib.linalg.norm(x[1], math.inf),
    lambda lib, x: lib.linalg.vector_norm(x.to(lib.complex64), dtype=lib.complex128),
    lambda lib, x: lib.linalg.vector_norm(x.to(lib.complex64), 1.5, 0),
    lambda lib, x: lib.nn.functional.normalize(x),
    lambda lib, x: lib.nn.functional.normalize(x, p=1, dim=0),
    lambda lib, x: lib.nn.functional.normalize(x, p=math.inf, dim=1).abs(),
], ids=['Tensor.norm', 'Tensor.norm-1-dim', 'torch.norm-fro', 'torch.norm-3', 'linalg.norm',
        'linalg.norm-fro', 'linalg.norm-1-dim', 'linalg.norm-inf-vector', 'dtype=complex128',
        'complex64', 'normalize', 'normalize-p1', 'normalize-inf'])
def test_norm_entry_points(case):
    _same_as_torch(case, Z_SPECIAL, rtol=1e-6, atol=1e-7)


def test_vector_norm_dtype_must_stay_complex():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='dtype should be complex'):
            lib.linalg.vector_norm(lib.tensor(Z), dtype=lib.float64)


# ---------------------------------------------------------------------------------------------
# Gradient clipping with complex gradients
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('foreach', [None, False, True])
@pytest.mark.parametrize('norm_type', [2.0, 1.0, 'inf', 3.0])
def test_clip_grad_norm(norm_type, foreach):
    results = []
    for lib in (torch, nbgrad):
        w = lib.nn.Parameter(lib.tensor(Z))
        b = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        w.grad, b.grad = lib.tensor(Z * 3), lib.tensor([3.0, -4.0, 0.5], dtype=lib.float64)
        total = lib.nn.utils.clip_grad_norm_([w, b], 1.0, norm_type=norm_type,
                                             foreach=foreach)
        results.append((total, w.grad, b.grad))
    for got, expected in zip(results[1], results[0]):
        _assert_close(got, expected, 'clip_grad_norm_')


def test_get_total_norm_of_complex_tensors():
    _assert_close(nbgrad.nn.utils.get_total_norm([nbgrad.tensor(Z), nbgrad.tensor(Z[0])], 3),
                  torch.nn.utils.get_total_norm([torch.tensor(Z), torch.tensor(Z[0])], 3),
                  'get_total_norm')


@pytest.mark.parametrize('foreach', [None, True])
def test_clip_grad_value_refuses_complex(foreach):
    """PyTorch has no complex clamp: the same error, and the gradient is left as it was."""
    for lib in (torch, nbgrad):
        w = lib.nn.Parameter(lib.tensor(Z))
        w.grad = lib.tensor(Z * 3)
        with pytest.raises(NotImplementedError, match='clamp is not supported for complex'):
            lib.nn.utils.clip_grad_value_([w], 1.0, foreach=foreach)
        np.testing.assert_array_equal(_np(w.grad), Z * 3)


# ---------------------------------------------------------------------------------------------
# cumprod
# ---------------------------------------------------------------------------------------------

Z_ZEROS = Z.copy()
Z_ZEROS[1, 1] = Z_ZEROS[2, 0] = Z_ZEROS[2, 2] = 0


@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('value', [Z, Z_ZEROS], ids=['no-zeros', 'zeros'])
def test_cumprod(value, dim):
    _same_as_torch(lambda lib, x: x.cumprod(dim), value)


def test_cumprod_complex64_and_0dim():
    _same_as_torch(lambda lib, x: lib.cumprod(x.to(lib.complex64), 1), Z, rtol=1e-5, atol=1e-6)
    _same_as_torch(lambda lib, x: x.cumprod(0), np.array(1.5 - 2j))


def test_cumprod_gradient_numerically():
    z = _c(2, 4)
    _, (grad,) = _run(nbgrad, lambda lib, x: x.cumprod(1), z)
    np.testing.assert_allclose(grad.numpy(), _numerical_grad(lambda lib, x: x.cumprod(1), z),
                               rtol=1e-6, atol=1e-7)


def test_cumprod_double_backward():
    def grad_of_grad(lib):
        x = lib.tensor(Z, requires_grad=True)
        (g,) = lib.autograd.grad(_real_loss(lib, x.cumprod(1)), x, create_graph=True)
        (g.real * 2 - g.imag).sum().backward()
        return x.grad
    _assert_close(grad_of_grad(nbgrad), grad_of_grad(torch), 'second derivative')


def test_cumprod_of_real_input_as_complex():
    """cumprod(real, dtype=complex): nbgrad gives the real input the real part of its complex
    gradient (the engine's rule for real inputs of complex results). PyTorch's engine refuses
    this one backward; its value is what torch gives for cumprod(x.to(complex))."""
    x = Z.real.copy()
    _, (got,) = _run(nbgrad, lambda lib, t: lib.cumprod(t, 1, dtype=lib.complex128), x)
    _, (expected,) = _run(torch, lambda lib, t: lib.cumprod(t.to(lib.complex128), 1), x)
    _assert_close(got, expected, 'gradient of the real input')


# ---------------------------------------------------------------------------------------------
# var / std (real results)
# ---------------------------------------------------------------------------------------------

VAR_CASES = [
    ('var', dict()), ('var', dict(dim=1)), ('var', dict(dim=0, keepdim=True)),
    ('var', dict(dim=(0, 1), correction=0)), ('var', dict(dim=1, correction=2)),
    ('std', dict()), ('std', dict(dim=0)), ('std', dict(dim=1, keepdim=True, correction=0)),
]


@pytest.mark.parametrize('name,kwargs', VAR_CASES, ids=[f'{n}-{k}' for n, k in VAR_CASES])
def test_var_std(name, kwargs):
    _same_as_torch(lambda lib, x: getattr(x, name)(**kwargs), Z)


def test_var_std_complex64_is_float32():
    _same_as_torch(lambda lib, x: x.to(lib.complex64).var(1), Z, rtol=1e-5, atol=1e-6)
    _same_as_torch(lambda lib, x: x.to(lib.complex64).std(), Z, rtol=1e-5, atol=1e-6)


def test_var_std_gradient_numerically():
    z = _c(3, 3)
    for fn in (lambda lib, x: x.var(1), lambda lib, x: x.std(0, correction=0)):
        _, (grad,) = _run(nbgrad, fn, z)
        np.testing.assert_allclose(grad.numpy(), _numerical_grad(fn, z), rtol=1e-6, atol=1e-7)


VALUES_DOF = np.array([[1 + 2j, 1 + 2j, 3 - 1j, 0.5, 2 + 2j], [1, 1, 1, 1, 1],
                       [2, -1, 0.5, 3, 0]], dtype=complex)


@pytest.mark.parametrize('case', [
    lambda lib, x: x.var(correction=15), lambda lib, x: x.std(correction=15),
    lambda lib, x: x.var(1, correction=5), lambda lib, x: x.std(1, correction=5),
    lambda lib, x: x.std(1, correction=6), lambda lib, x: x.var(0, correction=3),
    lambda lib, x: x.std(0), lambda lib, x: x[:1, :1].var(),
    lambda lib, x: (x * lib.tensor([[0.], [1.], [1.]], dtype=lib.float64)).std(1),
], ids=['var-all-no-dof', 'std-all-no-dof', 'var-dim-no-dof', 'std-dim-no-dof',
        'std-dim-negative-dof', 'var-dim0-no-dof', 'std-constant-row', 'var-one-element',
        'std-zero-row'])
def test_var_std_without_degrees_of_freedom(case):
    """PyTorch's inf / NaN pattern (var of a complex tensor is var(real) + var(imag), so a
    constant imaginary part with no degrees of freedom gives NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        _same_as_torch(case, VALUES_DOF)


def test_var_mean_std_mean():
    for name in ('var_mean', 'std_mean'):
        for dim in (0, 1):
            results = []
            for lib in (torch, nbgrad):
                x = lib.tensor(Z, requires_grad=True)
                spread, mean = getattr(lib, name)(x, dim)
                (_real_loss(lib, spread) + _real_loss(lib, mean)).backward()
                results.append((spread, mean, x.grad))
            for got, expected in zip(results[1], results[0]):
                _assert_close(got, expected, f'{name} dim={dim}')


def test_var_std_double_backward():
    def grad_of_grad(lib):
        x = lib.tensor(Z, requires_grad=True)
        (g,) = lib.autograd.grad(x.var(1).sum() + x.std(0).sum(), x, create_graph=True)
        (g.real * g.imag).sum().backward()
        return x.grad
    _assert_close(grad_of_grad(nbgrad), grad_of_grad(torch), 'second derivative')


# ---------------------------------------------------------------------------------------------
# logsumexp
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dim,keepdim', [(1, False), (0, True), ((0, 1), False)])
def test_logsumexp(dim, keepdim):
    _same_as_torch(lambda lib, x: lib.logsumexp(x, dim, keepdim), Z)


def test_logsumexp_principal_branch_and_large_values():
    """The shift is the largest real part, as PyTorch's: imaginary parts near pi stay on the
    principal branch, and 1e3 does not overflow exp."""
    z = np.array([[1 + 3j, 0.5 - 3j, -2 + 2.5j], [0, 1e3 + 1j, -1e3 + 2j]])
    _same_as_torch(lambda lib, x: lib.logsumexp(x, 1), z)
    _same_as_torch(lambda lib, x: lib.logsumexp(x.to(lib.complex64), 0), z, rtol=1e-5,
                   atol=1e-5)


def test_logsumexp_gradient_numerically():
    z = _c(2, 3)
    _, (grad,) = _run(nbgrad, lambda lib, x: lib.logsumexp(x, 1), z)
    np.testing.assert_allclose(
        grad.numpy(), _numerical_grad(lambda lib, x: lib.logsumexp(x, 1), z), rtol=1e-6,
        atol=1e-7)


def test_logsumexp_infinities_and_empty():
    for value in ([[complex(math.inf, 1), 1]], [[complex(-math.inf, 1), complex(-math.inf)]]):
        _assert_close(nbgrad.logsumexp(nbgrad.tensor(value), 1),
                      torch.logsumexp(torch.tensor(value), 1), str(value))
    _assert_close(nbgrad.logsumexp(nbgrad.zeros(0, 3, dtype=nbgrad.complex64), 0),
                  torch.logsumexp(torch.zeros(0, 3, dtype=torch.complex64), 0), 'empty')


# ---------------------------------------------------------------------------------------------
# lerp
# ---------------------------------------------------------------------------------------------

A, B, W = _c(3, 4), _c(3, 4), _c(3, 4) * 0.5


@pytest.mark.parametrize('case,values', [
    (lambda lib, a, b, w: lib.lerp(a, b, w), (A, B, W)),
    (lambda lib, a, b: lib.lerp(a, b, 0.3), (A, B)),
    (lambda lib, a, b: lib.lerp(a, b, 0.8), (A, B)),
    (lambda lib, a, b: a.lerp(b, 0.3 + 0.2j), (A, B)),
    (lambda lib, a, b, w: lib.lerp(a, b[0], w[:, :1]), (A, B, W)),      # broadcast
    (lambda lib, a, w: lib.lerp(a.conj() * 0.5, a, w), (A, W)),
    (lambda lib, a, b: lib.lerp(a, b, lib.tensor(0.3 + 0.1j)), (A, B)),
], ids=['tensor-weight', 'small-number', 'large-number', 'complex-number', 'broadcast',
        'shared-operand', '0dim-complex-weight'])
def test_lerp(case, values):
    _same_as_torch(case, *values)


def test_lerp_gradient_numerically():
    a, b, w = _c(2, 2), _c(2, 2), _c(2, 2)
    grads = _run(nbgrad, lambda lib, x, y, v: lib.lerp(x, y, v), a, b, w)[1]
    for i, (g, value) in enumerate(zip(grads, (a, b, w))):
        def fn(lib, x, i=i):
            operands = [lib.tensor(v) for v in (a, b, w)]
            operands[i] = x
            return lib.lerp(*operands)
        np.testing.assert_allclose(g.numpy(), _numerical_grad(fn, value), rtol=1e-6,
                                   atol=1e-7)


def test_lerp_double_backward():
    def grad_of_grad(lib):
        a, b, w = (lib.tensor(v, requires_grad=True) for v in (A, B, W))
        grads = lib.autograd.grad(_real_loss(lib, lib.lerp(a, b, w * w)), (a, b, w),
                                  create_graph=True)
        sum((g.real * 2 + g.imag).sum() for g in grads).backward()
        return w.grad, a.grad
    for got, expected in zip(grad_of_grad(nbgrad), grad_of_grad(torch)):
        _assert_close(got, expected, 'second derivative')


def test_lerp_real_weight_tensor_refused():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='expected dtype'):
            lib.lerp(lib.tensor(A), lib.tensor(B), lib.tensor(W.real.copy()))


# ---------------------------------------------------------------------------------------------
# sum / mean with dtype=, amax / amin
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['sum', 'mean'])
def test_sum_mean_dtype(name):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # (complex to real discards the imaginary part)
        for value, dtype in ((Z, 'complex64'), (Z, 'float64'), (Z.real.copy(), 'complex128')):
            _assert_close(getattr(nbgrad.tensor(value), name)(dtype=getattr(nbgrad, dtype)),
                          getattr(torch.tensor(value), name)(dtype=getattr(torch, dtype)),
                          f'{name}(dtype={dtype})', rtol=1e-6, atol=1e-7)
    _same_as_torch(lambda lib, x: getattr(x, name)(1, dtype=lib.complex64), Z, rtol=1e-6,
                   atol=1e-7)


@pytest.mark.parametrize('call', [lambda t: t.amax(), lambda t: t.amin(1), lambda t: t.max(),
                                  lambda t: t.min(), lambda t: t.amax(0, keepdim=True)],
                         ids=['amax', 'amin-dim', 'max', 'min', 'amax-keepdim'])
def test_amax_amin_refuse_complex(call):
    for lib in (torch, nbgrad):
        with pytest.raises(NotImplementedError, match='not implemented for .ComplexDouble'):
            call(lib.tensor(Z))
