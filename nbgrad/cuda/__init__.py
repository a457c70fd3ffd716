"""nbgrad.cuda: devices, streams, events, memory statistics and RNG on NVIDIA GPUs, via CuPy.

Everything here is a thin, PyTorch-shaped layer over CuPy. Nothing imports CuPy until a function
needs it, and is_available() is a clean False without CuPy, without a driver or without a GPU.
"""
import contextlib
import os

from .._device import cupy_module
from . import _memory
from ._memory import (memory_allocated, max_memory_allocated, memory_reserved,  # noqa: F401
                      max_memory_reserved, reset_peak_memory_stats, reset_max_memory_allocated,
                      empty_cache, memory_stats, mem_get_info)

_available = None


def is_available():
    """True when CuPy imports and sees at least one CUDA device; never raises."""
    global _available
    if _available is None:
        try:
            import cupy
            _available = cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:  # ImportError, missing driver, CUDARuntimeError...
            _available = False
    return _available


_forked_after_init = [False]


def _mark_forked_child():
    # a CUDA context does not survive fork: the child must not touch the parent's
    _forked_after_init[0] = is_initialized()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_mark_forked_child)


def _lazy_init():
    if _forked_after_init[0]:
        raise RuntimeError("Cannot re-initialize CUDA in forked subprocess. To use CUDA with "
                           "multiprocessing, you must use the 'spawn' start method (a "
                           "DataLoader worker forked after CUDA was used here: keep the dataset "
                           "on the CPU and move batches to the GPU in the training loop, or "
                           "pass multiprocessing_context='spawn')")
    if not is_available():
        raise RuntimeError(
            "nbgrad was asked to use a 'cuda' device, but CUDA is not available here "
            "(no CuPy, no NVIDIA driver, or no GPU). Use device='cpu', or check "
            "nbgrad.cuda.is_available() first.")
    _memory.install_tracking()


def is_initialized():
    return _memory._tracking is not None


def init():
    _lazy_init()


def device_count():
    return cupy_module().cuda.runtime.getDeviceCount() if is_available() else 0


def current_device():
    _lazy_init()
    return cupy_module().cuda.Device().id


def set_device(device):
    index = _index(device)
    if index is not None and index >= 0:
        _lazy_init()
        cupy_module().cuda.Device(index).use()


def _index(device):
    if device is None:
        return None
    if isinstance(device, int):
        return device
    from .._device import device as device_cls
    d = device_cls(device) if not isinstance(device, device_cls) else device
    if d.type != 'cuda':
        raise ValueError(f'Expected a cuda device, but got: {d}')
    return d.index if d.index is not None else current_device()


class device:
    """Context manager that makes `device` current, restoring the previous one on exit."""

    def __init__(self, device):
        self.idx = _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is None or self.idx < 0:
            return self
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """Context manager that makes the device of `obj` (a tensor) current."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    props = get_device_properties(device)
    return props.major, props.minor


class _DeviceProperties:
    def __init__(self, raw):
        def text(v):
            return v.decode() if isinstance(v, bytes) else str(v)
        self.name = text(raw['name'])
        self.major = raw['major']
        self.minor = raw['minor']
        self.total_memory = raw['totalGlobalMem']
        self.multi_processor_count = raw['multiProcessorCount']
        self.is_integrated = bool(raw.get('integrated', 0))
        self.is_multi_gpu_board = bool(raw.get('isMultiGpuBoard', 0))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2 ** 20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    _lazy_init()
    index = _index(device)
    index = current_device() if index is None else index
    return _DeviceProperties(cupy_module().cuda.runtime.getDeviceProperties(index))


def synchronize(device=None):
    """Wait for every kernel on the device to finish (needed before timing GPU work)."""
    _lazy_init()
    index = _index(device)
    cupy = cupy_module()
    if index is None:
        cupy.cuda.Device().synchronize()
    else:
        cupy.cuda.Device(index).synchronize()


class Stream:
    """A CUDA stream (cupy.cuda.Stream); use `with nbgrad.cuda.stream(s):` to run ops on it."""

    def __new__(cls, device=None, priority=0, **kwargs):
        _lazy_init()
        self = object.__new__(cls)
        cupy = cupy_module()
        index = _index(device)
        with cupy.cuda.Device(index if index is not None else current_device()):
            self._stream = cupy.cuda.Stream(non_blocking=True, priority=priority)
        self.device_index = index if index is not None else current_device()
        return self

    @classmethod
    def _wrap(cls, raw, index):
        self = object.__new__(cls)
        self._stream = raw
        self.device_index = index
        return self

    @property
    def cuda_stream(self):
        return self._stream.ptr

    def synchronize(self):
        self._stream.synchronize()

    def query(self):
        return self._stream.done

    def wait_event(self, event):
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self._stream.ptr == other._stream.ptr

    def __hash__(self):
        return hash(self._stream.ptr)

    def __repr__(self):
        return f'<nbgrad.cuda.Stream device=cuda:{self.device_index} cuda_stream={hex(self.cuda_stream)}>'


def current_stream(device=None):
    _lazy_init()
    cupy = cupy_module()
    return Stream._wrap(cupy.cuda.get_current_stream(), current_device())


def default_stream(device=None):
    _lazy_init()
    cupy = cupy_module()
    return Stream._wrap(cupy.cuda.Stream.null, current_device())


@contextlib.contextmanager
def stream(stream):
    """Make `stream` current: CuPy launches every kernel inside the block on it."""
    if stream is None:
        yield
        return
    with stream._stream:
        yield


class Event:
    """A CUDA event for timing (elapsed_time in milliseconds) and synchronisation."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        _lazy_init()
        self._event = cupy_module().cuda.Event(block=blocking, disable_timing=not enable_timing,
                                               interprocess=interprocess)

    def record(self, stream=None):
        self._event.record(stream._stream if stream is not None else None)

    def wait(self, stream=None):
        (stream or current_stream()).wait_event(self)

    def query(self):
        return self._event.done

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end_event):
        return cupy_module().cuda.get_elapsed_time(self._event, end_event._event)


# -- random numbers on the GPU (per-device generators live in nbgrad.random) -------------------

def manual_seed(seed):
    from .. import random as _random
    if is_available():
        _random.cuda_generator(current_device()).manual_seed(seed)


def manual_seed_all(seed):
    from .. import random as _random
    for i in range(device_count()):
        _random.cuda_generator(i).manual_seed(seed)


def seed():
    from .. import random as _random
    if is_available():
        _random.cuda_generator(current_device()).seed()


def seed_all():
    from .. import random as _random
    for i in range(device_count()):
        _random.cuda_generator(i).seed()


def initial_seed():
    from .. import random as _random
    _lazy_init()
    return _random.cuda_generator(current_device()).initial_seed()


def get_rng_state(device='cuda'):
    from .. import random as _random
    _lazy_init()
    index = _index(device)
    return _random.cuda_generator(index if index is not None else current_device()).get_state()


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device='cuda'):
    from .. import random as _random
    _lazy_init()
    index = _index(device)
    _random.cuda_generator(index if index is not None else current_device()).set_state(new_state)


def set_rng_state_all(new_states):
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


class OutOfMemoryError(RuntimeError):
    """torch.cuda.OutOfMemoryError (also nbgrad.OutOfMemoryError): an op's GPU allocation
    failed. nbgrad raises it for CuPy's out-of-memory error, so `except
    torch.cuda.OutOfMemoryError:` clauses (batch-size search) work."""


def out_of_memory(op, error):
    return OutOfMemoryError(f'CUDA out of memory in {op.name()}: {error}. nbgrad allocates '
                            'through CuPy\'s memory pool: nbgrad.cuda.empty_cache() returns its '
                            'unused blocks to the device.')


def is_bf16_supported(including_emulation=True):
    """False: nbgrad has no bfloat16 on CUDA (CuPy has none; README), so code that picks
    `torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16` takes float16."""
    return False


def is_tf32_supported():
    """Whether the current GPU has TF32 tensor cores (compute capability 8.0 or newer)."""
    return is_available() and get_device_capability()[0] >= 8


__all__ = ['is_available', 'device_count', 'current_device', 'set_device', 'device',
           'device_of', 'get_device_name', 'get_device_properties', 'get_device_capability',
           'synchronize', 'Stream', 'Event', 'stream', 'current_stream', 'default_stream',
           'empty_cache', 'memory_allocated', 'max_memory_allocated', 'memory_reserved',
           'max_memory_reserved', 'reset_peak_memory_stats', 'manual_seed', 'manual_seed_all',
           'seed', 'seed_all', 'initial_seed', 'get_rng_state', 'set_rng_state',
           'get_rng_state_all', 'set_rng_state_all', 'memory_stats', 'mem_get_info',
           'OutOfMemoryError', 'is_bf16_supported', 'is_tf32_supported']
