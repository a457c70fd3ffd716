"""The older torch-level linear algebra names (torch.inverse, torch.svd, torch.cholesky...) and
their Tensor methods, in terms of nbgrad.linalg. torch.svd keeps its own convention: it returns
V (not Vh) and reduced factors by default (some=True)."""
import warnings

from . import linalg
from .ops import lu as _lu_ops
from .ops.householder import geqrf, orgqr, ormqr
from ._lowrank import svd_lowrank, pca_lowrank
from ._linalg_removed import symeig, eig, lstsq, matrix_rank, solve
from ._tensor import Tensor
from .return_types import return_type
from ._linalg_out import casting_out, exact_out


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
    """(sign, logabsdet) as torch.return_types.slogdet (linalg.slogdet's type is linalg_slogdet)."""
    return return_type('slogdet', *linalg.slogdet(input))


def cholesky(input, upper=False):
    return linalg.cholesky(input, upper=upper)


def qr(input, some=True):
    """(Q, R) as torch.return_types.qr (linalg.qr's type is linalg_qr)."""
    _deprecated('qr', "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in "
                "a future PyTorch release.\nThe boolean parameter 'some' has been replaced with a "
                "string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\nQ, "
                "R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    return return_type('qr', *linalg.qr(input, mode='reduced' if some else 'complete'))


def svd(input, some=True, compute_uv=True):
    U, S, Vh = linalg.svd(input, full_matrices=not some)
    V = Vh.mH       # (A = U diag(S) V^H: conjugated for complex input, as PyTorch's)
    if not compute_uv:     # PyTorch's zero U and V are square, whatever `some` says
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return return_type('svd', U.new_zeros(batch + (m, m)), S,
                           V.new_zeros(batch + (n, n)))
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
    """X with A X = B for A = L L^H (or U^H U with upper) given its factor, reading only that
    triangle, by two triangular solves. The factor's gradient is PyTorch's: its
    cholesky_solve_backward is the full -(A^-1 G X^H + X G^H A^-1) L (mirrored for upper), not
    the triangle's part of it, which is the gradient of the same X computed through the factor's
    inverse; that form carries the factor's gradient (adding zero to the values)."""
    B, factor = input, input2
    X = _solve_with_factor(B, factor.detach(), upper)
    from .autograd.forward_ad import has_tangent
    if not ((factor.requires_grad and _grad_enabled()) or has_tangent(factor)):
        return X
    from .ops.decompositions import inv
    triangle = factor - (factor.tril(-1) if upper else factor.triu(1)).detach()
    Fi = inv(triangle)
    through_inverse = Fi @ (Fi.mH @ B.detach()) if upper else Fi.mH @ (Fi @ B.detach())
    return X + (through_inverse - through_inverse.detach())


def _solve_with_factor(B, factor, upper):
    if upper:       # U^H (U X) = B
        return linalg.solve_triangular(factor, linalg.solve_triangular(factor.mH, B, upper=False),
                                       upper=True)
    return linalg.solve_triangular(factor.mH, linalg.solve_triangular(factor, B, upper=False),
                                   upper=True)


def _grad_enabled():
    from ._tensor import _modes
    return _modes.grad_enabled


def cholesky_inverse(input, upper=False):
    """(L L^H)^-1 from a Cholesky factor L (U^H U with upper=True), reading only that triangle.
    Computed as L^-H L^-1 with the other triangle's gradient kept (PyTorch's
    cholesky_inverse_backward is the full -(A^-1 (G + G^H) A^-1) L)."""
    L = input
    if L.dim() < 2:
        raise RuntimeError('cholesky_inverse: The input tensor A must have at least 2 dimensions.')
    if L.shape[-1] != L.shape[-2]:
        raise RuntimeError(f'cholesky_inverse: A must be batches of square matrices, but they are '
                           f'{L.shape[-2]} by {L.shape[-1]} matrices')
    if L._data.dtype.kind not in 'fc' or L._data.dtype == 'float16':
        from ._dispatch import _type_word
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for '
                                  f"'{_type_word(L._data.dtype)}'")
    zero = (L.detach().diagonal(0, -2, -1) == 0)
    if L.numel() and bool(zero.any()):
        from .ops.decompositions import _failure_message
        first = zero.int().argmax(-1) + 1
        info = (first * zero.any(-1).int()).numpy(force=True)
        raise linalg.LinAlgError(_failure_message(
            'cholesky_inverse', info, 'The diagonal element {k} is zero, the inversion could not '
            'be completed because the input matrix is singular.'))
    # the triangle's values, with the gradient of every element (as PyTorch's formula has it)
    L = L - (L.tril(-1) if upper else L.triu(1)).detach()
    from .ops.decompositions import inv
    Li = inv(L)
    return Li @ Li.mH if upper else Li.mH @ Li


def matrix_exp(input):
    return linalg.matrix_exp(input)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """Deprecated: (X, A's copy) with op(A) X = input for triangular A (op: transposed with
    transpose=True). linalg.solve_triangular(A, B) is the replacement."""
    _deprecated('triangular_solve', 'torch.triangular_solve is deprecated in favor of '
                'torch.linalg.solve_triangularand will be removed in a future PyTorch release.\n'
                'torch.linalg.solve_triangular has its arguments reversed and does not return a '
                'copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be '
                'replaced with\nX = torch.linalg.solve_triangular(A, B).')
    coefficient = A.mT if transpose else A
    solution = linalg.solve_triangular(coefficient, input, upper=upper != transpose,
                                       unitriangular=unitriangular)
    return return_type('triangular_solve', solution, A.clone())


def chain_matmul(*matrices, out=None):
    """Deprecated: linalg.multi_dot of the matrices."""
    _deprecated('chain_matmul', 'torch.chain_matmul is deprecated and will be removed in a future '
                'PyTorch release. Use torch.linalg.multi_dot instead, which accepts a list of two '
                'or more tensors rather than multiple parameters.')
    if len(matrices) == 1:
        return matrices[0].clone()
    return linalg.multi_dot(matrices, out=out) if out is not None else linalg.multi_dot(matrices)


def lu(A, pivot=True, get_infos=False):
    """Deprecated: (LU, pivots[, infos]) as linalg.lu_factor(_ex) gives them."""
    _deprecated('lu', 'torch.lu is deprecated in favor of torch.linalg.lu_factor / '
                'torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n'
                'LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots '
                '= torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = '
                'torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\nLU, '
                'pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)')
    LU, pivots, info = _lu_ops.lu_factor_ex(A, pivot, not get_infos, name='lu')
    return return_type('_lu_with_info', LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(input, LU_data, LU_pivots):
    """Deprecated: linalg.lu_solve(LU_data, LU_pivots, input)."""
    _deprecated('lu_solve', 'torch.lu_solve is deprecated in favor of torch.linalg.lu_solve'
                'and will be removed in a future PyTorch release.\nNote that torch.linalg.lu_solve '
                'has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be '
                'replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)')
    return _lu_ops.lu_solve(LU_data, LU_pivots, input)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    return return_type('lu_unpack', *_lu_ops.lu_unpack(LU_data, LU_pivots, unpack_data,
                                                      unpack_pivots))


_warned = set()


def _deprecated(name, message):
    """PyTorch's deprecation warnings for these fire once a process (TORCH_WARN_ONCE)."""
    if name not in _warned:
        _warned.add(name)
        warnings.warn(message, UserWarning, stacklevel=3)


for _name in ('inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd', 'pinverse',
              'matrix_power', 'cross', 'cholesky_solve', 'cholesky_inverse', 'matrix_exp',
              'triangular_solve', 'lu', 'lu_solve', 'geqrf', 'orgqr', 'ormqr'):
    setattr(Tensor, _name, globals()[_name])

# torch.* (not the Tensor methods) take out=; these refuse an out of another dtype than the
# result's, as PyTorch's kernels do (the generic out= added by nbgrad/__init__.py would cast)
for _name in ('inverse', 'matrix_power', 'svd', 'qr', 'slogdet', 'cross'):
    globals()[_name] = exact_out(globals()[_name], show_out=True)
ormqr = exact_out(ormqr, 'ormqr', show_out=True)
geqrf, orgqr = casting_out(geqrf), casting_out(orgqr)

__all__ = ['norm', 'inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd', 'pinverse',
           'matrix_power', 'cross', 'cholesky_solve', 'cholesky_inverse', 'matrix_exp',
           'triangular_solve', 'chain_matmul', 'lu', 'lu_solve', 'lu_unpack', 'geqrf', 'orgqr',
           'ormqr', 'svd_lowrank', 'pca_lowrank', 'symeig', 'eig', 'lstsq', 'matrix_rank', 'solve']
