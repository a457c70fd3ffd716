"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back."""
import nbgrad

from ..._tensor import Tensor

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def parameters_to_vector(parameters):
    """One vector holding every parameter, flattened, in order."""
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    if not vec:  # PyTorch's torch.cat raises ValueError here (nbgrad.cat a RuntimeError)
        raise ValueError('parameters_to_vector(): expected a non-empty list of parameters')
    return nbgrad.cat(vec)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the matching slice of vec (the parameters then share vec's
    memory, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f'expected nbgrad.Tensor, but got: {nbgrad.typename(vec)}')
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param


def _check_param_device(param, old_param_device):
    """The GPU index of the parameters seen so far (-1: the CPU); TypeError when they differ."""
    device = param.get_device() if param.device.type == 'cuda' else -1
    if old_param_device is not None and device != old_param_device:
        raise TypeError('Found two parameters on different devices, this is currently not '
                        'supported.')
    return device
