"""Tensor memory that several processes map at once, and the pickling that sends it.

share_memory_() copies a tensor's storage into a shared mapping and points the tensor (and the
base tensor it views) at it. Sending a CPU tensor through a multiprocessing Queue, Pipe or a
spawned process's arguments shares it first, then sends a handle, so the receiver maps the same
memory: a write on either side is seen by the other, as with PyTorch's tensors. Two strategies,
PyTorch's names:

- 'file_descriptor' (the default): an anonymous memory file (memfd); the receiver gets a
  duplicate of its descriptor through multiprocessing's resource sharer. The memory lives while
  any process maps it or holds the descriptor.
- 'file_system': a file in /dev/shm, sent by name. A file that was sent is kept until the
  creating process exits (a receiver may map it later), then removed; the receiver's mapping
  outlives the file. Like PyTorch's, this strategy holds memory for a long-lived sender.

Either way the sender must run until the receiver has the tensor.

A receiver maps each shared storage once (tensors sent separately that share a storage, such as
a parameter and a view of it, share it again there). Views of a storage made before
share_memory_() keep the old memory: share first, as Module.share_memory() does.
"""
import mmap
import os
import tempfile
import uuid
import weakref
from multiprocessing import reduction, util as mp_util

import numpy as np

from .._storage import tensor_root
from .._tensor import Tensor

STRATEGIES = ('file_descriptor', 'file_system')
_strategy = ['file_descriptor']
_received = weakref.WeakValueDictionary()     # token -> _SharedMap already mapped here
_sent_files = {}                                # token -> _SharedMap sent by name: kept to exit


class _SharedMap(mmap.mmap):
    """A shared mapping; remembers how another process can map it (fd or path) and a token
    that names the storage across processes."""
    fd = None
    path = None
    token = None


def _share_dir():
    return '/dev/shm' if os.path.isdir('/dev/shm') else None


def _new_map(nbytes):
    size = max(int(nbytes), 1)          # (mmap refuses a length of 0)
    if _strategy[0] == 'file_descriptor' and hasattr(os, 'memfd_create'):
        fd = os.memfd_create('nbgrad-shared', os.MFD_CLOEXEC)
        os.ftruncate(fd, size)
        shared = _SharedMap(fd, size)
        shared.fd = fd
        weakref.finalize(shared, os.close, fd)
    else:
        fd, path = tempfile.mkstemp(prefix='nbgrad_shared_', dir=_share_dir())
        try:
            os.ftruncate(fd, size)
            shared = _SharedMap(fd, size)
        finally:
            os.close(fd)
        shared.path = path
        # (multiprocessing's Finalize, unlike weakref.finalize, also runs when a child process
        # exits: children leave through os._exit, past atexit)
        mp_util.Finalize(shared, _remove, args=(path,), exitpriority=0)
    shared.token = uuid.uuid4().hex
    return shared


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def shared_map_of(array):
    """The _SharedMap an array's memory lives in, or None."""
    node = array
    while node is not None:
        if isinstance(node, _SharedMap):
            return node
        node = getattr(node, 'base', None)
    return None


def _offset(array, root):
    return array.__array_interface__['data'][0] - root.__array_interface__['data'][0]


def _rebased(array, root, shared):
    """`array` (a view into root) as the same view into a copy of root at the start of the
    shared mapping."""
    return np.ndarray(array.shape, array.dtype, buffer=shared, offset=_offset(array, root),
                      strides=array.strides)


def share_memory_(tensor):
    """Move the tensor's storage into shared memory (CUDA tensors: nothing to do, as in
    PyTorch). Returns the tensor."""
    if not tensor.is_cpu or tensor.is_sparse or tensor._data.size == 0:
        return tensor       # (an empty tensor has no memory to share)
    root = tensor_root(tensor)
    if shared_map_of(root) is not None:
        if shared_map_of(tensor._data) is None:
            raise RuntimeError(_STALE_VIEW)
        return tensor
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        # (an array that owns its memory is contiguous one way or the other)
        raise RuntimeError('share_memory_: the storage is not contiguous')
    shared = _new_map(root.nbytes)
    shared_root = np.ndarray(root.shape, root.dtype, buffer=shared, strides=root.strides)
    shared_root[...] = root
    for t in (tensor, tensor._base):
        if t is not None:
            t._data = _rebased(t._data, root, shared)
    if '_storage_root' in tensor.__dict__:
        tensor.__dict__['_storage_root'] = shared_root
    return tensor


_STALE_VIEW = ('this tensor views memory that share_memory_() has since moved into shared memory: '
               'it was made (from another view of the same storage) before the move, and still '
               'points at the old memory. Make it again from a tensor made after the move, or '
               'call share_memory_() before making views.')


def is_shared(tensor):
    # (a view made before its storage moved still points at the old memory: not shared)
    return tensor.is_cuda or (not tensor.is_sparse and
                              shared_map_of(tensor_root(tensor)) is not None and
                              (tensor._data.size == 0 or shared_map_of(tensor._data) is not None))


# -- pickling for multiprocessing ----------------------------------------------------------------

_NON_LEAF = ('Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd '
             'does not support crossing process boundaries.  If you just want to transfer the '
             'data, call detach() on the tensor before serializing (e.g., putting it on the '
             'queue).')


def reduce_tensor(tensor):
    """ForkingPickler's reduction of a tensor: share it, send a handle to its memory."""
    if tensor._requires_grad and tensor._grad_fn is not None:
        raise RuntimeError(_NON_LEAF)
    if tensor.is_sparse or tensor._data.size == 0:
        return tensor.__reduce_ex__(2)      # (sparse: indices and values travel as copies)
    if tensor.is_cuda:
        raise RuntimeError('nbgrad cannot share CUDA tensors between processes yet (PyTorch uses '
                           'CUDA IPC); send tensor.cpu() and move it back in the receiver.')
    share_memory_(tensor)
    array = tensor._data
    shared = shared_map_of(array)
    if shared.fd is not None:
        handle = reduction.DupFd(shared.fd)
    else:
        handle = shared.path
        _sent_files[shared.token] = shared
    layout = (array.dtype.str, array.shape, array.strides,
              array.__array_interface__['data'][0] - _address(shared))
    return _rebuild, (handle, len(shared), shared.token, layout, tensor._requires_grad,
                      type(tensor).__name__)


def _address(shared):
    return np.frombuffer(shared, np.uint8, count=1).__array_interface__['data'][0]


def _map_received(handle, size, token):
    shared = _received.get(token)
    if shared is not None:
        return shared
    if isinstance(handle, str):
        try:
            fd = os.open(handle, os.O_RDWR)
        except FileNotFoundError:
            raise RuntimeError(f"a shared tensor's memory ({handle}) was freed before this "
                               f"process received it: with the 'file_system' strategy the "
                               f'sending process must keep the tensor (and run) until it has '
                               f'been received') from None
        try:
            shared = _SharedMap(fd, size)
        finally:
            os.close(fd)
        shared.path = handle
    else:
        try:
            fd = handle.detach()
        except OSError:
            raise RuntimeError("the process that sent this tensor exited before it was received: "
                               "with the 'file_descriptor' strategy the sender must stay alive "
                               'until the receiver has the tensor (as in PyTorch); keep it '
                               'running, for instance until the receiver sets an Event') from None
        shared = _SharedMap(fd, size)
        shared.fd = fd      # kept: this process may send the tensor on
        weakref.finalize(shared, os.close, fd)
    shared.token = token
    _received[token] = shared
    return shared


def _rebuild(handle, size, token, layout, requires_grad, kind):
    dtype, shape, strides, offset = layout
    shared = _map_received(handle, size, token)
    array = np.ndarray(shape, np.dtype(dtype), buffer=shared, offset=offset, strides=strides)
    if kind == 'Parameter':
        from ..nn.parameter import Parameter
        return Parameter(Tensor._make(array), requires_grad=requires_grad)
    if kind == 'Buffer':
        from ..nn.parameter import Buffer
        return Buffer(Tensor._make(array))
    return Tensor._make(array, requires_grad=requires_grad)


def install():
    """Tensor.share_memory_/is_shared, and tensors (Parameters, Buffers) sent through
    multiprocessing sharing their memory."""
    from ..nn.parameter import Buffer, Parameter
    Tensor.share_memory_ = share_memory_
    Tensor.is_shared = is_shared
    for cls in (Tensor, Parameter, Buffer):
        reduction.ForkingPickler.register(cls, reduce_tensor)

