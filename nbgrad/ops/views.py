"""View ops: results share memory (and the version counter) with their input, as in PyTorch.

Each is an op with `is_view = True`; the dispatcher links the result to its base so that in-place
writes through the view reach the base and autograd follows them (see autograd/copy_slices.py).
"""
import numpy as np

from .. import _deterministic, _dtype
from .._dispatch import _type_word, dispatch
from .._tensor import Tensor
from ..autograd.graph import Node
from ._util import wrap_dim, shape_arg, xp_of, check_advanced_index, int_like


class ViewOp(Node):
    complex_autograd = True
    is_view = True


def _infer_shape(shape, numel):
    """Resolve one -1 in a requested shape, with PyTorch's errors."""
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError('only one dimension can be inferred')
    if any(s < -1 for s in shape):
        raise RuntimeError(f'invalid shape dimension {min(shape)}')
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


class View(ViewOp):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        shape = _infer_shape(self.shape, a.size)
        self._input_shape = a.shape
        try:
            if a.__class__ is np.ndarray:
                return np.reshape(a, shape, copy=False)
            out = a.reshape(shape)  # CuPy has no copy=False: a copy shows as disjoint memory
            if out.size and not xp_of(a).may_share_memory(out, a):
                raise ValueError
            return out
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                               "least one dimension spans across two contiguous subspaces). Use "
                               ".reshape(...) instead.") from None

    def backward(self, g):
        return g.reshape(self._input_shape)


class Reshape(Node):
    """reshape: a view when the memory layout allows one, otherwise a copy (as in PyTorch)."""
    complex_autograd = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        shape = _infer_shape(self.shape, a.size)
        self._input_shape = a.shape
        out = a.reshape(shape)
        # a reshape is either a view (same bounds) or a fresh copy (disjoint), so the cheap
        # bounds check is exact here; CuPy's exact shares_memory would launch kernels
        self.is_view = out.base is not None and xp_of(a).may_share_memory(out, a)
        return out

    def backward(self, g):
        return g.reshape(self._input_shape)

    def name(self):
        return 'ViewBackward0' if self.is_view else 'UnsafeViewBackward0'


class Transpose(ViewOp):
    def __init__(self, dim0, dim1):
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, a):
        return a.swapaxes(self.dim0, self.dim1)

    def backward(self, g):
        return g.transpose(self.dim0, self.dim1)


class Permute(ViewOp):
    def __init__(self, dims):
        self.dims = dims

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, g):
        return g.permute(tuple(int(i) for i in np.argsort(self.dims)))


class Expand(ViewOp):
    """Expanded dims have stride 0: many elements share one memory location, so in-place ops
    that read it refuse to write (the dispatcher checks strides, as PyTorch does), while a view
    without the repeated dimension (x.expand(3, 4)[0]) stays writable. The gradient is summed
    back to the input's shape by the engine, so backward is the identity."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        if a.__class__ is not np.ndarray:
            return xp_of(a).broadcast_to(a, self.shape)  # CuPy's is writable
        if a.flags.c_contiguous and a.size:
            # np.broadcast_to is several times slower than building the strided view directly
            lead = len(self.shape) - a.ndim
            strides = (0,) * lead + tuple(0 if have == 1 and want != 1 else stride for stride, have,
                                          want in zip(a.strides, a.shape, self.shape[lead:]))
            return np.ndarray(self.shape, a.dtype, buffer=a, strides=strides)
        # NumPy's broadcast_to checks the shapes but is read-only; the same strides, writable
        strides = np.broadcast_to(a, self.shape).strides
        return np.lib.stride_tricks.as_strided(a, self.shape, strides)

    def backward(self, g):
        return g


class Squeeze(ViewOp):
    def __init__(self, dims, overload=0):
        self.dims = dims  # None: every size-1 dim
        self.overload = overload  # 0: squeeze(), 1: squeeze(dim), 2: squeeze(dims)

    def name(self):
        return f'SqueezeBackward{self.overload}'

    def forward(self, a):
        self._input_shape = a.shape
        if self.dims is None:
            return a.reshape(tuple(s for s in a.shape if s != 1))
        return a.reshape(tuple(s for i, s in enumerate(a.shape) if not (i in self.dims and s == 1)))

    def backward(self, g):
        return g.reshape(self._input_shape)


class Unsqueeze(ViewOp):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, a):
        # (indexing, not expand_dims, whose reshape gives a non-contiguous input's new dim a
        # stride of its own; PyTorch's is the next dim's size * stride, which stride() reports)
        return a[(slice(None),) * self.dim + (None,)]

    def backward(self, g):
        return g.squeeze(self.dim)


class BasicIndex(ViewOp):
    """x[ints, slices, None, ...]: a view. Backward writes the gradient into zeros."""

    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self._input_shape = a.shape
        index = self.index if isinstance(self.index, tuple) else (self.index,)
        if not any(i is Ellipsis for i in index):
            index = index + (Ellipsis,)  # so that x[0, 1] is a 0-dim view, not a NumPy scalar
        return a[index]

    def backward(self, g):
        return dispatch(IndexBackward(self.index, self._input_shape), g)

    def name(self):
        # PyTorch applies the index items one after the other; the last op applied names the node
        index = self.index if isinstance(self.index, tuple) else (self.index,)
        for item in reversed(index):
            if item is None:
                return 'UnsqueezeBackward0'
            if isinstance(item, int):
                return 'SelectBackward0'
            if isinstance(item, slice):
                return 'SliceBackward0'
        return 'AliasBackward0'


class IndexBackward(Node):
    """zeros(shape)[index] = g, with duplicates accumulated (advanced indices may repeat)."""
    complex_autograd = True

    def __init__(self, index, shape, accumulate=False):
        self.index, self.shape, self.accumulate = index, shape, accumulate

    def forward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.shape, g.dtype)
        if self.accumulate:
            _index_add_at(xp, out, self.index, g)
        else:
            out[self.index] = g
        return out

    def backward(self, gg):
        return gg[self.index] if not self.accumulate else dispatch(AdvancedIndexOp(self.index), gg)


def _index_add_at(xp, out, index, values):
    """out[index] += values, with repeated indices accumulating.

    PyTorch's CPU kernels (index_add_, index_put_ with accumulate, scatter_add_, the gradients of
    indexing and gather) add one value at a time, in index order, in out's own dtype (a half
    sum rounds to half after each add), and so does np.add.at, bit for bit; a float64 sum rounded
    once (np.bincount) is more accurate but differs from PyTorch in the last bits."""
    if xp is not np:
        _cupy_scatter_add(out, index, xp.asarray(values, dtype=out.dtype))
        return
    values = np.asarray(values)
    if values.dtype != out.dtype:
        values = values.astype(out.dtype)
    one_array = out.ndim == 1 and (not isinstance(index, tuple) or len(index) == 1)
    if not one_array and out.flags.c_contiguous and 4 * values.size > out.size:
        # add.at over a multi-dimensional index (slices and arrays) runs a slow general loop;
        # over flat positions it takes its fast path (the same order: position order, which
        # is index order for each element of out)
        positions = np.arange(out.size).reshape(out.shape)[index]
        np.add.at(out.reshape(-1), positions.reshape(-1),
                  np.broadcast_to(values, positions.shape).reshape(-1))
    else:
        np.add.at(out, index, values)


def _scatter_add_at(xp, out, index, values):
    """scatter_add_'s out[index] += values: as _index_add_at, except that PyTorch's scatter
    kernels (scatter_add_, scatter_reduce_ with sum or mean, scatter_ with reduce='add')
    accumulate half and bfloat16 in float32 and round once at the end (index_add_ and
    index_put_ round to the dtype after every add)."""
    if not _dtype.is_reduced_float(out.dtype):
        _index_add_at(xp, out, index, values)
        return
    wide = out.astype(np.float32)
    _index_add_at(xp, wide, index, xp.asarray(values).astype(np.float32))
    out[...] = wide.astype(out.dtype)


def _cupy_scatter_add(out, index, values):
    """cupyx.scatter_add for every dtype: it takes only (u)int32, (u)int64 and floats (older
    CuPy not int64, which therefore adds as uint64: two's complement, the same bits), so narrower
    ints and bool add in a 32-bit copy, and complex numbers as their real and imaginary parts."""
    import cupyx
    kind, size = out.dtype.kind, out.dtype.itemsize
    if kind == 'f':   # atomic float adds (complex ones come here as their two parts): the order (so the rounding) varies from run to run
        _deterministic.alert('index accumulation on CUDA (index_add_, scatter_add_, index_put_ '
                             'with accumulate=True, and the gradients of indexing, gather and '
                             'embedding)')
    if kind == 'c':
        _cupy_scatter_add(out.real, index, values.real)
        _cupy_scatter_add(out.imag, index, values.imag)
    elif kind == 'i' and size == 8:
        cupyx.scatter_add(out.view(np.uint64), index, values.view(np.uint64))
    elif kind in 'iub' and size < 4:
        wide = np.int32 if kind == 'i' else np.uint32
        widened = out.astype(wide)
        cupyx.scatter_add(widened, index, values.astype(wide))
        out[...] = widened != 0 if kind == 'b' else widened.astype(out.dtype)
    else:
        cupyx.scatter_add(out, index, values)


def index_tensors(index):
    """The tensors of a user index that index as arrays (0-d integer ones become ints), each
    with its version now: the backward reuses their arrays, so, as PyTorch's saved indices, they
    must not be modified in place before it runs (check_index_versions)."""
    items = index if isinstance(index, (tuple, list)) else (index,)
    return tuple((i, i._vc[0]) for i in items
                 if isinstance(i, Tensor) and not (i._data.ndim == 0 and i._data.dtype.kind in 'iu'))


def check_index_versions(node, saved):
    from ..autograd.graph import _modified_message
    for tensor, version in saved:
        if tensor._vc[0] != version:
            raise RuntimeError(_modified_message(node, tensor, tensor._vc[0], version))


class AdvancedIndexOp(Node):
    """x[tensor indices / masks]: a copy, as in NumPy and PyTorch."""
    complex_autograd = True

    def __init__(self, index, saved_indices=()):
        self.index, self.saved_indices = index, saved_indices

    def forward(self, a):
        self._input_shape = a.shape
        check_advanced_index(a, self.index)
        out = a[self.index]
        # NumPy lays an index on an inner dim out first in memory; PyTorch's result is dense
        # (x[:, idx].view(-1) works there)
        return out if out.flags.c_contiguous else xp_of(out).ascontiguousarray(out)

    def backward(self, g):
        check_index_versions(self, self.saved_indices)
        return dispatch(IndexBackward(self.index, self._input_shape, accumulate=True), g)

    def name(self):
        return 'IndexBackward0'


def as_strided_extent(size, stride, offset):
    """The storage elements a view of this geometry reaches (0 when empty), after PyTorch's
    checks of the offset and the strides (as_strided and as_strided_scatter)."""
    if offset < 0:
        raise RuntimeError(f'Tensor: invalid storage offset {offset}')
    if any(st < 0 for st in stride):
        raise RuntimeError(f'as_strided: Negative strides are not supported at the moment, '
                           f'got strides: {list(stride)}')
    if not all(n > 0 for n in size):
        return 0
    return offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1


class AsStrided(ViewOp):
    """as_strided(size, stride, storage_offset) over the input's storage."""

    def __init__(self, size, stride, storage_offset, storage):
        self.size, self.stride, self.storage_offset = size, stride, storage_offset
        self.storage = storage  # the input's root array (see _storage.tensor_root)

    def on_stand_in(self, base_offset):
        """This view remade on a dense stand-in for the base of its chain (CopySlices): over the
        stand-in's own memory, at the offset it had from the base."""
        return AsStrided(self.size, self.stride, self._offset - base_offset, None)

    def forward(self, a):
        from .._storage import element_offset, root_array
        root = self.storage if self.storage is not None else root_array(a)
        itemsize = a.itemsize
        offset = element_offset(a, root) if self.storage_offset is None else self.storage_offset
        needed = as_strided_extent(self.size, self.stride, offset)
        if needed > root.size:
            raise RuntimeError(f'setStorage: sizes {list(self.size)}, strides {list(self.stride)}, '
                               f'storage offset {offset} require {needed * itemsize} bytes but the '
                               f'storage holds {root.size * itemsize} bytes')
        self._input_shape = a.shape
        self._input_geometry = (tuple(s // itemsize for s in a.strides), element_offset(a, root))
        self._offset = offset
        flat = root.reshape(-1)
        base = flat[offset:] if offset else flat
        xp = xp_of(a)
        if xp is np:
            return np.lib.stride_tricks.as_strided(base, self.size,
                                                   tuple(s * itemsize for s in self.stride))
        return xp.lib.stride_tricks.as_strided(base, self.size,
                                               tuple(s * itemsize for s in self.stride))

    def backward(self, g):
        return dispatch(AsStridedBackward(self.size, self.stride, self._offset,
                                          self._input_shape, self._input_geometry), g)


def _storage_indices(xp, size, stride, offset):
    """Flat storage index of every element of a strided view."""
    idx = xp.full(tuple(size), offset, dtype=np.int64)
    for d, (s, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = s
        idx = idx + (xp.arange(s, dtype=np.int64) * st).reshape(shape)
    return idx


class AsStridedBackward(Node):
    """Scatter-add the gradient into storage positions, then read the input's positions back.
    Exact even when output elements overlap (they accumulate)."""
    complex_autograd = True

    def __init__(self, size, stride, offset, input_shape, input_geometry):
        self.size, self.stride, self.offset = size, stride, offset
        self.input_shape, self.input_geometry = input_shape, input_geometry

    def forward(self, g):
        xp = xp_of(g)
        out_idx = _storage_indices(xp, self.size, self.stride, self.offset)
        in_stride, in_offset = self.input_geometry
        in_idx = _storage_indices(xp, self.input_shape, in_stride, in_offset)
        n = int(max(out_idx.max() if out_idx.size else 0, in_idx.max() if in_idx.size else 0)) + 1
        storage = xp.zeros(n, g.dtype)
        _index_add_at(xp, storage, out_idx.reshape(-1), g.reshape(-1))
        self._indices = (in_idx, out_idx)
        return storage[in_idx]

    def backward(self, gg):
        in_idx, out_idx = self._indices
        n = int(max(out_idx.max() if out_idx.size else 0, in_idx.max() if in_idx.size else 0)) + 1
        from .._creation import zeros
        storage = zeros(n, dtype=gg.dtype, device=gg.device)
        storage = storage.index_put((Tensor._make(in_idx.reshape(-1)),), gg.reshape(-1),
                                    accumulate=True)
        return storage[Tensor._make(out_idx)]


class Unfold(ViewOp):
    """Sliding windows of `size` every `step` along `dim`, as a new last dimension."""

    def __init__(self, dim, size, step):
        self.dim, self.size, self.step = dim, size, step

    def forward(self, a):
        dim, size, step = self.dim, self.size, self.step
        length = a.shape[dim] if a.ndim else 1
        if size > length:
            raise RuntimeError(f'maximum size for tensor at dimension {dim} is {length} but size '
                               f'is {size}')
        if size < 0:
            raise RuntimeError(f'size is {size} but must be >= 0')
        if step <= 0:
            raise RuntimeError(f'step is {step} but must be > 0')
        self._input_shape = a.shape
        n = (length - size) // step + 1
        if a.ndim == 0:
            return a.reshape(1)
        shape = a.shape[:dim] + (n,) + a.shape[dim + 1:] + (size,)
        strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
        return xp_of(a).lib.stride_tricks.as_strided(a, shape, strides)

    def backward(self, g):
        return dispatch(UnfoldBackward(self.dim, self.size, self.step, self._input_shape), g)


class UnfoldBackward(Node):
    complex_autograd = True
    def __init__(self, dim, size, step, input_shape):
        self.dim, self.size, self.step, self.input_shape = dim, size, step, input_shape

    def forward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.input_shape, g.dtype)
        if not self.input_shape:
            return g.reshape(())
        dim, step = self.dim, self.step
        n = g.shape[dim]
        moved = xp.moveaxis(out, dim, -1)
        gm = xp.moveaxis(g, dim, -2)  # (..., n, size)
        for k in range(self.size):  # window offset k touches positions k, k+step, ...
            moved[..., k:k + step * (n - 1) + 1:step] += gm[..., k]
        return out

    def backward(self, gg):
        return gg.unfold(self.dim, self.size, self.step)


class Diagonal(ViewOp):
    """A writable strided view of a diagonal (NumPy's np.diagonal is read-only)."""

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, a):
        d1, d2, off = self.dim1, self.dim2, self.offset
        if d1 == d2:
            raise RuntimeError(f'diagonal dimensions cannot be identical {d1}, {d2}')
        self._input_shape = a.shape
        n1, n2 = a.shape[d1], a.shape[d2]
        # the diagonal starts at index off along d2 (off >= 0) or -off along d1
        if off >= 0:
            length = max(min(n1, n2 - off), 0)
            along, first = d2, off
        else:
            length = max(min(n1 + off, n2), 0)
            along, first = d1, -off
        rest = [i for i in range(a.ndim) if i not in (d1, d2)]
        shape = tuple(a.shape[i] for i in rest) + (length,)
        strides = tuple(a.strides[i] for i in rest) + (a.strides[d1] + a.strides[d2],)
        if length == 0:  # still a view of a (sharing its storage), just an empty one
            return xp_of(a).lib.stride_tricks.as_strided(a, shape, strides)
        base = a[(slice(None),) * along + (slice(first, None),)]
        return xp_of(a).lib.stride_tricks.as_strided(base, shape, strides)

    def backward(self, g):
        return dispatch(DiagonalBackward(self.offset, self.dim1, self.dim2, self._input_shape), g)


class DiagonalBackward(Node):
    complex_autograd = True
    def __init__(self, offset, dim1, dim2, input_shape):
        self.offset, self.dim1, self.dim2, self.input_shape = offset, dim1, dim2, input_shape

    def forward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.input_shape, g.dtype)
        view = Diagonal(self.offset, self.dim1, self.dim2).forward(out)
        view[...] = g
        return out

    def backward(self, gg):
        return gg.diagonal(self.offset, self.dim1, self.dim2)


class Split(ViewOp):
    """split/chunk/unbind: several views along one dim (one node, several outputs)."""
    multi_view = True

    def __init__(self, sizes, dim, squeeze=False):
        self.sizes, self.dim, self.squeeze = sizes, dim, squeeze
        self.num_outputs = len(sizes)

    def forward(self, a):
        self._input_shape = a.shape
        out = []
        start = 0
        index = [slice(None)] * a.ndim
        for size in self.sizes:
            if self.squeeze:
                index[self.dim] = start
            else:
                index[self.dim] = slice(start, start + size)
            out.append(a[(*index, Ellipsis)])   # with ..., a 1-D input's element is a 0-d view
            start += size
        return tuple(out) if len(out) != 1 else out[0]  # one piece: dispatch wants one array

    def backward(self, *grads):
        from .shape import cat, stack
        if self.squeeze:
            return stack(grads, self.dim)
        return cat(grads, self.dim)

    def name(self):
        return 'UnbindBackward0' if self.squeeze else 'SplitBackward0'


class ViewDtype(ViewOp):
    """x.view(dtype): reinterpret the bytes (not differentiable)."""
    differentiable = False

    def __init__(self, np_dtype):
        self.np_dtype = np_dtype

    def forward(self, a):
        return a.view(self.np_dtype)


# ---------------------------------------------------------------------------------------------
# Public functions (Tensor methods of the same names are attached in _tensor_methods.py)
# ---------------------------------------------------------------------------------------------

def view(input, *shape):
    from .. import _dtype
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(
            shape[0], '__index__'):
        dt = _dtype.to_dtype(shape[0])
        if dt.itemsize != input.element_size() and input.dim() == 0:
            raise RuntimeError('self.dim() cannot be 0 to view a tensor as a dtype of a '
                               'different size')
        if dt.itemsize != input.element_size():
            _check_view_dtype(input, dt)
        return dispatch(ViewDtype(dt.np), input)
    return dispatch(View(shape_arg(shape)), input)


def _check_view_dtype(input, dt):
    """PyTorch's conditions for viewing as a dtype of another element size (NumPy's own
    ValueError says less, and NumPy allows a non-unit last stride when the sizes fit)."""
    ours = input.element_size()
    words = f'to view {_type_word(input._data.dtype)} as {_type_word(dt.np)} (different element ' \
        'sizes), but got'
    if input.stride(-1) != 1 and input.shape[-1] != 1:
        raise RuntimeError(f'self.stride(-1) must be 1 {words} {input.stride(-1)}')
    if dt.itemsize > ours:
        ratio = dt.itemsize // ours
        if input.shape[-1] % ratio:
            raise RuntimeError(f'self.size(-1) must be divisible by {ratio} {words} '
                               f'{input.shape[-1]}')
        if input.storage_offset() % ratio:
            raise RuntimeError(f'self.storage_offset() must be divisible by {ratio} {words} '
                               f'{input.storage_offset()}')


def reshape(input, *shape):
    return dispatch(Reshape(shape_arg(shape)), input)


def transpose(input, dim0, dim1):
    n = input._data.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return dispatch(View(()), input)
    return dispatch(Transpose(d0, d1), input)


swapaxes = swapdims = transpose


class T(Transpose):
    """x.t() (PyTorch names its node TBackward0)."""

    def name(self):
        return 'TBackward0'


def t(input):
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f't() expects a tensor with <= 2 dimensions, but self is {n}D')
    if n < 2:
        return dispatch(View(input._data.shape), input)
    return dispatch(T(0, 1), input)


def permute(input, *dims):
    dims = shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f'permute(): number of dims don\'t match in permute: the tensor has {n} '
                           f'dimensions but {len(dims)} were given ({list(dims)})')
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f'permute(): duplicate dims are not allowed (got {list(dims)})')
    return dispatch(Permute(dims), input)


def expand(input, *sizes):
    sizes = shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f'expand: the number of sizes provided ({len(sizes)}) must be greater or '
                           f'equal to the number of dimensions in the tensor ({len(shape)})')
    lead = len(sizes) - len(shape)
    target = [0] * len(sizes)
    for i in reversed(range(len(sizes))):     # (last dim first: PyTorch reports that mismatch)
        s = sizes[i]
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f'leading, non-existing dimension {i}')
            target[i] = s
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        elif s < 0 and have == 1:     # (PyTorch: "numel: integer multiplication overflow" where have is 1)
            raise RuntimeError(f'The expanded size of the tensor ({s}) is not allowed at '
                               f'dimension {i}: sizes must be non-negative, or -1 to keep the '
                               f'existing size. Target sizes: {list(sizes)}.  Tensor sizes: '
                               f'{list(shape)}')
        elif have != 1 and s != have:
            raise RuntimeError(f'The expanded size of the tensor ({s}) must match the existing size '
                               f'({have}) at non-singleton dimension {i}.  Target sizes: '
                               f'{list(sizes)}.  Tensor sizes: {list(shape)}')
        target[i] = s
    return dispatch(Expand(tuple(target)), input)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def squeeze(input, dim=None):
    n = input._data.ndim
    if dim is None:
        return dispatch(Squeeze(None), input)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    overload = 2 if isinstance(dim, (tuple, list)) else 1
    return dispatch(Squeeze(tuple(wrap_dim(d, n) for d in dims), overload), input)


def unsqueeze(input, dim):
    return dispatch(Unsqueeze(wrap_dim(dim, input._data.ndim + 1)), input)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)    # (a 0-d tensor's dims: -1 and 0)
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim')
    if s == e:
        return input
    n = 1
    for size in shape[s:e + 1]:
        n *= size
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    return view(input, shape[:d] + _infer_shape(sizes, shape[d]) + shape[d + 1:]) \
        if input.is_contiguous() else reshape(input, shape[:d] + _infer_shape(sizes, shape[d])
                                              + shape[d + 1:])


def movedim(input, source, destination):
    n = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f'movedim: Invalid source or destination dims: source ({list(src)} dims)'
                           f' should contain the same number of dims as destination '
                           f'({list(dst)} dims)')
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    for name, dims in (('source', src), ('destination', dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f'movedim: repeated dim in `{name}` ({dims})')
    if n == 0:          # (a 0-dim tensor's dim 0 or -1: the tensor as it is, a view)
        return dispatch(Permute(()), input)
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return dispatch(Permute(tuple(order)), input)


moveaxis = movedim


def narrow(input, dim, start, length):
    if input._data.ndim == 0:
        raise RuntimeError('narrow() cannot be applied to a 0-dim tensor.')
    if length < 0:
        raise RuntimeError('narrow(): length must be non-negative.')
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(start, Tensor) and (start.dim() != 0 or start.is_floating_point() or
                                      start.is_complex() or start.dtype.name == 'bool'):
        raise RuntimeError('start must be an 0-dim integral Tensor.')
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f'start out of range (expected to be in range of [{-size}, {size}], but '
                         f'got {start})')
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f'start ({start}) + length ({length}) exceeds dimension size ({size}).')
    index = (slice(None),) * d + (slice(start, start + length),)
    return dispatch(BasicIndex(index), input)


def select(input, dim, index):
    if input._data.ndim == 0:
        raise IndexError('select() cannot be applied to a 0-dim tensor.')
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f'select(): index {index} out of range for tensor of size '
                         f'{list(input.shape)} at dimension {d}')
    return dispatch(BasicIndex((slice(None),) * d + (int(index),)), input)


def as_strided(input, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f'mismatch in length of strides and shape ({len(stride)} vs {len(size)})')
    from .._storage import tensor_root
    return dispatch(AsStrided(size, stride, storage_offset, tensor_root(input)), input)


def unfold(input, dimension, size, step):
    return dispatch(Unfold(wrap_dim(dimension, input._data.ndim), size, step), input)


def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    return dispatch(Diagonal(offset, wrap_dim(dim1, n), wrap_dim(dim2, n)), input)


def split(tensor, split_size_or_sections, dim=0):
    d = wrap_dim(dim, tensor._data.ndim)
    length = tensor._data.shape[d]
    if int_like(split_size_or_sections) is not None:
        step = int_like(split_size_or_sections)
        if step <= 0 and length:
            raise RuntimeError(f'split_size can only be 0 if dimension size is 0, but got '
                               f'dimension size of {length}')
        sizes = [min(step, length - i) for i in range(0, length, step)] if length else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise RuntimeError(f'split_with_sizes expects split_sizes to sum exactly to {length} '
                               f'(input tensor\'s size at dimension {d}), but got split_sizes='
                               f'{sizes}')
    return _pieces(Split(tuple(sizes), d), tensor)


def _pieces(op, tensor):
    """split/chunk/unbind always return a tuple (dispatch gives one tensor for a 1-output op)."""
    out = dispatch(op, tensor)
    return out if isinstance(out, tuple) else (out,)


def chunk(input, chunks, dim=0):
    chunks = int_like(chunks) if int_like(chunks) is not None else chunks
    if chunks <= 0:
        raise RuntimeError(f'chunk expects `chunks` to be greater than 0, got: {chunks}')
    d = wrap_dim(dim, input._data.ndim)
    length = input._data.shape[d]
    size = -(-length // chunks) if length else 0
    if size == 0:   # an empty dim: `chunks` empty pieces, as PyTorch's chunk
        return split(input, [0] * chunks, d)
    return split(input, size, d)


def tensor_split(input, indices_or_sections, dim=0):
    """Sections (an int or a 0-d int tensor) or indices (a list or 1-D int tensor): piece i is
    input[indices[i-1]:indices[i]] along dim with Python's slice rules, so negative indices count
    from the end and a decreasing pair gives an empty piece, as in PyTorch."""
    d = wrap_dim(dim, input._data.ndim)
    length = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = _split_tensor_argument(indices_or_sections)
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f'number of sections must be larger than 0, got {n}')
        base, extra = divmod(length, n)
        sizes = [base + 1] * extra + [base] * (n - extra)
        return _pieces(Split(tuple(sizes), d), input)
    bounds = [0] + [int(i) for i in indices_or_sections] + [None]
    spans = [slice(a, b).indices(length)[:2] for a, b in zip(bounds, bounds[1:])]
    if all(e >= s for s, e in spans) and \
            all(before[1] == after[0] for before, after in zip(spans, spans[1:])):
        # consecutive pieces: one node for all of them
        return _pieces(Split(tuple(e - s for s, e in spans), d), input)
    return tuple(input.narrow(d, min(s, length), max(e - s, 0)) for s, e in spans)


def _split_tensor_argument(t):
    """tensor_split's tensor argument: a 0-d int tensor is a number of sections, a 1-D one the
    indices (PyTorch's checks and messages)."""
    if t.dim() > 1:
        raise RuntimeError(f'tensor_split expected tensor_indices_or_sections to be a '
                           f'zero-dimensional or one-dimensional tensor, but got a tensor with '
                           f'{t.dim()} dims')
    if t._data.dtype != np.int64:
        raise RuntimeError(f'tensor_split expected tensor_indices_or_sections to have dtype of '
                           f'long, but got {_type_word(t._data.dtype)}')
    return int(t.item()) if t.dim() == 0 else t.tolist()


def unbind(input, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    return _pieces(Split((1,) * input._data.shape[d], d, squeeze=True), input)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)
