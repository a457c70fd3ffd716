"""nbgrad.utils: the seed's utility modules (data, checkpoint, dlpack, ...) arrive here."""
from . import checkpoint, data, deterministic, dlpack, hooks  # noqa: F401
