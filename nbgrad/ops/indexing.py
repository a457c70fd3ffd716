"""Indexing: __getitem__/__setitem__ (basic, advanced and boolean), gather/scatter, index_select,
index_add/copy/fill, take, take_along_dim, nonzero (the masked ops: masked.py)."""
import warnings

import numpy as np

from .. import _dtype
from .._arrays import MetaArray, is_host_array
from .._complex_autograd import conj as _conj
from .._arrays import is_cuda_array
from .._int_scalars import fits
from .._memory_overlap import check_no_partial_overlap
from .._user_warning import warn_at_caller
from .._creation import full, zeros
from .._dispatch import dispatch, dispatch_inplace, _type_word
from .._tensor import Tensor
from ..autograd.graph import COPY_SLICES, NOT_IMPLEMENTED, Node
from ._util import wrap_dim, xp_of, as_operand, along_axis, out_of_bounds, check_advanced_index
from ._scatter_shapes import (check_gather_shapes, check_index_dtype, check_scatter_shapes,
                              nonempty)
from .views import (BasicIndex, AdvancedIndexOp, _index_add_at, _scatter_add_at,
                    check_index_versions,
                    index_tensors)
from .._node_names import presents_as
from .masked import (_complex_scalar_as, masked_fill, masked_fill_,  # noqa: F401 (also
                     masked_scatter, masked_scatter_, masked_select)  # indexing's names)


# ---------------------------------------------------------------------------------------------
# x[index]
# ---------------------------------------------------------------------------------------------

def _sequence_as_tuple(index):
    """PyTorch's (and old NumPy's) reading of a list index holding a tensor, a sequence, a slice,
    None or ...: x[[a, b]] as x[a, b], with a deprecation warning (x[[0, 2]] stays an index
    list)."""
    if index.__class__ is not list or len(index) >= 32 or not any(
            isinstance(item, (Tensor, list, tuple, np.ndarray, str, slice))
            or item is None or item is Ellipsis for item in index):
        return False
    warnings.warn('Using a non-tuple sequence for multidimensional indexing is deprecated and '
                  'will be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In '
                  'pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], '
                  'which will result either in an error or a different result', UserWarning,
                  stacklevel=4)
    return True


def _convert_index(index, x):
    """Turn a user index into one NumPy/CuPy understands; say whether it is basic (a view)."""
    if _sequence_as_tuple(index):
        index = tuple(index)
    items = index if isinstance(index, tuple) else (index,)
    if sum(item is Ellipsis for item in items) > 1:
        items = _one_ellipsis(items, x._data.ndim)
    xp = np if is_host_array(x._data) else xp_of(x._data)
    out = []
    basic = True
    for item in items:
        if item is None or item is Ellipsis:
            out.append(item)
        elif isinstance(item, slice):
            out.append(_convert_slice(item))
        elif isinstance(item, bool):
            out.append(item)
            basic = False
        elif isinstance(item, Tensor) and item._data.__class__ is MetaArray:
            # (a meta index: zeros of its shape index the same shapes; a mask's result's
            # shape depends on its values)
            if item._data.dtype.kind == 'b':
                raise NotImplementedError('indexing with a boolean meta tensor: the result\'s '
                                          'shape depends on the mask\'s values (nonzero), which '
                                          'meta tensors do not have')
            out.append(np.zeros(item._data.shape, np.int64))
            basic = False
        elif isinstance(item, Tensor) and item._data.ndim == 0 and item._data.dtype.kind in 'iu':
            out.append(int(item.item()))  # a 0-dim integer tensor indexes like an int (a view)
        elif isinstance(item, Tensor):
            a = _index_array(item._data)
            if xp is np and a.__class__ is not np.ndarray:
                raise RuntimeError('indices should be either on cpu or on the same device as the '
                                   'indexed tensor (cpu)')
            elif xp is not np and a.__class__ is np.ndarray:
                a = xp.asarray(a)  # CPU indices may index a CUDA tensor, as in PyTorch
            out.append(a)
            basic = False
        elif isinstance(item, int) or (hasattr(item, '__index__') and not isinstance(
                item, (np.ndarray, list))):
            out.append(int(item.__index__()) if not isinstance(item, int) else item)
        elif isinstance(item, (list, tuple, range, np.ndarray)) or is_cuda_array(item):
            a = xp.asarray(_nested_tensors_to_lists(item))
            # PyTorch reads a sequence or array index as long integers (floats truncated; []
            # is an empty long index), except a uint8 array, which is a mask
            if a.dtype == np.uint8 and not isinstance(item, (list, tuple, range)):
                a = _index_array(a)
            elif a.dtype.kind in 'fu' or (a.dtype.kind == 'i' and a.dtype != np.int64):
                a = a.astype(np.int64)
            out.append(a)
            basic = False
        elif isinstance(item, str):
            raise TypeError("new(): invalid data type 'str' (a string cannot index a tensor)")
        else:
            raise IndexError(f'only integers, slices (`:`), ellipsis (`...`), None and long or byte '
                             f'Variables are valid indices (got {type(item).__name__})')
    return (tuple(out) if len(out) != 1 or isinstance(index, tuple) else out[0]), basic


def _one_ellipsis(items, ndim):
    """PyTorch takes several ellipses (NumPy only one): the first spans the dims the other items
    leave, each later one spans that many again from where it stands, so x[..., ...] is x and
    x[..., 0, ...] is x[..., 0]. Later ones with indexed dims after them reach past the end
    unless the first spans nothing."""
    def width(item):
        if item is None or item is Ellipsis or isinstance(item, bool):
            return 0
        if isinstance(item, Tensor) and item._data.dtype in (np.bool_, np.uint8):
            return max(item._data.ndim, 1)
        return 1
    spanned = ndim - sum(width(item) for item in items)
    first = next(i for i, item in enumerate(items) if item is Ellipsis)
    later = [i for i in range(first + 1, len(items)) if items[i] is Ellipsis]
    if spanned > 0 and any(width(item) for item in items[later[0] + 1:]):
        raise IndexError(f'too many indices for tensor of dimension {ndim} (an ellipsis after '
                         f'the first spans {spanned} more dimension(s))')
    return tuple(item for i, item in enumerate(items) if i not in later)


def _index_array(a):
    """An index tensor's array as PyTorch takes it: int64, int32 and bool as they are, uint8 as
    a mask (deprecated, with PyTorch's warning), other dtypes refused."""
    if a.dtype == np.uint8:
        warn_at_caller('indexing with dtype nbgrad.uint8 is now deprecated, please use a dtype '
                       'nbgrad.bool instead.')
        return a.astype(bool)
    if a.dtype.kind == 'b' or a.dtype == np.int64 or a.dtype == np.int32:
        return a
    raise IndexError('tensors used as indices must be long, int, byte or bool tensors')


def _nested_tensors_to_lists(item):
    if isinstance(item, Tensor):
        return item.tolist()
    if isinstance(item, (list, tuple)):
        return [_nested_tensors_to_lists(i) for i in item]
    return item


def _convert_slice(s):
    def idx(v):
        if v is None:
            return None
        if isinstance(v, Tensor):
            return v.item()
        if not hasattr(type(v), '__index__'):
            raise TypeError('slice indices must be integers or None or have an __index__ method')
        return v.__index__()
    step = idx(s.step)
    if step is not None and step <= 0:
        raise ValueError('step must be greater than zero')
    return slice(idx(s.start), idx(s.stop), step)


def _friendly_index_error(e, x):
    message = str(e)
    if 'too many indices' in message:
        if x._data.ndim == 0:
            return IndexError('invalid index of a 0-dim tensor. Use `tensor.item()` in Python or '
                              '`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number')
        return IndexError(f'too many indices for tensor of dimension {x._data.ndim}')
    return IndexError(message.replace('axis', 'dimension'))


def _split_ints_first(converted):
    """PyTorch applies integer indices before advanced ones; NumPy treats ints as advanced too,
    which places the result's dimensions differently (x[0, :, [1, 2]] is (3, 2) in PyTorch,
    (2, 3) in NumPy). Return (basic index, advanced index for the basic view), or None when
    there is nothing to split."""
    items = converted if isinstance(converted, tuple) else (converted,)
    if not any(type(i) is int for i in items) or any(type(i) is bool for i in items):
        return None
    basic, advanced = [], []
    for item in items:
        if type(item) is int:
            basic.append(item)
        elif item is None or isinstance(item, slice) or item is Ellipsis:
            basic.append(item)
            advanced.append(Ellipsis if item is Ellipsis else slice(None))
        else:  # an index array: a mask spans as many dims as it has
            basic.extend([slice(None)] * (item.ndim if item.dtype == np.bool_ else 1))
            advanced.append(item)
    return tuple(basic), tuple(advanced)


def getitem(x, index):
    converted, basic = _convert_index(index, x)
    try:
        if basic:
            return dispatch(BasicIndex(converted), x)
        split = _split_ints_first(converted)
        if split is not None:
            x = dispatch(BasicIndex(split[0]), x)
            converted = split[1]
        return dispatch(AdvancedIndexOp(converted, index_tensors(index)), x)
    except IndexError as e:
        raise _friendly_index_error(e, x) from None


# ---------------------------------------------------------------------------------------------
# x[index] = value  (index_put_)
# ---------------------------------------------------------------------------------------------

class IndexPut(Node):
    """out = a with out[index] = v (or += v with accumulate); the result keeps a's dtype."""
    complex_autograd = True

    def __init__(self, index, accumulate=False, saved_indices=()):
        self.index, self.accumulate, self.saved_indices = index, accumulate, saved_indices
        # accumulating, a bfloat16 sum rounds after every add, as PyTorch's kernel's does
        # (_index_add_at in bfloat16 arithmetic); writes take float32 values rounded once
        self.sees_bfloat16 = accumulate

    def forward(self, a, v):
        return self.forward_into(a.copy(), a, v)

    def forward_into(self, out, a, v):
        xp = xp_of(out)
        if v.__class__ is not int and v.__class__ is not float and v.__class__ is not bool \
                and v.__class__ is not complex:
            if v.__class__ is not out.__class__:
                v = xp.asarray(v) if xp is not np else v.get()
            if v.dtype != out.dtype:
                v = v.astype(out.dtype)
        check_advanced_index(out, self.index)
        if v.__class__ is complex:
            v = _complex_scalar_as(v, out.dtype)
        # a Python float written into float32 must fit (c10's checked conversion), while a half
        # or bfloat16 x[i] = 1e5 gives inf, as in PyTorch (the value passes through float there)
        v = fits(v, out.dtype, float_targets=out.dtype == np.float32)
        try:
            if self.accumulate:
                _index_add_at(xp, out, self.index, xp.broadcast_to(xp.asarray(v, dtype=out.dtype),
                                                                   out[self.index].shape))
            else:
                out[self.index] = v
        except IndexError as e:  # NumPy's out-of-range message, in PyTorch's words
            raise IndexError(str(e).replace('axis', 'dimension')) from None
        except ValueError as e:
            target = out[self.index].shape
            raise RuntimeError(f'shape mismatch: value tensor of shape {list(getattr(v, "shape", ()))}'
                               f' cannot be broadcast to indexing result of shape {list(target)}') \
                from e
        return out

    def backward(self, g):
        check_index_versions(self, self.saved_indices)
        e = self._edges
        ga = gv = None
        if e[0] is not None:
            ga = g if self.accumulate else dispatch(IndexPut(self.index), g, 0.0)
        if e[1] is not None:
            gv = g[_as_tensor_index(self.index)]
        return ga, gv

    def name(self):
        return 'IndexPutBackward0'


def _as_tensor_index(index):
    """Re-wrap converted array indices as Tensors so Tensor.__getitem__ accepts them."""
    items = index if isinstance(index, tuple) else (index,)
    wrapped = tuple(Tensor._make(i) if hasattr(i, 'dtype') and hasattr(i, 'shape') else i
                    for i in items)
    return wrapped if isinstance(index, tuple) else wrapped[0]


def _check_put_dtype(x, value):
    """PyTorch's index_put_ takes only a source of the destination's dtype (a basic index
    copies into a view instead, which casts)."""
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        raise RuntimeError(f'Index put requires the source and destination dtypes match, got '
                           f'{_type_word(x._data.dtype)} for the destination and '
                           f'{_type_word(value._data.dtype)} for the source.')


def _check_assignable(x, value):
    """x[i] = value takes a tensor or a number, as PyTorch does: a list, a tuple or a NumPy
    array is refused (wrap it in a tensor), and so is a NumPy scalar that is not a Python
    number (numpy.float32; numpy.float64 and NumPy integers pass)."""
    if isinstance(value, (Tensor, int, float, complex, np.integer, np.bool_)):
        return
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == 'builtins' else \
        f'{kind.__module__.split(".")[0]}.{kind.__qualname__}'
    raise TypeError(f"can't assign a {name} to a {x.type()}")


def setitem(x, index, value):
    _check_assignable(x, value)
    converted, basic = _convert_index(index, x)
    mask_fill = getattr(converted, 'dtype', None) == np.bool_    # (a single bool mask)
    if not basic and not (mask_fill and isinstance(value, Tensor) and value.dim() == 0):
        _check_put_dtype(x, value)      # (x[mask] = 0-d tensor is a masked_fill_: it casts)
    value = as_operand(value)
    if isinstance(value, Tensor) and value._data.ndim and value._data.shape[0] == 1:
        # PyTorch drops a value's leading size-1 dims first (slicePrefix1sSize): y[0] =
        # net(x) with a (1,) output fills a scalar slot
        shape = value._data.shape
        first = next((i for i, n in enumerate(shape) if n != 1), len(shape))
        value = value.reshape(shape[first:])
    try:
        if basic and 0 in x._data.strides:
            # an expanded x: PyTorch copies into the view, which may well not overlap itself
            # (x.expand(3, 4)[0] = 5); other x take the quicker write into x itself
            dispatch_inplace(IndexPut((Ellipsis,)), dispatch(BasicIndex(converted), x), value)
            return
        split = None if basic else _split_ints_first(converted)
        saved = () if basic else index_tensors(index)
        if split is not None:  # write through the integer-indexed view (see _split_ints_first)
            dispatch_inplace(IndexPut(split[1], saved_indices=saved),
                             dispatch(BasicIndex(split[0]), x), value)
        else:
            op = IndexPut(converted, saved_indices=saved)
            if basic:   # (PyTorch copies into a view of x: its node is CopySlices)
                op.present_as(COPY_SLICES)
            tensor_value = isinstance(value, Tensor)
            if basic or (mask_fill and tensor_value and value.dim() == 0):
                # PyTorch's copy_ into the view checks overlap with the view, not all of x,
                # and a 0-dim value is a fill_ (no check)
                op.overlap_checked = False
                if basic and tensor_value and value.dim():
                    check_no_partial_overlap(x._data[converted], (value._data,))
            dispatch_inplace(op, x, value)
    except IndexError as e:
        raise _friendly_index_error(e, x) from None


def _check_put_indices(indices):
    """index_put_ takes a tuple of tensors (None, a slice or a list is x[...]'s business)."""
    for i, item in enumerate(indices):
        if not isinstance(item, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(item).__name__}')


def index_put(input, indices, values, accumulate=False):
    _check_put_indices(indices)
    _check_put_dtype(input, values)
    converted, _ = _convert_index(tuple(indices), input)
    return dispatch(IndexPut(converted, accumulate, index_tensors(indices)), input,
                    as_operand(values))


def index_put_(input, indices, values, accumulate=False):
    _check_put_indices(indices)
    _check_put_dtype(input, values)
    converted, _ = _convert_index(tuple(indices), input)
    return dispatch_inplace(IndexPut(converted, accumulate, index_tensors(indices)), input,
                            as_operand(values))


# ---------------------------------------------------------------------------------------------
# gather / scatter
# ---------------------------------------------------------------------------------------------

def _check_in_bounds(index, size, dim):
    """gather's and scatter's check of an index array against the dimension it indexes."""
    bad = out_of_bounds(index, size, negative_ok=False)
    if bad is not None:
        raise RuntimeError(f'index {bad} is out of bounds for dimension {dim} with size {size}')


class Gather(Node):
    complex_autograd = True
    shown_inputs = (0,)     # (the index has no edge in PyTorch's node)

    def __init__(self, dim):
        self.dim = dim

    def forward(self, a, index):
        check_index_dtype(index, 'gather')
        check_gather_shapes(a, index, self.dim)
        self._input_shape = a.shape
        if index.size == 0:
            return xp_of(a).zeros(index.shape, a.dtype)
        # (a 0-dim self or index reads as 1-d of size 1, as in PyTorch; the result has the
        # index's shape)
        a1, index1 = nonempty(a), nonempty(index)
        _check_in_bounds(index1, a1.shape[self.dim], self.dim)
        out = a1[along_axis(xp_of(a), index1, self.dim)]
        return out.reshape(()) if index.ndim == 0 else out

    def backward(self, g):
        index = self._index_tensor
        shape = self._input_shape
        if index.dim() and index.shape[self.dim] == 1 and all(
                s == t for d, (s, t) in enumerate(zip(index.shape, shape)) if d != self.dim):
            # one index per row (cross-entropy's pattern): no collisions, so a plain write
            from .reduction import ScatterInto
            return dispatch(ScatterInto(index._data, self.dim, True, shape), g), None
        return zeros(shape, dtype=g.dtype, device=g.device).scatter_add(self.dim, index, g), None


class Scatter(Node):
    """scatter (src tensor or scalar value), scatter_add, and scatter's reduce= forms.

    scatter(reduce='add' or 'multiply') has no derivative in PyTorch: its grad_fn is
    NotImplemented and backward raises, which nbgrad follows (scatter_reduce is the
    differentiable form)."""
    complex_autograd = True

    _scalar_source = False     # scatter(dim, index, value): PyTorch's ScatterBackward1

    def __init__(self, dim, mode='set', reduce_arg=False):
        self.dim, self.mode, self.reduce_arg = dim, mode, reduce_arg

    def forward(self, a, index, src):
        return self.forward_into(a.copy(), a, index, src)

    def forward_into(self, out, a, index, src):
        scalar = src.__class__ in (int, float, bool)
        self._scalar_source = scalar
        check_index_dtype(index, 'scatter')
        if not scalar and src.dtype != out.dtype:
            raise RuntimeError('scatter(): Expected self.dtype to be equal to src.dtype')
        check_scatter_shapes(out, index, None if scalar else src, self.dim)
        if index.size == 0:
            return out
        # (a 0-dim self, index or src reads as 1-d of size 1, as in PyTorch: NumPy would
        # broadcast a 0-dim index over the whole dimension)
        out1, index1 = nonempty(out), nonempty(index)
        _check_in_bounds(index1, out1.shape[self.dim], self.dim)
        xp = xp_of(out)
        full = along_axis(xp, index1, self.dim)
        if scalar:
            values = src
        else:
            src1 = nonempty(src)
            values = src1[tuple(slice(0, s) for s in index1.shape)]
        if self.mode == 'add':
            _scatter_add_at(xp, out1, full, xp.broadcast_to(xp.asarray(values, dtype=out.dtype),
                                                           index1.shape))
        elif self.mode == 'multiply':
            np.multiply.at(out1, full, values) if xp is np else _cupy_unsupported('multiply')
        else:
            out1[full] = fits(values, out.dtype)
        return out

    def backward(self, g):
        if self.reduce_arg:
            raise RuntimeError('derivative for aten::scatter is not implemented')
        index = self._index_tensor
        e = self._edges
        ga = gs = None
        if e[0] is not None:
            ga = g if self.mode == 'add' else g.scatter(self.dim, index, 0.0)
        if len(e) > 2 and e[2] is not None:
            gs = g.gather(self.dim, index)
        return ga, None, gs

    def name(self):
        if self.reduce_arg:
            return NOT_IMPLEMENTED
        if self.mode == 'add':
            return 'ScatterAddBackward0'
        return 'ScatterBackward1' if self._scalar_source else 'ScatterBackward0'


def _cupy_unsupported(what):
    raise NotImplementedError(f'scatter with reduce={what!r} is not implemented on CUDA yet')


def _with_index(op, index):
    op._index_tensor = index  # backward needs the index as a Tensor; it is never differentiated
    return op


def gather(input, dim, index, *, sparse_grad=False):
    d = wrap_dim(dim, input._data.ndim)
    return dispatch(_with_index(Gather(d), index), input, index)


_warned_reduce_with_tensor = [False]


def _scatter_mode(reduce, src=None):
    if reduce is None:
        return 'set'
    if isinstance(src, Tensor) and not _warned_reduce_with_tensor[0]:   # (once, as PyTorch)
        _warned_reduce_with_tensor[0] = True
        import warnings
        warnings.warn('The reduce argument of torch.scatter with Tensor src is deprecated and '
                      'will be removed in a future PyTorch release. Use torch.scatter_reduce '
                      'instead for more reduction options.', UserWarning, stacklevel=4)
    if reduce in ('add', 'sum'):
        return 'add'
    if reduce == 'multiply':
        return 'multiply'
    raise RuntimeError(f'reduce argument must be either add or multiply, got {reduce!r}')


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = wrap_dim(dim, input._data.ndim)
    op = Scatter(d, _scatter_mode(reduce, src), reduce is not None)
    return dispatch(_with_index(op, index), input, index, as_operand(src))


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = wrap_dim(dim, input._data.ndim)
    op = Scatter(d, _scatter_mode(reduce, src), reduce is not None)
    return dispatch_inplace(_with_index(op, index), input, index, as_operand(src))


def scatter_add(input, dim, index, src):
    d = wrap_dim(dim, input._data.ndim)
    return dispatch(_with_index(Scatter(d, 'add'), index), input, index, src)


def scatter_add_(input, dim, index, src):
    d = wrap_dim(dim, input._data.ndim)
    return dispatch_inplace(_with_index(Scatter(d, 'add'), index), input, index, src)


# ---------------------------------------------------------------------------------------------
# index_select / index_add / index_copy / index_fill
# ---------------------------------------------------------------------------------------------

_TYPE_WORDS = ('float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool',
               'complex64', 'complex128')


def _index_vector(index, name):
    """index_select/add/copy/fill's index as a 1-d array, after PyTorch's checks of its
    dimensions and dtype (each op has its own words, error type and dtypes: index_copy and
    index_fill take int64 only, and index_fill checks the dtype first)."""
    word = _type_word(index.dtype) if index.dtype.name in _TYPE_WORDS else str(index.dtype)
    if name == 'index_fill' and index.dtype != np.int64:
        raise IndexError('index_fill_(): Expected dtype int64 for index.')
    if index.ndim > 1:
        raise {'index_select': IndexError('index_select(): Index is supposed to be a vector'),
               'index_add': IndexError(f'index_add_(): Index is supposed to be a vector, but got '
                                       f'dim: {index.ndim} with type: {word} and size: '
                                       f'{list(index.shape)}'),
               'index_copy': IndexError(f'index_copy_(): Index should have dimension 1 or 0 '
                                        f'(got {index.ndim})'),
               'index_fill': RuntimeError('Index has to be a vector/scalar')}[name]
    if index.dtype != np.int64 and (index.dtype != np.int32 or name == 'index_copy'):
        raise RuntimeError({
            'index_select': 'index_select(): Expected dtype int32 or int64 for index',
            'index_add': f'index_add_(): Expected dtype int32/int64 for index but got: {word}',
            'index_copy': f'index_copy_(): Expected a long tensor for index, but got {word}'}[name])
    return index.reshape(-1)


def _check_index_range(index, out, dim, mode):
    """index_add/copy/fill: every index within dimension `dim` of `out`, with PyTorch's errors
    (only index_fill takes negative indices)."""
    size = out.shape[dim] if out.ndim else 1
    bad = out_of_bounds(index, size, negative_ok=mode == 'fill')
    if bad is None:
        return
    message = f'index {bad} is out of bounds for dimension {dim} with size {size}'
    if mode == 'add':
        if out.ndim <= 1:  # PyTorch's 1-d kernel
            raise IndexError(f'index out of range in self (index_add_: {message})')
        raise RuntimeError(message)
    raise IndexError('index_copy_(): ' + message if mode == 'copy' else message)


def _check_index_source(mode, out, index, source, dim):
    """index_add/index_copy's checks of source against self and the index (PyTorch's order,
    words and error types)."""
    n = index.size
    if mode == 'copy':
        if source.ndim == 0 and n != 1:
            raise IndexError(f'index_copy_(): When source is scalar, index should have one '
                             f'element (got {n})')
        if source.ndim != out.ndim and source.ndim and out.ndim:
            raise IndexError(f'index_copy_(): When source and destination are not scalars, their '
                             f'dimensionality must match. Source dimensionality ({source.ndim}), '
                             f'destination dimensionality ({out.ndim})')
        if source.ndim and n != source.shape[dim]:
            raise IndexError(f'index_copy_(): Number of indices ({n}) should be equal to '
                             f'source.size(dim) ({source.shape[dim]})')
        if source.ndim and out.ndim:
            for d, (have, got) in enumerate(zip(out.shape, source.shape)):
                if d != dim and have != got:
                    raise RuntimeError(f'index_copy_(): Source/destination tensor must have same '
                                       f'slice shapes. Destination slice shape: {have} at '
                                       f'dimension {dim} and source slice shape: {got} at '
                                       f'dimension 0.')
        return
    if source.ndim == 0:
        if n != 1:     # (PyTorch's message comes from asking a 0-dim source its size(dim))
            raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    elif dim >= source.ndim:
        raise IndexError(f'Dimension out of range (expected to be in range of '
                         f'[{-source.ndim}, {source.ndim - 1}], but got {dim})')
    elif n != source.shape[dim]:
        raise RuntimeError(f'index_add_(): Number of indices ({n}) should be equal to '
                           f'source.size(dim): ({source.shape[dim]}), for dim: {dim}')
    self_rest, source_rest = list(out.shape), list(source.shape)
    if source.ndim and out.ndim:
        del self_rest[dim], source_rest[dim]
    if self_rest != source_rest:
        raise RuntimeError(f'source tensor shape must match self tensor shape, excluding the '
                           f'specified dimension. Got self.shape = {list(out.shape)} '
                           f'source.shape = {list(source.shape)}')


class IndexSelect(Node):
    complex_autograd = True
    shown_inputs = (0,)     # (the index has no edge in PyTorch's node)

    def __init__(self, dim):
        self.dim = dim

    def forward(self, a, index):
        index = _index_vector(index, 'index_select')
        self._input_shape = a.shape
        if a.ndim == 0:     # (a 0-d tensor selects into a 0-d result, as PyTorch's)
            return a.reshape(1)[index].reshape(() if index.size == 1 else index.shape)
        size = a.shape[self.dim]
        bad = out_of_bounds(index, size, negative_ok=False)
        if bad is not None:  # PyTorch's two kernels (dim 0 / the others) fail differently
            if self.dim == 0:
                raise IndexError(f'index out of range in self (index_select: index {bad} on '
                                 f'dimension 0 with size {size})')
            raise RuntimeError(f'INDICES element is out of DATA bounds, id={bad} axis_dim={size} '
                               f'(index_select on dimension {self.dim})')
        return xp_of(a).take(a, index, axis=self.dim)

    def backward(self, g):
        return zeros(self._input_shape, dtype=g.dtype, device=g.device).index_add(
            self.dim, self._index_tensor, g), None


class IndexAdd(Node):
    complex_autograd = True
    def __init__(self, dim, alpha, mode):
        self.dim, self.alpha, self.mode = dim, alpha, mode
        self.sees_bfloat16 = mode == 'add'   # (bfloat16 adds round as PyTorch's: _index_add_at)
        self.overlap_checked = mode != 'fill'    # index_fill_ reads its 0-dim value first

    def forward(self, a, index, source):
        return self.forward_into(a.copy(), a, index, source)

    def forward_into(self, out, a, index, source):
        index = _index_vector(index, 'index_' + self.mode)
        xp = xp_of(out)
        if self.mode == 'fill':
            if getattr(source, 'ndim', 0):
                raise RuntimeError(f'index_fill_ only supports a 0-dimensional value tensor, but '
                                   f'got tensor with {source.ndim} dimension(s).')
        else:
            _check_index_source(self.mode, out, index, source, self.dim)
        _check_index_range(index, out, self.dim, self.mode)
        # (a 0-dim self or source reads as 1-d of size 1, as in PyTorch)
        out1 = nonempty(out)
        where = (slice(None),) * self.dim + (index,)
        if self.mode == 'fill':
            if source.__class__ is complex and out.dtype.kind != 'c':
                raise RuntimeError('index_fill_(): Converting complex Scalar to non-complex type '
                                   'is not supported')
            out1[where] = fits(source, out.dtype)
            return out
        source = nonempty(source)
        if source.dtype != out.dtype:
            source = source.astype(out.dtype)
        if self.mode == 'add':
            alpha = self.alpha
            if out.dtype.kind in 'iu' and isinstance(alpha, float):
                alpha = int(alpha)   # (PyTorch converts alpha to the integer dtype: truncates)
            elif _dtype.is_bfloat16(out.dtype) and alpha != 1:
                alpha = out.dtype.type(alpha)   # (bfloat16 arithmetic, as PyTorch's kernel)
            # (PyTorch's kernel for a 1-d self rounds a half sum after every add; the one for
            # more dimensions accumulates half in float32, as scatter_add_ does)
            add_at = _scatter_add_at if out1.ndim > 1 else _index_add_at
            add_at(xp, out1, where, source * alpha if alpha != 1 else source)
        else:
            out1[where] = source
        return out

    def backward(self, g):
        e = self._edges
        ga = gs = None
        if e[0] is not None:
            ga = g if self.mode == 'add' else g.index_fill(self.dim, self._index_tensor, 0.0)
        if len(e) > 2 and e[2] is not None:
            # a filled value reaches each selected slice once, however often its index repeats
            index = self._index_tensor.unique() if self.mode == 'fill' else self._index_tensor
            gs = g.index_select(self.dim, index)
            if self.mode == 'add' and self.alpha != 1:
                gs = gs * _conj(self.alpha)
        return ga, None, gs

    def name(self):
        return {'add': 'IndexAddBackward0', 'copy': 'IndexCopyBackward0',
                'fill': 'IndexFillBackward0'}[self.mode]


def index_select(input, dim, index):
    d = wrap_dim(dim, input._data.ndim)
    return dispatch(_with_index(IndexSelect(d), index), input, index)


def _index_op(mode, inplace):
    def run(input, dim, index, source, alpha=1):
        if mode != 'fill' and isinstance(source, Tensor) and source.dtype != input.dtype:
            a, b = _type_word(input._data.dtype), _type_word(source._data.dtype)
            raise RuntimeError(
                f'index_add_(): self ({a}) and source ({b}) must have the same scalar type'
                if mode == 'add' else f'index_copy_(): self and source expected to have the '
                f'same dtype, but got (self) {a} and (source) {b}')
        d = wrap_dim(dim, input._data.ndim)
        op = _with_index(IndexAdd(d, alpha, mode), index)
        return (dispatch_inplace if inplace else dispatch)(op, input, index, as_operand(source))

    # PyTorch's parameters: index_add(..., source, *, alpha), index_copy(..., source),
    # index_fill(..., value)
    if mode == 'add':
        def fn(input, dim, index, source, *, alpha=1):
            return run(input, dim, index, source, alpha)
    elif mode == 'copy':
        def fn(input, dim, index, source):
            return run(input, dim, index, source)
    else:
        def fn(input, dim, index, value):
            return run(input, dim, index, value)
    fn.__name__ = fn.__qualname__ = f'index_{mode}' + ('_' if inplace else '')
    return fn


index_add = _index_op('add', False)
index_add_ = _index_op('add', True)
index_copy = _index_op('copy', False)
index_copy_ = _index_op('copy', True)
index_fill = _index_op('fill', False)
index_fill_ = _index_op('fill', True)


# ---------------------------------------------------------------------------------------------
# take / take_along_dim / nonzero
# ---------------------------------------------------------------------------------------------

@presents_as('TakeBackward0')
def take(input, index):
    if isinstance(index, Tensor) and index._data.dtype != np.int64:
        # (a bool or uint8 index would otherwise select as a mask: another answer entirely)
        from .._dispatch import _type_word
        raise RuntimeError(f'take(): Expected a long tensor for index, but got '
                           f'{_type_word(index._data.dtype)}')
    return input.reshape(-1)[index]


def take_along_dim(input, indices, dim=None):
    if dim is None:   # gather's rules: a negative index is out of range, as in PyTorch
        return input.reshape(-1).gather(0, indices.reshape(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(f'torch.take_along_dim(): input and indices should have the same '
                           f'number of dimensions, but got {input.dim()} dimensions for input, '
                           f'and {indices.dim()} dimensions for indices')
    if indices._data.dtype != np.int64:
        raise RuntimeError(f'torch.take_along_dim(): dtype of indices should be Long but got '
                           f'{_type_word(indices._data.dtype)}')
    d = wrap_dim(dim, input._data.ndim)
    size = input.shape[d] if input.dim() else 1
    if size:    # PyTorch 2.13 takes the indices modulo the size (-1 is the last, size the first)
        indices = indices.remainder(size)
    shape_in = list(input.shape)
    shape_idx = list(indices.shape)
    shape_in[d] = shape_idx[d] = 1
    from .shape import broadcast_shapes
    common = broadcast_shapes(shape_in, shape_idx)
    target_in = list(common)
    target_in[d] = input.shape[d]
    target_idx = list(common)
    target_idx[d] = indices.shape[d]
    return input.expand(target_in).gather(d, indices.expand(target_idx))


class NonZero(Node):
    shape_from_values = True
    complex_autograd = True
    differentiable = False

    def forward(self, a):
        xp = xp_of(a)
        idx = xp.nonzero(a) if a.ndim else xp.nonzero(a.reshape(1))[:0]
        if a.ndim == 0:
            n = int(bool(a))
            return xp.zeros((n, 0), np.int64)
        return xp.stack(idx, axis=1).astype(np.int64, copy=False) if idx else \
            xp.zeros((0, a.ndim), np.int64)


def nonzero(input, *, as_tuple=False):
    out = dispatch(NonZero(), input)
    if as_tuple:
        if input._data.ndim == 0:  # a 0-dim tensor is treated as a 1-element vector
            return (nonzero(input.reshape(1))[:, 0],)
        return tuple(out[:, i] for i in range(out.shape[1]))
    return out


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero(input) with exactly `size` rows: cut, or padded with fill_value (a shape known
    before the data, for code that needs one)."""
    if size < 0:
        raise RuntimeError(f'nonzero_static: \'size\' must be an non-negative integer, but got '
                           f'{size}')
    found = nonzero(input)
    if found.shape[0] >= size:
        return found[:size].clone()
    from .shape import cat
    padding = full((size - found.shape[0], found.shape[1]), fill_value, dtype=found.dtype,
                   device=found.device)
    return cat([found, padding])


def argwhere(input):
    return nonzero(input)
