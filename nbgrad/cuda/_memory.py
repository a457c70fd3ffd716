"""GPU memory statistics over CuPy's memory pool.

memory_allocated is what live arrays use (pool.used_bytes()), memory_reserved what the pool holds
from the driver (pool.total_bytes()). CuPy keeps no peaks. Both can only grow when memory is
allocated, so nbgrad wraps CuPy's allocator (installed when CUDA is first used) and reads the
pool right after each allocation: the peaks are exact. The allocator is process-wide, unlike
CuPy's memory hooks, which see only the thread that installed them (a DataLoader's pin-memory
thread allocates too). An allocator the user sets afterwards replaces the wrapper, and the peaks
then stop following it.
"""
from .._device import cupy_module

_tracking = None  # the _PeakTracker, once installed


class _PeakTracker:
    """Peaks of the default pool's used and total bytes, per device, since the last reset."""

    def __init__(self, cupy, allocate):
        self.pool = cupy.get_default_memory_pool()
        self.allocate = allocate
        self.peak = {}
        self.peak_reserved = {}

    def __call__(self, size):
        memory = self.allocate(size)
        device = memory.device_id  # current during the allocation, so the pool reads it
        used, total = self.pool.used_bytes(), self.pool.total_bytes()
        if used > self.peak.get(device, 0):
            self.peak[device] = used
        if total > self.peak_reserved.get(device, 0):
            self.peak_reserved[device] = total
        return memory


def install_tracking():
    """Wrap CuPy's current allocator with the peak tracker once (idempotent)."""
    global _tracking
    if _tracking is not None:
        return
    cupy = cupy_module()  # a clear error if CuPy is missing
    tracker = _PeakTracker(cupy, cupy.cuda.get_allocator())
    cupy.cuda.set_allocator(tracker)
    _tracking = tracker


def _device_index(device):
    from . import _index, current_device, is_available
    if not is_available():
        return None
    index = _index(device)
    return current_device() if index is None else index


def _pool():
    return cupy_module().get_default_memory_pool()


def memory_allocated(device=None):
    """Bytes occupied by live tensors on the device."""
    index = _device_index(device)
    if index is None:
        return 0
    with cupy_module().cuda.Device(index):
        return _pool().used_bytes()


def max_memory_allocated(device=None):
    """Peak of memory_allocated since start or the last reset_peak_memory_stats()."""
    index = _device_index(device)
    if index is None:
        return 0
    install_tracking()
    return max(_tracking.peak.get(index, 0), memory_allocated(index))


def memory_reserved(device=None):
    """Bytes the allocator holds from the driver (live tensors plus cached free blocks)."""
    index = _device_index(device)
    if index is None:
        return 0
    with cupy_module().cuda.Device(index):
        return _pool().total_bytes()


def max_memory_reserved(device=None):
    """Peak of memory_reserved since start or the last reset_peak_memory_stats()."""
    index = _device_index(device)
    if index is None:
        return 0
    install_tracking()
    return max(_tracking.peak_reserved.get(index, 0), memory_reserved(index))


def reset_peak_memory_stats(device=None):
    """The peaks restart from the current values."""
    index = _device_index(device)
    if index is None:
        return
    install_tracking()
    _tracking.peak[index] = memory_allocated(index)
    _tracking.peak_reserved[index] = memory_reserved(index)


reset_max_memory_allocated = reset_peak_memory_stats


def empty_cache():
    """Return cached, unused blocks to the driver (live tensors are untouched)."""
    try:
        cupy = cupy_module()
    except RuntimeError:
        return
    from . import is_available
    if is_available():
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def memory_stats(device=None):
    return {'allocated_bytes.all.current': memory_allocated(device),
            'allocated_bytes.all.peak': max_memory_allocated(device),
            'reserved_bytes.all.current': memory_reserved(device),
            'reserved_bytes.all.peak': max_memory_reserved(device)}


def mem_get_info(device=None):
    index = _device_index(device)
    if index is None:
        raise RuntimeError('CUDA is not available')
    cupy = cupy_module()
    with cupy.cuda.Device(index):
        return cupy.cuda.runtime.memGetInfo()
