"""torch._foreach_*: PyTorch's multi-tensor ops over lists of tensors (what its optimizers'
foreach steps are made of, and what EMA helpers such as timm's ModelEmaV3 and ema-pytorch call
directly: torch._foreach_lerp_(ema, params, 1 - decay)).

Each applies the one-tensor op to every tensor of the list, as PyTorch's CPU fallback does (so
the numbers and the autograd graphs are the one-tensor ops'). Out-of-place forms return a tuple,
in-place forms (name_) write each tensor and return the list they were given, as PyTorch's. The
second operand may be a number, a list of numbers (one per tensor), a list of tensors, or a
0-dim tensor, as PyTorch's overloads take; PyTorch's errors for empty and mismatched lists."""
import numbers

import numpy as np

from . import _dtype
from ._tensor import Tensor

_UNARY = ('abs', 'acos', 'asin', 'atan', 'ceil', 'cos', 'cosh', 'erf', 'erfc', 'exp', 'expm1',
          'floor', 'frac', 'lgamma', 'log', 'log10', 'log1p', 'log2', 'neg', 'reciprocal',
          'round', 'rsqrt', 'sigmoid', 'sign', 'sin', 'sinh', 'sqrt', 'tan', 'tanh', 'trunc')
# binary ops: name -> whether PyTorch has an overload taking one Tensor as the second operand
# (which must be 0-dim); the others take a 0-dim tensor as a number, without alpha
_BINARY = {'add': True, 'sub': False, 'mul': True, 'div': True, 'clamp_max': False,
           'clamp_min': False, 'maximum': False, 'minimum': False, 'pow': False}


def _checked(self, name):
    if not isinstance(self, (list, tuple)) or not all(isinstance(t, Tensor) for t in self):
        raise TypeError(f'{name}(): argument \'self\' (position 1) must be tuple of Tensors, '
                        f'not {type(self).__name__}')
    if not self:
        raise RuntimeError('Tensor list must have at least one tensor.')
    return self


def _per_tensor(self, other, tensor_ok, name='', position=2):
    """The second operand for each tensor of self (see the module docstring)."""
    if isinstance(other, (list, tuple)):
        if other and all(isinstance(o, Tensor) for o in other):
            if len(other) != len(self):
                raise RuntimeError(f'Tensor lists must have the same number of tensors, got '
                                   f'{len(self)} and {len(other)}')
            return list(other)
        if len(other) != len(self):
            raise RuntimeError('Tensor list must have same number of elements as scalar list.')
        return list(other)
    if isinstance(other, Tensor):
        if not tensor_ok and other.dim() != 0:
            raise TypeError(f'{name}(): argument \'other\' (position {position}) must be tuple '
                            f'of Tensors, not Tensor')
        if other.dim() != 0:
            raise RuntimeError(f'scalar tensor expected to be 0 dim but it has {other.dim()} '
                               f'dimensions and {other.numel()} elements.')
        return [other] * len(self)
    return [other] * len(self)


def _scalars(self, value):
    """addcmul/addcdiv's value for each tensor: a number, a list of them, or a 1-d tensor."""
    if isinstance(value, Tensor):
        if value.dim() != 1 or value.numel() != len(self):
            raise RuntimeError(f'Expected length of scalars to match input of length '
                               f'{len(self)} but got {value.numel()} instead.')
        return value.tolist()
    return _per_tensor(self, value, False)


def _op(name):
    import nbgrad
    return getattr(nbgrad, name)


def _unary(name):
    def out_of_place(self):
        return tuple(_op(name)(t) for t in _checked(self, f'_foreach_{name}'))

    def in_place(self):
        for t in _checked(self, f'_foreach_{name}_'):
            getattr(t, name + '_')()
        return self
    return out_of_place, in_place


def _binary_op(name, t, o, alpha):
    if name in ('maximum', 'minimum') and not isinstance(o, Tensor):
        name = 'clamp_min' if name == 'maximum' else 'clamp_max'   # (PyTorch's scalar kernels)
    if alpha != 1:
        return _op(name)(t, o, alpha=alpha)
    return _op(name)(t, o)


def _refuse_number_with_alpha(name, other, alpha, tensor_ok):
    """alpha goes with a list of tensors (add also takes one tensor), as in PyTorch."""
    if alpha == 1 or (isinstance(other, (list, tuple)) and other and
                      all(isinstance(o, Tensor) for o in other)) or \
            (tensor_ok and isinstance(other, Tensor)):
        return
    raise TypeError(f'_foreach_{name}(): argument \'other\' (position 2) must be tuple of '
                    f'Tensors, not {type(other).__name__}')


def _binary(name, tensor_ok):
    def out_of_place(self, other, *, alpha=1):
        self = _checked(self, f'_foreach_{name}')
        _refuse_number_with_alpha(name, other, alpha, tensor_ok)
        return tuple(_binary_op(name, t, o, alpha) for t, o in
                     zip(self, _per_tensor(self, other, tensor_ok, f'_foreach_{name}')))

    def in_place(self, other, *, alpha=1):
        self = _checked(self, f'_foreach_{name}_')
        _refuse_number_with_alpha(name + '_', other, alpha, tensor_ok)
        for t, o in zip(self, _per_tensor(self, other, tensor_ok, f'_foreach_{name}_')):
            if name == 'mul' and isinstance(o, float) and _dtype.is_reduced_float(t._data.dtype):
                # PyTorch's in-place foreach mul casts a number to half or bfloat16 first (its
                # one-tensor mul_ and out-of-place _foreach_mul keep it in float)
                o = float(np.asarray(np.float32(o)).astype(t._data.dtype))
            if hasattr(Tensor, name + '_'):
                method = getattr(t, name + '_')
                method(o, alpha=alpha) if alpha != 1 else method(o)
            else:       # maximum/minimum have no in-place method
                t.copy_(_binary_op(name, t, o, alpha))
        return self
    return out_of_place, in_place


def _pointwise(name):
    def out_of_place(self, tensor1, tensor2, value=1):
        self = _checked(self, f'_foreach_{name}')
        ones, twos = (_per_tensor(self, x, False) for x in (tensor1, tensor2))
        return tuple(_op(name)(t, a, b, value=v)
                     for t, a, b, v in zip(self, ones, twos, _scalars(self, value)))

    def in_place(self, tensor1, tensor2, value=1):
        self = _checked(self, f'_foreach_{name}_')
        ones, twos = (_per_tensor(self, x, False) for x in (tensor1, tensor2))
        for t, a, b, v in zip(self, ones, twos, _scalars(self, value)):
            getattr(t, name + '_')(a, b, value=v)
        return self
    return out_of_place, in_place


def _foreach_lerp(self, tensors1, weight):
    self = _checked(self, '_foreach_lerp')
    return tuple(_op('lerp')(t, e, w) for t, e, w in
                 zip(self, _per_tensor(self, tensors1, False), _per_tensor(self, weight, False)))


def _foreach_lerp_(self, tensors1, weight):
    self = _checked(self, '_foreach_lerp_')
    for t, e, w in zip(self, _per_tensor(self, tensors1, False), _per_tensor(self, weight, False)):
        t.lerp_(e, w)
    return self


def _foreach_pow(self, exponent):
    if isinstance(self, numbers.Number):     # a number to each tensor's power
        return tuple(_op('pow')(self, e) for e in _checked(exponent, '_foreach_pow'))
    return _binary('pow', False)[0](self, exponent)


def _foreach_norm(self, ord=2, dtype=None):
    from .linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _checked(self, '_foreach_norm'))


def _foreach_powsum(self, ord=2, dtype=None):
    """sum(|t| ** ord) per tensor (a norm before its root)."""
    return tuple((t.abs() if dtype is None else t.abs().to(dtype)).pow(ord).sum()
                 for t in _checked(self, '_foreach_powsum'))


def _foreach_max(self):
    return tuple(t.max() for t in _checked(self, '_foreach_max'))


def _foreach_mm(self, mat2):
    self = _checked(self, '_foreach_mm')
    return tuple(_op('mm')(a, b) for a, b in zip(self, _per_tensor(self, mat2, False)))


def _foreach_clone(self, *, memory_format=None):
    kwargs = {} if memory_format is None else {'memory_format': memory_format}
    return tuple(t.clone(**kwargs) for t in _checked(self, '_foreach_clone'))


def _foreach_copy_(self, src, non_blocking=False):
    self = _checked(self, '_foreach_copy_')
    for t, s in zip(self, _per_tensor(self, src, False)):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self):
    for t in _checked(self, '_foreach_zero_'):
        t.zero_()
    return self


def _install():
    made = {}
    for name in _UNARY:
        made[f'_foreach_{name}'], made[f'_foreach_{name}_'] = _unary(name)
    for name, tensor_ok in _BINARY.items():
        made[f'_foreach_{name}'], made[f'_foreach_{name}_'] = _binary(name, tensor_ok)
    for name in ('addcmul', 'addcdiv'):
        made[f'_foreach_{name}'], made[f'_foreach_{name}_'] = _pointwise(name)
    made['_foreach_pow'] = _foreach_pow
    for fn_name, fn in made.items():
        fn.__name__ = fn.__qualname__ = fn_name
        globals()[fn_name] = fn
    return sorted(set(made) | {name for name in globals() if name.startswith('_foreach_')})


__all__ = _install()
