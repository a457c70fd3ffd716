"""Kernels that walk many device arrays in one launch read them through a table of their device
pointers and starting offsets: the arrays are laid end to end in one index space, and each
element's thread finds its array by a binary search of the offsets (optim/_multi_tensor,
optim/_fused_cuda, amp/_unscale)."""
import numpy as np

THREADS = 256
MAX_BLOCKS = 4096

# CUDA C shared by the kernels that walk arrays laid end to end: for each element i of the
# whole, the array `lo` holding it (a binary search of the arrays' starting offsets) and its
# index j there
FOR_EACH_ELEMENT = r'''
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int lo = 0, hi = n_arrays - 1;          // the last array with starts[lo] <= i
        while (lo < hi) {
            int mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= i) lo = mid; else hi = mid - 1;
        }
        long long j = i - starts[lo];'''


def upload_table(xp, arrays, sizes):
    """One device int64 array: the device pointers of `arrays`, then the starting offsets of
    the `sizes` laid end to end. A training loop steps the same parameters, states and (the
    memory pool reusing their blocks) gradients every time, so the tables of the last few
    steps are kept: the table depends on nothing but the pointers and sizes it lists, and a hit
    saves the host-to-device copy."""
    pointers = tuple(a.data.ptr for a in arrays)
    key = (arrays[0].data.device_id, pointers, tuple(sizes))
    table = _tables.pop(key, None)
    if table is None:
        n = len(arrays)
        host = np.empty(n + len(sizes), np.int64)
        host[:n] = pointers
        host[n] = 0
        np.cumsum(sizes[:-1], out=host[n + 1:])
        table = xp.asarray(host)
    _tables[key] = table                 # most recently used last
    while len(_tables) > _TABLES_KEPT:
        del _tables[next(iter(_tables))]
    return table


_tables = {}
_TABLES_KEPT = 16


def disjoint(arrays):
    """Whether no two device arrays' memory ranges overlap (pointer ranges, conservative)."""
    spans = sorted((a.data.ptr, a.data.ptr + a.nbytes) for a in arrays if a.size)
    return all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
