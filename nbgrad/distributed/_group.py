"""Process groups: the default one (every rank, made by init_process_group) and subgroups
(new_group); which ranks belong, a rank's place in a group, and the handles (Work, Future) that
async_op=True returns. A group's collectives involve its members only: each member numbers the
group's collectives in the order it calls them, and that number keys their messages."""
import datetime
import threading
import warnings

from ._hub import Hub, rendezvous
from ._names import Backend

_state = {'hub': None, 'world': None, 'groups_made': {}}


class ProcessGroup:
    """A set of ranks (global rank numbers, sorted) that run collectives together."""

    def __init__(self, ranks, key, timeout):
        self.ranks = list(ranks)
        self.key = key
        self.timeout = timeout
        self._calls = 0

    def rank(self):
        return self.ranks.index(_hub().rank)

    def size(self):
        return len(self.ranks)

    def name(self):
        return 'gloo'

    def next_key(self, what):
        self._calls += 1
        return (self.key, self._calls, what)

    def __repr__(self):
        return f'<nbgrad.distributed.ProcessGroup ranks={self.ranks}>'


class GroupMember:
    """GroupMember.WORLD: the default group (None before init_process_group);
    NON_GROUP_MEMBER: what new_group returns on ranks outside the new group."""
    WORLD = None
    NON_GROUP_MEMBER = -100


class _WorldAttribute:
    def __get__(self, obj, owner):
        return GroupMember.WORLD


class group:
    """dist.group.WORLD: the same object as GroupMember.WORLD."""
    WORLD = _WorldAttribute()


class Future:
    """A finished collective's result, as torch.futures.Future gives it."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self):
        return True

    def then(self, callback):
        return Future(callback(self))


class Work:
    """What async_op=True returns. Collectives finish before returning; a point-to-point
    operation may finish later (`finish` runs it: in a thread for isend, on wait for irecv)."""

    def __init__(self, result=None, finish=None, thread=None, ready=None):
        self._result = result
        self._finish = finish
        self._thread = thread
        self._ready = ready
        self._error = None

    def wait(self, timeout=None):
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        if self._error is not None:
            raise self._error
        return True

    def is_completed(self):
        if self._thread is not None:
            return not self._thread.is_alive()
        if self._finish is not None and self._ready is not None and self._ready():
            self.wait()
        return self._finish is None

    def is_success(self):
        return self.is_completed() and self._error is None

    def result(self):
        self.wait()
        return self._result

    def get_future(self):
        self.wait()
        return Future(self._result)

    def exception(self):
        return self._error


def in_thread(job):
    """A Work whose job runs now in a background thread (an isend that must not block)."""
    work = Work()

    def run():
        try:
            job()
        except BaseException as error:      # (re-raised by wait(), in the caller's thread)
            work._error = error

    work._thread = threading.Thread(target=run, daemon=True)
    work._thread.start()
    return work


def _timeout_seconds(timeout, default):
    if timeout is None:
        return default
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f'Expected timeout argument to be of type datetime.timedelta, got '
                        f'{timeout}')
    return timeout.total_seconds()


def is_initialized():
    return _state['hub'] is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name='', pg_options=None, device_id=None):
    """Join the default process group; every rank calls this, and it returns once all have."""
    if is_initialized():
        raise ValueError('trying to initialize the default process group twice!')
    seconds = _timeout_seconds(timeout, 1800.0)
    name = 'gloo' if backend is None else str(backend).lower()
    if name not in ('gloo', 'cpu:gloo'):
        raise RuntimeError(f"nbgrad.distributed has the 'gloo' backend only (CPU tensors over "
                           f"TCP), not {name!r}: NCCL and MPI are not available here")
    if store is not None:
        raise NotImplementedError('init_process_group(store=...) is not supported: use an '
                                  'init_method (env://, tcp://, file://)')
    host, port, rank, world_size, path = rendezvous(init_method, rank, world_size)
    if not 0 <= rank < world_size:
        raise ValueError(f'rank {rank} is not in [0, world_size={world_size})')
    _state['hub'] = Hub(host, port, rank, world_size, path, seconds)
    _state['groups_made'] = {}
    GroupMember.WORLD = ProcessGroup(range(world_size), 'world', seconds)


def destroy_process_group(group=None):
    if group is not None and group is not GroupMember.WORLD:
        return      # (a subgroup holds no connections of its own)
    hub = _state['hub']
    if hub is not None:
        hub.close()
    _state['hub'] = None
    GroupMember.WORLD = None


def _hub():
    hub = _state['hub']
    if hub is None:
        raise ValueError('Default process group has not been initialized, please make sure to '
                         'call init_process_group.')
    return hub


def resolve(group, what):
    """The group a call runs in (None: the default one), or None when this rank is not a
    member (PyTorch then warns and does nothing)."""
    _hub()
    if group is None:
        return GroupMember.WORLD
    if group is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f'Running {what} on global rank {_hub().rank} which does not belong to '
                      f'the given group.', stacklevel=3)
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f'{what}: group must be a ProcessGroup (from new_group) or None, got '
                        f'{type(group).__name__}')
    return group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,
              sort_ranks=True):
    """A subgroup of the given global ranks (all ranks if None). Every rank calls this (members
    only, with use_local_synchronization=True); outside ranks get GroupMember.NON_GROUP_MEMBER."""
    hub = _hub()
    seconds = _timeout_seconds(timeout, GroupMember.WORLD.timeout)
    ranks = list(range(hub.world_size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f'new_group: ranks {ranks} repeat a rank')
    for r in ranks:
        if not 0 <= r < hub.world_size:
            raise ValueError(f'Invalid rank {r} given to new_group: the ranks must be in '
                             f'[0, world_size={hub.world_size})')
    made = _state['groups_made']
    made[tuple(ranks)] = made.get(tuple(ranks), 0) + 1
    if hub.rank not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(ranks, ('group', tuple(ranks), made[tuple(ranks)]), seconds)


def _member_group(group):
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    return GroupMember.WORLD if group is None else group


def get_rank(group=None):
    hub = _hub()
    group = _member_group(group)
    return -1 if group is None else group.ranks.index(hub.rank)


def get_world_size(group=None):
    _hub()
    group = _member_group(group)
    return -1 if group is None else group.size()


def get_backend(group=None):
    _hub()
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError('Invalid process group specified')
    return Backend.GLOO


def get_process_group_ranks(group):
    _hub()
    return list(_member_group(group).ranks)


def get_global_rank(group, group_rank):
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f'Group rank {group_rank} is not part of group {group}')
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f'Global rank {global_rank} is not part of group {group}')
    return ranks.index(global_rank)


def root_rank(group, what, rank=None, group_rank=None):
    """The global rank of a collective's root (src or dst, or group_src/group_dst), checked on
    every rank before anything is sent, so a bad one fails them all instead of hanging."""
    if rank is not None and group_rank is not None:
        raise ValueError(f'{what}: give the root as a global rank or as a group rank, not both')
    if group_rank is not None:
        if not 0 <= group_rank < group.size():
            raise RuntimeError(f'ProcessGroupGloo::{what}: invalid root rank: {group_rank}')
        return group.ranks[group_rank]
    rank = 0 if rank is None else rank
    if group is GroupMember.WORLD:
        if not 0 <= rank < group.size():
            raise RuntimeError(f'ProcessGroupGloo::{what}: invalid root rank: {rank}')
        return rank
    if rank not in group.ranks:
        raise ValueError(f'Global rank {rank} is not part of group {group}')
    return rank


def is_torchelastic_launched():
    import os
    return os.getenv('TORCHELASTIC_RUN_ID') is not None
