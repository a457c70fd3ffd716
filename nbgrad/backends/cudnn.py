"""torch.backends.cudnn: nbgrad does not use cuDNN (is_available() is False, version() None);
the switches are kept for scripts that set them, and `flags` sets several for a block."""
import contextlib
import sys
import types

from ._flags import BoolFlag


def is_available():
    return False


def version():
    return None


class _CudnnModule(types.ModuleType):
    enabled = BoolFlag(True, 'set_enabled_cudnn')
    benchmark = BoolFlag(False, 'set_benchmark_cudnn')
    deterministic = BoolFlag(False, 'set_deterministic_cudnn')
    allow_tf32 = BoolFlag(True, 'set_allow_tf32_cublas')   # (PyTorch's message names cuBLAS)
    benchmark_limit = None      # PyTorch's value where cuDNN is missing


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set the switches for the block, then put back what they were."""
    module = sys.modules[__name__]
    names = ('enabled', 'benchmark', 'deterministic', 'allow_tf32')
    saved = [getattr(module, name) for name in names]
    try:
        for name, value in zip(names, (enabled, benchmark, deterministic, allow_tf32)):
            setattr(module, name, value)
        yield
    finally:
        for name, value in zip(names, saved):
            setattr(module, name, value)


sys.modules[__name__].__class__ = _CudnnModule
