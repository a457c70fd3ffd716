"""Finite differences and integration: diff, gradient, trapezoid/trapz, cumulative_trapezoid
(built from differentiable tensor ops, so their gradients come for free)."""
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



# ---------------------------------------------------------------------------------------------
# gradient: second-order central differences inside, one-sided differences of order edge_order
# at the ends (PyTorch's gradient_helper / gradient_helper_float, op for op)
# ---------------------------------------------------------------------------------------------

_NUMBERS = (bool, int, float, complex)


def _gradient_dims(input, dim):
    if dim is None:
        return list(builtins.range(input._data.ndim)), False
    if isinstance(dim, int):
        return [dim], True
    return list(dim), True


def _gradient_checks(input, spacing_size, dims, dims_given, edge_order):
    if input._data.dtype == 'uint8':
        raise RuntimeError('torch.gradient does not support uint8 input.')
    ndim = input._data.ndim
    if spacing_size is not None and not dims_given:
        if spacing_size != ndim:
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a "
                               f"list of length equal to 'self.dim() = {ndim}', since dim argument "
                               f"was not given, but got a list of length {spacing_size}")
    if spacing_size is not None and dims_given and spacing_size != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                           f"spacing and dim arguments to have the same length, but got a spacing "
                           f"argument of length {spacing_size} and a dim argument of length "
                           f"{len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError('torch.gradient only supports edge_order=1 and edge_order=2.')
    wrapped = [wrap_dim(d, ndim) for d in dims]
    seen = set()
    for d in wrapped:
        if d in seen:
            raise RuntimeError(f'dim {d} appears multiple times in the list of dims')
        seen.add(d)
    for d in wrapped:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError('torch.gradient expected each dimension size to be at least '
                               'edge_order+1')
    return wrapped


def _slice(t, d, start, stop=None):
    """t[start:stop] along d (Python slice semantics, negative bounds included)."""
    n = t.shape[d]
    begin, end, _ = slice(start, stop).indices(n)
    return t.narrow(d, begin, builtins.max(end - begin, 0))


def _prepend_append(center, prepend, append, d):
    from .shape import cat
    return cat([prepend, center, append], d)


def _gradient_uniform(y, spacing, dims, edge_order):
    result = []
    for d, h in zip(dims, spacing):
        center = (_slice(y, d, 2) - _slice(y, d, 0, -2)) / h
        if edge_order == 1:
            prepend = (_slice(y, d, 1, 2) - _slice(y, d, 0, 1)) / h
            append = (_slice(y, d, -1) - _slice(y, d, -2, -1)) / h
        else:
            prepend = (_slice(y, d, 0, 1) * -1.5 + _slice(y, d, 1, 2) * 2
                       - _slice(y, d, 2, 3) * 0.5) / h
            append = (_slice(y, d, -3, -2) * 0.5 + _slice(y, d, -2, -1) * -2
                      + _slice(y, d, -1) * 1.5) / h
        result.append(_prepend_append(center / 2, prepend, append, d))
    return tuple(result)


def _gradient_coordinates(y, coordinates, dims, edge_order):
    result = []
    ndim = y._data.ndim
    for d, x in zip(dims, coordinates):
        if x._data.ndim != 1:
            raise RuntimeError(f'torch.gradient expected each element of spacing to have one '
                               f'dimension, but got an element with {x._data.ndim} dimensions!')
        shape = [1] * ndim
        shape[d] = -1
        dx = x.diff(1, 0)
        dx1, dx2 = _slice(dx, 0, 0, -1), _slice(dx, 0, 1)
        a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
        b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
        c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
        center = a * _slice(y, d, 0, -2) + b * _slice(y, d, 1, -1) + c * _slice(y, d, 2)
        if edge_order == 1:
            prepend = (_slice(y, d, 1, 2) - _slice(y, d, 0, 1)) / dx[0]
            append = (_slice(y, d, -1) - _slice(y, d, -2, -1)) / dx[-1]
        else:
            a = -(2.0 * dx[0] + dx[1]) / (dx[0] * (dx[0] + dx[1]))
            b = (dx[0] + dx[1]) / (dx[0] * dx[1])
            c = (-dx[0]) / (dx[1] * (dx[0] + dx[1]))
            prepend = a * _slice(y, d, 0, 1) + b * _slice(y, d, 1, 2) + c * _slice(y, d, 2, 3)
            a = dx[-1] / (dx[-2] * (dx[-1] + dx[-2]))
            b = -(dx[-1] + dx[-2]) / (dx[-1] * dx[-2])
            c = (2 * dx[-1] + dx[-2]) / (dx[-1] * (dx[-1] + dx[-2]))
            append = a * _slice(y, d, -3, -2) + b * _slice(y, d, -2, -1) + c * _slice(y, d, -1)
        result.append(_prepend_append(center, prepend, append, d))
    return tuple(result)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    """Estimates of the derivative of a function sampled in input, one tensor per dimension in
    dim (all by default): spacing is a number (uniform step), one number per dimension, or one
    1-D tensor of sample coordinates per dimension."""
    dims, dims_given = _gradient_dims(input, dim)
    if isinstance(spacing, Tensor) and spacing._data.ndim == 0:
        spacing = spacing.item()    # a 0-dim tensor is a number here, as in PyTorch's parser
    if spacing is None or isinstance(spacing, _NUMBERS):
        steps = [1.0 if spacing is None else spacing] * len(dims)
        size = None if spacing is None and not dims_given else len(steps)
        wrapped = _gradient_checks(input, size, dims, dims_given, edge_order)
        return _gradient_uniform(input, steps, wrapped, edge_order)
    spacing = list(spacing)
    wrapped = _gradient_checks(input, len(spacing), dims, dims_given, edge_order)
    if spacing and all(isinstance(s, Tensor) for s in spacing):
        return _gradient_coordinates(input, spacing, wrapped, edge_order)
    if any(isinstance(s, Tensor) for s in spacing):
        raise TypeError('gradient(): spacing must be a number, a list of numbers or a list of '
                        'tensors, not a mix')
    return _gradient_uniform(input, spacing, wrapped, edge_order)


Tensor.diff = diff

__all__ = ['diff', 'gradient', 'trapezoid', 'trapz', 'cumulative_trapezoid']
