"""torch.cuda.amp: PyTorch's deprecated spellings of torch.amp's GradScaler and autocast for
'cuda' (each warns with PyTorch's FutureWarning, then is torch.amp's)."""
import warnings

from .. import amp as _amp
from ..amp._deprecated import autocast_for, grad_scaler_for

__all__ = ['GradScaler', 'autocast', 'custom_fwd', 'custom_bwd']


GradScaler = grad_scaler_for('cuda')
autocast = autocast_for('cuda', None)


def custom_fwd(fwd=None, *, cast_inputs=None):
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _amp.custom_fwd(fwd, device_type='cuda', cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _amp.custom_bwd(bwd, device_type='cuda')
