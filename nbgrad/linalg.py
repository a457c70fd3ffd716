"""nbgrad.linalg: inverses, determinants, solvers, decompositions and norms (torch.linalg).

The functions here check arguments, apply PyTorch's conventions (vector right-hand sides, left=
False, upper=True, tolerances, named-tuple results) and build composites; the differentiable
primitives are graph nodes in nbgrad/ops/decompositions.py. Matrices are the last two dimensions;
any leading dimensions are a batch.
"""
import math

import numpy as np

from ._creation import as_tensor, eye
from ._dispatch import dispatch, no_kernel, _type_word as _dtype_word
from ._dtype import int32 as _int32, int64 as _int64
from ._out import LINALG_OUT_FUNCTIONS, accepts_out, add_out_parameters
from ._linalg_out import complex_out, exact_out
from . import _dtype, _linalg_eig as _eig
from ._tensor import Tensor
from .ops import decompositions as _ops, lu as _lu
from .ops.householder import householder_product  # noqa: F401  (torch.linalg's name for orgqr)
from .ops.ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: F401
from .ops.decompositions import LinAlgError  # noqa: F401  (torch.linalg.LinAlgError)
from .ops.elementwise import where
from .ops.matmul import matmul, vdot  # noqa: F401  (torch.linalg exposes them too)
from .ops.shape import broadcast_shapes, cat as _cat
from .ops._util import wrap_dim, wrap_dims
from .ops.vector_norm import VectorNorm
from .return_types import return_type


# ---------------------------------------------------------------------------------------------
# Argument checks (PyTorch's messages)
# ---------------------------------------------------------------------------------------------

# Functions whose float16 input fails in PyTorch's kernel (NotImplementedError), not in the
# up-front check the others have (RuntimeError)
_HALF_KERNELS = {'linalg.qr': 'geqrf_cpu', 'linalg.det': 'lu_cpu', 'linalg.solve': 'lu_cpu',
                 'linalg.cholesky': 'cholesky_cpu', 'linalg.svd': 'linalg_svd_cpu',
                 'linalg.svdvals': 'linalg_svd_cpu', 'linalg.eigh': 'linalg_eigh_cpu',
                 'linalg.eigvalsh': 'linalg_eigh_cpu', 'linalg.eig': 'linalg_eig_out_cpu',
                 'linalg.eigvals': 'linalg_eig_out_cpu'}


def _check_matrix_shape(name, A):
    """A batch of square matrices, any dtype."""
    if not isinstance(A, Tensor):
        raise TypeError(f'{name}: argument A must be a Tensor, not {type(A).__name__}')
    if A.dim() < 2:
        raise RuntimeError(f'{name}: The input tensor A must have at least 2 dimensions.')
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f'{name}: A must be batches of square matrices, but they are '
                           f'{A.shape[-2]} by {A.shape[-1]} matrices')


def _check_matrix(name, A, square=False):
    if not isinstance(A, Tensor):
        raise TypeError(f'{name}: argument A must be a Tensor, not {type(A).__name__}')
    if A.dim() < 2:
        raise RuntimeError(f'{name}: The input tensor A must have at least 2 dimensions.')
    kind = A._data.dtype.kind
    if kind not in _dtype.INEXACT_KINDS:
        raise RuntimeError(f'{name}: Expected a floating point or complex tensor as input. Got '
                           f'{_type_word(A)}')
    if _dtype.is_reduced_float(A._data.dtype):
        kernel = _HALF_KERNELS.get(name)
        if kernel is not None:  # PyTorch reaches the LAPACK kernel, which has no half version
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(A)}\'')
        raise RuntimeError(f'{name}: Low precision dtypes not supported. Got {_type_word(A)}')
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f'{name}: A must be batches of square matrices, but they are '
                           f'{A.shape[-2]} by {A.shape[-1]} matrices')


def _type_word(t):
    return _dtype_word(t._data.dtype)


def _check_same_dtype(name, A, B):
    if A.dtype != B.dtype:
        raise RuntimeError(f'{name}: Expected A and B to have the same dtype, but found A of type '
                           f'{_type_word(A)} and B of type {_type_word(B)} instead')


def _check_batches(name, A, B):
    """A and B's batch dimensions must broadcast; the error names both full shapes."""
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f'{name}: the batch dimensions of A {list(A.shape)} and B '
                           f'{list(B.shape)} cannot be broadcast together') from None


def _shape_str(shape):
    return 'x'.join(str(s) for s in shape)


# ---------------------------------------------------------------------------------------------
# Inverse and determinants
# ---------------------------------------------------------------------------------------------

def inv_ex(A, *, check_errors=False):
    """(inverse, info): info is 0, or k > 0 when the k-th pivot of A's LU is zero (singular);
    singular matrices get NaN inverses instead of an error unless check_errors."""
    _check_matrix('linalg.inv', A, square=True)
    inverse, info = dispatch(_ops.LinalgInvEx(check_errors), A)
    return return_type('linalg_inv_ex', inverse, info)


def inv(A):
    """A^-1; LinAlgError naming the batch element when a matrix is singular."""
    _check_matrix('linalg.inv', A, square=True)
    return dispatch(_ops.LinalgInvEx(check_errors=True), A)[0]


def det(A):
    _check_matrix('linalg.det', A, square=True)
    return _ops.det(A)


def slogdet(A):
    """(sign, log|det A|): sign is 0 and logabsdet -inf for singular matrices."""
    _check_matrix('linalg.slogdet', A, square=True)
    sign, logabsdet = _ops.run(_ops.LinalgSlogdet(), A)   # (backward reads the sign)
    return return_type('linalg_slogdet', sign, logabsdet)


def logdet(A):
    """log det A: NaN where det A < 0 (real A), -inf where it is 0 (torch.logdet)."""
    _check_matrix('logdet', A, square=True)
    sign, logabsdet = slogdet(A)
    if A.is_complex():
        return logabsdet + sign.log()
    return where(sign < 0, math.nan, logabsdet)


# ---------------------------------------------------------------------------------------------
# Linear systems
# ---------------------------------------------------------------------------------------------

def _is_vector_rhs(A, B):
    """PyTorch's rule: B is a vector (or batch of vectors) when it is 1-D, or has one dimension
    less than A and A's shape without its last dimension."""
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True):
    """X with A X = B (left) or X A = B; B a matrix or vector; batch dimensions broadcast."""
    name = 'linalg.solve'
    _check_matrix(name, A, square=True)
    _check_same_dtype(name, A, B)
    vector = _is_vector_rhs(A, B)
    # as in PyTorch, a vector is a column: with left=False it fits only 1x1 matrices
    rhs = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    matched = rhs.shape[-2] if left else rhs.shape[-1]
    if rhs.dim() < 2 or matched != n:
        shape = tuple(rhs.shape[-2:])
        equation = 'AX = B' if left else 'XA = B'
        raise RuntimeError(f'{name}: Incompatible shapes of A and B for the equation {equation} '
                           f'({_shape_str(A.shape[-2:])} and {_shape_str(shape)})')
    _check_batches(name, A, rhs)
    X = _ops.solve(A, rhs, left=left)
    return X.squeeze(-1) if vector else X


def solve_triangular(input, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (left) or X A = B for triangular A (only that triangle is read)."""
    A = input
    name = 'linalg.solve_triangular'
    _check_matrix_shape(name, A)
    if B.dim() < 2:
        raise RuntimeError(f'{name}: The input tensor B must have at least 2 dimensions.')
    if A._data.dtype.kind not in 'fc' or A._data.dtype == np.float16 or \
            _dtype.is_bfloat16(A._data.dtype):
        raise no_kernel('triangular_solve_cpu', A._data.dtype)
    if B.dtype != A.dtype:      # PyTorch computes in A's dtype (complex B warns, keeps the real)
        B = B.to(A.dtype)
    matched = B.shape[-2] if left else B.shape[-1]
    if matched != A.shape[-1]:
        equation = 'AX = B' if left else 'XA = B'
        raise RuntimeError(f'{name}: Incompatible shapes of A and B for the equation {equation} '
                           f'({_shape_str(A.shape[-2:])} and {_shape_str(B.shape[-2:])})')
    _check_batches(name, A, B)
    return _ops.solve_triangular(A, B, upper, left=left, unitriangular=unitriangular)


_LSTSQ_DRIVERS = ('gels', 'gelsy', 'gelsd', 'gelss')


def _lstsq_result(*values):
    return return_type('linalg_lstsq', *values)


def lstsq(input, b, rcond=None, *, driver=None):
    """Least-squares solution of A X = B via the SVD (the solution's gradient is pinv's).

    Which extra results are filled follows PyTorch's drivers: rank for gelsy/gelsd/gelss,
    singular_values for gelsd/gelss, residuals (squared column norms of A X - B) when the driver
    is not gelsy, m > n and every matrix has full rank; otherwise they are empty. gels ignores
    rcond, as LAPACK's does. gelsy decides the rank from the SVD here, where LAPACK uses a
    column-pivoted QR: with an rcond near a singular value's ratio the two can disagree."""
    A, B = input, b
    name = 'torch.linalg.lstsq'
    _check_matrix(name, A)
    _check_same_dtype(name, A, B)
    if driver is None:
        driver = 'gelsy' if A.device.type == 'cpu' else 'gels'
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f'{name}: parameter `driver` should be one of '
                           f'({", ".join(_LSTSQ_DRIVERS)})')
    vector = _is_vector_rhs(A, B)
    rhs = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if rhs.dim() < 2 or rhs.shape[-2] != m:
        raise RuntimeError(f'{name}: input.size(-2) should match other.size(-2)')
    if rcond is None or driver == 'gels':   # (gels assumes full rank: it has no rcond)
        rcond = float(np.finfo(A._data.dtype).eps) * max(m, n)
    S = svdvals(A.detach())
    rank = (S > rcond * S.amax(-1, keepdim=True)).sum(-1) if S.shape[-1] else \
        S.new_zeros(S.shape[:-1]).long()
    X = pinv(A, rtol=rcond) @ rhs
    empty = S.new_zeros(0)      # (real, as the residuals and singular values of complex A)
    residuals = empty
    if driver != 'gelsy' and m > n and bool((rank == n).all()):
        residuals = (matmul(A, X) - rhs).abs().square().sum(-2)
    return _lstsq_result(X.squeeze(-1) if vector else X, residuals,
                         rank if driver != 'gels' else S.new_zeros(0, dtype=_int64),
                         S if driver in ('gelsd', 'gelss') else empty)


# ---------------------------------------------------------------------------------------------
# Factorizations
# ---------------------------------------------------------------------------------------------

def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): the LU factorization with partial pivoting (ops/lu.py); info is the
    1-based index of the first zero on U's diagonal, or 0."""
    return return_type('linalg_lu_factor_ex', *_lu.lu_factor_ex(A, pivot, check_errors))


def lu_factor(A, *, pivot=True):
    """(LU, pivots); raises where U has a zero on its diagonal (lu_solve would divide by it)."""
    LU, pivots, _ = _lu.lu_factor_ex(A, pivot, True, name='linalg.lu_factor')
    return return_type('linalg_lu_factor', LU, pivots)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: L unit lower triangular (m, k), U upper triangular (k, n)."""
    LU, pivots, _ = _lu.lu_factor_ex(A, pivot, False, name='linalg.lu')
    return return_type('linalg_lu', *_lu.lu_unpack(LU, pivots))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B for A = P L U given lu_factor's (LU, pivots); adjoint: A^H X = B; not
    left: X A = B."""
    return _lu.lu_solve(LU, pivots, B, left=left, adjoint=adjoint)


def cholesky_ex(input, *, upper=False, check_errors=False):
    """(L, info): info is 0, or the order of the first leading minor that is not positive-
    definite (that matrix's L is NaN) unless check_errors, which raises instead."""
    A = input
    _check_matrix('linalg.cholesky', A, square=True)
    L, info = dispatch(_ops.LinalgCholeskyEx(upper, check_errors), A)
    return return_type('linalg_cholesky_ex', L, info)


def cholesky(input, *, upper=False):
    """L (lower) with A = L L^H from A's lower triangle, or U with A = U^H U from its upper
    triangle when upper."""
    A = input
    _check_matrix('linalg.cholesky', A, square=True)
    return dispatch(_ops.LinalgCholeskyEx(upper, check_errors=True), A)[0]


_QR_MODES = ('reduced', 'complete', 'r')


def qr(A, mode='reduced'):
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    _check_matrix('linalg.qr', A)
    Q, R = _ops.run(_ops.LinalgQr(mode), A)
    return return_type('linalg_qr', Q, R)


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. `driver` (cuSOLVER's choice) is ignored."""
    _check_matrix('linalg.svd', A)
    U, S, Vh = _ops.svd(A, full_matrices)
    return return_type('linalg_svd', U, S, Vh)


def svdvals(A, *, driver=None):
    _check_matrix('linalg.svdvals', A)
    return dispatch(_ops.LinalgSvdvals(), A)


def _check_uplo(UPLO):
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(input, UPLO='L'):
    """(eigenvalues ascending, eigenvectors) of Hermitian A, read from its UPLO triangle."""
    A = input
    _check_uplo(UPLO)
    _check_matrix('linalg.eigh', A, square=True)
    L, V = _ops.eigh(A, UPLO)
    return return_type('linalg_eigh', L, V)


def eig(input):
    """(eigenvalues, eigenvectors) of a general square matrix, complex (nbgrad/_linalg_eig.py:
    values and vectors as LAPACK gives them; PyTorch's gradient)."""
    _check_matrix('linalg.eig', input, square=True)
    values, vectors = _eig.eig(input)
    return return_type('linalg_eig', values, vectors)


def eigvals(input):
    _check_matrix('linalg.eigvals', input, square=True)
    return dispatch(_eig.LinalgEigvals(), input)


def eigvalsh(input, UPLO='L'):
    A = input
    _check_uplo(UPLO)
    _check_matrix('linalg.eigvalsh', A, square=True)
    return dispatch(_ops.LinalgEigvalsh(UPLO), A)


# ---------------------------------------------------------------------------------------------
# Built on the factorizations
# ---------------------------------------------------------------------------------------------

def _tolerances(A, atol, rtol):
    """PyTorch's defaults: rtol = eps * max(m, n) when neither is given, 0 when only atol is.
    Tensors become arrays that broadcast over the batch."""
    def value(x):
        return x._data if isinstance(x, Tensor) else float(x)
    if atol is None and rtol is None:
        return 0.0, float(np.finfo(A._data.dtype).eps) * max(A.shape[-2], A.shape[-1])
    return (0.0 if atol is None else value(atol)), (0.0 if rtol is None else value(rtol))


def pinv(input, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """Moore-Penrose pseudoinverse; singular values <= max(atol, rtol * largest) count as 0.
    rcond: PyTorch's older overload, rtol with atol 0."""
    A = input
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError('linalg.pinv(): rcond cannot be given together with atol or rtol')
        atol, rtol = 0.0, rcond
    if not isinstance(A, Tensor) or A.dim() < 2 or A._data.dtype.kind not in 'fc':
        what = f'{A.dtype}{list(A.shape)}' if isinstance(A, Tensor) else type(A).__name__
        raise RuntimeError(f'linalg.pinv({what}): expected a tensor with 2 or more dimensions of '
                           f'float, double, cfloat or cdouble types')
    if hermitian:
        _check_matrix('linalg.pinv', A, square=True)
    atol, rtol = _tolerances(A, atol, rtol)
    return dispatch(_ops.LinalgPinv(atol, rtol, hermitian), A)


def matrix_rank(input, tol=None, hermitian=False, *, atol=None, rtol=None):
    """How many singular values (|eigenvalues| if hermitian) exceed max(atol, rtol * largest).
    tol: PyTorch's older overload, atol with rtol 0."""
    A = input
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError('linalg.matrix_rank(): tol cannot be given together with atol or '
                            'rtol')
        atol, rtol = tol, 0.0
    _check_matrix('linalg.matrix_rank', A, square=hermitian)
    atol, rtol = _tolerances(A, atol, rtol)
    S = eigvalsh(A).abs() if hermitian else svdvals(A)
    S = S.detach()
    if S.shape[-1] == 0:
        return S.new_zeros(S.shape[:-1]).long()
    largest = S.amax(-1, keepdim=True)
    cutoff = (largest * as_tensor(rtol, dtype=S.dtype, device=S.device).unsqueeze(-1)).maximum(
        as_tensor(atol, dtype=S.dtype, device=S.device).unsqueeze(-1))
    return (S > cutoff).sum(-1)


def matrix_power(input, n):
    """A^n by repeated squaring; n < 0 uses inv(A), n = 0 gives identities."""
    A = input
    if not isinstance(n, int):
        if not (isinstance(n, Tensor) and n.dim() == 0 and n._data.dtype.kind in 'iu'):
            raise TypeError(f'matrix_power(): argument n must be int, not {type(n).__name__}')
        n = int(n.item())     # a 0-d integer tensor, as PyTorch takes it
    if n < 0:   # through inv, which takes floating types only (PyTorch's error is inv's)
        _check_matrix('linalg.inv', A, square=True)
    else:       # repeated products: integer, bool and half matrices too, as in PyTorch
        _check_matrix_shape('linalg.matrix_power', A)
        if A._data.dtype == np.bool_ and n >= 2:
            raise no_kernel('addmm_impl_cpu_', 'bool')
    if n == 0:      # (a copy of A overwritten, as PyTorch: the result is in A's graph)
        return A.clone().copy_(eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(A.shape))
    if n < 0:
        A, n = inv(A), -n
    result = None
    power = A
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    return result.clone() if result is input else result   # (A^1 is a new tensor)


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along dim (inputs broadcast): c = a' * b'' - a'' * b' with
    ' and '' the vectors rotated by one and two places."""
    if input.dim() != other.dim():
        raise RuntimeError('linalg.cross: inputs must have the same number of dimensions.')
    if input.dtype != other.dtype:     # (PyTorch's kernel takes one dtype)
        raise RuntimeError(f'expected scalar type {_type_word(input)} but found '
                           f'{_type_word(other)}')
    broadcast_shapes(input.shape, other.shape)  # a RuntimeError naming both shapes
    d = wrap_dim(dim, input.dim())
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f'linalg.cross: inputs dimension {dim} must have length 3. Got '
                           f'{input.shape[d]} and {other.shape[d]}')
    return input.roll(-1, d) * other.roll(1, d) - input.roll(1, d) * other.roll(-1, d)


def vecdot(x, y, *, dim=-1):
    """sum(conj(x) * y) along dim, broadcasting."""
    for t in (x, y):
        if t._data.dtype.kind not in _dtype.INEXACT_KINDS:
            raise RuntimeError(f'linalg.vecdot: Expected a floating point or complex tensor as '
                               f'input. Got {_dtype_word(t._data.dtype)}')
    broadcast_shapes(x.shape, y.shape)  # a RuntimeError naming both shapes, as in PyTorch
    return (x.conj() * y).sum(dim)


def multi_dot(tensors):
    """A chain of matrix products in the cheapest order (first/last may be vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f'multi_dot(): expected at least 2 tensors but got {len(tensors)}')
    first_vector = tensors[0].dim() == 1
    last_vector = tensors[-1].dim() == 1
    if tensors[0].dim() not in (1, 2):
        raise RuntimeError(f'multi_dot(): the first tensor must be 1D or 2D but got '
                           f'{tensors[0].dim()}D')
    if tensors[-1].dim() not in (1, 2):
        raise RuntimeError(f'multi_dot(): the last tensor must be 1D or 2D but got '
                           f'{tensors[-1].dim()}D')
    for i, t in enumerate(tensors[1:-1], 1):
        if t.dim() != 2:
            raise RuntimeError(f'multi_dot(): tensor {i} must be 2D but got {t.dim()}D')
    if first_vector:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vector:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    for i in range(len(tensors) - 1):
        if tensors[i].shape[1] != tensors[i + 1].shape[0]:
            raise RuntimeError(f'multi_dot(): tensors {i} and {i + 1} with shapes '
                               f'{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} '
                               f'cannot be multiplied')
    result = _chain_product(tensors, _chain_order([t.shape[0] for t in tensors] +
                                                  [tensors[-1].shape[1]]), 0, len(tensors) - 1)
    if first_vector:
        result = result.squeeze(0)
    if last_vector:
        result = result.squeeze(-1)
    return result


def _chain_order(dims):
    """split[i][j]: where to split the product of matrices i..j (textbook matrix-chain DP)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(tensors, split, i, j):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return _chain_product(tensors, split, i, k).mm(_chain_product(tensors, split, k + 1, j))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(solve(A, B), info): info is 0, or k > 0 when the k-th pivot of A's LU is zero (that
    system's result is NaN) unless check_errors, which raises instead."""
    try:
        X = solve(A, B, left=left)
    except LinAlgError:
        _, info = inv_ex(A.detach())
        if check_errors:
            raise LinAlgError(_ops._failure_message(
                'torch.linalg.solve_ex', info.numpy(force=True),
                'The solver failed because the input matrix is singular.')) from None
        singular = (info > 0).unsqueeze(-1).unsqueeze(-1)
        vector = _is_vector_rhs(A, B)
        # the singular systems' results are LAPACK's (getrf + getrs dividing by the zero pivot:
        # inf and NaN), as PyTorch's
        rhs = B.unsqueeze(-1) if vector else B
        lapack = _ops.solve_by_substitution(A.detach() if left else A.detach().mT,
                                            rhs.detach() if left else rhs.detach().mT)
        lapack = lapack if left else lapack.mT
        lapack = lapack.squeeze(-1) if vector else lapack
        identity = eye(A.shape[-1], dtype=A.dtype, device=A.device)
        try:    # the others keep their graph
            X = solve(where(singular, identity, A), B, left=left)
        except LinAlgError:     # (singular by rounding for NumPy's LAPACK, not for the re-run)
            return return_type('linalg_solve_ex', lapack, info)
        X = where(singular.squeeze(-1) if vector else singular, lapack, X)
        return return_type('linalg_solve_ex', X, info)
    info = X.new_zeros(A.shape[:-2], dtype=_int32)
    return return_type('linalg_solve_ex', X, info)


def cond(input, p=None):
    """The condition number of A in the norm p: s_max / s_min for p = None, 2 (-2: the
    reciprocal), else norm(A, p) * norm(A^-1, p) (square A; inf where A is singular)."""
    A = input
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError('linalg.cond: The input tensor must have at least 2 dimensions.')
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, 'fro', 'nuc') or isinstance(p, bool):
        raise RuntimeError(f'linalg.cond got an invalid norm type: {p}')
    if A.numel() == 0:
        real = A.real.dtype if A.is_complex() else A.dtype
        return A.new_zeros(A.shape[:-2], dtype=real)
    if A._data.dtype.kind not in 'fc':
        name = 'linalg.svd' if p is None or p in (2, -2) else 'linalg.inv'
        raise RuntimeError(f'{name}: Expected a floating point or complex tensor as input. Got '
                           f'{_type_word(A)}')
    if p is None or p in (2, -2):
        S = svdvals(A)
        largest, smallest = S.narrow(-1, 0, 1), S.narrow(-1, S.shape[-1] - 1, 1)
        return (smallest / largest if p == -2 else largest / smallest).squeeze(-1)
    if A.shape[-1] != A.shape[-2]:
        word = p if isinstance(p, str) else int(p) if math.isfinite(p) else \
            '-inf' if p < 0 else 'inf'
        raise RuntimeError(f'linalg.cond(ord={word}): A must be batches of square matrices, but '
                           f'they are {A.shape[-2]} by {A.shape[-1]} matrices')
    inverse, info = inv_ex(A)
    inverse = inverse.masked_fill((info > 0).unsqueeze(-1).unsqueeze(-1), math.inf)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    return result.nan_to_num(math.inf, math.inf, -math.inf)


def tensorinv(input, ind=2):
    """The inverse of A seen as a matrix of shape (prod(shape[:ind]), prod(shape[ind:])),
    shaped shape[ind:] + shape[:ind]."""
    A = input
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    m, n = math.prod(rows), math.prod(cols)
    if m != n:
        raise RuntimeError(f'Expected self to satisfy the requirement prod(self.shape[ind:]) == '
                           f'prod(self.shape[:ind]), but got {n} != {m}')
    return inv(A.reshape(m, n)).reshape(cols + rows)


def tensorsolve(input, other, dims=None):
    """X with tensordot(A, X, X.ndim) = B; dims of A are moved to the end first."""
    A, B = input, other
    if dims is not None:
        dims = [d % A.dim() for d in dims]
        A = A.movedim(dims, list(range(A.dim() - len(dims), A.dim())))
    result_shape = tuple(A.shape[B.dim():])
    n = math.prod(result_shape)
    if B.numel() != n:
        raise RuntimeError(f'Expected self to satisfy the requirement '
                           f'prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), but '
                           f'got {n} != {B.numel()}')
    return solve(A.reshape(n, n), B.reshape(n)).reshape(result_shape)


def vander(x, *, N=None):
    """Vandermonde matrix with increasing powers: x[..., i]**j for j < N (x.shape[-1] by
    default)."""
    kind, dtype = x._data.dtype.kind, x._data.dtype
    if kind == 'b' or dtype == np.float16 or kind not in 'iufc':
        raise RuntimeError(f'linalg.vander supports floating point, complex, and integer tensors, '
                           f'but got {_type_word(x)}')
    x_ = x.unsqueeze(-1) if x.dim() == 0 else x
    n = x_.shape[-1] if N is None else N
    if not n > 1:
        raise RuntimeError('N must be greater than 1.')
    shape = tuple(x_.shape) + (n - 1,)
    result = x_.unsqueeze(-1).expand(shape).cumprod(-1)
    ones = result.new_ones(shape[:-1] + (1,))
    return _cat([ones, result], -1)


def matrix_exp(input):
    """e^A by scaling and squaring (Pade 13); differentiable (its gradient uses matrix_exp)."""
    A = input
    if not isinstance(A, Tensor):
        raise TypeError(f'linalg.matrix_exp: argument A must be a Tensor, not {type(A).__name__}')
    if A.dim() < 2:
        raise RuntimeError('linalg.matrix_exp: The input tensor A must have at least 2 '
                           'dimensions.')
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f'linalg.matrix_exp: A must be batches of square matrices, but they '
                           f'are {A.shape[-2]} by {A.shape[-1]} matrices')
    if A._data.dtype.kind not in _dtype.INEXACT_KINDS:
        raise RuntimeError(f'linalg.matrix_exp: Expected a floating point or complex tensor as '
                           f'input. Got {_type_word(A)}')
    from .ops.matrix_exp import matrix_exp as _matrix_exp
    return _matrix_exp(A)


# ---------------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------------


def _norm_dtype(fn, x, dtype):
    """x in the dtype= of a norm, with PyTorch's checks: a float or complex input, the dtype of
    the same kind (real for real inputs, complex for complex ones), and no narrowing."""
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f'linalg.{fn}: Expected a floating point or complex tensor as '
                           f'input. Got {_type_word(x)}')
    if dtype is None:
        return x
    from . import _dtype as dtypes
    target = dtypes.to_dtype(dtype)
    word = _dtype_word(target.np)
    if x.is_complex() and not target.is_complex:
        raise RuntimeError(f'linalg.{fn}: dtype should be complex for complex inputs, but got '
                           f'{word}')
    if not x.is_complex() and target.is_complex:
        raise RuntimeError(f'linalg.{fn}: dtype should be real for real inputs, but got {word}')
    if target.itemsize < x.dtype.itemsize:
        raise RuntimeError(f'linalg.{fn}: the dtype of the input ({_type_word(x)}) should be '
                           f'convertible without narrowing to the specified dtype ({word})')
    return x.to(target)


def _ord_number(fn, ord):
    if isinstance(ord, str):
        raise TypeError(f"linalg_{fn}(): argument 'ord' (position 2) must be Number, not str")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ord-norm of x seen as a vector (over `dim`, or all elements)."""
    x = _norm_dtype('vector_norm', x, dtype)
    ord = _ord_number('vector_norm', ord)
    all_dims = dim is None or (isinstance(dim, (tuple, list)) and not dim)
    dims = tuple(range(x.dim())) if all_dims else wrap_dims(dim, x.dim())
    return dispatch(VectorNorm(ord, dims, keepdim, all_dims), x)


def matrix_norm(input, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    if input.dim() < 2:
        raise RuntimeError('linalg.matrix_norm: The input tensor A must have at least 2 '
                           'dimensions.')
    A = _norm_dtype('matrix_norm', input, dtype)
    dim = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f'linalg.matrix_norm: dim must be a 2-tuple. Got '
                           f'{" ".join(map(str, dim))}')
    d0, d1 = (d % A.dim() for d in dim)
    if ord in (1, 2, math.inf) and 0 in (A.shape[d0], A.shape[d1]):
        # an empty matrix: these norms are 0 (a maximum over nothing that is >= 0), as in
        # PyTorch; the negative orders have no value and refuse below
        shape = [1 if d in (d0, d1) else s for d, s in enumerate(A.shape)]
        zero = A.abs().new_zeros(shape)
        return zero if keepdim else zero.squeeze((d0, d1))
    if ord == 'fro':
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == 'nuc':
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1)
        return _keep(out, A, (d0, d1)) if keepdim else out
    if ord in (1, -1):
        col = A.abs().sum(d0, keepdim=True)
        out = col.amax(d1, keepdim=True) if ord == 1 else col.amin(d1, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    if ord in (math.inf, -math.inf):
        row = A.abs().sum(d1, keepdim=True)
        out = row.amax(d0, keepdim=True) if ord > 0 else row.amin(d0, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    if ord in (2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.amax(-1) if ord == 2 else s.amin(-1)
        return _keep(out, A, (d0, d1)) if keepdim else out
    raise RuntimeError(f'linalg.matrix_norm: Order {ord} not supported.')


def _keep(out, A, dims):
    for d in sorted(dims):
        out = out.unsqueeze(d)
    return out


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norm for 1-D input or when dim is an int; matrix norm for 2-D / two dims."""
    A = input
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f'linalg.norm: If dim is specified, it must be of length 1 or 2. Got '
                           f'{list(dim)}')
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, 'fro', dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2) or \
            isinstance(ord, str):    # ('fro' and 'nuc' are matrix norms)
        return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if dim is None and A.dim() != 1:
        raise RuntimeError(f'linalg.norm: If dim is not specified but ord is, the input must be 1D '
                           f'or 2D. Got {A.dim()}D.')
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def tensor_norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    """torch.norm / Tensor.norm (the older API): p='fro' or a number; dim int or tuple."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == 'fro' or p is None:
        return vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == 'nuc':
        if dim is None and input.dim() != 2:
            raise RuntimeError(f'linalg.matrix_norm: dim must be a 2-tuple. Got '
                               f'{" ".join(map(str, range(input.dim())))}')
        return matrix_norm(input, 'nuc', dim or (-2, -1), keepdim, dtype=dtype)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)




Tensor.norm = tensor_norm


# last: PyTorch's out= on the torch.linalg functions that take it. Most refuse an out of
# another dtype than their result's (_linalg_out.py); the others cast as the generic out= does;
# matrix_exp takes none.
_EXACT_OUT = ('cholesky', 'cholesky_ex', 'cross', 'det', 'eigh', 'eigvalsh', 'inv', 'inv_ex', 'ldl_factor', 'ldl_factor_ex', 'ldl_solve', 'lu', 'lu_factor',
              'lu_factor_ex', 'lu_solve', 'matmul', 'matrix_power', 'qr', 'slogdet', 'solve',
              'solve_ex', 'svd', 'svdvals', 'vector_norm')
_OWN_WORDING_OUT = ('matrix_norm', 'norm', 'multi_dot', 'vecdot', 'solve_triangular')
for _name in _EXACT_OUT:
    globals()[_name] = exact_out(globals()[_name])
for _name in _OWN_WORDING_OUT:
    globals()[_name] = exact_out(globals()[_name], _name)
eig = complex_out(eig, 'torch.linalg.eig')
eigvals = complex_out(eigvals, 'torch.linalg.eigvals')
householder_product = accepts_out(householder_product)
add_out_parameters(globals(), tuple(name for name in LINALG_OUT_FUNCTIONS if name not in
                                    _EXACT_OUT + _OWN_WORDING_OUT + ('eig', 'eigvals',
                                                                      'matrix_exp')))
