"""torch.func.vmap: func mapped over a batch dimension of its inputs.

nbgrad has no batching rules: vmap calls the function once per batch element and stacks the
results (PyTorch pushes the batch dimension through each op, running the function once). The
arguments are checked as PyTorch checks them, with its messages; while the function runs a
dispatcher observer (_vmap_samples.py) follows which tensors derive from the element's inputs
(PyTorch's BatchedTensors), refuses in-place writes of batched values into tensors from
outside the function, and makes other writes into such tensors happen as once.
"""
import contextlib
import functools

from .._tensor import Tensor
from .. import _batched_draws
from ..random import default_generator
from ._pytree import broadcast_prefix, flatten, spec_text
from ..autograd.api import samples_ahead
from ._transform_stack import calling_function
from ._vmap_samples import tracking


def _name(func):
    """func as PyTorch's vmap messages name it."""
    if hasattr(func, '__name__'):
        return func.__name__
    if isinstance(func, functools.partial):
        return f'functools.partial({_name(func.func)}, ...)'
    return repr(func)


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    for leaf in flatten(out_dims)[0]:
        if leaf is not None and not isinstance(leaf, int):
            raise ValueError(f'vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be '
                             f'an int, None or a python collection of ints representing where '
                             f'in the outputs the vmapped dimension should appear.')


def _batched_inputs(in_dims, args, func):
    """(batch size, the arguments' leaves, each leaf's in_dim (None: not mapped, otherwise
    non-negative), rebuild(leaves) -> the arguments), with PyTorch's checks."""
    head = f'vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)'
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f'{head}: expected `in_dims` to be int or a (potentially nested) tuple '
                         f'matching the structure of inputs, got: {type(in_dims)}.')
    if not args:
        raise ValueError(f'vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add '
                         f'inputs, or you are trying to vmap over a function with no inputs. '
                         f'The latter is unsupported.')
    leaves, rebuild = flatten(args)
    dims = broadcast_prefix(in_dims, args)
    if dims is None:
        raise ValueError(f'{head}: in_dims is not compatible with the structure of `inputs`. '
                         f'in_dims has structure {spec_text(in_dims)} but inputs has structure '
                         f'{spec_text(args)}.')
    for i, (leaf, d) in enumerate(zip(leaves, dims)):
        if d is not None and not isinstance(d, int):
            raise ValueError(f'{head}: Got in_dim={d} for an input but in_dim must be either an '
                             f'integer dimension or None.')
        if d is not None and not isinstance(leaf, Tensor):
            raise ValueError(f'{head}: Got in_dim={d} for an input but the input is of type '
                             f'{type(leaf)}. We cannot vmap over non-Tensor arguments, please '
                             f'use None as the respective in_dim')
        if d is not None and not -leaf.dim() <= d < leaf.dim():
            raise ValueError(f'{head}: Got in_dim={d} for some input, but that input is a Tensor '
                             f'of dimensionality {leaf.dim()} so expected in_dim to satisfy '
                             f'-{leaf.dim()} <= in_dim < {leaf.dim()}.')
        if d is not None:
            dims[i] = d % leaf.dim()
    sizes = [leaf.shape[d] for leaf, d in zip(leaves, dims) if d is not None]
    if not sizes:
        raise ValueError('vmap: Expected at least one Tensor to vmap over')
    if any(n != sizes[0] for n in sizes):
        raise ValueError(f'vmap: Expected all tensors to have the same size in the mapped '
                         f'dimension, got sizes {sizes} for the mapped dimension')
    return sizes[0], leaves, dims, rebuild


def _output_dims(output, out_dims, func):
    """out_dims spread over output's leaves, as PyTorch matches them (a single tensor output
    takes an int, None or a 1-tuple)."""
    if isinstance(output, Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        dims = None
    else:
        dims = broadcast_prefix(out_dims, output)
    if dims is None:
        raise ValueError(f'vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is '
                         f'not compatible with the structure of `outputs`. out_dims has '
                         f'structure {spec_text(out_dims)} but outputs has structure '
                         f'{spec_text(output)}.')
    return dims


def _check_output(leaf, d, batched, func):
    name = _name(func)
    if d is None:
        if batched:
            raise ValueError(f'vmap({name}, ...): `{name}` can not return a BatchedTensor when '
                             f'out_dim is None')
    elif not isinstance(leaf, Tensor):
        raise ValueError(f'vmap({name}, ...): `{name}` must only return Tensors, got type '
                         f'{type(leaf)}. Did you mean to set out_dims= to None for output?')


def _empty_batch(func, leaves, dims, rebuild, out_dims, kwargs):
    """vmap over a batch of 0: func's outputs for one element of zeros give the shapes and
    dtypes; each comes back with a 0-long batch dim at its out_dim."""
    sample = func(*rebuild([leaf if d is None else leaf.new_zeros(
        tuple(s for i, s in enumerate(leaf.shape) if i != d)) for leaf, d in zip(leaves, dims)]),
        **kwargs)
    out_leaves, rebuild_out = flatten(sample)
    empty = []
    for t, d in zip(out_leaves, _output_dims(sample, out_dims, func)):
        _check_output(t, d, False, func)
        if d is None:
            empty.append(t)
            continue
        shape = list(t.shape)
        shape.insert(d % (len(shape) + 1), 0)
        empty.append(t.new_empty(shape))
    return rebuild_out(empty)


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """func mapped over a batch dimension of its inputs: called once per batch element (in_dims:
    the dim of each argument, None for an argument shared by all), the outputs stacked at
    out_dims (None: an output that does not depend on the batch, returned once). chunk_size
    changes nothing here (the elements run one by one anyway).

    randomness='same' gives every element the same random numbers (each call starts from the
    CPU generator's state before the first, which ends one call's draws later, as PyTorch's
    single unbatched draw); 'different' gives each element its rows of one draw for the batch,
    as PyTorch's (_batched_draws.py); 'error' (the default) refuses a random op, as PyTorch's."""
    if randomness not in ('error', 'different', 'same'):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f'vmap: chunk_size should be None or greater than 0. (got {chunk_size})')

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _check_out_dims(out_dims, func)
        size, leaves, dims, rebuild = _batched_inputs(in_dims, args, func)
        if size == 0:
            return _empty_batch(func, leaves, dims, rebuild, out_dims, kwargs)
        outputs, batched = [], None
        generator = default_generator if randomness == 'same' else None
        start = generator.get_state() if generator is not None else None
        tracker, stop_tracking = tracking(_name(func), size)
        try:
            with calling_function(), contextlib.nullcontext() if generator is not None else \
                    _batched_draws.drawing_for(size, refuse=randomness == 'error') as draws:
                for b in range(size):
                    if b and generator is not None:
                        generator.set_state(start)
                    if b:
                        tracker.restore_outside()
                    if draws is not None:
                        draws.start(b)
                    sample_args = [leaf if d is None else leaf.select(d, b)
                                   for leaf, d in zip(leaves, dims)]
                    tracker.start([a for a, d in zip(sample_args, dims) if d is not None])
                    more = b < size - 1      # (graphs from outside stay for the next element)
                    samples_ahead.count += more
                    try:
                        outputs.append(func(*rebuild(sample_args), **kwargs))
                    finally:
                        samples_ahead.count -= more
                    if b == 0:      # (which outputs are batched: the first element tells)
                        batched = [tracker.is_derived(t) for t in flatten(outputs[0])[0]]
                    tracker.start([])
        finally:
            stop_tracking()
        first, rebuild_out = flatten(outputs[0])
        out_leaf_dims = _output_dims(outputs[0], out_dims, func)
        for leaf, d, is_batched in zip(first, out_leaf_dims, batched):
            _check_output(leaf, d, is_batched, func)
        columns = list(zip(*[flatten(o)[0] for o in outputs]))
        from .._functions import stack
        return rebuild_out([column[0] if d is None else stack(list(column), dim=d)
                            for column, d in zip(columns, out_leaf_dims)])
    return wrapper
