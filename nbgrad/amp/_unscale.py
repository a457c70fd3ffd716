"""GradScaler's two array kernels, PyTorch's _amp_foreach_non_finite_check_and_unscale_ and
_amp_update_scale_, on raw arrays (NumPy or CuPy) so that a step costs a few launches and no
device-to-host read beyond the one step() makes.

Written with nbgrad's tensor ops, unscaling took eight dispatched ops per gradient and update()
read the scale and tracker back to the host: on an H100 the mixed-precision MLP benchmark step
took three times PyTorch's. On CUDA the float32/float64 gradients of a device are now checked and
multiplied by one launch over a table of their pointers (optim/_multi_tensor's layout), and the
scale's update is element-wise arithmetic on the device.
"""
import numpy as np

from .._pointer_tables import FOR_EACH_ELEMENT, MAX_BLOCKS, THREADS, disjoint, upload_table

# (v - v) is 0 exactly for finite v and NaN for inf and NaN: no isfinite needed in either
# compiler (NVRTC, and the g++ of the tests' CPU stand-in for CuPy)
_SOURCE = r'''
typedef %s T;
extern "C" __global__ void nbgrad_non_finite_check_and_unscale(
        const unsigned long long* pointers, const long long* starts, int n_arrays,
        long long total, float* found, const float* inv_scale) {
    const T inv = (T)*inv_scale;''' + FOR_EACH_ELEMENT + r'''
        T* array = (T*)pointers[lo];
        const T v = array[j];
        if ((v - v) != (T)0) *found = 1.0f;     // the same value from every thread that writes
        array[j] = v * inv;
    }
}
'''
_C_TYPES = {np.dtype(np.float32): 'float', np.dtype(np.float64): 'double'}
_kernels = {}


def non_finite_check_and_unscale_(xp, arrays, found, inv_scale):
    """Every array times inv_scale (a 0-d float32 array), in place, computed in the array's
    precision or float32 if lower (PyTorch's opmath); found (a 0-d float32 array) becomes 1
    if any element was inf or NaN before, and is left as it is otherwise."""
    fused = []
    if xp is not np and disjoint(arrays):
        fused = [a for a in arrays if a.dtype in _C_TYPES and a.size and a.flags.c_contiguous]
    for dtype in {a.dtype for a in fused}:
        same = [a for a in fused if a.dtype == dtype]
        table = upload_table(xp, same, [a.size for a in same])
        total = sum(a.size for a in same)
        kernel = _kernels.get(dtype)
        if kernel is None:
            kernel = _kernels[dtype] = xp.RawKernel(_SOURCE % _C_TYPES[dtype],
                                                    'nbgrad_non_finite_check_and_unscale')
        kernel((min(-(-total // THREADS), MAX_BLOCKS),), (THREADS,),
               (table[:len(same)], table[len(same):], np.int32(len(same)), np.int64(total),
                found, inv_scale))
    fused_ids = {id(a) for a in fused}
    for a in arrays:
        if id(a) in fused_ids:
            continue
        # (a flag array ORed in on the device: no read back per gradient)
        xp.maximum(found, xp.logical_not(xp.isfinite(a).all()).astype(np.float32), out=found)
        xp.multiply(a, inv_scale, out=a, casting='unsafe')


def update_scale_(xp, scale, tracker, found_inf, growth_factor, backoff_factor,
                  growth_interval):
    """PyTorch's _amp_update_scale_ on 0-d arrays, in place: after an overflow (found_inf > 0)
    the scale times backoff_factor and the tracker 0; otherwise the tracker counts the clean
    step, and at growth_interval the scale grows by growth_factor (unless that overflows
    float32) and the tracker restarts."""
    overflowed = found_inf > 0
    successful = tracker + 1
    grow = xp.logical_and(xp.logical_not(overflowed), successful == growth_interval)
    wide = scale.astype(np.float64)      # (float scale times double factor, as PyTorch's C++)
    grown = (wide * growth_factor).astype(np.float32)
    new_scale = xp.where(overflowed, (wide * backoff_factor).astype(np.float32),
                         xp.where(xp.logical_and(grow, xp.isfinite(grown)), grown, scale))
    xp.copyto(tracker, xp.where(xp.logical_or(overflowed, grow), 0, successful),
              casting='unsafe')
    xp.copyto(scale, new_scale, casting='unsafe')
