"""torch.save's format before PyTorch 1.6 (`_use_new_zipfile_serialization=False`), which old
checkpoints are still in: a sequence of pickles, then the storages' raw bytes.

    pickle(MAGIC_NUMBER), pickle(PROTOCOL_VERSION), pickle(sys_info),
    pickle(obj)      -- storages as persistent ids ('storage', type, key, location, numel, view)
    pickle(keys)     -- the storage keys, in the order their bytes follow
    for each key: int64 element count (little-endian), then the elements (little-endian)

The object is unpickled before any storage's bytes are read (they come after it), so each
storage is made empty on its final device first (map_location sees it then, as in PyTorch) and
filled in place once the bytes are reached; the tensors built on it are views, so they see the
values. The header pickles hold plain numbers and dicts, read by an unpickler that can build
nothing else."""
import io
import pickle
import struct
import sys

import numpy as np

from . import _dtype, _pickle_format as _fmt
from ._tensor import Tensor
from .ops._util import xp_of

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
# what torch's _legacy_save writes as sys_info (type sizes of its C longs on Linux/macOS)
_SYS_INFO = {'protocol_version': PROTOCOL_VERSION, 'little_endian': sys.byteorder == 'little',
             'type_sizes': {'short': 2, 'int': 4, 'long': 4}}


# ------------------------------------------------------------------------------------------------
# save
# ------------------------------------------------------------------------------------------------

def save(obj, file, protocol):
    storages = _fmt.StorageTable()
    body = io.BytesIO()
    pickler = _fmt.TorchPickler(body, protocol, storages)
    pickler.legacy = True
    pickler.dump(obj)
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, _SYS_INFO):
        pickle.dump(header, file, protocol=protocol)
    file.write(body.getbuffer())
    by_key = {ref.key: ref for ref in storages.refs}
    keys = sorted(by_key)
    pickle.dump(keys, file, protocol=protocol)
    for key in keys:
        ref = by_key[key]
        file.write(struct.pack('<q', ref.numel))
        data = _fmt.memory_bytes(ref.memory)
        if sys.byteorder != 'little' and ref.dtype.itemsize > 1:
            data = data.view(ref.memory.dtype).byteswap().view(np.uint8)
        file.write(memoryview(data))


# ------------------------------------------------------------------------------------------------
# load
# ------------------------------------------------------------------------------------------------

class _PlainUnpickler(pickle._Unpickler):
    """The header and key-list pickles: numbers, strings, lists, tuples and dicts only."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f'the header of a legacy checkpoint names {module}.{name}; '
                                     'it holds plain numbers only (the file is not a checkpoint)')

    def persistent_load(self, pid):
        raise pickle.UnpicklingError('the header of a legacy checkpoint has a persistent id')


def _plain(file):
    return _PlainUnpickler(file, encoding='utf-8').load()


def not_a_checkpoint(name, cause):
    """PyTorch's exception class for such a file (EOFError for an empty one, UnpicklingError
    for bytes that are no pickle...), with a message that names the file."""
    detail = f'{type(cause).__name__}: {cause}' if str(cause) else 'it is empty'
    message = (f'{name} is not a checkpoint written by nbgrad.save or torch.save: it is neither '
               f'a zip archive nor in the legacy format (the file may be truncated or corrupted; '
               f'{detail})')
    try:
        error = type(cause)(message)
    except TypeError:
        error = RuntimeError(message)
    error.not_a_checkpoint = True
    return error


def read_header(file):
    """The magic number the format starts with (a pickled int), or an error."""
    if _plain(file) != MAGIC_NUMBER:
        raise RuntimeError('Invalid magic number; corrupt file?')


def load(file, place, make_unpickler):
    """The object in a legacy checkpoint. place(host_tensor, location) puts an (empty) storage
    on its device; make_unpickler(file, persistent_load) is the caller's unpickler (weights only
    or not), whose persistent_load gets check_storage_id's fields."""
    read_header(file)
    version = _plain(file)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f'Invalid protocol version: {version}')
    _plain(file)   # sys_info: the bytes are little-endian whatever it says, as torch reads them
    roots, views = {}, {}

    def storage(storage_type, key, location, numel, view):
        root = roots.get(key)
        if root is None:
            dtype = storage_type.dtype or _dtype.uint8   # torch.UntypedStorage: bytes
            placed = place(Tensor._make(np.empty(numel, dtype.np)), location)
            root = roots[key] = _fmt.LoadedStorage(placed._data)
        if view is None:
            return root
        view_key, offset, size = view
        if view_key not in views:
            views[view_key] = _fmt.LoadedStorage(root.array[offset:offset + size])
        return views[view_key]

    obj = make_unpickler(file, storage).load()
    for key in _plain(file):
        root = roots.get(key)
        if root is None:
            raise RuntimeError(f'corrupted legacy checkpoint: storage {key!r} has bytes but no '
                               'tensor uses it')
        _fill(file, root.array)
    return obj


def _fill(file, array):
    """Read one storage's count and bytes into array (on its device), in place."""
    (count,) = struct.unpack('<q', _read(file, 8))
    if count != array.size:
        raise RuntimeError(f'storage has wrong byte size: expected {array.size} got {count}')
    host = np.frombuffer(_read(file, count * array.itemsize), array.dtype.newbyteorder('<'))
    # (a CuPy array where map_location put the storage on a GPU: one host-to-device copy)
    array[...] = host if array.__class__ is np.ndarray else xp_of(array).asarray(host)


def _read(file, n):
    data = file.read(n)
    if len(data) != n:
        raise EOFError(f'the file ended {n - len(data)} bytes early')
    return data
