"""nbgrad.utils.checkpoint: activation checkpointing (torch.utils.checkpoint).

A checkpointed part of a model keeps none of its activations for backward; backward runs that
part again to get them back, trading compute for memory. Two forms, as in PyTorch:

- use_reentrant=False (recommended): the forward records the graph as usual and the region's
  nodes give their saved data up (_recompute.py). Works with autograd.grad, backward(inputs=),
  keyword arguments, nested checkpoints and double backward.
- use_reentrant=True (PyTorch's default when use_reentrant is not passed, with a warning): the
  forward runs under no_grad inside a Function whose backward reruns it with grad on and calls
  backward from there, which accumulates the parameters' gradients directly. Only the inputs'
  gradients flow on, so if no input requires grad, nothing does (PyTorch warns).

Both restore the forward's RNG state (preserve_rng_state=True: dropout draws the same mask) and
autocast settings for the recomputation.
"""
import contextlib
import warnings

from .. import _dispatch
from .._tensor import Tensor
from ..autograd.api import backward as _backward
from ..autograd.function import Function
from ..autograd.graph import _is_checkpoint_valid
from ..autograd.grad_mode import enable_grad
from ._recompute import AutocastSnapshot, CheckpointError, RecomputeFrame, RngSnapshot

__all__ = ['checkpoint', 'checkpoint_sequential', 'CheckpointError', 'CheckpointFunction',
           'check_backward_validity', 'detach_variable', 'get_device_states',
           'set_device_states', 'noop_context_fn', 'set_checkpoint_early_stop',
           'set_checkpoint_debug_enabled', 'DefaultDeviceType']

_DETERMINISM_CHECKS = ('default', 'none')
_checkpoint_debug_enabled = None
_enable_checkpoint_early_stop = None

_USE_REENTRANT_WARNING = (
    '{}: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, '
    'calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is '
    'recommended, but if you need to preserve the current default behavior, you can pass '
    'use_reentrant=True. Refer to docs for more details on the differences between the two '
    'variants.')


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Inside, every non-reentrant checkpoint behaves as if debug=enabled (None: as passed)."""
    global _checkpoint_debug_enabled
    previous, _checkpoint_debug_enabled = _checkpoint_debug_enabled, enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """PyTorch's switch for stopping a recomputation once every needed tensor is back. nbgrad
    always recomputes the whole region (the gradients are the same either way), so the setting
    is kept for code that uses it and changes nothing."""
    global _enable_checkpoint_early_stop
    previous, _enable_checkpoint_early_stop = _enable_checkpoint_early_stop, enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = previous


def detach_variable(inputs):
    """The tensors of the tuple inputs detached, each keeping its requires_grad."""
    if not isinstance(inputs, tuple):
        raise RuntimeError('Only tuple of tensors is supported. Got Unsupported input type: '
                           f'{type(inputs).__name__}')
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            detached = x.detach()
            detached.requires_grad = x.requires_grad
            x = detached
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn('None of the inputs have requires_grad=True. Gradients will be None',
                      stacklevel=2)


class DefaultDeviceType:
    """The device type whose RNG states checkpoint saves when no input says (PyTorch's)."""
    _default_device_type = 'cuda'

    @staticmethod
    def set_device_type(device='cuda'):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        return DefaultDeviceType._default_device_type


def _infer_device_type(*args):
    types = list({x.device.type for x in args
                  if isinstance(x, Tensor) and x.device.type != 'cpu'})
    if len(types) > 1:
        warnings.warn('Tensor arguments, excluding CPU tensors, are detected on at least two '
                      'types of devices. Device state will only be saved for devices of a '
                      f'single device type, and the remaining devices will be ignored. '
                      f'Consequently, if any checkpointed functions involve randomness, this '
                      f'may result in incorrect gradients. (Note that if CUDA devices are '
                      f'among the devices detected, it will be prioritized; otherwise, the '
                      f'first device encountered will be selected.)\nDevice types: {types} '
                      f'first device type: {types[0]}')
    if not types:
        return DefaultDeviceType.get_device_type()
    return 'cuda' if 'cuda' in types else types[0]


def get_device_states(*args):
    """The GPUs the tensor arguments are on, and each one's RNG state."""
    from .. import cuda
    devices = sorted({x.device.index for x in args
                      if isinstance(x, Tensor) and x.device.type == 'cuda'})
    return devices, [cuda.get_rng_state(d) for d in devices]


def set_device_states(devices, states, *, device_type=None):
    from .. import cuda
    for device, state in zip(devices, states):
        cuda.set_rng_state(state, device)


def _cuda_in_use():
    from .. import cuda
    return cuda.is_initialized()


def _rng_snapshot(preserve, args):
    """What preserve_rng_state saves, and whether CUDA's states were among it."""
    had_cuda = preserve and _cuda_in_use()
    devices = get_device_states(*args)[0] if had_cuda and \
        _infer_device_type(*args) == 'cuda' else []
    return RngSnapshot(preserve, devices), had_cuda


def _check_cuda_not_started(preserve, had_cuda):
    if preserve and not had_cuda and _cuda_in_use():
        raise RuntimeError(
            "nbgrad's CUDA state was initialized in the forward pass of a checkpoint, so its "
            'RNG state could not be saved for the recomputation. Use CUDA once before the '
            'checkpointed call (nbgrad.cuda.init()), or pass preserve_rng_state=False.')


class CheckpointFunction(Function):
    """The reentrant form: forward under no_grad; backward reruns the function with grad on
    and backpropagates through the rerun from inside this node's backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.autocast_state = AutocastSnapshot()
        ctx.rng, had_cuda = _rng_snapshot(preserve_rng_state, args)
        # the tensors are saved for backward (version-checked); other arguments kept as they are
        ctx.inputs = [None if isinstance(x, Tensor) else x for x in args]
        ctx.tensor_indices = [i for i, x in enumerate(args) if isinstance(x, Tensor)]
        ctx.save_for_backward(*[x for x in args if isinstance(x, Tensor)])
        outputs = run_function(*args)
        _check_cuda_not_started(preserve_rng_state, had_cuda)
        return outputs

    @staticmethod
    def backward(ctx, *grad_outputs):
        if not _is_checkpoint_valid():
            raise RuntimeError(
                'When use_reentrant=True, nbgrad.utils.checkpoint is incompatible with .grad() '
                'or passing an `inputs` parameter to .backward(). To resolve this error, you '
                'can either set use_reentrant=False, or call .backward() without passing the '
                '`inputs` argument.')
        inputs = list(ctx.inputs)
        for i, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = tensor
        with ctx.rng.restored():
            detached = detach_variable(tuple(inputs))
            with enable_grad(), ctx.autocast_state.restored():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(out, g) for out, g in zip(outputs, grad_outputs)
                     if isinstance(out, Tensor) and out.requires_grad]
        if not with_grad:
            raise RuntimeError('none of output has requires_grad=True, this checkpoint() is not '
                               'necessary')
        _backward([out for out, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None
                                    for x in detached)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check='default', debug=False, early_stop=True, **kwargs):
    """Run function(*args, **kwargs) without keeping its activations; backward recomputes
    them. Returns what function returns."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING.format('nbgrad.utils.checkpoint'), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if kwargs and use_reentrant:
        raise ValueError('Unexpected keyword arguments: ' + ','.join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError('Passing `context_fn` or `debug` is only supported when '
                             'use_reentrant=False.')
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, args, kwargs)


def _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug,
                                  args, kwargs):
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError('debug=True is incompatible with non-default context_fn')
        debug = True
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f'determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but '
                         f'got {determinism_check}')
    forward_context, recompute_context = context_fn()
    if not _dispatch._modes.grad_enabled:        # nothing will be saved: nothing to recompute
        return function(*args, **kwargs)
    rng, had_cuda = _rng_snapshot(preserve, args)
    frame = RecomputeFrame(function, args, kwargs, rng, AutocastSnapshot(), recompute_context,
                           determinism_check == 'default', debug)
    completed = False
    with forward_context:
        outputs = function(*args, **kwargs)
        completed = True
    if not completed:
        raise RuntimeError(
            'nbgrad.utils.checkpoint: the forward context provided by context_fn suppressed an '
            'exception raised during the checkpointed forward. This is not supported because '
            'checkpoint cannot return a value for a failed forward.')
    _check_cuda_not_started(preserve, had_cuda)
    frame.strip(outputs)
    return outputs


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or a list of modules/functions) in `segments` chunks, checkpointing
    every chunk but the last."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING.format(
            'nbgrad.utils.checkpoint.checkpoint_sequential'), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if kwargs:
        raise ValueError('Unexpected keyword arguments: ' + ','.join(kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run_function(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1)(input)
