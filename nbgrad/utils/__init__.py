"""nbgrad.utils: the seed's utility modules (data, checkpoint, dlpack, ...) arrive here."""
from . import checkpoint, data, deterministic, dlpack, hooks  # noqa: F401
from . import _pytree  # noqa: F401  (torch.utils._pytree: libraries use it after `import torch`)
