"""ldexp and frexp: a float as mantissa * 2 ** exponent, exactly (in the subnormal range too,
where CuPy's float32 kernels would flush: _float32_bits)."""
import numpy as np

from .. import _dtype
from .._dispatch import dispatch, dispatch_inplace, no_kernel
from .._out import accepts_out
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _float32_bits
from ._elementwise_op import _KIND_CATEGORY
from ._util import promote, xp_of
from .elementwise import BINARY, pow


class Ldexp(Node):
    """ldexp(x, e) for a floating x and an integer e: x * 2 ** e exactly, in x's dtype (rounded
    once, so results in the subnormal range are exact too). PyTorch's kernel reads e as a C int:
    int64 exponents wrap to int32 first."""
    saved_inputs = (1,)

    def forward(self, x, e):
        if e.dtype.kind == 'b':
            raise no_kernel('ldexp_cpu_exp', 'bool')
        xp = xp_of(x, e)
        e = e.astype(np.int32, copy=False)
        if xp is not np and x.dtype == np.float32:
            # CuPy flushes float32 subnormals: in float64 the product is exact, and the
            # conversions through the bits keep them (_float32_bits)
            return _float32_bits.narrow(xp, xp.ldexp(_float32_bits.widen(xp, x), e))
        return xp.ldexp(x, e)

    def backward(self, g):
        # d/dx = 2 ** e, applied as another ldexp: exact, and finite wherever 2 ** e alone
        # would overflow. (PyTorch computes 2 ** e in e's integer dtype, which gives 0 for
        # negative or large exponents: a wrong gradient that nbgrad does not copy.)
        (e,) = self.saved_tensors
        return dispatch(Ldexp(), g, e), None


def _ldexp_exact(input, other):
    """Whether PyTorch's 2.x kernel takes the exact path: floating input, integer exponent."""
    return input._data.dtype.kind in _dtype.FLOATING_KINDS and other._data.dtype.kind in 'biu'


def _ldexp_args(input, other):
    from ._args import tensor_arg
    return tensor_arg(input, 'ldexp', 'input', 1), tensor_arg(other, 'ldexp', 'other', 2)


@accepts_out
def ldexp(input, other, *, out=None):
    """input * 2 ** other. With a floating input and an integer exponent, exact in input's
    dtype; otherwise (integer or complex input, floating exponent) PyTorch's formula
    input * pow(2.0, other), with its promotion (differentiable in both)."""
    input, other = _ldexp_args(input, other)
    if _ldexp_exact(input, other):
        return dispatch(Ldexp(), input, other)
    op = BINARY['mul']()
    op.backward_name = 'LdexpBackward0'  # PyTorch's name for the node, whichever path
    return dispatch(op, input, pow(2.0, other))


def ldexp_(input, other):
    input, other = _ldexp_args(input, other)
    if _ldexp_exact(input, other):
        return dispatch_inplace(Ldexp(), input, other)
    scale = pow(2.0, other)
    result = promote([input._data, scale._data])
    if _KIND_CATEGORY[result.kind] > _KIND_CATEGORY[input._data.dtype.kind]:
        from .._dispatch import _type_word
        raise RuntimeError(f"ldexp can't be cast to the desired output type "
                           f"{_type_word(input._data.dtype)}")
    return dispatch_inplace(BINARY['mul'](), input, scale)


class Frexp(Node):
    """frexp(x) -> (mantissa, exponent): x = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1,
    exponent int32 (0 for 0, inf and nan, as in C)."""
    num_outputs = 2
    non_differentiable_outputs = (1,)

    def forward(self, x):
        if x.dtype.kind != 'f':
            raise RuntimeError('torch.frexp() only supports floating-point dtypes')
        xp = xp_of(x)
        if xp is not np and x.dtype == np.float32:
            # CuPy flushes float32 subnormals: decompose the exact float64 value instead (its
            # mantissa, in [0.5, 1), is a normal float32)
            mantissa, exponent = xp.frexp(_float32_bits.widen(xp, x))
            mantissa = mantissa.astype(np.float32)
        else:
            mantissa, exponent = xp.frexp(x)
        self._exponent = exponent
        return mantissa, exponent.astype(np.int32, copy=False)

    def backward(self, g, _):
        # d mantissa / dx = 2 ** -exponent, applied with ldexp. PyTorch divides by
        # exponent.exp2() in float32, which overflows (gradient 0 or inf) for float64 inputs
        # beyond float32's exponent range and float32 subnormals; ldexp stays exact there.
        e = Tensor._make(-self._exponent.astype(np.int32, copy=False))
        return (dispatch(Ldexp(), g, e),)


@accepts_out
def frexp(input, *, out=None):
    from ..return_types import return_type
    from ._args import tensor_arg
    mantissa, exponent = dispatch(Frexp(), tensor_arg(input, 'frexp', 'input', 1))
    return return_type('frexp', mantissa, exponent)
