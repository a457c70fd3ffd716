"""Reductions (sum, mean, prod, max/min, var/std, logsumexp, all/any...), scans (cumsum, cumprod)
and softmax/log_softmax."""
import builtins
import math
import functools

import numpy as np

from .._profiled_calls import profiled_call
from .._complex_autograd import conj as _conj
from .._out import accepts_out
from .._user_warning import warn_at_caller
from .. import _dtype
from .._dispatch import dispatch
from .. import _threads
from .._tensor import Tensor
from ..autograd.graph import Node
from ..return_types import return_type
from . import _softmax_cuda
from ._blas_sum import float_sum
from ._util import scan_accumulator, wrap_dims, wrap_dim, xp_of, along_axis
from .views import Expand, View
from .._node_names import presents_as

# This module defines sum/max/min/all/any like torch does; Python's builtins are builtins.max etc.


def _keep_shape(input_shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(input_shape))


def _expand_back(g, input_shape, dims, keepdim):
    """Undo a reduction's shape change on its gradient: re-insert reduced dims, then expand."""
    if not keepdim and input_shape and g._data.ndim:
        g = dispatch(View(_keep_shape(input_shape, dims)), g)
    if g._data.shape == input_shape:
        return g
    return dispatch(Expand(input_shape), g)  # the shapes are valid by construction


def _dims_arg(dim, ndim):
    # PyTorch treats dim=() or [] as "all dims" for sum/mean (a legacy rule kept for compatibility)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return wrap_dims(dim, ndim)


class Reduction(Node):
    contiguous_output = True
    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    @property
    def axis(self):
        return self.dims


class Sum(Reduction):
    complex_autograd = True
    def __init__(self, dims, keepdim, dtype=None):
        self.dims, self.keepdim, self.dtype = dims, keepdim, dtype

    def forward(self, a):
        self._input_shape = a.shape
        dt = self.dtype
        kind = a.dtype.kind
        axis = None if len(self.dims) == a.ndim else self.dims
        if dt is None:
            if kind in 'biu':
                dt = np.int64
            elif a.dtype == np.float16:
                # accumulate half precision in float32, as PyTorch does
                return a.sum(axis=axis, keepdims=self.keepdim, dtype=np.float32).astype(np.float16)
        if dt is None or dt == a.dtype:
            total = float_sum(a, axis, self.keepdim)
            if total is not None:
                return total
        return a.sum(axis=axis, keepdims=self.keepdim, dtype=dt)

    def backward(self, g):
        return _expand_back(g, self._input_shape, self.dims, self.keepdim)

    overload = 1  # see _NotGiven

    def name(self):
        return f'SumBackward{self.overload}'


class Mean(Reduction):
    complex_autograd = True
    def __init__(self, dims, keepdim, dtype=None):
        super().__init__(dims, keepdim)
        self.dtype = dtype

    def forward(self, a):
        if self.dtype is not None:
            a = a.astype(self.dtype)
        if a.dtype.kind not in 'fc':
            raise RuntimeError(f'mean(): could not infer output dtype. Input dtype must be either a '
                               f'floating point or complex dtype. Got: {_word(a.dtype)}')
        self._input_shape = a.shape
        self._count = _count(a.shape, self.dims)
        if a.dtype == np.float16:
            return a.mean(axis=self.dims, keepdims=self.keepdim, dtype=np.float32).astype(np.float16)
        if self._count == 0:
            return xp_of(a).full(_reduced_shape(a.shape, self.dims, self.keepdim), np.nan, a.dtype)
        # what ndarray.mean computes (a sum in a's dtype, then one division), minus its overhead
        axis = None if len(self.dims) == a.ndim else self.dims
        total = float_sum(a, axis, self.keepdim)
        if total is None:
            total = a.sum(axis=axis, keepdims=self.keepdim)
        return xp_of(a).true_divide(total, self._count, dtype=a.dtype)

    def backward(self, g):
        return _expand_back(g / self._count, self._input_shape, self.dims, self.keepdim)

    overload = 1  # see _NotGiven

    def name(self):
        return f'MeanBackward{self.overload}'


_EINSUM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_EINSUM_MIN_SIZE = 4096  # below this NumPy's own reduction is as quick
_CHUNK = 1024  # einsum adds this many elements in ~16 SIMD steps per lane: near pairwise accuracy


def sum_keepdims(xp, a, axes):
    """a.sum(axis=axes, keepdims=True). When the summed dims are the trailing ones of a
    contiguous float32 or float64 NumPy array (softmax over the last dim, layer norm statistics),
    through einsum, whose SIMD loop reads rows about three times as quickly as NumPy's reduction
    (50 us against 150 us for (1024, 1000) float32). Rows longer than _CHUNK are summed chunk by
    chunk, then the chunks' sums in float64: one einsum over a long row loses a few bits (7x
    NumPy's error at 25000 elements, enough to shift a norm's mean visibly); chunked, the error
    stays within 2x NumPy's pairwise summation (and PyTorch's vectorised sums)."""
    axes = tuple(sorted(axes))
    k = len(axes)
    if xp is not np or a.dtype not in _EINSUM_DTYPES or a.size < _EINSUM_MIN_SIZE or \
            axes != tuple(range(a.ndim - k, a.ndim)) or not a.flags.c_contiguous:
        return a.sum(axis=axes, keepdims=True)
    rows = a.reshape(-1, math.prod(a.shape[a.ndim - k:]))
    whole = rows.shape[1] - rows.shape[1] % _CHUNK
    total = np.einsum('ij->i', rows[:, whole:]).astype(np.float64)   # the last partial chunk
    if whole:
        chunks = rows[:, :whole].reshape(rows.shape[0], -1, _CHUNK)
        total += np.einsum('ij->i', np.einsum('ijk->ij', chunks), dtype=np.float64)
    return total.astype(a.dtype).reshape(a.shape[:a.ndim - k] + (1,) * k)


class SoftmaxBackward(Node):
    """(log_)softmax's gradient as one op: log: g - exp(y) * sum(g); softmax: y * (g - sum(g*y))
    (sums over dim). Its own backward (double backward) is written in Tensor ops."""
    saved_inputs = (0, 1)

    def __init__(self, dim, log):
        self.dim, self.log = dim, log

    def forward(self, g, y):
        xp = xp_of(g)
        if g.shape != y.shape:  # a broadcast gradient: no in-place shortcuts
            g = xp.broadcast_to(g, y.shape)
        if y.dtype == np.float16 and g.dtype == np.float16:   # in float32, as the forward
            return self.forward(g.astype(np.float32), y.astype(np.float32)).astype(np.float16)
        if _softmax_cuda.usable(xp, y, self.dim) and g.dtype == y.dtype:   # one launch on CUDA
            out = _softmax_cuda.backward(xp, g, y, self.log)
            if out is not None:
                return out
        # one array of the result's size, computed in place (these are a classifier's largest)
        return _over_row_parts(xp, self.dim, _softmax_backward_into, (g, y), self.log)

    def backward(self, gg):
        g, y = self.saved_tensors
        d = self.dim
        if self.log:
            e = y.exp()
            return (gg - (gg * e).sum(d, keepdim=True),
                    -gg * e * g.sum(d, keepdim=True))
        gy = (gg * y).sum(d, keepdim=True)
        return y * (gg - gy), gg * (g - (g * y).sum(d, keepdim=True)) - g * gy

    def name(self):
        return 'LogSoftmaxBackwardDataBackward0' if self.log else 'SoftmaxBackwardDataBackward0'


def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return _keep_shape(shape, dims)
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _word(np_dtype):
    from .._dispatch import _type_word
    return _type_word(np_dtype)


class Prod(Node):
    """prod over all elements or a dim. Its gradient is PyTorch's prod_backward: result / x
    where no element is zero (a division, so its rounding and NaNs are PyTorch's), and products
    of all the other elements (exclusive cumprods, zero-safe) where some are."""
    complex_autograd = True
    contiguous_output = True
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, dim, keepdim, dtype=None):
        self.dim, self.keepdim, self.dtype = dim, keepdim, dtype

    def forward(self, a):
        dt = self.dtype
        if dt is None and a.dtype.kind in 'biu':
            dt = np.int64
        self._input_shape = a.shape
        return a.prod(axis=self.dim, keepdims=self.keepdim, dtype=dt)

    def backward(self, g):
        (x,) = self.saved_tensors
        result = self.saved_output()
        if g._data.dtype.kind == 'c':   # (holomorphic: the conjugated operands, _complex_autograd)
            x, result = _conj(x), _conj(result)
        if x.dim() == 0:
            return g
        if self.dim is not None and not self.keepdim:
            g, result = g.unsqueeze(self.dim), result.unsqueeze(self.dim)
        if not bool((x == 0).any()):
            return g * (result / x)
        if self.dim is None:
            others = _exclusive_products(x.reshape(-1), 0)
            return (g * others).reshape(self._input_shape)
        return g * _exclusive_products(x, self.dim)

    def name(self):
        return 'ProdBackward0' if self.dim is None else 'ProdBackward1'


def _exclusive_products(x, dim):
    """prod of all elements along dim except the one at each position (no division: zero-safe)."""
    n = x.shape[dim]
    if n == 0:
        return x
    from .shape import cat
    from .._creation import ones_like
    ones = ones_like(x.narrow(dim, 0, 1))        # (not x * 0 + 1: NaN and inf would stay)
    left = ones if n == 1 else cat([ones, x.narrow(dim, 0, n - 1).cumprod(dim)], dim)
    rev = x.flip(dim)
    right = ones if n == 1 else cat([ones, rev.narrow(dim, 0, n - 1).cumprod(dim)], dim)
    return left * right.flip(dim)


class MaxMinAll(Node):
    """max()/min()/amax/amin: the gradient is shared evenly by all elements equal to the result."""
    contiguous_output = True
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, is_max, dims, keepdim, name):
        self.is_max, self.dims, self.keepdim, self.op_name = is_max, dims, keepdim, name

    def forward(self, a):
        if a.dtype.kind == 'c':     # (complex numbers have no order)
            kernel = ('max' if self.is_max else 'min') + (
                '_all' if self.op_name in ('max', 'min') else '_values_cpu')
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(a.dtype)}\'')
        if a.size == 0 and (self.dims is None or builtins.any(a.shape[d] == 0 for d in self.dims)):
            if self.dims is None:
                raise RuntimeError(f"{self.op_name}(): Expected reduction dim to be specified for "
                                   f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                                   f"argument.")
            raise IndexError(f'{self.op_name}(): Expected reduction dim {self.dims[0]} to have '
                             f'non-zero size.')
        self._input_shape = a.shape
        fn = a.max if self.is_max else a.min
        return fn(axis=self.dims, keepdims=self.keepdim)

    def backward(self, g):
        x, = self.saved_tensors
        y = self.saved_output()
        dims = self.dims if self.dims is not None else tuple(range(x.dim()))
        y = _expand_back(y, self._input_shape, dims, self.keepdim)
        g = _expand_back(g, self._input_shape, dims, self.keepdim)
        mask = (x == y)
        if self.op_name in ('max', 'min'):  # (PyTorch's evenly_distribute_backward: a NaN
            mask = mask | (x.isnan() & y.isnan())   # result's gradient goes to the NaNs)
        count = mask.sum(dim=dims, keepdim=True) if dims else 1
        if self.op_name in ('max', 'min'):
            # evenly_distribute_backward: zero off the maxima, even for an infinite gradient
            return (g / count).where(mask, 0.0)
        return g * mask / count     # (amax/amin: scale_grad_by_count, a product, as PyTorch)

    def name(self):
        if self.op_name in ('amax', 'amin'):
            return self.op_name.capitalize() + 'Backward0'
        return ('Max' if self.is_max else 'Min') + 'Backward1'


class MaxMinDim(Node):
    """max(dim)/min(dim) -> (values, indices); the gradient goes to the chosen index only."""
    contiguous_output = True
    num_outputs = 2
    non_differentiable_outputs = (1,)

    def __init__(self, is_max, dim, keepdim, name):
        self.is_max, self.dim, self.keepdim, self.op_name = is_max, dim, keepdim, name

    def forward(self, a):
        if a.dtype.kind == 'c':
            raise NotImplementedError(f'"{"max" if self.is_max else "min"}_cpu" not implemented '
                                      f'for \'{_word(a.dtype)}\'')
        if a.ndim and a.shape[self.dim] == 0:
            raise IndexError(f'{self.op_name}(): Expected reduction dim {self.dim} to have '
                             f'non-zero size.')
        self._input_shape = a.shape
        xp = xp_of(a)
        if a.ndim == 0:
            return a.copy(), xp.zeros((), np.int64)
        idx = (xp.argmax if self.is_max else xp.argmin)(a, axis=self.dim, keepdims=True)
        values = xp.take_along_axis(a, idx, axis=self.dim)
        if not self.keepdim:
            values = values.squeeze(self.dim)
            idx = idx.squeeze(self.dim)
        self._indices = idx
        return values, idx.astype(np.int64, copy=False)

    def backward(self, g, _):
        return dispatch(ScatterInto(self._indices, self.dim, self.keepdim, self._input_shape), g)

    def name(self):
        return ('Max' if self.is_max else 'Min') + 'Backward0'


class ScatterInto(Node):
    """Put each gradient value at its index along `dim` in zeros of the input's shape."""

    def __init__(self, indices, dim, keepdim, shape):
        self.indices, self.dim, self.keepdim, self.shape = indices, dim, keepdim, shape

    def forward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.shape, g.dtype)
        if not self.shape:
            return g.copy()
        idx = self.indices if self.keepdim else xp.expand_dims(self.indices, self.dim)
        gg = g if self.keepdim else xp.expand_dims(g, self.dim)
        out[along_axis(xp, idx, self.dim)] = gg
        return out

    def backward(self, gg):
        idx = self.indices if self.keepdim or not self.shape else \
            xp_of(self.indices).expand_dims(self.indices, self.dim)
        if not self.shape:
            return gg
        out = gg.gather(self.dim, Tensor._make(idx.astype(np.int64)))
        return out if self.keepdim else out.squeeze(self.dim)


class ArgMaxMin(Node):
    contiguous_output = True
    differentiable = False

    def __init__(self, is_max, dim, keepdim):
        self.is_max, self.dim, self.keepdim = is_max, dim, keepdim

    def forward(self, a):
        xp = xp_of(a)
        fn = xp.argmax if self.is_max else xp.argmin
        name = 'argmax' if self.is_max else 'argmin'
        if a.dtype.kind == 'c':
            raise RuntimeError(f'{name}(): does not support complex input')
        if a.size == 0:
            if self.dim is None:
                raise IndexError(f'{name}(): Expected reduction dim to be specified for '
                                 f'input.numel() == 0.')
            if a.shape[self.dim] == 0:
                raise IndexError(f'{name}(): Expected reduction dim {self.dim} to have non-zero '
                                 f'size.')
            shape = tuple(1 if d == self.dim else n for d, n in enumerate(a.shape)) \
                if self.keepdim else a.shape[:self.dim] + a.shape[self.dim + 1:]
            return xp.zeros(shape, np.int64)     # (empty: the other dims hold none)
        if self.dim is None:
            out = fn(a)
            if self.keepdim:
                out = xp.asarray(out).reshape((1,) * a.ndim)
            return xp.asarray(out, dtype=np.int64)
        return fn(a, axis=self.dim, keepdims=self.keepdim).astype(np.int64, copy=False)


class AllAny(Node):
    contiguous_output = True
    differentiable = False

    def __init__(self, is_all, dims, keepdim):
        self.is_all, self.dims, self.keepdim = is_all, dims, keepdim

    def forward(self, a):
        fn = a.all if self.is_all else a.any
        out = fn(axis=self.dims, keepdims=self.keepdim)
        return out.astype(np.uint8) if a.dtype == np.uint8 else out


class VarStd(Node):
    # complex input, real result: var = (|x - mean|^2 summed) / dof, whose gradient in PyTorch's
    # convention is 2 (x - mean) / dof times the (real) g, the formula below as it stands
    complex_autograd = True
    contiguous_output = True
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, dims, correction, keepdim, is_std):
        self.dims, self.correction, self.keepdim, self.is_std = dims, correction, keepdim, is_std

    def forward(self, a):
        if a.dtype.kind not in 'fc':
            raise RuntimeError(f'{"std" if self.is_std else "var"}(): input dtype should be either '
                               f'floating point or complex. Got {_word(a.dtype)} instead.')
        self._input_shape = a.shape
        n = _count(a.shape, self.dims)
        self._dof = n - self.correction
        if self._dof <= 0:
            warn_at_caller(f'{"std" if self.is_std else "var"}(): degrees of freedom is <= 0. '
                           f'Correction should be strictly less than the reduction factor '
                           f'(input numel divided by output numel).')
        xp = xp_of(a)
        result_dtype = a.dtype.type(0).real.dtype
        if xp is np and a.dtype.itemsize < (16 if a.dtype.kind == 'c' else 8):
            # PyTorch's CPU kernel accumulates float32 (and half) in double: the same accuracy
            # (1e20-sized values would also overflow float32 once squared)
            a = a.astype(np.complex128 if a.dtype.kind == 'c' else np.float64)
        if a.dtype.kind == 'c':
            # PyTorch: var(real part) + var(imag part), each divided by the degrees of freedom
            # (so with none, a part that is constant contributes 0 / 0 = NaN)
            var = self._real_var(a.real) + self._real_var(a.imag)
        else:
            var = self._real_var(a)
        return xp.asarray(xp.sqrt(var) if self.is_std else var).astype(result_dtype, copy=False)

    def _real_var(self, a):
        centered = a - a.mean(axis=self.dims, keepdims=True)
        return (centered * centered).sum(axis=self.dims, keepdims=self.keepdim) / \
            builtins.max(self._dof, 0)

    def backward(self, g):
        (x,) = self.saved_tensors
        centered = x - x.mean(dim=self.dims, keepdim=True)
        g = _expand_back(g, self._input_shape, self.dims, self.keepdim)
        if self.is_std:
            std = _expand_back(self.saved_output(), self._input_shape, self.dims, self.keepdim)
            # PyTorch's std_backward: no gradient where the std is 0 (a constant row)
            if self._dof > 0:
                return (g / (std * self._dof)).masked_fill(std == 0, 0) * centered
            # without degrees of freedom: var_backward of g / (2 std), as PyTorch computes it
            g = (g / (2 * std)).masked_fill(std == 0, 0)
        if self._dof > 0:
            return g * centered * (2.0 / self._dof)
        if len(self.dims) == x.dim():
            # PyTorch's var_backward without degrees of freedom over all elements: "2 / 0 =
            # inf" times the centred value, NaN where that is 0 and +inf elsewhere (real, also
            # for a complex input: inf + 0j, nan + 0j)
            return g * g.new_full(centered.shape, math.inf).masked_fill(centered == 0, math.nan)
        return g * centered * (2.0 / self._dof if self._dof else math.inf)

    def name(self):
        return ('Std' if self.is_std else 'Var') + 'Backward0'


class LogSumExp(Node):
    complex_autograd = True      # holomorphic: g * conj(exp(x - y))
    contiguous_output = True
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def name(self):
        return 'LogsumexpBackward0'   # PyTorch's spelling (one word)

    def forward(self, a):
        if a.dtype.kind in 'biu':
            a = a.astype(_dtype.get_default_dtype().np)
        self._input_shape = a.shape
        xp = xp_of(a)
        if a.size == 0:
            return xp.log(xp.exp(a).sum(axis=self.dims, keepdims=self.keepdim))
        # shift by the largest real part, as PyTorch does for complex input too (a complex shift
        # would move the result's imaginary part off the principal branch of log)
        m = (a.real if a.dtype.kind == 'c' else a).max(axis=self.dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(a - m).sum(axis=self.dims, keepdims=True)) + m
        return out if self.keepdim else out.squeeze(self.dims)

    def backward(self, g):
        (x,) = self.saved_tensors
        y = _expand_back(self.saved_output(), self._input_shape, self.dims, self.keepdim)
        return _expand_back(g, self._input_shape, self.dims, self.keepdim) * _conj((x - y).exp())


class _Scan(Node):
    """cumsum/cumprod: integers accumulate in int64, as in PyTorch."""
    contiguous_output = True
    function = None  # 'cumsum' or 'cumprod'

    def __init__(self, dim, dtype=None):
        self.dim, self.dtype = dim, dtype

    def forward(self, a):
        dt = self.dtype
        if dt is None and a.dtype.kind in 'biu':
            dt = np.int64
        if a.ndim == 0:
            return a.astype(dt or a.dtype)
        xp = xp_of(a)
        wide = scan_accumulator(xp, dt or a.dtype)
        if wide is None:
            return getattr(xp, self.function)(a, axis=self.dim, dtype=dt)
        if dt is not None and a.dtype != dt:   # PyTorch casts to dtype, then scans
            a = a.astype(dt)
        return getattr(xp, self.function)(a, axis=self.dim, dtype=wide).astype(a.dtype)

    def name(self):
        return self.function.capitalize() + 'Backward0'     # CumsumBackward0, CumprodBackward0


class CumSum(_Scan):
    complex_autograd = True
    function = 'cumsum'

    def backward(self, g):
        if g.dim() == 0:
            return g
        return g.flip(self.dim).cumsum(self.dim).flip(self.dim)


class CumProd(_Scan):
    # holomorphic: with the input and output conjugated, the real formulas below give PyTorch's
    # sum over i >= k of g_i * conj(d y_i / d x_k)
    complex_autograd = True
    function = 'cumprod'
    saved_inputs = (0,)
    saves_output = True

    def backward(self, g):
        (x,) = self.saved_tensors
        if x.dim() == 0:
            return g
        d = self.dim
        complex_grad = g._data.dtype.kind == 'c'
        x = _conj(x) if complex_grad else x
        if not bool((x == 0).any()):
            y = self.saved_output()
            y = _conj(y) if complex_grad else y
            return (g * y).flip(d).cumsum(d).flip(d) / x
        # With zeros, d y_i / d x_k = prod_{j <= i, j != k} x_j: build it column by column.
        n = x.shape[d]
        columns = []
        for k in range(n):
            left = x.narrow(d, 0, k).prod(d, keepdim=True) if k else None
            tail = x.narrow(d, k + 1, n - k - 1)
            partial = tail.cumprod(d) if n - k - 1 else None
            total = g.narrow(d, k, 1)
            if partial is not None:
                total = total + (g.narrow(d, k + 1, n - k - 1) * partial).sum(d, keepdim=True)
            columns.append(total * left if left is not None else total)
        from .shape import cat
        return cat(columns, d)


def _softmax_into(xp, dim, a, log, out):
    """(log_)softmax of a along dim into out, in place where possible: these are a classifier's
    largest arrays."""
    xp.subtract(a, a.max(axis=dim, keepdims=True), out=out)
    if log:  # (x - max) - log(sum(exp(x - max))), in PyTorch's order
        out -= xp.log(sum_keepdims(xp, xp.exp(out), (dim,)))
        return
    xp.exp(out, out=out)
    out /= sum_keepdims(xp, out, (dim,))


def _softmax_backward_into(xp, dim, g, y, log, out):
    """(log_)softmax's gradient along dim into out: log: g - exp(y) * sum(g);
    softmax: y * (g - sum(g * y))."""
    if log:
        xp.exp(y, out=out)
        out *= sum_keepdims(xp, g, (dim,))
        xp.subtract(g, out, out=out)
        return
    xp.multiply(g, y, out=out)
    xp.subtract(g, sum_keepdims(xp, out, (dim,)), out=out)
    out *= y


def _over_row_parts(xp, dim, kernel, arrays, *args):
    """kernel(xp, dim, *arrays, *args, out) into a new array shaped like arrays[-1]; over the
    last dim of large C-ordered NumPy arrays, the rows cut into parts on the worker threads
    (each row's result is the same either way)."""
    first = arrays[-1]
    out = xp.empty(first.shape, xp.result_type(*arrays))
    n = first.shape[-1] if first.ndim else 1
    if xp is not np or dim != first.ndim - 1 or \
            not builtins.all(a.flags.c_contiguous for a in arrays) or \
            first.size < _threads.PARALLEL_MIN_ELEMENTS:
        kernel(xp, dim, *arrays, *args, out)
        return out
    rows = [a.reshape(-1, n) for a in arrays]
    flat_out = out.reshape(-1, n)

    def part(block):
        kernel(xp, 1, *[r[block] for r in rows], *args, flat_out[block])
    _threads.run_parts(part, _threads.row_parts(flat_out.shape[0], n))
    return out


class Softmax(Node):
    saves_output = True

    def __init__(self, dim, log):
        self.dim, self.log = dim, log

    def forward(self, a):
        if a.dtype.kind in 'biu':
            raise NotImplementedError(f'"{"log_softmax" if self.log else "softmax"}" not '
                                      f"implemented for '{_word(a.dtype)}'")
        if a.dtype.kind == 'c':
            raise NotImplementedError(f'"{"log_softmax" if self.log else "softmax"}_lastdim_'
                                      f"kernel_impl\" not implemented for '{_word(a.dtype)}'")
        xp = xp_of(a)
        if a.dtype == np.float16:   # PyTorch computes in float32 (its opmath type), rounds once
            return self.forward(a.astype(np.float32)).astype(np.float16)
        if a.ndim == 0:
            return xp.zeros_like(a) if self.log else xp.ones_like(a)
        if a.size == 0:
            return xp.empty_like(a)
        if _softmax_cuda.usable(xp, a, self.dim):   # one launch on CUDA
            out = _softmax_cuda.forward(xp, a, self.log)
            if out is not None:
                return out
        return _over_row_parts(xp, self.dim, _softmax_into, (a,), self.log)

    def backward(self, g):
        y = self.saved_output()
        if y.dim() == 0:
            return g * 0
        return dispatch(SoftmaxBackward(self.dim, self.log), g, y)

    def name(self):
        return 'LogSoftmaxBackward0' if self.log else 'SoftmaxBackward0'


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def _np_dtype(dtype):
    return _dtype.to_dtype(dtype).np if dtype is not None else None


def _cast_input(input, dtype):
    return input if dtype is None else input.to(_dtype.to_dtype(dtype))


class _NotGiven:
    """The default of sum's and mean's dim: PyTorch names the node ...Backward1 as soon as a dim
    is passed, even None, and ...Backward0 otherwise."""

    def __repr__(self):
        return 'None'


_NOT_GIVEN = _NotGiven()


def _tensor_argument(name, input):
    """PyTorch's parser's TypeError for a non-Tensor input (a list, a NumPy array)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def sum(input, dim=_NOT_GIVEN, keepdim=False, *, dtype=None):
    _tensor_argument('sum', input)
    given = dim is not _NOT_GIVEN
    dims = _dims_arg(dim if given else None, input._data.ndim)
    op = Sum(dims, keepdim, _np_dtype(dtype))
    op.overload = int(given)
    return dispatch(op, input)


@presents_as('NansumBackward0')
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if input.is_complex():
        raise RuntimeError('nansum on CPU does not support complex inputs')
    # (masked_fill, not nan_to_num: infinities keep their gradient of 1, as in PyTorch)
    return sum(input.masked_fill(input.isnan(), 0.0)
               if input.is_floating_point() else input, dim, keepdim, dtype=dtype)


def mean(input, dim=_NOT_GIVEN, keepdim=False, *, dtype=None):
    _tensor_argument('mean', input)
    given = dim is not _NOT_GIVEN
    op = Mean(_dims_arg(dim if given else None, input._data.ndim), keepdim, _np_dtype(dtype))
    op.overload = int(given)
    return dispatch(op, input)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    # (dtype= too: PyTorch checks the input)
    if input._data.dtype.kind not in _dtype.INEXACT_KINDS:
        raise RuntimeError(f'nanmean(): expected input to have floating point or complex dtype '
                           f'but got {_word(input._data.dtype)}')
    not_nan = ~input.isnan()
    return nansum(input, dim, keepdim, dtype=dtype) / not_nan.sum(dim, keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = None if dim is None else wrap_dim(dim, input._data.ndim)
    return dispatch(Prod(d, keepdim, _np_dtype(dtype)), input)


def _max_min(is_max, name):
    def fn(input, dim=None, keepdim=False, *, out=None):
        _tensor_argument(name, input)
        if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
            from .elementwise import BINARY
            return dispatch(BINARY['maximum' if is_max else 'minimum'](), input, dim)
        if dim is None:
            return dispatch(MaxMinAll(is_max, None, False, name), input)
        d = wrap_dim(dim, input._data.ndim)
        values, indices = dispatch(MaxMinDim(is_max, d, keepdim, name), input)
        return return_type(name, values, indices)
    fn.__name__ = fn.__qualname__ = name
    with_out = accepts_out(fn)
    with_exact_out = accepts_out(fn, exact_dtype='c')

    def entry(input, dim=None, keepdim=False, *, out=None):
        # (out= of the dim form, values and indices, must have their dtypes exactly, as in
        # PyTorch; the full reduction's and max(a, b)'s cast into out's dtype)
        exact = out is not None and dim is not None and not isinstance(dim, Tensor)
        return (with_exact_out if exact else with_out)(input, dim, keepdim, out=out)
    return functools.wraps(with_out)(entry)


max = _max_min(True, 'max')
min = _max_min(False, 'min')


def amax(input, dim=(), keepdim=False):
    return _amax_amin(True, 'amax', input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    return _amax_amin(False, 'amin', input, dim, keepdim)


def _amax_amin(is_max, name, input, dim, keepdim):
    dims = _dims_arg(dim, input._data.ndim)
    if dim == () or dim == []:  # every dim: an empty input has no reduction dim to name
        dims = None if input._data.size == 0 else dims
    return dispatch(MaxMinAll(is_max, dims, keepdim, name), input)


@presents_as('AminmaxBackward0')
def aminmax(input, *, dim=None, keepdim=False):
    if dim is None and input._data.size == 0:
        raise RuntimeError('aminmax(): cannot compute aminmax over an empty dimension as the '
                           'operation has no identity.')
    if input.is_complex():
        raise NotImplementedError(f'"aminmax_cpu" not implemented for '
                                  f'\'{_word(input._data.dtype)}\'')
    return return_type('aminmax', amin(input, dim if dim is not None else (), keepdim),
                       amax(input, dim if dim is not None else (), keepdim))


def argmax(input, dim=None, keepdim=False):
    _refuse_bool('argmax', input)
    d = None if dim is None else wrap_dim(dim, input._data.ndim)
    return dispatch(ArgMaxMin(True, d, keepdim), input)


def argmin(input, dim=None, keepdim=False):
    _refuse_bool('argmin', input)
    d = None if dim is None else wrap_dim(dim, input._data.ndim)
    return dispatch(ArgMaxMin(False, d, keepdim), input)


def _refuse_bool(name, input):
    if input._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}(): does not support bool input')


def all(input, dim=None, keepdim=False):
    dims = None if dim is None else wrap_dims(dim, input._data.ndim)
    return dispatch(AllAny(True, dims, keepdim), input)


def any(input, dim=None, keepdim=False):
    dims = None if dim is None else wrap_dims(dim, input._data.ndim)
    return dispatch(AllAny(False, dims, keepdim), input)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_std(is_std):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):  # var(unbiased) positional form
            unbiased, dim = dim, None
        dims = _dims_arg(dim, input._data.ndim)
        return dispatch(VarStd(dims, _correction(unbiased, correction), keepdim, is_std), input)
    fn.__name__ = fn.__qualname__ = 'std' if is_std else 'var'
    return fn


var = _var_std(False)
std = _var_std(True)


@presents_as('VarMeanBackward0')
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var_mean(x, unbiased) positional form
        unbiased, dim = dim, None
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


@presents_as('StdMeanBackward0')
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # std_mean(x, unbiased) positional form
        unbiased, dim = dim, None
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    dims = _dims_arg(dim, input._data.ndim)
    return dispatch(LogSumExp(dims, keepdim), input)


def cumsum(input, dim, *, dtype=None):
    return dispatch(CumSum(wrap_dim(dim, input._data.ndim), _np_dtype(dtype)), input)


def cumprod(input, dim, *, dtype=None):
    return dispatch(CumProd(wrap_dim(dim, input._data.ndim), _np_dtype(dtype)), input)


@profiled_call('aten::softmax')
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input = _cast_input(input, dtype)
    return dispatch(Softmax(_softmax_dim(input, dim, 'softmax'), False), input)


@profiled_call('aten::log_softmax')
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input = _cast_input(input, dtype)
    return dispatch(Softmax(_softmax_dim(input, dim, 'log_softmax'), True), input)


def _softmax_dim(input, dim, name):
    if dim is None:
        ndim = input._data.ndim
        warn_at_caller(f'Implicit dimension choice for {name} has been deprecated. Change the '
                       f'call to include dim=X as an argument.')
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, input._data.ndim)


def count_nonzero(input, dim=None):
    return sum(input != 0, dim)
