"""nbgrad.linalg: norms, inverses, determinants, solvers and decompositions (torch.linalg)."""
import math

from ._tensor import Tensor
from .ops.matmul import matmul, vdot  # noqa: F401  (torch.linalg exposes them too)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ord-norm of x seen as a vector (over `dim`, or all elements)."""
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex tensor as '
                           f'input. Got {x.dtype}')
    a = x.abs()
    if dim is None:
        dim = tuple(range(x.dim()))
    if ord == 2:
        return _l2(a, dim, keepdim)
    if ord == math.inf:
        return a.amax(dim, keepdim)
    if ord == -math.inf:
        return a.amin(dim, keepdim)
    if ord == 0:
        return (a != 0).to(a.dtype).sum(dim, keepdim=keepdim)
    if ord == 1:
        return a.sum(dim, keepdim=keepdim)
    return a.pow(ord).sum(dim, keepdim=keepdim).pow(1.0 / ord)


def _l2(a, dim, keepdim):
    # sqrt(sum(x^2)) has an undefined gradient at 0; PyTorch defines it as 0 there
    return _SafeSqrt.apply(a.square().sum(dim, keepdim=keepdim))


def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    if dtype is not None:
        A = A.to(dtype)
    if A.dim() < 2:
        raise RuntimeError(f'linalg.matrix_norm: The input tensor A must have at least 2 '
                           f'dimensions, got {A.dim()}')
    d0, d1 = (d % A.dim() for d in dim)
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


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norm for 1-D input or when dim is an int; matrix norm for 2-D / two dims."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, 'fro', dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
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
        return matrix_norm(input, 'nuc', dim or (-2, -1), keepdim, dtype=dtype)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def _make_safe_sqrt():
    from .autograd.function import Function

    class SafeSqrt(Function):
        """sqrt whose gradient at 0 is 0 (the subgradient PyTorch's norm uses)."""

        @staticmethod
        def forward(ctx, x):
            y = x.sqrt()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return (g / (2 * y)).masked_fill(y == 0, 0.0)
    return SafeSqrt


_SafeSqrt = _make_safe_sqrt()


def svdvals(A):
    raise NotImplementedError  # provided by the decompositions module


Tensor.norm = tensor_norm
