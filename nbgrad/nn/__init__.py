"""nbgrad.nn: PyTorch's torch.nn. Modules (layers, containers, losses) in nn.modules, their
functional forms in nn.functional, initialisation in nn.init, helpers in nn.utils."""
from .parameter import (Parameter, Buffer, UninitializedParameter,  # noqa: F401
                        UninitializedBuffer)
from .modules import *  # noqa: F401,F403
from . import functional, grad, init, utils  # noqa: F401
