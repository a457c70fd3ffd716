"""nn.Parameter: a tensor that a Module registers as one of its parameters when assigned to an
attribute. It is a leaf that requires grad (by default) and shares memory with the data it was
made from, as in PyTorch."""
from .._tensor import Tensor
from .. import _dtype
from .._creation import empty


class Parameter(Tensor):
    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f'Parameter(data): data must be a Tensor, got {type(data).__name__}')
        if requires_grad and data._data.dtype.kind not in 'fc':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                               f'gradients (got {_dtype.from_numpy_dtype(data._data.dtype)}). '
                               'Pass requires_grad=False for an integer parameter.')
        p = Tensor.__new__(cls)
        p._data = data._data      # the same memory and version counter, outside any graph
        p._vc = data._vc
        p._base = None
        p._grad_fn = None
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__ (Tensor.__init__ is the legacy constructor)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._make(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            import copy
            result._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """nn.Buffer(data, persistent=True): marks a tensor to be registered as a buffer when
    assigned to a Module attribute (PyTorch 2.5+). Assigning it stores `data` itself."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f'Buffer(data): data must be a Tensor, got {type(data).__name__}')
        b = Tensor.__new__(cls)
        b._data, b._vc, b._base = data._data, data._vc, None
        b._grad_fn, b._requires_grad = None, data._requires_grad
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


def is_lazy(param):
    return False
