"""addmm, addmv, baddbmm, addbmm and addr: beta * input + alpha * (a product), with PyTorch's
rules around the product: each kernel's dtype checks and messages, its conversion of beta and
alpha to the result's dtype, and beta == 0, where input's values are ignored (NaN in it does not
propagate) but input stays in the graph with a gradient of grad * 0."""
import numpy as np

from .._dispatch import dispatch, _type_word as _W
from .._node_names import presents_as, rounded_once_in_reduced_float
from ..autograd.graph import Node
from .matmul import _CPP_TYPES, bmm, mm, mv, outer
from ._util import promote
from .._int_scalars import fits

# the C++ type names PyTorch's "value cannot be converted to type ..." error uses
_CONVERSION_TYPES = dict(_CPP_TYPES, int64='int64_t', int32='int', int16='int16_t', int8='int8_t',
                         uint8='uint8_t')


@presents_as('AddmmBackward0')
@rounded_once_in_reduced_float
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    _refuse_mixed(input, mat1, mat2, _addmm_dtype_error)
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


@presents_as('AddmvBackward0')
@rounded_once_in_reduced_float
def addmv(input, mat, vec, *, beta=1, alpha=1):
    _refuse_mixed(input, mat, vec, lambda *dtypes: (
        'addmv input tensors must have the same dtype, but got {}, {}, and {}'.format(
            *map(_W, dtypes))))
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@presents_as('BaddbmmBackward0')
@rounded_once_in_reduced_float
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    _refuse_mixed(input, batch1, batch2, _baddbmm_dtype_error)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@presents_as('AddbmmBackward0')
@rounded_once_in_reduced_float
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    _refuse_mixed(input, batch1, batch2, _addmm_dtype_error)
    return _scaled_sum(input, bmm(batch1, batch2).sum(0, dtype=batch1.dtype), beta, alpha)


@presents_as('AddrBackward0')
@rounded_once_in_reduced_float
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    # (addr promotes its operands, unlike the others, and refuses float scalars on integers)
    product = outer(vec1, vec2)
    dt = promote((input._data, product._data))
    if dt.kind in 'biu':
        for name, scalar in (('beta', beta), ('alpha', alpha)):
            if isinstance(scalar, (float, complex)):
                raise RuntimeError(f'For integral input tensors, argument {name} must not be a '
                                   'floating point number.')
    if dt.kind != 'b':
        for name, scalar in (('beta', beta), ('alpha', alpha)):
            if isinstance(scalar, bool):
                raise RuntimeError(f'Boolean {name} only supported for Boolean results.')
    return _scaled_sum(input, product, beta, alpha, dt)


def _scaled_sum(input, product, beta, alpha, dt=None):
    dt = input._data.dtype if dt is None else dt
    beta, alpha = _as_element(beta, dt), _as_element(alpha, dt)
    if dt.kind == 'b':   # (bool results: "and" for the products, "or" for the sum)
        product = product if alpha else product & False
        return product | input if beta else _ignoring(input, product)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # PyTorch ignores input's values then (nan/inf in it do not propagate)
        return _ignoring(input, product)
    return product + (input if beta == 1 else input * beta)


def _as_element(scalar, dt):
    """beta or alpha as PyTorch converts it to the result's dtype: an error for a complex number
    on a real result, truncated to an integer on an integer one."""
    if isinstance(scalar, complex) and dt.kind != 'c':
        raise RuntimeError(f'value cannot be converted to type {_CONVERSION_TYPES[dt.name]} '
                           'without overflow')
    if dt.kind == 'b':
        return bool(scalar)
    if dt.kind in 'iu' and isinstance(scalar, float):
        return int(fits(scalar, dt))   # (out of the dtype's range: PyTorch's overflow error)
    return scalar


def _ignoring(input, product):
    """product, broadcast to input's shape too, with input in the graph (where it requires grad)
    but its values unused."""
    if input.requires_grad:
        return dispatch(_IgnoredInput(), product, input)
    from .shape import broadcast_shapes
    shape = broadcast_shapes(input.shape, product.shape)
    return product.expand(shape).clone() if shape != product.shape else product


class _IgnoredInput(Node):
    """beta == 0: the product's values; input's gradient is PyTorch's grad * beta (zeros, or
    NaN where the gradient is NaN or infinite), summed back to its shape by the engine. The
    same for complex tensors (the identity and a zero are their own conjugates)."""
    complex_autograd = True

    def forward(self, product, input):
        shape = np.broadcast_shapes(product.shape, input.shape)
        return np.broadcast_to(product, shape).copy() if shape != product.shape else \
            product.copy()

    def backward(self, g):
        return g, g * 0


def _refuse_mixed(input, a, b, message):
    """The kernel's dtype error, message(input, a, b) of their NumPy dtypes, where they differ."""
    dtypes = [t._data.dtype for t in (input, a, b)]
    if not dtypes[0] == dtypes[1] == dtypes[2]:
        raise RuntimeError(message(*dtypes))


def _addmm_dtype_error(input, mat1, mat2):
    if input != mat2:
        return f'self and mat2 must have the same dtype, but got {_W(input)} and {_W(mat2)}'
    return f'mat1 and mat2 must have the same dtype, but got {_W(mat1)} and {_W(mat2)}'


def _baddbmm_dtype_error(input, batch1, batch2):
    if input != batch1:
        return (f'Input dtypes must be the same, got: input {_CPP_TYPES[input.name]}, batch1: '
                f'{_CPP_TYPES[batch1.name]}, batch2: {_CPP_TYPES[batch2.name]}')
    return f'expected scalar type {_W(batch1)} but found {_W(batch2)}'
