"""torch.backends.cudnn: whether nbgrad's CUDA convolutions run through cuDNN (where the machine
has it: cuda/_cudnn_library.py), and PyTorch's switches for them (enabled, benchmark,
deterministic, allow_tf32; nn/functional/_conv_cudnn.py says what each does). `flags` sets
several for a block."""
import contextlib
import sys
import types

from ._flags import BoolFlag


def is_available():
    """Whether cuDNN loads on this machine (and a CUDA device is there to use it with)."""
    from .. import cuda
    if not cuda.is_available():
        return False
    from ..cuda import _cudnn_library
    return _cudnn_library.available()


def version():
    """cuDNN's version as one number (9.10.2 -> 91002), or None where it is not available."""
    if not is_available():
        return None
    from ..cuda import _cudnn_library
    return _cudnn_library.version()


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
