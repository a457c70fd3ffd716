"""Rounding divisions as ONNX: floor_divide (`//`, div(rounding_mode='floor')) and
div(rounding_mode='trunc'), which ONNX has no single op for.

Integers: (a - a mod b) / b divides exactly, so ONNX's integer Div (which truncates in some
runtimes and floors in others) is never asked to round; Mod's fmod attribute picks the
remainder's sign (the divisor's for floor, the dividend's for trunc). Floats: floor follows
PyTorch's kernel (c10::div_floor_floating, Python's algorithm) rather than Floor(a / b), which
differs where a / b rounds up to an integer (1 // 0.1 is 9, not 10); trunc is trunc(a / b)."""
import numpy as np


def _temps(ctx, count):
    return [ctx.temp() for _ in range(count)]


def _integer(ctx, a, b, fmod):
    remainder, exact = _temps(ctx, 2)
    return [ctx.node('Mod', [a, b], [remainder], fmod=fmod),
            ctx.node('Sub', [a, remainder], [exact]),
            ctx.node('Div', [exact, b])]


def _float_floor(ctx, a, b, dtype):
    """mod = fmod(a, b); div = (a - mod) / b, less 1 where mod and b differ in sign; its floor,
    rounded up where div is more than half above it; a / b where b is 0; 0 with a / b's sign
    where div is 0."""
    zero, one, half = (ctx.constant(np.array(v, dtype)) for v in (0, 1, 0.5))
    (mod, exact, div0, mod_set, mod_neg, b_neg, signs_differ, fix, fix_f, div, low, rest,
     round_up, round_f, floored, quotient, signed_zero, div_zero, b_zero, nonzero) = \
        _temps(ctx, 20)
    return [
        ctx.node('Mod', [a, b], [mod], fmod=1),
        ctx.node('Sub', [a, mod], [exact]),
        ctx.node('Div', [exact, b], [div0]),
        ctx.node('Equal', [mod, zero], [mod_set + 'z']),
        ctx.node('Not', [mod_set + 'z'], [mod_set]),
        ctx.node('Less', [mod, zero], [mod_neg]),
        ctx.node('Less', [b, zero], [b_neg]),
        ctx.node('Xor', [mod_neg, b_neg], [signs_differ]),
        ctx.node('And', [mod_set, signs_differ], [fix]),
        ctx.node('Cast', [fix], [fix_f], to=_element(dtype)),
        ctx.node('Sub', [div0, fix_f], [div]),
        ctx.node('Floor', [div], [low]),
        ctx.node('Sub', [div, low], [rest]),
        ctx.node('Greater', [rest, half], [round_up]),
        ctx.node('Cast', [round_up], [round_f], to=_element(dtype)),
        ctx.node('Add', [low, round_f], [floored]),
        ctx.node('Div', [a, b], [quotient]),
        ctx.node('Mul', [quotient, zero], [signed_zero]),
        ctx.node('Equal', [div, zero], [div_zero]),
        ctx.node('Where', [div_zero, signed_zero, floored], [nonzero]),
        ctx.node('Equal', [b, zero], [b_zero]),
        ctx.node('Where', [b_zero, quotient, nonzero]),
    ]


def _float_trunc(ctx, a, b):
    quotient, negative, up, down = _temps(ctx, 4)
    zero = ctx.constant(np.array(0, ctx.dtype(a)))
    return [ctx.node('Div', [a, b], [quotient]),
            ctx.node('Less', [quotient, zero], [negative]),
            ctx.node('Ceil', [quotient], [up]),
            ctx.node('Floor', [quotient], [down]),
            ctx.node('Where', [negative, up, down])]


def _element(dtype):
    from ._proto import element_type
    return element_type(dtype)


def _rounding(floor):
    def translate(ctx, op, a, b):
        nodes = []
        dtype = ctx.out_dtype()
        a, b = ctx.cast(a, dtype, nodes), ctx.cast(b, dtype, nodes)
        if np.dtype(dtype).kind in 'iu':
            return nodes + _integer(ctx, a, b, fmod=0 if floor else 1)
        if np.dtype(dtype).kind != 'f':
            raise ctx.unsupported('floor_divide' if floor else 'div_trunc',
                                  f'operands of dtype {np.dtype(dtype)}')
        return nodes + (_float_floor(ctx, a, b, dtype) if floor else _float_trunc(ctx, a, b))
    return translate


TRANSLATORS = {'floor_divide': _rounding(floor=True), 'div_trunc': _rounding(floor=False)}
