"""Argument checks with the TypeErrors of PyTorch's Python argument parser, for functions whose
arguments PyTorch's C++ binding types strictly (an int parameter refuses floats and bools)."""
import numbers

from .._tensor import Tensor


def type_name(value):
    """How PyTorch's parser names an argument's type in its messages."""
    if isinstance(value, Tensor):
        return 'Tensor'
    from .._dtype import dtype
    if isinstance(value, dtype):
        return 'nbgrad.dtype'
    kind = type(value)
    # the C type name PyTorch prints: 'numpy.bool', 'numpy.float64' for NumPy scalars
    return f'numpy.{kind.__name__}' if kind.__module__ == 'numpy' else kind.__name__


def int_arg(value, fn, name, position=None):
    """An int parameter: Python and NumPy integers, and 0-d integer tensors; bools and floats
    are refused."""
    if isinstance(value, Tensor):
        if value._data.dtype.kind in 'iu' and value.dim() == 0:
            return int(value.item())
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    where = f' (position {position})' if position is not None else ''
    raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not {type_name(value)}")


def is_float_arg(value):
    """Whether a float parameter takes this value: a real number, or a 0-d tensor that does not
    require grad (read with .item())."""
    if isinstance(value, Tensor):
        return value.dim() == 0 and not value.requires_grad
    return isinstance(value, numbers.Real)


def tensor_arg(value, fn, name, position):
    if isinstance(value, Tensor):
        return value
    raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                    f"{type_name(value)}")


def invalid_combination(fn, args, kwargs, signatures):
    """The parser's message when no overload takes the arguments given."""
    got = [type_name(a) for a in args] + [f'{k}={type_name(v)}' for k, v in kwargs.items()]
    lines = ''.join(f' * ({s})\n' for s in signatures)
    return TypeError(f'{fn}() received an invalid combination of arguments - got '
                     f'({", ".join(got)}), but expected one of:\n{lines}')
