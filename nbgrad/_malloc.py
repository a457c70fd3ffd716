"""Keep freed memory for the next step instead of handing it back to the OS (glibc only).

NumPy gets every array from malloc. glibc hands large blocks straight back to the kernel when
they are freed (each block at or above its mmap threshold, and freed memory at the top of the
heap beyond its trim threshold), so the next training step's arrays of the same sizes start on
fresh pages: a page fault and a page of zeros for every 4 KiB written. An op over a 2 MiB array
then costs several times its arithmetic (SiLU forward and backward over 16x64x512 floats: 5.4 ms
with glibc's defaults, 1.05 ms with this module's settings; PyTorch 0.16 ms). PyTorch's own
performance guide recommends jemalloc or tcmalloc for the same reason.

So when nbgrad is imported, blocks below 32 MiB (glibc's ceiling for the threshold) come from the
heap, and up to 256 MiB of freed heap is kept for reuse. The resident memory then stays near the
peak a workload reaches, as with PyTorch's caching allocators, rather than falling between steps.

Nothing is changed when the process was started with glibc's own tuning variables (MALLOC_*_ in
the environment: the caller chose), with NBGRAD_SYSTEM_MALLOC=1, or off glibc.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3        # glibc's mallopt parameters
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20


def _glibc():
    if not sys.platform.startswith('linux'):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.gnu_get_libc_version       # (musl and others have no such function)
        return libc
    except (OSError, AttributeError):
        return None


def tune():
    """Apply the settings above, unless the process's owner set malloc up; returns whether
    they were applied."""
    if os.environ.get('NBGRAD_SYSTEM_MALLOC') or any(
            name.startswith('MALLOC_') and name.endswith('_') for name in os.environ):
        return False
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
