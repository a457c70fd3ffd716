"""nbgrad.utils: the seed's utility modules (data, checkpoint, dlpack, ...) arrive here."""
from . import dlpack  # noqa: F401
