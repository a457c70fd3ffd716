"""torch.backends.opt_einsum: nbgrad contracts einsum's operands left to right (PyTorch's order
without the opt_einsum package), so is_available() is False; `enabled` and `strategy` are
kept and read back as PyTorch keeps them there, and change nothing."""
import contextlib
import sys

enabled = False
strategy = None


def is_available():
    return False


def get_opt_einsum():
    return None


@contextlib.contextmanager
def flags(enabled=None, strategy=None):
    """Set the switches for the block, then put back what they were."""
    module = sys.modules[__name__]
    saved = module.enabled, module.strategy
    try:
        if enabled is not None:
            module.enabled = enabled
        if strategy is not None:
            module.strategy = strategy
        yield
    finally:
        module.enabled, module.strategy = saved
