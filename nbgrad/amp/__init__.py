"""torch.amp: GradScaler (loss scaling for low-precision gradients) and autocast (see
autocast_mode: nbgrad runs every op in its inputs' dtypes, and says so)."""
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ['GradScaler', 'autocast', 'custom_bwd', 'custom_fwd', 'is_autocast_available']
