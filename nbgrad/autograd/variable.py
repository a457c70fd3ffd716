"""torch.autograd.Variable survives in PyTorch only as a deprecated alias of Tensor."""
from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class _ExecutionEngine:
    """Variable._execution_engine: the autograd engine's one public hook in PyTorch."""

    @staticmethod
    def queue_callback(callback):
        """Run callback() when the backward in progress has finished (only from inside it)."""
        from .graph import queue_callback
        queue_callback(callback)


class Variable(metaclass=_VariableMeta):
    """Variable(t, requires_grad=False) returns a tensor, as in PyTorch >= 0.4."""
    _execution_engine = _ExecutionEngine()

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            # PyTorch's words (its message names torch.no_grad), at the caller's line
            from .._user_warning import warn_at_caller
            warn_at_caller('volatile was removed and now has no effect. Use `with '
                           'torch.no_grad():` instead.')
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if data is None:
            from .._creation import empty
            return empty(0)
        t = data.detach()
        if requires_grad:
            t.requires_grad_()
        return t
