"""Tensor methods whose PyTorch form differs from the shared torch-level function (their own
parameter names, kinds or defaults), the in-place forms PyTorch has for them, and the small
methods only Tensor has (dim_order, split_with_sizes, narrow_copy, igamma...). Loaded after
_tensor_methods, whose methods some of these wrap."""
from . import _dtype
from ._dispatch import dispatch, dispatch_inplace, no_kernel
from ._layout import strided as _strided
from ._memory_format import channels_last as _channels_last
from ._memory_overlap import refuse_partial_overlap
from ._tensor import Tensor
from ._tensor_methods import _div, _div_, _nan_to_num, _transpose_
from .ops import elementwise as ew, matmul, reduction, scaled_products, shape, views
from .ops._util import as_operand

def _store(self, name, result):
    """self.copy_(result) for the x.f_() forms computed out of place: PyTorch's in-place rule
    first, that the result's dtype casts to self's (an integer tensor takes no float result),
    where copy_ alone would cast anything."""
    from ._dispatch import _check_cast
    _check_cast(result._data.dtype, self._data.dtype, name)
    return self.copy_(result)


def _refuse_bool_scan(self, kernel):
    if self._data.dtype.kind == 'b':   # (their out-of-place forms give int64: no bool kernel)
        raise no_kernel(kernel, 'bool')
    return self


def _nan_to_num_method(self, nan=None, posinf=None, neginf=None):
    return _nan_to_num(self, 0.0 if nan is None else nan, posinf, neginf)


Tensor.nan_to_num = _nan_to_num_method
Tensor.nan_to_num_ = lambda self, nan=None, posinf=None, neginf=None: self.copy_(
    _nan_to_num_method(self, nan, posinf, neginf))
Tensor.round = lambda self, *, decimals=None: _functions().round(self, decimals=decimals)
Tensor.round_ = lambda self, *, decimals=None: _store(self, 'round', self.round(decimals=decimals))
Tensor.logit = lambda self, eps=None: _functions().logit(self, eps)
Tensor.logit_ = lambda self, eps=None: _store(self, 'logit', self.logit(eps))
Tensor.true_divide = lambda self, other: _div(self, other)
Tensor.true_divide_ = lambda self, other: _div_(self, other)
Tensor.dot = lambda self, tensor: matmul.dot(self, tensor)
Tensor.swapaxes = lambda self, axis0, axis1: views.transpose(self, axis0, axis1)
Tensor.swapaxes_ = lambda self, axis0, axis1: _transpose_(self, axis0, axis1)
Tensor.swapdims_ = lambda self, dim0, dim1: _transpose_(self, dim0, dim1)
Tensor.broadcast_to = lambda self, *size: views.expand(self, *size)
Tensor.split = lambda self, split_size, dim=0: views.split(self, split_size, dim)
Tensor.tile = lambda self, *dims: shape.tile(
    self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)
Tensor.softmax = lambda self, dim, dtype=None: reduction.softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: reduction.log_softmax(self, dim, dtype)


def _hardshrink(self, lambd=0.5):
    from .nn import functional
    return functional.hardshrink(self, lambd)


def _prelu(self, weight):
    from .nn import functional
    return functional.prelu(self, weight)


Tensor.hardshrink, Tensor.prelu = _hardshrink, _prelu


def _functions():
    from . import _functions as f
    return f


def _inplace_from(name):
    def method(self, *args, **kwargs):
        refuse_partial_overlap(self, *args)
        return _store(self, name, getattr(self, name)(*args, **kwargs))
    method.__name__ = method.__qualname__ = name + '_'
    return method


# x.f_() for the methods _functions attaches (its end: Tensor.trace is nbgrad.trace, ...)
for _name in ('deg2rad', 'rad2deg', 'gcd', 'lcm', 'heaviside'):
    setattr(Tensor, _name + '_', _inplace_from(_name))
Tensor.greater_, Tensor.greater_equal_ = Tensor.gt_, Tensor.ge_
Tensor.less_, Tensor.less_equal_, Tensor.not_equal_ = Tensor.lt_, Tensor.le_, Tensor.ne_
Tensor.logical_not_ = lambda self: self.copy_(self.logical_not())
Tensor.cumsum_ = lambda self, dim, *, dtype=None: _refuse_bool_scan(self, 'cumsum_out_cpu').copy_(
    self.cumsum(dim, dtype=dtype))
Tensor.cumprod_ = lambda self, dim, *, dtype=None: _refuse_bool_scan(self, 'cumprod_out_cpu').copy_(
    self.cumprod(dim, dtype=dtype))
Tensor.addmm_ = lambda self, mat1, mat2, *, beta=1, alpha=1: self.copy_(
    scaled_products.addmm(_source_of_inplace(self), mat1, mat2, beta=beta, alpha=alpha))
Tensor.addbmm_ = lambda self, batch1, batch2, *, beta=1, alpha=1: self.copy_(
    scaled_products.addbmm(_source_of_inplace(self), batch1, batch2, beta=beta, alpha=alpha))
Tensor.baddbmm_ = lambda self, batch1, batch2, *, beta=1, alpha=1: self.copy_(
    scaled_products.baddbmm(_source_of_inplace(self), batch1, batch2, beta=beta, alpha=alpha))
Tensor.addr_ = lambda self, vec1, vec2, *, beta=1, alpha=1: refuse_partial_overlap(
    self, vec1, vec2) or self.copy_(scaled_products.addr(_source_of_inplace(self), vec1, vec2, beta=beta, alpha=alpha))
Tensor.is_inference = lambda self: self._inference
Tensor.layout = property(lambda self: _strided)     # every nbgrad tensor is dense


def _sum_to_size(self, *size):
    """The sum of self over the dimensions that broadcasting `size` to self's shape expands."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    have = tuple(self.shape)
    lead = len(have) - len(size)
    if lead < 0 or any(s != 1 and s != have[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f'size {{{list(size)}}} is not expandable to size {{{list(have)}}}.')
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and have[lead + i] != 1)
    out = self.sum(dims, keepdim=True) if dims else self
    return out.reshape(size) if lead else out


Tensor.sum_to_size = _sum_to_size


def _dims_method(fn):
    """x.f(0, 1) as x.f((0, 1)): PyTorch's methods taking a dim list take it spread out too."""
    def method(self, *dim, **kwargs):
        if 'dim' in kwargs:
            return fn(self, **kwargs)
        if not dim:
            return fn(self, **kwargs)
        return fn(self, dim[0] if len(dim) == 1 else dim, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__
    return method


Tensor.squeeze = _dims_method(views.squeeze)
Tensor.count_nonzero = _dims_method(reduction.count_nonzero)


# -- small methods PyTorch has: in-place aliases, float_power_, addmv_, dim_order -------------
Tensor.arcsin_, Tensor.arccos_, Tensor.arctan_ = Tensor.asin_, Tensor.acos_, Tensor.atan_
Tensor.arcsinh_, Tensor.arccosh_, Tensor.arctanh_ = Tensor.asinh_, Tensor.acosh_, Tensor.atanh_


def _float_power_(self, exponent):
    """In place, so self must already have float_power's result dtype (float64, or complex128
    when either operand is complex)."""
    exponent = as_operand(exponent)
    complex_result = self.is_complex() or (exponent.is_complex() if isinstance(exponent, Tensor)
                                           else isinstance(exponent, complex))
    result = _dtype.complex128 if complex_result else _dtype.float64
    if self.dtype != result:
        from ._dispatch import _type_word
        raise RuntimeError(f'the base given to float_power_ has dtype '
                           f'{_type_word(self._data.dtype)} but the operation\'s result requires '
                           f'dtype {_type_word(result.np)}')
    return self.copy_(ew.float_power(_source_of_inplace(self), exponent))


def _source_of_inplace(self):
    """self, or a copy of it where an op computed from self and then copied into it (x.f_() as
    x.copy_(f(x))) would overwrite a value that f saved for backward."""
    from .autograd import is_grad_enabled
    return self.clone() if self._requires_grad and is_grad_enabled() else self


Tensor.float_power_ = _float_power_
Tensor.addmv_ = lambda self, mat, vec, *, beta=1, alpha=1: self.copy_(
    scaled_products.addmv(_source_of_inplace(self), mat, vec, beta=beta, alpha=alpha))


def _dim_order(self, *, ambiguity_check=False):
    """The dimensions from outermost to innermost in memory (PyTorch's Tensor.dim_order, from
    torch._prims_common.compute_elementwise_output_logical_to_physical_perm)."""
    import itertools
    from ._memory_format import memory_format as _memory_format_cls
    message = 'The ambiguity_check argument must be a bool or a list of memory formats.'
    if not isinstance(ambiguity_check, bool):
        if not isinstance(ambiguity_check, list) or not all(
                isinstance(m, _memory_format_cls) for m in ambiguity_check):
            raise TypeError(message)
    sizes, strides = tuple(self.shape), self.stride()
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    check = ambiguity_check if isinstance(ambiguity_check, bool) else True
    multiple = any(a == b for a, b in itertools.pairwise(strides)) or any(s == 1 for s in sizes)
    if check and multiple and sum(bool(self.is_contiguous(memory_format=m))
                                  for m in formats) != 1:
        raise RuntimeError('The tensor does not have unique dim order, or cannot map to exact one '
                           'of the given memory formats.')
    ndim = len(sizes)
    if ndim == 0:
        return ()
    if ndim == 1:
        return (0,)

    def ge(a, b):
        return True if b == 0 else False if a == 0 else (a >= b or a % b == 0)

    def should_swap(a, b):
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:
            return 0 if ge(sizes[b], sizes[a]) else 1
        if ge(sb, sa):
            return -1
        if ge(sa, sb):
            return 1
        return 0

    contiguous = self.is_contiguous()
    channels_last = ndim == 4 and self.is_contiguous(memory_format=_channels_last)
    if contiguous and not channels_last:
        return tuple(range(ndim))
    if channels_last and not contiguous:
        return (0, *range(2, ndim), 1)
    perm = list(reversed(range(ndim)))
    for i in range(1, ndim):
        dim1 = i
        for dim0 in reversed(range(i)):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    if ambiguity_check and any(should_swap(perm[i], perm[i + 1]) != -1
                               for i in range(ndim - 1)):
        raise RuntimeError('The tensor does not have unique dim order.')
    return tuple(reversed(perm))


Tensor.dim_order = _dim_order


def _split_with_sizes(self, split_sizes, dim=0):
    if not isinstance(split_sizes, (tuple, list)) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in split_sizes):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of "
                        f'ints, not {type(split_sizes).__name__}')
    if any(s < 0 for s in split_sizes):
        raise RuntimeError(f'split_with_sizes expects split_sizes have only non-negative entries, '
                           f'but got split_sizes={list(split_sizes)}')
    return views.split(self, list(split_sizes), dim)


def _narrow_copy(self, dim, start, length):
    # PyTorch 2.13 checks a dim past the end first (a RuntimeError), then wraps negative ones
    # (IndexError below -ndim)
    if dim >= max(self.dim(), 1):
        raise RuntimeError(f'narrow_copy(): dim {dim} is out of range for a tensor with '
                           f'{self.dim()} dimensions')
    from .ops._util import wrap_dim
    wrap_dim(dim, self.dim())
    return views.narrow(self, dim, start, length).clone()


def _mvlgamma(self, p):
    from .special import multigammaln
    return multigammaln(self, p)


def _mvlgamma_(self, p):
    if self._data.dtype.kind not in _dtype.INEXACT_KINDS:
        from ._dispatch import _type_word
        raise RuntimeError(f"mvlgamma: result type {_type_word(self._data.dtype)} can't be cast "
                           f'to the desired output type '
                           f'{_type_word(_dtype.get_default_dtype().np)}')
    return self.copy_(_mvlgamma(_source_of_inplace(self), p))


Tensor.split_with_sizes = _split_with_sizes
Tensor.narrow_copy = _narrow_copy
Tensor.mvlgamma, Tensor.mvlgamma_ = _mvlgamma, _mvlgamma_





def _igamma_methods():
    """Tensor.igamma/igammac and their in-place forms (PyTorch: other must be a Tensor)."""
    from .ops import gamma_zeta

    def make(name, cls):
        def check(other):
            if not isinstance(other, Tensor):
                raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not "
                                f'{type(other).__name__}')

        def method(self, other):
            check(other)
            return dispatch(cls(), self, other)

        def inplace(self, other):
            check(other)
            return dispatch_inplace(cls(), self, other)
        method.__name__, inplace.__name__ = name, name + '_'
        setattr(Tensor, name, method)
        setattr(Tensor, name + '_', inplace)
    make('igamma', gamma_zeta.Igamma)
    make('igammac', gamma_zeta.Igammac)


_igamma_methods()
