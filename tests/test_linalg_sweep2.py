"""The second linear-algebra porting sweep, against PyTorch: Householder QR (geqrf, ormqr,
householder_product / orgqr), LDL (ldl_factor, ldl_factor_ex, ldl_solve), randomized low-rank SVD
and PCA, LU gradients of rectangular matrices, what singular / non-finite inputs give
(solve_triangular, inv_ex, solve_ex, cholesky_ex, eigvals), out= dtype rules, the functions
PyTorch removed after 1.9, and return-type names."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip('torch')
import nbgrad  # noqa: E402
from torch_compare import both  # noqa: E402

LIBS = (torch, nbgrad)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy(force=True)


def _close(a, b, rtol=1e-10, atol=1e-10):
    np.testing.assert_allclose(_np(b), _np(a), rtol=rtol, atol=atol, equal_nan=True)


def _raises_same(fn):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(nbgrad)
    assert type(got.value).__name__ == type(expected.value).__name__, got.value
    assert str(got.value) == str(expected.value)


# ---------------------------------------------------------------------------------------------
# geqrf, householder_product / orgqr, ormqr
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(5, 3), (4, 4), (3, 5), (2, 6, 3), (0, 3)])
def test_geqrf_is_lapacks(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    expected, got = (lib.geqrf(lib.tensor(a)) for lib in LIBS)
    assert type(got).__name__ == 'geqrf' and got._fields == ('a', 'tau')
    _close(expected.a, got.a)
    _close(expected.tau, got.tau)


def test_geqrf_complex_and_method():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))
    expected, got = torch.tensor(a).geqrf(), nbgrad.tensor(a).geqrf()
    _close(expected[0], got[0])
    _close(expected[1], got[1])


def _grads(fn, arrays, loss=lambda r: r.sin().sum()):
    """fn(lib, *tensors) in both libraries: (results, gradients) pairs, float64."""
    out = []
    for lib in LIBS:
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        r = fn(lib, *xs)
        loss(r).backward()
        out.append((r, [x.grad for x in xs]))
    return out


@pytest.mark.parametrize('shape,k', [((5, 3), 3), ((5, 3), 2), ((4, 4), 4), ((2, 6, 3), 3)])
def test_householder_product_values_and_gradients(shape, k):
    a, tau = torch.geqrf(torch.tensor(np.random.default_rng(3).standard_normal(shape)))
    (r1, g1), (r2, g2) = _grads(lambda L, A, t: L.linalg.householder_product(A, t),
                                [a.numpy(), tau[..., :k].numpy().copy()])
    _close(r1, r2)
    for x, y in zip(g1, g2):
        _close(x, y)
    expected = torch.orgqr(a, tau[..., :k])
    _close(expected, nbgrad.orgqr(nbgrad.tensor(a.numpy()), nbgrad.tensor(tau[..., :k].numpy())))


@pytest.mark.parametrize('left', [True, False])
@pytest.mark.parametrize('transpose', [True, False])
@pytest.mark.parametrize('shape', [(5, 3), (3, 5), (2, 4, 4)])
def test_ormqr_values_and_gradients(shape, left, transpose):
    rng = np.random.default_rng(4)
    a, tau = torch.geqrf(torch.tensor(rng.standard_normal(shape)))
    m = shape[-2]
    other = rng.standard_normal(shape[:-2] + ((m, 2) if left else (3, m)))
    (r1, g1), (r2, g2) = _grads(
        lambda L, A, t, C: L.ormqr(A, t, C, left=left, transpose=transpose),
        [a.numpy(), tau.numpy(), other])
    _close(r1, r2)
    for x, y in zip(g1, g2):
        _close(x, y)


def test_householder_complex_values():
    rng = np.random.default_rng(5)
    a, tau = torch.geqrf(torch.tensor(rng.standard_normal((5, 3)) +
                                      1j * rng.standard_normal((5, 3))))
    A, T = nbgrad.tensor(a.numpy()), nbgrad.tensor(tau.numpy())
    _close(torch.linalg.householder_product(a, tau), nbgrad.linalg.householder_product(A, T))
    c = rng.standard_normal((5, 2)) + 0j
    _close(torch.ormqr(a, tau, torch.tensor(c), transpose=True),
           nbgrad.ormqr(A, T, nbgrad.tensor(c), transpose=True))


def test_geqrf_has_no_gradient():
    for lib in LIBS:
        x = lib.tensor(np.ones((3, 2)) + np.eye(3, 2), requires_grad=True)
        with pytest.raises(NotImplementedError, match="derivative for 'geqrf'"):
            lib.geqrf(x)[0].sum().backward()


@pytest.mark.parametrize('call', [
    lambda L: L.linalg.householder_product(L.ones(3), L.ones(3)),
    lambda L: L.linalg.householder_product(L.ones(3, 5), L.ones(3)),
    lambda L: L.linalg.householder_product(L.ones(5, 3), L.ones(4)),
    lambda L: L.linalg.householder_product(L.ones(5, 3), L.ones(1, 3)),
    lambda L: L.linalg.householder_product(L.ones(2, 5, 3), L.ones(3, 3)),
    lambda L: L.linalg.householder_product(L.ones(5, 3), L.ones(3, dtype=L.float64)),
    lambda L: L.linalg.householder_product(L.ones(5, 3, dtype=L.int64),
                                           L.ones(3, dtype=L.int64)),
    lambda L: L.ormqr(L.ones(5, 3), L.ones(3), L.ones(4, 2)),
    lambda L: L.ormqr(L.ones(5, 3), L.ones(3), L.ones(4, 2), left=False),
    lambda L: L.ormqr(L.ones(5, 3), L.ones(3), L.ones(5)),
    lambda L: L.ormqr(L.ones(5, 3), L.ones(3), L.ones(5, 2, dtype=L.float64)),
    lambda L: L.ormqr(L.ones(2, 5, 3), L.ones(2, 3), L.ones(5, 2)),
    lambda L: L.geqrf(L.ones(3)),
    lambda L: L.geqrf(L.ones(3, 2, dtype=L.int64)),
])
def test_householder_errors_match_torch(call):
    _raises_same(call)


# ---------------------------------------------------------------------------------------------
# LDL (Bunch-Kaufman)
# ---------------------------------------------------------------------------------------------

def _ldl_cases():
    rng = np.random.default_rng(6)
    cases = []
    for n in (1, 2, 3, 5, 8, 13):
        for kind in range(3):
            a = rng.standard_normal((n, n))
            if kind < 2:
                a = a + a.T
            if kind == 1:        # small diagonal: 2x2 pivots
                a[np.diag_indices(n)] *= 0.01
            cases.append(a)      # (kind 2: not symmetric, only the lower triangle is read)
    cases += [np.array([[0., 1], [1, 0]]), np.array([[1., 2], [3, 4]]),
              np.array([[1., 2, 3], [2, 4, 5], [3, 5, 0]])]
    return cases


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_ldl_factor_pivots_and_factors_are_lapacks(dtype):
    for a in _ldl_cases():
        expected = torch.linalg.ldl_factor_ex(torch.tensor(a, dtype=getattr(torch, dtype)))
        got = nbgrad.linalg.ldl_factor_ex(nbgrad.tensor(a, dtype=getattr(nbgrad, dtype)))
        np.testing.assert_array_equal(_np(got.pivots), _np(expected.pivots))
        assert got.pivots.dtype == nbgrad.int32 and got.info.dtype == nbgrad.int32
        assert int(got.info) == int(expected.info)
        tol = 1e-10 if dtype == 'float64' else 1e-4
        _close(expected.LD, got.LD, rtol=tol, atol=tol)


def test_ldl_solve_batched_and_complex():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 3, 5, 5))
    a = a + a.swapaxes(-1, -2)
    b = rng.standard_normal((2, 3, 5, 2))
    results = []
    for lib in LIBS:
        LD, pivots = lib.linalg.ldl_factor(lib.tensor(a))
        assert type(lib.linalg.ldl_factor(lib.tensor(a))).__name__ == 'linalg_ldl_factor'
        results.append((LD, pivots, lib.linalg.ldl_solve(LD, pivots, lib.tensor(b))))
    for x, y in zip(*results):
        _close(x, y)
    c = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    c = c + c.T
    bc = rng.standard_normal((4, 3)) + 0j
    results = []
    for lib in LIBS:
        LD, pivots = lib.linalg.ldl_factor(lib.tensor(c))
        results.append((LD, pivots, lib.linalg.ldl_solve(LD, pivots, lib.tensor(bc))))
    for x, y in zip(*results):
        _close(x, y)


def test_ldl_singular_reports_info():
    for a in (np.zeros((3, 3)), np.array([[1., 2, 3], [2, 4, 6], [3, 6, 9]])):
        expected = torch.linalg.ldl_factor_ex(torch.tensor(a))
        got = nbgrad.linalg.ldl_factor_ex(nbgrad.tensor(a))
        assert int(got.info) == int(expected.info) > 0
        _close(expected.LD, got.LD)
        np.testing.assert_array_equal(_np(got.pivots), _np(expected.pivots))
        with pytest.raises(RuntimeError):      # (PyTorch's is an internal assert)
            torch.linalg.ldl_factor(torch.tensor(a))
        with pytest.raises(RuntimeError, match='singular'):
            nbgrad.linalg.ldl_factor(nbgrad.tensor(a))


def test_ldl_has_no_gradient():
    a = np.array([[2., 1], [1, 3]])
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError, match='derivative for aten::linalg_ldl_factor_ex'):
            lib.linalg.ldl_factor(x)[0].sum().backward()
        LD, piv = lib.linalg.ldl_factor(lib.tensor(a))
        with pytest.raises(RuntimeError, match='derivative for aten::linalg_ldl_solve'):
            lib.linalg.ldl_solve(LD, piv, x).sum().backward()


# ---------------------------------------------------------------------------------------------
# svd_lowrank, pca_lowrank (the same seed draws the same torch.randn)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn,shape,kw', [
    ('svd_lowrank', (20, 10), {}),
    ('svd_lowrank', (8, 30), dict(q=4, niter=3)),
    ('svd_lowrank', (3, 12, 9), dict(q=5)),
    ('pca_lowrank', (20, 10), {}),
    ('pca_lowrank', (20, 10), dict(center=False, q=3)),
    ('pca_lowrank', (7, 15), dict(q=7)),
])
def test_lowrank_matches_torch(fn, shape, kw):
    """S exactly, and the sign-free U diag(S) V^H and its gradient: the singular vectors' signs
    of the small SVD inside are LAPACK-build dependent (MKL's wide-matrix path picks others)."""
    a = np.random.default_rng(8).standard_normal(shape)
    out = []
    for lib in LIBS:
        lib.manual_seed(5)
        x = lib.tensor(a, requires_grad=True)
        result = getattr(lib, fn)(x, **kw)
        assert type(result) is tuple and len(result) == 3
        U, S, V = result
        approx = (U * S.unsqueeze(-2)) @ V.mH
        (approx.sin().sum() + S.sum()).backward()
        out.append((S, approx, x.grad))
    for x, y in zip(*out):
        _close(x, y, rtol=1e-8, atol=1e-8)


def test_lowrank_same_vectors_where_the_svd_agrees():
    a = np.random.default_rng(9).standard_normal((20, 10))
    results = []
    for lib in LIBS:
        lib.manual_seed(3)
        results.append(lib.svd_lowrank(lib.tensor(a)))
    for x, y in zip(*results):
        _close(x, y, rtol=1e-8, atol=1e-8)


def test_pca_lowrank_argument_errors():
    for kw in (dict(q=11), dict(niter=-1)):
        _raises_same(lambda L: L.pca_lowrank(L.ones(5, 10), **kw))


def test_svd_lowrank_with_mean():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((10, 6)).astype(np.float32)
    m = rng.standard_normal((1, 6)).astype(np.float32)
    out = []
    for lib in LIBS:
        lib.manual_seed(1)
        U, S, V = lib.svd_lowrank(lib.tensor(a), q=3, M=lib.tensor(m))
        out.append((S, (U * S.unsqueeze(-2)) @ V.mH))
    for x, y in zip(*out):
        _close(x, y, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# LU gradients of tall and wide matrices
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(5, 3), (3, 5), (4, 4), (2, 5, 3), (2, 3, 6)])
@pytest.mark.parametrize('which', ['lu', 'lu_factor'])
def test_lu_gradients_of_rectangular_matrices(shape, which):
    a = np.random.default_rng(11).standard_normal(shape)

    def fn(L, x):
        if which == 'lu':
            P, Lo, U = L.linalg.lu(x)
            return Lo.sin().sum() + (U * U).sum()
        LU, _ = L.linalg.lu_factor(x)
        return (LU.cos() * LU).sum()
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        fn(lib, x).backward()
        grads.append(x.grad)
    _close(grads[0], grads[1], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Singular and non-finite inputs
# ---------------------------------------------------------------------------------------------

_TRIANGULAR = [
    (np.zeros((2, 2)), np.ones((2, 1)), dict(upper=True)),
    (np.array([[1., 0], [2, 0]]), np.ones((2, 2)), dict(upper=False)),
    (np.array([[0., 1], [0, 2]]), np.ones((3, 2)), dict(upper=True, left=False)),
    (np.zeros((2, 2)), np.zeros((2, 1)), dict(upper=True)),
    (np.array([[0., 1], [0, 2]]), np.array([[0.], [1]]), dict(upper=True)),
    (np.array([[1., 0], [0, 2]]), np.array([[math.inf], [1]]), dict(upper=True)),
    (np.zeros((2, 2)), np.ones((2, 1)), dict(upper=True, unitriangular=True)),
    (np.zeros((3, 2, 2)), np.ones((2, 1)), dict(upper=True)),
]


@pytest.mark.parametrize('a,b,kw', _TRIANGULAR)
def test_solve_triangular_singular_gives_inf_and_nan(a, b, kw):
    expected = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), **kw)
    got = nbgrad.linalg.solve_triangular(nbgrad.tensor(a), nbgrad.tensor(b), **kw)
    _close(expected, got)


@pytest.mark.parametrize('b_dtype', ['float64', 'int64', 'bool', 'float16'])
def test_solve_triangular_computes_in_As_dtype(b_dtype):
    a = np.array([[2., 1], [0, 4]], np.float32)
    b = np.array([[1], [3]]).astype(b_dtype)
    expected = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    got = nbgrad.linalg.solve_triangular(nbgrad.tensor(a), nbgrad.tensor(b), upper=True)
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1] == 'float32'
    _close(expected, got)


def test_solve_triangular_mixed_dtype_gradients():
    out = []
    for lib in LIBS:
        a = lib.tensor([[2., 1], [0, 4]], requires_grad=True)
        b = lib.tensor([[1.], [3.]], dtype=lib.float64, requires_grad=True)
        lib.linalg.solve_triangular(a, b, upper=True).sum().backward()
        assert b.grad.dtype == lib.float64
        out.append((a.grad, b.grad))
    for x, y in zip(*out):
        _close(x, y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('a_dtype', ['int64', 'float16'])
def test_solve_triangular_refuses_As_dtype_as_torch(a_dtype):
    _raises_same(lambda L: L.linalg.solve_triangular(
        L.tensor([[2, 1], [0, 4]], dtype=getattr(L, a_dtype)), L.ones(2, 1), upper=True))


_SINGULAR = [np.array([[1., 2], [2, 4]]), np.zeros((3, 3)),
             np.array([[1., 2, 3], [4, 5, 6], [7, 8, 9]]),
             np.array([[1., 2, 3], [2, 4, 6], [7, 8, 10]])]


@pytest.mark.parametrize('a', _SINGULAR)
def test_inv_ex_and_solve_ex_of_singular_matrices(a):
    expected, got = torch.linalg.inv_ex(torch.tensor(a)), nbgrad.linalg.inv_ex(nbgrad.tensor(a))
    _close(expected.inverse, got.inverse)
    assert int(got.info) == int(expected.info)
    b = np.ones((a.shape[0], 2))
    expected = torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))
    got = nbgrad.linalg.solve_ex(nbgrad.tensor(a), nbgrad.tensor(b))
    _close(expected.result, got.result)
    assert int(got.info) == int(expected.info)
    expected = torch.linalg.solve_ex(torch.tensor(a), torch.ones(a.shape[0], dtype=torch.float64))
    got = nbgrad.linalg.solve_ex(nbgrad.tensor(a), nbgrad.ones(a.shape[0], dtype=nbgrad.float64))
    _close(expected.result, got.result)


def test_inv_ex_batch_keeps_the_good_matrices():
    a = np.stack([np.array([[1., 2], [2, 4]]), np.array([[2., 1], [1, 3]])])
    expected, got = torch.linalg.inv_ex(torch.tensor(a)), nbgrad.linalg.inv_ex(nbgrad.tensor(a))
    _close(expected.inverse, got.inverse)
    np.testing.assert_array_equal(_np(got.info), _np(expected.info))


_NOT_PD = [np.array([[4., 2, 1], [2, 1, 5], [1, 5, 9]]),
           np.array([[4., 2, 1, 3], [2, 5, 5, 1], [1, 5, -9, 2], [7, 8, 9, 10]]),
           np.array([[-4., 2], [3, 1]]),
           np.array([[[-4., 2], [3, 1]], [[4., 2], [2, 5]]]),
           np.array([[4., 2], [math.nan, 1]])]


@pytest.mark.parametrize('upper', [False, True])
@pytest.mark.parametrize('a', _NOT_PD)
def test_cholesky_ex_returns_lapacks_partial_factor(a, upper):
    expected = torch.linalg.cholesky_ex(torch.tensor(a), upper=upper)
    got = nbgrad.linalg.cholesky_ex(nbgrad.tensor(a), upper=upper)
    _close(expected.L, got.L)
    np.testing.assert_array_equal(_np(got.info), _np(expected.info))


def test_cholesky_ex_partial_factor_of_a_larger_matrix():
    """(up to ~128 rows MKL runs the unblocked potf2 that nbgrad follows)"""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((40, 40))
    a = x @ x.T + 40 * np.eye(40)
    a[30, 30] = -1000.
    expected = torch.linalg.cholesky_ex(torch.tensor(a))
    got = nbgrad.linalg.cholesky_ex(nbgrad.tensor(a))
    _close(expected.L, got.L, rtol=1e-9, atol=1e-9)
    assert int(got.info) == int(expected.info) == 31


@pytest.mark.parametrize('m', [
    [[math.nan, 0.], [0., 1.]], [[1., math.nan], [0., 3.]],
    [[1., 2., 0.], [3., 4., 0.], [math.nan, 1., 5.]],
    [[1., 2., 0.], [3., 4., 0.], [0., 0., math.nan]],
    [[5., 2., 0.], [0., math.nan, 0.], [0., 0., 1.]],
    [[math.inf, 0.], [0., 1.]], [[1., math.inf], [2., 3.]],
])
def test_eigvals_of_non_finite_matrices(m):
    expected = torch.linalg.eigvals(torch.tensor(m, dtype=torch.float64))
    got = nbgrad.linalg.eigvals(nbgrad.tensor(m, dtype=nbgrad.float64))
    _close(expected, got)


def test_eigvals_non_finite_in_a_batch_and_eig_refuses():
    a = np.array([[[math.nan, 0.], [0., 1.]], [[1., 2.], [3., 4.]]])
    _close(torch.linalg.eigvals(torch.tensor(a)), nbgrad.linalg.eigvals(nbgrad.tensor(a)))
    _raises_same(lambda L: L.linalg.eig(L.tensor([[math.nan, 0.], [0., 1.]])))


# ---------------------------------------------------------------------------------------------
# out=
# ---------------------------------------------------------------------------------------------

def test_out_for_eigh_inv_ex_cholesky_ex():
    for call in (lambda L: L.linalg.eigh(L.eye(2) * 2, out=(L.empty(0), L.empty(0))),
                 lambda L: L.linalg.inv_ex(L.eye(2) * 2, out=(L.empty(0),
                                                              L.empty(0, dtype=L.int32))),
                 lambda L: L.linalg.cholesky_ex(L.eye(2) * 4, out=(L.empty(0),
                                                                   L.empty(0, dtype=L.int32)))):
        expected, got = call(torch), call(nbgrad)
        for x, y in zip(expected, got):
            _close(x, y)


_F32, _F64 = 'float32', 'float64'
_EXACT = {
    'linalg.inv': lambda L, A, o: L.linalg.inv(A, out=o),
    'linalg.det': lambda L, A, o: L.linalg.det(A, out=o),
    'linalg.cholesky': lambda L, A, o: L.linalg.cholesky(A, out=o),
    'linalg.eigvalsh': lambda L, A, o: L.linalg.eigvalsh(A, out=o),
    'linalg.svdvals': lambda L, A, o: L.linalg.svdvals(A, out=o),
    'linalg.solve': lambda L, A, o: L.linalg.solve(A, A, out=o),
    'linalg.matrix_power': lambda L, A, o: L.linalg.matrix_power(A, 2, out=o),
    'linalg.vector_norm': lambda L, A, o: L.linalg.vector_norm(A, out=o),
    'linalg.cross': lambda L, A, o: L.linalg.cross(A, A, out=o),
    'linalg.matrix_norm': lambda L, A, o: L.linalg.matrix_norm(A, out=o),
    'linalg.norm': lambda L, A, o: L.linalg.norm(A, out=o),
    'linalg.multi_dot': lambda L, A, o: L.linalg.multi_dot([A, A], out=o),
    'linalg.vecdot': lambda L, A, o: L.linalg.vecdot(A, A, out=o),
    'linalg.solve_triangular': lambda L, A, o: L.linalg.solve_triangular(A, A, upper=True,
                                                                         out=o),
    'linalg.eigvals': lambda L, A, o: L.linalg.eigvals(A, out=o),
    'inverse': lambda L, A, o: L.inverse(A, out=o),
    'matrix_power': lambda L, A, o: L.matrix_power(A, 2, out=o),
    'linalg.svd': lambda L, A, o: L.linalg.svd(A, out=(o, o.clone(), o.clone())),
    'linalg.eigh': lambda L, A, o: L.linalg.eigh(A, out=(o, o.clone())),
    'linalg.eig': lambda L, A, o: L.linalg.eig(A, out=(o, o.clone())),
    'linalg.qr': lambda L, A, o: L.linalg.qr(A, out=(o, o.clone())),
    'linalg.slogdet': lambda L, A, o: L.linalg.slogdet(A, out=(o, o.clone())),
    'linalg.lu': lambda L, A, o: L.linalg.lu(A, out=(o, o.clone(), o.clone())),
    'svd': lambda L, A, o: L.svd(A, out=(o, o.clone(), o.clone())),
    'qr': lambda L, A, o: L.qr(A, out=(o, o.clone())),
    'slogdet': lambda L, A, o: L.slogdet(A, out=(o, o.clone())),
    'linalg.inv_ex': lambda L, A, o: L.linalg.inv_ex(A, out=(o, L.empty(0, dtype=L.int32))),
    'linalg.lu_factor pivots': lambda L, A, o: L.linalg.lu_factor(
        A.to(o.dtype), out=(o, L.empty(0, dtype=L.int64))),
}


@pytest.mark.parametrize('name', sorted(_EXACT))
@pytest.mark.parametrize('a_dtype,out_dtype', [(_F64, _F32), (_F32, _F64)])
def test_out_of_another_dtype_is_refused_as_torch(name, a_dtype, out_dtype):
    def call(L):
        A = (L.eye(3) + 0.1 * L.ones(3, 3)).to(getattr(L, a_dtype))
        return _EXACT[name](L, A, L.empty(0, dtype=getattr(L, out_dtype)))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _raises_same(call)


@pytest.mark.parametrize('call', [
    lambda L: L.linalg.pinv(L.eye(2, dtype=L.float64), out=L.empty(0)),
    lambda L: L.linalg.eigvals(L.eye(2, dtype=L.float64), out=L.empty(0, dtype=L.complex64)),
    lambda L: L.linalg.householder_product(*L.geqrf(L.eye(3) + 1), out=L.empty(0,
                                                                                dtype=L.float64)),
])
def test_out_that_casts_as_torch(call):
    expected, got = call(torch), call(nbgrad)
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
    _close(expected, got, rtol=1e-6, atol=1e-6)


def test_matrix_exp_takes_no_out():
    for lib in LIBS:
        with pytest.raises(TypeError, match='out'):
            lib.linalg.matrix_exp(lib.eye(2), out=lib.empty(0))


# ---------------------------------------------------------------------------------------------
# Functions PyTorch removed, and return-type names
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('call', [
    lambda L: L.symeig(L.eye(2)),
    lambda L: L.symeig(L.eye(2), eigenvectors=True),
    lambda L: L.eig(L.eye(2)),
    lambda L: L.lstsq(L.eye(2), L.eye(2)),
    lambda L: L.matrix_rank(L.eye(2)),
    lambda L: L.solve(L.eye(2), L.eye(2)),
    lambda L: L.solve(L.eye(2)),
    lambda L: L.symeig(),
])
def test_removed_functions_raise_torchs_messages(call):
    _raises_same(call)


def test_return_type_names():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for lib in LIBS:
            assert type(lib.slogdet(lib.eye(2))).__name__ == 'slogdet'
            assert type(lib.qr(lib.eye(2))).__name__ == 'qr'
            assert type(lib.eye(2).slogdet()).__name__ == 'slogdet'
            assert type(lib.linalg.slogdet(lib.eye(2))).__name__ == 'linalg_slogdet'
            assert type(lib.linalg.qr(lib.eye(2))).__name__ == 'linalg_qr'


def test_ldl_solve_takes_int64_pivots_and_ldl_factor_empty_matrices():
    """(found by a second sweep) int64 pivots were refused; a 0x0 matrix failed to reshape."""
    def run(lib):
        A = lib.tensor([[4., 1., 2.], [1., -3., 0.5], [2., 0.5, 1.]], dtype=lib.float64)
        LD, pivots = lib.linalg.ldl_factor(A)
        x = lib.linalg.ldl_solve(LD, pivots.long(), lib.ones(3, 1, dtype=lib.float64))
        empty = lib.linalg.ldl_factor(lib.empty(2, 0, 0, dtype=lib.float64))
        return x, empty.LD.shape, empty.pivots.shape, empty.pivots.dtype
    both(run)
