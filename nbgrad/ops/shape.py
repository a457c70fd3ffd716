"""Shape ops that copy: cat, stack, flip, roll, repeat, tile, tril/triu, diag, clone, dtype and device
conversion."""
import numpy as np

from .._out import accepts_out
from .. import _dtype, _memory_format
from .._bfloat16 import refuse_on_gpu
from .._dispatch import dispatch
from .._tensor import Size, Tensor
from .._sparse_coo import SparseCOO
from ..autograd.graph import Node
from ._util import (broadcast_error, int_like, scan_accumulator, wrap_dim, promote, xp_of,
                    shape_arg)


def _same_device(tensors, name):
    kinds = {t._data.__class__ is np.ndarray for t in tensors}
    if len(kinds) > 1:
        devices = sorted({str(t.device) for t in tensors})
        raise RuntimeError(f'Expected all tensors to be on the same device, but found at least two '
                           f'devices, {devices[0]} and {devices[1]}! (when checking argument for '
                           f'{name}). Move them with .to(device) first.')


class Cat(Node):
    complex_autograd = True
    contiguous_output = True
    def __init__(self, dim):
        self.dim = dim

    def forward(self, *arrays):
        dt = promote(arrays)
        # PyTorch (legacy) skips 1-D empty tensors in cat, whatever the other shapes are
        kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)] or list(arrays[:1])
        ref = kept[0]
        for number, a in enumerate(kept):
            if a.ndim != ref.ndim:
                raise RuntimeError(f'Tensors must have same number of dimensions: got {ref.ndim} '
                                   f'and {a.ndim}')
            for d in range(a.ndim):
                if d != self.dim and a.shape[d] != ref.shape[d]:
                    raise RuntimeError(f'Sizes of tensors must match except in dimension '
                                       f'{self.dim}. Expected size {ref.shape[d]} but got size '
                                       f'{a.shape[d]} for tensor number {number} in the list.')
        self._sizes = [a.shape[self.dim] if a.ndim == ref.ndim else 0 for a in arrays]
        return xp_of(*kept).concatenate([a.astype(dt, copy=False) for a in kept], axis=self.dim)

    def backward(self, g):
        grads = []
        start = 0
        for size, edge in zip(self._sizes, self._edges):
            if edge is None:
                grads.append(None)
            elif size == 0 and g.dim() != len(edge[2]):
                grads.append(g.new_zeros(edge[2]))
            else:
                grads.append(g.narrow(self.dim, start, size))
            start += size
        return tuple(grads)


@accepts_out(cast_error=TypeError)
def cat(tensors, dim=0, *, out=None):
    tensors = tensor_sequence(tensors, 'cat')
    if not tensors:
        raise ValueError('torch.cat(): expected a non-empty list of Tensors')
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(t).__name__}')
    if any(t._data.__class__ is SparseCOO for t in tensors):     # (sparse COO: its own cat)
        from ..sparse._concat import cat_tensors
        return cat_tensors(tensors, dim)
    _same_device(tensors, 'cat')
    ref = next((t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)),
               tensors[0])
    if ref._data.ndim == 0:
        raise RuntimeError(f'zero-dimensional tensor (at position {tensors.index(ref)}) cannot be '
                           f'concatenated')
    return dispatch(Cat(wrap_dim(dim, ref._data.ndim)), *tensors)


concat = concatenate = cat


class Stack(Node):
    complex_autograd = True
    contiguous_output = True
    def __init__(self, dim):
        self.dim = dim

    def forward(self, *arrays):
        dt = promote(arrays)
        return xp_of(*arrays).stack([a.astype(dt, copy=False) for a in arrays], axis=self.dim)

    def backward(self, g):
        return tuple(piece if edge is not None else None
                     for piece, edge in zip(g.unbind(self.dim), self._edges))


def stack(tensors, dim=0):
    tensors = tensor_sequence(tensors, 'stack')
    if not tensors:
        raise RuntimeError('stack expects a non-empty TensorList')
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(t).__module__.replace("builtins", "")}'
                            f'{"." if type(t).__module__ != "builtins" else ""}'
                            f'{type(t).__name__}')
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f'stack expects each tensor to be equal size, but got '
                               f'{list(shape)} at entry 0 and {list(t.shape)} at entry {i}')
    if any(t._data.__class__ is SparseCOO for t in tensors):     # (sparse COO: its own stack)
        from ..sparse._concat import stack_tensors
        return stack_tensors(tensors, dim)
    _same_device(tensors, 'stack')
    return dispatch(Stack(wrap_dim(dim, len(shape) + 1)), *tensors)


def tensor_sequence(tensors, name):
    """The list of a cat-like function's `tensors`: a list or tuple, as PyTorch's parser takes
    (a Tensor, a generator or a set is refused: cat(x) would read x's rows as the tensors)."""
    if tensors.__class__ not in (list, tuple) and not isinstance(tensors, (list, tuple)):
        kind = type(tensors)
        shown = kind.__name__ if kind.__module__ == 'builtins' or isinstance(tensors, Tensor) \
            else f'{kind.__module__}.{kind.__name__}'
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f'not {shown}')
    return list(tensors)


def _nonempty(tensors, name):
    tensors = tensor_sequence(tensors, name)
    if not tensors:
        raise RuntimeError(f'{name} expects a non-empty TensorList')
    return tensors


def hstack(tensors):
    tensors = [t if t.dim() else t.reshape(1) for t in _nonempty(tensors, 'hstack')]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if t.dim() < 2 else t for t in _nonempty(tensors, 'vstack')], 0)


row_stack = vstack


def dstack(tensors):
    tensors = _nonempty(tensors, 'dstack')

    def at_least_3d(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, -1, 1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t
    return cat([at_least_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.dim() < 2 else t
                   for t in _nonempty(tensors, 'column_stack')])


class Flip(Node):
    complex_autograd = True
    def __init__(self, dims):
        self.dims = dims

    def forward(self, a):
        return xp_of(a).flip(a, self.dims).copy()  # a copy: PyTorch has no negative strides

    def backward(self, g):
        return g.flip(self.dims)


def flip(input, *dims, **by_name):
    """flip(x, (0, 1)) or, as a method, x.flip(0, 1) or x.flip(dims=(0, 1))."""
    if by_name:
        unexpected = [k for k in by_name if k != 'dims'] or (['dims'] if dims else [])
        if unexpected:
            raise TypeError(f'flip() got an unexpected keyword argument {unexpected[0]!r}')
        dims = (by_name['dims'],)
    n = input._data.ndim
    dims = shape_arg(dims) if dims else ()
    wrapped = tuple(wrap_dim(d, n) for d in dims)
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f'dim {d} appears multiple times in the list of dims')
    if n == 0:      # a 0-d tensor has nothing to flip (its one dim index, 0 or -1, is allowed)
        wrapped = ()
    return dispatch(Flip(wrapped), input)


def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError('Input must be >= 2-d.')
    return flip(input, 1)


def flipud(input):
    if input.dim() < 1:
        raise RuntimeError('Input must be >= 1-d.')
    return flip(input, 0)


class Roll(Node):
    complex_autograd = True
    contiguous_output = True
    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, a):
        return xp_of(a).roll(a, self.shifts, self.dims)

    def backward(self, g):
        if self.dims is None:
            return g.roll(-self.shifts)
        return g.roll(tuple(-s for s in self.shifts), self.dims)


def roll(input, shifts, dims=None):
    shifts = int_like(shifts) if int_like(shifts) is not None else shifts
    dims = int_like(dims) if int_like(dims) is not None else dims
    if dims is None:
        if not isinstance(shifts, int):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise RuntimeError('roll: when dims is not given, shifts must be a single int')
            shifts = shifts[0]
        return dispatch(Roll(shifts, None), input)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:'
                           f'{len(dims)}')
    n = input._data.ndim
    if n == 0:
        raise IndexError(f'Dimension specified as {dims[0]} but tensor has no dimensions')
    return dispatch(Roll(shifts, tuple(wrap_dim(d, n) for d in dims)), input)


class Repeat(Node):
    complex_autograd = True
    contiguous_output = True
    def __init__(self, repeats):
        self.repeats = repeats

    def forward(self, a):
        self._input_shape = (1,) * (len(self.repeats) - a.ndim) + a.shape
        return xp_of(a).tile(a.reshape(self._input_shape), self.repeats)

    def backward(self, g):
        # view each dim d as (repeats[d], size[d]) and sum the repeats away
        interleaved = []
        for r, s in zip(self.repeats, self._input_shape):
            interleaved += [r, s]
        summed = g.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        n_in = len(self._edges[0][2]) if self._edges[0] is not None else len(self._input_shape)
        return summed.reshape(self._edges[0][2]) if n_in != len(self._input_shape) else summed


def repeat(input, *sizes):
    sizes = shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError('Number of dimensions of repeat dims can not be smaller than number of '
                           'dimensions of tensor')
    if any(n < 0 for n in sizes):
        padded = (1,) * (len(sizes) - input._data.ndim) + tuple(input._data.shape)
        target = [n * m for n, m in zip(sizes, padded)]
        bad = next(t for t in target if t < 0) if any(t < 0 for t in target) else \
            next(n for n in sizes if n < 0)
        raise RuntimeError(f'Trying to create tensor with negative dimension {bad}: {target}')
    return dispatch(Repeat(sizes), input)


def tile(input, dims):
    dims = tuple(dims) if not isinstance(dims, int) else (dims,)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return dispatch(Repeat(dims), input)


class RepeatInterleave(Node):
    complex_autograd = True
    def __init__(self, repeats, dim):
        self.repeats, self.dim = repeats, dim

    def forward(self, a):
        self._input_shape = a.shape
        if self.dim is None:
            a = a.reshape(-1)
        return xp_of(a).repeat(a, self.repeats, axis=0 if self.dim is None else self.dim)

    def backward(self, g):
        dim = 0 if self.dim is None else self.dim
        reps = self.repeats
        if isinstance(reps, int):
            shape = list(g.shape)
            shape[dim:dim + 1] = [shape[dim] // reps, reps]
            out = g.reshape(shape).sum(dim + 1)
        else:
            # segment sums: index_add with each output position's source index
            idx = np.repeat(np.arange(len(reps)), reps)
            from .._creation import zeros
            size = list(g.shape)
            size[dim] = len(reps)
            out = zeros(size, dtype=g.dtype, device=g.device).index_add(
                dim, Tensor._make(xp_of(g._data).asarray(idx)), g)
        return out.reshape(self._input_shape)


def _repeat_counts(repeats):
    """A tensor of repeat counts must hold int32 or int64 (PyTorch's kernel's types)."""
    if repeats._data.dtype not in (np.int32, np.int64):
        from .._dispatch import no_kernel
        raise no_kernel('repeat_interleave_cpu', repeats._data.dtype)
    return repeats


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(repeats_tensor): indices repeated, in its dtype
        counts = _repeat_counts(input).tolist()
        from .._creation import arange
        return repeat_interleave(arange(len(counts), dtype=input.dtype, device=input.device),
                                 input)
    d = None if dim is None else wrap_dim(dim, input._data.ndim)
    length = input._data.size if d is None else input._data.shape[d]
    if isinstance(repeats, Tensor):
        repeats = _repeat_counts(repeats)
        if repeats.dim() > 1:
            raise RuntimeError('repeats must be 0-dim or 1-dim tensor')
        if repeats.dim() and repeats.numel() != length:
            raise RuntimeError(f'repeats must have the same size as input along dim, but got '
                               f'repeats.size(0) = {repeats.numel()} and input.size({d or 0}) = '
                               f'{length}')
        repeats = repeats.tolist() if repeats.dim() else int(repeats.item())
        if any(r < 0 for r in (repeats if isinstance(repeats, list) else [repeats])):
            raise RuntimeError('repeats can not be negative')
    elif repeats < 0:
        raise RuntimeError('Repeats must be non-negative')
    if output_size is not None:
        total = sum(repeats) if isinstance(repeats, list) else repeats * length
        if output_size != total:
            raise RuntimeError('allocated size does not match required size'
                               if isinstance(repeats, list) else
                               f'repeat_interleave: Invalid output_size, expected {total} but '
                               f'got {output_size}')
    return dispatch(RepeatInterleave(repeats, d), input)


class Triangle(Node):
    complex_autograd = True
    contiguous_output = True
    def __init__(self, upper, diagonal):
        self.upper, self.diagonal = upper, diagonal

    def forward(self, a):
        if a.ndim < 2:
            raise RuntimeError(f'{"triu" if self.upper else "tril"}: input tensor must have at least '
                               f'2 dimensions')
        xp = xp_of(a)
        return (xp.triu if self.upper else xp.tril)(a, self.diagonal)

    def backward(self, g):
        return g.triu(self.diagonal) if self.upper else g.tril(self.diagonal)

    def name(self):
        return 'TriuBackward0' if self.upper else 'TrilBackward0'


def tril(input, diagonal=0):
    return dispatch(Triangle(False, diagonal), input)


def triu(input, diagonal=0):
    return dispatch(Triangle(True, diagonal), input)


class Diag(Node):
    complex_autograd = True
    def __init__(self, diagonal):
        self.diagonal = diagonal

    def forward(self, a):
        if a.ndim not in (1, 2):
            raise RuntimeError(f'diag(): Supports 1D or 2D tensors. Got {a.ndim}D')
        self._input_shape = a.shape
        return xp_of(a).diag(a, self.diagonal).copy()

    def backward(self, g):
        if len(self._input_shape) == 1:
            return g.diagonal(self.diagonal)
        from .._creation import zeros
        out = zeros(self._input_shape, dtype=g.dtype, device=g.device)
        return out.diagonal_scatter(g, self.diagonal)


def diag(input, diagonal=0):
    return dispatch(Diag(diagonal), input)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """input's last dim on the diagonal (offset) of the dims dim1, dim2 of a result one dim
    larger; the other dims keep their order."""
    rank = input.dim() + 1
    d1, d2 = wrap_dim(dim1, rank), wrap_dim(dim2, rank)
    if input.dim() == 0:     # (PyTorch's error: dim1 of a 0-dim input)
        wrap_dim(dim1, 0)
    n = input.shape[-1] + abs(offset)
    if d1 == d2:
        raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    from .._creation import zeros
    out = zeros(tuple(shape), dtype=input.dtype, device=input.device)
    return out.diagonal_scatter(input, offset, d1, d2)


def diagflat(input, offset=0):
    return diag(input.reshape(-1), offset)


class _ViewScatter(Node):
    """input with one of its views replaced by src (diagonal_, select_ and slice_scatter): a
    copy of input whose view takes src's values. Gradients: g with the view zeroed for input,
    the view of g for src."""
    complex_autograd = True

    def __init__(self, name, view):
        self.scatter_name, self.view = name, view   # view(x) -> the view, arrays and Tensors

    def forward(self, a, src):
        out = a.copy()
        target = self.view(out)
        if target.shape != src.shape:
            raise RuntimeError(f'{self.scatter_name}: expected src to have a size equal to the '
                               f'slice of self. src size = {list(src.shape)}, slice size = '
                               f'{list(target.shape)}')
        target[...] = src
        return out

    def backward(self, g):
        e = self._edges
        gs = self.view(g) if e[1] is not None else None
        ga = None
        if e[0] is not None:
            ga = dispatch(_ViewScatter(self.scatter_name, self.view), g,
                          (gs if gs is not None else self.view(g)) * 0)
        return ga, gs

    def name(self):
        return ''.join(part.capitalize() for part in self.scatter_name.split('_')) + 'Backward0'


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    from .views import Diagonal
    dim1, dim2 = wrap_dim(dim1, input.dim()), wrap_dim(dim2, input.dim())

    def view(x):   # (NumPy's own diagonal is read-only)
        return x.diagonal(offset, dim1, dim2) if isinstance(x, Tensor) else \
            Diagonal(offset, dim1, dim2).forward(x)
    return dispatch(_ViewScatter('diagonal_scatter', view), input, src)


def select_scatter(input, src, dim, index):
    dim = wrap_dim(dim, input.dim())
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f'select(): index {index} out of range for tensor of size '
                         f'{list(input.shape)} at dimension {dim}')
    # (Ellipsis last: selecting from a 1-d array gives a 0-d view to write into, not a scalar)
    where = (slice(None),) * dim + (index, Ellipsis)
    return dispatch(_ViewScatter('select_scatter', lambda x: x[where]), input, src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    dim = wrap_dim(dim, input.dim())
    if step <= 0:
        raise RuntimeError('slice step must be positive')
    where = (slice(None),) * dim + (slice(start, end, step),)
    return dispatch(_ViewScatter('slice_scatter', lambda x: x[where]), input, src)


class Clone(Node):
    """A copy: in the input's permuted dense layout (order 'K', PyTorch's preserve_format), in
    C order (None), or in a dimension order from _memory_format.dim_order (channels-last)."""
    complex_autograd = True
    sees_bfloat16 = True

    def __init__(self, order='K'):
        self.order = order

    def forward(self, a):
        if self.order == 'K':
            order = _memory_format.dense_order(a)
            if order is None:   # C-contiguous, or with gaps: a C-ordered copy, as PyTorch's
                return a.copy()
            if a.__class__ is np.ndarray:
                return a.copy(order='K')
            out = _memory_format.empty_in_order(xp_of(a), a.shape, a.dtype, order)
            out[...] = a        # (CuPy's copy() would give C order)
            return out
        if self.order is None:
            return a.copy()
        out = _memory_format.empty_in_order(xp_of(a), a.shape, a.dtype, self.order)
        out[...] = a
        return out

    def backward(self, g):
        return g


def clone(input, *, memory_format=None):
    """A copy: in the input's dense layout (preserve_format, the default), in C order
    (contiguous_format), or channels-last (NHWC / NDHWC strides, as PyTorch's)."""
    if memory_format is None or memory_format is _memory_format.preserve_format:
        return dispatch(Clone('K'), input)
    return dispatch(Clone(_memory_format.dim_order(memory_format, input.dim())), input)


def contiguous(input, *, memory_format=_memory_format.contiguous_format):
    """input itself when already laid out as memory_format asks (C order by default), else a
    copy that is."""
    if (memory_format is _memory_format.contiguous_format or memory_format is None) and \
            input._data.flags.c_contiguous:
        return input
    if memory_format is not _memory_format.preserve_format:
        order = _memory_format.dim_order(memory_format, input.dim())   # checks the rank first
    if input.is_contiguous(memory_format=memory_format):
        return input
    if memory_format is _memory_format.preserve_format:
        raise RuntimeError('preserve memory format is unsupported by the contiguous operator')
    return dispatch(Clone(order), input)


class ToCopy(Node):
    """Dtype, device and/or layout conversion (order as Clone's); the gradient converts back."""
    complex_autograd = True
    sees_meta = True
    sees_bfloat16 = True

    def __init__(self, np_dtype, device, order='K'):
        self.np_dtype, self.device, self.order = np_dtype, device, order

    def forward(self, a):
        from .._arrays import MetaArray, meta_array
        from .._device import device_of_array
        self._source = (a.dtype, device_of_array(a))
        if self.device is not None:
            a = _move(a, self.device)
        if a.__class__ is MetaArray:     # (a shape and a dtype: nothing to convert)
            return meta_array(a.shape, self.np_dtype if self.np_dtype is not None else a.dtype)
        if self.np_dtype is not None and a.dtype != self.np_dtype:
            if a.__class__ is not np.ndarray:
                refuse_on_gpu(self.np_dtype)
            if self.np_dtype == np.uint8 and a.dtype.kind == 'f' and a.__class__ is not np.ndarray:
                # out of range, C++'s float -> uint8 is undefined: x86 CPUs (PyTorch's and
                # NumPy's) wrap as through int64, a GPU may saturate; nbgrad wraps on both
                a = a.astype(np.int64)
            # (PyTorch's preserve_format keeps a dense layout; an expanded or gapped input's
            # copy is C-ordered, where NumPy's order='K' would follow its strides)
            dense = a.__class__ is not np.ndarray or a.flags.c_contiguous or \
                _memory_format.dense_order(a) is not None
            if a.dtype == np.float64 and _dtype.is_reduced_float(self.np_dtype):
                # through float32, as c10::Half and c10::BFloat16 take a double (one rounding
                # more: 1 + 2^-11 + 2^-40 is 1.0 in half, not 1.0009765625)
                a = a.astype(np.float32, order='K' if dense else 'C')
            a = a.astype(self.np_dtype, order='K' if dense else 'C')
        if self.order != 'K':
            a = Clone(self.order).forward(a)
        return a

    def backward(self, g):
        dtype, target = self._source
        if g._data.dtype.kind == 'c' and np.dtype(dtype).kind != 'c':
            g = g.real      # a real tensor made complex: the real part (PyTorch's)
        return g.to(dtype=_dtype.from_numpy_dtype(dtype), device=target)


def _move(a, device):
    from .._arrays import MetaArray, NO_DATA, meta_array
    from .._device import array_module_for, concrete_cuda_index
    if device.type == 'meta':
        return meta_array(a.shape, a.dtype)
    if a.__class__ is MetaArray:
        raise NotImplementedError(NO_DATA)
    if device.type == 'cpu':
        return a if a.__class__ is np.ndarray else a.get()
    refuse_on_gpu(a.dtype)
    xp = array_module_for(device)
    index = concrete_cuda_index(device)
    if a.__class__ is not np.ndarray and a.device.id == index:
        return a
    with xp.cuda.Device(index):
        return xp.asarray(a)


def to_copy(input, dtype=None, device=None, copy=False, memory_format=None):
    """Tensor.to's worker: returns `input` itself when nothing changes (unless copy=True)."""
    np_dtype = dtype.np if dtype is not None else None
    same_dtype = np_dtype is None or input._data.dtype == np_dtype
    same_device = device is None or device == input.device or (
        device.type == 'cuda' and device.index is None and input.is_cuda)
    if memory_format is None or memory_format is _memory_format.preserve_format:
        order, same_layout = 'K', True
    else:
        order = _memory_format.dim_order(memory_format, input.dim())
        same_layout = input.is_contiguous(memory_format=memory_format)
    if same_dtype and same_device and same_layout:
        return dispatch(Clone(), input) if copy else input
    return dispatch(ToCopy(np_dtype, None if same_device else device,
                           'K' if same_layout else order), input)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shapes = [tuple(t.shape) for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error(shapes) from None
    # a tensor that already has the shape comes back itself, as in PyTorch (no view)
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    for s in shapes:   # (a tensor would pass NumPy's checks as a list of its elements)
        if isinstance(s, Tensor):
            raise RuntimeError(f'Input shapes should be of type ints, a tuple of ints, or a list '
                               f'of ints, got {s}')
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        pass
    result = []  # PyTorch's message names the first argument that does not fit the shapes before it
    for index, shape in enumerate(shapes):
        result = [1] * (len(shape) - len(result)) + result
        for k in range(1, len(shape) + 1):
            have, want = shape[-k], result[-k]
            if have != 1 and want not in (1, have):
                raise RuntimeError(f'Attempting to broadcast a dimension of length {have} at '
                                   f'-{k}! Mismatching argument at index {index} had {shape}; but '
                                   f'expected shape should be broadcastable to {result}')
            if want == 1:
                result[-k] = have


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn('torch.meshgrid: in an upcoming release, it will be required to pass the '
                      'indexing argument.', UserWarning, stacklevel=2)
        indexing = 'ij'
    if indexing not in ('ij', 'xy'):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if not tensors:
        raise RuntimeError('meshgrid expects a non-empty TensorList')
    if any(t.dtype != tensors[0].dtype for t in tensors):
        raise RuntimeError('meshgrid expects all tensors to have the same dtype')
    for t in tensors:   # (a larger one would be flattened: another grid than asked for)
        if t.dim() > 1:
            raise RuntimeError(f'torch.meshgrid: Expected 0D or 1D tensor in the tensor list but '
                               f'got: {t}')
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == 'xy' and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        view_shape = [1] * n
        pos = i
        if indexing == 'xy' and n >= 2 and i < 2:
            pos = 1 - i
        view_shape[pos] = -1
        out.append(t.reshape(view_shape).expand(shape))
    return tuple(out)


def cartesian_prod(*tensors):
    if not tensors:
        raise RuntimeError('meshgrid expects a non-empty TensorList')
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f'Expect a 1D vector, but got shape {list(t.shape)}')
    grids = meshgrid(*tensors, indexing='ij')
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in grids], 1)


def rot90(input, k=1, dims=(0, 1)):
    n = input.dim()
    if len(dims) != 2:
        raise RuntimeError(f'expected total rotation dims == 2, but got dims = {len(dims)}')
    if n < 2:
        raise RuntimeError(f'expected total dims >= 2, but got total dims = {n}')
    d0, d1 = dims
    if d0 == d1 or abs(d0 - d1) == n:
        raise RuntimeError(f'expected rotation dims to be different, but got dim0 = {d0} and '
                           f'dim1 = {d1}')
    for name, d in (('dim0', d0), ('dim1', d1)):
        if not -n <= d < n:
            raise RuntimeError(f'Rotation {name} out of range, {name} = {d}')
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip((d0, d1))
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


class BlockDiag(Node):
    """block_diag: each input (0-d as 1x1, 1-d as one row) on the diagonal of a zero matrix."""
    complex_autograd = True

    def forward(self, *arrays):
        dt = promote(arrays)
        blocks = [a.reshape(a.shape if a.ndim == 2 else (1, a.size)) for a in arrays]
        rows = sum(b.shape[0] for b in blocks)
        cols = sum(b.shape[1] for b in blocks)
        out = xp_of(*arrays).zeros((rows, cols), dt)
        self._corners = []
        r = c = 0
        for b in blocks:
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            self._corners.append((r, c, b.shape))
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    def backward(self, g):
        # each input's block, back in the input's own shape (the engine casts its dtype)
        return tuple(None if edge is None else
                     g[r:r + h, c:c + w].reshape(edge[2])
                     for (r, c, (h, w)), edge in zip(self._corners, self._edges))


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (0-, 1- or 2-d), in their promoted dtype."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                            f'{type(t).__name__}')
    if not tensors:
        from .._creation import empty
        return empty(1, 0)
    for i, t in enumerate(tensors):
        if t.device != tensors[0].device:
            raise RuntimeError(f'Input tensors must all be on the same device. Input 0 is on '
                               f'device {tensors[0].device} and input {i} is on device '
                               f'{t.device}.')
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f'torch.block_diag: Input tensors must have 2 or fewer dimensions. '
                               f'Input {i} has {t.dim()} dimensions')
    return dispatch(BlockDiag(), *tensors)


def _atleast(name, widen):
    """atleast_Nd: one tensor in, one out; several tensors (or one list/tuple) in, a tuple out.
    Tensors with enough dims come back as they are, the others as views (PyTorch's shapes:
    a 1-d tensor is a row, and atleast_3d puts it in the middle, (1, n, 1))."""
    def fn(*tensors):
        arg = tensors[0] if len(tensors) == 1 else tensors
        if isinstance(arg, Tensor):
            return widen(arg)
        if not isinstance(arg, (list, tuple)):
            got = type(arg).__name__
            why = ("      didn't match because some of the arguments have invalid types: "
                   f"(!{got}!)\n")
            raise TypeError(f'{name}() received an invalid combination of arguments - got '
                            f'({got}), but expected one of:\n * (Tensor input)\n{why} * (tuple of '
                            f'Tensors tensors)\n{why}')
        for i, t in enumerate(arg):
            if not isinstance(t, Tensor):
                raise TypeError(f'expected Tensor as element {i} in argument 0, but got '
                                f'{type(t).__name__}')
        return tuple(widen(t) for t in arg)
    fn.__name__ = fn.__qualname__ = name
    return fn


def _widen_1d(t):
    return t.reshape(1) if t.dim() == 0 else t


def _widen_2d(t):
    n = t.dim()
    return t.reshape(1, 1) if n == 0 else t.unsqueeze(0) if n == 1 else t


def _widen_3d(t):
    n = t.dim()
    if n == 0:
        return t.reshape(1, 1, 1)
    if n == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if n == 2 else t


atleast_1d = _atleast('atleast_1d', _widen_1d)
atleast_2d = _atleast('atleast_2d', _widen_2d)
atleast_3d = _atleast('atleast_3d', _widen_3d)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-d tensor's elements, one per row, in itertools' order
    (PyTorch's masked meshgrid gives the same lexicographic order). Differentiable: each column
    gathers from input."""
    import itertools
    from ._args import int_arg, tensor_arg
    input = tensor_arg(input, 'combinations', 'input', 1)
    r = int_arg(r, 'combinations', 'r', 2)
    if input.dim() != 1:
        raise RuntimeError(f'Expect a 1D vector, but got shape {list(input.shape)}')
    if r < 0:
        raise RuntimeError(f'Expect a non-negative number, but got {r}')
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    n = input.shape[0]
    index = np.fromiter(itertools.chain.from_iterable(pick(range(n), r)), np.int64).reshape(-1, r)
    from .._creation import tensor
    index = tensor(index.T, device=input.device)  # one row per output column
    return stack([input.index_select(0, column) for column in index.unbind(0)], 1)


def vander(x, N=None, increasing=False):
    """Columns x^(N-1), ..., x, 1 (or increasing), computed as PyTorch does: a running product
    (cumprod), so floats round as PyTorch's do. Integer and bool inputs give int64.

    PyTorch builds it with an in-place cumprod over its own input, and its backward then
    raises; nbgrad's gradient is the product's (torch.linalg.vander's, flipped)."""
    from ._args import int_arg, tensor_arg
    from .. import _dtype as dtypes
    x = tensor_arg(x, 'vander', 'x', 1)
    if x.dim() != 1:
        raise RuntimeError('x must be a one-dimensional tensor.')
    n = x.shape[0] if N is None else int_arg(N, 'vander', 'N', 2)
    if n < 0:
        raise RuntimeError('N must be non-negative.')
    if x._data.dtype.kind in 'biu':
        x = x.to(dtypes.int64)
    ones = x.new_ones((x.shape[0], min(n, 1)))
    if n <= 1:
        return ones  # no power of x in it: not differentiable, as in PyTorch
    # PyTorch's CPU cumprod keeps its running product in a wider type and rounds each output:
    # so does this one, on every device (its CUDA scan would stay in float32)
    wide = scan_accumulator(np, x._data.dtype)
    base = x.to(dtypes.from_numpy_dtype(wide)) if wide is not None else x
    powers = base.unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1).to(x.dtype)
    out = cat([ones, powers], 1)
    return out if increasing else out.flip(1)
