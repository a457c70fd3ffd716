"""LU factorization with partial pivoting (LAPACK's getrf) and what is built on it: lu_factor,
lu_factor_ex, lu, lu_unpack, lu_solve and the older torch.lu / torch.lu_solve.

NumPy has no LU, so the factorization is nbgrad's own: the unblocked right-looking algorithm
(LAPACK's getf2), one Python step per column, vectorised over the batch. Each step takes the
first row with the largest |value| (|re| + |im| for complex) in the column as the pivot, as
LAPACK does. A zero pivot sets `info` and leaves that column unscaled, as LAPACK does.

Pivots are LAPACK's: 1-based, and row j was swapped with row pivots[j] - 1 at step j. The
backward is PyTorch's linalg_lu_backward (square, tall and wide matrices): for square A = P L U
gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H; the rectangular cases split off the rows
(columns) beyond the square part, see _tall_grad and _wide_grad.
"""
import math

import numpy as np

from .._dispatch import dispatch
from .._tensor import Tensor
from ..autograd.graph import Node
from ._util import xp_of
from .shape import cat


def _factor(xp, a):
    """(LU, pivots, info) of a (..., m, n): LU holds L below the diagonal (unit diagonal
    implied) and U on and above it."""
    lu = xp.array(a, order='C', copy=True)     # (C order: `flat` below must be a view of it)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    flat = lu.reshape((math.prod(batch), m, n))    # (not -1: a 0 x n matrix has no elements)
    count = flat.shape[0]
    pivots = np.zeros((count, k), np.int32)
    info = np.zeros(count, np.int32)
    rows = xp.arange(count)
    for j in range(k):
        p = xp.argmax(_pivot_size(xp, flat[:, j:, j]), axis=1) + j    # (the first largest)
        p_host = p if xp is np else p.get()
        pivots[:, j] = p_host + 1
        if (p_host != j).any():
            pivot_rows = flat[rows, p].copy()
            flat[rows, p] = flat[:, j]
            flat[:, j] = pivot_rows
        pivot = flat[:, j, j]
        zero = pivot == 0
        zero_host = zero if xp is np else zero.get()
        info[(info == 0) & zero_host] = j + 1
        if j + 1 < m:
            scale = xp.where(zero, 1, pivot)[:, None]
            below = flat[:, j + 1:, j]
            below[...] = xp.where(zero[:, None], below, below / scale)
            if j + 1 < n:
                flat[:, j + 1:, j + 1:] -= below[:, :, None] * flat[:, j, None, j + 1:]
    return (lu, xp.asarray(pivots.reshape(batch + (k,))), xp.asarray(info.reshape(batch)))


def _pivot_size(xp, column):
    """LAPACK's measure for choosing pivots (i?amax): |x| for real, |re| + |im| for complex
    (BLAS's CABS1, not the modulus: the two can pick different rows)."""
    if column.dtype.kind == 'c':
        return xp.abs(column.real) + xp.abs(column.imag)
    return xp.abs(column)


class LinalgLuFactorEx(Node):
    """(LU, pivots, info); differentiable in LU (complex matrices too: the formulas use ^H
    where PyTorch's do)."""
    num_outputs = 3
    non_differentiable_outputs = (1, 2)
    saves_output = True
    complex_autograd = True

    def forward(self, a):
        out = _factor(xp_of(a), a)
        self._pivots = Tensor._make(out[1])     # (backward unpacks the permutation)
        return out

    def backward(self, g_lu, g_pivots=None, g_info=None):
        if g_lu is None:
            return None
        LU = self.saved_output()
        P, L, U = lu_unpack(LU, self._pivots)
        m, n = LU.shape[-2:]
        if m == n:
            return P @ _square_grad(g_lu, L, U)
        if m > n:
            return P @ _tall_grad(g_lu, L, U, n)
        return P @ _wide_grad(g_lu, L, U, m)

    def name(self):
        return 'LinalgLuFactorExBackward0'


def _square_grad(g_lu, L, U):
    """L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H, with gL = tril(gLU, -1), gU = triu(gLU)."""
    from ..linalg import solve_triangular
    phi = (L.mH @ g_lu.tril(-1)).tril(-1) + (g_lu.triu() @ U.mH).triu()
    grad = solve_triangular(U.mH, phi, upper=False, left=False)
    return solve_triangular(L.mH, grad, upper=True, left=True, unitriangular=True)


def _tall_grad(g_lu, L, U, k):
    """m > n (PyTorch's tall case): with L = [L1; L2] (L1 k x k),
    A1 gets [gL1 + L1^-H triu(gU U^H - L^H gL)] U^-H and A2 gets gL2 U^-H."""
    from ..linalg import solve_triangular
    g_l, g_u = g_lu.tril(-1), g_lu.narrow(-2, 0, k).triu()
    phi = g_u @ U.mH - L.mH @ g_l
    grad = solve_triangular(L.narrow(-2, 0, k).mH, phi.triu(), upper=True, left=True,
                            unitriangular=True)
    grad = cat([grad + g_l.narrow(-2, 0, k), g_l.narrow(-2, k, g_l.shape[-2] - k)], -2)
    return solve_triangular(U.mH, grad, upper=False, left=False)


def _wide_grad(g_lu, L, U, k):
    """m < n (PyTorch's wide case): with U = [U1 U2] (U1 k x k),
    A1 gets L^-H [gU1 + tril(L^H gL - gU U^H, -1) U1^-H] and A2 gets L^-H gU2."""
    from ..linalg import solve_triangular
    g_l, g_u = g_lu.narrow(-1, 0, k).tril(-1), g_lu.triu()
    phi = L.mH @ g_l - g_u @ U.mH
    grad = solve_triangular(U.narrow(-1, 0, k).mH, phi.tril(-1), upper=False, left=False)
    grad = cat([grad + g_u.narrow(-1, 0, k), g_u.narrow(-1, k, g_u.shape[-1] - k)], -1)
    return solve_triangular(L.mH, grad, upper=True, left=True, unitriangular=True)


def lu_factor_ex(A, pivot=True, check_errors=False, name='linalg.lu_factor_ex'):
    """(LU, pivots, info) of A; check_errors raises where a U diagonal element is zero."""
    _check(A, name, pivot)
    node = LinalgLuFactorEx()
    LU, pivots, info = dispatch(node, A)
    if check_errors:
        _raise_if_zero_pivot(name, info)
    return LU, pivots, info


def _check(A, name, pivot):
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f'{name}: The input tensor A must have at least 2 dimensions.')
    if A._data.dtype.kind not in 'fc' or A._data.dtype == np.float16:
        from .._dispatch import no_kernel
        raise no_kernel('lu_cpu', A._data.dtype)
    if not pivot:
        raise RuntimeError(f'{name}: LU without pivoting is not implemented on the CPU')


def _raise_if_zero_pivot(name, info):
    if info.is_meta:
        return          # (no values: nothing to report)
    codes = info._data if info._data.__class__ is np.ndarray else info._data.get()
    if not codes.any():
        return
    flat = codes.reshape(-1)
    first = int(np.flatnonzero(flat)[0])
    where = f'(Batch element {first}): ' if codes.ndim else ''
    k = int(flat[first])
    raise RuntimeError(f'torch.{name}: {where}U[{k},{k}] is zero and using it on lu_solve would '
                       f'result in a division by zero. If you still want to perform the '
                       f'factorization, consider calling linalg.lu(A, pivot) or '
                       f'linalg.lu_factor_ex(A, pivot)')


def permutation(pivots, m, like):
    """The permutation matrices P (..., m, m) with A = P L U, from LAPACK's pivots."""
    if like.is_meta:
        from .._arrays import meta_array
        return Tensor._make(meta_array(tuple(pivots.shape[:-1]) + (m, m), like._data.dtype))
    xp = xp_of(pivots._data)
    piv = pivots._data if xp is np else pivots._data.get()
    batch = piv.shape[:-1]
    flat = piv.reshape((math.prod(batch), piv.shape[-1])) - 1   # (no pivots: k = 0)
    order = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        swap = order[rows, flat[:, j]].copy()
        order[rows, flat[:, j]] = order[:, j]
        order[:, j] = swap
    P = np.zeros((flat.shape[0], m, m), like._data.dtype)
    P[rows[:, None], order, np.arange(m)] = 1       # P[order[i], i] = 1: A[order] = L U
    P = P.reshape(batch + (m, m))
    return Tensor._make(P if xp is np else xp.asarray(P))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's results; an empty tensor for a part not unpacked."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = LU_data.new_zeros(0)
    P = permutation(LU_pivots, m, LU_data) if unpack_pivots else empty
    if not unpack_data:
        return P, empty, empty
    from .._creation import eye
    L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
    U = LU_data[..., :k, :].triu()
    return P, L, U


def lu_solve(LU, pivots, B, left=True, adjoint=False):
    """X with A X = B (A^H X = B with adjoint; X A = B when not left) for A = P L U."""
    from ..linalg import solve_triangular
    P, L, U = lu_unpack(LU, pivots)
    if not left:    # X A = B  <=>  A^H X^H = B^H
        return lu_solve(LU, pivots, B.mH, left=True, adjoint=not adjoint).mH
    if adjoint:     # U^H L^H P^T X = B
        Y = solve_triangular(U.mH, B, upper=False)
        Y = solve_triangular(L.mH, Y, upper=True, unitriangular=True)
        return P @ Y
    Y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
    return solve_triangular(U, Y, upper=True)
