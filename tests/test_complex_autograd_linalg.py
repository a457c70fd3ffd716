"""Complex autograd of nbgrad.linalg against PyTorch's gradients.

Every row of CASES is a real loss of complex (or, for eig, real) batched matrices; the test runs
it with torch and with nbgrad, in complex64 and complex128, and compares the gradients of every
input (values and dtype). Decompositions whose complex vectors are defined only up to a phase
each (svd, eigh, eig) enter through losses that do not depend on those phases (|U|, |V|,
eigenvalues, U diag(S) Vh); a loss that does depend on them is refused with PyTorch's error
(test_phase_dependent_losses_are_refused_as_in_torch). Second derivatives are compared too.
"""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip('torch')

import nbgrad  # noqa: E402

_REAL_OF = {'complex64': 'float32', 'complex128': 'float64'}


def _array(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith('complex'):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _positive_definite(shape, dtype, seed):
    """A A^H + n I: Hermitian, well conditioned."""
    a = _array(shape, dtype, seed)
    return (a @ a.conj().swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def _cholesky_factor(shape, dtype, seed, upper=False):
    L = np.linalg.cholesky(_positive_definite(shape, dtype, seed)).astype(dtype)
    return np.ascontiguousarray(L.conj().swapaxes(-1, -2)) if upper else L


def _singular(dtype):
    """A batch of a singular complex matrix (rank 1) and an invertible one."""
    return np.array([[[1, 2j], [1, 2j]], [[1 + 1j, 2], [3j, 4 - 1j]]], dtype=dtype)


def _geqrf(dtype):
    a, tau = torch.geqrf(torch.tensor(_array((2, 5, 3), dtype, 7)))
    return a.numpy(), tau.numpy()


def _cube_abs(*tensors):
    """A phase-invariant loss of complex singular vectors / eigenvectors."""
    return sum(t.abs().pow(3).sum() for t in tensors)


def _svd_loss(lib, a):
    U, S, Vh = lib.linalg.svd(a, full_matrices=False)
    return _cube_abs(U, Vh) + S.pow(2).sum()


def _svd_reconstruction(lib, a):
    U, S, Vh = lib.linalg.svd(a, full_matrices=False)
    return ((U * S.to(U.dtype).unsqueeze(-2)) @ Vh * (1 - 2j)).real.sum()


def _slogdet(lib, a):
    sign, logabsdet = lib.linalg.slogdet(a)
    return (sign * (1 - 2j)).real.sum() + logabsdet.sum()


def _lu_solve(lib, a, b, **options):
    LU, pivots = lib.linalg.lu_factor(a)
    return lib.linalg.lu_solve(LU, pivots, b, **options).abs().sum()


def _seeded(lib):
    """lib with its generator seeded: svd_lowrank draws the same randn in both libraries."""
    lib.manual_seed(0)
    return lib


def _ignore_deprecations(fn):
    def run(lib, *tensors):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)
            return fn(lib, *tensors)
    return run


A44 = lambda d: [_array((2, 4, 4), d, 0)]     # noqa: E731
TALL = lambda d: [_array((2, 5, 3), d, 5)]    # noqa: E731
WIDE = lambda d: [_array((2, 3, 5), d, 6)]    # noqa: E731
HPD = lambda d: [_positive_definite((2, 4, 4), d, 1)]    # noqa: E731
A_B = lambda d: [_array((2, 4, 4), d, 0), _array((2, 4, 3), d, 2)]   # noqa: E731
A_BT = lambda d: [_array((2, 4, 4), d, 0), _array((2, 3, 4), d, 3)]  # noqa: E731

# name: (loss(lib, *inputs), inputs(complex dtype))
CASES = {
    'inv': (lambda L, a: L.linalg.inv(a).abs().sum(), A44),
    'inv_ex': (lambda L, a: (L.linalg.inv_ex(a).inverse * (2 + 1j)).real.sum(), A44),
    'inverse': (lambda L, a: L.inverse(a).abs().sum(), A44),
    'matrix_power -2': (lambda L, a: L.linalg.matrix_power(a, -2).abs().sum(), A44),
    'det': (lambda L, a: (L.linalg.det(a) * (1 + 2j)).real.sum() + L.linalg.det(a).abs().sum(),
            A44),
    'det of a singular matrix': (lambda L, a: (L.linalg.det(a) * (1 - 1j)).real.sum(),
                                 lambda d: [_singular(d)]),
    'slogdet': (_slogdet, A44),
    'slogdet sign only': (lambda L, a: L.linalg.slogdet(a).sign.imag.sum(), A44),
    'logdet': (lambda L, a: (L.logdet(a) * (1 + 1j)).real.sum(), A44),
    'solve': (lambda L, a, b: L.linalg.solve(a, b).abs().sum(), A_B),
    'solve left=False': (lambda L, a, b: L.linalg.solve(a, b, left=False).abs().sum(), A_BT),
    'solve vector': (lambda L, a, b: L.linalg.solve(a, b).abs().sum(),
                     lambda d: [_array((2, 4, 4), d, 0), _array((4,), d, 4)]),
    'solve_ex': (lambda L, a, b: L.linalg.solve_ex(a, b).result.abs().sum(), A_B),
    'tensorsolve': (lambda L, a, b: L.linalg.tensorsolve(a.reshape(2, 2, 2, 2), b).abs().sum(),
                    lambda d: [_array((4, 4), d, 0), _array((2, 2), d, 4)]),
    'solve_triangular upper': (
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True).abs().sum(), A_B),
    'solve_triangular lower unit': (
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False,
                                                  unitriangular=True).abs().sum(), A_B),
    'solve_triangular left=False': (
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False, left=False).abs().sum(),
        A_BT),
    'triangular_solve transpose': (_ignore_deprecations(
        lambda L, a, b: L.triangular_solve(b, a, upper=False,
                                           transpose=True).solution.abs().sum()), A_B),
    'cholesky': (lambda L, a: L.linalg.cholesky(a).abs().sum(), HPD),
    'cholesky upper': (lambda L, a: (L.linalg.cholesky(a, upper=True) * (1 + 1j)).real.sum(),
                       HPD),
    'cholesky_ex': (lambda L, a: L.linalg.cholesky_ex(a).L.abs().sum(), HPD),
    'cholesky_solve': (lambda L, b, f: L.cholesky_solve(b, f).abs().sum(),
                       lambda d: [_array((2, 4, 3), d, 2), _cholesky_factor((2, 4, 4), d, 1)]),
    'cholesky_solve upper': (
        lambda L, b, f: L.cholesky_solve(b, f, upper=True).abs().sum(),
        lambda d: [_array((2, 4, 3), d, 2), _cholesky_factor((2, 4, 4), d, 1, upper=True)]),
    'cholesky_inverse': (lambda L, f: L.cholesky_inverse(f).abs().sum(),
                         lambda d: [_cholesky_factor((2, 4, 4), d, 1)]),
    'qr tall': (lambda L, a: _cube_abs(*L.linalg.qr(a)), TALL),
    'qr tall, R only': (lambda L, a: (L.linalg.qr(a).R * (1 + 3j)).real.sum(), TALL),
    'qr tall, Q only': (lambda L, a: (L.linalg.qr(a).Q * (1 + 3j)).real.sum(), TALL),
    'qr wide': (lambda L, a: _cube_abs(*L.linalg.qr(a)), WIDE),
    'qr wide, Q only': (lambda L, a: (L.linalg.qr(a).Q * (1 + 3j)).real.sum(), WIDE),
    'qr complete wide': (lambda L, a: (L.linalg.qr(a, 'complete').Q * (2 - 1j)).real.sum()
                         + L.linalg.qr(a, 'complete').R.abs().sum(), WIDE),
    'householder_product': (lambda L, a, tau: L.linalg.householder_product(a, tau).abs().sum(),
                            lambda d: list(_geqrf(d))),
    'ormqr': (lambda L, a, tau, c: L.ormqr(a, tau, c).abs().sum(),
              lambda d: list(_geqrf(d)) + [_array((2, 5, 4), d, 3)]),
    'ormqr right, transposed': (
        lambda L, a, tau, c: L.ormqr(a, tau, c, left=False, transpose=True).abs().sum(),
        lambda d: list(_geqrf(d)) + [_array((2, 4, 5), d, 3)]),
    'svd square': (_svd_loss, A44),
    'svd tall': (_svd_loss, TALL),
    'svd wide': (_svd_loss, WIDE),
    'svd tall, U only': (lambda L, a: _cube_abs(L.linalg.svd(a, full_matrices=False).U), TALL),
    'svd wide, Vh only': (lambda L, a: _cube_abs(L.linalg.svd(a).Vh), WIDE),
    'svd reconstruction': (_svd_reconstruction, TALL),
    'torch.svd': (lambda L, a: _cube_abs(L.svd(a).V) + L.svd(a).S.sum(), TALL),
    'svd_lowrank': (lambda L, a: _seeded(L).svd_lowrank(a, q=2)[1].sum(), TALL),
    'pca_lowrank': (lambda L, a: _seeded(L).pca_lowrank(a, q=2)[1].sum(), TALL),
    'svdvals': (lambda L, a: L.linalg.svdvals(a).pow(2).sum(), WIDE),
    'matrix_norm nuc': (lambda L, a: L.linalg.matrix_norm(a, 'nuc').sum(), TALL),
    'matrix_norm 2': (lambda L, a: L.linalg.matrix_norm(a, 2).sum(), TALL),
    'matrix_norm fro': (lambda L, a: L.linalg.matrix_norm(a).sum(), TALL),
    'norm': (lambda L, a: L.linalg.norm(a).sum(), A44),
    'cond': (lambda L, a: L.linalg.cond(a).sum(), A44),
    'eigh': (lambda L, a: L.linalg.eigh(a).eigenvalues.pow(2).sum()
             + _cube_abs(L.linalg.eigh(a).eigenvectors), HPD),
    'eigh UPLO=U, vectors only': (
        lambda L, a: _cube_abs(L.linalg.eigh(a, UPLO='U').eigenvectors), A44),
    'eigvalsh': (lambda L, a: L.linalg.eigvalsh(a).pow(3).sum(), HPD),
    'eig': (lambda L, a: L.linalg.eig(a).eigenvalues.abs().sum()
            + _cube_abs(L.linalg.eig(a).eigenvectors), A44),
    'eig of a real matrix': (
        lambda L, a: (L.linalg.eig(a).eigenvalues * (1 + 2j)).real.sum()
        + _cube_abs(L.linalg.eig(a).eigenvectors),
        lambda d: [_array((2, 4, 4), _REAL_OF[d], 0)]),
    'eigvals': (lambda L, a: (L.linalg.eigvals(a) * (1 - 1j)).real.sum(), A44),
    'pinv tall': (lambda L, a: L.linalg.pinv(a).abs().sum(), TALL),
    'pinv wide': (lambda L, a: L.linalg.pinv(a).abs().sum(), WIDE),
    'pinv hermitian': (lambda L, a: L.linalg.pinv(a, hermitian=True).abs().sum(), HPD),
    'lstsq': (lambda L, a, b: L.linalg.lstsq(a, b).solution.abs().sum(),
              lambda d: [_array((2, 5, 3), d, 5), _array((2, 5, 2), d, 8)]),
    'lstsq residuals (gelsd)': (
        lambda L, a, b: L.linalg.lstsq(a, b, driver='gelsd').residuals.sum(),
        lambda d: [_array((2, 5, 3), d, 5), _array((2, 5, 2), d, 8)]),
    'matrix_exp': (lambda L, a: L.linalg.matrix_exp(a).abs().sum(),
                   lambda d: [(0.5 * _array((2, 4, 4), d, 0)).astype(d)]),
    'lu_factor square': (lambda L, a: L.linalg.lu_factor(a).LU.abs().sum(), A44),
    'lu_factor tall': (lambda L, a: L.linalg.lu_factor(a).LU.abs().sum(), TALL),
    'lu_factor wide': (lambda L, a: L.linalg.lu_factor(a).LU.abs().sum(), WIDE),
    'lu': (lambda L, a: _cube_abs(*L.linalg.lu(a)[1:]), TALL),
    'lu_solve': (_lu_solve, A_B),
    'lu_solve adjoint': (lambda L, a, b: _lu_solve(L, a, b, adjoint=True), A_B),
    'lu_solve left=False': (lambda L, a, b: _lu_solve(L, a, b, left=False), A_BT),
}

_SAME_DRAWS_ON_CPU_ONLY = {'svd_lowrank', 'pca_lowrank'}
_TOLERANCE = {'complex64': 1e-3, 'complex128': 1e-9}


# PyTorch's first derivative of det at an exactly singular matrix is 0 (its fast path perturbs
# LU's zero pivot, then multiplies by det = 0); with create_graph it is the adjugate, from the
# SVD, which is the derivative and what nbgrad always gives: compared with that one
_TORCH_ORACLE_WITH_GRAPH = {'det of a singular matrix'}


def _gradients(lib, loss, arrays, device='cpu', create_graph=False, second=False):
    if lib is torch:
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    else:
        tensors = [nbgrad.tensor(a, device=device, requires_grad=True) for a in arrays]
    grads = lib.autograd.grad(loss(lib, *tensors), tensors, create_graph=create_graph or second)
    if second:      # the gradient of a real function of the first gradients
        value = sum((g.abs() ** 2).sum() + (g * (1 + 2j)).real.sum() for g in grads)
        grads = lib.autograd.grad(value, tensors)
    if lib is torch:
        return [g.detach().resolve_conj().numpy() for g in grads]
    return [g.cpu().numpy() for g in grads]


def _assert_close(got, expected, tol):
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(g, e, rtol=0, atol=tol * scale)


@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
@pytest.mark.parametrize('name', list(CASES))
def test_gradient_matches_torch(name, dtype, device):
    if name in _SAME_DRAWS_ON_CPU_ONLY and device != 'cpu':
        pytest.skip('the random draw matches PyTorch\'s CPU generator only')
    loss, make = CASES[name]
    arrays = make(dtype)
    expected = _gradients(torch, loss, arrays, create_graph=name in _TORCH_ORACLE_WITH_GRAPH)
    _assert_close(_gradients(nbgrad, loss, arrays, device), expected, _TOLERANCE[dtype])


@pytest.mark.parametrize('name', ['inv', 'det', 'slogdet', 'solve', 'cholesky', 'qr tall',
                                  'qr wide', 'svd tall', 'svdvals', 'eigh', 'eigvalsh', 'eig',
                                  'eigvals', 'pinv wide', 'matrix_exp', 'lu_factor square'])
def test_second_derivative_matches_torch(name):
    loss, make = CASES[name]
    arrays = make('complex128')
    _assert_close(_gradients(nbgrad, loss, arrays, second=True),
                  _gradients(torch, loss, arrays, second=True), 1e-8)


@pytest.mark.parametrize('loss, make', [
    (lambda L, a: L.linalg.eigh(a).eigenvectors.real.sum(), HPD),
    (lambda L, a: L.linalg.svd(a).U.real.sum(), A44),
    (lambda L, a: L.linalg.svd(a, full_matrices=False).Vh.imag.sum(), TALL),
    (lambda L, a: L.linalg.eig(a).eigenvectors.real.sum(), A44),
], ids=['eigh', 'svd U', 'svd Vh', 'eig'])
def test_phase_dependent_losses_are_refused_as_in_torch(loss, make):
    """A loss that changes when an eigenvector / singular vector is multiplied by e^{i phi}
    has no gradient: both libraries refuse it with the same message."""
    arrays = make('complex128')
    messages = []
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError) as error:
            _gradients(lib, loss, arrays)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize('seed', [5, 6, 7])
def test_complex_lu_pivots_follow_lapack(seed):
    """LAPACK picks complex pivots by |re| + |im|, not the modulus (the gradients above depend on
    the same factorization)."""
    a = _array((2, 5, 4), 'complex128', seed)
    expected = torch.linalg.lu_factor(torch.tensor(a))
    got = nbgrad.linalg.lu_factor(nbgrad.tensor(a))
    np.testing.assert_array_equal(got.pivots.numpy(), expected.pivots.numpy())
    np.testing.assert_allclose(got.LU.numpy(), expected.LU.numpy(), rtol=1e-12, atol=1e-12)


def test_torch_svd_returns_the_conjugated_V():
    a = _array((2, 4, 3), 'complex128', 9)
    expected = torch.svd(torch.tensor(a))
    got = nbgrad.svd(nbgrad.tensor(a))
    np.testing.assert_allclose(got.V.numpy(), expected.V.resolve_conj().numpy(), atol=1e-12)
    np.testing.assert_allclose(got.U.numpy(), expected.U.numpy(), atol=1e-12)


def test_solve_ex_info_is_int32_for_complex_input():
    a = nbgrad.tensor(_array((2, 3, 3), 'complex64', 0))
    info = nbgrad.linalg.solve_ex(a, a).info
    assert info.dtype == nbgrad.int32
    assert torch.linalg.solve_ex(torch.tensor(a.numpy()), torch.tensor(a.numpy())).info.dtype \
        == torch.int32


@pytest.mark.parametrize('driver', ['gels', 'gelsy', 'gelsd', 'gelss'])
def test_lstsq_extra_results_of_complex_input_are_real(driver):
    """residuals and singular_values are real (rank int64) even when empty, as in PyTorch."""
    a, b = _array((5, 3), 'complex128', 1), _array((5, 2), 'complex128', 2)
    expected = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    got = nbgrad.linalg.lstsq(nbgrad.tensor(a), nbgrad.tensor(b), driver=driver)
    for x, y in zip(got, expected):
        assert str(x.dtype).split('.')[1] == str(y.dtype).split('.')[1]
        assert tuple(x.shape) == tuple(y.shape)


def test_geqrf_refuses_a_complex_input_that_requires_grad_as_torch():
    """PyTorch has no derivative for geqrf and refuses complex outputs when recording it."""
    for lib in (torch, nbgrad):
        z = lib.tensor(_array((3, 3), 'complex128', 0), requires_grad=True)
        with pytest.raises(RuntimeError):
            lib.geqrf(z)
        with lib.no_grad():
            lib.geqrf(z)
