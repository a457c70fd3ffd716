"""Every nn layer, one subject per file; `from nbgrad.nn.modules import *` gives them all."""
from .module import Module  # noqa: F401
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .linear_cross_entropy import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .cross_map_lrn import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403
from .adaptive import *  # noqa: F401,F403

import types as _types  # noqa: E402

# `from nbgrad.nn.modules import *` gives the layers, not this package's files: their names
# (utils, attention) would hide nn.utils and nn.attention in nn's namespace
__all__ = [name for name, value in globals().items()
           if not name.startswith('_') and not isinstance(value, _types.ModuleType)]
from . import batchnorm, instancenorm  # noqa: F401,E402  (PyTorch's module paths)
