"""Hooks for saved tensors (torch.autograd.graph.saved_tensors_hooks, save_on_cpu,
disable_saved_tensors_hooks).

Inside `with saved_tensors_hooks(pack, unpack):` every tensor an op saves for backward is given
to pack(tensor) when the op runs, and what pack returned is kept instead of the tensor; backward
(and grad_fn._saved_self...) calls unpack(packed) to get a tensor back. That is how activations
are moved off a device, compressed or recomputed. The innermost pair applies, per thread, as
in PyTorch. A saved tensor keeps the version check of the original: writing into it in place
after the op still makes backward refuse."""
import contextlib
import threading


class _Stack(threading.local):
    pairs = ()          # ((pack, unpack), ...), innermost last
    disabled = None     # the error message while disable_saved_tensors_hooks is active


_stack = _Stack()


def active():
    """The innermost (pack, unpack) pair, or None."""
    pairs = _stack.pairs
    if not pairs:
        return None
    if _stack.disabled is not None:
        raise RuntimeError(_stack.disabled)
    return pairs[-1]


class Packed:
    """A saved tensor as pack_hook returned it; unpack() gives the tensor back."""
    __slots__ = ('value', 'unpack_hook', 'version_counter')

    def __init__(self, value, unpack_hook, version_counter):
        self.value, self.unpack_hook, self.version_counter = value, unpack_hook, version_counter

    def unpack(self):
        from ._tensor import Tensor
        tensor = self.unpack_hook(self.value)
        if not isinstance(tensor, Tensor):
            raise TypeError(f'Output of saved tensor unpack_hook expected to be a Tensor but got '
                            f'result of type {type(tensor).__name__}')
        return tensor


def pack(tensor):
    """tensor as the active pack hook keeps it (a Packed), or tensor itself when none is."""
    pair = active()
    if pair is None:
        return tensor
    # under no_grad, as PyTorch runs it: a pack hook that computes (t * 1, t.exp().log())
    # would otherwise record ops that save tensors through this very hook, without end
    from ._tensor import _modes
    enabled, _modes.grad_enabled = _modes.grad_enabled, False
    version = tensor._vc[0]
    try:
        packed = pair[0](tensor)
    finally:
        _modes.grad_enabled = enabled
    if tensor._vc[0] != version:    # the op's own result or input changed under it
        raise RuntimeError(_PACK_HOOK_MODIFIED_INPUT)
    return Packed(packed, pair[1], tensor._vc)


_PACK_HOOK_MODIFIED_INPUT = (
    'A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack '
    'hook cannot be modified by in-place operations as this can lead to unexpected side-effects. '
    'Please open an issue if you need to perform in-place operations on the input to a pack '
    'hook.')


class saved_tensors_hooks:
    """Context manager: ops inside save pack_hook(t) for each tensor t they save; backward
    unpacks it with unpack_hook."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _stack.disabled is not None:
            raise RuntimeError(_stack.disabled)
        _stack.pairs = _stack.pairs + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        _stack.pairs = _stack.pairs[:-1]
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device when backward uses
    them (pin_memory is accepted; host memory is not pinned here)."""

    def __init__(self, pin_memory=False, device_type='cuda'):
        def pack_to_cpu(tensor):
            return tensor.device, tensor.to('cpu')

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)
        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Context manager: registering saved-tensor hooks, or saving under them, raises
    error_message inside; entering it while hooks are registered raises it at once (PyTorch's
    check: the hooks in force would otherwise be silently ignored)."""
    if _stack.pairs:
        raise RuntimeError(error_message)
    previous = _stack.disabled
    _stack.disabled = error_message
    try:
        yield
    finally:
        _stack.disabled = previous
