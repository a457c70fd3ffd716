"""Finite differences and integration: diff, trapezoid/trapz, cumulative_trapezoid (built from
differentiable tensor ops, so their gradients come for free)."""
import builtins

from .._tensor import Tensor
from ._util import wrap_dim
from .sorting import _cast_tensors


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim (logical_xor for bool), after concatenating prepend and
    append; built from narrow and sub, so it is differentiable (twice) for free."""
    from .shape import cat
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError('diff expects input to be at least one-dimensional')
    if n < 0:
        raise RuntimeError(f'order must be non-negative but got {n}')
    d = wrap_dim(dim, ndim)
    for name, extra in (('prepend', prepend), ('append', append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f'{type(extra).__name__}')
        if extra._data.ndim != ndim:
            raise RuntimeError('diff expects prepend or append to be the same dimension as input')
        for i in builtins.range(ndim):
            if i != d and extra.shape[i] != input.shape[i]:
                raise RuntimeError(f'diff expects the shape of tensor to prepend or append to '
                                   f'match that of input except along the differencing '
                                   f'dimension; input.size({i}) = {input.shape[i]}, but got '
                                   f'tensor.size({i}) = {extra.shape[i]}')
    if n == 0:
        return input.clone()
    result = input
    if prepend is not None or append is not None:
        result = cat([t for t in _cast_tensors([prepend, input, append]) if t is not None], d)
    is_bool = result._data.dtype.kind == 'b'
    for _ in builtins.range(builtins.min(n, result.shape[d])):
        length = result.shape[d] - 1
        later, earlier = result.narrow(d, 1, length), result.narrow(d, 0, length)
        result = later.logical_xor(earlier) if is_bool else later - earlier
    return result


def _trapezoid_args(y, x, dx, name):
    if y._data.ndim == 0:
        raise IndexError('Dimension specified as -1 but tensor has no dimensions')
    if y._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}: received a bool input for `y`, but bool is not supported')
    if x is not None and (dx is not None or not isinstance(x, Tensor)):
        raise TypeError(f'{name}() received an invalid combination of arguments: x must be a '
                        f'Tensor of sample points, dx a number (keyword-only), not both')
    if isinstance(dx, (bool, complex)):
        raise RuntimeError(f'{name}: Currently, complex numbers and bool are not supported for '
                           f'`dx`.')


def _x_spacing(y, x, d, name):
    """dx = x[1:] - x[:-1] along d, with a 1-D x laid along d and a lower-dim x padded in front."""
    if x._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}: received a bool input for `x`, but bool is not supported')
    ndim = y._data.ndim
    if x._data.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f'{name}: There must be one `x` value for each sample point')
        x = x.reshape(tuple(x.shape[0] if i == d else 1 for i in builtins.range(ndim)))
    elif x._data.ndim < ndim:
        x = x.reshape((1,) * (ndim - x._data.ndim) + tuple(x.shape))
    length = builtins.max(x.shape[d] - 1, 0)
    return x.narrow(d, 1, length) - x.narrow(d, 0, length)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoid rule along dim, with sample points x or a constant spacing dx (default 1)."""
    _trapezoid_args(y, x, dx, 'trapezoid')
    d = wrap_dim(dim, y._data.ndim)
    n = y.shape[d]
    if n == 0:
        from .._creation import zeros
        return zeros(tuple(s for i, s in enumerate(y.shape) if i != d), dtype=y.dtype,
                     device=y.device)
    if isinstance(x, Tensor):
        y, x = _cast_tensors([y, x])
        spacing = _x_spacing(y, x, d, 'trapezoid')
        return ((spacing * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))) / 2.).sum(d)
    dx = 1 if dx is None else dx
    ends = (y.select(d, 0) + y.select(d, -1)) * 0.5
    total = y.sum(d)
    if total._data.dtype != ends._data.dtype:
        # PyTorch: int64 sum - float32 -> float32 (see _promote for why this is explicit)
        total = total.to(ends.dtype)
    return (total - ends) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid integrals along dim (one fewer element than y along dim)."""
    _trapezoid_args(y, x, dx, 'cumulative_trapezoid')
    d = wrap_dim(dim, y._data.ndim)
    n = y.shape[d]
    length = builtins.max(n - 1, 0)
    if isinstance(x, Tensor):
        y, x = _cast_tensors([y, x])
    left, right = y.narrow(d, 0, length), y.narrow(d, builtins.min(1, n), length)
    if isinstance(x, Tensor):
        spacing = _x_spacing(y, x, d, 'cumulative_trapezoid')
        return ((spacing * (left + right)) / 2.).cumsum(d)
    dx = 1 if dx is None else dx
    return (dx / 2. * (left + right)).cumsum(d)



Tensor.diff = diff

__all__ = ['diff', 'trapezoid', 'trapz', 'cumulative_trapezoid']
