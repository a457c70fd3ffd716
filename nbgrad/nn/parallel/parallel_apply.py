"""parallel_apply: run each replica on its inputs.

PyTorch runs the replicas in threads, one per device. nbgrad runs them one after the other, each
with its device current: CUDA launches return at once, so the devices still work side by side
while the next replica is queued, and the order of everything the replicas do is fixed. An
exception names the replica and device, as PyTorch's does."""
from ... import cuda
from ...autograd import grad_mode
from ..._tensor import Tensor
from ._devices import device_index

__all__ = ['parallel_apply']


def _device_of(obj):
    if isinstance(obj, Tensor):
        return obj.device.index if obj.is_cuda else None
    if isinstance(obj, (list, tuple)):
        for item in obj:
            found = _device_of(item)
            if found is not None:
                return found
    if isinstance(obj, dict):
        return _device_of(list(obj.values()))
    return None


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    if len(modules) != len(inputs):
        raise AssertionError(f'The number of modules {len(modules)} is not equal to the number '
                             f'of inputs {len(inputs)}')
    if kwargs_tup is not None:
        if len(modules) != len(kwargs_tup):
            raise AssertionError(f'The number of modules {len(modules)} is not equal to the '
                                 f'number of kwargs {len(kwargs_tup)}')
    else:
        kwargs_tup = ({},) * len(modules)
    if devices is not None:
        if len(modules) != len(devices):
            raise AssertionError(f'The number of modules {len(modules)} is not equal to the '
                                 f'number of devices {len(devices)}')
    else:
        devices = [None] * len(modules)
    grad_enabled = grad_mode.is_grad_enabled()
    outputs = []
    for i, (module, input, kwargs, device) in enumerate(zip(modules, inputs, kwargs_tup,
                                                            devices)):
        device = _device_of(input) if device is None else device_index(device)
        if device is None:
            raise RuntimeError(f'Replica {i} got no CUDA tensor among its inputs to say which '
                               'device it runs on; pass devices= to parallel_apply.')
        if not isinstance(input, (list, tuple)):
            input = (input,)
        try:
            with cuda.device(device), grad_mode.set_grad_enabled(grad_enabled):
                outputs.append(module(*input, **kwargs))
        except Exception as error:
            raise type(error)(f'Caught {type(error).__name__} in replica {i} on device '
                              f'{device}.\n{error}') from error
    return outputs
