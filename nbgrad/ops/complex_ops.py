"""Complex numbers: the real and imaginary parts as views (Tensor.real / .imag, view_as_real,
view_as_complex), building complex tensors (complex, polar), angle and conj_physical.

The views share memory and the version counter with the tensor they come from, as in PyTorch:
`z.real.add_(1)` changes z and bumps z's version. Each op here is differentiable through complex
tensors, with PyTorch's convention (see _complex_autograd): `real` of a real tensor is that
tensor itself, `angle` of a real tensor has a zero gradient.
"""
import math

import numpy as np

from .. import _dispatch, _dtype
from .._dispatch import dispatch, dispatch_inplace, _type_word
from .._out import accepts_out, write_out
from .._tensor import Tensor
from ..autograd.graph import Node
from . import elementwise as _ew
from ._util import xp_of, broadcast_error
from .views import ViewOp

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_HALF_FLOAT_DOUBLE = ('float16', 'float32', 'float64')


def _no_complex32(name):
    raise RuntimeError(f'{name}: float16 inputs would give a complex32 (ComplexHalf) tensor, a '
                       f'dtype nbgrad does not have (NumPy has no such dtype). Convert the inputs '
                       f'to float32 first, e.g. x.float().')


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------

class _ComplexView(ViewOp):
    """A view between complex and real memory."""
    complex_autograd = True
    op_name = None


class _Part(_ComplexView):
    """z.real / z.imag of a complex tensor: the float view of every other number in its memory
    (strides twice the complex ones, in floats; imag starts one float in). The gradient of z is
    g, or i g, for a real gradient g of the part."""

    def __init__(self, imag):
        self.imag = imag
        self.op_name = 'imag' if imag else 'real'

    def forward(self, a):
        return a.imag if self.imag else a.real

    def backward(self, g):
        return g * 1j if self.imag else g     # (the engine makes a real gradient complex)

    def name(self):
        return 'SelectBackward0'  # PyTorch's real/imag are select(view_as_real(z), -1, 0 or 1)


class _ViewAsReal(_ComplexView):
    op_name = 'view_as_real'

    def forward(self, a):
        # a new last dimension of 2 floats over each complex number; as_strided also serves
        # inputs whose last dimension is strided (where .view(float) cannot)
        return xp_of(a).lib.stride_tricks.as_strided(a.real, a.shape + (2,),
                                                     a.strides + (a.itemsize // 2,))

    def backward(self, g):
        return view_as_complex(g.contiguous())

    def name(self):
        return 'ViewAsRealBackward0'


class _ViewAsComplex(_ComplexView):
    op_name = 'view_as_complex'

    def forward(self, a):
        # view_as_complex checked the layout: the last dimension is 2 adjacent floats
        return a.view(_COMPLEX_OF[a.dtype])[..., 0]

    def backward(self, g):
        return view_as_real(g)

    def name(self):
        return 'ViewAsComplexBackward0'


def real(input):
    """The real part: a view of a complex tensor's memory; a real tensor itself (PyTorch's)."""
    if not input.is_complex():
        return input
    return dispatch(_Part(False), input)


def imag(input):
    """The imaginary part of a complex tensor, as a view of its memory."""
    if not input.is_complex():
        raise RuntimeError('imag is not implemented for tensors with non-complex dtypes.')
    return dispatch(_Part(True), input)


def set_real(self, value):
    """`x.real = value`: copy value (a tensor or a number, broadcast) into x's real part."""
    real(self).copy_(value)


def set_imag(self, value):
    imag(self).copy_(value)


def view_as_real(input):
    if not input.is_complex():
        raise RuntimeError('view_as_real is only supported for complex tensors')
    return dispatch(_ViewAsReal(), input)


def view_as_complex(input):
    name = input.dtype.name
    if name not in _HALF_FLOAT_DOUBLE:
        raise RuntimeError(f'view_as_complex is only supported for half, float and double '
                           f'tensors, but got a tensor of scalar type: '
                           f'{_type_word(input._data.dtype)}')
    shape = input._data.shape
    if not shape:
        raise RuntimeError('Input tensor must have one or more dimensions')
    if shape[-1] != 2:
        raise RuntimeError('Tensor must have a last dimension of size 2')
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError('Tensor must have a last dimension with stride 1')
    if any(stride % 2 and size != 1 for stride, size in zip(strides[:-1], shape)):
        raise RuntimeError('Tensor must have a stride divisible by 2 for all but last dimension')
    if input.storage_offset() % 2:
        raise RuntimeError('Tensor must have a storage_offset divisible by 2')
    if name == 'float16':
        _no_complex32('view_as_complex')
    return dispatch(_ViewAsComplex(), input)


@accepts_out
def view_as_real_copy(input):
    return view_as_real(input).clone()


@accepts_out
def view_as_complex_copy(input):
    return view_as_complex(input).clone()


# ---------------------------------------------------------------------------------------------
# complex(real, imag) and polar(abs, angle)
# ---------------------------------------------------------------------------------------------

class _Compose(Node):
    """A complex tensor from two float tensors of one dtype (broadcast): real + i imag, or
    abs (cos angle + i sin angle). Each part is stored as computed, so inf and nan stay where
    they are (inf + 1j * nan arithmetic would mix the parts)."""
    complex_autograd = True
    saves_output = True

    def __init__(self, polar):
        self.polar = polar
        self.op_name = 'polar' if polar else 'complex'

    def forward(self, a, b):
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise broadcast_error([a.shape, b.shape]) from None
        xp = xp_of(a, b)
        if self.polar:
            a, b = a * xp.cos(b), a * xp.sin(b)
        out = xp.empty(shape, _COMPLEX_OF[np.dtype(a.dtype)])
        out.real[...] = a
        out.imag[...] = b
        return out

    def backward(self, g):
        if not self.polar:
            return g.real, g.imag
        # PyTorch's polar_backward: real(conj(g) sgn(out)) and real(conj(g) i out)
        out = self.saved_output()
        g_conj = g.conj()
        return (g_conj * out.sgn()).real, (g_conj * (out * 1j)).real

    def name(self):
        return 'PolarBackward0' if self.polar else 'ComplexBackward0'


def _compose(name, names, first, second, out, polar):
    for position, (arg, value) in enumerate(zip(names, (first, second)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f'not {type(value).__name__}')
    a, b = first._data.dtype, second._data.dtype
    if np.dtype(a).name not in _HALF_FLOAT_DOUBLE or np.dtype(b).name not in _HALF_FLOAT_DOUBLE:
        raise RuntimeError(f'Expected both inputs to be Half, Float or Double tensors but got '
                           f'{_type_word(a)} and {_type_word(b)}')
    if a != b:
        raise RuntimeError(f'Expected object of scalar type {_type_word(a)} but got scalar type '
                           f'{_type_word(b)} for second argument')
    if a == np.float16:
        _no_complex32(name)
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if out._data.dtype != _COMPLEX_OF[a]:
            raise RuntimeError(f'Expected object of scalar type {_type_word(_COMPLEX_OF[a])} but '
                               f"got scalar type {_type_word(out._data.dtype)} for argument 'out'")
        if _dispatch._modes.grad_enabled and (first.requires_grad or second.requires_grad):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               f'automatic differentiation, but one of the arguments requires '
                               f'grad.')
        return write_out(out, dispatch(_Compose(polar), first, second), name)
    return dispatch(_Compose(polar), first, second)


def complex(real, imag, *, out=None):
    """real + i imag, from two float32 (or two float64) tensors that broadcast together."""
    return _compose('complex', ('real', 'imag'), real, imag, out, False)


def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle)), from two float32 (or two float64) tensors."""
    return _compose('polar', ('abs', 'angle'), abs, angle, out, True)


# ---------------------------------------------------------------------------------------------
# angle and conj_physical
# ---------------------------------------------------------------------------------------------

class _Angle(Node):
    """The argument of each number: atan2(imag, real) for complex inputs; for real ones pi where
    negative, else 0 (-0.0 included), nan where nan. Integers and bool give the default float
    dtype. A real input's gradient is zero (PyTorch's angle_backward)."""
    op_name = 'angle'
    complex_autograd = True
    saved_inputs = (0,)

    def forward(self, a):
        xp = xp_of(a)
        if a.dtype.kind == 'c':
            return xp.arctan2(a.imag, a.real)
        if a.dtype.kind in 'biu':
            a = a.astype(_dtype.get_default_dtype().np)
        out = (a < 0).astype(a.dtype) * a.dtype.type(math.pi)
        return xp.where(xp.isnan(a), a, out)

    def backward(self, g):
        (z,) = self.saved_tensors
        if not z.is_complex():
            return g.new_zeros(g.shape)
        # d angle = (x dy - y dx) / |z|^2: the gradient i z g / |z|^2, 0 at z = 0 (PyTorch's)
        return _ew.where(z == 0, 0.0, g * z / z.abs().pow(2) * 1j)

    def name(self):
        return 'AngleBackward0'


@accepts_out
def angle(input):
    return dispatch(_Angle(), input)


class _ConjPhysical(_ew.Elementwise):
    """The conjugate in new memory; its gradient is the conjugate of the gradient."""
    ufunc = 'conjugate'
    op_name = 'conj_physical'
    backward_name = 'ConjPhysicalBackward0'
    complex_autograd = True

    def backward(self, g):
        return g.conj()


@accepts_out
def conj_physical(input):
    """The conjugate computed into new memory (PyTorch's conj() is lazy; nbgrad's conj() copies
    too). A real tensor is returned as it is, as in PyTorch."""
    if not input.is_complex():
        return input
    return dispatch(_ConjPhysical(), input)


def conj_physical_(input):
    if not input.is_complex():
        return input
    return dispatch_inplace(_ConjPhysical(), input)
