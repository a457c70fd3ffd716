"""The matrix exponential (torch.linalg.matrix_exp) as a graph node.

Forward: scaling and squaring with the degree-13 Pade approximant (Higham 2005, as SciPy's expm),
each matrix of a batch scaled by its own power of two. Backward is PyTorch's
linalg_matrix_exp_differential: the gradient is the upper-right block of
exp([[A^H, G], [0, A^H]]), computed with this same node, so higher derivatives work too."""
import numpy as np

from .._dispatch import dispatch
from ..autograd.graph import Node
from ._util import xp_of

_THETA_13 = 5.371920351148152
_PADE_13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
            129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
            40840800., 960960., 16380., 182., 1.)


def _expm(xp, a):
    if a.size == 0:
        return a.copy()
    dtype = a.dtype
    work = a.astype(np.float32) if dtype == np.float16 else a
    n = work.shape[-1]
    norm = xp.abs(work).sum(-2).max(-1)                  # 1-norm of each matrix
    with np.errstate(all='ignore'):
        s = xp.ceil(xp.log2(norm / _THETA_13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    scale = (0.5 ** s.astype(np.float64)).astype(work.real.dtype)
    A = work * scale[..., None, None]
    b = _PADE_13
    ident = xp.broadcast_to(xp.eye(n, dtype=work.dtype), work.shape)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2
             + b[1] * ident)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * ident
    R = xp.linalg.solve(V - U, V + U)
    for i in range(int(s.max()) if s.size else 0):
        R = xp.where((s > i)[..., None, None], R @ R, R)
    return R.astype(dtype, copy=False)


class LinalgMatrixExp(Node):
    """e^A; exp is analytic, so the backward above (with A^H) is right for complex A too."""
    saved_inputs = (0,)
    complex_autograd = True

    def forward(self, a):
        return _expm(xp_of(a), a)

    def backward(self, g):
        (A,) = self.saved_tensors
        return matrix_exp_differential(A, g)

    def name(self):
        return 'LinalgMatrixExpBackward0'


def matrix_exp_differential(A, g):
    """The upper-right n x n block of exp([[A^H, g], [0, A^H]])."""
    from .shape import cat
    n = A.shape[-1]
    Ah = A.mH
    zero = Ah.new_zeros(Ah.shape)
    block = cat([cat([Ah, g.to(Ah.dtype)], -1), cat([zero, Ah], -1)], -2)
    return matrix_exp(block)[..., :n, n:]


def matrix_exp(A):
    return dispatch(LinalgMatrixExp(), A)
