"""torch.distributed: several processes, each with a replica of the model and its own data,
combining tensors with collectives (all_reduce, broadcast, all_gather, reduce_scatter,
all_to_all, ...), point-to-point messages (send/recv) and subgroups (new_group). nbgrad's one
backend is 'gloo' (CPU tensors over TCP; see _hub.py); DistributedDataParallel averages
gradients across the processes once backward has computed them all. `python -m
nbgrad.distributed.run` starts a job as torchrun does.
"""
from ._collectives import (all_gather, all_gather_into_tensor, all_reduce, all_to_all,
                           all_to_all_single, barrier, broadcast, gather, monitored_barrier,
                           reduce, reduce_scatter, reduce_scatter_tensor, scatter)
from ._group import (Future, GroupMember, ProcessGroup, Work, destroy_process_group,
                     get_backend, get_global_rank, get_group_rank, get_process_group_ranks,
                     get_rank, get_world_size, group, init_process_group, is_initialized,
                     is_torchelastic_launched, new_group)
from ._names import Backend, ReduceOp, reduce_op
from ._p2p_objects import (P2POp, all_gather_object, batch_isend_irecv, broadcast_object_list,
                           gather_object, irecv, isend, recv, scatter_object_list, send)

__all__ = ['init_process_group', 'destroy_process_group', 'is_initialized', 'is_available',
           'get_rank', 'get_world_size', 'get_backend', 'ReduceOp', 'reduce_op', 'Backend',
           'all_reduce', 'broadcast', 'all_gather', 'all_gather_into_tensor', 'gather',
           'scatter', 'reduce', 'reduce_scatter', 'reduce_scatter_tensor', 'all_to_all',
           'all_to_all_single', 'barrier', 'monitored_barrier', 'all_gather_object',
           'broadcast_object_list', 'gather_object', 'scatter_object_list', 'send', 'recv',
           'isend', 'irecv', 'P2POp', 'batch_isend_irecv', 'new_group', 'group', 'GroupMember',
           'ProcessGroup', 'Work', 'Future', 'get_process_group_ranks', 'get_global_rank',
           'get_group_rank', 'is_gloo_available', 'is_nccl_available', 'is_mpi_available',
           'is_torchelastic_launched', 'DistBackendError']


class DistError(RuntimeError):
    pass


class DistBackendError(DistError):
    pass


def is_available():
    return True


def is_gloo_available():
    return True


def is_nccl_available():
    return False


def is_mpi_available():
    return False


def is_ucc_available():
    return False
