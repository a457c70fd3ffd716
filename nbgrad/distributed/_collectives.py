"""The tensor collectives. Each runs among one group's members through a root: the members send
their arrays to it, it combines them (in group-rank order, so every rank gets the same bits
whatever the timing) and sends each member its share. Arguments are checked on every rank
before anything is sent, so misuse raises everywhere instead of leaving the others waiting."""
import numpy as np

from .._tensor import Tensor
from ._group import Work, _hub, resolve, root_rank
from ._names import ReduceOp, _op_type, check_op_for_dtype, combine


def host_array(tensor, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{what}: expected a Tensor, got {type(tensor).__name__}')
    if not tensor.is_cpu:
        raise RuntimeError(f"{what}: nbgrad's gloo backend takes CPU tensors (got one on "
                           f'{tensor.device}); move it with .cpu() first')
    return tensor._data


def write(tensor, array):
    """Store a collective's result in the tensor's own memory (in place, as PyTorch's)."""
    tensor._data[...] = array
    tensor._vc[0] += 1


def done(async_op, *tensors):
    return Work(result=list(tensors)) if async_op else None


def gather_at(group, key, obj, root, what):
    """Root: every member's obj in group order; others: None."""
    hub = _hub()
    if hub.rank != root:
        hub.send(root, key + ('up',), obj)
        return None
    return [obj if r == root else hub.recv(r, key + ('up',), what) for r in group.ranks]


def spread(group, key, root, what, objs=None, same=None):
    """Each member's share from root: objs[its group rank], or `same` for everyone."""
    hub = _hub()
    if hub.rank != root:
        return hub.recv(root, key + ('down',), what)
    for i, r in enumerate(group.ranks):
        if r != root:
            hub.send(r, key + ('down',), same if objs is None else objs[i])
    return same if objs is None else objs[group.ranks.index(root)]


def _check_list(tensors, group, what, name):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != group.size():
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise RuntimeError(f'ProcessGroupGloo::{what}: invalid {name} tensor list at index 0 '
                           f'(expected length {group.size()}, got {got})')


def _check_like(tensors, reference, what):
    for t in tensors:
        host_array(t, what)
        if t.dtype != reference.dtype:
            raise ValueError(f'Invalid usage of tensors with different dtypesFound {t.dtype} '
                             f'and  {reference.dtype}')
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(reference.shape):
            raise RuntimeError(f'ProcessGroupGloo::{what}: invalid tensor size at index {i} '
                               f'(expected ({", ".join(map(str, reference.shape))}), got '
                               f'({", ".join(map(str, t.shape))}))')


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's tensor becomes the combination (by op) of all ranks' tensors."""
    group = resolve(group, 'all_reduce')
    if group is None:
        return None
    op = _op_type(op)
    array = host_array(tensor, 'all_reduce')
    check_op_for_dtype(op, array.dtype)
    key, root = group.next_key('all_reduce'), group.ranks[0]
    gathered = gather_at(group, key, np.ascontiguousarray(array), root, 'all_reduce')
    result = combine(gathered, op, group.size()) if gathered is not None else None
    write(tensor, spread(group, key, root, 'all_reduce', same=result))
    return done(async_op, tensor)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Like all_reduce, but only rank dst receives the result."""
    group = resolve(group, 'reduce')
    if group is None:
        return None
    op = _op_type(op)
    array = host_array(tensor, 'reduce')
    check_op_for_dtype(op, array.dtype)
    dst = root_rank(group, 'reduce', dst, group_dst)
    key = group.next_key('reduce')
    gathered = gather_at(group, key, np.ascontiguousarray(array), dst, 'reduce')
    if gathered is not None:
        write(tensor, combine(gathered, op, group.size()))
    return done(async_op, tensor)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Every rank's tensor becomes rank src's."""
    group = resolve(group, 'broadcast')
    if group is None:
        return None
    array = host_array(tensor, 'broadcast')
    src = root_rank(group, 'broadcast', src, group_src)
    key = group.next_key('broadcast')
    value = np.ascontiguousarray(array) if _hub().rank == src else None
    received = spread(group, key, src, 'broadcast', same=value)
    if _hub().rank != src:
        write(tensor, received)
    return done(async_op, tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] becomes group rank r's tensor, on every rank."""
    group = resolve(group, 'all_gather')
    if group is None:
        return None
    array = host_array(tensor, 'all_gather')
    _check_list(tensor_list, group, 'allgather', 'output')
    _check_like(tensor_list, tensor, 'allgather')
    key, root = group.next_key('all_gather'), group.ranks[0]
    gathered = gather_at(group, key, np.ascontiguousarray(array), root, 'all_gather')
    for out, part in zip(tensor_list, spread(group, key, root, 'all_gather', same=gathered)):
        write(out, part)
    return done(async_op, *tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor becomes the ranks' input tensors concatenated (or stacked) along dim 0."""
    group = resolve(group, 'all_gather_into_tensor')
    if group is None:
        return None
    array = host_array(input_tensor, 'all_gather_into_tensor')
    out = host_array(output_tensor, 'all_gather_into_tensor')
    if out.dtype != array.dtype:
        raise TypeError(f'output tensor must have the same type as input tensor: got '
                        f'{output_tensor.dtype} and {input_tensor.dtype}')
    if out.size != array.size * group.size():
        raise ValueError(f'output tensor size must be equal to world_size times input tensor '
                         f'size: got {out.size} and {group.size()} x {array.size}')
    key, root = group.next_key('all_gather_into_tensor'), group.ranks[0]
    gathered = gather_at(group, key, np.ascontiguousarray(array), root,
                         'all_gather_into_tensor')
    gathered = spread(group, key, root, 'all_gather_into_tensor', same=gathered)
    write(output_tensor, np.concatenate([g.reshape(-1) for g in gathered]).reshape(out.shape))
    return done(async_op, output_tensor)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank dst's gather_list[r] becomes group rank r's tensor."""
    group = resolve(group, 'gather')
    if group is None:
        return None
    array = host_array(tensor, 'gather')
    dst = root_rank(group, 'gather', dst, group_dst)
    if _hub().rank == dst:
        _check_list(gather_list, group, 'gather', 'output')
        _check_like(gather_list, tensor, 'gather')
    elif gather_list:
        raise ValueError('Argument ``gather_list`` must NOT be specified on non-destination '
                         'ranks.')
    key = group.next_key('gather')
    gathered = gather_at(group, key, np.ascontiguousarray(array), dst, 'gather')
    if gathered is not None:
        for out, part in zip(gather_list, gathered):
            write(out, part)
    return done(async_op, tensor)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Group rank r's tensor becomes rank src's scatter_list[r]."""
    group = resolve(group, 'scatter')
    if group is None:
        return None
    host_array(tensor, 'scatter')
    src = root_rank(group, 'scatter', src, group_src)
    parts = None
    if _hub().rank == src:
        _check_list(scatter_list, group, 'scatter', 'input')
        _check_like(scatter_list, tensor, 'scatter')
        parts = [np.ascontiguousarray(host_array(t, 'scatter')) for t in scatter_list]
    elif scatter_list:
        raise ValueError('Argument ``scatter_list`` must NOT be specified on non-source ranks.')
    key = group.next_key('scatter')
    write(tensor, spread(group, key, src, 'scatter', objs=parts))
    return done(async_op, tensor)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Group rank r's output becomes the combination of every rank's input_list[r]."""
    group = resolve(group, 'reduce_scatter')
    if group is None:
        return None
    op = _op_type(op)
    array = host_array(output, 'reduce_scatter')
    check_op_for_dtype(op, array.dtype)
    _check_list(input_list, group, 'reduce_scatter', 'input')
    _check_like(input_list, output, 'reduce_scatter')
    key, root = group.next_key('reduce_scatter'), group.ranks[0]
    mine = [np.ascontiguousarray(host_array(t, 'reduce_scatter')) for t in input_list]
    gathered = gather_at(group, key, mine, root, 'reduce_scatter')
    parts = None
    if gathered is not None:
        parts = [combine([rank_parts[i] for rank_parts in gathered], op, group.size())
                 for i in range(group.size())]
    write(output, spread(group, key, root, 'reduce_scatter', objs=parts))
    return done(async_op, output)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """reduce_scatter with the inputs given as one tensor: its group.size() equal chunks along
    dim 0 (or the rows of a (size, *output.shape) tensor)."""
    group = resolve(group, 'reduce_scatter_tensor')
    if group is None:
        return None
    out, array = host_array(output, 'reduce_scatter_tensor'), host_array(input, 'reduce_scatter_tensor')
    if out.dtype != array.dtype:
        raise TypeError(f'input tensor must be the same type as the output tensor: got '
                        f'{input.dtype} and {output.dtype}')
    if array.size != out.size * group.size():
        raise ValueError(f'input tensor must be the same size as output size times world size: '
                         f'got {array.size} and {out.size} x {group.size()}')
    op = _op_type(op)
    check_op_for_dtype(op, out.dtype)
    key, root = group.next_key('reduce_scatter_tensor'), group.ranks[0]
    chunks = np.ascontiguousarray(array).reshape(group.size(), *out.shape)
    gathered = gather_at(group, key, chunks, root, 'reduce_scatter_tensor')
    parts = None
    if gathered is not None:
        parts = list(combine(gathered, op, group.size()))
    write(output, spread(group, key, root, 'reduce_scatter_tensor', objs=parts))
    return done(async_op, output)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Group rank r's output_tensor_list[s] becomes group rank s's input_tensor_list[r]."""
    group = resolve(group, 'all_to_all')
    if group is None:
        return None
    _check_list(input_tensor_list, group, 'alltoall', 'input')
    _check_list(output_tensor_list, group, 'alltoall', 'output')
    for t in [*input_tensor_list, *output_tensor_list]:
        host_array(t, 'all_to_all')
        if t.dtype != input_tensor_list[0].dtype:
            raise ValueError(f'Invalid usage of tensors with different dtypesFound {t.dtype} '
                             f'and  {input_tensor_list[0].dtype}')
    key, root = group.next_key('all_to_all'), group.ranks[0]
    mine = [np.ascontiguousarray(t._data) for t in input_tensor_list]
    gathered = gather_at(group, key, mine, root, 'all_to_all')
    parts = None
    if gathered is not None:
        parts = [[gathered[s][r] for s in range(group.size())] for r in range(group.size())]
    received = spread(group, key, root, 'all_to_all', objs=parts)
    for out, part in zip(output_tensor_list, received):
        if tuple(out.shape) != part.shape:
            raise RuntimeError(f'all_to_all: output tensor of shape {tuple(out.shape)} cannot '
                               f'hold a received tensor of shape {part.shape}')
        write(out, part)
    return done(async_op, *output_tensor_list)


def _split_sizes(sizes, length, count, name):
    if sizes is None or len(sizes) == 0:
        if length % count:
            raise RuntimeError(f'Tensor\'s dim 0 does not divide equally across group size '
                               f'({name}: dim 0 is {length}, group size {count})')
        return [length // count] * count
    sizes = [int(s) for s in sizes]
    if len(sizes) != count or sum(sizes) != length:
        raise RuntimeError(f'Split sizes doesn\'t match total dim 0 size ({name}: {sizes} for '
                           f'dim 0 of {length} over {count} ranks)')
    return sizes


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    """all_to_all on dim-0 slices of one input and one output tensor (equal slices by
    default, or the given split sizes)."""
    group = resolve(group, 'all_to_all_single')
    if group is None:
        return None
    src, dst = host_array(input, 'all_to_all_single'), host_array(output, 'all_to_all_single')
    if src.dtype != dst.dtype:
        raise ValueError(f'Invalid usage of tensors with different dtypesFound {output.dtype} '
                         f'and  {input.dtype}')
    n = group.size()
    in_sizes = _split_sizes(input_split_sizes, src.shape[0] if src.ndim else 0, n, 'input')
    out_sizes = _split_sizes(output_split_sizes, dst.shape[0] if dst.ndim else 0, n, 'output')
    bounds = np.cumsum([0] + in_sizes)
    mine = [np.ascontiguousarray(src[bounds[i]:bounds[i + 1]]) for i in range(n)]
    key, root = group.next_key('all_to_all_single'), group.ranks[0]
    gathered = gather_at(group, key, mine, root, 'all_to_all_single')
    parts = None
    if gathered is not None:
        parts = [[gathered[s][r] for s in range(n)] for r in range(n)]
    received = spread(group, key, root, 'all_to_all_single', objs=parts)
    for size, part in zip(out_sizes, received):
        if part.shape[0] != size:
            raise RuntimeError(f'all_to_all_single: expected {size} rows from a rank, got '
                               f'{part.shape[0]} (do the ranks\' split sizes agree?)')
    write(output, np.concatenate(received) if received else dst)
    return done(async_op, output)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Returns once every rank of the group has called barrier()."""
    group = resolve(group, 'barrier')
    if group is None:
        return None
    key, root = group.next_key('barrier'), group.ranks[0]
    gather_at(group, key, None, root, 'barrier')
    spread(group, key, root, 'barrier', same=None)
    return done(async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier whose root reports which ranks did not arrive within the timeout."""
    from ._group import _timeout_seconds
    group = resolve(group, 'monitored_barrier')
    if group is None:
        return None
    hub = _hub()
    seconds = _timeout_seconds(timeout, group.timeout)
    key, root = group.next_key('monitored_barrier'), group.ranks[0]
    if hub.rank != root:
        hub.send(root, key + ('up',), None)
        hub.recv(root, key + ('down',), 'monitored_barrier', timeout=seconds)
        return None
    missing = []
    for r in group.ranks[1:]:
        try:
            hub.recv(r, key + ('up',), 'monitored_barrier', timeout=seconds)
        except RuntimeError:
            missing.append(r)
            if not wait_all_ranks:
                break
    if missing:
        raise RuntimeError(f'Rank{"s" if len(missing) > 1 else ""} '
                           f'{", ".join(map(str, missing))} failed to pass monitoredBarrier in '
                           f'{int(seconds * 1000)} ms')
    spread(group, key, root, 'monitored_barrier', same=None)
    return None
