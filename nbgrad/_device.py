"""Devices ('cpu', 'cuda', 'cuda:N') and the array module (NumPy or CuPy) that serves each.

CuPy is imported only when a CUDA device is first used, so `import nbgrad` needs NumPy alone and
runs in plain scripts, DataLoader workers and machines without a GPU.
"""
import numpy as np

from ._arrays import MetaArray, is_host_array
from ._sparse_coo import SparseCOO

_DEVICE_TYPES = ('cpu', 'cuda', 'meta')


class device:
    __slots__ = ('type', 'index')

    def __new__(cls, type_or_device=None, index=None, **keywords):
        # (PyTorch's parameter is named `type`: device(type='cpu'), its repr, must work)
        if 'type' in keywords:
            if type_or_device is not None:
                raise TypeError("device() got multiple values for argument 'type'")
            type_or_device = keywords.pop('type')
        if keywords:
            raise TypeError(f'device() got an unexpected keyword argument '
                            f'{next(iter(keywords))!r}')
        if isinstance(type_or_device, device):
            return type_or_device
        if isinstance(type_or_device, int) and not isinstance(type_or_device, bool):
            type_or_device, index = 'cuda', type_or_device  # torch.device(0) means cuda:0
        if not isinstance(type_or_device, str):
            raise TypeError(f'device() expects a string such as "cpu" or "cuda:0", '
                            f'got {type(type_or_device).__name__}')
        kind, _, number = type_or_device.partition(':')
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f'Expected one of cpu, cuda, meta device type at start of device '
                               f'string: {type_or_device}')
        if number or type_or_device.endswith(':'):
            if index is not None:
                raise RuntimeError(f'device string {type_or_device!r} already has an index; '
                                   f'do not pass index={index} too')
            if not number.isdigit() or (len(number) > 1 and number[0] == '0'):
                raise RuntimeError(f"Invalid device string: '{type_or_device}'")
            index = int(number)
        if index is not None:
            index = int(index)
            if index < 0:
                raise RuntimeError('Device index must not be negative')
        key = (kind, index)
        cached = _CACHE.get(key)
        if cached is None:
            cached = object.__new__(cls)
            object.__setattr__(cached, 'type', kind)
            object.__setattr__(cached, 'index', key[1])
            _CACHE[key] = cached
        return cached

    def __setattr__(self, name, value):
        raise AttributeError('device objects are immutable')

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __eq__(self, other):
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    # `with nbgrad.device('cuda'):` makes it the default device of factories for the block
    def __enter__(self):
        _entered.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc):
        _default[0] = _entered.pop()


_CACHE = {}
CPU = device('cpu')
META = device('meta')
# The device factories (tensor, zeros, randn, arange...) use when not given one, or None when
# none was set: factories then use the CPU, and tensor() of a tensor keeps the data's device.
# Once one is set (even 'cpu'), tensor() of a tensor goes there too, as PyTorch's device mode
# does; *_like factories follow their input and from_numpy stays on the CPU either way.
_default = [None]
_entered = []


def set_default_device(device):
    """PyTorch's set_default_device; None unsets it."""
    _default[0] = None if device is None else to_device(device)


def get_default_device():
    return _default[0] or CPU


def default_device_if_set():
    return _default[0]


def to_device(d):
    """Normalise what users pass as device= (None, str, int, device) to a device object; None
    is the default device (set_default_device)."""
    if d is None:
        return _default[0] or CPU
    if d.__class__ is device:
        return d
    return device(d)


def cupy_module():
    """Import CuPy on first use, with an error that says how to get it."""
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError(
            "nbgrad's CUDA backend needs CuPy, which is not installed. Install it with "
            "`pip install 'nbgrad[cuda]'` (or the cupy-cudaXXx wheel matching your CUDA), or "
            "keep the tensor on device='cpu'.") from e
    return cupy


def array_module_for(d):
    """NumPy for 'cpu' (and 'meta', whose arrays are NumPy's); CuPy (checked to have a GPU) for
    'cuda'."""
    if d.type != 'cuda':
        return np
    from . import cuda
    cuda._lazy_init()
    return cupy_module()


def device_of_array(array):
    """The device an array lives on: NumPy arrays (subclasses too, such as an uninitialized
    parameter's) on the CPU, CuPy arrays on their GPU."""
    if array.__class__ is MetaArray:
        return META
    if is_host_array(array):
        return CPU
    if array.__class__ is SparseCOO:    # a sparse tensor lives where its values do
        return device_of_array(array.values)
    return device('cuda', array.device.id)


def concrete_cuda_index(d):
    """The GPU number a device refers to; 'cuda' alone means the current device."""
    if d.index is not None:
        return d.index
    from . import cuda
    return cuda.current_device()
