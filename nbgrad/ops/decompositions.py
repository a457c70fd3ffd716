"""Matrix factorizations and solvers as graph nodes: inverse, determinant, linear and triangular
solves, Cholesky, QR, SVD, the symmetric eigendecomposition and the pseudoinverse (the ops behind
nbgrad.linalg, which checks arguments and gives them PyTorch's signatures).

Forward calls NumPy's or CuPy's LAPACK-backed routines on raw arrays. Backward is written in Tensor
ops built from these same nodes, so gradients of gradients work. The formulas are PyTorch's
(torch/csrc/autograd/FunctionsManual.cpp: linalg_det_backward, cholesky_backward,
linalg_qr_backward, svd_backward, linalg_eig_backward, pinv_backward...), complex case included:
every node here sets complex_autograd, and its formula puts the conjugates (.mH) where PyTorch's
does (see nbgrad/_complex_autograd.py for the convention). The general eigendecomposition lives
in nbgrad/_linalg_eig.py.
"""
import numpy as np

from .._creation import eye, zeros
from .._dispatch import dispatch
from .._tensor import Tensor
from ..autograd.graph import Node, _FREED_MESSAGE, _modified_message
from ._util import xp_of
from .reduction import _exclusive_products
from .shape import cat


class LinAlgError(RuntimeError):
    """A matrix was singular or not positive-definite (PyTorch's torch.linalg.LinAlgError)."""


# ---------------------------------------------------------------------------------------------
# Running LAPACK and reporting its failures as PyTorch does
# ---------------------------------------------------------------------------------------------

def _call(xp, fn, *args, **kwargs):
    """Run an xp.linalg routine so that a failed factorization raises on both backends (NumPy
    always raises; CuPy checks cuSOLVER's status only when asked, because that costs a sync)."""
    if xp is np:
        return fn(*args, **kwargs)
    import cupyx
    with cupyx.errstate(linalg='raise'):
        return fn(*args, **kwargs)


def _batched(xp, a, b):
    """A and B with their batch dimensions broadcast: NumPy's solve broadcasts them itself,
    CuPy's requires equal batch shapes."""
    if xp is np:
        return a, b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (xp.ascontiguousarray(xp.broadcast_to(a, batch + a.shape[-2:])),
            xp.ascontiguousarray(xp.broadcast_to(b, batch + b.shape[-2:])))


def _host(a):
    return a if a.__class__ is np.ndarray else a.get()


def _factor_each(xp, fn, a, fallback):
    """After a batched call failed (LAPACK reports one failure for the whole batch): factor each
    matrix alone, so the good ones keep their result. Failed ones get fallback(matrix) ->
    (result, info): what LAPACK leaves for them (inf/NaN inverses, partial Cholesky factors) and
    its `info` (1-based position of the failure), as in PyTorch's *_ex functions."""
    flat = a.reshape((-1,) + a.shape[-2:])
    out = xp.empty(flat.shape, dtype=a.dtype)
    info = np.zeros(len(flat), np.int32)
    for i in range(len(flat)):
        try:
            out[i] = _call(xp, fn, flat[i])
        except np.linalg.LinAlgError:
            # (the unblocked re-run can disagree with LAPACK by rounding, as MKL, PyTorch's
            # LAPACK, can with NumPy's: its own `info` goes with its own result)
            result, info[i] = fallback(_host(flat[i]))
            out[i] = xp.asarray(result.astype(a.dtype, copy=False))
    return out.reshape(a.shape), info.reshape(a.shape[:-2])


def _nan_matrices(xp, a):
    """Which matrices of a (batch shape) hold a NaN, or None when none does. LAPACK's pivoting
    meets NaN as PyTorch's getrf does not: NumPy's det gave 0 and inv raised for them, where
    PyTorch's results are NaN."""
    if a.dtype.kind not in 'fc' or not a.size:
        return None
    nan = xp.asarray(xp.isnan(a).any(axis=(-2, -1)))     # (an array for one matrix too)
    return nan if bool(nan.any()) else None


def _with_identities(xp, a, nan):
    """a with its NaN matrices replaced by identities (so that they factor), batch kept."""
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    return xp.where(nan[..., None, None], eye, a)


def _lu_solve_one(m, b):
    """(X, info) for one square matrix m (host) and right-hand sides b, computed as LAPACK's
    getrf + getrs do: partial pivoting, then triangular substitutions that divide by a zero
    pivot rather than stop (PyTorch's inv_ex / solve_ex results for singular matrices)."""
    from .lu import _factor
    lu, pivots, info = _factor(np, m[None])
    lu, pivots = lu[0], pivots[0] - 1
    x = np.array(b, dtype=np.result_type(m.dtype, b.dtype), copy=True)
    for j, p in enumerate(pivots):
        if p != j:
            x[[j, p]] = x[[p, j]]
    n = m.shape[-1]
    x = _substitute(np, np.tril(lu, -1) + np.eye(n, dtype=lu.dtype), x, upper=False)
    return _substitute(np, np.triu(lu), x, upper=True), int(info[0])


def _lu_inverse_one(m):
    return _lu_solve_one(m, np.eye(m.shape[-1], dtype=m.dtype))


def _partial_cholesky(m):
    """(L, info) of LAPACK's unblocked potf2 on m's lower triangle: when the leading minor of
    order k is not positive-definite, columns before k-1 are factored, L[k-1, k-1] holds the
    failing value and the columns after are m's own (PyTorch's cholesky_ex output; MKL's
    blocked potrf of matrices over ~128 rows also updates the trailing blocks)."""
    n = m.shape[-1]
    L = np.tril(m).astype(m.dtype, copy=True)
    for j in range(n):
        d = (L[j, j] - np.vdot(L[j, :j], L[j, :j])).real
        if not d > 0:
            L[j, j] = d
            return L, j + 1
        L[j, j] = np.sqrt(d)
        L[j + 1:, j] = (L[j + 1:, j] - L[j + 1:, :j] @ L[j, :j].conj()) / L[j, j]
    return L, 0


def _failure_message(name, info, what):
    """PyTorch's wording: '<op>: (Batch element i): <what, with the failing index k>'."""
    flat = np.asarray(info).reshape(-1)
    i = int(np.flatnonzero(flat)[0])
    where = f'(Batch element {i}): ' if np.ndim(info) else ''
    return f'{name}: {where}{what.format(k=int(flat[i]))}'


def _batch_failure(name, a, failure_index, what):
    """A batched routine other than the factorization itself failed (solve): find the culprit."""
    xp = xp_of(a)
    _, info = _factor_each(xp, xp.linalg.inv, a, failure_index)
    if not np.any(info):
        return LinAlgError(f'{name}: {what.format(k="?")}')
    return LinAlgError(_failure_message(name, info, what))


def _triangle(xp, a, upper, unit):
    n = a.shape[-1]
    keep = xp.tri(n, dtype=bool)
    keep = keep.T if upper else keep
    tri = xp.where(keep, a, xp.zeros((), a.dtype))
    if unit:
        tri = xp.where(xp.eye(n, dtype=bool), xp.ones((), a.dtype), tri)
    return tri


# ---------------------------------------------------------------------------------------------
# Nodes with several outputs
# ---------------------------------------------------------------------------------------------

class _MultiOutputNode(Node):
    """A node with several outputs (Q and R; U, S and Vh; inverse and info...).

    Two differences from the engine's defaults, both for backward:
    - an output that received no gradient arrives as None rather than as zeros: the SVD and eigh
      formulas divide by gaps between singular values / eigenvalues, and a zero gradient for an
      unused U would still give 0/0 = NaN when singular values repeat (PyTorch skips those terms);
    - the engine saves only output 0 (saves_output); `run` keeps every output the same way (array,
      version counter, version: no reference cycle) for nodes whose backward needs them all.
    """
    _kept = None

    def _materialize(self, grad_outputs):
        return list(grad_outputs)

    def _outputs(self):
        """The outputs as tensors of this node (so create_graph differentiates through them)."""
        if self._kept is None:
            raise RuntimeError(_FREED_MESSAGE)
        outputs = []
        for nr, (array, counter, version) in enumerate(self._kept):
            if counter[0] != version:
                raise RuntimeError(_modified_message(self, None, counter[0], version, output=True,
                                                     array=array))
            t = Tensor._make(array, True, self, counter)
            t._output_nr = nr
            outputs.append(t)
        return outputs

    def _release(self):
        super()._release()
        if self._kept is not None:
            self._kept = None
            self._freed = True

    def keep_outputs(self, outputs):
        """Recorded: keep every output for backward (the dispatcher calls this)."""
        self._kept = tuple((t._data, t._vc, t._vc[0]) for t in outputs)


def run(op, *inputs):
    """dispatch(op, *inputs): a node recorded keeps all its outputs (keep_outputs)."""
    return dispatch(op, *inputs)


# PyTorch's errors for a loss that depends on the phases of complex singular vectors or
# eigenvectors (each is defined only up to a factor e^{i phi}, so such a loss has no derivative)
SVD_PHASE_DEPENDENT = ('svd_backward: The singular vectors in the complex case are specified up to '
                       'multiplication by e^{i phi}. The specified loss function depends on this '
                       'phase term, making it ill-defined.')
EIG_PHASE_DEPENDENT = ('{name}: The eigenvectors in the complex case are specified up to '
                       'multiplication by e^{{i phi}}. The specified loss function depends on this '
                       'quantity, so it is ill-defined.')


def check_phase_invariance(message, imag_diag, expected):
    """PyTorch's test of phase invariance: the imaginary diagonal of V^H gV (of skew(U^H gU)
    for the SVD) must match `expected` (zeros, or minus the SVD's other factor's) to
    allclose(rtol=1e-2, atol=1e-2), PyTorch's lax tolerances. Done on the raw arrays (a host
    sync), outside any graph."""
    a, b = imag_diag._data, expected._data
    xp = xp_of(a)
    if not bool((xp.abs(a - b) <= 1e-2 + 1e-2 * xp.abs(b)).all()):
        raise RuntimeError(message)


def _identity_like(n, t):
    return eye(n, dtype=t.dtype, device=t.device)


# ---------------------------------------------------------------------------------------------
# Inverse, determinant, solves
# ---------------------------------------------------------------------------------------------

_SINGULAR_INV = ('The diagonal element {k} is zero, the inversion could not be completed because '
                 'the input matrix is singular.')
_SINGULAR_SOLVE = 'The solver failed because the input matrix is singular.'
_NOT_PD = ('The factorization could not be completed because the input is not positive-definite '
           '(the leading minor of order {k} is not positive-definite).')


class LinalgInvEx(_MultiOutputNode):
    """(A^-1, info). d(A^-1)* (g) = -A^-H g A^-H."""
    num_outputs = 2
    non_differentiable_outputs = (1,)
    saves_output = True
    complex_autograd = True

    def __init__(self, check_errors):
        self.check_errors = check_errors

    def forward(self, a):
        xp = xp_of(a)
        nan = _nan_matrices(xp, a)
        if nan is not None:     # NaN in, NaN out, no failure (PyTorch's getrf/getri)
            inverse, info = self.forward(_with_identities(xp, a, nan))
            return xp.where(nan[..., None, None], np.nan, inverse).astype(a.dtype), info
        try:
            return _call(xp, xp.linalg.inv, a), xp.zeros(a.shape[:-2], np.int32)
        except np.linalg.LinAlgError:
            inverse, info = _factor_each(xp, xp.linalg.inv, a, _lu_inverse_one)
        if self.check_errors:
            raise LinAlgError(_failure_message('linalg.inv', info, _SINGULAR_INV))
        return inverse, xp.asarray(info)

    def backward(self, g, g_info):
        if g is None:
            return None
        inverse_h = self.saved_output().mH
        return -(inverse_h @ g @ inverse_h)


def inv(A):
    """A^-1 without error checks (NaN for singular matrices): the form backward formulas use."""
    return dispatch(LinalgInvEx(check_errors=False), A)[0]


class LinalgDet(Node):
    """det A. Gradient g * conj(det A) * A^-H, or for (nearly) singular matrices the adjugate
    computed from the SVD, as PyTorch's linalg_det_backward does (det is holomorphic: the
    conjugates make it g * conj(d det / dA) for complex A)."""
    saved_inputs = (0,)
    saves_output = True
    complex_autograd = True

    def forward(self, a):
        xp = xp_of(a)
        nan = _nan_matrices(xp, a)
        out = xp.linalg.det(a)
        return out if nan is None else xp.where(nan, np.nan, out).astype(out.dtype)

    def backward(self, g):
        (A,) = self.saved_tensors
        det = self.saved_output()
        eps = float(np.finfo(A._data.dtype).eps)
        if bool((det.abs() < 100 * eps).any()):
            # One formula for the whole batch keeps the graph simple; the SVD one is valid for
            # invertible matrices too, only slower.
            return _det_grad_singular(A, g)
        return (g * det.conj()).unsqueeze(-1).unsqueeze(-1) * inv(A).mH


def _det_grad_singular(A, g):
    """g * conj(cofactor(A)) with cofactor(A) from A = U S Vh: det(U) det(Vh) U diag(p) Vh, where
    p_i is the product of the singular values other than s_i (zero-safe, no division)."""
    U, S, Vh = svd(A, full_matrices=False)
    alpha = (det(U) * det(Vh)).conj() * g
    D = alpha.unsqueeze(-1) * _exclusive_products(S, -1)
    return (U * D.unsqueeze(-2)) @ Vh


def det(A):
    return dispatch(LinalgDet(), A)


class LinalgSlogdet(_MultiOutputNode):
    """(sign, log|det A|), PyTorch's slogdet_backward: log|det A| = Re log det A and, for complex
    A, sign = exp(i Im log det A), with log det holomorphic (derivative A^-T), so
    gA = (g_logabsdet - i Im(conj(g_sign) sign)) A^-H. For real A the sign is locally constant.
    Run with run() (backward reads the sign)."""
    num_outputs = 2
    saved_inputs = (0,)
    complex_autograd = True

    def forward(self, a):
        xp = xp_of(a)
        sign, logabsdet = xp.linalg.slogdet(a)
        nan = _nan_matrices(xp, a)
        if nan is not None:     # PyTorch's: sign 0, log|det| NaN
            sign = xp.where(nan, 0, sign).astype(sign.dtype)
            logabsdet = xp.where(nan, np.nan, logabsdet).astype(logabsdet.dtype)
        return sign, logabsdet

    def backward(self, g_sign, g_logabsdet):
        (A,) = self.saved_tensors
        g = g_logabsdet
        if g_sign is not None and A.is_complex():
            sign = self._outputs()[0]
            g_phase = (g_sign.conj() * sign).imag * -1j
            g = g_phase if g is None else g + g_phase
        if g is None:
            return None
        return g.unsqueeze(-1).unsqueeze(-1) * inv(A).mH


class LinalgSolveEx(Node):
    """X = A^-1 B for B of shape (..., n, k); batch dimensions broadcast (the engine sums the
    gradients back). gB = A^-H g, gA = -gB X^H (complex A and B alike)."""
    saved_inputs = (0,)
    saves_output = True
    complex_autograd = True

    def forward(self, a, b):
        xp = xp_of(a, b)
        nan = _nan_matrices(xp, a)
        if nan is not None:     # NaN in A: NaN solutions, no failure (PyTorch's)
            out = self.forward(_with_identities(xp, a, nan), b)
            return xp.where(nan[..., None, None], np.nan, out).astype(out.dtype)
        try:
            return _call(xp, xp.linalg.solve, *_batched(xp, a, b))
        except np.linalg.LinAlgError:
            batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            raise _batch_failure('linalg.solve', xp.broadcast_to(a, batch + a.shape[-2:]),
                                 _lu_inverse_one, _SINGULAR_SOLVE) from None

    def backward(self, g):
        (A,) = self.saved_tensors
        X = self.saved_output()
        g_b = solve(A.mH, g)
        g_a = -(g_b @ X.mH) if self._edges[0] is not None else None
        return g_a, g_b


def solve(A, B, left=True):
    """A^-1 B (left) or B A^-1 (not left), B a matrix (..., n, k)."""
    if left:
        return dispatch(LinalgSolveEx(), A, B)
    return dispatch(LinalgSolveEx(), A.mT, B.mT).mT


_DOUBLE_OF = {'f': np.float64, 'F': np.complex128}


class LinalgSolveTriangular(Node):
    """X = A^-1 B for triangular A (only its upper or lower triangle is read), B (..., n, k).
    The gradient for A is the solve's -gB X^H projected onto the same triangle."""
    saved_inputs = (0,)
    saves_output = True
    complex_autograd = True

    def __init__(self, upper, unitriangular):
        self.upper, self.unitriangular = upper, unitriangular

    def forward(self, a, b):
        xp = xp_of(a, b)
        tri = _triangle(xp, a, self.upper, self.unitriangular)
        # NumPy has no batched triangular solver, and LU on a triangular matrix is as exact on
        # the CPU; on an H200, CuPy's single-precision LU of the value sweep's triangles missed
        # PyTorch's triangular solve (trsm) by more than 1e-4, so on a GPU single precision
        # solves in double and rounds once
        wide = None if xp is np else _DOUBLE_OF.get(a.dtype.char)
        if xp is np and not (np.isfinite(tri).all() and np.isfinite(b).all()):
            # inf/NaN propagate as in BLAS trsm's substitution, not as through an LU
            a_b, b_b = (np.broadcast_to(x, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) +
                                        x.shape[-2:]) for x in (tri, b))
            return _substitute(xp, a_b, b_b, self.upper)
        try:
            if wide is not None:
                return _call(xp, xp.linalg.solve, *_batched(xp, tri.astype(wide),
                                                            b.astype(wide))).astype(a.dtype)
            return _call(xp, xp.linalg.solve, *_batched(xp, tri, b))
        except np.linalg.LinAlgError:
            # a zero on the diagonal: no error in PyTorch, whose trsm divides by it (inf/NaN)
            a_b, b_b = (xp.broadcast_to(x, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) +
                                        x.shape[-2:]) for x in (tri, b))
            return _substitute(xp, a_b, b_b, self.upper)

    def backward(self, g):
        (A,) = self.saved_tensors
        X = self.saved_output()
        g_b = solve_triangular(A.mH, g, upper=not self.upper, unitriangular=self.unitriangular)
        g_a = None
        if self._edges[0] is not None:
            g_a = -(g_b @ X.mH)
            unit = int(self.unitriangular)
            g_a = g_a.triu(unit) if self.upper else g_a.tril(-unit)
        return g_a, g_b


def _substitute(xp, tri, b, upper):
    """X = tri^-1 b by plain back (upper) or forward substitution, row by row over the batch,
    as BLAS trsm computes it: a zero diagonal element gives inf or NaN, not an error."""
    n = tri.shape[-1]
    x = xp.zeros(b.shape, np.result_type(tri.dtype, b.dtype))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide='ignore', invalid='ignore'):
        for i in rows:
            known = slice(i + 1, n) if upper else slice(0, i)
            residual = b[..., i, :] - (tri[..., i, None, known] @ x[..., known, :])[..., 0, :]
            x[..., i, :] = residual / tri[..., i, i, None]
    return x


def solve_by_substitution(A, B):
    """A^-1 B matrix by matrix as LAPACK's getrf + getrs compute it (no gradient): where A is
    singular the result holds inf and NaN instead of an error (solve_ex's singular systems)."""
    a, b = _host(A._data), _host(B._data)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:]).reshape((-1,) + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:])
    out = np.stack([_lu_solve_one(ai, bi)[0] for ai, bi in zip(a, b)]) if len(a) else \
        np.empty(b.shape, np.result_type(a.dtype, b.dtype))
    out = out.reshape(batch + b.shape[-2:])
    xp = xp_of(A._data)
    return Tensor._make(out if xp is np else xp.asarray(out))


def solve_triangular(A, B, upper, left=True, unitriangular=False):
    if left:
        return dispatch(LinalgSolveTriangular(upper, unitriangular), A, B)
    # X A = B  <=>  A^T X^T = B^T, and A^T is triangular the other way
    return dispatch(LinalgSolveTriangular(not upper, unitriangular), A.mT, B.mT).mT


# ---------------------------------------------------------------------------------------------
# Factorizations
# ---------------------------------------------------------------------------------------------

class LinalgCholeskyEx(_MultiOutputNode):
    """(L, info) with A = L L^H from A's lower triangle (or (U, info), A = U^H U, from its upper
    triangle when upper). Backward: Murray (2016),
    gA = L^-H Phi(L^H gL) L^-1 symmetrized, as PyTorch's cholesky_backward (Hermitian A too)."""
    num_outputs = 2
    non_differentiable_outputs = (1,)
    saves_output = True
    complex_autograd = True

    def __init__(self, upper, check_errors):
        self.upper, self.check_errors = upper, check_errors

    def forward(self, a):
        xp = xp_of(a)
        if self.upper:      # U^H U from A's upper triangle: the lower factor of A^H
            a = a.swapaxes(-1, -2).conj()
        nan = _nan_matrices(xp, a)
        try:
            L, info = _call(xp, xp.linalg.cholesky, a if nan is None else
                            _with_identities(xp, a, nan)), np.zeros(a.shape[:-2], np.int32)
        except np.linalg.LinAlgError:
            L, info = _factor_each(xp, xp.linalg.cholesky, a, _partial_cholesky)
        if nan is not None:     # LAPACK's potrf stops at the first NaN pivot (NumPy's did not)
            shape = (-1,) + a.shape[-2:]
            flat_a, flat_L, info = _host(a).reshape(shape), L.reshape(shape), info.reshape(-1)
            for i in np.flatnonzero(_host(nan).reshape(-1)):
                part, info[i] = _partial_cholesky(flat_a[i])
                flat_L[i] = xp.asarray(part)
            L, info = flat_L.reshape(a.shape), info.reshape(a.shape[:-2])
        if self.check_errors and info.any():
            raise LinAlgError(_failure_message('linalg.cholesky', info, _NOT_PD))
        info = xp.asarray(info)
        if self.upper:
            L = L.swapaxes(-1, -2).conj()
        return L, info

    def backward(self, g, g_info):
        if g is None:
            return None
        L = self.saved_output()
        if self.upper:
            L, g = L.mH, g.mH
        # tril(L^H g) only sees tril(g): L^H triu(g, 1) is strictly upper triangular
        phi = (L.mH @ g).tril()
        phi = 0.5 * (phi + phi.tril(-1).mH)
        grad = solve_triangular(L.mH, phi, upper=True)
        return solve_triangular(L, grad, upper=False, left=False)


_QR_NEEDS_Q = ("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
               "linalg.qr.")


class LinalgQr(_MultiOutputNode):
    """(Q, R) for mode 'reduced' or 'complete'; (empty, R) for mode 'r'."""
    num_outputs = 2
    complex_autograd = True

    def __init__(self, mode):
        self.mode = mode

    def forward(self, a):
        xp = xp_of(a)
        if self.mode == 'r':
            return xp.empty((0,), a.dtype), xp.linalg.qr(a, mode='r')
        q, r = xp.linalg.qr(a, mode=self.mode)
        return q, r

    def backward(self, g_q, g_r):
        if self.mode == 'r':
            raise RuntimeError(_QR_NEEDS_Q)
        Q, R = self._outputs()
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == 'complete' and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if g_q is None and g_r is None:
            return None
        return _qr_backward(g_q, g_r, Q, R, m, n)


def _qr_backward(g_q, g_r, Q, R, m, n):
    """PyTorch's linalg_qr_backward:
    m >= n: gA = (gQ + Q syminvadj(triu(gR R^H - Q^H gQ))) R^-H
    m < n:  gA = [Q trilImInvAdjSkew(Q^H gQ - gR R^H) R_1^-H | 0] + Q gR
    with syminvadj(T) = T + T^H but Re(diag T) on its diagonal, and trilImInvAdjSkew(X) =
    tril(X - X^H) with its (imaginary) diagonal halved: R's diagonal is real, so only the real
    part of diag(gR R^H - Q^H gQ) and the imaginary part of diag(Q^H gQ) carry gradient."""
    if g_q is None:
        M = g_r @ R.mH
    elif g_r is None:
        M = -(Q.mH @ g_q)
    else:
        M = g_r @ R.mH - Q.mH @ g_q
    if m >= n:
        T = M.triu()
        diag = T.diagonal(0, -2, -1)
        grad = Q @ (T + T.mH - (diag.real if diag.is_complex() else diag).diag_embed())
        if g_q is not None:
            grad = grad + g_q
        return solve_triangular(R.mH, grad, upper=False, left=False)
    X = -M
    skew = (X - X.mH).tril()
    if skew.is_complex():   # (a real skew matrix has a zero diagonal)
        skew = skew - 0.5 * skew.diagonal(0, -2, -1).diag_embed()
    grad = Q @ skew
    grad = solve_triangular(R.narrow(-1, 0, m).mH, grad, upper=False, left=False)
    grad = cat([grad, zeros(tuple(grad.shape[:-1]) + (n - m,), dtype=grad.dtype,
                            device=grad.device)], -1)
    if g_r is not None:
        grad = grad + Q @ g_r
    return grad


class LinalgSvd(_MultiOutputNode):
    """(U, S, Vh) with A = U diag(S) Vh."""
    num_outputs = 3
    complex_autograd = True

    def __init__(self, full_matrices):
        self.full_matrices = full_matrices

    def forward(self, a):
        return _svd(a, full_matrices=self.full_matrices)

    def backward(self, g_u, g_s, g_vh):
        U, S, Vh = self._outputs()
        if self.full_matrices:
            # only the first k singular vectors are determined by A (PyTorch narrows the same way)
            k = S.shape[-1]
            U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
            g_u = g_u.narrow(-1, 0, k) if g_u is not None else None
            g_vh = g_vh.narrow(-2, 0, k) if g_vh is not None else None
        return _svd_backward(g_u, g_s, g_vh, U, S, Vh)


def _svd(a, **options):
    """xp.linalg.svd, failing with PyTorch's message on both backends. PyTorch refuses
    non-finite input; LAPACK fails on it, but cuSOLVER returns NaN without a failure status, so
    on CuPy the input is checked first."""
    xp = xp_of(a)
    if xp is not np and not bool(xp.isfinite(a).all()):
        raise LinAlgError('linalg.svd: The algorithm failed to converge because the input '
                          'matrix contained non-finite values.')
    try:
        return _call(xp, xp.linalg.svd, a, **options)
    except np.linalg.LinAlgError:
        why = 'contained non-finite values' if not bool(xp.isfinite(a).all()) else \
            'is ill-conditioned or has too many repeated singular values'
        raise LinAlgError(f'linalg.svd: The algorithm failed to converge because the input '
                          f'matrix {why}.') from None


def _svd_backward(g_u, g_s, g_vh, U, S, Vh):
    """PyTorch's svd_backward (distinct singular values; full rank if rectangular or complex):
    gA = U [(skew(U^H gU) / E) S + S (skew(V^H gV) / E) + diag(gS)
            + i Im(diag(U^H gU)) / S (complex, gU and gV both given)] V^H
         + (I - U U^H) gU S^-1 V^H  (m > n)   or   + U S^-1 gV^H (I - V V^H)  (m < n),
    E_jk = S_k^2 - S_j^2 off the diagonal, skew(X) = X - X^H. Complex singular vectors are
    defined up to a phase each: a loss that depends on it is refused, as in PyTorch."""
    if g_u is None and g_s is None and g_vh is None:
        return None
    m, n = U.shape[-2], Vh.shape[-1]
    if g_u is None and g_vh is None:  # svdvals: gA = U diag(gS) Vh
        return U @ (g_s.unsqueeze(-1) * Vh) if m >= n else (U * g_s.unsqueeze(-2)) @ Vh
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _identity_like(S.shape[-1], S)  # diagonal: 1
    if g_u is not None:
        UhgU = U.mH @ g_u
        UhgU = UhgU - UhgU.mH
    if g_vh is not None:
        VhgV = Vh @ g_vh.mH
        VhgV = VhgV - VhgV.mH
    complex_ = U.is_complex()
    if complex_:
        zero = zeros(tuple(S.shape), dtype=S.dtype, device=S.device)
        check_phase_invariance(
            SVD_PHASE_DEPENDENT,
            UhgU.diagonal(0, -2, -1).imag if g_u is not None else zero,
            -VhgV.diagonal(0, -2, -1).imag if g_vh is not None else zero)
    if g_u is not None and g_vh is not None:
        inner = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif g_u is not None:
        inner = (UhgU / E) * S.unsqueeze(-2)
    else:
        inner = S.unsqueeze(-1) * (VhgV / E)
    if g_s is not None:
        inner = inner + g_s.diag_embed()
    if complex_ and g_u is not None and g_vh is not None:
        inner = inner + (UhgU.diagonal(0, -2, -1) / (2 * S)).diag_embed()
    if m > n and g_u is not None:
        grad = U @ inner
        g_u_sinv = g_u / S.unsqueeze(-2)
        grad = grad + g_u_sinv - U @ (U.mH @ g_u_sinv)
        return grad @ Vh
    if m < n and g_vh is not None:
        grad = inner @ Vh
        sinv_g_vh = g_vh / S.unsqueeze(-1)
        grad = grad + sinv_g_vh - (sinv_g_vh @ Vh.mH) @ Vh
        return U @ grad
    return U @ (inner @ Vh) if m >= n else (U @ inner) @ Vh


def svd(A, full_matrices=True):
    return run(LinalgSvd(full_matrices), A)


class LinalgSvdvals(Node):
    """Singular values only. Backward recomputes the SVD as graph ops (U diag(gS) Vh), so second
    derivatives flow through U and Vh; forward stays cheap when no gradient is wanted."""
    saved_inputs = (0,)
    complex_autograd = True

    def forward(self, a):
        return _svd(a, compute_uv=False)

    def backward(self, g):
        (A,) = self.saved_tensors
        U, S, Vh = svd(A, full_matrices=False)
        return _svd_backward(None, g, None, U, S, Vh)

    def name(self):
        return 'LinalgSvdBackward0'


class LinalgEigh(_MultiOutputNode):
    """(eigenvalues ascending, eigenvectors) of a Hermitian matrix, read from one triangle."""
    num_outputs = 2
    complex_autograd = True

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        return _eigh(a, UPLO=self.uplo)

    def backward(self, g_l, g_v):
        L, V = self._outputs()
        return _eigh_backward(g_l, g_v, L, V)


def _eigh_backward(g_l, g_v, L, V):
    """PyTorch's linalg_eig_backward for Hermitian A (distinct eigenvalues):
    gA = V (skew(V^H gV) / (2E) with gL on its diagonal) V^H, E_ij = L_j - L_i off the
    diagonal. Complex eigenvectors are defined up to a phase each: a loss that depends on it
    (Im diag(V^H gV) not 0) is refused, as in PyTorch."""
    if g_l is None and g_v is None:
        return None
    if g_v is None:  # eigvalsh
        return (V * g_l.unsqueeze(-2)) @ V.mH
    VhgV = V.mH @ g_v
    if VhgV.is_complex():
        imag_diag = VhgV.diagonal(0, -2, -1).imag
        check_phase_invariance(EIG_PHASE_DEPENDENT.format(name='linalg_eigh_backward'),
                               imag_diag, imag_diag.new_zeros(tuple(imag_diag.shape)))
    VhgV = 0.5 * (VhgV - VhgV.mH)  # projection onto the skew-Hermitian matrices
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + _identity_like(L.shape[-1], L)
    inner = VhgV / E  # its diagonal: zero, or i Im diag(V^H gV) (about zero, checked above)
    if g_l is not None:
        if inner.is_complex():      # PyTorch writes gL over the diagonal
            inner = inner - inner.diagonal(0, -2, -1).diag_embed()
        inner = inner + g_l.diag_embed()
    return V @ (inner @ V.mH)


def eigh(A, uplo='L'):
    return run(LinalgEigh(uplo), A)


def _eigh(a, values_only=False, **options):
    """xp.linalg.eigh (or eigvalsh), failing with PyTorch's message on both backends. NaN input
    fails or gives NaN as LAPACK decides, which is what PyTorch reports too."""
    xp = xp_of(a)
    try:
        return _call(xp, xp.linalg.eigvalsh if values_only else xp.linalg.eigh, a, **options)
    except np.linalg.LinAlgError:
        raise LinAlgError('linalg.eigh: The algorithm failed to converge because the input matrix '
                          'is ill-conditioned or has too many repeated eigenvalues.') from None


class LinalgEigvalsh(Node):
    """Eigenvalues only; backward recomputes the eigenvectors as graph ops (V diag(gL) V^H)."""
    saved_inputs = (0,)
    complex_autograd = True

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        return _eigh(a, values_only=True, UPLO=self.uplo)

    def backward(self, g):
        (A,) = self.saved_tensors
        L, V = eigh(A, self.uplo)
        return _eigh_backward(g, None, L, V)

    def name(self):
        return 'LinalgEighBackward0'


# ---------------------------------------------------------------------------------------------
# Pseudoinverse
# ---------------------------------------------------------------------------------------------

class LinalgPinv(Node):
    """Moore-Penrose pseudoinverse: singular values (|eigenvalues| when hermitian) at or below
    max(atol, rtol * largest) count as zero. atol/rtol are floats or arrays over the batch.
    Backward is PyTorch's pinv_backward (valid while the rank stays constant; complex too)."""
    saved_inputs = (0,)
    saves_output = True
    complex_autograd = True

    def __init__(self, atol, rtol, hermitian):
        self.atol, self.rtol, self.hermitian = atol, rtol, hermitian

    def forward(self, a):
        xp = xp_of(a)
        m, n = a.shape[-2:]
        if min(m, n) == 0:
            return xp.zeros(a.shape[:-2] + (n, m), a.dtype)
        if self.hermitian:
            s, v = _eigh(a)
            largest = xp.abs(s).max(-1)
            left, right = v, v.swapaxes(-1, -2).conj()
        else:
            u, s, vh = _svd(a, full_matrices=False)
            largest = s[..., 0]
            left, right = vh.swapaxes(-1, -2).conj(), u.swapaxes(-1, -2).conj()
        cutoff = xp.maximum(xp.asarray(self.atol), xp.asarray(self.rtol) * largest)
        keep = xp.abs(s) > cutoff[..., None]
        s_inv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(s.dtype)
        return (left * s_inv[..., None, :].astype(a.dtype)) @ right

    def backward(self, g):
        (A,) = self.saved_tensors
        P = self.saved_output()
        m, n = A.shape[-2], A.shape[-1]
        Ph, gh = P.mH, g.mH
        if m <= n:
            K = gh @ P
            KPh = K @ Ph
            return -(P @ K).mH + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
        K = P @ gh
        PhK = Ph @ K
        return -(K @ P).mH + ((gh - A @ K) @ P) @ Ph + PhK - (PhK @ P) @ A
