"""Keeping freed array memory for reuse instead of handing it back to the kernel (glibc only).

NumPy allocates every result with malloc, and nbgrad's ops make many mid-size temporaries (a
block of a special function, a layer's activations). glibc returns freed memory at the top of its
heap once more than its trim threshold is free there, and the threshold it adapts to is twice
the largest array it has freed so far: a loop that allocates a new array before freeing the old
one (r = r * z + c) then gives pages back and faults them in again on every pass. Measured here
on 64K-float blocks: 224 page faults and 430 us per call of a 6-term polynomial, against 83 us
without them; a Transformer encoder training step took 64 -> 44 ms.

So nbgrad fixes glibc's thresholds at the top of the range its own adaptation works in: arrays
under 32 MB come from the heap (glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems) and up to
64 MB of freed memory stays in the process. Larger arrays are still mapped and unmapped one by
one. The setting is process-wide, so it is skipped when the user has chosen glibc's thresholds
(MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the environment), and NBGRAD_MALLOC=system
leaves glibc's defaults alone. Other C libraries (macOS, Windows, musl) are not touched.
"""
import ctypes
import os

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # glibc's mallopt parameter numbers

applied = False     # whether nbgrad set the thresholds in this process


def _glibc():
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version     # glibc's own function: absent from other C libraries
        return libc
    except (OSError, AttributeError):
        return None


def apply():
    """Set the thresholds once, unless the user or the platform says otherwise."""
    global applied
    if applied or os.environ.get('NBGRAD_MALLOC', '') == 'system' or \
            'MALLOC_MMAP_THRESHOLD_' in os.environ or 'MALLOC_TRIM_THRESHOLD_' in os.environ:
        return
    libc = _glibc()
    if libc is None:
        return
    # (both: setting either one alone stops glibc's adaptation, leaving the other at its
    # small default)
    applied = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
