"""nbgrad.nn: PyTorch's torch.nn. Modules (layers, containers, losses) in nn.modules, their
functional forms in nn.functional, initialisation in nn.init, helpers in nn.utils, data parallelism in nn.parallel."""
from .parameter import (Parameter, Buffer, UninitializedParameter,  # noqa: F401
                        UninitializedBuffer)
from .modules import *  # noqa: F401,F403
from . import attention, functional, grad, init, utils, parallel  # noqa: F401
from .parallel import DataParallel, DistributedDataParallel  # noqa: F401
