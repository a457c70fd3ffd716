"""Scalar optimizer state that lives on a GPU ('step' with fused=True, ASGD's step, eta and mu,
where PyTorch keeps them too), without a device round trip per parameter.

Reading such a value costs a device-to-host copy and a wait for the GPU; writing it, a kernel
launch. So nbgrad remembers the value it last wrote into each such tensor (trusted while the
tensor's version is unchanged: a write by anyone else bumps the version and the next read goes
to the device), and an optimizer step collects its writes (`batched`) and makes them at the end
with one launch per device and dtype. On the CPU these are plain reads and writes.
"""
import contextlib
import threading

import numpy as np

from ._multi_tensor import _ITEM_TYPES, THREADS

# raw items of the dtype's size: the values' bits are written as they are
_SOURCE = r'''
typedef %s T;
extern "C" __global__ void nbgrad_set_scalars(const unsigned long long* pointers,
                                              const T* values, int n) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k < n) *(T*)pointers[k] = values[k];
}
'''
_kernels = {}
_pending = threading.local()


def value(t):
    """The Python float in the 0-dim state tensor t."""
    data = t._data
    if data.__class__ is not np.ndarray:
        known = t.__dict__.get('_known_value')
        if known is not None and known[0] == t._vc[0]:
            return known[1]
    return float(data)


def assign(t, v):
    """t.fill_(v), bumping its version as PyTorch's in-place write does; returns the value as
    stored (rounded to t's dtype)."""
    data = t._data
    t._vc[0] += 1
    if data.__class__ is np.ndarray:
        data.fill(v)
        return float(data)
    stored = float(data.dtype.type(v))
    remember(t, stored)
    writes = getattr(_pending, 'writes', None)
    if writes is None:
        data.fill(stored)
    else:
        writes.append((data, stored))
    return stored


def remember(t, stored):
    """Note that t (a device tensor) holds `stored` now."""
    t._known_value = (t._vc[0], stored)


@contextlib.contextmanager
def batched():
    """Collect the device writes made by `assign` in the block; make them at its end."""
    if getattr(_pending, 'writes', None) is not None:     # nested: the outer block makes them
        yield
        return
    _pending.writes = []
    try:
        yield
    finally:
        writes, _pending.writes = _pending.writes, None
        _flush(writes)


def _flush(writes):
    by_kind = {}
    for data, stored in writes:     # the last write to a tensor wins (a parameter listed twice)
        by_kind.setdefault((data.data.device_id, data.dtype), {})[data.data.ptr] = (data, stored)
    for (device_id, dtype), targets in by_kind.items():
        targets = list(targets.values())
        if len(targets) == 1:
            for data, stored in targets:
                data.fill(stored)
            continue
        from ..ops._util import xp_of
        xp = xp_of(targets[0][0])
        n = len(targets)
        host = np.empty(8 * n + dtype.itemsize * n, np.uint8)
        host[:8 * n].view(np.int64)[:] = [data.data.ptr for data, _ in targets]
        host[8 * n:].view(dtype)[:] = [stored for _, stored in targets]
        with xp.cuda.Device(device_id):
            table = xp.asarray(host)
            kernel = _kernels.get(dtype.itemsize)
            if kernel is None:
                kernel = _kernels[dtype.itemsize] = xp.RawKernel(
                    _SOURCE % _ITEM_TYPES[dtype.itemsize], 'nbgrad_set_scalars')
            kernel((-(-n // THREADS),), (THREADS,),
                   (table[:8 * n].view(np.uint64), table[8 * n:].view(f'u{dtype.itemsize}'),
                    np.int32(n)))
