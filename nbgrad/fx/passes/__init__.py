"""Passes over fx graphs (shape_prop: every Node's tensor shape and dtype)."""
from . import shape_prop  # noqa: F401
