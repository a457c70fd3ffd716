"""PyTorch's pickle vocabulary, spoken without torch: the names a torch.save checkpoint's data.pkl
refers to, a pickler that writes them for nbgrad objects, and unpicklers that read them back.

torch.save pickles (protocol 2) a tensor as
    REDUCE(torch._utils._rebuild_tensor_v2,
           (storage, offset, size, stride, requires_grad, OrderedDict()))
where `storage` is a persistent id ('storage', torch.FloatStorage, key, location, numel) that names
the archive record data/<key> holding the storage's raw bytes. nbgrad writes exactly this. As torch
is not imported, its globals are TorchName placeholders, which the pure-Python pickler writes as
GLOBAL opcodes (the C pickler would insist on importing them); on reading, find_class maps the same
names to the rebuild functions below.

weights_only=True reads with WeightsOnlyUnpickler: only the globals PyTorch's weights-only
unpickler allows (tensors, storages, dtypes, devices, Size, Parameter, OrderedDict, Counter, set,
complex, bytes, bytearray, plus add_safe_globals) may be named, only they may be called, and only
OrderedDicts (a state_dict's _metadata) may be given attributes, so a file cannot run code.
"""
import _compat_pickle
import codecs
import collections
import contextlib
import pickle
from pickle import UnpicklingError

import numpy as np

from . import _dtype, _layout
from ._device import device as Device
from ._sparse_coo import SparseCOO
from ._storage import root_array, tensor_root, _pointer
from ._tensor import Tensor, Size
from .nn.parameter import Parameter, Buffer


class TorchName:
    """A global of torch's namespace as a pickle names it: pickled, it writes GLOBAL module name."""
    __slots__ = ('module', 'name')
    _made = {}

    def __new__(cls, module, name):
        made = cls._made.get((module, name))
        if made is None:
            made = cls._made[module, name] = object.__new__(cls)
            made.module, made.name = module, name
        return made

    def __call__(self, *args):  # the pickler only checks that a reduce function is callable
        raise TypeError(f'{self.module}.{self.name} only stands for that name in a pickle')

    def __repr__(self):
        return f'TorchName({self.module}.{self.name})'


REBUILD_TENSOR_V2 = TorchName('torch._utils', '_rebuild_tensor_v2')
REBUILD_PARAMETER = TorchName('torch._utils', '_rebuild_parameter')
REBUILD_PARAMETER_WITH_STATE = TorchName('torch._utils', '_rebuild_parameter_with_state')
REBUILD_FROM_TYPE_V2 = TorchName('torch._tensor', '_rebuild_from_type_v2')
REBUILD_SPARSE_TENSOR = TorchName('torch._utils', '_rebuild_sparse_tensor')
TORCH_TENSOR = TorchName('torch', 'Tensor')
TORCH_DEVICE = TorchName('torch', 'device')
TORCH_SIZE = TorchName('torch', 'Size')
TORCH_GET_LAYOUT = TorchName('torch.serialization', '_get_layout')

# torch.<name> of the typed storage that holds each dtype (torch.storage._dtype_to_storage_type_map)
STORAGE_TYPE_NAMES = {
    'float64': 'DoubleStorage', 'float32': 'FloatStorage', 'float16': 'HalfStorage',
    'int64': 'LongStorage', 'int32': 'IntStorage', 'int16': 'ShortStorage', 'int8': 'CharStorage',
    'uint8': 'ByteStorage', 'bool': 'BoolStorage', 'complex128': 'ComplexDoubleStorage',
    'complex64': 'ComplexFloatStorage', 'bfloat16': 'BFloat16Storage'}
# torch things nbgrad has no counterpart for: a clear refusal instead of "not an allowed global"
_UNSUPPORTED_STORAGES = ('QInt8Storage', 'QInt32Storage', 'QUInt8Storage',
                         'QUInt4x2Storage', 'QUInt2x4Storage')


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

class StorageRef:
    """One storage of a checkpoint being written: a memory block (the root array of the tensors
    viewing it), the dtype its elements are saved as, and its record key."""
    __slots__ = ('key', 'memory', 'dtype', 'numel', 'location')

    def __init__(self, key, memory, dtype):
        self.key, self.memory, self.dtype = key, memory, dtype
        self.numel = memory.nbytes // dtype.itemsize
        index = getattr(getattr(memory, 'device', None), 'id', None)
        self.location = 'cpu' if memory.__class__ is np.ndarray else f'cuda:{index}'


class StorageTable:
    """The storages a save writes, one per memory block, keyed '0', '1'... in order of first use,
    so that tensors viewing one block are saved once and share memory again after loading."""

    def __init__(self):
        self.refs = []
        self._by_root = {}  # id(root array) -> StorageRef (the ref keeps the root alive)

    def locate(self, tensor):
        """(StorageRef, storage_offset, stride) that rebuild `tensor`, both in elements."""
        if tensor.is_meta:
            raise NotImplementedError('nbgrad.save: a meta tensor has no data to save (PyTorch '
                                      'writes its shape only; nbgrad does not): save a tensor '
                                      'with data, e.g. after module.to_empty(device="cpu")')
        dtype = tensor.dtype
        root = tensor_root(tensor)
        layout = _layout_in(root, tensor)
        if layout is None:  # memory torch's format cannot describe: save a compact copy
            root = tensor._data.copy()
            layout = (0, Tensor._make(root).stride())
        ref = self._by_root.get(id(root))
        if ref is None:
            ref = self._by_root[id(root)] = StorageRef(str(len(self.refs)), root, dtype)
            self.refs.append(ref)
        elif ref.dtype is not dtype:
            raise RuntimeError('Cannot save multiple tensors or storages that view the same data '
                               f'as different types (found {ref.dtype} and {dtype}); save a '
                               '.clone() of one of them')
        return ref, layout[0], layout[1]


def _layout_in(root, tensor):
    """The tensor's (offset, strides) in elements of its dtype inside the root's memory, or None
    when they are not whole non-negative multiples (a view reinterpreting bytes, negative strides).
    """
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    a = tensor._data
    itemsize = a.itemsize
    start = _pointer(a) - _pointer(root)
    if root.nbytes % itemsize or start % itemsize or not 0 <= start <= root.nbytes:
        return None
    if a.size == 0:
        return start // itemsize, tensor.stride()
    strides = []
    for size, step in zip(a.shape, a.strides):
        if step % itemsize or step < 0:
            if size != 1:
                return None
            step = 0  # the stride of a length-1 dimension is never used
        strides.append(step // itemsize)
    return start // itemsize, tuple(strides)


def memory_bytes(memory):
    """The root array's memory as flat host bytes in memory order (what data/<key> holds)."""
    flat = memory.reshape(-1) if memory.flags.c_contiguous else memory.T.reshape(-1)
    if flat.__class__ is not np.ndarray:
        flat = flat.get()
    return flat.view(np.uint8)


def _user_state(tensor):
    """Attributes a user set on the tensor (nbgrad's own bookkeeping starts with '_')."""
    return {k: v for k, v in getattr(tensor, '__dict__', {}).items() if not k.startswith('_')}


class TorchPickler(pickle._Pickler):
    """Writes nbgrad objects as torch.save does (the pure-Python pickler, whose dispatch table
    accepts TorchName)."""
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self.storages = storages

    # the legacy format's persistent ids add view_metadata (always None when writing)
    legacy = False

    def save_global(self, obj, name=None):
        """The pure-Python pickler's, with the C pickler's errors (torch.save uses that one):
        AttributeError for a class or function defined inside a function, PicklingError
        naming the failed lookup otherwise."""
        try:
            super().save_global(obj, name)
        except pickle.PicklingError as error:
            qualname = name or getattr(obj, '__qualname__', None) or \
                getattr(obj, '__name__', repr(obj))
            if '<locals>' in qualname:
                raise AttributeError(f"Can't pickle local object {qualname!r}") from None
            if "it's not found as" not in str(error):
                raise       # (its other messages are the C pickler's: "not the same object")
            module = getattr(obj, '__module__', None)
            raise pickle.PicklingError(f"Can't pickle {obj!r}: attribute lookup {qualname} on "
                                       f'{module} failed') from None

    dispatch[type(_user_state)] = save_global    # (functions; classes reach it by save_type)

    def persistent_id(self, obj):
        if obj.__class__ is StorageRef:
            storage_type = TorchName('torch', STORAGE_TYPE_NAMES[obj.dtype.name])
            pid = ('storage', storage_type, obj.key, obj.location, obj.numel)
            return pid + (None,) if self.legacy else pid
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        cls = obj.__class__
        if cls is Device:
            return TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index)
        if cls is Size:
            return TORCH_SIZE, (tuple(obj),)
        if cls is _layout.layout:   # as torch.save writes torch.strided
            return TORCH_GET_LAYOUT, (f'torch.{obj.name}',)
        return NotImplemented

    def _reduce_tensor(self, tensor):
        payload = tensor._data
        if payload.__class__ is SparseCOO and payload.compressed is not None:   # CSR, CSC
            index = payload.compressed
            return REBUILD_SPARSE_TENSOR, (index.layout, (
                Tensor._make(index.compressed_indices), Tensor._make(index.plain_indices),
                Tensor._make(payload.values), Size(payload.shape)))
        if payload.__class__ is SparseCOO:     # as torch.save writes a sparse COO tensor
            return REBUILD_SPARSE_TENSOR, (_layout.sparse_coo, (
                Tensor._make(payload.indices), Tensor._make(payload.values), Size(payload.shape),
                payload.coalesced))
        requires_grad = tensor.requires_grad
        state = _user_state(tensor)
        if isinstance(tensor, Parameter):
            data = Tensor._make(tensor._data)  # Parameter.data: the same memory, outside the graph
            if state:
                return REBUILD_PARAMETER_WITH_STATE, (data, requires_grad, _hooks(), state)
            return REBUILD_PARAMETER, (data, requires_grad, _hooks())
        ref, offset, stride = self.storages.locate(tensor)
        args = (ref, offset, tuple(tensor.shape), stride, requires_grad, _hooks())
        cls = type(tensor)
        if cls is Tensor or cls is Buffer:
            if not state:
                return REBUILD_TENSOR_V2, args
            cls = TORCH_TENSOR
        return REBUILD_FROM_TYPE_V2, (REBUILD_TENSOR_V2, cls, args, state)

    def save_torch_name(self, obj):
        self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('utf-8'))
        self.memoize(obj)

    def save_dtype(self, obj):
        self.save(TorchName('torch', obj.name))

    dispatch[TorchName] = save_torch_name
    dispatch[_dtype.dtype] = save_dtype


def _hooks():
    return collections.OrderedDict()  # torch's backward_hooks slot: always empty, never saved


# ------------------------------------------------------------------------------------------------
# Reading: what the torch names become
# ------------------------------------------------------------------------------------------------

class StorageType:
    """What torch.FloatStorage & co. unpickle to: the dtype of the storage's elements."""
    __slots__ = ('name', 'dtype')

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype  # dtype None: untyped bytes (torch.UntypedStorage)

    def __repr__(self):
        return f'torch.{self.name}'


class LoadedStorage:
    """A storage read back: a flat array on its final device; tensors are views of it."""
    __slots__ = ('array',)

    def __init__(self, array):
        self.array = array


def _strided_view(flat, offset, size, stride):
    """The view (size, stride, offset) of a flat array, checked to stay inside it."""
    size, stride, offset = tuple(size), tuple(stride), int(offset)
    if len(size) != len(stride) or offset < 0 or any(s < 0 for s in size + stride):
        raise RuntimeError(f'invalid tensor geometry in the file: size {list(size)}, stride '
                           f'{list(stride)}, storage offset {offset}')
    if 0 in size:
        start = min(offset, flat.size)
        return flat[start:start].reshape(size)
    needed = offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1
    if needed > flat.size:
        raise RuntimeError(f'setStorage: sizes {list(size)}, strides {list(stride)}, storage '
                           f'offset {offset} need {needed} elements but the storage holds '
                           f'{flat.size}')
    byte_strides = [s * flat.itemsize for s in stride]
    if flat.__class__ is np.ndarray:
        return np.lib.stride_tricks.as_strided(flat[offset:], size, byte_strides)
    dense = _dense_view(flat, offset, size, stride)
    if dense is not None:
        return dense
    import cupy
    return cupy.lib.stride_tricks.as_strided(flat[offset:], size, byte_strides)


def _dense_view(flat, offset, size, stride):
    """On CuPy, the view by slicing, reshaping and transposing when it covers a dense block
    (contiguous or permuted), or None. CuPy records the base of such views but not of as_strided
    ones, and storage identity (untyped_storage, re-saving shared memory) follows the base."""
    dims = sorted((d for d in range(len(size)) if size[d] != 1), key=lambda d: -stride[d])
    expected = 1
    for d in reversed(dims):
        if stride[d] != expected:
            return None
        expected *= size[d]
    block = flat[offset:offset + expected].reshape([size[d] for d in dims])
    block = block.transpose(sorted(range(len(dims)), key=lambda i: dims[i]))
    return block.reshape(size)


def _rebuild_tensor(storage, storage_offset, size, stride, flat=None):
    flat = storage.array if flat is None else flat
    tensor = Tensor._make(_strided_view(flat, storage_offset, size, stride))
    root = root_array(storage.array)
    if root_array(tensor._data) is not root:   # a CuPy as_strided view: it keeps no base
        tensor._storage_root = root
    return tensor


def _finish_tensor(tensor, requires_grad, metadata):
    if metadata:  # torch's lazy conjugate / negative bits: nbgrad materialises them
        if metadata.get('conj'):
            tensor = tensor.conj()
        if metadata.get('neg'):
            tensor = -tensor
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _finish_tensor(_rebuild_tensor(storage, storage_offset, size, stride), requires_grad,
                          metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    """Tensors of dtypes without a typed storage: the storage is untyped bytes."""
    flat = storage.array
    dtype = _dtype.to_dtype(dtype)     # (bfloat16 gets its NumPy dtype here, or a clear error)
    if flat.dtype != dtype.np:
        if flat.nbytes % dtype.itemsize:
            raise RuntimeError(f'a storage of {flat.nbytes} bytes cannot hold {dtype} elements')
        flat = flat.view(dtype.np)
    return _finish_tensor(_rebuild_tensor(storage, storage_offset, size, stride, flat),
                          requires_grad, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(Parameter(data, requires_grad), state)


def _rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor, for COO, CSR and CSC tensors (indices checked as
    always)."""
    if layout in (_layout.sparse_csr, _layout.sparse_csc):
        from .sparse._compressed import sparse_compressed_tensor
        compressed_indices, plain_indices, values, size = data
        return sparse_compressed_tensor(compressed_indices, plain_indices, values, size,
                                        layout=layout)
    if layout is not _layout.sparse_coo:
        raise RuntimeError(f'nbgrad cannot load a {layout} tensor: it has sparse COO, CSR and '
                           f'CSC tensors only')
    from .sparse import sparse_coo_tensor
    indices, values, size = data[:3]
    is_coalesced = data[3] if len(data) > 3 else None
    return sparse_coo_tensor(indices, values, size, is_coalesced=is_coalesced)


def _rebuild_from_type_v2(func, new_type, args, state):
    result = func(*args)
    if type(result) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise TypeError(f'cannot rebuild a tensor as {new_type!r}: not a Tensor subclass')
        view = object.__new__(new_type)
        view._data, view._vc, view._base = result._data, result._vc, None
        view._grad_fn, view._requires_grad = None, result._requires_grad
        result = view
    if getattr(type(result), '__setstate__', None) is not None:
        result.__setstate__(state)
        return result
    return _set_obj_state(result, state)


def _set_obj_state(obj, state):
    dict_state, slots_state = state if isinstance(state, tuple) else (state, None)
    for part in (dict_state, slots_state):
        for k, v in (part or {}).items():
            setattr(obj, k, v)
    return obj


_LAYOUTS = {f'torch.{layout.name}': layout for layout in _layout.ALL}


def _get_layout(name):
    """torch.serialization._get_layout: a layout by its torch name."""
    if name not in _LAYOUTS:
        raise RuntimeError(f'unknown layout {name!r} in the file')
    return _LAYOUTS[name]


def _build_torch_globals():
    table = {
        'torch._utils._rebuild_tensor': _rebuild_tensor,
        'torch._utils._rebuild_tensor_v2': _rebuild_tensor_v2,
        'torch._utils._rebuild_tensor_v3': _rebuild_tensor_v3,
        'torch._utils._rebuild_parameter': _rebuild_parameter,
        'torch._utils._rebuild_parameter_with_state': _rebuild_parameter_with_state,
        'torch._tensor._rebuild_from_type_v2': _rebuild_from_type_v2,
        'torch._utils._rebuild_sparse_tensor': _rebuild_sparse_tensor,
        'torch.nn.parameter.Parameter': Parameter,
        'torch.serialization._get_layout': _get_layout,
        'torch.Tensor': Tensor, 'torch.Size': Size, 'torch.device': Device,
        'torch.storage.UntypedStorage': StorageType('UntypedStorage', None),
    }
    table['torch.UntypedStorage'] = table['torch.storage.UntypedStorage']
    for dtype_name, storage_name in STORAGE_TYPE_NAMES.items():
        table[f'torch.{storage_name}'] = StorageType(storage_name, _dtype._BY_NAME[dtype_name])
    for d in _dtype.ALL + (_dtype.bfloat16,):
        table[f'torch.{d.name}'] = d
    return table


TORCH_GLOBALS = _build_torch_globals()
PYTHON_GLOBALS = {  # the Python globals torch's weights-only unpickler allows
    'collections.OrderedDict': collections.OrderedDict, 'collections.Counter': collections.Counter,
    '_codecs.encode': codecs.encode, 'builtins.bytearray': bytearray, 'builtins.set': set,
    'builtins.complex': complex}
_ALLOWED = {**TORCH_GLOBALS, **PYTHON_GLOBALS}
_ALLOWED_IDS = {id(v) for v in _ALLOWED.values()}


def torch_global(module, name):
    """What a torch global in a checkpoint means in nbgrad; a clear error for what has no match."""
    module = 'torch._tensor' if module == 'torch.tensor' else module
    full = f'{module}.{name}'
    if full in TORCH_GLOBALS:
        return TORCH_GLOBALS[full]
    if module == 'torch' and name in _UNSUPPORTED_STORAGES:
        raise RuntimeError(f'nbgrad cannot load a tensor stored as torch.{name}: nbgrad has no '
                           'such dtype (nbgrad has no quantized types). Load the file '
                           'with PyTorch, convert with .float(), and save it again.')
    raise UnpicklingError(f'nbgrad cannot load {full}: it is a PyTorch object nbgrad has no '
                          'counterpart for (only tensors, Parameters, storages, dtypes, devices '
                          'and Size are)')


def _nbgrad_counterpart(module, name):
    """nbgrad's object at the path of torch's module.name (torch.nn.modules.linear.Linear ->
    nbgrad.nn.modules.linear.Linear), or None."""
    import importlib
    try:
        found = importlib.import_module('nbgrad' + module[len('torch'):])
        for part in name.split('.'):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


# ------------------------------------------------------------------------------------------------
# add_safe_globals: user classes a weights-only load may construct
# ------------------------------------------------------------------------------------------------

_user_safe_globals = set()


def _user_globals():
    table = {}
    for entry in _user_safe_globals:
        if isinstance(entry, tuple):
            obj, name = entry
            table[name] = obj
        else:
            table[f'{entry.__module__}.{entry.__qualname__}'] = entry
    return table


def add_safe_globals(safe_globals):
    """Allow these classes/functions (or (obj, 'module.name') pairs) in weights-only loads."""
    for entry in safe_globals:
        if isinstance(entry, tuple) and (len(entry) != 2 or not isinstance(entry[1], str)):
            raise TypeError('add_safe_globals expects objects or (object, "module.name") pairs, '
                            f'got {entry!r}')
    _user_safe_globals.update(safe_globals)


def get_safe_globals():
    return list(_user_safe_globals)


def clear_safe_globals():
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(globals_):
    added = set(globals_) - _user_safe_globals
    add_safe_globals(globals_)
    try:
        yield
    finally:
        _user_safe_globals.difference_update(added)


# ------------------------------------------------------------------------------------------------
# Unpicklers
# ------------------------------------------------------------------------------------------------

def check_storage_id(pid):
    """('storage', StorageType, key, location, numel) with sane types, or UnpicklingError; the
    legacy format (_legacy_checkpoint.py) adds a sixth item, view_metadata: None, or
    (view key, offset, size) of a part of the storage. Returns (storage_type, key, location,
    numel, view_metadata)."""
    if type(pid) is not tuple or len(pid) not in (5, 6):
        raise UnpicklingError(f'persistent id must be a storage tuple, got {pid!r}')
    typename, storage_type, key, location, numel = (
        p.decode('ascii') if isinstance(p, bytes) else p for p in pid[:5])
    view = pid[5] if len(pid) == 6 else None
    if typename != 'storage' or type(storage_type) is not StorageType or type(key) is not str \
            or type(location) is not str or type(numel) is not int or numel < 0 or not (
                view is None or (type(view) is tuple and len(view) == 3 and
                                 type(view[0]) is str and type(view[1]) is int and
                                 type(view[2]) is int and 0 <= view[1] <= view[1] + view[2]
                                 <= numel)):
        raise UnpicklingError(f'Only persistent_load of storage is allowed, got {pid!r}')
    return storage_type, key, location, numel, view


class WeightsOnlyUnpickler(pickle._Unpickler):
    """An unpickler that can only rebuild tensors and plain data (see the module docstring)."""
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, storage_loader, encoding='utf-8'):
        super().__init__(file, encoding=encoding)
        self._storage_loader = storage_loader

    def persistent_load(self, pid):
        return self._storage_loader(*check_storage_id(pid))

    def find_class(self, module, name):
        if self.proto < 3:  # Python 2 names (__builtin__.set...), as pickle itself maps them
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f'{module}.{name}'
        if full in _ALLOWED:
            return _ALLOWED[full]
        user = _user_globals()
        if full in user:
            return user[full]
        if module == 'torch' or module.startswith('torch.'):
            torch_global(module, name)  # raises its specific refusal
        shown = full[len('builtins.'):] if full.startswith('builtins.') else full
        raise UnpicklingError(
            f'Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use '
            f'`nbgrad.serialization.add_safe_globals([{shown}])` or the '
            f'`nbgrad.serialization.safe_globals([{shown}])` context manager to allowlist this '
            'global if you trust this class/function.')

    def _check_allowed(self, obj, what):
        if id(obj) not in _ALLOWED_IDS and not any(obj is v for v in _user_globals().values()):
            raise UnpicklingError(f'Trying to {what} {obj!r}, which is not an allowed global')

    def load_reduce(self):
        self._check_allowed(self.stack[-2], 'call')
        pickle._Unpickler.load_reduce(self)

    def load_newobj(self):
        self._check_allowed(self.stack[-2], 'create a new object of')
        pickle._Unpickler.load_newobj(self)

    def load_newobj_ex(self):
        self._check_allowed(self.stack[-3], 'create a new object of')
        pickle._Unpickler.load_newobj_ex(self)

    def load_build(self):
        state, inst = self.stack[-1], self.stack[-2]
        if type(inst) is collections.OrderedDict and type(state) is dict:
            self.stack.pop()
            inst.__dict__.update(state)  # a state_dict's _metadata
            return
        if any(type(inst) is v for v in _user_globals().values()):
            pickle._Unpickler.load_build(self)
            return
        raise UnpicklingError('Can only build OrderedDict or types allowlisted via '
                              f'add_safe_globals, but got {type(inst)}')

    def _refuse_opcode(self):
        raise UnpicklingError('pickle opcodes INST, OBJ and EXT are not allowed in a weights-only '
                              'load')

    def _checked_target(self, types, what):
        target = self.stack[-1] if self.stack else None
        if type(target) not in types:
            allowed = ' or '.join(t.__name__ for t in types)
            raise UnpicklingError(f'Can only {what} {allowed}, but got {type(target)}')

    def load_append(self):
        value = self.stack.pop()
        self._checked_target((list,), 'append to')
        self.stack[-1].append(value)

    def load_appends(self):
        items = self.pop_mark()
        self._checked_target((list,), 'extend')
        self.stack[-1].extend(items)

    def load_setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._checked_target((dict, collections.OrderedDict, collections.Counter), 'set items of')
        self.stack[-1][key] = value

    def load_setitems(self):
        items = self.pop_mark()
        self._checked_target((dict, collections.OrderedDict, collections.Counter), 'set items of')
        target = self.stack[-1]
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_additems(self):
        items = self.pop_mark()
        self._checked_target((set,), 'add items to')
        self.stack[-1].update(items)

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.BUILD[0]] = load_build
    for _opcode in (pickle.INST, pickle.OBJ, pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_opcode[0]] = _refuse_opcode
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems
    del _opcode


def full_unpickler(file, storage_loader, pickle_module=None, **pickle_load_args):
    """An unrestricted unpickler (weights_only=False) that still maps torch's names to nbgrad's."""
    base = (pickle_module or pickle).Unpickler

    class FullUnpickler(base):
        def find_class(self, module, name):
            if module == 'torch' or module.startswith('torch.'):
                try:
                    return torch_global(module, name)
                except UnpicklingError:
                    # a whole object pickled by PyTorch (a module, an optimizer): nbgrad's class
                    # of the same path, where there is one (weights_only=False trusts the file)
                    counterpart = _nbgrad_counterpart(module, name)
                    if counterpart is None:
                        raise
                    return counterpart
            return super().find_class(module, name)

    def persistent_load(pid):
        if type(pid) is tuple and len(pid) == 4 and pid[0] in ('module', b'module'):
            return pid[1]   # a legacy whole-module save: (module, class, source file, source)
        return storage_loader(*check_storage_id(pid))

    unpickler = FullUnpickler(file, **pickle_load_args)
    unpickler.persistent_load = persistent_load
    return unpickler
