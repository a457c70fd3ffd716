"""torch.cuda.amp's and torch.cpu.amp's GradScaler and autocast: PyTorch's deprecated spellings
of torch.amp's for one device, each warning with PyTorch's FutureWarning."""
import warnings

from .autocast_mode import autocast
from .grad_scaler import GradScaler


def _warn(device, name):
    warnings.warn(f'`torch.{device}.amp.{name}(args...)` is deprecated. Please use '
                  f"`torch.amp.{name}('{device}', args...)` instead.", FutureWarning,
                  stacklevel=3)


def grad_scaler_for(device):
    class DeviceGradScaler(GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            _warn(device, 'GradScaler')
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)
    DeviceGradScaler.__name__ = DeviceGradScaler.__qualname__ = 'GradScaler'
    return DeviceGradScaler


def autocast_for(device, default_dtype):
    class DeviceAutocast(autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _warn(device, 'autocast')
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
    DeviceAutocast.__name__ = DeviceAutocast.__qualname__ = 'autocast'
    return DeviceAutocast
