"""torch.backends.mkldnn: nbgrad does not use oneDNN (is_available() is False); its `enabled`
switch is kept and read back as PyTorch's, and `flags` sets it for a block."""
import contextlib
import sys
import types

from ._flags import BoolFlag


def is_available():
    return False


class _MkldnnModule(types.ModuleType):
    enabled = BoolFlag(True, 'set_enabled_mkldnn')
    deterministic = BoolFlag(False, 'set_deterministic_mkldnn')


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    """Set the switches for the block, then put back what they were."""
    module = sys.modules[__name__]
    saved = module.enabled, module.deterministic
    try:
        module.enabled, module.deterministic = enabled, deterministic
        yield
    finally:
        module.enabled, module.deterministic = saved


sys.modules[__name__].__class__ = _MkldnnModule
