"""replicate: copies of a module on several devices that share its parameters for autograd.

Replica i's parameters are differentiable copies of the module's on device i (on the module's
own device, views of them), so a loss through any replica sends its gradient to the original
parameters, summed over the replicas, as PyTorch's Broadcast does. Buffers are copied without a
graph; on the first device the replica holds the module's own buffers, so in-place updates made
there (BatchNorm's running statistics) land in the module, as PyTorch documents."""
from collections import OrderedDict

from ._devices import device_index

__all__ = ['replicate']


def _copies(tensors, devices, detach):
    """[per device: copies of tensors]: the tensors themselves (or views keeping the graph) on
    their own device, copies elsewhere."""
    out = []
    for device in devices:
        copies = []
        for t in tensors:
            source = t.detach() if detach else t
            if t.is_cuda and t.device.index == device:
                copies.append(t if detach else source.view_as(source))
            else:
                copies.append(source.to(f'cuda:{device}'))
        out.append(copies)
    return out


def replicate(network, devices, detach=False):
    """One replica of `network` per device (device_ids as ints, 'cuda:i' or devices)."""
    if not devices:
        return []
    devices = [device_index(d) for d in devices]
    modules = list(network.modules())
    module_index = {id(m): i for i, m in enumerate(modules)}
    # the shells first: a lazy module refuses here with its explanation, before any copying
    copies = [[m._replicate_for_data_parallel() for m in modules] for _ in devices]
    params = list(network.parameters())
    param_index = {id(p): i for i, p in enumerate(params)}
    param_copies = _copies(params, devices, detach)
    buffers = list(network.buffers())
    buffer_index = {id(b): i for i, b in enumerate(buffers)}
    buffer_copies = _copies(buffers, devices, detach=True)
    for j in range(len(devices)):
        for i, module in enumerate(modules):
            replica = copies[j][i]
            replica._former_parameters = OrderedDict()
            for key, child in module._modules.items():
                if child is None:
                    replica._modules[key] = None
                else:
                    setattr(replica, key, copies[j][module_index[id(child)]])
            for key, param in module._parameters.items():
                if param is None:
                    replica._parameters[key] = None
                else:
                    copy = param_copies[j][param_index[id(param)]]
                    setattr(replica, key, copy)
                    replica._former_parameters[key] = copy
            for key, buf in module._buffers.items():
                if buf is None:
                    replica._buffers[key] = None
                else:
                    setattr(replica, key, buffer_copies[j][buffer_index[id(buf)]])
    return [copies[j][0] for j in range(len(devices))]
