"""scatter_reduce and index_reduce: src's values combined into a copy of self at index's
positions by a sum, product, mean, maximum or minimum, with or without self's own values
(include_self), as PyTorch does; one graph node with PyTorch's gradients (a maximum or minimum
shared evenly among ties, products with zeros handled as in PyTorch's scatter_reduce_backward).

index_reduce(dim, index, source) is scatter_reduce with the 1-D index spread over source's shape
(each slice of source along dim goes to the slice of self that index names), so both run here.
On CUDA, sum and mean add with CuPy's scatter_add, float amax/amin run one compare-and-swap kernel
(_scatter_minmax_cuda: NaN-propagating, order-independent) and integer ones cupyx.scatter_max/min;
prod has no CuPy counterpart and raises there.
"""
import builtins

import numpy as np

from .._dispatch import _type_word, dispatch, dispatch_inplace, no_kernel
from .._dtype import int32, int64
from ..autograd.graph import Node
from . import _scatter_minmax_cuda
from ._util import along_axis, out_of_bounds, wrap_dim, xp_of
from ._scatter_shapes import check_index_dtype, check_scatter_shapes, nonempty
from .views import _index_add_at, _scatter_add_at

REDUCTIONS = ('sum', 'prod', 'mean', 'amax', 'amin')


def _identity(reduce, dtype):
    """What a position holds before the first value arrives when self is left out."""
    if reduce in ('sum', 'mean'):
        return 0
    if reduce == 'prod':
        return 1
    if dtype.kind == 'f':
        return -np.inf if reduce == 'amax' else np.inf
    if dtype.kind == 'b':
        return reduce == 'amin'
    info = np.iinfo(dtype)
    return info.min if reduce == 'amax' else info.max


def _combine(xp, out, positions, values, reduce, op='scatter_reduce'):
    """out[positions] (op)= values, repeated positions combining (a half sum accumulates in
    float32 in scatter_reduce, in half in index_reduce, as in PyTorch)."""
    if reduce in ('sum', 'mean'):
        (_scatter_add_at if op == 'scatter_reduce' else _index_add_at)(xp, out, positions, values)
    elif xp is np:
        ufunc = {'prod': np.multiply, 'amax': np.maximum, 'amin': np.minimum}[reduce]
        ufunc.at(out, positions, values)
    elif reduce == 'prod':
        raise NotImplementedError("scatter_reduce with reduce='prod' is not implemented on "
                                  "CUDA yet (CuPy has no scatter-multiply)")
    elif _scatter_minmax_cuda.usable(xp, out.dtype) and out.flags.c_contiguous and \
            _scatter_minmax_cuda.scatter_minmax(
            xp, out, xp.arange(out.size).reshape(out.shape)[positions], values,
            reduce == 'amax'):
        return
    else:   # integers (no NaN to propagate), or the kernel did not compile
        _cupy_scatter_extreme(xp, out, positions, values, reduce == 'amax')


def _cupy_scatter_extreme(xp, out, positions, values, take_max):
    """cupyx.scatter_max/min, which take (u)int32, (u)int64 and floats only: narrower integers
    and bool go through a 32-bit copy."""
    import cupyx
    scatter = cupyx.scatter_max if take_max else cupyx.scatter_min
    if out.dtype.kind in 'iub' and out.dtype.itemsize < 4:
        wide = xp.int32 if out.dtype.kind == 'i' else xp.uint32
        widened = out.astype(wide)
        scatter(widened, positions, xp.asarray(values).astype(wide))
        out[...] = widened.astype(out.dtype)
    else:
        scatter(out, positions, values)


class ScatterReduce(Node):
    """self (a), index, src -> a copy of self with src reduced in; `op` names the PyTorch
    function in errors and the node ('scatter_reduce' or 'index_reduce')."""
    saved_inputs = (0, 1, 2)
    saves_output = True

    def __init__(self, dim, reduce, include_self, op='scatter_reduce'):
        self.dim, self.reduce, self.include_self, self.op = dim, reduce, include_self, op

    def forward(self, a, index, src):
        return self.forward_into(a.copy(), a, index, src)

    def forward_into(self, out, a, index, src):
        check_index_dtype(index, 'scatter')
        if src.dtype != out.dtype:
            raise RuntimeError('scatter(): Expected self.dtype to be equal to src.dtype')
        if out.dtype.kind == 'b':       # PyTorch's kernels that have no bool type
            if self.op == 'index_reduce':
                raise no_kernel('index_func_' if self.include_self else
                                'index_reduce_func_exclude_input_init', out.dtype)
            if self.reduce == 'mean':
                raise no_kernel('scatter_gather_tensor_cpu_reduce_mean', out.dtype)
        check_scatter_shapes(out, index, src, self.dim)
        xp = xp_of(out)
        if index.size == 0:
            return out
        # (a 0-dim self, index or src reads as 1-d of size 1, as in PyTorch)
        full_out, out, index, src = out, nonempty(out), nonempty(index), nonempty(src)
        size = out.shape[self.dim]
        bad = out_of_bounds(index, size, negative_ok=False)
        if bad is not None:
            if self.op == 'index_reduce':   # (PyTorch's index kernels' words and type)
                raise IndexError(f'index out of range in self (index_reduce_: index {bad} is '
                                 f'out of bounds for dimension {self.dim} with size {size})')
            raise RuntimeError(f'index {bad} is out of bounds for dimension {self.dim} with size '
                               f'{size}')
        positions = along_axis(xp, index, self.dim)
        values = src[tuple(slice(0, s) for s in index.shape)]
        if not self.include_self:
            out[positions] = _identity(self.reduce, out.dtype)
        _combine(xp, out, positions, values, self.reduce, self.op)
        if self.reduce == 'mean':
            counts = xp.full(out.shape, 1 if self.include_self else 0, dtype=np.int64)
            _index_add_at(xp, counts, positions, xp.ones(index.shape, np.int64))
            counts = xp.maximum(counts, 1)
            if out.dtype.kind == 'f':
                xp.true_divide(out, counts, out=out, casting='unsafe')
            else:   # PyTorch rounds an integer mean down
                xp.floor_divide(out, counts, out=out, casting='unsafe')
        return full_out

    def backward(self, grad):
        """PyTorch's scatter_reduce_backward (torch/csrc/autograd/FunctionsManual.cpp)."""
        a, index, src = self.saved_tensors
        dim, reduce = self.dim, self.reduce
        result = self.saved_output()
        if reduce == 'sum':
            grad_self, grad_src = grad, grad.gather(dim, index)
        elif reduce == 'mean':
            n = (grad.new_ones(grad.shape) if self.include_self else grad.new_zeros(grad.shape))
            n = n.scatter_add(dim, index, src.new_ones(src.shape))
            n = n.masked_fill(n == 0, 1)
            grad_self = grad / n
            grad_src = grad.gather(dim, index) / n.gather(dim, index)
        elif reduce == 'prod':
            masked_self = a.masked_fill(a == 0, 1)
            masked_self_result = _reduce(masked_self, dim, index, src, reduce, self.include_self)
            grad_self = grad * masked_self_result / masked_self
            src_zero = src == 0
            zeros_there = a.new_zeros(a.shape).scatter_add(dim, index, src_zero.to(a.dtype))
            single_zero = src_zero & (zeros_there.gather(dim, index) == 1)
            masked_src_result = _reduce(a, dim, index, src.masked_fill(single_zero, 1), reduce,
                                        self.include_self)
            grad_src = (grad * masked_src_result).gather(dim, index).where(
                single_zero, (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1))
        else:   # amax / amin: the gradient shared evenly among the values equal to the result
            value = result.gather(dim, index)
            self_is_result = (a == result).to(a.dtype)
            src_is_result = (src == value).to(a.dtype)
            share = grad / self_is_result.scatter_add(dim, index, src_is_result)
            grad_self = self_is_result * share
            grad_src = src_is_result * share.gather(dim, index)
        if not self.include_self:
            grad_self = grad_self.scatter(dim, index, 0.0)
        return grad_self, None, grad_src

    def name(self):
        return 'IndexReduceBackward0' if self.op == 'index_reduce' else 'ScatterReduceBackward0'


def _reduce(a, dim, index, src, reduce, include_self):
    return dispatch(ScatterReduce(dim, reduce, include_self), a, index, src)


def _check(reduce, include_self, reductions=REDUCTIONS, op='scatter_reduce'):
    """The reduction's name (scatter_reduce also takes 'max' and 'min' for amax and amin, as
    PyTorch does), after checking the arguments."""
    if op == 'scatter_reduce':
        reduce = {'max': 'amax', 'min': 'amin'}.get(reduce, reduce)
    if type(include_self) is not builtins.bool:
        raise TypeError(f"{op}(): argument 'include_self' must be bool, not "
                        f"{type(include_self).__name__}")
    if reduce not in reductions:
        if op == 'index_reduce':
            raise RuntimeError(f'index_reduce(): Expected reduce to be one of prod, mean, amax or '
                               f'amin but got {reduce}.')
        raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got '
                           f'{reduce}')
    return reduce


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    reduce = _check(reduce, include_self)
    d = wrap_dim(dim, max(input.dim(), 1))
    return dispatch(ScatterReduce(d, reduce, include_self), input, index, src)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    reduce = _check(reduce, include_self)
    d = wrap_dim(dim, max(input.dim(), 1))
    return dispatch_inplace(ScatterReduce(d, reduce, include_self), input, index, src)


def _spread_index(input, dim, index, source):
    """index_reduce's 1-D index as scatter_reduce's: index[i] at every position of slice i of
    source along dim."""
    if index.dim() > 1:
        raise IndexError('index_reduce_(): Index is supposed to be a vector')
    if index.dtype not in (int64, int32):
        raise RuntimeError(f'index_reduce_(): Expected dtype int32/int64 for index but got: '
                           f'{_type_word(index._data.dtype)}')
    n_source = source.shape[dim] if source.dim() else 1
    if index.numel() != n_source:
        raise RuntimeError(f'index_reduce_(): Number of indices ({index.numel()}) should be '
                           f'equal to source.size(dim): ({n_source}), for dim: {dim}')
    shape = [1] * max(source.dim(), 1)
    shape[dim] = index.numel()
    return index.reshape(shape).expand(tuple(source.shape) if source.dim() else (1,))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    _check(reduce, include_self, REDUCTIONS[1:], 'index_reduce')
    d = wrap_dim(dim, max(input.dim(), 1))
    spread = _spread_index(input, d, index, source)
    return dispatch(ScatterReduce(d, reduce, include_self, 'index_reduce'), input, spread,
                    source)


def index_reduce_(input, dim, index, source, reduce, *, include_self=True):
    _check(reduce, include_self, REDUCTIONS[1:], 'index_reduce')
    d = wrap_dim(dim, max(input.dim(), 1))
    spread = _spread_index(input, d, index, source)
    return dispatch_inplace(ScatterReduce(d, reduce, include_self, 'index_reduce'), input,
                            spread, source)

