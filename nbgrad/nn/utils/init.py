"""PyTorch's torch.nn.utils.skip_init: build a module without initializing its parameters."""
import inspect

from ..modules.module import Module

__all__ = ['skip_init']


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) with uninitialized parameters and buffers, as after
    torch.empty. The class must take a `device` argument. As PyTorch's: the module is built on
    the 'meta' device (no memory, no random numbers drawn), then moved to its device empty."""
    if not issubclass(module_cls, Module):
        raise RuntimeError(f'Expected a Module; got {module_cls}')
    if 'device' not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop('device', 'cpu')
    kwargs['device'] = 'meta'
    return module_cls(*args, **kwargs).to_empty(device=final_device)

