"""igamma / igammac (torch.special.gammainc / gammaincc) and torch.special.zeta as elementwise
binary ops on nbgrad's kernels (_incomplete_gamma.py, _special.py), with PyTorch's derivatives:
d/dx P(a, x) = exp((a - 1) log x - x - lgamma(a)) (negated for Q), none for a; d/dq zeta(x, q) =
-x zeta(x + 1, q), none for x. The missing derivatives raise PyTorch's NotImplementedError when
backward reaches them."""
import numpy as np

from .. import _incomplete_gamma, _special
from .._dispatch import dispatch
from . import elementwise as _ew

_PY_SCALARS = (bool, int, float)


def _not_implemented(what):
    def derivative(g, *_):
        raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
    return derivative


def _in_result_dtype(kernel):
    """The float64 kernel's result in the dtype the operands were promoted to."""
    def compute(xp, a, b):
        array = b if a.__class__ in _PY_SCALARS else a
        return kernel(xp, a, b).astype(array.dtype, copy=False)
    return compute


def _igamma_dx(g, a, x, sign):
    d = ((a - 1) * x.log() - x - a.lgamma()).exp()
    return g * d if sign > 0 else -g * d


def _refuse(kinds, kernel):
    def check(self, dt):
        if dt.kind in kinds or (dt == np.float16 and 'h' in kinds):
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_ew._dtype_word(dt)}\'')
    return check


def _zeta_dq(g, x, q):
    """-x zeta(x + 1, q) (SpecialZetaBackward0/1; x may be a Python number)."""
    return g * -x * dispatch(Zeta(), x + 1.0, q)


def _op(name, da, db, kernel, result, refuse, backward_name=None):
    cls = _ew._make_op(name, 2, compute=_in_result_dtype(kernel), derivatives=(da, db),
                       saves='ab', result=result, backward_name=backward_name)
    cls._check_dtype = refuse
    return cls


Igamma = _op('igamma', _not_implemented('igamma: input'),
             lambda g, a, x, y: _igamma_dx(g, a, x, 1), _incomplete_gamma.igamma, 'same',
             _refuse('biuc', 'igamma_cpu'))
Igammac = _op('igammac', _not_implemented('igammac: input'),
              lambda g, a, x, y: _igamma_dx(g, a, x, -1), _incomplete_gamma.igammac, 'same',
              _refuse('biuc', 'igammac_cpu'))
# integer operands compute in the default float dtype; no float16/bfloat16 or complex kernel
Zeta = _op('special_zeta', _not_implemented('zeta'), lambda g, x, q, y: _zeta_dq(g, x, q),
           _special.zeta, 'float', _refuse('ch', 'zeta_cpu'), 'SpecialZetaBackward0')
_table = {'zeta': Zeta}
_ew._named_by_scalar_operand(_table, 'zeta', ('SpecialZetaBackward0', 'SpecialZetaBackward1',
                                              'SpecialZetaBackward2'))
Zeta = _table['zeta']


def igamma(input, other):
    return dispatch(Igamma(), input, other)


def igammac(input, other):
    return dispatch(Igammac(), input, other)


def zeta(input, other):
    return dispatch(Zeta(), input, other)
