"""torch.sym_int, sym_float, sym_max... PyTorch's functions for sizes that may be symbolic
(SymInt, under torch.compile's dynamic shapes). nbgrad has no symbolic sizes, so they take the
plain Python numbers and bools they would reduce to in eager PyTorch."""
import builtins
import math

__all__ = ['sym_int', 'sym_float', 'sym_max', 'sym_min', 'sym_not', 'sym_sqrt', 'sym_ite',
           'sym_sum']


def sym_int(a):
    return builtins.int(a)         # (truncates, as int() does)


def sym_float(a):
    return builtins.float(a)


def sym_max(a, b):
    return _float_if_either(a, b, builtins.max(a, b))


def sym_min(a, b):
    return _float_if_either(a, b, builtins.min(a, b))


def _float_if_either(a, b, result):
    """PyTorch's sym_max and sym_min give a float when either operand is one."""
    return builtins.float(result) if isinstance(a, float) or isinstance(b, float) else result


def sym_not(a):
    return not a


def sym_sqrt(a):
    return math.sqrt(a)


def sym_ite(b, t, f):
    return t if b else f


def sym_sum(*args):
    """The sum of sym_sum([a, b, c]) or of sym_sum(a, b, c), as PyTorch's takes either."""
    if len(args) == 1 and not isinstance(args[0], (int, float)):
        args = tuple(args[0])
    return builtins.sum(args)
