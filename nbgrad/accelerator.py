"""torch.accelerator: the device-agnostic way current tutorials pick their device
(`torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else
"cpu"`). nbgrad's one accelerator is CUDA (through CuPy), so each function is cuda's, and
without a GPU they answer as PyTorch's do on a CPU-only machine."""
import contextlib

from . import cuda
from ._device import device as _device

__all__ = ['current_accelerator', 'current_device_idx', 'current_device_index', 'device_count',
           'device_index', 'empty_cache', 'is_available', 'max_memory_allocated',
           'max_memory_reserved', 'memory_allocated', 'memory_reserved',
           'reset_peak_memory_stats', 'set_device_idx', 'set_device_index', 'synchronize',
           'current_stream', 'get_device_capability']

_NONE = 'Cannot access accelerator device when none is available.'


def is_available():
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') where a GPU is usable, else None."""
    return _device('cuda') if cuda.is_available() else None


def device_count():
    return cuda.device_count() if cuda.is_available() else 0


def _require():
    if not cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index():
    _require()
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device):
    _require()
    cuda.set_device(device)


set_device_idx = set_device_index


@contextlib.contextmanager
def device_index(device):
    """The current accelerator device is `device` inside the block (None: unchanged)."""
    if device is None:
        yield
        return
    _require()
    before = cuda.current_device()
    cuda.set_device(device)
    try:
        yield
    finally:
        cuda.set_device(before)


def synchronize(device=None):
    _require()
    cuda.synchronize(device)


def current_stream(device=None):
    _require()
    return cuda.current_stream(device)


def get_device_capability(device=None):
    _require()
    return cuda.get_device_capability(device)


def empty_cache():
    _require()
    cuda.empty_cache()


def memory_allocated(device_index=None):
    _require()
    return cuda.memory_allocated(device_index)


def max_memory_allocated(device_index=None):
    _require()
    return cuda.max_memory_allocated(device_index)


def memory_reserved(device_index=None):
    _require()
    return cuda.memory_reserved(device_index)


def max_memory_reserved(device_index=None):
    _require()
    return cuda.max_memory_reserved(device_index)


def reset_peak_memory_stats(device_index=None):
    _require()
    cuda.reset_peak_memory_stats(device_index)
