"""The older torch-level linear algebra names (torch.inverse, torch.svd, torch.cholesky...) and
their Tensor methods, in terms of nbgrad.linalg. torch.svd keeps its own convention: it returns
V (not Vh) and reduced factors by default (some=True)."""
from . import linalg
from ._tensor import Tensor
from .return_types import return_type


def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    """torch.norm: the older norm API (p='fro' or a number; dim an int or a tuple)."""
    return linalg.tensor_norm(input, p, dim, keepdim, dtype)


def inverse(input):
    return linalg.inv(input)


def det(input):
    return linalg.det(input)


def logdet(input):
    return linalg.logdet(input)


def slogdet(input):
    return linalg.slogdet(input)


def cholesky(input, upper=False):
    return linalg.cholesky(input, upper=upper)


def qr(input, some=True):
    return linalg.qr(input, mode='reduced' if some else 'complete')


def svd(input, some=True, compute_uv=True):
    U, S, Vh = linalg.svd(input, full_matrices=not some)
    V = Vh.mT
    if not compute_uv:
        return return_type('svd', U.new_zeros(U.shape), S, V.new_zeros(V.shape))
    return return_type('svd', U, S, V)


def pinverse(input, rcond=1e-15):
    return linalg.pinv(input, rtol=rcond)


def matrix_power(input, n):
    return linalg.matrix_power(input, n)


def cross(input, other, dim=None):
    if dim is None:  # the first dimension of size 3, as in torch.cross without dim
        dim = next((d for d, s in enumerate(input.shape) if s == 3), -1)
    return linalg.cross(input, other, dim=dim)


def cholesky_solve(input, input2, upper=False):
    B, L = input, input2
    A_inv_B = linalg.solve_triangular(L, B, upper=upper)
    return linalg.solve_triangular(L.mT, A_inv_B, upper=not upper)


for _name in ('inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd', 'pinverse',
              'matrix_power', 'cross', 'cholesky_solve'):
    setattr(Tensor, _name, globals()[_name])

__all__ = ['norm', 'inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd', 'pinverse',
           'matrix_power', 'cross', 'cholesky_solve']
