"""PyTorch's module path torch.nn.modules.instancenorm; the classes live in normalization.py
and lazy.py."""
from .lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: F401
from .normalization import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,  # noqa: F401
                            _InstanceNorm, _NormBase)
