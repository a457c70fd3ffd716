"""torch.special's own ops (nbgrad.special): their rows of the elementwise op tables, with
PyTorch's derivatives and the dtypes PyTorch has no kernel for. Imported by elementwise.py once
its tables and helpers exist."""
import math

import numpy as np

from .. import _dtype, _special, _special_bessel, _special_polynomials
from .._dispatch import dispatch, no_kernel
from .._select import select
from .elementwise import (UNARY, _TWO_OVER_SQRT_PI, _binary, _in_operand_dtype,
                          _named_by_scalar_operand, _unary, _xlogy_da, where)

# A table of their own, so that they become neither top-level functions nor Tensor methods
# (PyTorch has neither)
SPECIAL = {}
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_FRAC_1_SQRT_2 = 1.0 / math.sqrt(2.0)


def _no_kernel(table, name, kernel, half=False):
    """PyTorch has no complex kernel for the op (nor a float16 one with half=True): refuse those
    dtypes as it does. Integer and bool inputs compute in the default float dtype."""
    op = table[name]

    def check(self, dt):
        if dt.kind == 'c' or (half and dt == np.float16):
            raise no_kernel(kernel, dt)
    op._check_dtype = check
    op.fast_kinds = '' if half else 'f'   # the fast path skips the check: only where it passes


def _bessel_i1_grad(g, x, y, scaled):
    """PyTorch's i1_backward / i1e_backward: I1' = I0 - I1/x and (e^-|x| I1)' = e^-|x| I0 -
    result (sgn x + 1/x), both 1/2 where |x| <= eps (the limit at 0, which 1/x cannot give)."""
    eps = float(_dtype.finfo(x._data.dtype).eps)
    big = x.abs() > eps
    safe = where(big, x, eps)
    if scaled:
        slope = dispatch(SPECIAL['special_i0e'](), safe) - y * (safe.sgn() + safe.reciprocal())
    else:
        slope = safe.i0() - y / safe
    return g * where(big, slope, 0.5)


def _entr(xp, x):
    """-x log x; 0 at 0, -inf for x < 0, nan for nan."""
    rest = select(xp, x == 0, 0.0, select(xp, x < 0, -np.inf, x))
    return select(xp, x > 0, -x * xp.log(x), rest).astype(x.dtype, copy=False)


# The derivatives are PyTorch's (tools/autograd/derivatives.yaml, i1e_backward). special_i1
# goes in the UNARY table: it is a Tensor method too (x.special_i1(), i0's derivative)
_unary('special_i1', lambda g, x, y: _bessel_i1_grad(g, x, y, False), saves='xy',
       compute=lambda xp, x: _special.i1(xp, x), backward_name='SpecialI1Backward0')
_unary('special_erfcx', lambda g, x, y: (x * y * 2.0 - _TWO_OVER_SQRT_PI) * g, saves='xy',
       compute=lambda xp, x: _special.erfcx(xp, x), backward_name='SpecialErfcxBackward0',
       table=SPECIAL)
# PyTorch's ndtr is a composite, (1 + erf(x / sqrt 2)) / 2, whose last node is a MulBackward1;
# nbgrad keeps the accurate kernel (no cancellation in the lower tail) and that node's name.
_unary('special_ndtr', lambda g, x, y: (-(x * _FRAC_1_SQRT_2).square()).exp() *
       (_TWO_OVER_SQRT_PI * 0.5 * _FRAC_1_SQRT_2) * g, saves='x',
       compute=lambda xp, x: _special.ndtr(xp, x), backward_name='MulBackward1', table=SPECIAL)
_unary('special_ndtri', lambda g, x, y: g * _SQRT_2PI * (y.square() / 2).exp(), saves='y',
       compute=lambda xp, x: _special.ndtri(xp, x), backward_name='SpecialNdtriBackward0',
       table=SPECIAL)
_unary('special_log_ndtr', lambda g, x, y: g / _SQRT_2PI * (y + x.square() / 2).neg().exp(),
       saves='xy', compute=lambda xp, x: _special.log_ndtr(xp, x),
       backward_name='SpecialLogNdtrBackward0', table=SPECIAL)
_unary('special_i0e', lambda g, x, y: g * (dispatch(SPECIAL['special_i1e'](), x) - x.sgn() * y),
       saves='xy', compute=lambda xp, x: _special.i0e(xp, x),
       backward_name='SpecialI0EBackward0', table=SPECIAL)
_unary('special_i1e', lambda g, x, y: _bessel_i1_grad(g, x, y, True), saves='xy',
       compute=lambda xp, x: _special.i1e(xp, x), backward_name='SpecialI1EBackward0',
       table=SPECIAL)
_unary('special_entr', lambda g, x, y: g * -(x.log() + 1), saves='x', compute=_entr,
       backward_name='SpecialEntrBackward0', table=SPECIAL)
# PyTorch's modified_bessel_i0/i1: i0 and i1's values, not differentiable (no derivative there)
_unary('special_modified_bessel_i0', compute=lambda xp, x: _special.i0(xp, x), table=SPECIAL)
_unary('special_modified_bessel_i1', compute=lambda xp, x: _special.i1(xp, x), table=SPECIAL)
_binary('special_xlog1py', lambda g, a, b, y: _xlogy_da(g, a, b, SPECIAL['special_xlog1py'], -1.0),
        lambda g, a, b, y: g * a / (b + 1), saves='ab', result='float',
        compute=lambda xp, a, b: _in_operand_dtype(_special.xlog1py(xp, a, b), a, b),
        table=SPECIAL)
_named_by_scalar_operand(SPECIAL, 'special_xlog1py', ('SpecialXlog1PyBackward0',
                                                      'SpecialXlog1PyBackward1',
                                                      'SpecialXlog1PyBackward2'))
for _name, _kernel, _half in (('special_erfcx', 'erfcx_cpu', True),
                              ('special_ndtr', 'erf_vml_cpu', False),
                              ('special_ndtri', 'ndtri_cpu', True),
                              ('special_log_ndtr', 'log_ndtr_cpu', True),
                              ('special_i0e', 'i0e_cpu', False),
                              ('special_i1e', 'i1e_cpu', False),
                              ('special_entr', 'entr_cpu', False),
                              ('special_modified_bessel_i0', 'modified_bessel_i0_cpu', True),
                              ('special_modified_bessel_i1', 'modified_bessel_i1_cpu', True),
                              ('special_xlog1py', 'xlog1py_cpu', False)):
    _no_kernel(SPECIAL, _name, _kernel, _half)
_no_kernel(UNARY, 'special_i1', 'i1_cpu')


# PyTorch's Bessel-family functions and orthogonal polynomials of (x, n): values only (PyTorch
# has no derivative for them), with no float16 or complex kernels
for _name in _special_bessel.__all__:
    _unary('special_' + _name, compute=getattr(_special_bessel, _name), table=SPECIAL)
    _no_kernel(SPECIAL, 'special_' + _name, _name + '_cpu', half=True)
for _name in _special_polynomials.__all__:
    _binary('special_' + _name, compute=getattr(_special_polynomials, _name), result='float',
            table=SPECIAL)
    _no_kernel(SPECIAL, 'special_' + _name, _name + '_cpu', half=True)
