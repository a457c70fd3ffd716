"""nn.Parameter: a tensor that a Module registers as one of its parameters when assigned to an
attribute. It is a leaf that requires grad (by default) and shares memory with the data it was
made from, as in PyTorch."""
import numpy as np

from .._arrays import UninitializedArray, uninitialized_use
from .._tensor import Size, Tensor, _new
from .. import _dtype
from .._creation import empty
from .._device import concrete_cuda_index, to_device
from .._tensor_methods import _parse_to
from .._tensor_subclass import _disabled_torch_function_impl


class _ParameterMeta(type):
    def __instancecheck__(cls, instance):
        """A Tensor subclass's instance made a parameter (Parameter(my_tensor)) keeps its class
        and counts as a Parameter, as in PyTorch."""
        if cls is Parameter:
            return isinstance(instance, Tensor) and instance._is_param
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    _is_param = True
    # ops on a parameter return plain tensors, as PyTorch's Parameter opts out of subclass
    # dispatch (a user's subclass of Parameter inherits this)
    __torch_function__ = staticmethod(_disabled_torch_function_impl)

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f'Parameter(data): data must be a Tensor, got {type(data).__name__}')
        if requires_grad and data._data.dtype.kind not in _dtype.INEXACT_KINDS:
            raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                               f'gradients (got {_dtype.from_numpy_dtype(data._data.dtype)}). '
                               'Pass requires_grad=False for an integer parameter.')
        if cls is Parameter and _is_user_subclass(type(data)):
            # PyTorch's: a detached alias of the user's class, flagged a parameter
            p = data.detach().requires_grad_(requires_grad)
            p._is_param = True
            return p
        p = _new(cls)
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
        # PyTorch's: the values and requires_grad, not .grad (a plain Tensor's deepcopy keeps it)
        result = type(self)(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result


def _is_user_subclass(cls):
    return cls is not Tensor and cls.__module__.partition('.')[0] != \
        __name__.partition('.')[0]


class Buffer(Tensor):
    """nn.Buffer(data, persistent=True): marks a tensor to be registered as a buffer when
    assigned to a Module attribute (PyTorch 2.5+). Assigning it stores `data` itself."""
    __torch_function__ = staticmethod(_disabled_torch_function_impl)   # (as Parameter's)

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f'Buffer(data): data must be a Tensor, got {type(data).__name__}')
        b = _new(cls)
        b._data, b._vc, b._base = data._data, data._vc, None
        b._grad_fn, b._requires_grad = None, data._requires_grad
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: no shape until materialize()
    gives one (a lazy module does that on its first forward). Until then the tensor holds an
    empty host array that refuses every operation, and remembers the device it is meant for;
    moving and casting it (to, cuda, cpu, double...) give uninitialized tensors again, so a lazy
    module can be moved before its first forward."""
    cls_to_become = None

    def _set_uninitialized(self, requires_grad, device, dtype):
        dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self._data = np.empty(0, dtype.np).view(UninitializedArray)
        self._vc, self._base, self._grad_fn = [0], None, None
        self._requires_grad = bool(requires_grad)
        device = to_device(device) if device is not None else to_device('cpu')
        if device.type == 'cuda' and device.index is None:     # as a tensor's: a concrete GPU
            device = to_device(f'cuda:{concrete_cuda_index(device)}')
        self._lazy_device = device

    def materialize(self, shape, device=None, dtype=None):
        """Become a `cls_to_become` of `shape` (uninitialized values) on the given device and
        dtype, or this one's."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self._data = empty(shape, device=device, dtype=dtype)._data
        self.__dict__.pop('_lazy_device', None)
        self.__class__ = self.cls_to_become

    @property
    def device(self):
        return self._lazy_device

    @property
    def is_cuda(self):
        return self._lazy_device.type == 'cuda'

    @property
    def data(self):
        return self._moved(self._lazy_device, self.dtype)

    @data.setter
    def data(self, value):
        if not isinstance(value, UninitializedTensorMixin):
            raise RuntimeError(uninitialized_use('data'))
        self._data, self._lazy_device = value._data, value._lazy_device

    def _moved(self, device, dtype):
        moved = type(self).__new__(type(self), self._requires_grad, device, dtype)
        if isinstance(self, UninitializedBuffer):
            moved.persistent = self.persistent
        return moved

    def to(self, *args, **kwargs):
        device, dtype = _parse_to(args, dict(kwargs))[:2]
        return self._moved(device or self._lazy_device, dtype or self.dtype)

    def cuda(self, device=None, non_blocking=False):
        return self._moved(to_device('cuda' if device is None else device
                                     if not isinstance(device, int) else f'cuda:{device}'),
                           self.dtype)

    def cpu(self):
        return self._moved(to_device('cpu'), self.dtype)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return Tensor.type(self)
        return self._moved(self._lazy_device, _dtype.to_dtype(dtype))

    def float(self):
        return self._moved(self._lazy_device, _dtype.float32)

    def double(self):
        return self._moved(self._lazy_device, _dtype.float64)

    def half(self):
        return self._moved(self._lazy_device, _dtype.float16)

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            'happens in `load_state_dict` when trying to load an uninitialized parameter into an '
            'initialized one. Call `forward` to initialize the parameters before accessing their '
            'attributes.')

    def size(self, dim=None):   # PyTorch answers size() (an empty tensor's) but not .shape
        return Size((0,)) if dim is None else Size((0,))[dim]

    def dim(self):
        raise ValueError(uninitialized_use('dim'))

    def numel(self):
        raise ValueError(uninitialized_use('numel'))

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           '`forward` to initialize the parameters before calling '
                           '`module.share_memory()`.')

    def __repr__(self):
        return f'<{self.__class__.__name__}>'

    def __reduce_ex__(self, proto):
        return (self.__class__, (self._requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = self._moved(self._lazy_device, self.dtype)
        return memo[id(self)]


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (the weights of lazy modules)."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        p = _new(cls)
        p._set_uninitialized(requires_grad, device, dtype)
        return p

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (the running statistics of lazy norm layers)."""
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = _new(cls)
        b._set_uninitialized(requires_grad, device, dtype)
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def is_lazy(param):
    """Whether param is an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)
