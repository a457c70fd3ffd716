"""torch.linalg.eig and eigvals: the eigendecomposition of a general square matrix as graph
nodes, complex results (also of real matrices).

Forward runs LAPACK's geev through NumPy, on the host for CuPy arrays (CuPy has no general eig;
PyTorch's CUDA kernel runs geev on the host too): eigenvalues and unit-norm eigenvectors in
geev's order, as PyTorch's. Backward is PyTorch's linalg_eig_backward (distinct eigenvalues):

    gA = V^-H (diag(gL) + (V^H gV - V^H V diag(Re diag(V^H gV))) / conj(E)) V^H,
    E_ij = L_j - L_i off the diagonal,

where the V^H V term comes from the eigenvectors being normalized to norm 1. Each eigenvector
is defined only up to a phase e^{i phi}: a loss that depends on the phases (Im diag(V^H gV) not
0) has no derivative and is refused, as in PyTorch. For a real A the engine keeps the real part
of the complex gradient (as PyTorch's handle_r_to_c).
"""
import numpy as np

from ._creation import eye
from .autograd.graph import Node
from .ops._util import xp_of
from .ops.decompositions import (EIG_PHASE_DEPENDENT, LinAlgError, _MultiOutputNode,
                                 check_phase_invariance, run, solve)


def _geev(a, with_vectors):
    """(eigenvalues,) or (eigenvalues, eigenvectors) of a, complex, on a's device."""
    xp = xp_of(a)
    host = a if xp is np else a.get()
    complex_dtype = np.result_type(host.dtype, np.complex64)
    finite = np.isfinite(host).all(axis=(-2, -1))
    if not finite.all() and with_vectors:
        raise RuntimeError('torch.linalg.eig: input tensor should not contain infs or NaNs.')
    try:
        if with_vectors:
            values, vectors = np.linalg.eig(host)
        elif not finite.all():      # (NumPy refuses these outright)
            values = _eigvals_non_finite(host, finite)
        else:
            values = np.linalg.eigvals(host)
    except np.linalg.LinAlgError:
        raise LinAlgError('linalg.eig: The algorithm failed to converge because the input '
                          'matrix is ill-conditioned or has too many repeated eigenvalues '
                          '(error code: 1).') from None
    results = [values.astype(complex_dtype)]
    if with_vectors:
        results.append(vectors.astype(complex_dtype))
    if xp is not np:
        with xp.cuda.Device(a.device.id):
            results = [xp.asarray(r) for r in results]
    return tuple(results)


class LinalgEig(_MultiOutputNode):
    """(eigenvalues, eigenvectors); run with run() (backward reads both)."""
    num_outputs = 2
    complex_autograd = True

    def forward(self, a):
        return _geev(a, with_vectors=True)

    def backward(self, g_values, g_vectors):
        L, V = self._outputs()
        return eig_backward(g_values, g_vectors, L, V)

    def name(self):
        return 'LinalgEigBackward0'


class LinalgEigvals(Node):
    """Eigenvalues only; backward recomputes the eigenvectors as graph ops (V^-H diag(gL) V^H),
    so forward stays cheap when no gradient is wanted."""
    saved_inputs = (0,)
    complex_autograd = True

    def forward(self, a):
        return _geev(a, with_vectors=False)[0]

    def backward(self, g):
        (A,) = self.saved_tensors
        L, V = eig(A)
        return eig_backward(g, None, L, V)

    def name(self):
        return 'LinalgEigBackward0'


def eig(A):
    """(eigenvalues, eigenvectors) of A as graph ops."""
    return run(LinalgEig(), A)


def eig_backward(g_l, g_v, L, V):
    """The module docstring's formula (PyTorch's linalg_eig_backward, general case)."""
    if g_l is None and g_v is None:
        return None
    Vh = V.mH
    if g_v is None:     # eigvals
        return solve(Vh, g_l.unsqueeze(-1) * Vh)
    VhgV = Vh @ g_v
    diag = VhgV.diagonal(0, -2, -1)
    check_phase_invariance(EIG_PHASE_DEPENDENT.format(name='linalg_eig_backward'), diag.imag,
                           diag.imag.new_zeros(tuple(diag.shape)))
    # projection onto the tangent space of matrices with unit-norm columns
    VhgV = VhgV - Vh @ (V * diag.real.unsqueeze(-2))
    L_conj = L.conj()
    E_conj = L_conj.unsqueeze(-2) - L_conj.unsqueeze(-1) + \
        eye(L.shape[-1], dtype=L.dtype, device=L.device)
    inner = VhgV / E_conj
    if g_l is not None:     # gL replaces the diagonal, as in PyTorch
        inner = inner - inner.diagonal(0, -2, -1).diag_embed() + g_l.diag_embed()
    return solve(Vh, inner @ Vh)


def _eigvals_non_finite(a, finite):
    """eigvals of a batch where some matrices hold inf or NaN, as LAPACK's geev gives them
    (PyTorch returns them; NumPy refuses): a matrix with an inf gets NaN eigenvalues; for one
    with NaN, balancing's permutations (gebal) first isolate the eigenvalues they can (rows or
    columns whose off-diagonal entries are zero; NaN counts as nonzero), which come out exact;
    the eigenvalues of the rest are NaN unless it is NaN-free. (MKL itself is erratic on such
    input: some float32 matrices crash it, so only this simple, documented part is matched.)"""
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    done = finite.reshape(-1)
    out = np.empty(flat.shape[:1] + (n,), np.result_type(a.dtype, np.complex64))
    for i, m in enumerate(flat):
        if done[i]:
            out[i] = np.linalg.eigvals(m)
        elif np.isinf(m).any():
            out[i] = complex(np.nan, np.nan)
        else:
            out[i] = _isolate_and_solve(m.copy())
    return out.reshape(a.shape[:-1])


def _isolate_and_solve(m):
    """LAPACK gebal's permutation step, then eigenvalues: isolated ones (the diagonal outside
    rows/columns lo..hi) in place, the middle block's from eigvals (NaN if it holds a NaN)."""
    n = m.shape[-1]
    lo, hi = 0, n - 1
    found = True
    while found and hi >= 0:       # rows with no off-diagonal nonzero in 0..hi go to the bottom
        found = False
        for i in range(hi, -1, -1):
            row = np.concatenate([m[i, :i], m[i, i + 1:hi + 1]])
            if not (row != 0).any():
                m[:, [i, hi]] = m[:, [hi, i]]
                m[[i, hi], :] = m[[hi, i], :]
                hi -= 1
                found = True
                break
    found = True
    while found and lo <= hi:      # columns with no off-diagonal nonzero in lo..hi go left
        found = False
        for j in range(lo, hi + 1):
            col = np.concatenate([m[lo:j, j], m[j + 1:hi + 1, j]])
            if not (col != 0).any():
                m[:, [j, lo]] = m[:, [lo, j]]
                m[[j, lo], :] = m[[lo, j], :]
                lo += 1
                found = True
                break
    values = np.diagonal(m).astype(np.result_type(m.dtype, np.complex64))
    if lo <= hi:
        block = m[lo:hi + 1, lo:hi + 1]
        values[lo:hi + 1] = np.nan if np.isnan(block).any() else np.linalg.eigvals(block)
    return values
