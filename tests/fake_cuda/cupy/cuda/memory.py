"""Fake cupy.cuda.memory: a pool that counts the bytes of live arrays per device, and CuPy's
global allocator switch (set_allocator / get_allocator), which nbgrad wraps to track peaks."""
import weakref

from . import runtime


class MemoryPointer:
    def __init__(self, device_id, size):
        self.device_id, self.size = device_id, size


class MemoryPool:
    """CuPy: sizes round up to 512-byte units; freed blocks stay cached (total_bytes) until
    free_all_blocks(); used_bytes/total_bytes are those of the current device."""

    def __init__(self):
        self._used, self._total = {}, {}

    def malloc(self, size):
        size = -(-size // 512) * 512
        device = runtime.getDevice()
        self._used[device] = used = self._used.get(device, 0) + size
        self._total[device] = max(self._total.get(device, 0), used)
        pointer = MemoryPointer(device, size)
        weakref.finalize(pointer, self._free, device, size)
        return pointer

    def _free(self, device, size):
        self._used[device] -= size

    def used_bytes(self):
        return self._used.get(runtime.getDevice(), 0)

    def total_bytes(self):
        return self._total.get(runtime.getDevice(), 0)

    def free_all_blocks(self):
        device = runtime.getDevice()
        self._total[device] = self._used.get(device, 0)


default_pool = MemoryPool()
_current_allocator = None


def set_allocator(allocator=None):
    global _current_allocator
    _current_allocator = allocator


def get_allocator():
    return _current_allocator or default_pool.malloc


def alloc(size):
    return get_allocator()(size)


class PinnedMemoryPointer(bytearray):
    """CuPy's page-locked host allocation: here plain host bytes (a bytearray, for the buffer
    protocol) that NumPy arrays view, as cupyx.empty_pinned's arrays view the real thing."""


def alloc_pinned_memory(size):
    return PinnedMemoryPointer(max(size, 1))
