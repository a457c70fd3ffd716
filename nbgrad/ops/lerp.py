"""lerp: start + weight * (end - start), as PyTorch's CPU kernel rounds it (one fused
multiply-add, from whichever end is nearer), with its one-dtype rule for the operands."""
import numpy as np

from .. import _exact
from .._complex_autograd import conj as _conj
from .._dispatch import dispatch, no_kernel
from .._select import select
from .._tensor import Tensor
from ._elementwise_op import Elementwise, _PY_SCALARS, explains_broadcast
from ._util import as_operand, xp_of


class Lerp(Elementwise):
    backward_name = 'LerpBackward1'     # (LerpBackward0 with a number weight: forward)
    op_name = 'lerp'
    saved_inputs = (0, 1, 2)
    saved_input_users = {0: (2,), 1: (2,), 2: (0, 1)}
    result = 'float'
    # holomorphic in each operand: the derivatives below, given the conjugated operands, are
    # PyTorch's g * conj(1 - weight), g * conj(weight), g * conj(end - start)
    complex_autograd = True
    conj_operands = True
    scalar_operands = None   # (PyTorch's lerp_kernel_scalar reads a number weight in float)

    def forward_into(self, out, start, end, weight):
        if start.dtype.kind in 'biu':   # (the missing kernel first, as in PyTorch, then casts)
            return self.forward(start, end, weight)
        return Elementwise.forward_into(self, out, start, end, weight)

    @explains_broadcast
    def forward(self, start, end, weight):
        if start.dtype.kind in 'biu':   # PyTorch has floating kernels only
            kernel = 'lerp_kernel_scalar' if weight.__class__ in _PY_SCALARS else \
                'lerp_kernel_tensor'
            raise no_kernel(kernel, start.dtype)
        if weight.__class__ in _PY_SCALARS:
            self.backward_name = 'LerpBackward0'
        if xp_of(start, end) is np and start.dtype == np.float16:   # (in float, rounded once)
            wide = [a.astype(np.float32) if a.__class__ is np.ndarray else a
                    for a in (start, end, weight)]
            return self.forward(*wide).astype(np.float16)
        start, end, weight = self._prepare((start, end, weight))
        xp = xp_of(start, end)
        diff = end - start
        dtype = start.dtype if hasattr(start, 'dtype') else end.dtype
        if xp is np and (dtype == np.float32 or dtype == np.float64):
            # PyTorch's CPU kernel (lerp_vec): one fused multiply-add, start + w * diff for
            # small weights and end + (w - 1) * diff for the others (exact at 0 and 1)
            w = np.asarray(weight, dtype)
            small = np.abs(w) < 0.5
            fma = _exact.fma32 if dtype == np.float32 else _exact.fma64
            return np.asarray(fma(np.where(small, w, w - dtype.type(1)), diff,
                                  np.where(small, start, end)), dtype)
        # PyTorch's formula: exact at weight 0 and 1
        small = xp.abs(weight) < 0.5
        return select(xp, small, start + weight * diff, end - diff * (1 - weight)).astype(
            start.dtype if hasattr(start, 'dtype') else end.dtype, copy=False)

    def backward(self, g):
        start, end, weight = self.saved_tensors
        if g._data.dtype.kind == 'c':
            start, end, weight = _conj(start), _conj(end), _conj(weight)
        e = self._edges
        return (g * (1 - weight) if e[0] is not None else None,
                g * weight if e[1] is not None else None,
                g * (end - start) if e[2] is not None else None)


def lerp(input, end, weight):
    return dispatch(Lerp(), input, *lerp_operands(input, end, weight))


def lerp_operands(input, end, weight):
    """end and weight as PyTorch's lerp takes them: of input's dtype (no promotion), except a
    0-dim weight tensor, which is converted."""
    end, weight = as_operand(end), as_operand(weight)
    if isinstance(weight, Tensor) and isinstance(input, Tensor) and weight.dtype != input.dtype \
            and weight._data.ndim == 0:
        weight = weight.to(input.dtype)
    for name, t in (('end', end), ('weight', weight)):
        if isinstance(t, Tensor) and isinstance(input, Tensor) and t.dtype != input.dtype:
            raise RuntimeError(f'expected dtype {_c_type(input)} for `{name}` but got dtype '
                               f'{_c_type(t)}')
    return end, weight


def _c_type(t):
    """A dtype as C++ names it in PyTorch's messages (float, double, c10::Half...)."""
    from .matmul import _CPP_TYPES
    return _CPP_TYPES[t._data.dtype.name]
