"""Division, remainder and power as PyTorch computes them when integers are involved:
a zero divisor is an error only when both operands are integral (2.5 // int_tensor and
int_tensor // 0.0 are float divisions, inf/nan at 0); truncating division rounds toward zero;
integers to negative integer powers follow PyTorch's integer rules. Each takes (xp, a, b) with
a or b possibly a Python scalar: the `compute` of the elementwise op table."""
from .._select import select
from ._elementwise_op import _PY_SCALARS


def _has_zero(b):
    return b == 0 if b.__class__ in _PY_SCALARS else bool((b == 0).any())


def _integral(v):
    return v.__class__ in (int, bool) if v.__class__ in _PY_SCALARS else v.dtype.kind in 'biu'


def _int_checked(fn, a, b):
    """fn(a, b), refusing a zero divisor when the division is an integer one."""
    if _integral(a) and _integral(b) and _has_zero(b):
        raise RuntimeError('ZeroDivisionError: integer division or remainder by zero')
    return fn(a, b)


def floor_div(xp, a, b):
    return _int_checked(xp.floor_divide, a, b)


def remainder(xp, a, b):
    if _integral(a) and _integral(b):
        return _int_checked(xp.remainder, a, b)
    # PyTorch's float kernel: fmod, then + b where the signs differ. NumPy's remainder differs
    # in the sign of zero (-0. % 1 is -0. in PyTorch, 0. in NumPy; 0. % -1 is 0., not -0.)
    mod = xp.fmod(a, b)
    return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def fmod(xp, a, b):
    return _int_checked(xp.fmod, a, b)


def div_trunc(xp, a, b):
    if _integral(a) and _integral(b):
        if _has_zero(b):
            raise RuntimeError('ZeroDivisionError: integer division by zero')
        q = a // b
        # floor division rounds toward -inf; truncation rounds toward zero
        return q + ((q < 0) & (q * b != a)).astype(q.dtype)
    return xp.trunc(a / b)


def power(xp, a, b):
    if not (_integral(a) and _integral(b)):
        return xp.power(a, b)
    if b.__class__ in _PY_SCALARS:
        if b < 0:
            raise RuntimeError('Integers to negative integer powers are not allowed.')
        return xp.power(a, b)
    if a.__class__ in _PY_SCALARS:
        a = xp.asarray(a, dtype=b.dtype)  # 2 ** t: the base takes t's dtype (a weak scalar)
    negative = b < 0
    if not bool(negative.any()):
        return xp.power(a, b)
    # PyTorch's integer pow with a tensor exponent: x ** -n is 1/(x ** n) in integer arithmetic,
    # so 1 and -1 keep their magnitude and everything else (0 included) becomes 0
    dtype = xp.result_type(a, b)
    powered = xp.power(a, select(xp, negative, 0, b))
    small = select(xp, a == 1, 1, select(xp, a == -1, select(xp, b % 2 == 0, 1, -1), 0))
    return select(xp, negative, small, powered).astype(dtype)
