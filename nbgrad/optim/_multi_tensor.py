"""Multi-tensor optimizer steps on CUDA: a group's update in a handful of kernel launches.

Running an optimizer's element-wise kernel once per parameter costs every parameter a dozen CuPy
launches (each several microseconds of host time), which for a model of a hundred small tensors
dwarfs the arithmetic. Instead, the parameters that share a device, a dtype and the kernel's
settings are gathered into one flat buffer with a row per role (param, states..., grad) by one
launch of a copy kernel that reads a table of device pointers; the optimizer's kernel (the same
code that runs on NumPy) runs once over the rows; one more launch writes the params and states
back. A step then costs the same launches for 2 parameters or 2,000: PyTorch's multi-tensor
(foreach) idea, with each update still written once for NumPy and CuPy.

Optimizers with a fused kernel (_fused_cuda) update a bucket in one launch instead.
Parameters that cannot be gathered (strided, mixed dtypes, empty) and groups whose parameters
share memory (updated one after the other, as PyTorch's for-loop does) run the kernel on their
own arrays.
"""
import numpy as np

from .._pointer_tables import FOR_EACH_ELEMENT, MAX_BLOCKS, THREADS, disjoint, upload_table

# One copy kernel for every dtype: it moves raw items of the dtype's size.
_SOURCE = r'''
typedef %s T;
extern "C" __global__ void nbgrad_multi_tensor_copy(
        T* flat, const unsigned long long* pointers, const long long* starts, int n_arrays,
        long long total, int to_arrays) {''' + FOR_EACH_ELEMENT + r'''
        T* array = (T*)pointers[lo];
        if (to_arrays) array[j] = flat[i]; else flat[i] = array[j];
    }
}
'''
_ITEM_TYPES = {1: 'unsigned char', 2: 'unsigned short', 4: 'unsigned int',
               8: 'unsigned long long'}
_kernels = {}


def _copy_kernel(xp, itemsize):
    kernel = _kernels.get(itemsize)
    if kernel is None:
        kernel = _kernels[itemsize] = xp.RawKernel(_SOURCE % _ITEM_TYPES[itemsize],
                                                   'nbgrad_multi_tensor_copy')
    return kernel


class _Table:
    """The pointers and offsets of C-contiguous arrays laid end to end; `copy` moves a prefix of
    the arrays to or from a flat buffer in one launch."""

    def __init__(self, xp, arrays):
        self.xp, self.n, self.itemsize = xp, len(arrays), arrays[0].dtype.itemsize
        self.device = upload_table(xp, arrays, [a.size for a in arrays])

    def copy(self, flat, n_arrays, to_arrays):
        """flat[:total] <- the first n_arrays arrays, or the reverse with to_arrays."""
        total = flat.size
        blocks = min(max(1, -(-total // THREADS)), MAX_BLOCKS)
        _copy_kernel(self.xp, self.itemsize)(
            (blocks,), (THREADS,),
            (flat, self.device[:n_arrays], self.device[self.n:self.n + n_arrays],
             np.int32(n_arrays), np.int64(total), np.int32(to_arrays)))


def _gatherable(arrays):
    """Whether the (param, grad, state...) device arrays can join a flat buffer."""
    first = arrays[0]
    return first.size > 0 and all(
        a.dtype == first.dtype and a.flags.c_contiguous and a.device == first.device
        for a in arrays)


def run_cuda_updates(kernel, n_scratch, items, xp, fused=None):
    """Run `kernel(xp, cfg, *arrays, *scratch)` for the CuPy items [(arrays, cfg)]: buckets of
    gatherable parameters with equal settings on flat buffers (or in one launch of the
    optimizer's fused kernel, see _fused_cuda), the rest on their own arrays."""
    written = [a for arrays, _ in items for i, a in enumerate(arrays) if i != 1]
    buckets, alone = {}, []
    if disjoint(written):
        for arrays, cfg in items:
            try:
                key = (arrays[0].data.device_id, arrays[0].dtype, len(arrays), cfg)
                hash(key)
            except TypeError:            # a cfg holding arrays: not comparable, run alone
                key = None
            if key is None or not _gatherable(arrays):
                alone.append((arrays, cfg))
            else:
                buckets.setdefault(key, []).append(arrays)
    else:
        alone = items
    for arrays, cfg in alone:
        with xp.cuda.Device(arrays[0].data.device_id):
            kernel(xp, cfg, *arrays, *[xp.empty_like(arrays[0]) for _ in range(n_scratch)])
    for (device_id, dtype, n_roles, cfg), members in buckets.items():
        with xp.cuda.Device(device_id):
            if fused is not None and fused.supports(xp, dtype) and \
                    fused.launch(xp, members, cfg):
                continue
            if len(members) == 1:
                arrays = members[0]
                kernel(xp, cfg, *arrays, *[xp.empty_like(arrays[0]) for _ in range(n_scratch)])
            else:
                _run_bucket(kernel, n_scratch, cfg, members, n_roles, xp)


def _run_bucket(kernel, n_scratch, cfg, members, n_roles, xp):
    # rows in the order param, states..., grad: the rows the kernel writes are a prefix
    order = [0] + list(range(2, n_roles)) + [1]
    table = _Table(xp, [arrays[role] for role in order for arrays in members])
    total = sum(arrays[0].size for arrays in members)
    flat = xp.empty((n_roles, total), members[0][0].dtype)
    table.copy(flat.reshape(-1), table.n, to_arrays=False)
    param, states, grad = flat[0], list(flat[1:n_roles - 1]), flat[n_roles - 1]
    kernel(xp, cfg, param, grad, *states, *[xp.empty_like(param) for _ in range(n_scratch)])
    written = (n_roles - 1) * len(members)
    table.copy(flat[:n_roles - 1].reshape(-1), written, to_arrays=True)
