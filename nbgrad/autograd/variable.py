"""torch.autograd.Variable survives in PyTorch only as a deprecated alias of Tensor."""
from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(t, requires_grad=False) returns a tensor, as in PyTorch >= 0.4."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            from .._creation import empty
            return empty(0)
        t = data.detach()
        if requires_grad:
            t.requires_grad_()
        return t
