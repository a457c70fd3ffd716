"""addcmul and addcdiv, out of place and in place: input + value * tensor1 * tensor2 and
input + value * tensor1 / tensor2, in PyTorch's kernel's order (value times tensor1 first) where
no graph is recorded; half and bfloat16 computed in float and rounded once, as PyTorch's kernels
(_node_names.rounded_once_in_reduced_float)."""
import numpy as np

from .. import _dtype
from .._dispatch import no_kernel
from .._memory_overlap import refuse_partial_overlap
from .._node_names import presents_as, rounded_once_in_reduced_float
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ._util import promote
from .elementwise import add, div, mul


def refuse_bool_addcmul(*operands):
    """addcmul(_) of three bool operands: PyTorch has no kernel (a bool input with int
    tensors, or the reverse, computes in int64)."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind == 'b' for t in operands):
        raise no_kernel('addcmul_cpu_out', 'bool')


@presents_as('AddcmulBackward0')
@rounded_once_in_reduced_float
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (value is cast to the integer dtype for int tensors)."""
    refuse_bool_addcmul(input, tensor1, tensor2)
    if value == 1:
        return add(input, mul(tensor1, tensor2))
    kind = promote([t._data for t in (tensor1, tensor2)]).kind
    value = int(value) if kind in 'biu' else value
    if _records(tensor1, tensor2):   # (the product saves tensor1 and tensor2, as PyTorch's node)
        return add(input, mul(mul(tensor1, tensor2), value))
    return add(input, mul(mul(tensor1, value), tensor2))   # (PyTorch's kernel's order)


@presents_as('AddcdivBackward0')
@rounded_once_in_reduced_float
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (true division; integer tensor1/tensor2 are refused)."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind in 'biu' for t in (tensor1, tensor2)):
        raise RuntimeError('Integer division with addcdiv is no longer supported, and in a future '
                           'release addcdiv will perform a true division of tensor1 and tensor2. '
                           'Use (input + value * tensor1 / tensor2) instead.')
    if value == 1:
        return add(input, div(tensor1, tensor2))
    if _records(tensor1, tensor2):   # (the quotient saves tensor1 and tensor2, as PyTorch's node)
        return add(input, mul(div(tensor1, tensor2), value))
    return add(input, div(mul(tensor1, value), tensor2))   # (PyTorch's kernel's order)


def _records(*operands):
    """Whether autograd records an op of these operands."""
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in operands)


def addcmul_(self, tensor1, tensor2, *, value=1):
    """Tensor.addcmul_."""
    refuse_bool_addcmul(self, tensor1, tensor2)
    return _in_place(self, tensor1, tensor2, value, 'addcmul')


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """Tensor.addcdiv_."""
    return _in_place(self, tensor1, tensor2, value, 'addcdiv')


def _in_place(self, tensor1, tensor2, value, name):
    """self.addcmul_/addcdiv_: half and bfloat16 as the out-of-place form, in float and rounded
    once (PyTorch's kernel), then written into self; other dtypes as self.add_((value * t1) * t2
    or (value * t1) / t2), the kernel's order (recording autograd: the product saves t1 and t2, as
    PyTorch's node, and value scales it)."""
    refuse_partial_overlap(self, tensor1, tensor2)
    if _dtype.is_reduced_float(self._data.dtype) and self._data.__class__ is np.ndarray and \
            all(isinstance(t, Tensor) and t._data.dtype == self._data.dtype
                for t in (tensor1, tensor2)):
        from .._tensor_method_forms import _source_of_inplace
        return self.copy_(_OUT_OF_PLACE[name](_source_of_inplace(self), tensor1, tensor2,
                                              value=value))
    if value != 1 and not _records(tensor1, tensor2):   # (PyTorch's kernel's order: value
        kind = promote([t._data if isinstance(t, Tensor) else t     # times tensor1 first)
                        for t in (tensor1, tensor2)]).kind
        tensor1 = mul(tensor1, int(value) if kind in 'biu' and name == 'addcmul' else value)
        value = 1
    combined = mul(tensor1, tensor2) if name == 'addcmul' else div(tensor1, tensor2)
    return self.add_(combined, alpha=value)


_OUT_OF_PLACE = {'addcmul': addcmul, 'addcdiv': addcdiv}
