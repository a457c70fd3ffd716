"""Large NumPy work arrays that an op keeps to itself, kept for its next call.

A fresh array of a few megabytes costs a page fault per 4 KB page when first written: glibc
hands large freed blocks back to the kernel, and NumPy asks for huge pages only from 4 MB up.
An op that allocates the same work arrays on every call refaults them on every call: an LSTM
layer (T=50, B=32, H=128) spent 3 of its 6 ms forward in 1,770 page faults. Keeping freed
memory process-wide (glibc's mmap and trim thresholds) was tried and taken back: it slowed layer
norm 3x (commit ff19cdd). So the ops whose work arrays never reach the user (the recurrent
layers' saved activations) take them from here and give them back once nothing can read them.

Only whole C-ordered NumPy arrays of at least MIN_BYTES are kept, LIMIT bytes in all; CuPy has
its own memory pool.
"""
import threading

import numpy as np

MIN_BYTES = 1 << 18         # smaller blocks come from malloc's heap, already mapped
LIMIT = 64 << 20            # bytes kept at most, over all shapes and dtypes
_kept = {}                  # (shape, dtype) -> [arrays]
_kept_bytes = [0]
_lock = threading.Lock()


def empty(xp, shape, dtype):
    """xp.empty(shape, dtype): on NumPy a kept array of that shape and dtype if there is one
    (its values are whatever its last user left)."""
    if xp is np:
        key = (tuple(shape), np.dtype(dtype))
        with _lock:
            stack = _kept.get(key)
            if stack:
                array = stack.pop()
                _kept_bytes[0] -= array.nbytes
                return array
    return xp.empty(shape, dtype)


def give_back(*arrays):
    """Keep these arrays for later empty() calls. The caller promises that nothing else refers
    to them or to views of them any more: the next empty() hands them out to be overwritten.
    None, CuPy arrays, views and small arrays are passed over."""
    with _lock:
        for array in arrays:
            if array is None or array.__class__ is not np.ndarray or array.base is not None \
                    or not array.flags.c_contiguous or array.nbytes < MIN_BYTES \
                    or _kept_bytes[0] + array.nbytes > LIMIT:
                continue
            stack = _kept.setdefault((array.shape, array.dtype), [])
            if any(kept is array for kept in stack):     # given back twice: keep it once
                continue
            stack.append(array)
            _kept_bytes[0] += array.nbytes


def clear():
    """Drop every kept array (their memory goes back to malloc)."""
    with _lock:
        _kept.clear()
        _kept_bytes[0] = 0
