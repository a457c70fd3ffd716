"""Masked ops: masked_fill (a value where the mask is true), masked_select (the selected
elements, flattened) and masked_scatter (the source's elements, in order, where the mask is
true), with PyTorch's broadcasting rules, dtype checks and gradients."""
import numpy as np

from .._int_scalars import fits, overflow
from .._creation import zeros
from .._dispatch import dispatch, dispatch_inplace, _type_word
from .._select import select
from ..autograd.graph import Node
from ._util import xp_of, as_operand

def _check_mask_broadcasts(mask_shape, self_shape):
    """PyTorch's error where a mask and self do not broadcast (NumPy's ValueError otherwise)."""
    n = max(len(mask_shape), len(self_shape))
    a = (1,) * (n - len(mask_shape)) + tuple(mask_shape)
    b = (1,) * (n - len(self_shape)) + tuple(self_shape)
    for d in reversed(range(n)):
        if a[d] != b[d] and a[d] != 1 and b[d] != 1:
            raise RuntimeError(f'The size of tensor a ({a[d]}) must match the size of tensor b '
                               f'({b[d]}) at non-singleton dimension {d}')


class MaskedFill(Node):
    complex_autograd = True
    contiguous_output = True
    saved_inputs = (1,)
    overlap_checked = False    # (its value is 0-dim, read first, as in PyTorch)

    def forward(self, a, mask, value):
        if mask.dtype != np.bool_:
            raise RuntimeError(f'masked_fill_ only supports boolean masks, but got mask with dtype '
                               f'{mask.dtype}')
        if hasattr(value, 'ndim') and value.ndim:
            raise RuntimeError(f'masked_fill_ only supports a 0-dimensional value tensor, but got '
                               f'tensor with {value.ndim} dimension(s).')
        _check_mask_broadcasts(mask.shape, a.shape)
        if value.__class__ is complex or (value.__class__ not in (int, float, bool) and
                                          value.dtype.kind == 'c' and a.dtype.kind != 'c'):
            value = _complex_scalar_as(complex(value), a.dtype)
        xp = xp_of(a)
        return select(xp, mask, xp.asarray(fits(value, a.dtype), dtype=a.dtype), a)

    def backward(self, g):
        (mask,) = self.saved_tensors
        e = self._edges
        ga = g.masked_fill(mask, 0.0) if e[0] is not None else None
        if ga is not None and tuple(ga.shape) != tuple(e[0][2]):   # (self was broadcast)
            ga = ga.sum_to_size(e[0][2])
        gv = g.masked_select(mask.expand_as(g) if mask.shape != g.shape else mask).sum() \
            if len(e) > 2 and e[2] is not None else None
        return ga, None, gv


def _complex_scalar_as(value, np_dtype):
    """A complex number written into a tensor as c10's checked conversion takes it: into a real
    tensor its real part when the imaginary part is 0, else PyTorch's RuntimeError (NumPy would
    drop the imaginary part, or fail in float()); a bool tensor takes its truth."""
    kind = np.dtype(np_dtype).kind
    if kind == 'c':
        return value
    if kind == 'b':
        return bool(value)
    if value.imag != 0:
        raise overflow(np_dtype)
    return value.real


def masked_fill(input, mask, value):
    return dispatch(MaskedFill(), input, mask, as_operand(value))


def masked_fill_(input, mask, value):
    return dispatch_inplace(MaskedFill(), input, mask, as_operand(value))


class MaskedSelect(Node):
    shape_from_values = True
    complex_autograd = True
    complex_autograd = True
    saved_inputs = (1,)

    def forward(self, a, mask):
        if mask.dtype != np.bool_:
            raise RuntimeError(f'masked_select: expected BoolTensor for mask, got {mask.dtype}')
        _check_mask_broadcasts(mask.shape, a.shape)
        xp = xp_of(a)
        from .shape import broadcast_shapes     # (PyTorch's RuntimeError where sizes differ)
        shape = tuple(broadcast_shapes(a.shape, mask.shape))
        self._input_shape = a.shape
        self._shape = shape
        return xp.broadcast_to(a, shape)[xp.broadcast_to(mask, shape)]

    def backward(self, g):
        (mask,) = self.saved_tensors
        out = zeros(self._shape, dtype=g.dtype, device=g.device)
        out = out.masked_scatter(mask.expand(self._shape), g)
        return out, None


def masked_select(input, mask):
    return dispatch(MaskedSelect(), input, mask)


class MaskedScatter(Node):
    complex_autograd = True
    saved_inputs = (1,)
    overlap_checked = False    # PyTorch's kernel does not check

    def forward(self, a, mask, source):
        # out of place, self and mask broadcast together (in place, mask broadcasts to self)
        xp = xp_of(a)
        _check_boolean_mask(mask)     # (before the shapes, as PyTorch's)
        shape = _broadcast_shape(a.shape, mask.shape)
        out = a.copy() if shape == a.shape else xp.broadcast_to(a, shape).copy()
        return self.forward_into(out, a, mask, source)

    def forward_into(self, out, a, mask, source):
        xp = xp_of(out)
        _check_boolean_mask(mask)
        if source.dtype != out.dtype:
            raise RuntimeError(f'masked_scatter: expected self and source to have same dtypes but '
                               f'got {_type_word(out.dtype)} and {_type_word(source.dtype)}')
        _check_mask_broadcasts(mask.shape, out.shape)
        if mask.ndim > out.ndim:     # (in place: the mask must expand to self's shape)
            raise RuntimeError(f'expand(CPUBoolType{{{list(mask.shape)}}}, '
                               f'size={list(out.shape)}): the number of sizes provided '
                               f'({out.ndim}) must be greater or equal to the number of '
                               f'dimensions in the tensor ({mask.ndim})')
        m = xp.broadcast_to(mask, out.shape)
        n = int(m.sum())
        if source.size < n:
            raise RuntimeError('masked_scatter: expected source to have at least as many elements '
                               'as ones in mask')
        out[m] = source.reshape(-1)[:n].astype(out.dtype, copy=False)
        return out

    def backward(self, g):
        (mask,) = self.saved_tensors
        e = self._edges
        ga = g.masked_fill(mask, 0.0) if e[0] is not None else None
        if ga is not None and tuple(ga.shape) != tuple(e[0][2]):   # (self was broadcast)
            ga = ga.sum_to_size(e[0][2])
        gs = None
        if e[2] is not None:
            selected = g.masked_select(mask)
            n_source = 1
            for s in e[2][2]:
                n_source *= s
                from .shape import cat
            pad = zeros(n_source - selected.numel(), dtype=g.dtype, device=g.device)
            gs = cat([selected, pad]).reshape(e[2][2])
        return ga, None, gs


def _check_boolean_mask(mask):
    if mask.dtype != bool:
        raise RuntimeError(f'masked_scatter_ only supports boolean masks, but got mask with '
                           f'dtype {_type_word(mask.dtype)}')


def _broadcast_shape(a_shape, mask_shape):
    _check_mask_broadcasts(mask_shape, a_shape)
    n = max(len(a_shape), len(mask_shape))
    padded = [(1,) * (n - len(s)) + tuple(s) for s in (a_shape, mask_shape)]
    return tuple(max(x, y) for x, y in zip(*padded))


def masked_scatter(input, mask, source):
    return dispatch(MaskedScatter(), input, mask, source)


def masked_scatter_(input, mask, source):
    return dispatch_inplace(MaskedScatter(), input, mask, source)

