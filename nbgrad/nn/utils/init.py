"""PyTorch's torch.nn.utils.skip_init: build a module without initializing its parameters."""
import inspect

import nbgrad
from ..modules.module import Module

__all__ = ['skip_init']


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) with uninitialized parameters and buffers, as after
    torch.empty. The class must take a `device` argument.

    nbgrad has no 'meta' device to build on: the module is built normally, with the random
    generators' states saved and restored around it, so that, as in PyTorch, skipping the
    initialization draws no random numbers; its tensors are then replaced by empty ones."""
    if not issubclass(module_cls, Module):
        raise RuntimeError(f'Expected a Module; got {module_cls}')
    if 'device' not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop('device', 'cpu')
    kwargs['device'] = final_device
    with nbgrad.random.fork_rng():
        module = module_cls(*args, **kwargs)
    return module.to_empty(device=final_device)

