"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/empty/full (+ _like), arange,
linspace, logspace, eye, and the array-module plumbing for device= and dtype=."""
import collections.abc
import math
import numbers

import numpy as np

from . import _dtype
from ._bfloat16 import refuse_on_gpu
from ._arrays import NO_DATA, is_cuda_array, is_cupy_array, meta_array
from ._exact import fma32, fma64
from ._deterministic import are_deterministic_algorithms_enabled
from ._device import to_device, array_module_for, CPU, concrete_cuda_index, default_device_if_set
from ._int_scalars import fit_array, fits, overflow
from ._out import accepts_out
from ._layout import check_layout, sparse_coo
from ._profiled_calls import profiled_call
from ._tensor_subclass import keeps_input_class
from ._memory_format import preserve_format, dense_order, dim_order, empty_in_order
from ._tensor import Tensor
from .ops._util import shape_arg, size_arg, takes_size_keyword

_PY_SCALARS = (bool, int, float, complex)


def _dtype_arg(dtype, fname, default=None):
    """A factory's dtype= as PyTorch's parser takes it: an nbgrad dtype or one of Python's
    number types; a NumPy dtype or a name is its TypeError (nbgrad's own code passes dtypes)."""
    if dtype is None:
        return default
    if dtype.__class__ is not _dtype.dtype and not any(dtype is t for t in _PY_SCALARS):
        # (by identity: np.dtype('float64') == float, and PyTorch refuses it)
        from .ops._util import type_name
        raise TypeError(f"{fname}(): argument 'dtype' must be nbgrad.dtype, not "
                        f'{type_name(dtype)}')
    return _dtype.to_dtype(dtype)


def _check_numpy_source(array):
    """PyTorch's refusals of NumPy arrays it cannot take as they are (tensor, as_tensor,
    from_numpy): non-native byte order, negative strides."""
    if not array.dtype.isnative:
        raise ValueError('given numpy array has byte order different from the native byte '
                         'order. Conversion between byte orders is currently not supported.')
    if any(s < 0 for s in array.strides):
        raise ValueError('At least one stride in the given numpy array is negative, and tensors '
                         'with negative strides are not currently supported. (You can probably '
                         'work around this by making a copy of your array  with array.copy().)')


def _finish(array, requires_grad):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _on_device(np_array, device):
    """Put a NumPy array on `device` (a no-op for the CPU; its shape and dtype only for 'meta')."""
    if device.type == 'cpu':
        return np_array
    if device.type == 'meta':
        return meta_array(np.shape(np_array), np_array.dtype)
    refuse_on_gpu(np_array.dtype)
    xp = array_module_for(device)
    with xp.cuda.Device(concrete_cuda_index(device)):
        return xp.asarray(np_array)


def _alloc(xp_fn_name, shape, dtype, device, *args):
    """zeros/ones/empty/full directly on the target device (full's value already converted by
    _int_scalars.fits)."""
    device = to_device(device)
    if device.type == 'meta':     # (no memory, and no fill)
        return meta_array(shape, dtype.np)
    xp = array_module_for(device)
    if device.type == 'cpu':
        return getattr(xp, xp_fn_name)(shape, *args, dtype=dtype.np)
    refuse_on_gpu(dtype.np)
    with xp.cuda.Device(concrete_cuda_index(device)):
        return getattr(xp, xp_fn_name)(shape, *args, dtype=dtype.np)


def uninitialized(array):
    """array as memory PyTorch leaves uninitialised: under use_deterministic_algorithms(True)
    with utils.deterministic.fill_uninitialized_memory, NaN (floats, complex) or the largest
    value (integers, bool), as PyTorch fills it."""
    if not are_deterministic_algorithms_enabled():   # the common case: one flag read
        return array
    from .utils import deterministic
    if deterministic.fill_uninitialized_memory:
        kind = array.dtype.kind
        array.fill(np.nan if kind in _dtype.INEXACT_KINDS else True if kind == 'b' else np.iinfo(array.dtype).max)
    return array


def _alloc_in_order(shape, dtype, device, order):
    """An uninitialised array on device whose memory runs in `order` (a channels-last layout)."""
    device = to_device(device)
    if device.type == 'meta':
        return meta_array(shape, dtype.np)
    xp = array_module_for(device)
    if device.type == 'cpu':
        return empty_in_order(xp, shape, dtype.np, order)
    refuse_on_gpu(dtype.np)
    with xp.cuda.Device(concrete_cuda_index(device)):
        return empty_in_order(xp, shape, dtype.np, order)


# -- from data -------------------------------------------------------------------------------------

def _infer_dtype(data):
    """PyTorch's inference: Python floats -> default float, ints -> int64, bools -> bool; NumPy
    arrays and scalars keep their dtype; nested tensors keep theirs."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, str):
        raise ValueError("too many dimensions 'str'")
    if isinstance(data, (np.ndarray, np.generic)):
        return _dtype.from_numpy_dtype(data.dtype)
    if is_cuda_array(data):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple, range)):
        kinds = set(map(type, data))
        if kinds and kinds <= _PY_NUMBER_KINDS:    # (a flat list of numbers: one pass in C)
            return _dtype.scalar_dtype(next(k for k in (complex, float, int, bool)
                                            if k in kinds)())
        result = None
        for item in data:
            d = _infer_dtype(item)
            if d is None:
                continue
            result = d if result is None else _merge_inferred(result, d)
        return result
    if data.__class__ in _PY_SCALARS or isinstance(data, numbers.Number):
        return _dtype.scalar_dtype(data if data.__class__ in _PY_SCALARS else _py_number(data))
    raise RuntimeError(f'Could not infer dtype of {type(data).__name__}')


def _as_lists(data):
    """Any other Python sequence (a deque, array.array, UserList, memoryview...) read as the
    list it holds, nested ones too, as PyTorch reads any sequence."""
    if data.__class__ in (list, tuple):
        # (its items are looked at through the first: a list of deques is read as a whole,
        # a list of numbers costs one check)
        return [_as_lists(d) for d in data] if data and _generic_sequence(data[0]) else data
    return [_as_lists(d) for d in data] if _generic_sequence(data) else data


def _generic_sequence(data):
    return data.__class__ not in _PLAIN and isinstance(data, collections.abc.Sequence) and \
        not isinstance(data, (str, bytes, bytearray, Tensor))


_PLAIN = (list, tuple, range, int, float, bool, complex)


_PY_NUMBER_KINDS = frozenset((bool, int, float, complex))


def _py_number(x):
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    return complex(x)


def _merge_inferred(a, b):
    if a.category != b.category:
        return a if a.category > b.category else b
    return _dtype.promote_types(a, b)


def _to_nested_numpy(data, np_dtype):
    """Convert nested lists that may contain tensors into one NumPy array, checking it is ragged-free."""
    if isinstance(data, Tensor):
        return data.numpy(force=True)
    kind = np.dtype(np_dtype).kind
    if data.__class__ in (list, tuple) and _flat_numbers_fit(data, kind):
        pass    # (a flat list of Python numbers NumPy converts as PyTorch would: no checks)
    elif isinstance(data, (list, tuple)):
        _check_rectangular(data)
        items = list(_flat_items(data))
        if any(isinstance(x, Tensor) for x in items):
            if any(isinstance(x, Tensor) and x.numel() != 1 for x in items):
                # inside a list a tensor stands for one number, as in PyTorch
                raise ValueError('only one element tensors can be converted to Python scalars')
            data = _tensors_to_numbers(data)
        if np.dtype(np_dtype).kind in 'biuf' and any(isinstance(x, complex) for x in items):
            raise TypeError('must be real number, not complex')
        if np.dtype(np_dtype).kind in 'iu' and any(x.__class__ is np.bool_ for x in items):
            # (PyTorch reads each element of an integer tensor as an index: a NumPy bool is none)
            raise TypeError("'numpy.bool' object cannot be interpreted as an integer")
        _check_floats_fit(items, np_dtype)
    elif isinstance(data, complex) and np.dtype(np_dtype).kind in 'biuf':
        raise TypeError('must be real number, not complex')
    else:
        _check_floats_fit((data,), np_dtype)
    try:
        return np.array(data, dtype=np_dtype)
    except OverflowError:   # ints out of an integer dtype's range: PyTorch's rule
        values = np.array(data, dtype=object)
        if values.size and (values.min() < -2 ** 63 or values.max() >= 2 ** 63):
            # beyond int64 the Python int cannot even be read (c10 unpacks a long long)
            raise ValueError('Overflow when unpacking long long') from None
        return fit_array(values, np_dtype)
    except (ValueError, TypeError) as e:
        raise ValueError(f'could not convert the data to a tensor: {e}') from None


def _flat_numbers_fit(data, kind):
    """Whether data is a flat list of Python numbers that need none of the checks below: no
    complex number into a real dtype, no float into an integer one."""
    kinds = set(map(type, data))
    return kinds <= _PY_NUMBER_KINDS and not (complex in kinds and kind in 'biuf') and \
        not (float in kinds and kind in 'iu')


def _check_floats_fit(items, np_dtype):
    """PyTorch's check of Python floats going into an integer dtype: NaN, or a value beyond the
    type's range before truncation (-0.5 into uint8, 255.9 into uint8), is an overflow error,
    not a wrapped-around value."""
    if np.dtype(np_dtype).kind not in 'iu':
        return
    floats = [x for x in items if isinstance(x, float)]
    if floats:
        values = np.array(floats)
        info = np.iinfo(np_dtype)
        if np.isnan(values).any() or values.min() < float(info.min) or \
                values.max() > float(info.max):
            raise overflow(np_dtype, c_name=False)


def _tensors_to_numbers(data):
    if isinstance(data, Tensor):
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_numbers(x) for x in data]
    return data


def _flat_items(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat_items(x)
        else:
            yield x


def _check_rectangular(data, dim=0):
    """PyTorch's error for ragged nested lists: 'expected sequence of length 2 at dim 1 (got 1)'."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    if isinstance(first, (list, tuple)):
        n = len(first)
        for item in data:
            if not isinstance(item, (list, tuple)):
                raise TypeError(f'not a sequence (found {type(item).__name__} at dim {dim} '
                                f'where the first element was a sequence)')
            if len(item) != n:
                raise ValueError(f'expected sequence of length {n} at dim {dim + 1} '
                                 f'(got {len(item)})')
        for item in data:
            _check_rectangular(item, dim + 1)
    else:
        for item in data:
            if isinstance(item, (list, tuple)):
                raise TypeError(f"'{type(item).__name__}' object cannot be interpreted as an "
                                f"integer (a sequence at dim {dim + 1} where the first element "
                                f"was a number)")


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy/CuPy arrays, tensors)."""
    if isinstance(data, Tensor):
        from ._user_warning import warn_at_caller
        warn_at_caller('To copy construct from a tensor, it is recommended to use '
                       'sourceTensor.detach().clone() or sourceTensor.detach().clone().'
                       'requires_grad_(True), rather than nbgrad.tensor(sourceTensor).')
    if isinstance(data, (str, bytes, bytearray)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if data.__class__ is np.ndarray:
        _check_numpy_source(data)
    data = _as_lists(data)
    dtype = _dtype_arg(dtype, 'tensor') if dtype is not None else _infer_dtype(data)
    if dtype is None:
        dtype = _dtype.get_default_dtype()  # empty list
    if device is None:
        device = default_device_if_set()
    device = to_device(device) if device is not None else (
        data.device if isinstance(data, Tensor) else _device_of_data(data))
    if isinstance(data, Tensor) and data.is_meta:     # (a shape and a dtype: no data to copy)
        if device.type != 'meta':
            raise NotImplementedError(NO_DATA)
        return _finish(meta_array(tuple(data.shape), dtype.np), requires_grad)
    if is_cuda_array(data) or (isinstance(data, Tensor) and data.is_cuda):
        raw = data._data if isinstance(data, Tensor) else data
        if device.type == 'cuda':
            xp = array_module_for(device)
            with xp.cuda.Device(concrete_cuda_index(device)):
                return _finish(xp.array(raw, dtype=dtype.np, copy=True), requires_grad)
        data = raw.get()
    if _dtype.is_reduced_float(dtype.np):
        # Python floats through float32, as c10::Half and c10::BFloat16 take a double
        array = _to_nested_numpy(data, np.dtype(np.float32))
    else:
        array = _to_nested_numpy(data, dtype.np)
    if array.dtype != dtype.np:
        array = array.astype(dtype.np)
    source = data._data if isinstance(data, Tensor) else data
    if device.type == 'cpu' and isinstance(source, np.ndarray) and np.may_share_memory(array,
                                                                                        source):
        array = array.copy()  # tensor() always copies
    return _finish(_on_device(array, device), requires_grad)


def _device_of_data(data):
    if is_cuda_array(data):
        from ._device import device_of_array
        return device_of_array(data)
    return to_device(None)      # the default device


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with `data` when dtype and device already match."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if is_cupy_array(data) and (dtype is None or data.dtype == dtype.np) and (
            device is None or _same_gpu(to_device(device), data)):
        return Tensor._make(data)  # a CuPy array on the requested device: shared, as in PyTorch
    if isinstance(data, np.ndarray) and not is_cupy_array(data) and \
            to_device(device).type == 'cpu':
        _check_numpy_source(data)
        if dtype is None or data.dtype == dtype.np:
            return from_numpy(data)
        return Tensor._make(np.asarray(data, dtype=dtype.np))  # a converted copy
    return tensor(data, dtype=dtype, device=device)


def _same_gpu(device, data):
    return device.type == 'cuda' and concrete_cuda_index(device) == data.device.id


_NOT_GIVEN = object()


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=_NOT_GIVEN):
    """obj as a tensor, sharing memory where it can. A tensor that requires grad keeps its
    graph unless requires_grad=False is passed, which detaches it (PyTorch's parser tells the
    default from an explicit False; the signature below shows the default as False)."""
    if copy:
        t = (obj.detach().clone().to(dtype=_dtype.to_dtype(dtype) if dtype is not None else None,
                                      device=device) if isinstance(obj, Tensor)
             else tensor(obj, dtype=dtype, device=device))
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad is False and t.requires_grad:
        t = t.detach()
    elif requires_grad is not _NOT_GIVEN and requires_grad:
        t.requires_grad_()
    return t


def _with_false_default(fn):
    import inspect
    signature = inspect.signature(fn)
    fn.__signature__ = signature.replace(parameters=[
        p.replace(default=False) if p.name == 'requires_grad' else p
        for p in signature.parameters.values()])
    return fn


_with_false_default(asarray)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the memory of an object with the buffer protocol (bytearray,
    array.array, mmap...), shared: writes through the tensor change the buffer. PyTorch's
    checks, with its messages."""
    dt = _dtype.to_dtype(dtype)
    size = np.dtype(dt.np).itemsize
    length = memoryview(buffer).nbytes
    if length <= 0 or count == 0:
        raise ValueError(f'both buffer length ({length}) and count ({count}) must not be 0')
    if not 0 <= offset < length:
        raise ValueError(f'offset ({offset} bytes) must be non-negative and no greater than '
                         f'buffer length ({length} bytes) minus 1')
    if count < 0:
        if (length - offset) % size:
            raise ValueError(f'buffer length ({length - offset} bytes) after offset ({offset} '
                             f'bytes) must be a multiple of element size ({size})')
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(f'requested buffer length ({count} * {size} bytes) after offset '
                         f'({offset} bytes) must not be greater than actual buffer length '
                         f'({length} bytes)')
    out = from_numpy(np.frombuffer(buffer, dtype=dt.np, count=count, offset=offset))
    return out.requires_grad_() if requires_grad else out


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (writes through either show in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(ndarray).__name__})')
    _check_numpy_source(ndarray)
    _dtype.from_numpy_dtype(ndarray.dtype)  # clear error for unsupported dtypes
    if ndarray.__class__ is not np.ndarray:  # np.memmap, np.matrix...: the plain array, shared
        ndarray = ndarray.view(np.ndarray)
    if not ndarray.flags.writeable:
        from ._user_warning import warn_at_caller
        warn_at_caller('The given NumPy array is not writable. In-place ops on this tensor will '
                       'write into it if NumPy lets them, or raise if its memory is immutable '
                       '(a bytes object). Copy the array first to protect its data.')
    return Tensor._make(ndarray)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing the memory of a DLPack producer (NumPy, CuPy, PyTorch, JAX...) or of
    a DLPack capsule (consumed: a capsule gives one tensor); copy=True gives a copy, device=
    moves it there (a copy unless it is there already)."""
    shared = _from_dlpack(ext_tensor)
    if device is not None:
        shared = shared.to(device)
    return shared.clone() if copy else shared


def _from_dlpack(ext_tensor):
    from . import _dlpack_capsule
    if _dlpack_capsule.is_capsule(ext_tensor):
        ext_tensor = _dlpack_capsule.CapsuleExporter(ext_tensor)
    device_type, device_id = ext_tensor.__dlpack_device__()
    if device_type == 1:  # kDLCPU
        return Tensor._make(_dlpack_capsule.import_cpu(ext_tensor))
    from ._device import cupy_module
    cupy = cupy_module()
    return Tensor._make(cupy.from_dlpack(ext_tensor))


# -- filled ----------------------------------------------------------------------------------------

def _factory(kind):
    def make(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
        shape = size_arg(size, kind)
        if layout is sparse_coo and kind == 'zeros':
            return _no_entries(shape, dtype, device, requires_grad)
        check_layout(layout, kind)
        dt = _dtype_arg(dtype, kind, _dtype.get_default_dtype())
        return _finish(_alloc(kind, shape, dt, device), requires_grad)
    make.__name__ = make.__qualname__ = kind
    make.__doc__ = f'A tensor of the given size filled with {kind} (default dtype float32).'
    return takes_size_keyword(accepts_out(make, factory=True))


@takes_size_keyword
@accepts_out(factory=True)
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor of the given size, C-ordered or in memory_format's layout."""
    shape = size_arg(size, 'empty')
    if layout is sparse_coo:
        return _no_entries(shape, dtype, device, requires_grad)
    check_layout(layout, 'empty')
    dt = _dtype_arg(dtype, 'empty', _dtype.get_default_dtype())
    if memory_format is preserve_format:
        raise RuntimeError('unsupported memory format Preserve')
    order = dim_order(memory_format, len(shape))
    if order is None:
        return _finish(uninitialized(_alloc('empty', shape, dt, device)), requires_grad)
    _check_shape(shape, 'empty')
    return _finish(uninitialized(_alloc_in_order(shape, dt, device, order)), requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor of `size` whose memory runs in `physical_layout` (dims from the
    outermost to the innermost): empty_permuted((2, 3, 4), (0, 2, 1)) has strides (12, 1, 3)."""
    check_layout(layout, 'empty_permuted')
    shape, order = tuple(size), tuple(physical_layout)
    if len(order) != len(shape):
        raise RuntimeError(f'Number of dimensions in size does not match the length of the '
                           f'physical_layout; i.e. len(size) = {len(shape)} is not equal to '
                           f'len(physical_layout) = {len(order)}')
    for i, d in enumerate(order):
        if not 0 <= d < len(shape):
            raise RuntimeError(f'Dimension out of range (expected to be between 0 and '
                               f'{len(shape) - 1}, but got {d} at index {i}).  NB: negative '
                               'dims not currently supported; file an issue if you want it.')
    if len(set(order)) != len(order):
        raise RuntimeError('Duplicate dim not allowed')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    _check_shape(shape, 'empty_permuted')
    return _finish(uninitialized(_alloc_in_order(shape, dt, device, order)), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor with the given strides, over fresh memory just large enough for
    them (overlapping strides give elements that share memory, as in PyTorch)."""
    check_layout(layout, 'empty_strided')
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f'mismatch in length of strides and shape ({len(stride)} vs '
                           f'{len(size)})')
    _check_shape(size, 'empty_strided')
    if any(st < 0 for st in stride):
        raise RuntimeError(f'as_strided: Negative strides are not supported at the moment, got '
                           f'strides: {list(stride)}')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if to_device(device).type == 'meta':     # (PyTorch's meta strides are given ones; nbgrad's
        return _finish(meta_array(size, dt.np), requires_grad)   # meta tensors are contiguous)
    needed = 1 + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    memory = uninitialized(_alloc('empty', (needed,), dt, device))
    xp = np if memory.__class__ is np.ndarray else array_module_for(to_device(device))
    array = xp.lib.stride_tricks.as_strided(memory, size, tuple(st * memory.itemsize
                                                                 for st in stride))
    return _finish(array, requires_grad)


def _check_shape(shape, name):
    if any(s < 0 for s in shape):
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(shape)}: '
                           f'{list(shape)} (in {name})')


zeros = _factory('zeros')
ones = _factory('ones')


@accepts_out(factory=True)
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    check_layout(layout, 'full')
    shape = shape_arg((size,) if isinstance(size, int) else size)
    _check_shape(shape, 'full')
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = _dtype_arg(dtype, 'full') if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _finish(_alloc('full', shape, dt, device, fits(fill_value, dt.np)), requires_grad)


def _alloc_like(kind, input, dtype, device, memory_format, *args):
    """A new array shaped like input's; with preserve_format (the default) a permuted dense
    layout is kept, as PyTorch keeps it; a channels-last format gives its layout."""
    dt = _dtype.to_dtype(dtype) if dtype is not None else input.dtype
    dev = to_device(device) if device is not None else input.device
    if input.is_sparse:     # (never a dense tensor in disguise)
        raise NotImplementedError(f"{kind}_like of a sparse COO tensor is not supported (PyTorch "
                                  f"has no sparse kernel for it either); call .to_dense() first, "
                                  f"or zeros_like for a sparse tensor with no entries.")
    a = input._data
    if dev.type == 'meta':
        return meta_array(a.shape, dt.np)
    preserve = memory_format is None or memory_format is preserve_format
    order = None if preserve else dim_order(memory_format, a.ndim)
    if preserve and a.__class__ is np.ndarray and dev.type == 'cpu' and \
            not a.flags.c_contiguous and dense_order(a) is not None:
        out = np.empty_like(a, dtype=dt.np)     # (a dense permuted layout, kept)
    else:
        if preserve:
            order = dense_order(a)   # (CuPy's empty_like would not keep it)
        if order is None:
            out = _alloc(kind, a.shape, dt, dev, *args)
            return uninitialized(out) if kind == 'empty' else out
        out = _alloc_in_order(a.shape, dt, dev, order)
    if kind != 'empty':
        out[...] = _alloc(kind, (), dt, dev, *args)  # the fill value, converted as _alloc does
        return out
    return uninitialized(out)


def _no_entries(shape, dtype, device, requires_grad, dense_dim=0):
    """zeros/empty with layout=torch.sparse_coo (and zeros_like/empty_like of a sparse tensor,
    whose numbers of sparse and dense dims it keeps): a sparse COO tensor with no entries."""
    from .sparse import sparse_coo_tensor
    k = len(shape) - dense_dim
    values = zeros((0,) + tuple(shape[k:]), dtype=dtype, device=device)
    return sparse_coo_tensor(zeros((k, 0), dtype=_dtype.int64, device=device), values, shape,
                             requires_grad=requires_grad)


def _like(kind):
    @keeps_input_class      # (zeros_like of a Tensor subclass is one, as in PyTorch)
    def make(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, pin_memory=False):
        if kind != 'ones' and (layout is sparse_coo or (layout is None and input.is_sparse)):
            return _no_entries(tuple(input.shape), dtype or input.dtype,
                               device or input.device, requires_grad, input.dense_dim()
                               if input.is_sparse else 0)
        check_layout(layout, kind + '_like')
        _dtype_arg(dtype, kind + '_like')
        return _finish(_alloc_like(kind, input, dtype, device, memory_format), requires_grad)
    make.__name__ = make.__qualname__ = kind + '_like'
    return make


zeros_like = _like('zeros')
ones_like = _like('ones')
empty_like = _like('empty')


@keeps_input_class
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    check_layout(layout, 'full_like')
    target = _dtype.to_dtype(dtype).np if dtype is not None else input._data.dtype
    return _finish(_alloc_like('full', input, dtype, device, memory_format,
                               fits(fill_value, target)), requires_grad)


# -- ranges ----------------------------------------------------------------------------------------

@accepts_out(factory=True)
def arange(start=None, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    check_layout(layout, 'arange')
    if start is None:           # arange(end=5)
        if end is None:
            raise TypeError('arange() missing 1 required positional argument: "end"')
        start = 0
    elif end is None:
        start, end = 0, start
    # (NumPy scalars as Python numbers: np.float32(0.5) is a float step, as in PyTorch)
    start, end, step = (x.item() if isinstance(x, (Tensor, np.generic)) else x
                        for x in (start, end, step))
    _refuse_complex_bounds(start, end, step)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f'unsupported range: {start:g} -> {end:g}')
    if dtype is not None and _dtype_arg(dtype, 'arange') is _dtype.int64:
        # PyTorch's int64 overload truncates the bounds and the step to integers first
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError('step must be nonzero')
    if step == 0:
        raise RuntimeError('step must be nonzero')
    if (end - start) / step < 0:
        raise RuntimeError(f'upper bound and larger bound inconsistent with step sign '
                           f'(start={start}, end={end}, step={step})')
    if dtype is None:
        is_float = any(isinstance(x, float) for x in (start, end, step))
        dt = _dtype.get_default_dtype() if is_float else _dtype.int64
    else:
        dt = _dtype.to_dtype(dtype)
        if dt is _dtype.bool or dt.is_complex:
            raise NotImplementedError(f'"arange_cpu" not implemented for '
                                      f'\'{"Bool" if dt is _dtype.bool else "Complex"}\'')
    n = math.ceil((end - start) / step)
    if to_device(device).type == 'meta':
        return _finish(meta_array((n,), dt.np), requires_grad)
    if dt.is_floating_point:
        # PyTorch computes start + i * step in double precision, one fused multiply-add, then casts
        values = fma64(float(step), np.arange(n, dtype=np.float64), float(start))
    else:  # integer kernels: the size from the real values, the terms from truncated ones
        values = int(start) + np.arange(n, dtype=np.int64) * int(step)
    return _finish(_on_device(values.astype(dt.np), to_device(device)), requires_grad)


def _refuse_complex_bounds(*values):
    if any(v.__class__ is complex for v in values):    # (PyTorch reads them as doubles)
        raise RuntimeError('value cannot be converted to type double without overflow')


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           pin_memory=False):
    """torch.range (deprecated in PyTorch): like arange but includes `end`."""
    if end is None:
        start, end = 0, start
    # (NumPy scalars as Python numbers: np.float32(0.5) is a float step, as in PyTorch)
    start, end, step = (x.item() if isinstance(x, (Tensor, np.generic)) else x
                        for x in (start, end, step))
    _refuse_complex_bounds(start, end, step)
    n = int(math.floor((end - start) / step)) + 1
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    values = start + np.arange(n, dtype=np.float64) * step
    return _finish(_on_device(values.astype(dt.np), to_device(device)), requires_grad)


def _check_steps(name, steps):
    """PyTorch's parser takes an integer number of steps (a bool or float is its TypeError), and
    its kernels a non-negative one."""
    if isinstance(steps, (Tensor, np.integer)):
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"{name}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError('number of steps must be non-negative')


@accepts_out(factory=True)
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    check_layout(layout, 'linspace')
    start, end = (x.item() if isinstance(x, (Tensor, np.generic)) else x for x in (start, end))
    _check_steps('linspace', steps)
    dt = _dtype_arg(dtype, 'linspace', _dtype.get_default_dtype())
    if start.__class__ is complex or end.__class__ is complex:
        dt = _complex_range_dtype(dt, dtype, 'linspace')
    if dt is _dtype.bool:
        raise NotImplementedError('"linspace_cpu" not implemented for \'Bool\'')
    if to_device(device).type == 'meta':
        return _finish(meta_array((steps,), dt.np), requires_grad)
    if dt.is_complex:   # (real and imaginary parts each as the real kernel spaces them)
        work = np.float32 if dt.np == np.complex64 else np.float64
        start, end = complex(start), complex(end)
        values = _symmetric_linspace(start.real, end.real, steps, work) + \
            1j * _symmetric_linspace(start.imag, end.imag, steps, work)
    elif dt.np.kind in 'iu':
        # PyTorch converts the endpoints to the integer type first (wrapping around: -3 is 253
        # as uint8), then truncates each value
        start, end = (_to_int_type(v, dt.np) for v in (start, end))
        values = np.trunc(_symmetric_linspace(start, end, steps, np.float64))
    elif _dtype.is_reduced_float(dt.np):
        values = _reduced_linspace(start, end, steps, dt.np.type)
    else:
        values = _symmetric_linspace(start, end, steps, np.float32 if dt.np in (
            np.float32, np.float16) else np.float64)
    return _finish(_on_device(values.astype(dt.np), to_device(device)), requires_grad)


def _complex_range_dtype(dt, dtype, name):
    """linspace/logspace with a complex endpoint: the default complex dtype, which a given
    dtype must be able to hold (PyTorch's error otherwise)."""
    inferred = _dtype.default_complex()
    if dtype is None:
        return inferred
    if not dt.is_complex:
        from .ops.matmul import _CPP_TYPES
        word = {'float16': 'Half', 'bfloat16': 'BFloat16', 'float32': 'Float', 'float64': 'Double'}.get(
            dt.name, dt.name)
        raise RuntimeError(f'torch.{name}(): inferred dtype {_CPP_TYPES[inferred.name]} '
                           f"can't be safely cast to passed dtype {word}")
    return dt


def _to_int_type(value, np_dtype):
    """A Python number converted to an integer dtype as c10's checked conversion does: wrapping
    a negative number into an unsigned type (down to -max), refusing anything further out."""
    v, info = int(value), np.iinfo(np_dtype)
    if v > info.max or (v < info.min and (info.min < 0 or -v > info.max)):
        raise RuntimeError(f'value cannot be converted to type {np_dtype.name}_t without '
                           f'overflow')
    return int(np.array(v).astype(np_dtype))


def _reduced_linspace(start, end, steps, h):
    """PyTorch's linspace kernel in c10::Half (or c10::BFloat16, h) arithmetic: every
    operation, the step's division included, rounded to h (each value start + step * i, or
    end - step * (steps - 1 - i) in the second half). (Its vector loop, for 64 values and more
    on AVX-512, builds blocks from each block's first value and can differ in the last bit
    there.)"""
    f = np.float32
    if steps <= 1:
        return np.full(max(steps, 0), start, h)
    start, end = h(start), h(end)
    step = h(f(h(f(end) - f(start))) / f(h(steps - 1)))
    idx = np.arange(steps)
    up = (f(start) + h(f(step) * idx.astype(h).astype(f)).astype(f)).astype(h)
    down = (f(end) - h(f(step) * (steps - 1 - idx).astype(h).astype(f)).astype(f)).astype(h)
    return np.where(idx < steps // 2, up, down)


def _symmetric_linspace(start, end, steps, work_dtype):
    """PyTorch's linspace kernel: the first half counts up from `start`, the second half down from
    `end` (so both endpoints are exact), each value one fused multiply-add in the working dtype."""
    if steps == 0:
        return np.zeros(0, work_dtype)
    if steps == 1:
        return np.array([start], work_dtype)
    a, b = np.asarray(start, work_dtype), np.asarray(end, work_dtype)
    step = (b - a) / np.asarray(steps - 1, work_dtype)
    idx = np.arange(steps, dtype=work_dtype)
    half = steps // 2
    fma = fma32 if work_dtype == np.float32 else fma64
    out = np.empty(steps, work_dtype)
    out[:half] = fma(step, idx[:half], a)
    out[half:] = fma(-step, np.asarray(steps - 1, work_dtype) - idx[half:], b)
    return out


@accepts_out(factory=True)
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    check_layout(layout, 'logspace')
    _check_steps('logspace', steps)
    dt = _dtype_arg(dtype, 'logspace', _dtype.get_default_dtype())
    start, end = (x.item() if isinstance(x, (Tensor, np.generic)) else x for x in (start, end))
    if start.__class__ is complex or end.__class__ is complex:
        dt = _complex_range_dtype(dt, dtype, 'logspace')
    if to_device(device).type == 'meta':
        return _finish(meta_array((max(steps, 0),), dt.np), requires_grad)
    if dt.is_complex:   # base ** (complex exponents spaced as linspace spaces them)
        exponents = linspace(start, end, steps, dtype=dt)._data
        values = np.power(dt.np.type(base), exponents)
        return _finish(_on_device(values.astype(dt.np), to_device(device)), requires_grad)
    # PyTorch's kernel: endpoints in the tensor's dtype, exponents in double from both ends like
    # linspace, and the C library's pow (math.pow; NumPy's may differ in the last bit). This is
    # bit-exact for float64; float32 can differ by an ulp (PyTorch's float path differs).
    first, last = (float(np.asarray(v, dt.np if dt.np.kind == 'f' else np.float64))
                   for v in (start, end))
    exponents = np.empty(max(steps, 0))
    if steps == 1:
        exponents[0] = first
    elif steps > 1:
        step = (last - first) / (steps - 1)
        half = steps // 2
        exponents[:half] = first + step * np.arange(half, dtype=np.float64)
        exponents[half:] = last - step * ((steps - 1) - np.arange(half, steps, dtype=np.float64))
    values = np.array([_c_pow(float(base), e) for e in exponents], dtype=np.float64)
    return _finish(_on_device(values.astype(dt.np), to_device(device)), requires_grad)


def _c_pow(base, exponent):
    """C's pow: inf (not Python's OverflowError) past the double range."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf if base > 0 or exponent == int(exponent) and not int(exponent) % 2 \
            else -math.inf
    except ValueError:      # a negative base to a fractional power
        return math.nan


@accepts_out(factory=True)
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    check_layout(layout, 'eye')
    for name, value in (('n', n), ('m', m)):
        if value is not None and value < 0:
            raise RuntimeError(f'{name} must be greater or equal to 0, got {value}')
    dt = _dtype_arg(dtype, 'eye', _dtype.get_default_dtype())
    device = to_device(device)
    if device.type == 'meta':
        return _finish(meta_array((n, n if m is None else m), dt.np), requires_grad)
    xp = array_module_for(device)
    if device.type == 'cpu':
        a = xp.eye(n, m, dtype=dt.np)
    else:
        with xp.cuda.Device(concrete_cuda_index(device)):
            a = xp.eye(n, m, dtype=dt.np)
    return _finish(a, requires_grad)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    check_layout(layout, 'scalar_tensor')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if isinstance(s, Tensor):   # a one-element tensor on any device: its value, as PyTorch's
        s = s.item()
    return _finish(_on_device(np.array(s, dtype=dt.np), to_device(device)), requires_grad)


# -- triangle indices --------------------------------------------------------------------------

def tril_indices(row, col, offset=0, *, dtype=None, layout=None, device=None, pin_memory=False,
                 requires_grad=False):
    """The (row, column) coordinates of the lower triangle of a row x col matrix, row by row:
    a (2, N) tensor (int64 unless dtype says int32)."""
    check_layout(layout, 'tril_indices')
    return _triangle_indices('tril_indices', row, col, offset, dtype, device, requires_grad)


def triu_indices(row, col, offset=0, *, dtype=None, layout=None, device=None, pin_memory=False,
                 requires_grad=False):
    """The (row, column) coordinates of the upper triangle of a row x col matrix, row by row."""
    check_layout(layout, 'triu_indices')
    return _triangle_indices('triu_indices', row, col, offset, dtype, device, requires_grad)


def _triangle_indices(name, row, col, offset, dtype, device, requires_grad):
    from .ops._args import int_arg
    row = int_arg(row, name, 'row', 1)
    col = int_arg(col, name, 'col', 2)
    offset = int_arg(offset, name, 'offset', 3)
    # PyTorch's order of checks: the sizes, then the dtype (its kernel exists for int32/int64 only)
    if row < 0:
        raise RuntimeError(f'row must be non-negative, got{row}')
    if col < 0:
        raise RuntimeError(f'col must be non-negative, got{col}')
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    if dt not in (_dtype.int32, _dtype.int64):
        from ._dispatch import _type_word
        raise NotImplementedError(f'"{name}" not implemented for \'{_type_word(dt.np)}\'')
    # Row i holds the columns [start_i, stop_i): built from the counts, without an i x j mask
    rows = np.arange(row, dtype=np.int64)
    if name == 'tril_indices':
        start = np.zeros(row, np.int64)
        stop = np.clip(rows + offset + 1, 0, col)
    else:
        start = np.clip(rows + offset, 0, col)
        stop = np.full(row, col, np.int64)
    counts = stop - start
    first = np.cumsum(counts) - counts  # where each row's run begins in the output
    cols = np.arange(counts.sum(), dtype=np.int64) - np.repeat(first - start, counts)
    values = np.stack([np.repeat(rows, counts), cols]).astype(dt.np)
    return _finish(_on_device(values, to_device(device)), requires_grad)


# Under the profiler each factory is one op of PyTorch's name ('aten::zeros'...): they build
# their tensors without the dispatcher (_profiled_calls.py)
for _name in ('zeros', 'ones', 'empty', 'full', 'arange', 'linspace', 'logspace', 'eye',
              'zeros_like', 'ones_like', 'empty_like', 'full_like', 'scalar_tensor',
              'empty_strided', 'tril_indices', 'triu_indices'):
    globals()[_name] = profiled_call('aten::' + _name)(globals()[_name])
