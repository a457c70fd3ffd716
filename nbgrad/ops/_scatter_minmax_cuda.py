"""scatter_reduce's amax/amin on CUDA for float32/float64: one kernel launch in which each value
updates its target with a compare-and-swap loop. A maximum (minimum) does not depend on the
order of the updates, so the result is the same every run; a NaN, arriving or already there,
wins, as in PyTorch (CuPy's scatter_max is not documented to propagate NaN)."""
import numpy as np

from .._cuda_kernels import KernelFamily

_SOURCE = r'''
__device__ __forceinline__ unsigned int nbgrad_bits(float x) { return __float_as_uint(x); }
__device__ __forceinline__ unsigned long long nbgrad_bits(double x) {
    return (unsigned long long)__double_as_longlong(x);
}
__device__ __forceinline__ float nbgrad_value(unsigned int b) { return __uint_as_float(b); }
__device__ __forceinline__ double nbgrad_value(unsigned long long b) {
    return __longlong_as_double((long long)b);
}
typedef decltype(nbgrad_bits((T)0)) U;

extern "C" __global__ void nbgrad_scatter_minmax(
        T* out, const long long* positions, const T* values, long long n, int take_max) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        T v = values[k];
        U* address = (U*)(out + positions[k]);
        U old = *address, assumed;
        do {
            assumed = old;
            T current = nbgrad_value(assumed);
            // a NaN value wins; a NaN already there stays (every comparison with it is false)
            if (!(v != v || (take_max ? v > current : v < current))) break;
            old = atomicCAS(address, assumed, nbgrad_bits(v));
        } while (old != assumed);
    }
}
'''
KERNELS = KernelFamily('scatter amax/amin')


def usable(xp, dtype):
    return KERNELS.available(xp, dtype)


def scatter_minmax(xp, out, positions, values, take_max):
    """out[positions] = max (min) of itself and values, for a C-contiguous out and flat int64
    positions; False if the kernel is unavailable (nothing written)."""
    values = xp.ascontiguousarray(xp.broadcast_to(values, positions.shape),
                                  dtype=out.dtype).reshape(-1)
    positions = xp.ascontiguousarray(positions, dtype=np.int64).reshape(-1)
    return KERNELS.launch(xp, 'nbgrad_scatter_minmax', _SOURCE, out.dtype, positions.size,
                          (out, positions, values, np.int64(positions.size),
                           np.int32(take_max)))
