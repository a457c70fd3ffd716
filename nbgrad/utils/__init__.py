"""nbgrad.utils: the seed's utility modules (data, checkpoint, dlpack, ...) arrive here."""
from . import checkpoint, dlpack, hooks  # noqa: F401
