"""PyTorch's module path torch.nn.modules.batchnorm (code imports _BatchNorm from it to find
the batch-norm layers it freezes); the classes live in normalization.py and lazy.py."""
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d  # noqa: F401
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm,  # noqa: F401
                            _BatchNorm, _NormBase)
