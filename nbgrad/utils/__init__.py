"""nbgrad.utils: the seed's utility modules (data, checkpoint, dlpack, ...) arrive here."""
from . import checkpoint, deterministic, dlpack, hooks  # noqa: F401
