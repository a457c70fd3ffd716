"""torch.distributed: several processes, each with a replica of the model and its own data,
combining tensors with collectives (all_reduce, broadcast, all_gather, gather, scatter, reduce,
barrier). nbgrad's one backend is 'gloo' (CPU tensors, TCP; see _hub.py); DistributedDataParallel
averages gradients across the processes as they are computed.
"""
import datetime

import numpy as np

from .._tensor import Tensor
from ._hub import Hub, rendezvous

__all__ = ['init_process_group', 'destroy_process_group', 'is_initialized', 'is_available',
           'get_rank', 'get_world_size', 'get_backend', 'ReduceOp', 'all_reduce', 'broadcast',
           'all_gather', 'gather', 'scatter', 'reduce', 'barrier', 'all_gather_object',
           'broadcast_object_list', 'is_gloo_available', 'is_nccl_available', 'is_mpi_available',
           'GroupMember']

_state = {'hub': None, 'backend': None}


class ReduceOp:
    SUM, PRODUCT, MIN, MAX, AVG = 'sum', 'product', 'min', 'max', 'avg'


_COMBINE = {ReduceOp.SUM: np.add, ReduceOp.PRODUCT: np.multiply, ReduceOp.MIN: np.minimum,
            ReduceOp.MAX: np.maximum, ReduceOp.AVG: np.add}


class GroupMember:
    WORLD = 'WORLD'


class _Work:
    """What async_op=True returns: nbgrad's collectives finish before returning."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def is_available():
    return True


def is_gloo_available():
    return True


def is_nccl_available():
    return False


def is_mpi_available():
    return False


def is_initialized():
    return _state['hub'] is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name='', pg_options=None, device_id=None):
    """Join the default process group; every rank calls this, and it returns once all have."""
    if is_initialized():
        raise ValueError('trying to initialize the default process group twice!')
    backend = 'gloo' if backend is None else str(backend).lower()
    if backend not in ('gloo', 'cpu:gloo'):
        raise RuntimeError(f"nbgrad.distributed has the 'gloo' backend only (CPU tensors over "
                           f"TCP), not {backend!r}: NCCL and MPI are not available here")
    if store is not None:
        raise NotImplementedError('init_process_group(store=...) is not supported: use an '
                                  'init_method (env://, tcp://, file://)')
    seconds = 1800 if timeout is None else (timeout.total_seconds() if isinstance(
        timeout, datetime.timedelta) else float(timeout))
    host, port, rank, world_size, path = rendezvous(init_method, rank, world_size, seconds)
    if not 0 <= rank < world_size:
        raise ValueError(f'rank {rank} is not in [0, world_size={world_size})')
    _state['hub'] = Hub(host, port, rank, world_size, path, seconds)
    _state['backend'] = 'gloo'


def destroy_process_group(group=None):
    hub = _state['hub']
    if hub is not None:
        hub.close()
    _state['hub'] = _state['backend'] = None


def _hub():
    hub = _state['hub']
    if hub is None:
        raise ValueError('Default process group has not been initialized, please make sure to '
                         'call init_process_group.')
    return hub


def get_rank(group=None):
    return _hub().rank if is_initialized() else -1


def get_world_size(group=None):
    return _hub().world_size if is_initialized() else -1


def get_backend(group=None):
    _hub()
    return _state['backend']


def _host_array(tensor, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{what}: expected a Tensor, got {type(tensor).__name__}')
    if not tensor.is_cpu:
        raise RuntimeError(f"{what}: nbgrad's gloo backend takes CPU tensors (got one on "
                           f'{tensor.device}); move it with .cpu() first')
    return tensor._data


def _write(tensor, array):
    """Store a collective's result in the tensor's own memory (in place, as PyTorch's)."""
    tensor._data[...] = array
    tensor._vc[0] += 1


def _done(async_op):
    return _Work() if async_op else None


def _combined(hub, array, op):
    """Rank 0: every rank's array combined by op, in rank order (the same bits on every run);
    other ranks: None."""
    gathered = hub.gather_to_root(np.ascontiguousarray(array))
    if gathered is None:
        return None
    result = gathered[0].copy()
    for other in gathered[1:]:
        _COMBINE[op](result, other, out=result)
    if op == ReduceOp.AVG:
        result = (result / hub.world_size).astype(array.dtype)
    return result


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's tensor becomes the combination (by op) of all ranks' tensors."""
    hub = _hub()
    result = _combined(hub, _host_array(tensor, 'all_reduce'), op)
    _write(tensor, hub.from_root(same=result))
    return _done(async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Like all_reduce, but only rank dst receives the result."""
    hub = _hub()
    result = _combined(hub, _host_array(tensor, 'reduce'), op)
    results = None
    if hub.rank == 0:
        results = [result if r == dst else None for r in range(hub.world_size)]
    mine = hub.from_root(objs=results)
    if hub.rank == dst:
        _write(tensor, mine)
    return _done(async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Every rank's tensor becomes rank src's."""
    hub = _hub()
    array = _host_array(tensor, 'broadcast')
    gathered = hub.gather_to_root(array if hub.rank == src else None)
    value = gathered[src] if gathered is not None else None
    _write(tensor, hub.from_root(same=value))
    return _done(async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] becomes rank r's tensor, on every rank."""
    hub = _hub()
    if len(tensor_list) != hub.world_size:
        raise ValueError(f'all_gather: tensor_list must hold world_size={hub.world_size} '
                         f'tensors, got {len(tensor_list)}')
    gathered = hub.gather_to_root(np.ascontiguousarray(_host_array(tensor, 'all_gather')))
    for out, array in zip(tensor_list, hub.from_root(same=gathered)):
        _write(out, array)
    return _done(async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Rank dst's gather_list[r] becomes rank r's tensor."""
    hub = _hub()
    gathered = hub.gather_to_root(np.ascontiguousarray(_host_array(tensor, 'gather')))
    parts = [gathered if r == dst else None for r in range(hub.world_size)] \
        if gathered is not None else None
    mine = hub.from_root(objs=parts)
    if hub.rank == dst:
        if gather_list is None or len(gather_list) != hub.world_size:
            raise ValueError('gather: rank dst needs a gather_list of world_size tensors')
        for out, array in zip(gather_list, mine):
            _write(out, array)
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank r's tensor becomes rank src's scatter_list[r]."""
    hub = _hub()
    _host_array(tensor, 'scatter')
    mine = None
    if hub.rank == src:
        if scatter_list is None or len(scatter_list) != hub.world_size:
            raise ValueError('scatter: rank src needs a scatter_list of world_size tensors')
        mine = [np.ascontiguousarray(_host_array(t, 'scatter')) for t in scatter_list]
    gathered = hub.gather_to_root(mine)
    parts = gathered[src] if gathered is not None else None
    _write(tensor, hub.from_root(objs=parts))
    return _done(async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Returns once every rank has called barrier()."""
    hub = _hub()
    hub.gather_to_root(None)
    hub.from_root(same=None)
    return _done(async_op)


def all_gather_object(object_list, obj, group=None):
    hub = _hub()
    gathered = hub.from_root(same=hub.gather_to_root(obj))
    object_list[:] = gathered


def broadcast_object_list(object_list, src=0, group=None, device=None):
    hub = _hub()
    gathered = hub.gather_to_root(list(object_list) if hub.rank == src else None)
    object_list[:] = hub.from_root(same=gathered[src] if gathered is not None else None)
