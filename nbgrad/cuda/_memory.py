"""GPU memory statistics over CuPy's memory pool.

memory_allocated is what live arrays use (pool.used_bytes()), memory_reserved what the pool holds
from the driver (pool.total_bytes()). CuPy keeps no peak, so a CuPy MemoryHook, installed when the
first CUDA tensor is made, follows every pool allocation and free to give max_memory_allocated.
"""
from .._device import cupy_module

_tracking = None


class _PeakTracker:
    def __init__(self):
        self.current = {}
        self.peak = {}
        self.peak_reserved = {}

    def malloc(self, device_id, size):
        now = self.current.get(device_id, 0) + size
        self.current[device_id] = now
        if now > self.peak.get(device_id, 0):
            self.peak[device_id] = now

    def free(self, device_id, size):
        self.current[device_id] = self.current.get(device_id, 0) - size


def install_tracking():
    """Register the peak tracker with CuPy once (idempotent)."""
    global _tracking
    if _tracking is not None:
        return
    cupy_module()  # a clear error if CuPy is missing
    tracker = _PeakTracker()
    from cupy.cuda import memory_hook

    class _Hook(memory_hook.MemoryHook):
        name = 'nbgrad_peak_tracker'

        def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id):
            tracker.malloc(device_id, mem_size)

        def free_postprocess(self, device_id, mem_size, mem_ptr, pmem_id):
            tracker.free(device_id, mem_size)

    hook = _Hook()
    hook.__enter__()  # installed for the rest of the process (this thread)
    _tracking = (tracker, hook)


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
    tracker = _tracking[0]
    return max(tracker.peak.get(index, 0), memory_allocated(index))


def memory_reserved(device=None):
    """Bytes the allocator holds from the driver (live tensors plus cached free blocks)."""
    index = _device_index(device)
    if index is None:
        return 0
    with cupy_module().cuda.Device(index):
        return _pool().total_bytes()


def max_memory_reserved(device=None):
    index = _device_index(device)
    if index is None:
        return 0
    tracker = _tracking[0] if _tracking else None
    current = memory_reserved(index)
    if tracker is not None:
        tracker.peak_reserved[index] = max(tracker.peak_reserved.get(index, 0), current)
        return tracker.peak_reserved[index]
    return current


def reset_peak_memory_stats(device=None):
    index = _device_index(device)
    if index is None or _tracking is None:
        return
    tracker = _tracking[0]
    tracker.peak[index] = memory_allocated(index)
    tracker.current[index] = memory_allocated(index)
    tracker.peak_reserved[index] = memory_reserved(index)


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
