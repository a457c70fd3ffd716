"""torch.signal: signal-processing helpers (windows, as PyTorch 2.x has them)."""
from . import windows

__all__ = ['windows']
