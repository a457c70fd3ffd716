"""erf, erfc and GELU (forward and slope) on CUDA as one kernel launch each, by the device's own
math library, as PyTorch's CUDA kernels compute them.

The array formulas in _special evaluate their polynomials one CuPy launch per operation (about
thirty for a float32 erf, more for GELU's slope); on a GPU each launch's host time, not the
arithmetic, is the cost. CUDA's erf/erfc are within two ulp; float32 computes in float, as
PyTorch's CUDA GELU does (its opmath type), so the results are PyTorch's CUDA results. Float64
GELU uses erfc as nbgrad's CPU kernel does (x * Phi(x) without the cancellation of 1 + erf for
x << 0). Float32 and float64 arrays; a compiler that refuses the kernels is warned about once,
and the array formulas are used (same numbers to rounding, more launches).
"""
import numpy as np

from .._cuda_kernels import KernelFamily

# (NVRTC has no math.h, so no M_SQRT1_2)
_CONSTANTS = r'''
#define NBGRAD_SQRT1_2 0.70710678118654752440
#define NBGRAD_INV_SQRT_2PI 0.39894228040143267794
#define NBGRAD_GRID_LOOP(k, n) \
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; \
         k += (long long)blockDim.x * gridDim.x)
'''
_UNARY = _CONSTANTS + r'''
extern "C" __global__ void nbgrad_erf(const T* x, T* y, long long n) {
    NBGRAD_GRID_LOOP(k, n) y[k] = erf(x[k]);
}
extern "C" __global__ void nbgrad_erfc(const T* x, T* y, long long n) {
    NBGRAD_GRID_LOOP(k, n) y[k] = erfc(x[k]);
}
__device__ __forceinline__ T nbgrad_gelu_cdf(T v) {   // Phi(v)
    return sizeof(T) == 8 ? (T)0.5 * erfc(-v * (T)NBGRAD_SQRT1_2)
                          : (T)0.5 * ((T)1 + erf(v * (T)NBGRAD_SQRT1_2));
}
extern "C" __global__ void nbgrad_gelu(const T* x, T* y, long long n) {
    NBGRAD_GRID_LOOP(k, n) { T v = x[k]; y[k] = v * nbgrad_gelu_cdf(v); }
}
extern "C" __global__ void nbgrad_gelu_backward(const T* g, const T* x, T* out, long long n) {
    NBGRAD_GRID_LOOP(k, n) {
        T v = x[k];
        T pdf = exp((T)-0.5 * v * v) * (T)NBGRAD_INV_SQRT_2PI;
        out[k] = g[k] * (nbgrad_gelu_cdf(v) + v * pdf);
    }
}
'''
KERNELS = KernelFamily('erf/GELU', 'erf and GELU use their array formulas')


def _launch(xp, name, *arrays):
    """Kernel `name` over the elements of arrays (same shape; the last one's dtype), into a new
    array; None if it does not serve them."""
    x = arrays[-1]
    if not KERNELS.available(xp, x.dtype) or any(a.dtype != x.dtype for a in arrays):
        return None
    arrays = [xp.ascontiguousarray(a) for a in arrays]
    out = xp.empty(x.shape, x.dtype)
    done = KERNELS.launch(xp, name, _UNARY, x.dtype, x.size, (*arrays, out, np.int64(x.size)))
    return out if done else None


def erf(xp, x):
    return _launch(xp, 'nbgrad_erf', x)


def erfc(xp, x):
    return _launch(xp, 'nbgrad_erfc', x)


def gelu(xp, x):
    """x * Phi(x), or None where the kernel does not serve x."""
    return _launch(xp, 'nbgrad_gelu', x)


def gelu_backward(xp, g, x):
    """g * GELU'(x) (g broadcast to x's shape), or None."""
    if g.shape != x.shape:
        g = xp.broadcast_to(g, x.shape)
    return _launch(xp, 'nbgrad_gelu_backward', g, x)
