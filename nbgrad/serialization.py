"""nbgrad.save / nbgrad.load in PyTorch's checkpoint format, so files go both ways between
nbgrad and torch.save / torch.load.

A checkpoint is an uncompressed zip archive with one top folder (<name>/): data.pkl (the pickled
object; _pickle_format.py), data/<key> (each storage's raw bytes, in the order the byteorder record
names, starting 64-byte aligned as torch writes them), version, .format_version,
.storage_alignment and .data/serialization_id. Saving to a path is atomic: the archive is written to a temporary file
next to the target, synced, and renamed over it, so a crash leaves the old file or the new one.
Loading is safe by default (weights_only=True) and reads storages onto the device map_location
names; damaged files raise a RuntimeError that names the file. The format before PyTorch 1.6
(`_use_new_zipfile_serialization=False`) is read and written too (_legacy_checkpoint.py).
"""
import contextlib
import io
import mmap as _mmap
import os
import pickle
import secrets
import stat
import struct
import sys
import warnings
import zipfile
import zlib

import numpy as np

from . import _dtype, _legacy_checkpoint as _legacy, _pickle_format as _fmt
from ._device import device as _Device
from ._pickle_format import (add_safe_globals, get_safe_globals, clear_safe_globals,  # noqa: F401
                             safe_globals)
from ._tensor import Tensor

__all__ = ['save', 'load', 'add_safe_globals', 'get_safe_globals', 'clear_safe_globals',
           'safe_globals', 'DEFAULT_PROTOCOL']

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64                  # torch's .storage_alignment: where each record's bytes start
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: same object, same bytes (but the id)
_FORMAT_VERSION = b'3\n'         # what torch writes into <name>/version

UNSAFE_MESSAGE = (
    'Re-running `nbgrad.load` with `weights_only` set to `False` will likely succeed, but it can '
    'result in arbitrary code execution. Do it only if you got the file from a trusted source.')


# ------------------------------------------------------------------------------------------------
# save
# ------------------------------------------------------------------------------------------------

def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save `obj` (tensors, state_dicts, containers, numbers...) to a path or binary file object."""
    if pickle_module not in (None, pickle):
        raise ValueError('nbgrad.save writes with its own pickler (PyTorch\'s format); '
                         f'pickle_module={pickle_module!r} is not supported')
    if _use_new_zipfile_serialization:
        storages = _fmt.StorageTable()
        data = io.BytesIO()
        _fmt.TorchPickler(data, pickle_protocol, storages).dump(obj)

        def write(file, archive_name):
            _write_archive(file, archive_name, data.getbuffer(), storages.refs,
                           not _disable_byteorder_record)
    else:   # PyTorch's format before 1.6, for readers that want it (_legacy_checkpoint.py)
        def write(file, archive_name):
            _legacy.save(obj, file, pickle_protocol)

    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fspath(f), write)
    else:
        if not hasattr(f, 'write'):
            raise TypeError(f'save: f must be a path or a binary file object, got '
                            f'{type(f).__name__}')
        write(f, 'archive')


def _archive_name(path):
    """torch names the archive's top folder after the file, without its extension."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem or 'archive'


def _write_archive(file, archive_name, data_pkl, storage_refs, byteorder_record):
    with zipfile.ZipFile(file, 'w', zipfile.ZIP_STORED) as archive:
        def put(name, payload):
            _write_record(archive, f'{archive_name}/{name}', payload)

        put('data.pkl', data_pkl)
        put('.format_version', b'1')
        put('.storage_alignment', str(_ALIGNMENT).encode())
        if byteorder_record:
            put('byteorder', sys.byteorder.encode())
        for ref in storage_refs:
            put(f'data/{ref.key}', _fmt.memory_bytes(ref.memory))
        put('version', _FORMAT_VERSION)
        put('.data/serialization_id', b'%040d' % secrets.randbelow(10 ** 40))


def _write_record(archive, name, payload):
    """One stored (uncompressed) record whose bytes start on a 64-byte boundary of the file, padded
    with an extra field as torch's writer does (so torch.load(mmap=True) can map it in place)."""
    payload = memoryview(payload).cast('B')
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.file_size = payload.nbytes
    zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule
    header = 30 + len(name.encode('utf-8')) + 4 + (20 if zip64 else 0)
    padding = -(archive.start_dir + header) % _ALIGNMENT
    info.extra = struct.pack('<HH', 0x4246, padding) + b'Z' * padding  # torch's 'FB' padding
    chunk = 1 << 26
    with archive.open(info, 'w', force_zip64=zip64) as out:
        for start in range(0, payload.nbytes, chunk):
            out.write(payload[start:start + chunk])


def _write_atomically(path, write):
    """write(file, archive_name) into a temporary file beside `path`, then rename it over `path`."""
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, as open(path, 'wb') would
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        raise RuntimeError(f'Parent directory {directory} does not exist.')
    temp = os.path.join(directory, f'.{os.path.basename(path)}.{secrets.token_hex(6)}.tmp')
    # O_EXCL: never reuse someone's file; mode 0o666 lets the umask decide, as open() does
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as out:
            write(out, _archive_name(path))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))  # keep an existing file's mode
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(directory or '.')


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); best effort."""
    if not hasattr(os, 'O_DIRECTORY'):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ------------------------------------------------------------------------------------------------
# load
# ------------------------------------------------------------------------------------------------

_UNPICKLER_ARGS = {'encoding', 'errors', 'fix_imports', 'buffers'}


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved with nbgrad.save or torch.save (weights_only=True by default)."""
    if weights_only is None:   # PyTorch's default: weights only, unless a pickle_module is given
        weights_only = pickle_module is None
    unknown = set(pickle_load_args) - _UNPICKLER_ARGS
    if unknown:   # what pickle's Unpickler says of them in PyTorch
        raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument "
                        f"'{sorted(unknown)[0]}'")
    if weights_only and pickle_module is not None:
        raise RuntimeError('Can not safely load weights when explicit pickle_module is specified')
    if pickle_load_args and weights_only:
        warnings.warn('pickle_load_args only works if `weights_only=False`.', stacklevel=2)
    pickle_load_args.setdefault('encoding', 'utf-8')
    restore = _restorer(map_location)
    is_path = isinstance(f, (str, os.PathLike))
    if mmap and not is_path:
        raise ValueError('f must be a file path in order to use the mmap argument')
    name = os.fspath(f) if is_path else getattr(f, 'name', None) or f'<{type(f).__name__}>'
    with contextlib.ExitStack() as stack:
        file = stack.enter_context(open(f, 'rb')) if is_path else _seekable(f)

        def unpickler_of(data, storage_loader):
            if weights_only:
                return _fmt.WeightsOnlyUnpickler(data, storage_loader,
                                                 encoding=pickle_load_args['encoding'])
            return _fmt.full_unpickler(data, storage_loader, pickle_module, **pickle_load_args)

        try:
            if not _is_zip(file):
                if mmap:
                    raise RuntimeError('mmap can only be used with files saved with '
                                       '`torch.save(_use_new_zipfile_serialization=True), '
                                       'please torch.save your checkpoint with this option in '
                                       'order to use mmap.')
                return _load_legacy(file, name, restore, unpickler_of)
            try:
                archive = stack.enter_context(_Archive(file, name, use_mmap=bool(mmap)))
                storages = _StorageLoader(archive, restore)
                return unpickler_of(io.BytesIO(archive.read('data.pkl')), storages.load).load()
            except (zipfile.BadZipFile, zlib.error, EOFError, struct.error) as e:
                raise _damaged(name, e) from e
        except pickle.UnpicklingError as e:
            if not weights_only or getattr(e, 'not_a_checkpoint', False):
                raise
            raise pickle.UnpicklingError(
                f'Weights only load failed. {UNSAFE_MESSAGE}\n\n{e}') from None


def _is_zip(file):
    """torch's _is_zipfile: the file starts with a zip local header (read, then put back)."""
    start = file.tell()
    head = file.read(4)
    file.seek(start)
    return head == b'PK\x03\x04'


def _load_legacy(file, name, restore, unpickler_of):
    """A checkpoint in the pre-1.6 format, or a file that is not a checkpoint at all: an error
    of PyTorch's class for it, naming the file."""
    start = file.tell()
    try:
        _legacy.read_header(file)
    except Exception as e:    # (whatever unpickling arbitrary bytes raises)
        raise _legacy.not_a_checkpoint(name, e) from None
    file.seek(start)
    try:
        return _legacy.load(file, lambda host, location: _placed(restore, host, location),
                            unpickler_of)
    except (EOFError, struct.error) as e:
        raise _damaged(name, e) from e


def _seekable(f):
    if not hasattr(f, 'read'):
        raise TypeError(f'load: f must be a path or a binary file object, got {type(f).__name__}')
    if hasattr(f, 'seekable') and f.seekable():
        return f
    return io.BytesIO(f.read())  # zip needs to seek (the directory is at the end)


def _damaged(name, cause):
    return RuntimeError(f'{name} is truncated or corrupted and cannot be loaded ({cause}). Save it '
                        'again, or copy it again if it was transferred.')


class _Archive:
    """The records of one checkpoint: <name>/data.pkl, <name>/data/<key>..."""

    def __init__(self, file, name, use_mmap):
        self.name = name
        try:
            self.zip = zipfile.ZipFile(file)
        except zipfile.BadZipFile as e:
            raise RuntimeError(f'{name} is not a checkpoint written by nbgrad.save or torch.save: '
                               f'it is not a zip archive (the file may be truncated or corrupted; '
                               f'{e}).') from None
        names = self.zip.namelist()
        top = names[0].partition('/')[0] if names else ''
        self.prefix = top + '/'
        if not names or '/' not in names[0] or f'{self.prefix}data.pkl' not in names:
            raise RuntimeError(f'{name} is a zip archive but not a checkpoint written by '
                               'nbgrad.save or torch.save (it has no <name>/data.pkl record)')
        if f'{self.prefix}constants.pkl' in names:
            raise RuntimeError(f'{name} is a TorchScript archive (torch.jit.save); nbgrad cannot '
                               'load TorchScript. Save the model\'s state_dict() instead.')
        byteorder = self.read('byteorder') if f'{self.prefix}byteorder' in names else b'little'
        if byteorder not in (b'little', b'big'):
            raise ValueError(f'Unknown endianness type: {byteorder.decode(errors="replace")}')
        self.swap_bytes = byteorder.decode() != sys.byteorder
        self._map = None
        if use_mmap:
            self._map = _mmap.mmap(file.fileno(), 0, access=_mmap.ACCESS_COPY)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def read(self, record):
        return self.zip.read(self.prefix + record)

    def storage(self, key, dtype, numel):
        """The bytes of data/<key> as a flat host array of `numel` `dtype` elements."""
        record = f'{self.prefix}data/{key}'
        dtype = _dtype.to_dtype(dtype)     # (bfloat16 gets its NumPy dtype here, or a clear error)
        try:
            info = self.zip.getinfo(record)
        except KeyError:
            raise RuntimeError(f'{self.name} is corrupted: it has no record {record}') from None
        nbytes = numel * dtype.itemsize
        if info.file_size != nbytes:
            raise RuntimeError(f'{self.name} is corrupted: record {record} holds {info.file_size} '
                               f'bytes, but its tensors need {nbytes}')
        if self._map is not None and info.compress_type == zipfile.ZIP_STORED:
            array = self._mapped(info, dtype, numel)
        else:
            array = np.empty(numel, dtype.np)
            with self.zip.open(info) as source:
                if source.readinto(memoryview(array.view(np.uint8))) != nbytes:
                    raise EOFError(f'record {record} ended early')
        if self.swap_bytes:
            array.byteswap(inplace=True)
        return array

    def _mapped(self, info, dtype, numel):
        """A copy-on-write view of the record in the mapped file (its own root array, so that
        each storage keeps its own identity)."""
        header = self._map[info.header_offset:info.header_offset + 30]
        if len(header) < 30 or header[:4] != b'PK\x03\x04':
            raise zipfile.BadZipFile(f'bad local header for {info.filename}')
        name_length, extra_length = struct.unpack('<HH', header[26:30])
        start = info.header_offset + 30 + name_length + extra_length
        if start + numel * dtype.itemsize > len(self._map):
            raise EOFError(f'record {info.filename} runs past the end of the file')
        return np.ndarray((numel,), dtype.np, buffer=self._map, offset=start)


class _StorageLoader:
    """persistent_load for the unpicklers: reads each storage once, onto its final device."""

    def __init__(self, archive, restore):
        self.archive, self.restore = archive, restore
        self.loaded = {}

    def load(self, storage_type, key, location, numel, view=None):
        if view is not None:
            raise pickle.UnpicklingError('a storage view in a zip checkpoint (only the legacy '
                                         'format has them)')
        storage = self.loaded.get(key)
        if storage is None:
            dtype = storage_type.dtype or _dtype.uint8  # torch.UntypedStorage: bytes
            host = Tensor._make(self.archive.storage(key, dtype, numel))
            storage = self.loaded[key] = _fmt.LoadedStorage(
                _placed(self.restore, host, location)._data)
        return storage


def _placed(restore, host, location):
    """A storage (a flat host tensor) where map_location puts it, checked."""
    placed = restore(host, location)
    if placed.dtype is not host.dtype or placed.shape != host.shape:
        raise RuntimeError(f'map_location returned a {placed.dtype} tensor of shape '
                           f'{list(placed.shape)} for a storage of {host.shape[0]} {host.dtype} '
                           'elements; return the storage tensor itself, moved')
    return placed


# ------------------------------------------------------------------------------------------------
# map_location
# ------------------------------------------------------------------------------------------------

def _restorer(map_location):
    """restore(storage_tensor, location) -> the storage tensor on the device it should load to."""
    if map_location is None:
        return _restore
    if isinstance(map_location, dict):
        return lambda storage, location: _restore(storage, str(map_location.get(location,
                                                                                  location)))
    if isinstance(map_location, (str, bytes, _Device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda storage, location: _restore(storage, target)
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            if result is None:
                return _restore(storage, location)
            if not isinstance(result, Tensor):
                raise TypeError(f'map_location returned {type(result).__name__}; it must return '
                                'the storage (a tensor) it was given, possibly moved, or None')
            return result
        return restore
    raise TypeError(f'map_location must be None, a device, a string, a dict or a callable, got '
                    f'{type(map_location).__name__}')


def _restore(storage, location):
    """torch's default_restore_location: 'cpu' stays, 'cuda[:N]' moves (when that GPU exists)."""
    if location == 'cpu':
        return storage
    if location == 'cuda' or location.startswith('cuda:'):
        return storage.to(_cuda_device(location))
    raise RuntimeError(f"don't know how to restore data location of nbgrad storage (tagged with "
                       f'{location})')


def _cuda_device(location):
    from . import cuda
    if not cuda.is_available():
        raise RuntimeError('Attempting to deserialize object on a CUDA device but '
                           'nbgrad.cuda.is_available() is False. If you are running on a CPU-only '
                           "machine, please use nbgrad.load with map_location=nbgrad.device('cpu') "
                           'to map your storages to the CPU.')
    target = _Device(location)
    index = target.index if target.index is not None else cuda.current_device()
    if index >= cuda.device_count():
        raise RuntimeError(f'Attempting to deserialize object on CUDA device {index} but '
                           f'nbgrad.cuda.device_count() is {cuda.device_count()}. Please use '
                           'nbgrad.load with map_location to map your storages to an existing '
                           'device.')
    return _Device('cuda', index)
