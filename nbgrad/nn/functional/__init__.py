"""nbgrad.nn.functional (PyTorch's torch.nn.functional): one subject per file, all names here."""
from .linear import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .linear_cross_entropy import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .fractional_pool import *  # noqa: F401,F403
from .vision import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
# the private helpers of PyTorch's functional.py that copies of its Transformer code call
from .attention import (  # noqa: F401
    _canonical_mask, _in_projection, _in_projection_packed, _mha_shape_check, _none_or_dtype)
