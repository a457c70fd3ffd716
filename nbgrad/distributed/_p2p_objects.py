"""Point-to-point messages (send/recv, isend/irecv, batch_isend_irecv) and the collectives of
picklable Python objects (all_gather_object, broadcast_object_list, gather_object,
scatter_object_list). A point-to-point message travels on the direct connection between the
two ranks, keyed by its tag: messages with the same tag arrive in the order they were sent."""
import numpy as np

from ._collectives import gather_at, host_array, spread, write
from ._group import Work, _hub, in_thread, resolve, root_rank


def _peer(group, what, rank, group_rank):
    if rank is not None and group_rank is not None:
        raise ValueError(f'{what}: give the peer as a global rank or as a group rank, not both')
    if group_rank is not None:
        if not 0 <= group_rank < group.size():
            raise ValueError(f'{what}: group rank {group_rank} is not in this group of '
                             f'{group.size()} ranks')
        return group.ranks[group_rank]
    if rank is None:
        raise ValueError(f'{what}: give the peer rank (dst= or src=)')
    if rank not in group.ranks:
        raise ValueError(f'{what}: rank {rank} is not in [0, world_size={_hub().world_size})'
                         if group.key == 'world' else
                         f'Global rank {rank} is not part of group {group}')
    if rank == _hub().rank:
        raise ValueError(f'Invalid destination rank: should not be the same as the rank of the '
                         f'current process ({rank}).' if what in ('send', 'isend') else
                         f'Invalid source rank: should not be the same as the rank of the '
                         f'current process ({rank}).')
    return rank


def _p2p_key(group, tag):
    return ('p2p', group.key, int(tag))


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send tensor to rank dst (returns once it is on its way)."""
    group = resolve(group, 'send')
    if group is None:
        return None
    array = np.ascontiguousarray(host_array(tensor, 'send'))
    _hub().send(_peer(group, 'send', dst, group_dst), _p2p_key(group, tag), array)
    return None


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """send without blocking: the returned Work's wait() returns once the data is sent."""
    group = resolve(group, 'isend')
    if group is None:
        return None
    array = np.ascontiguousarray(host_array(tensor, 'isend')).copy()
    peer, key = _peer(group, 'isend', dst, group_dst), _p2p_key(group, tag)
    work = in_thread(lambda: _hub().send(peer, key, array))
    work._result = [tensor]
    return work


def _receive_into(tensor, peer, key, what, group=None):
    """Write the next message from peer (None: from any rank of group) into tensor; the
    sender's global rank."""
    if peer is None:
        hub = _hub()
        peer, array = hub.recv_any([r for r in group.ranks if r != hub.rank], key, what)
    else:
        array = _hub().recv(peer, key, what)
    if array.shape != tuple(tensor.shape) and array.size != tensor.numel():
        raise RuntimeError(f'{what}: received a tensor of shape {array.shape} from rank {peer}, '
                           f'which does not fit the given tensor of shape {tuple(tensor.shape)}')
    write(tensor, array.reshape(tuple(tensor.shape)))
    return peer


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into tensor what rank src sends (src=None: the first message with this tag
    from any rank of the group); returns the sender's global rank."""
    group = resolve(group, 'recv')
    if group is None:
        return -1
    host_array(tensor, 'recv')
    peer = None if src is None and group_src is None else _peer(group, 'recv', src, group_src)
    return _receive_into(tensor, peer, _p2p_key(group, tag), 'recv', group)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """recv without blocking: the tensor holds the message once the Work's wait() returns."""
    group = resolve(group, 'irecv')
    if group is None:
        return None
    host_array(tensor, 'irecv')
    key = _p2p_key(group, tag)
    if src is None and group_src is None:       # (from any rank: the first to send)
        peers = [r for r in group.ranks if r != _hub().rank]
        return Work(result=[tensor], finish=lambda: _receive_into(tensor, None, key, 'irecv',
                                                                  group),
                    ready=lambda: any(_hub().poll(p, key) for p in peers))
    peer = _peer(group, 'irecv', src, group_src)
    return Work(result=[tensor], finish=lambda: _receive_into(tensor, peer, key, 'irecv'),
                ready=lambda: _hub().poll(peer, key))


class P2POp:
    """One operation for batch_isend_irecv: P2POp(dist.isend or dist.irecv, tensor, peer)."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv, send, recv):
            raise ValueError('Invalid ``op``. Expected ``op`` to be of type ``torch.distributed'
                             '.isend`` or ``torch.distributed.irecv``.')
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every operation (sends first, so no two ranks wait on each other's receive)."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError('Invalid ``p2p_op_list``. Each op is expected to to be of type '
                         '``torch.distributed.P2POp``.')
    works = {}
    for sends in (True, False):
        for i, p in enumerate(p2p_op_list):
            if (p.op in (isend, send)) == sends:
                op = isend if sends else irecv
                key = 'group_dst' if sends else 'group_src'
                works[i] = op(p.tensor, p.peer, p.group, p.tag, **{key: p.group_peer})
    return [works[i] for i in range(len(p2p_op_list))]


# -- picklable objects ------------------------------------------------------------------------
def all_gather_object(object_list, obj, group=None):
    group = resolve(group, 'all_gather_object')
    if group is None:
        return None
    key, root = group.next_key('all_gather_object'), group.ranks[0]
    gathered = gather_at(group, key, obj, root, 'all_gather_object')
    object_list[:] = spread(group, key, root, 'all_gather_object', same=gathered)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    group = resolve(group, 'broadcast_object_list')
    if group is None:
        return None
    src = root_rank(group, 'broadcast', src, group_src)
    key = group.next_key('broadcast_object_list')
    mine = list(object_list) if _hub().rank == src else None
    object_list[:] = spread(group, key, src, 'broadcast_object_list', same=mine)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    group = resolve(group, 'gather_object')
    if group is None:
        return None
    dst = root_rank(group, 'gather', dst, group_dst)
    if _hub().rank == dst and (object_gather_list is None or
                               len(object_gather_list) != group.size()):
        raise ValueError(f'gather_object: rank dst needs an object_gather_list of '
                         f'{group.size()} places')
    key = group.next_key('gather_object')
    gathered = gather_at(group, key, obj, dst, 'gather_object')
    if gathered is not None:
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    group = resolve(group, 'scatter_object_list')
    if group is None:
        return None
    src = root_rank(group, 'scatter', src, group_src)
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError('Expected argument scatter_object_output_list to be a list of size at '
                         'least 1.')
    parts = None
    if _hub().rank == src:
        if scatter_object_input_list is None or \
                len(scatter_object_input_list) != group.size():
            raise ValueError(f'scatter_object_list: rank src needs a '
                             f'scatter_object_input_list of {group.size()} objects')
        parts = list(scatter_object_input_list)
    key = group.next_key('scatter_object_list')
    scatter_object_output_list[0] = spread(group, key, src, 'scatter_object_list', objs=parts)


__all__ = ['send', 'recv', 'isend', 'irecv', 'P2POp', 'batch_isend_irecv', 'all_gather_object',
           'broadcast_object_list', 'gather_object', 'scatter_object_list', 'Work']
