"""nbgrad.linalg against torch.linalg and finite differences.

One table (CASES) lists each function with sample shapes; generic tests run every row: forward
vs PyTorch (float32 and float64, batched shapes), backward vs PyTorch, float64 gradcheck and
gradgradcheck. Decompositions that are unique only up to signs enter the table through
sign-invariant functions of their outputs (|Q|, |U|, U @ Vh...); their raw outputs are checked by
reconstruction and orthogonality below. Functions that read one triangle of a symmetric input
(cholesky, eigh) get a symmetrized input, so finite differences see every entry. Error cases
are compared with PyTorch's kind of error.
"""
import dataclasses
import functools
import typing

import numpy as np
import pytest

import nbgrad
from nbgrad.autograd import gradcheck, gradgradcheck
from torch_compare import assert_same, both, dname


def _torch():
    return pytest.importorskip('torch')




# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def _spd(lib, X):
    n = X.shape[-1]
    return X @ X.mT + n * lib.eye(n, dtype=X.dtype, device=X.device)


def _sym(X):
    return X + X.mT


def _sample(shape, kind, rng):
    """Well-conditioned samples: square 'general' matrices get +3I so that they are safely
    invertible; 'tri' matrices get a dominant diagonal (their triangle is what is read); 'spd'
    ones are symmetric positive-definite."""
    a = rng.standard_normal(shape)
    if kind == 'spd':
        return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    square = len(shape) >= 2 and shape[-1] == shape[-2]
    if kind in ('general', 'tri') and square:
        a = a + (3 if kind == 'general' else 4) * np.eye(shape[-1])
    return a


@dataclasses.dataclass
class Case:
    name: str
    fn: typing.Callable           # fn(lib, *tensors) -> tensor(s); the same code for both libs
    shapes: tuple                 # one shape per input
    kind: str = 'general'
    # False for rows whose function reads one triangle of a symmetric input directly: finite
    # differences see only that triangle, while the gradient (as PyTorch's) is symmetric. Their
    # gradcheck runs on the symmetrized rows; the symmetric gradient itself is checked here
    # against PyTorch (a symmetrized input would hide its antisymmetric part).
    gradcheck: bool = True


def _lin(lib):
    return lib.linalg


def _logdet(lib, A):
    return lib.logdet(A) if lib.__name__ == 'torch' else lib.linalg.logdet(A)


CASES = [
    Case('inv', lambda lib, A: _lin(lib).inv(A), ((3, 3),)),
    Case('inv-batched', lambda lib, A: _lin(lib).inv(A), ((2, 3, 3),)),
    Case('inv_ex', lambda lib, A: _lin(lib).inv_ex(A).inverse, ((2, 3, 3),)),
    Case('det', lambda lib, A: _lin(lib).det(A), ((3, 3),)),
    Case('det-batched', lambda lib, A: _lin(lib).det(A), ((2, 1, 3, 3),)),
    Case('slogdet', lambda lib, A: tuple(_lin(lib).slogdet(A)), ((2, 3, 3),)),
    Case('logdet', lambda lib, X: _logdet(lib, _spd(lib, X)), ((2, 3, 3),)),
    Case('solve', lambda lib, A, B: _lin(lib).solve(A, B), ((3, 3), (3, 2))),
    Case('solve-vector', lambda lib, A, B: _lin(lib).solve(A, B), ((3, 3), (3,))),
    Case('solve-batched-vector', lambda lib, A, B: _lin(lib).solve(A, B), ((2, 3, 3), (2, 3))),
    Case('solve-broadcast-A', lambda lib, A, B: _lin(lib).solve(A, B), ((3, 3), (2, 3, 2))),
    Case('solve-broadcast-B', lambda lib, A, B: _lin(lib).solve(A, B), ((2, 1, 3, 3), (4, 3, 1))),
    Case('solve-right', lambda lib, A, B: _lin(lib).solve(A, B, left=False), ((3, 3), (2, 3))),
    Case('solve_triangular-upper',
         lambda lib, A, B: _lin(lib).solve_triangular(A, B, upper=True), ((3, 3), (3, 2)), 'tri'),
    Case('solve_triangular-lower-right',
         lambda lib, A, B: _lin(lib).solve_triangular(A, B, upper=False, left=False),
         ((2, 3, 3), (2, 2, 3)), 'tri'),
    Case('solve_triangular-unit',
         lambda lib, A, B: _lin(lib).solve_triangular(A, B, upper=False, unitriangular=True),
         ((3, 3), (3, 2)), 'tri'),
    Case('cholesky', lambda lib, X: _lin(lib).cholesky(_spd(lib, X)), ((3, 3),)),
    Case('cholesky-upper-batched', lambda lib, X: _lin(lib).cholesky(_spd(lib, X), upper=True),
         ((2, 3, 3),)),
    Case('cholesky-spd-leaf', lambda lib, A: _lin(lib).cholesky(A), ((2, 3, 3),), 'spd',
         gradcheck=False),
    Case('cholesky-upper-spd-leaf', lambda lib, A: _lin(lib).cholesky(A, upper=True),
         ((3, 3),), 'spd', gradcheck=False),
    Case('cholesky_ex', lambda lib, X: _lin(lib).cholesky_ex(_spd(lib, X)).L, ((2, 3, 3),)),
    Case('qr-tall', lambda lib, A: tuple(t.abs() for t in _lin(lib).qr(A)), ((4, 3),)),
    Case('qr-square-batched', lambda lib, A: tuple(t.abs() for t in _lin(lib).qr(A)),
         ((2, 3, 3),)),
    Case('qr-wide', lambda lib, A: tuple(t.abs() for t in _lin(lib).qr(A)), ((3, 4),)),
    Case('qr-complete-wide', lambda lib, A: tuple(t.abs() for t in _lin(lib).qr(A, 'complete')),
         ((2, 3),)),
    Case('qr-R-only', lambda lib, A: _lin(lib).qr(A).R.abs(), ((4, 3),)),
    Case('svd-abs', lambda lib, A: _svd_invariants(lib, A, full_matrices=False), ((4, 3),)),
    Case('svd-abs-wide-batched', lambda lib, A: _svd_invariants(lib, A, full_matrices=False),
         ((2, 3, 4),)),
    Case('svd-full-tall', lambda lib, A: _svd_invariants(lib, A, full_matrices=True), ((4, 3),)),
    Case('svd-full-wide', lambda lib, A: _svd_invariants(lib, A, full_matrices=True), ((2, 4),)),
    Case('svd-polar', lambda lib, A: _polar(lib, A), ((3, 3),)),
    Case('svd-reconstruct', lambda lib, A: _usv(lib, A), ((2, 4, 3),)),
    Case('svd-U-only', lambda lib, A: _lin(lib).svd(A, full_matrices=False).U.abs(), ((4, 3),)),
    Case('svdvals', lambda lib, A: _lin(lib).svdvals(A), ((4, 3),)),
    Case('svdvals-batched', lambda lib, A: _lin(lib).svdvals(A), ((2, 3, 4),)),
    Case('eigh', lambda lib, X: _eigh_invariants(lib, _sym(X), 'L'), ((3, 3),)),
    Case('eigh-upper-batched', lambda lib, X: _eigh_invariants(lib, _sym(X), 'U'), ((2, 3, 3),)),
    Case('eigh-vectors-only', lambda lib, X: _lin(lib).eigh(_sym(X)).eigenvectors.abs(),
         ((3, 3),)),
    Case('eigh-spd-leaf', lambda lib, A: _eigh_invariants(lib, A, 'L'), ((2, 3, 3),), 'spd',
         gradcheck=False),
    Case('eigh-upper-spd-leaf', lambda lib, A: _eigh_invariants(lib, A, 'U'), ((3, 3),), 'spd',
         gradcheck=False),
    Case('eigvalsh-spd-leaf', lambda lib, A: _lin(lib).eigvalsh(A), ((3, 3),), 'spd',
         gradcheck=False),
    Case('eigvalsh', lambda lib, X: _lin(lib).eigvalsh(_sym(X)), ((2, 3, 3),)),
    Case('pinv-square', lambda lib, A: _lin(lib).pinv(A), ((3, 3),)),
    Case('pinv-tall', lambda lib, A: _lin(lib).pinv(A), ((4, 3),)),
    Case('pinv-wide-batched', lambda lib, A: _lin(lib).pinv(A), ((2, 3, 4),)),
    Case('pinv-hermitian', lambda lib, X: _lin(lib).pinv(_sym(X), hermitian=True), ((3, 3),)),
    Case('matrix_power-3', lambda lib, A: _lin(lib).matrix_power(A, 3), ((2, 3, 3),)),
    Case('matrix_power-neg', lambda lib, A: _lin(lib).matrix_power(A, -2), ((3, 3),)),
    Case('cross', lambda lib, a, b: _lin(lib).cross(a, b), ((4, 3), (4, 3))),
    Case('cross-broadcast-dim0', lambda lib, a, b: _lin(lib).cross(a, b, dim=0),
         ((3, 1), (3, 4))),
    Case('vecdot', lambda lib, a, b: _lin(lib).vecdot(a, b), ((4, 3), (3,))),
    Case('multi_dot', lambda lib, a, b, c: _lin(lib).multi_dot([a, b, c]),
         ((2, 3), (3, 4), (4, 5))),
    Case('multi_dot-vectors', lambda lib, a, b, c, d: _lin(lib).multi_dot([a, b, c, d]),
         ((3,), (3, 4), (4, 2), (2,))),
    Case('diagonal', lambda lib, A: _lin(lib).diagonal(A, offset=1), ((2, 3, 4),)),
    Case('lstsq', lambda lib, A, B: _lin(lib).lstsq(A, B).solution, ((5, 3), (5, 2))),
    Case('lstsq-residuals', lambda lib, A, B: tuple(_lin(lib).lstsq(A, B, driver='gelsd')[:2]),
         ((2, 5, 3), (2, 5, 2))),
    Case('lstsq-wide-vector', lambda lib, A, B: _lin(lib).lstsq(A, B).solution, ((3, 5), (3,))),
    Case('matrix_norm-nuc', lambda lib, A: _lin(lib).matrix_norm(A, 'nuc'), ((2, 4, 3),)),
    Case('matrix_norm-2', lambda lib, A: _lin(lib).matrix_norm(A, 2), ((3, 4),)),
    Case('matrix_norm--2', lambda lib, A: _lin(lib).matrix_norm(A, -2), ((4, 3),)),
]


def _svd_invariants(lib, A, full_matrices):
    """|U| and |Vh| restricted to the k singular vectors that A determines (up to sign), and S."""
    U, S, Vh = _lin(lib).svd(A, full_matrices=full_matrices)
    k = S.shape[-1]
    return U[..., :k].abs(), S, Vh[..., :k, :].abs()


def _polar(lib, A):
    U, S, Vh = _lin(lib).svd(A)
    return U @ Vh


def _usv(lib, A):
    U, S, Vh = _lin(lib).svd(A, full_matrices=False)
    return (U * S.unsqueeze(-2)) @ Vh


def _eigh_invariants(lib, A, uplo):
    L, V = _lin(lib).eigh(A, UPLO=uplo)
    return L, V.abs()


def _arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    return [_sample(s, case.kind, rng) for s in case.shapes]


def _tensors(lib, arrays, dtype, requires_grad=False, device='cpu'):
    kw = {'device': device} if lib is nbgrad else {}
    dt = getattr(lib, dtype)
    return [lib.tensor(a, dtype=dt, requires_grad=requires_grad, **kw) for a in arrays]


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


def _np(t):
    return t.detach().cpu().numpy()  # the same for torch and nbgrad tensors


TOL = {'float64': dict(rtol=1e-7, atol=1e-9), 'float32': dict(rtol=2e-4, atol=2e-4)}
CASE_PARAMS = [pytest.param(c, id=c.name) for c in CASES]
GRADCHECK_PARAMS = [pytest.param(c, id=c.name) for c in CASES if c.gradcheck]


# ---------------------------------------------------------------------------------------------
# Generic tests over the table
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('case', CASE_PARAMS)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_forward_matches_torch(case, dtype, device):
    torch = _torch()
    arrays = _arrays(case)
    expected = _outputs(case.fn(torch, *_tensors(torch, arrays, dtype)))
    got = _outputs(case.fn(nbgrad, *_tensors(nbgrad, arrays, dtype, device=device)))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.device.type == device
        assert dname(g.dtype) == dname(e.dtype)
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(_np(g), e.numpy(), **TOL[dtype])


@pytest.mark.parametrize('case', CASE_PARAMS)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_backward_matches_torch(case, dtype, device):
    """Gradients of sum(W_i * output_i) with fixed random weights W_i."""
    torch = _torch()
    arrays = _arrays(case)
    grads = {}
    for lib in (torch, nbgrad):
        inputs = _tensors(lib, arrays, dtype, requires_grad=True,
                          device=device if lib is nbgrad else 'cpu')
        outs = _outputs(case.fn(lib, *inputs))
        rng = np.random.default_rng(1)
        loss = 0
        for o in outs:
            w = lib.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                           **({'device': o.device} if lib is nbgrad else {}))
            loss = loss + (o * w).sum()
        loss.backward()
        grads[lib] = [_np(x.grad) if x.grad is not None else np.zeros(x.shape) for x in inputs]
    tol = TOL[dtype] if dtype == 'float64' else dict(rtol=2e-3, atol=2e-3)
    for g, e in zip(grads[nbgrad], grads[torch]):
        np.testing.assert_allclose(g, e, **tol)


@pytest.mark.parametrize('case', GRADCHECK_PARAMS)
def test_gradcheck(case):
    inputs = _tensors(nbgrad, _arrays(case), 'float64', requires_grad=True)
    assert gradcheck(lambda *xs: case.fn(nbgrad, *xs), inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('case', GRADCHECK_PARAMS)
def test_gradgradcheck(case):
    inputs = _tensors(nbgrad, _arrays(case), 'float64', requires_grad=True)
    assert gradgradcheck(lambda *xs: case.fn(nbgrad, *xs), inputs, eps=1e-6, atol=1e-5,
                         rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# Decompositions' raw outputs: reconstruction, orthogonality, values up to sign
# ---------------------------------------------------------------------------------------------

def _random(shape, dtype='float64', seed=0, kind='rect'):
    return _tensors(nbgrad, [_sample(shape, kind, np.random.default_rng(seed))], dtype)[0]


def _eye_like(n, A):
    return np.broadcast_to(np.eye(n), tuple(A.shape[:-2]) + (n, n))


@pytest.mark.parametrize('shape', [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 1, 3, 5)])
@pytest.mark.parametrize('mode', ['reduced', 'complete', 'r'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_qr_outputs(shape, mode, dtype):
    torch = _torch()
    A = _random(shape, dtype)
    Q, R = nbgrad.linalg.qr(A, mode=mode)
    Qt, Rt = torch.linalg.qr(torch.tensor(A.numpy()), mode=mode)
    assert type(nbgrad.linalg.qr(A)).__name__ == 'linalg_qr'
    assert tuple(Q.shape) == tuple(Qt.shape) and tuple(R.shape) == tuple(Rt.shape)
    tol = TOL[dtype]
    np.testing.assert_allclose(np.abs(R.numpy()), np.abs(Rt.numpy()), **tol)
    np.testing.assert_array_equal(np.tril(R.numpy(), -1), 0)
    if mode != 'r':
        q = Q.numpy()
        np.testing.assert_allclose(np.abs(q), np.abs(Qt.numpy()), **tol)
        np.testing.assert_allclose(q @ R.numpy(), A.numpy(), **tol)
        np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, _eye_like(q.shape[-1], Q),
                                   **tol)


@pytest.mark.parametrize('shape', [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 1, 3, 5)])
@pytest.mark.parametrize('full_matrices', [True, False])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_svd_outputs(shape, full_matrices, dtype):
    torch = _torch()
    A = _random(shape, dtype)
    U, S, Vh = nbgrad.linalg.svd(A, full_matrices=full_matrices)
    Ut, St, Vht = torch.linalg.svd(torch.tensor(A.numpy()), full_matrices=full_matrices)
    for got, expected in ((U, Ut), (S, St), (Vh, Vht)):
        assert tuple(got.shape) == tuple(expected.shape)
    tol = TOL[dtype]
    np.testing.assert_allclose(S.numpy(), St.numpy(), **tol)
    k = S.shape[-1]
    u, vh = U.numpy(), Vh.numpy()
    np.testing.assert_allclose(np.abs(u[..., :k]), np.abs(Ut.numpy()[..., :k]), **tol)
    np.testing.assert_allclose((u[..., :k] * S.numpy()[..., None, :]) @ vh[..., :k, :],
                               A.numpy(), **tol)
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, _eye_like(u.shape[-1], U), **tol)
    np.testing.assert_allclose(vh @ np.swapaxes(vh, -1, -2), _eye_like(vh.shape[-2], Vh), **tol)


@pytest.mark.parametrize('shape', [(3, 3), (2, 4, 4)])
@pytest.mark.parametrize('uplo', ['L', 'U'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_eigh_outputs(shape, uplo, dtype):
    torch = _torch()
    X = _random(shape, dtype)
    # only the UPLO triangle is read: garbage in the other one must not matter
    A = X.triu() if uplo == 'U' else X.tril()
    L, V = nbgrad.linalg.eigh(A, UPLO=uplo)
    Lt, Vt = torch.linalg.eigh(torch.tensor(A.numpy()), UPLO=uplo)
    tol = TOL[dtype]
    np.testing.assert_allclose(L.numpy(), Lt.numpy(), **tol)
    np.testing.assert_allclose(np.abs(V.numpy()), np.abs(Vt.numpy()), **tol)
    full = _sym(A).numpy() - np.eye(shape[-1]) * np.diagonal(A.numpy(), 0, -2, -1)[..., None]
    v = V.numpy()
    np.testing.assert_allclose((v * L.numpy()[..., None, :]) @ np.swapaxes(v, -1, -2), full,
                               **tol)
    np.testing.assert_allclose(nbgrad.linalg.eigvalsh(A, UPLO=uplo).numpy(), Lt.numpy(), **tol)


def test_cholesky_reads_lower_triangle_and_upper_is_its_transpose():
    torch = _torch()
    A = _spd(nbgrad, _random((2, 3, 3)))
    garbage = A + _random((2, 3, 3), seed=5).triu(1)
    L = nbgrad.linalg.cholesky(garbage)
    np.testing.assert_allclose(L.numpy(), torch.linalg.cholesky(torch.tensor(A.numpy())).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(nbgrad.linalg.cholesky(A, upper=True).numpy(),
                               np.swapaxes(L.numpy(), -1, -2))


@pytest.mark.parametrize('upper', [False, True])
@pytest.mark.parametrize('shape', [(4, 4), (2, 3, 3)])
def test_cholesky_solve_gradient_fills_both_triangles_as_pytorch(upper, shape):
    """PyTorch's gradient of cholesky_solve in the factor is the full matrix
    -(A^-1 G X^H + X G^H A^-1) L, not its triangle (Wishart.log_prob's scale_tril grad)."""
    rng = np.random.default_rng(3)
    M = rng.standard_normal(shape) + 3 * np.eye(shape[-1])
    factor = np.triu(M) if upper else np.tril(M)
    B, G = rng.standard_normal(shape[:-1] + (2,)), rng.standard_normal(shape[:-1] + (2,))

    def run(lib):
        f, b = lib.tensor(factor, requires_grad=True), lib.tensor(B, requires_grad=True)
        x = lib.cholesky_solve(b, f, upper=upper)
        x.backward(lib.tensor(G))
        return x, f.grad, b.grad
    both(run, check=functools.partial(assert_same, rtol=1e-10, atol=1e-12))


def test_return_types_and_slogdet_signs():
    torch = _torch()
    A = _random((3, 3, 3))
    got = nbgrad.linalg.slogdet(A)
    expected = torch.linalg.slogdet(torch.tensor(A.numpy()))
    assert got._fields == ('sign', 'logabsdet')
    np.testing.assert_array_equal(got.sign.numpy(), expected.sign.numpy())
    assert nbgrad.linalg.svd(A)._fields == ('U', 'S', 'Vh')
    assert nbgrad.linalg.eigh(_sym(A))._fields == ('eigenvalues', 'eigenvectors')
    assert nbgrad.linalg.inv_ex(A)._fields == ('inverse', 'info')
    assert nbgrad.linalg.cholesky_ex(_spd(nbgrad, A))._fields == ('L', 'info')
    result = nbgrad.linalg.lstsq(_random((5, 3)), _random((5, 2), seed=1))
    assert result._fields == ('solution', 'residuals', 'rank', 'singular_values')


@pytest.mark.parametrize('driver', ['gels', 'gelsy', 'gelsd', 'gelss'])
@pytest.mark.parametrize('shapes', [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((2, 5, 3), (5,))])
def test_lstsq_matches_torch_per_driver(driver, shapes):
    torch = _torch()
    A, B = _random(shapes[0]), _random(shapes[1], seed=1)
    if B.dim() == 1 and A.dim() == 3:
        B = B.expand(2, 5)
    if driver == 'gels' and A.shape[-2] < A.shape[-1]:
        pytest.skip('gels needs a full-rank tall matrix for a comparable (least-squares) answer')
    got = nbgrad.linalg.lstsq(A, B, driver=driver)
    expected = torch.linalg.lstsq(torch.tensor(A.numpy()), torch.tensor(B.numpy()), driver=driver)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape), (g.shape, e.shape)
        assert dname(g.dtype) == dname(e.dtype)
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-7, atol=1e-9)


def test_lstsq_rank_deficient_gives_minimum_norm_solution():
    torch = _torch()
    A = _random((6, 2)) @ _random((2, 4), seed=1)
    B = _random((6, 3), seed=2)
    got = nbgrad.linalg.lstsq(A, B, driver='gelsd')
    expected = torch.linalg.lstsq(torch.tensor(A.numpy()), torch.tensor(B.numpy()),
                                  driver='gelsd')
    assert int(got.rank) == int(expected.rank) == 2
    assert got.residuals.shape == expected.residuals.shape == (0,)
    np.testing.assert_allclose(got.solution.numpy(), expected.solution.numpy(), rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize('hermitian', [False, True])
@pytest.mark.parametrize('tolerances', [{}, {'atol': 0.5}, {'rtol': 0.3},
                                        {'atol': 0.1, 'rtol': 0.2}])
def test_matrix_rank_and_pinv_tolerances(hermitian, tolerances):
    torch = _torch()
    rng = np.random.default_rng(3)
    # singular values / eigenvalues spread over several scales, one exactly rank-deficient
    Q = np.linalg.qr(rng.standard_normal((2, 4, 4)))[0]
    values = np.array([[3.0, 1.0, 0.4, 0.0], [2.0, -0.7, 0.25, 0.05]])
    A = (Q * values[:, None, :]) @ np.swapaxes(Q, -1, -2)
    got = nbgrad.linalg.matrix_rank(nbgrad.tensor(A), hermitian=hermitian, **tolerances)
    expected = torch.linalg.matrix_rank(torch.tensor(A), hermitian=hermitian, **tolerances)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert got.dtype == nbgrad.int64
    got = nbgrad.linalg.pinv(nbgrad.tensor(A), hermitian=hermitian, **tolerances)
    expected = torch.linalg.pinv(torch.tensor(A), hermitian=hermitian, **tolerances)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-7, atol=1e-9)


def test_matrix_power_zero_and_one():
    A = _random((2, 3, 3))
    np.testing.assert_array_equal(nbgrad.linalg.matrix_power(A, 0).numpy(), _eye_like(3, A))
    np.testing.assert_array_equal(nbgrad.linalg.matrix_power(A, 1).numpy(), A.numpy())


def test_complex_forward_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    B = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    a, b, at, bt = nbgrad.tensor(A), nbgrad.tensor(B), torch.tensor(A), torch.tensor(B)
    L, Lt = nbgrad.linalg, torch.linalg
    pairs = [(L.inv(a), Lt.inv(at)), (L.det(a), Lt.det(at)), (L.solve(a, b), Lt.solve(at, bt)),
             (L.svdvals(a), Lt.svdvals(at)), (L.eigvalsh(a @ a.mH), Lt.eigvalsh(at @ at.mH)),
             (L.cholesky(a @ a.mH), Lt.cholesky(at @ at.mH)), (L.pinv(a), Lt.pinv(at))]
    pairs += list(zip(L.slogdet(a), Lt.slogdet(at)))
    for got, expected in pairs:
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Gradients in special places
# ---------------------------------------------------------------------------------------------

def _rank_deficient(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n - 1)) @ rng.standard_normal((n - 1, n))


def test_det_gradient_at_singular_matrix_is_the_cofactor_matrix():
    """One singular matrix sends the whole batch through the SVD formula; the batch mixes
    determinants of both signs and SVDs with det(U) det(Vh) = +1 and -1."""
    torch = _torch()
    rng = np.random.default_rng(7)
    A = np.stack([_rank_deficient(seed=s) for s in range(4)] +
                 [rng.standard_normal((3, 3)) for _ in range(4)])
    a = nbgrad.tensor(A, requires_grad=True)
    at = torch.tensor(A, requires_grad=True)
    nbgrad.linalg.det(a).sum().backward()
    torch.linalg.det(at).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)
    single = nbgrad.tensor(A[0], requires_grad=True)
    assert gradcheck(nbgrad.linalg.det, (single,))
    assert gradgradcheck(nbgrad.linalg.det, (single,))


def test_gradients_with_repeated_values_when_vectors_are_unused():
    """Only S (or the eigenvalues) used: no 0/0 from the gauge terms, as in PyTorch."""
    torch = _torch()
    for fn in (lambda L, A: L.svd(A).S.sum(), lambda L, A: L.eigh(A).eigenvalues.pow(2).sum(),
               lambda L, A: L.svdvals(A).sum(), lambda L, A: L.matrix_norm(A, 'nuc')):
        a = nbgrad.eye(3, dtype=nbgrad.float64, requires_grad=True)
        at = torch.eye(3, dtype=torch.float64, requires_grad=True)
        fn(nbgrad.linalg, a).backward()
        fn(torch.linalg, at).backward()
        assert np.isfinite(a.grad.numpy()).all()
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), atol=1e-12)


def test_grad_fn_names_match_torch():
    torch = _torch()
    A = _random((3, 3), kind='general')
    S = _spd(nbgrad, A)
    names = {
        'inv': lambda L, a, s: L.inv(a), 'inv_ex': lambda L, a, s: L.inv_ex(a).inverse,
        'det': lambda L, a, s: L.det(a), 'slogdet': lambda L, a, s: L.slogdet(a).logabsdet,
        'solve': lambda L, a, s: L.solve(a, s), 'cholesky': lambda L, a, s: L.cholesky(s),
        'qr': lambda L, a, s: L.qr(a).R, 'svd': lambda L, a, s: L.svd(a).S,
        'svdvals': lambda L, a, s: L.svdvals(a), 'eigh': lambda L, a, s: L.eigh(s).eigenvectors,
        'eigvalsh': lambda L, a, s: L.eigvalsh(s), 'pinv': lambda L, a, s: L.pinv(a),
        'solve_triangular': lambda L, a, s: L.solve_triangular(a, s, upper=True),
    }
    for name, fn in names.items():
        got = fn(nbgrad.linalg, A.requires_grad_(), S.detach().requires_grad_())
        expected = fn(torch.linalg, torch.tensor(A.detach().numpy(), requires_grad=True),
                      torch.tensor(S.detach().numpy(), requires_grad=True))
        assert got.grad_fn.name() == expected.grad_fn.name(), name


def test_modifying_a_factor_in_place_is_caught_at_backward():
    A = _random((3, 3)).requires_grad_()
    U, S, Vh = nbgrad.linalg.svd(A)
    loss = (U * Vh).sum()
    with nbgrad.no_grad():
        Vh.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        loss.backward()


def test_second_backward_through_freed_decomposition_is_an_error():
    A = _random((3, 3)).requires_grad_()
    Q, R = nbgrad.linalg.qr(A)
    loss = Q.abs().sum() + R.abs().sum()
    loss.backward()
    with pytest.raises(RuntimeError, match='backward through the graph a second time'):
        loss.backward()


def test_qr_backward_errors_match_torch():
    torch = _torch()
    for mode, shape in (('r', (3, 3)), ('complete', (4, 3))):
        A = _random(shape).requires_grad_()
        At = torch.tensor(A.detach().numpy(), requires_grad=True)
        with pytest.raises(RuntimeError) as expected:
            torch.linalg.qr(At, mode=mode).R.sum().backward()
        with pytest.raises(RuntimeError) as got:
            nbgrad.linalg.qr(A, mode=mode).R.sum().backward()
        assert str(got.value) == str(expected.value)


# ---------------------------------------------------------------------------------------------
# Errors: the same kind of failure as PyTorch
# ---------------------------------------------------------------------------------------------

def _singular_batch():
    return np.stack([np.eye(3), np.zeros((3, 3)), np.eye(3)])


def _not_pd_batch():
    return np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0]), -np.eye(3)])


ERRORS = {
    'inv-non-square': (lambda L, t: L.inv(t(np.ones((2, 3)))), 'must be batches of square'),
    'inv-1d': (lambda L, t: L.inv(t(np.ones(3))), 'at least 2 dimensions'),
    'inv-int': (lambda L, t: L.inv(t(np.eye(3, dtype=np.int64))), 'floating point'),
    'inv-singular': (lambda L, t: L.inv(t(np.zeros((3, 3)))), 'singular'),
    'inv-singular-batch': (lambda L, t: L.inv(t(_singular_batch())), 'Batch element 1'),
    'det-non-square': (lambda L, t: L.det(t(np.ones((2, 3)))), 'must be batches of square'),
    'slogdet-non-square': (lambda L, t: L.slogdet(t(np.ones((2, 3)))), 'square'),
    'solve-shapes': (lambda L, t: L.solve(t(np.eye(3)), t(np.ones((4, 2)))),
                     r'Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x2\)'),
    'solve-vector-shapes': (lambda L, t: L.solve(t(np.eye(3)), t(np.ones(4))),
                            r'\(3x3 and 4x1\)'),
    'solve-right-shapes': (lambda L, t: L.solve(t(np.eye(3)), t(np.ones((3, 2))), left=False),
                           r'XA = B \(3x3 and 3x2\)'),
    'solve-right-vector': (lambda L, t: L.solve(t(np.eye(3)), t(np.ones(3)), left=False),
                           r'XA = B \(3x3 and 3x1\)'),
    'solve-batch': (lambda L, t: L.solve(t(np.ones((2, 3, 3))), t(np.ones((4, 3, 2)))), ''),
    'solve-dtype': (lambda L, t: L.solve(t(np.eye(3)), t(np.ones((3, 2))).float()),
                    'same dtype'),
    'solve-singular': (lambda L, t: L.solve(t(_singular_batch()), t(np.ones((3, 3, 1)))),
                       r'Batch element 1.*singular'),
    'cholesky-not-pd': (lambda L, t: L.cholesky(t(-np.eye(3))), 'order 1 is not positive'),
    'cholesky-not-pd-batch': (lambda L, t: L.cholesky(t(_not_pd_batch())),
                              r'Batch element 1.*order 2'),
    'cholesky-non-square': (lambda L, t: L.cholesky(t(np.ones((2, 3)))), 'square'),
    'qr-mode': (lambda L, t: L.qr(t(np.ones((2, 3))), mode='x'), 'unrecognized mode'),
    'qr-1d': (lambda L, t: L.qr(t(np.ones(3))), 'at least 2 dimensions'),
    'svd-1d': (lambda L, t: L.svd(t(np.ones(3))), 'at least 2 dimensions'),
    'eigh-non-square': (lambda L, t: L.eigh(t(np.ones((2, 3)))), 'square'),
    'eigh-uplo': (lambda L, t: L.eigh(t(np.eye(3)), UPLO='X'), 'UPLO'),
    'matrix_power-non-square': (lambda L, t: L.matrix_power(t(np.ones((2, 3))), 2), 'square'),
    'matrix_power-singular': (lambda L, t: L.matrix_power(t(np.zeros((2, 2))), -1), 'singular'),
    'cross-length': (lambda L, t: L.cross(t(np.ones(4)), t(np.ones(4))), 'must have length 3'),
    'cross-broadcast': (lambda L, t: L.cross(t(np.ones((2, 3))), t(np.ones((4, 3)))), ''),
    'vecdot-sizes': (lambda L, t: L.vecdot(t(np.ones(3)), t(np.ones(4))), ''),
    'multi_dot-one': (lambda L, t: L.multi_dot([t(np.eye(3))]), 'at least 2 tensors'),
    'multi_dot-shapes': (lambda L, t: L.multi_dot([t(np.eye(3)), t(np.eye(2))]),
                         r'shapes \[3, 3\] and \[2, 2\] cannot be multiplied'),
    'multi_dot-3d': (lambda L, t: L.multi_dot([t(np.eye(3)), t(np.ones((2, 3, 3)))]),
                     'must be 1D or 2D'),
    'lstsq-rows': (lambda L, t: L.lstsq(t(np.ones((3, 2))), t(np.ones((4, 2)))),
                   'should match'),
    'lstsq-driver': (lambda L, t: L.lstsq(t(np.ones((3, 2))), t(np.ones((3, 2))), driver='x'),
                     'driver'),
    'pinv-1d': (lambda L, t: L.pinv(t(np.ones(3))), '2 or more dimensions'),
}


@pytest.mark.parametrize('name', list(ERRORS))
def test_errors_match_torch_kind(name):
    torch = _torch()
    fn, message = ERRORS[name]
    with pytest.raises(Exception) as expected:
        fn(torch.linalg, torch.tensor)
    with pytest.raises(Exception, match=message or None) as got:
        fn(nbgrad.linalg, nbgrad.tensor)
    torch_is_linalg = isinstance(expected.value, torch.linalg.LinAlgError)
    assert isinstance(got.value, nbgrad.linalg.LinAlgError) == torch_is_linalg, got.value
    assert isinstance(got.value, type(expected.value).__mro__[1] if torch_is_linalg
                      else type(expected.value))


def test_linalg_error_is_a_runtime_error():
    assert issubclass(nbgrad.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize('fn,make', [
    (lambda L, A: L.inv_ex(A), _singular_batch),
    (lambda L, A: L.cholesky_ex(A), _not_pd_batch),
])
def test_ex_variants_report_info_like_torch(fn, make):
    torch = _torch()
    got = fn(nbgrad.linalg, nbgrad.tensor(make()))
    expected = fn(torch.linalg, torch.tensor(make()))
    np.testing.assert_array_equal(got.info.numpy(), expected.info.numpy())
    assert got.info.dtype == nbgrad.int32
    # (where a matrix failed, the result is LAPACK's partial work: inf/nan patterns, a partial
    # factor, as PyTorch returns it)
    np.testing.assert_allclose(got[0].numpy(), expected[0].numpy(), equal_nan=True)


@pytest.mark.parametrize('name', ['qr', 'inv', 'det', 'slogdet', 'cholesky', 'svd', 'svdvals',
                                  'eigh', 'eigvalsh', 'solve'])
def test_float16_is_refused_with_pytorchs_kind_of_error(name):
    """Some functions check dtypes up front (RuntimeError), others fail in a LAPACK kernel that
    has no Half version (NotImplementedError); nbgrad raises the same kind as PyTorch."""
    def run(lib):
        A = lib.eye(3, dtype=lib.float16)
        fn = getattr(lib.linalg, name)
        return fn(A, A) if name == 'solve' else fn(A)
    both(run)


@pytest.mark.parametrize('ord', [0, 0.5, 1, 2, 3, -1, float('inf'), -float('inf')])
@pytest.mark.parametrize('zero_row', [False, True])
def test_vector_norm_gradient_is_pytorchs(ord, zero_row):
    """One LinalgVectorNormBackward0 node with PyTorch's norm_backward: 0 where the norm is 0,
    ties of the inf-norms sharing the gradient, no gradient at all for ord=0."""
    def run(lib):
        x = lib.tensor([[1., -2., 0., 2.], [3., 3., -1., 0.5], [0., 0., 0., 0.]],
                       dtype=lib.float64)
        x = (x if zero_row else x[:2]).requires_grad_()
        y = lib.linalg.vector_norm(x, ord, dim=1)
        (y * lib.arange(1., y.numel() + 1, dtype=lib.float64)).sum().backward()
        name = y.grad_fn.name() if lib is nbgrad else type(y.grad_fn).__name__
        return y, x.grad, name
    both(run)
