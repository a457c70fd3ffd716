"""The DataLoader's machinery, under PyTorch's module names (torch.utils.data._utils.collate...)."""
from . import collate, fetch, pin_memory, worker  # noqa: F401
