"""torch.cpu.amp: PyTorch's deprecated spellings of torch.amp's GradScaler and autocast for
'cpu' (each warns with PyTorch's FutureWarning, then is torch.amp's)."""
from .. import _dtype
from ..amp._deprecated import autocast_for, grad_scaler_for

__all__ = ['GradScaler', 'autocast']

GradScaler = grad_scaler_for('cpu')
autocast = autocast_for('cpu', _dtype.bfloat16)
