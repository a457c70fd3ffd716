"""torch.svd_lowrank and torch.pca_lowrank: randomized SVD (Halko, Martinsson and Tropp 2009,
algorithms 4.4 and 5.1), step for step as torch/_lowrank.py, so that with the same seed the one
torch.randn draw is the same and the results agree to rounding. Dense inputs only (PyTorch's
sparse path needs sparse tensors). Gradients flow through qr, svd and matmul as usual."""
from . import linalg


def _floating_dtype(A):
    """torch._linalg_utils.get_floating_dtype: A's dtype if floating, else float32."""
    from . import float32
    return A.dtype if A.is_floating_point() else float32


def _approximate_basis(A, q, niter, M):
    """Q with q orthonormal columns such that Q Q^H (A - M) approximates A - M."""
    from ._random_ops import randn
    niter = 2 if niter is None else niter
    dtype = A.dtype if A.is_complex() else _floating_dtype(A)
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)
    X = A @ R
    if M is not None:
        X = X - M @ R
    Q = linalg.qr(X).Q
    for _ in range(niter):
        X = A.mH @ Q
        if M is not None:
            X = X - M.mH @ Q
        Q = linalg.qr(X).Q
        X = A @ Q
        if M is not None:
            X = X - M @ Q
        Q = linalg.qr(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ~ U diag(S) V^H from a rank-q randomized range finder (a plain
    tuple, as PyTorch's)."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(tuple(A.shape))
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A with its column means removed (center) or as it is."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f'q(={q}) must be non-negative integer and not greater than min(m, n)='
                         f'{min(m, n)}')
    if not (niter >= 0):
        raise ValueError(f'niter(={niter}) must be non-negative integer')
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)
