"""Attach the math methods and Python operators to Tensor.

Most methods are the module-level functions themselves (`Tensor.exp is nbgrad.exp`), since
PyTorch's `x.f(*args)` means `torch.f(x, *args)`; in-place variants `x.f_()` share the op classes
through the dispatcher's in-place path.
"""
import numpy as np

from . import _dtype
from ._device import to_device, device as _device_cls
from ._int_scalars import fits
from . import _dispatch
from ._dispatch import dispatch, dispatch_inplace
from ._layout import check_layout, sparse_coo
from ._memory_overlap import refuse_partial_overlap
from ._user_warning import warn_at_caller
from ._tensor import Tensor
from ._tensor_subclass import keeps_input_class
from ._node_names import presents_as
from ._profiled_calls import profiled_call
from ._memory_format import preserve_format as _preserve_format
from .ops import elementwise as ew, reduction, views, shape, indexing, matmul, scatter_reduce
from .ops import addc, scaled_products
from .ops import complex_ops, exponents, parameterised_unary
from .ops._util import as_operand, require_tensor

_PY_SCALARS = (bool, int, float, complex)


def _operand_or_not_implemented(other):
    if other.__class__ is Tensor or other.__class__ in _PY_SCALARS:
        return other
    if isinstance(other, (list, tuple)):
        # PyTorch's operators decline sequences: t == [1, 2] is False (Python's fallback),
        # t + [1, 2] a TypeError; torch.eq(t, ...) and friends are the elementwise forms
        return NotImplemented
    try:
        return as_operand(other)
    except TypeError:
        return NotImplemented


def _declined(method, self, other):
    """An operand the operator cannot take: a tensor-like's __torch_function__ is handed the
    call (as PyTorch's operators hand it: the first such operand also turns on dispatch for
    Tensor's methods), anything else declines (NotImplemented: Python's fallback)."""
    if getattr(type(other), '__torch_function__', None) is None or isinstance(other, Tensor):
        return NotImplemented
    from ._function_dispatch import redispatch
    return redispatch(method, self, other)


def _forward_operator(op_cls):
    def method(self, other):
        if other.__class__ is not Tensor and other.__class__ not in _PY_SCALARS:
            if other.__class__ is np.ndarray:
                self, other = _numpy_promoted(self, other)
            operand = _operand_or_not_implemented(other)
            if operand is NotImplemented:
                return _declined(method, self, other)
            other = operand
        return dispatch(op_cls(), self, other)
    return method


def _numpy_promoted(tensor, array):
    """t * ndarray: PyTorch's operator declines a NumPy array, so NumPy computes it (and hands
    back a Tensor) with NumPy's promotion, where a 0-d array counts as an array: a float32
    tensor times np.array(2.0) is float64. Both operands in that dtype."""
    target = np.result_type(tensor._data.dtype, array.dtype)
    if target.kind not in 'biufc' or target == tensor._data.dtype:
        return tensor, array
    return tensor.to(_dtype.from_numpy_dtype(target)), array.astype(target, copy=False)


def _reflected_operator(op_cls):
    # PyTorch names the node of `2 - x` RsubBackward1, and computes `2 / x` as reciprocal(x) * 2
    # (which rounds differently from a division: do the same to get the same numbers)
    reflected_div = op_cls.op_name == 'div'
    node_name = 'RsubBackward1' if op_cls.op_name == 'sub' else None

    def method(self, other):
        if other.__class__ is not Tensor and other.__class__ not in _PY_SCALARS:
            operand = _operand_or_not_implemented(other)
            if operand is NotImplemented:
                return _declined(method, self, other)
            other = operand
        if reflected_div and other.__class__ is not Tensor:
            return dispatch(ew.BINARY['mul'](), dispatch(ew.UNARY['reciprocal'](), self), other)
        op = op_cls()
        if node_name is not None and other.__class__ is not Tensor:
            op.backward_name = node_name
        return dispatch(op, other, self)
    return method


def _inplace_operator(op_cls):
    def method(self, other):
        if other.__class__ is not Tensor and other.__class__ not in _PY_SCALARS:
            operand = _operand_or_not_implemented(other)
            if operand is NotImplemented:
                return _declined(method, self, other)
            other = operand
        return dispatch_inplace(op_cls(), self, other)
    return method


_OPERATORS = {
    'add': 'add', 'sub': 'sub', 'mul': 'mul', 'truediv': 'div', 'floordiv': 'floor_divide',
    'mod': 'remainder', 'and': 'bitwise_and', 'or': 'bitwise_or', 'xor': 'bitwise_xor',
    'lshift': 'bitwise_left_shift', 'rshift': 'bitwise_right_shift',
}
for _py, _op in _OPERATORS.items():
    _cls = ew.BINARY[_op]
    setattr(Tensor, f'__{_py}__', _forward_operator(_cls))
    setattr(Tensor, f'__r{_py}__', _reflected_operator(_cls))
    setattr(Tensor, f'__i{_py}__', _inplace_operator(_cls))
for _py, _op in (('eq', 'eq'), ('ne', 'ne'), ('lt', 'lt'), ('le', 'le'), ('gt', 'gt'),
                 ('ge', 'ge')):
    setattr(Tensor, f'__{_py}__', _forward_operator(ew.BINARY[_op]))


def _pow_method(self, exponent, modulo=None):
    if modulo is not None:
        return NotImplemented   # pow(t, 2, 5): Python's unsupported-operands TypeError
    if exponent.__class__ is np.ndarray:
        self, exponent = _numpy_promoted(self, exponent)
    exponent = _operand_or_not_implemented(exponent)
    if exponent is NotImplemented:
        return NotImplemented
    return ew.pow(self, exponent)


def _rpow_method(self, base):
    base = _operand_or_not_implemented(base)
    if base is NotImplemented:
        return NotImplemented
    return dispatch(ew.BINARY['pow'](), base, self)


def _ipow_method(self, exponent):
    exponent = as_operand(exponent)
    if exponent.__class__ in _PY_SCALARS:
        return dispatch_inplace(ew._ScalarPow(exponent), self)
    return dispatch_inplace(ew.BINARY['pow'](), self, exponent)


def _matmul_method(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul.matmul(self, other)


def _rmatmul_method(self, other):
    if not isinstance(other, Tensor):
        other = _operand_or_not_implemented(other)
        if other is NotImplemented or not isinstance(other, Tensor):
            return NotImplemented
    return matmul.matmul(other, self)


def _invert(self):
    kind = self._data.dtype.kind
    if kind == 'b':
        return dispatch(ew.UNARY['logical_not'](), self)
    if kind not in 'iu':
        raise TypeError('~ (operator.invert) is only implemented on integer and Boolean-type '
                        'tensors')
    return dispatch(ew.UNARY['bitwise_not'](), self)


Tensor.__pow__ = _pow_method
Tensor.__rpow__ = _rpow_method
Tensor.__ipow__ = _ipow_method
Tensor.__matmul__ = _matmul_method
Tensor.__rmatmul__ = _rmatmul_method
Tensor.__neg__ = lambda self: dispatch(ew.UNARY['neg'](), self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: dispatch(ew.UNARY['abs'](), self)
Tensor.__invert__ = _invert
Tensor.__getitem__ = indexing.getitem
Tensor.__setitem__ = indexing.setitem
Tensor.__reversed__ = lambda self: self.flip(0) if self.dim() else self
def _contains(self, item):
    if not isinstance(item, (Tensor, int, float, bool, complex)):
        raise RuntimeError(f'Tensor.__contains__ only supports Tensor or scalar, but you passed '
                           f'in a {type(item)}.')
    return bool((self == item).any())


Tensor.__contains__ = _contains


# -- elementwise math: x.exp() and x.exp_() ---------------------------------------------------

def _unary_method(op_cls):
    def method(self):
        return dispatch(op_cls(), self)
    return method


def _unary_inplace(op_cls):
    def method(self):
        return dispatch_inplace(op_cls(), self)
    return method


for _name, _cls in ew.UNARY.items():
    if _name in ('special_i1',):
        continue
    setattr(Tensor, _name, _unary_method(_cls))
    if _cls.result != 'bool':
        setattr(Tensor, _name + '_', _unary_inplace(_cls))
_real_abs_ = Tensor.abs_


def _abs_(self):
    if self.is_complex():     # (|z| is real: it cannot be written into a complex tensor)
        raise RuntimeError('In-place abs is not supported for complex tensors.')
    return _real_abs_(self)


Tensor.abs_ = _abs_
Tensor.absolute = Tensor.abs
Tensor.absolute_ = Tensor.abs_
Tensor.negative = Tensor.neg
Tensor.negative_ = Tensor.neg_
Tensor.arcsin, Tensor.arccos, Tensor.arctan = Tensor.asin, Tensor.acos, Tensor.atan
Tensor.arcsinh, Tensor.arccosh, Tensor.arctanh = Tensor.asinh, Tensor.acosh, Tensor.atanh
Tensor.fix, Tensor.fix_ = Tensor.trunc, Tensor.trunc_
Tensor.special_i1 = _unary_method(ew.UNARY['special_i1'])


def _binary_method(name):
    fn = ew.binary(name)
    if name in ew.TENSOR_ONLY:     # (x.atan2(2.0): PyTorch's TypeError names position 1)
        def method(self, other):
            if not isinstance(other, Tensor):
                require_tensor(other, name, 'other', 1)
            return fn(self, other)
    else:
        def method(self, other):
            return fn(self, other)
    method.__name__ = name
    return method


def _binary_inplace(name):
    op_cls = ew.BINARY[name]
    tensor_only = name in ew.TENSOR_ONLY

    def method(self, other):
        if tensor_only and not isinstance(other, Tensor):
            require_tensor(other, name + '_', 'other', 1)
        return dispatch_inplace(op_cls(), self, as_operand(other))
    method.__name__ = name + '_'
    return method


_NO_INPLACE_IN_TORCH = {'maximum', 'minimum', 'fmax', 'fmin', 'logaddexp', 'logaddexp2'}
for _name, _cls in ew.BINARY.items():
    if _name in ('add', 'sub', 'div', 'div_trunc', 'pow'):
        continue
    setattr(Tensor, _name, _binary_method(_name))
    if _name not in _NO_INPLACE_IN_TORCH:
        setattr(Tensor, _name + '_', _binary_inplace(_name))
Tensor.greater, Tensor.greater_equal = Tensor.gt, Tensor.ge
Tensor.less, Tensor.less_equal, Tensor.not_equal = Tensor.lt, Tensor.le, Tensor.ne
Tensor.multiply, Tensor.multiply_ = Tensor.mul, Tensor.mul_
Tensor.arctan2, Tensor.arctan2_ = Tensor.atan2, Tensor.atan2_


def _add(self, other, *, alpha=1):
    return ew.add(self, other, alpha=alpha)


def _add_(self, other, *, alpha=1):
    other = as_operand(other)
    if alpha != 1:
        refuse_partial_overlap(self, other)
        op, _, other = ew.scaled_sum.alpha_form('add', self, other, alpha)
        return dispatch_inplace(op, self, other)
    return dispatch_inplace(ew.BINARY['add'](), self, other)


def _sub(self, other, *, alpha=1):
    return ew.sub(self, other, alpha=alpha)


def _sub_(self, other, *, alpha=1):
    other = as_operand(other)
    if alpha != 1:
        refuse_partial_overlap(self, other)
        op, _, other = ew.scaled_sum.alpha_form('sub', self, other, alpha)
        return dispatch_inplace(op, self, other)
    return dispatch_inplace(ew.BINARY['sub'](), self, other)


def _div(self, other, *, rounding_mode=None):
    return ew.div(self, other, rounding_mode=rounding_mode)


def _div_(self, other, *, rounding_mode=None):
    name = {None: 'div', 'trunc': 'div_trunc', 'floor': 'floor_divide'}[rounding_mode]
    return dispatch_inplace(ew.BINARY[name](), self, as_operand(other))


def _pow_(self, exponent):
    return _ipow_method(self, exponent)


Tensor.add, Tensor.add_, Tensor.sub, Tensor.sub_ = _add, _add_, _sub, _sub_
Tensor.subtract, Tensor.subtract_ = _sub, _sub_
Tensor.div, Tensor.div_ = _div, _div_
Tensor.divide, Tensor.divide_, Tensor.true_divide, Tensor.true_divide_ = _div, _div_, _div, _div_
Tensor.pow, Tensor.pow_ = ew.pow, _pow_
Tensor.float_power = ew.float_power
Tensor.where = lambda self, condition, other: ew.where(condition, self, other)
Tensor.lerp = ew.lerp
Tensor.lerp_ = lambda self, end, weight: dispatch_inplace(ew.Lerp(), self,
                                                          *ew.lerp_operands(self, end, weight))
Tensor.clamp = Tensor.clip = ew.clamp
Tensor.clamp_min, Tensor.clamp_max = ew.clamp_min, ew.clamp_max


def _clamp_(self, min=None, max=None):
    return dispatch_inplace(ew.Clamp(), self, as_operand(min) if min is not None else None,
                            as_operand(max) if max is not None else None)


Tensor.clamp_ = Tensor.clip_ = _clamp_
Tensor.clamp_min_ = lambda self, min: _clamp_(self, min=min)
Tensor.clamp_max_ = lambda self, max: _clamp_(self, max=max)
Tensor.addcmul, Tensor.addcdiv = ew.addcmul, ew.addcdiv


Tensor.addcmul_, Tensor.addcdiv_ = addc.addcmul_, addc.addcdiv_
Tensor.polygamma = lambda self, n: ew.polygamma(n, self)
Tensor.polygamma_ = lambda self, n: dispatch_inplace(parameterised_unary.Polygamma(int(n)), self)
Tensor.ldexp, Tensor.ldexp_, Tensor.frexp = exponents.ldexp, exponents.ldexp_, exponents.frexp
Tensor.scatter_reduce, Tensor.scatter_reduce_ = scatter_reduce.scatter_reduce, \
    scatter_reduce.scatter_reduce_
Tensor.index_reduce, Tensor.index_reduce_ = scatter_reduce.index_reduce, \
    scatter_reduce.index_reduce_


@presents_as('NanToNumBackward0')
def _nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    if self._data.dtype.kind not in _dtype.INEXACT_KINDS:
        return self.clone()
    if self.is_sparse:      # (zero stays zero: the coalesced values alone)
        from .sparse._build import coalesced, values_of, with_values
        c = coalesced(self)
        return with_values(c._data, _nan_to_num(values_of(c), nan, posinf, neginf),
                           'NanToNumBackward0', coalesced=True)
    import numpy as np
    finfo = _dtype.finfo(self._data.dtype)
    posinf = finfo.max if posinf is None else posinf
    neginf = finfo.min if neginf is None else neginf
    out = ew.where(self.isnan(), nan, self)
    out = ew.where(out == float('inf'), posinf, out)
    return ew.where(out == float('-inf'), neginf, out)


Tensor.nan_to_num = _nan_to_num
Tensor.nan_to_num_ = lambda self, nan=0.0, posinf=None, neginf=None: self.copy_(
    _nan_to_num(self, nan, posinf, neginf))


def _positive(self):
    if self._data.dtype.kind == 'b':
        raise RuntimeError('The `+` operator, on a bool tensor is not supported.')
    return self


Tensor.positive = _positive
Tensor.conj = lambda self: self if not self.is_complex() else dispatch(_Conj(), self)
Tensor.resolve_conj = Tensor.resolve_neg = lambda self: self
Tensor.is_conj = Tensor.is_neg = lambda self: False


# complex numbers: real/imag are views of a complex tensor's memory, and settable (copy in)
Tensor.real = property(complex_ops.real, complex_ops.set_real)
Tensor.imag = property(complex_ops.imag, complex_ops.set_imag)
Tensor.angle = lambda self: complex_ops.angle(self)
Tensor.conj_physical = lambda self: complex_ops.conj_physical(self)
Tensor.conj_physical_ = complex_ops.conj_physical_


class _Conj(complex_ops._ConjPhysical):
    """z.conj(): PyTorch's is a lazy view; nbgrad's computes the conjugate (is_conj() is False)."""
    backward_name = 'ConjBackward0'
    op_name = 'conj'


# -- reductions, views, shape, indexing, matrix products -------------------------------------
for _module, _names in (
        (reduction, ('sum', 'nansum', 'mean', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin',
                     'aminmax', 'argmax', 'argmin', 'all', 'any', 'var', 'std', 'logsumexp',
                     'cumsum', 'cumprod', 'softmax', 'log_softmax', 'count_nonzero')),
        (views, ('view', 'reshape', 'transpose', 'swapaxes', 'swapdims', 't', 'permute', 'expand',
                 'expand_as', 'squeeze', 'unsqueeze', 'flatten', 'unflatten', 'movedim',
                 'moveaxis', 'narrow', 'select', 'as_strided', 'unfold', 'diagonal', 'split',
                 'chunk', 'tensor_split', 'unbind', 'view_as', 'reshape_as', 'broadcast_to')),
        (shape, ('flip', 'fliplr', 'flipud', 'roll', 'repeat', 'tile', 'repeat_interleave',
                 'tril', 'triu', 'diag', 'diag_embed', 'diagflat', 'diagonal_scatter',
                 'select_scatter', 'slice_scatter', 'clone', 'contiguous', 'rot90')),
        (indexing, ('gather', 'scatter', 'scatter_', 'scatter_add', 'scatter_add_',
                    'index_select', 'index_add', 'index_add_', 'index_copy', 'index_copy_',
                    'index_fill', 'index_fill_', 'masked_fill', 'masked_fill_', 'masked_select',
                    'masked_scatter', 'masked_scatter_', 'take', 'take_along_dim', 'nonzero',
                    'nonzero_static', 'argwhere', 'index_put', 'index_put_')),
        (matmul, ('matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'outer', 'ger', 'inner', 'kron')),
        (scaled_products, ('addmm', 'addmv', 'baddbmm', 'addbmm', 'addr'))):
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))


def _tril_(self, diagonal=0):
    return dispatch_inplace(shape.Triangle(False, diagonal), self)


def _triu_(self, diagonal=0):
    return dispatch_inplace(shape.Triangle(True, diagonal), self)


Tensor.tril_, Tensor.triu_ = _tril_, _triu_
Tensor.T = property(lambda self: self.permute(tuple(range(self.dim() - 1, -1, -1))))
Tensor.mT = property(lambda self: self.transpose(-2, -1) if self.dim() >= 2 else _mt_error(self))
Tensor.H = property(lambda self: _h(self))
Tensor.mH = property(lambda self: self.mT.conj())
Tensor.adjoint = lambda self: self.mH


def _h(self):
    """x.H: the conjugate transpose of a matrix (PyTorch refuses other ranks; a 0-dim tensor
    is conjugated, with its deprecation warning)."""
    if self.dim() == 2:
        return self.t().conj()
    if self.dim() == 0:
        warn_at_caller('Tensor.H is deprecated on 0-D tensors. Consider using x.conj().')
        return self.conj()
    hint = ' For batches of matrices, consider using tensor.mH' if self.dim() > 2 else ''
    raise RuntimeError(f'tensor.H is only supported on matrices (2-D tensors). Got '
                       f'{self.dim()}-D tensor.{hint}')


def _mt_error(self):
    if self.dim() == 0:
        warn_at_caller('Tensor.mT is deprecated on 0-D tensors. This function is the identity '
                       'in these cases.')
        return self
    raise RuntimeError(f'tensor.mT is only supported on matrices or batches of matrices. Got '
                       f'{self.dim()}-D tensor.')


def _t_(self):
    out = self.t()
    return _adopt_shape(self, out)


def _adopt_shape(self, out):
    """self becomes `out`, a view of it (t_, squeeze_, unsqueeze_, transpose_, as_strided_):
    its data and, when autograd records, its history, so that gradients flow back through the
    view (PyTorch's in-place view ops). On a leaf that requires grad that is refused, as for
    every in-place op."""
    if _dispatch._modes.grad_enabled and self.requires_grad:
        if self._grad_fn is None:
            raise RuntimeError('a leaf Variable that requires grad is being used in an in-place '
                               'operation.')
        self._grad_fn, self._output_nr = out._grad_fn, out._output_nr
    if self._base is not None and out._view_src is not None:
        # self is a view: it is now `out`, the new view op applied to what self was, so a
        # remake of its history (refresh_view) replays both from the base, not the old op alone
        before = Tensor._make(self._data, self._requires_grad, self._grad_fn, self._vc)
        before._base, before._output_nr = self._base, self._output_nr
        before._view_src, before._view_stamp = self._view_src, self._view_stamp
        self._view_src, self._view_stamp = (before, out._view_src[1]), out._view_stamp
    self._data = out._data
    tangent = out.__dict__.get('_fw_tangent')   # (forward AD: out's tangent is the same view)
    if tangent is not None:
        self.__dict__['_fw_tangent'] = tangent
    self._vc[0] += 1     # (an in-place op: a saved copy of self is stale now, as in PyTorch)
    return self


def _squeeze_(self, *dim, **kwargs):
    return _adopt_shape(self, self.squeeze(*dim, **kwargs))


def _unsqueeze_(self, dim):
    return _adopt_shape(self, self.unsqueeze(dim))


def _transpose_(self, dim0, dim1):
    return _adopt_shape(self, self.transpose(dim0, dim1))


def _as_strided_(self, size, stride, storage_offset=None):
    return _adopt_shape(self, self.as_strided(size, stride, storage_offset))


Tensor.t_, Tensor.squeeze_, Tensor.unsqueeze_, Tensor.transpose_, Tensor.as_strided_ = (
    _t_, _squeeze_, _unsqueeze_, _transpose_, _as_strided_)


# -- filling and copying ----------------------------------------------------------------------

class _Fill(ew.Elementwise):
    """x.fill_(v): the old values of x get no gradient; a 0-dim tensor v gets the summed gradient."""
    complex_autograd = True
    backward_name = 'FillBackward0'
    op_name = 'fill'
    overwrites = True
    overlap_checked = False    # (its value is 0-dim, read first, as in PyTorch)

    def forward(self, a, value):
        if hasattr(value, 'ndim') and value.ndim:
            raise RuntimeError(f'fill_ only supports 0-dimension value tensor but got tensor with '
                               f'{value.ndim} dimensions.')
        xp = ew.xp_of(a)
        return xp.full(a.shape, fits(value, a.dtype), dtype=a.dtype)

    def forward_into(self, out, a, value):
        if hasattr(value, 'ndim') and value.ndim:
            return self.forward(a, value)  # raises PyTorch's error for a non-0-dim value
        out[...] = fits(value, out.dtype)
        return out

    def backward(self, g):
        # the old values were overwritten: their gradient is zero (not "none", as in PyTorch)
        return g.new_zeros(g.shape), g.sum() if self._edges[1] is not None else None


class _Copy(ew.Elementwise):
    """x.copy_(src): src broadcast to x's shape and cast to x's dtype."""
    complex_autograd = True
    backward_name = 'CopyBackwards'
    op_name = 'copy'

    def forward(self, a, src):
        xp = ew.xp_of(a)
        if hasattr(src, 'shape'):
            try:
                src = xp.broadcast_to(src, a.shape)
            except ValueError:
                raise RuntimeError(f'The size of tensor a ({a.shape[-1] if a.ndim else 1}) must '
                                   f'match the size of tensor b ({src.shape[-1]}) at non-singleton '
                                   f'dimension {a.ndim - 1} (copy_ of a tensor of shape '
                                   f'{list(src.shape)} into one of shape {list(a.shape)})') from None
        return xp.array(src, dtype=a.dtype, copy=True) if xp is not None else src

    def forward_into(self, out, a, src):
        out[...] = self.forward(a, src) if hasattr(src, 'shape') and src.shape != out.shape \
            else src
        return out

    def backward(self, g):
        return g.new_zeros(g.shape), g if self._edges[1] is not None else None


def fill_(self, value):
    op = _Fill()
    op.backward_name = 'FillBackward3' if isinstance(value, Tensor) else 'FillBackward2'
    return dispatch_inplace(op, self, as_operand(value))


def zero_(self):
    op = _Fill()
    op.backward_name = 'ZeroBackward0'
    return dispatch_inplace(op, self, 0)


def copy_(self, other, non_blocking=False):
    src = other     # (PyTorch's parser names it `other`; its docs say src)
    if not isinstance(src, Tensor):
        src = as_operand(src)
    if isinstance(src, Tensor) and src.device != self.device:
        src = src.to(self.device)
    return dispatch_inplace(_Copy(), self, src)


Tensor.fill_, Tensor.zero_, Tensor.copy_ = fill_, zero_, copy_


# -- conversions ------------------------------------------------------------------------------

_TO_OVERLOADS = (
    'but expected one of:\n'
    ' * (nbgrad.device device = None, nbgrad.dtype dtype = None, bool non_blocking = False, '
    'bool copy = False, *, nbgrad.memory_format memory_format = None)\n'
    ' * (nbgrad.dtype dtype, bool non_blocking = False, bool copy = False, *, '
    'nbgrad.memory_format memory_format = None)\n'
    ' * (Tensor tensor, bool non_blocking = False, bool copy = False, *, nbgrad.memory_format '
    'memory_format = None)\n')


def _bad_to_call(args, kwargs):
    """PyTorch's TypeError for a to() call matching none of its overloads."""
    def word(v):
        if isinstance(v, _dtype.dtype):
            return 'nbgrad.dtype'
        if isinstance(v, _device_cls):
            return 'nbgrad.device'
        return 'Tensor' if isinstance(v, Tensor) else type(v).__name__
    got = ', '.join(word(a) for a in args)
    if kwargs:
        got += (', ' if got else '') + ''.join(f'{k}={word(v)}, ' for k, v in kwargs.items())
    return TypeError(f'to() received an invalid combination of arguments - got ({got}), '
                     f'{_TO_OVERLOADS}')


def _parse_to(args, kwargs):
    given = dict(kwargs)
    device = kwargs.pop('device', None)
    dtype = kwargs.pop('dtype', None)
    copy = kwargs.pop('copy', False)
    kwargs.pop('non_blocking', None)
    memory_format = kwargs.pop('memory_format', None)
    if kwargs or (dtype is not None and not isinstance(dtype, (_dtype.dtype, type))) or \
            sum(isinstance(a, _dtype.dtype) for a in args) + (dtype is not None) > 1:
        raise _bad_to_call(args, given)
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, _dtype.dtype) or (isinstance(a, type) and a in (float, int, bool,
                                                                          complex)):
            dtype = a
        elif isinstance(a, (str, _device_cls, int)) and not isinstance(a, bool):
            if isinstance(a, str) and (a.startswith('torch.') or a.startswith('nbgrad.') or
                                       a in _dtype._BY_NAME):
                # PyTorch reads every string as a device: x.to('float64') is not a dtype there
                raise RuntimeError(f"Invalid device string: '{a}'")
            device = a
        elif isinstance(a, bool):
            continue  # non_blocking / copy positional flags
        else:
            raise TypeError(f'to() received an invalid combination of arguments: {a!r}')
    return (to_device(device) if device is not None else None,
            _dtype.to_dtype(dtype) if dtype is not None else None, copy, memory_format)


def to(self, *args, **kwargs):
    if args == (None,) and not kwargs:
        return self             # x.to(None): nothing to change, as PyTorch
    device, dtype, copy, memory_format = _parse_to(args, kwargs)
    return shape.to_copy(self, dtype, device, copy, memory_format)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return _legacy_type_name(self)
    if isinstance(dtype, type) and getattr(dtype, 'dtype', None) is not None:
        return self.to(dtype.dtype)  # x.type(nbgrad.DoubleTensor)
    if isinstance(dtype, str):
        # 'torch.FloatTensor' / 'torch.cuda.FloatTensor' (our name or PyTorch's); anything else,
        # a dtype's name included, is PyTorch's error
        prefix, _, name = dtype.rpartition('.')
        if prefix not in ('torch', 'torch.cuda', 'nbgrad', 'nbgrad.cuda') or \
                name not in _LEGACY_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        out = self.to(_LEGACY_NAMES[name])
        return out.cuda() if prefix.endswith('.cuda') else out
    if not isinstance(dtype, (_dtype.dtype, type)):
        raise TypeError('dtype must be a type, str, or dtype object')
    return self.to(dtype)


_LEGACY_NAMES = {'FloatTensor': _dtype.float32, 'DoubleTensor': _dtype.float64,
                 'HalfTensor': _dtype.float16, 'LongTensor': _dtype.int64,
                 'IntTensor': _dtype.int32, 'ShortTensor': _dtype.int16,
                 'CharTensor': _dtype.int8, 'ByteTensor': _dtype.uint8,
                 'BoolTensor': _dtype.bool, 'ComplexFloatTensor': _dtype.complex64,
                 'ComplexDoubleTensor': _dtype.complex128,
                 'BFloat16Tensor': _dtype.bfloat16}


def _legacy_type_name(t):
    from .autograd.graph import _type_name
    return _type_name(t._data)


Tensor.to = to
Tensor.type = _type
Tensor.cpu = lambda self, *, memory_format=_preserve_format: self.to(
    'cpu', memory_format=memory_format)


def _cuda(self, device=None, non_blocking=False, *, memory_format=_preserve_format):
    if device is None:
        target = 'cuda'
    elif isinstance(device, int):
        target = f'cuda:{device}'
    else:
        target = device
    return self.to(target, memory_format=memory_format)


Tensor.cuda = _cuda
for _name, _dt in (('float', _dtype.float32), ('double', _dtype.float64), ('half', _dtype.float16),
                   ('long', _dtype.int64), ('int', _dtype.int32), ('short', _dtype.int16),
                   ('char', _dtype.int8), ('byte', _dtype.uint8), ('bool', _dtype.bool),
                   ('cfloat', _dtype.complex64), ('cdouble', _dtype.complex128),
                   ('bfloat16', _dtype.bfloat16)):
    setattr(Tensor, _name, (lambda dt: lambda self, *, memory_format=_preserve_format:
                            self.to(dt, memory_format=memory_format))(_dt))
Tensor.type_as = lambda self, other: self.to(other.dtype)


def _new(kind):
    from . import _creation

    def method(self, *size, dtype=None, layout=None, device=None, requires_grad=False,
               pin_memory=False, **keyword):
        if keyword:     # new_ones(size=(2, 3)), as PyTorch's signature allows
            if set(keyword) != {'size'} or size:
                raise TypeError(f'new_{kind}() got an unexpected keyword argument '
                                f"'{next(k for k in keyword if k != 'size' or size)}'")
            size = (keyword['size'],)
        if layout is None and kind != 'ones' and self.is_sparse:     # (self's layout, as
            layout = sparse_coo                                         # PyTorch's)
        if kind == 'ones' or layout is not sparse_coo:    # (zeros and empty may be sparse)
            check_layout(layout, f'new_{kind}')
        dtype = dtype if dtype is not None else self.dtype
        device = device if device is not None else self.device
        factory = getattr(_creation, kind)
        return factory(*size, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad)
    return method


Tensor.new_zeros = profiled_call('aten::new_zeros')(keeps_input_class(_new('zeros')))
Tensor.new_ones = profiled_call('aten::new_ones')(keeps_input_class(_new('ones')))
Tensor.new_empty = profiled_call('aten::new_empty')(keeps_input_class(_new('empty')))


def _legacy_new(self, *args, device=None):
    """Tensor.new, PyTorch's legacy constructor in self's dtype: new() is empty, new(2, 3) and
    new(Size([2, 3])) are uninitialised of that size, new(sequence) copies the data, and
    new(tensor) aliases a tensor of the same dtype (the modern spellings: new_empty,
    new_tensor)."""
    from . import _creation
    from ._tensor import Size
    device = device if device is not None else self.device
    if not args:
        return _creation.empty(0, dtype=self.dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype != self.dtype or other.device != device:
            raise TypeError(f'new(): expected a tensor of dtype {self.dtype} on {device}, got '
                            f'{other.dtype} on {other.device}; use new_tensor() or .to() to '
                            f'convert')
        return other.detach()
    if len(args) == 1 and isinstance(args[0], Size) or all(
            isinstance(a, int) and not isinstance(a, bool) for a in args):
        return _creation.empty(*args, dtype=self.dtype, device=device)
    if len(args) == 1 and not isinstance(args[0], (bool, int, float, complex, str)):
        return _creation.tensor(args[0], dtype=self.dtype, device=device)
    raise TypeError(f'new(): data must be a sequence (got {type(args[0]).__name__})')


Tensor.new = keeps_input_class(_legacy_new)


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                       pin_memory=False, requires_grad=False):
    from ._creation import empty_strided
    return empty_strided(size, stride, dtype=dtype if dtype is not None else self.dtype,
                         device=device if device is not None else self.device, layout=layout,
                         requires_grad=requires_grad)


Tensor.new_empty_strided = keeps_input_class(_new_empty_strided)


def _new_full(self, size, fill_value, *, dtype=None, layout=None, device=None,
              pin_memory=False, requires_grad=False):
    check_layout(layout, 'new_full')
    if isinstance(size, int) or not isinstance(size, (tuple, list, Tensor)):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f'{type(size).__name__}')
    from ._creation import full
    return full(size, fill_value, dtype=dtype if dtype is not None else self.dtype,
                device=device if device is not None else self.device,
                requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from ._creation import tensor
    if isinstance(data, Tensor):
        data = data.detach()
    return tensor(data, dtype=dtype if dtype is not None else self.dtype,
                  device=device if device is not None else self.device,
                  requires_grad=requires_grad)


Tensor.new_full = profiled_call('aten::new_full')(keeps_input_class(_new_full))
Tensor.new_tensor = keeps_input_class(_new_tensor)


def _apply_(self, callable, /):
    fn = callable
    if self._requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    import numpy as np
    data = self._data
    for index in np.ndindex(data.shape):
        data[index] = fn(data[index].item())
    self._vc[0] += 1
    return self


def _map_(self, other, callable):
    """self[i] = callable(self[i], other[i]) elementwise, other broadcast to self's shape
    (PyTorch's CPU-only map_)."""
    return _map_values(self, 'map_', (other,), callable)


def _map2_(self, x, y, callable):
    """self[i] = callable(self[i], x[i], y[i]) (PyTorch's map2_)."""
    return _map_values(self, 'map2_', (x, y), callable)


def _map_values(self, name, others, fn):
    if self._requires_grad or any(t._requires_grad for t in others):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f'var.detach().{name}() instead.')
    if not self.is_cpu or not all(t.is_cpu for t in others):
        raise TypeError(f'{name}() is only implemented on CPU tensors')
    data = self._data
    arrays = [np.broadcast_to(t._data, data.shape) for t in others]
    for index in np.ndindex(data.shape):
        data[index] = fn(data[index].item(), *(a[index].item() for a in arrays))
    self._vc[0] += 1
    return self


Tensor.apply_ = _apply_
Tensor.map_, Tensor.map2_ = _map_, _map2_
Tensor.const_data_ptr = Tensor.data_ptr
Tensor.unsafe_chunk = lambda self, chunks, dim=0: self.chunk(chunks, dim)
Tensor.unsafe_split = lambda self, split_size, dim=0: self.split(split_size, dim)
