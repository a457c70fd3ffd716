"""LDL^T factorization of symmetric (possibly indefinite) matrices with Bunch-Kaufman pivoting
(LAPACK's sytrf, lower triangle) and the solve built on it: linalg.ldl_factor, ldl_factor_ex and
ldl_solve.

NumPy has no sytrf, so the factorization is LAPACK's unblocked dsytf2 (uplo='L') step by step;
PyTorch's outputs follow LAPACK exactly: LD holds L (unit diagonal implied) below the diagonal
and D's 1x1 and 2x2 blocks on the diagonal and first subdiagonal, the upper triangle is zero;
pivots are 1-based, positive for a 1x1 block (row and column k were swapped with pivots[k]) and
negative for both columns of a 2x2 block (row k+1 swapped with -pivots[k]). MKL's blocked sytrf
makes the same pivot choices; the values agree to rounding.

The pivot choices differ per matrix, so batches are factored one matrix at a time. Neither
function has a gradient in PyTorch.
"""
import math

import numpy as np

from .._dispatch import dispatch, no_kernel
from .._tensor import Tensor
from ..return_types import _FIELDS, return_type
from ._util import xp_of
from .counting import _NotDifferentiable

# torch.return_types.linalg_ldl_factor(_ex) (registered here, next to the ops that return them)
_FIELDS.setdefault('linalg_ldl_factor', ('LD', 'pivots'))
_FIELDS.setdefault('linalg_ldl_factor_ex', ('LD', 'pivots', 'info'))

_ALPHA = (1 + math.sqrt(17)) / 8     # Bunch-Kaufman's growth bound


def _swap(a, i, j):
    """Exchange two index arrays' entries of a (rows, columns or single elements)."""
    a[i], a[j] = a[j].copy(), a[i].copy()


def _cabs1(x):
    """LAPACK's pivot size: |x| for real, |re| + |im| for complex (zsytf2's CABS1)."""
    x = np.asarray(x)
    return np.abs(x.real) + np.abs(x.imag) if x.dtype.kind == 'c' else np.abs(x)


def _sytf2(a):
    """dsytf2 / zsytf2 (uplo='L') on one n x n matrix, in place: returns (pivots, info)."""
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = float(_cabs1(a[k, k]))
        if k + 1 < n:
            imax = k + 1 + int(np.argmax(_cabs1(a[k + 1:, k])))
            colmax = float(_cabs1(a[imax, k]))
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            # a zero (or NaN) column: LAPACK records it and moves on without an update
            info = info or k + 1
            kp = k
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                # the largest off-diagonal element of row/column imax
                rowmax = float(np.max(_cabs1(a[imax, k:imax])))
                if imax + 1 < n:
                    rowmax = max(rowmax, float(np.max(_cabs1(a[imax + 1:, imax]))))
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif _cabs1(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:     # symmetric interchange of kk and kp in the trailing lower triangle
                if kp + 1 < n:
                    _swap(a, (slice(kp + 1, None), kk), (slice(kp + 1, None), kp))
                t = a[kk + 1:kp, kk].copy()
                a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                a[kp, kk + 1:kp] = t
                _swap(a, (kk, kk), (kp, kp))
                if kstep == 2:
                    _swap(a, (k + 1, k), (kp, k))
            if kstep == 1:
                _update_1x1(a, k)
            else:
                _update_2x2(a, k)
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return ipiv, info


def _update_1x1(a, k):
    """A22 -= x x^T / d, then L's column x / d (x = a[k+1:, k], d = a[k, k])."""
    if k + 1 >= a.shape[0]:
        return
    x = a[k + 1:, k].copy()
    d = a[k, k]
    tiny = np.finfo(a.dtype).tiny
    if _cabs1(d) >= tiny:
        r = 1 / d
        a[k + 1:, k + 1:] -= np.tril(r * np.outer(x, x))
        a[k + 1:, k] = x * r
    else:   # (LAPACK divides rather than multiplying by an overflowing reciprocal)
        a[k + 1:, k] = x / d
        a[k + 1:, k + 1:] -= np.tril(d * np.outer(a[k + 1:, k], a[k + 1:, k]))


def _update_2x2(a, k):
    """A22 -= W D^-1 W^T for the 2x2 pivot block D, W = a[k+2:, k:k+2]; L's columns W D^-1,
    in LAPACK's operation order."""
    if k + 2 >= a.shape[0]:
        return
    d21 = a[k + 1, k]
    d11 = a[k + 1, k + 1] / d21
    d22 = a[k, k] / d21
    t = 1 / (d11 * d22 - 1)
    d21 = t / d21
    w0, w1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
    wk = d21 * (d11 * w0 - w1)
    wkp1 = d21 * (d22 * w1 - w0)
    a[k + 2:, k + 2:] -= np.tril(np.outer(w0, wk) + np.outer(w1, wkp1))
    a[k + 2:, k] = wk
    a[k + 2:, k + 1] = wkp1


class LinalgLdlFactorEx(_NotDifferentiable):
    num_outputs = 3
    non_differentiable_outputs = (1, 2)
    error = RuntimeError
    message = 'derivative for aten::linalg_ldl_factor_ex is not implemented'

    def forward(self, a):
        xp = xp_of(a)
        host = a if xp is np else a.get()
        n = host.shape[-1]
        batch = host.shape[:-2]
        flat = np.tril(host).reshape((math.prod(batch), n, n)).copy()   # (n may be 0)
        pivots = np.zeros((flat.shape[0], n), np.int32)
        info = np.zeros(flat.shape[0], np.int32)
        for i in range(flat.shape[0]):
            pivots[i], info[i] = _sytf2(flat[i])
        results = (np.tril(flat).reshape(host.shape), pivots.reshape(batch + (n,)),
                   info.reshape(batch))
        if xp is not np:
            results = tuple(xp.asarray(r) for r in results)
        return results


def _check_input(name, A, hermitian):
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f'{name}: The input tensor A must have at least 2 dimensions.')
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f'{name}: A must be batches of square matrices, but they are '
                           f'{A.shape[-2]} by {A.shape[-1]} matrices')
    if A._data.dtype.kind not in 'fc' or A._data.dtype == np.float16:
        raise no_kernel('linalg_ldl_factor_ex_cpu', A._data.dtype)
    if hermitian and A.is_complex():
        raise NotImplementedError('nbgrad: linalg.ldl_factor with hermitian=True is implemented '
                                  'for real matrices only (LAPACK hetrf is not ported yet); '
                                  'real symmetric matrices need no flag')


def ldl_factor_ex(input, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): info is 0, or k where D[k-1, k-1] is exactly zero (the matrix is
    singular; LD is still the factorization, as LAPACK leaves it)."""
    name = 'torch.linalg.ldl_factor_ex'
    _check_input(name, input, hermitian)
    LD, pivots, info = dispatch(LinalgLdlFactorEx(), input)
    if check_errors:
        _raise_if_singular(name, info)
    return return_type('linalg_ldl_factor_ex', LD, pivots, info)


def ldl_factor(input, *, hermitian=False):
    """(LD, pivots); raises where D has a zero pivot (ldl_solve would divide by it)."""
    name = 'torch.linalg.ldl_factor'
    _check_input(name, input, hermitian)
    LD, pivots, info = dispatch(LinalgLdlFactorEx(), input)
    _raise_if_singular(name, info)
    return return_type('linalg_ldl_factor', LD, pivots)


def _raise_if_singular(name, info):
    codes = info.numpy(force=True)
    if not codes.any():
        return
    flat = codes.reshape(-1)
    first = int(np.flatnonzero(flat)[0])
    where = f'(Batch element {first}): ' if codes.ndim else ''
    k = int(flat[first])
    # (PyTorch 2.13 reports this case as an internal assert, "Unknown error code: k")
    raise RuntimeError(f'{name}: {where}The factorization could not be completed because the '
                       f'input is singular: D[{k - 1},{k - 1}] is exactly zero (LAPACK sytrf info '
                       f'= {k}). torch.linalg.ldl_factor_ex returns the factorization anyway.')


def _sytrs(ld, ipiv, b):
    """dsytrs (uplo='L'): solve L D L^T X = B in place for one matrix, B (n, nrhs)."""
    n = ld.shape[0]
    k = 0
    while k < n:                          # L D Y = B, moving forward
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                _swap(b, k, kp)
            b[k + 1:] -= np.outer(ld[k + 1:, k], b[k])
            b[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                _swap(b, k + 1, kp)
            if k + 2 < n:
                b[k + 2:] -= np.outer(ld[k + 2:, k], b[k]) + np.outer(ld[k + 2:, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1 = ld[k, k] / akm1k
            ak = ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k] = (ak * bkm1 - bk) / denom
            b[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:                         # L^T X = Y, moving back
        if ipiv[k] > 0:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                _swap(b, k, kp)
            k -= 1
        else:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            b[k - 1] -= ld[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                _swap(b, k, kp)
            k -= 2


class LinalgLdlSolve(_NotDifferentiable):
    error = RuntimeError
    message = 'derivative for aten::linalg_ldl_solve is not implemented'

    def forward(self, ld, pivots, b):
        xp = xp_of(ld, b)
        ld, pivots, b = (x if xp is np else x.get() for x in (ld, pivots, b))
        batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
        n = ld.shape[-1]
        ld = np.broadcast_to(ld, batch + (n, n)).reshape((-1, n, n))
        pivots = np.broadcast_to(pivots, batch + (n,)).reshape((-1, n))
        out = np.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:]).copy()
        for i in range(out.shape[0]):
            _sytrs(ld[i], pivots[i], out[i])
        out = out.reshape(batch + b.shape[-2:])
        return out if xp is np else xp.asarray(out)


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B for A = L D L^T given ldl_factor's (LD, pivots)."""
    name = 'torch.linalg.ldl_solve'
    for what, t in (('LD', LD), ('B', B)):
        if not isinstance(t, Tensor) or t.dim() < 2:
            raise RuntimeError(f'{name}: The input tensor {what} must have at least 2 '
                               f'dimensions.')
    if LD.shape[-1] != LD.shape[-2]:
        raise RuntimeError(f'{name}: LD must be batches of square matrices, but they are '
                           f'{LD.shape[-2]} by {LD.shape[-1]} matrices')
    if pivots.dim() != LD.dim() - 1 or pivots.shape[-1] != LD.shape[-1]:
        raise RuntimeError(f'{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but '
                           f'got pivots with shape {list(pivots.shape)} instead')
    if pivots._data.dtype.kind not in 'iu':     # (int32 as ldl_factor gives them, or int64)
        raise RuntimeError(f'{name}: Expected pivots to be integers. Got {pivots.dtype}')
    if B.dtype != LD.dtype:
        raise RuntimeError(f'{name}: LD dtype {LD.dtype} does not match B dtype {B.dtype}')
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f'{name}: Incompatible shapes of A and B for the equation AX = B '
                           f'({LD.shape[-2]}x{LD.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})')
    if hermitian and LD.is_complex():
        raise NotImplementedError('nbgrad: linalg.ldl_solve with hermitian=True is implemented '
                                  'for real matrices only')
    return dispatch(LinalgLdlSolve(), LD, pivots, B)
