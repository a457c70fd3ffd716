"""scatter / scatter_kwargs / gather: split a batch over devices and join the results, through
nested tuples, lists, dicts and namedtuples, differentiably (chunks and copies are autograd ops,
so gradients return to the original batch and flow from the gathered output)."""
import warnings

from ..._tensor import Tensor
from ...ops.shape import cat
from ...ops.views import chunk
from ._devices import device_index

__all__ = ['scatter', 'scatter_kwargs', 'gather']


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, '_asdict') and hasattr(obj, '_fields')


def _scatter_tensor(tensor, devices, dim):
    """tensor cut into len(devices) chunks along dim (fewer if it is shorter, as torch.chunk
    cuts), chunk i copied to devices[i]."""
    return tuple(part.to(f'cuda:{device}')
                 for part, device in zip(chunk(tensor, len(devices), dim), devices))


def scatter(inputs, target_gpus, dim=0):
    """Tensors are chunked over target_gpus; containers are scattered element by element into
    one container per device; anything else is repeated for every device."""
    devices = [device_index(d) for d in target_gpus]

    def scatter_map(obj):
        if isinstance(obj, Tensor):
            return _scatter_tensor(obj, devices, dim)
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in devices]
    return scatter_map(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """(inputs per device, kwargs per device), padded to the same length with () and {}."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def _gather_tensors(tensors, target_device, dim):
    target = 'cpu' if target_device == -1 or target_device == 'cpu' else \
        f'cuda:{device_index(target_device)}'
    if all(t.dim() == 0 for t in tensors):
        warnings.warn('Was asked to gather along dimension 0, but all input tensors were '
                      'scalars; will instead unsqueeze and return a vector.', stacklevel=3)
        tensors = [t.view(1) for t in tensors]
        dim = 0
    return cat([t.to(target) for t in tensors], dim)


def gather(outputs, target_device, dim=0):
    """The replicas' outputs joined on target_device (-1 or 'cpu' for the CPU): tensors
    concatenated along dim (scalars stacked into a vector, with PyTorch's warning), containers
    gathered element by element, None kept."""
    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Tensor):
            return _gather_tensors(outputs, target_device, dim)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outputs):
                raise ValueError('All dicts must have the same number of keys')
            return type(out)((k, gather_map([d[k] for d in outputs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outputs)))
        return type(out)(map(gather_map, zip(*outputs)))
    return gather_map(outputs)
