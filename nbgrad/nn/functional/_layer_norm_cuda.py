"""Layer norm on CUDA in one kernel launch forward and two backward, where the array formulas of
_norm_ops take a dozen or more CuPy launches: on a GPU the per-launch host time dominates a
normalisation. One thread normalises one row (sums in double precision), and one thread sums one
column of the weight and bias gradients, so every thread works alone (no shared memory and no
synchronisation: the kernels also run, thread after thread, in the fake CuPy's CPU emulation).
Float32 and float64; a compiler that refuses the kernels is warned about once, and layer norm
keeps its array formulas (same numbers to rounding, more launches).
"""
import numpy as np

from ..._cuda_kernels import KernelFamily

_FORWARD = r'''
extern "C" __global__ void nbgrad_layer_norm_forward(
        const T* x, const T* weight, const T* bias, T* y, T* mean, T* invstd,
        long long rows, long long n, double eps, int has_weight, int has_bias) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        double sum = 0;
        for (long long j = 0; j < n; ++j) sum += (double)xr[j];
        double mu = sum / n, squares = 0;
        for (long long j = 0; j < n; ++j) {
            double d = (double)xr[j] - mu;
            squares += d * d;
        }
        double inv = 1.0 / sqrt(squares / n + eps);
        mean[r] = (T)mu;
        invstd[r] = (T)inv;
        for (long long j = 0; j < n; ++j) {
            T v = (T)(((double)xr[j] - mu) * inv);
            if (has_weight) v *= weight[j];
            if (has_bias) v += bias[j];
            yr[j] = v;
        }
    }
}
'''

_BACKWARD_INPUT = r'''
extern "C" __global__ void nbgrad_layer_norm_backward_input(
        const T* g, const T* x, const T* weight, const T* mean, const T* invstd, T* grad,
        long long rows, long long n, int has_weight) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride) {
        const T* gr = g + r * n;
        const T* xr = x + r * n;
        double mu = (double)mean[r], inv = (double)invstd[r], sum_gy = 0, sum_gy_xhat = 0;
        for (long long j = 0; j < n; ++j) {
            double gy = has_weight ? (double)gr[j] * (double)weight[j] : (double)gr[j];
            sum_gy += gy;
            sum_gy_xhat += gy * ((double)xr[j] - mu) * inv;
        }
        double mean_gy = sum_gy / n, mean_gy_xhat = sum_gy_xhat / n;
        for (long long j = 0; j < n; ++j) {
            double gy = has_weight ? (double)gr[j] * (double)weight[j] : (double)gr[j];
            double xhat = ((double)xr[j] - mu) * inv;
            grad[r * n + j] = (T)((gy - mean_gy - xhat * mean_gy_xhat) * inv);
        }
    }
}
'''

_BACKWARD_PARAMS = r'''
extern "C" __global__ void nbgrad_layer_norm_backward_params(
        const T* g, const T* x, const T* mean, const T* invstd, T* grad_weight, T* grad_bias,
        long long rows, long long n, int want_weight, int want_bias) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += stride) {
        double gw = 0, gb = 0;
        for (long long r = 0; r < rows; ++r) {
            double gv = (double)g[r * n + j];
            gw += gv * ((double)x[r * n + j] - (double)mean[r]) * (double)invstd[r];
            gb += gv;
        }
        if (want_weight) grad_weight[j] = (T)gw;
        if (want_bias) grad_bias[j] = (T)gb;
    }
}
'''
KERNELS = KernelFamily('layer-norm')


def usable(xp, *arrays):
    """Whether these kernels serve these (C-contiguous, same float dtype) arrays."""
    dtype = arrays[0].dtype
    return KERNELS.available(xp, dtype) and all(
        a is None or (a.dtype == dtype and a.flags.c_contiguous) for a in arrays)


def forward(xp, x, weight, bias, eps, out):
    """Layer norm of the rows of x (rows, n) into out; (mean, invstd) as (rows, 1) arrays, or
    None if the kernel is unavailable (nothing written)."""
    rows, n = x.shape
    mean = xp.empty((rows, 1), x.dtype)
    invstd = xp.empty((rows, 1), x.dtype)
    dummy = x   # a valid pointer for an absent weight or bias (never read)
    done = KERNELS.launch(xp, 'nbgrad_layer_norm_forward', _FORWARD, x.dtype, rows,
                          (x, dummy if weight is None else weight, dummy if bias is None else bias,
                    out, mean, invstd, np.int64(rows), np.int64(n), np.float64(eps),
                    np.int32(weight is not None), np.int32(bias is not None)))
    return (mean, invstd) if done else None


def backward(xp, g, x, mean, invstd, weight, wanted, grad):
    """Layer norm's gradients (see _norm_ops._layer_norm_backward_rows): x's into grad when
    wanted[0]; returns (grad_weight, grad_bias) (each None when not wanted), or False if a
    kernel is unavailable (the caller then computes everything again)."""
    rows, n = x.shape
    if wanted[0] and not KERNELS.launch(
            xp, 'nbgrad_layer_norm_backward_input', _BACKWARD_INPUT, g.dtype, rows,
            (g, x, x if weight is None else weight, mean, invstd, grad, np.int64(rows),
             np.int64(n), np.int32(weight is not None))):
        return False
    grad_w = xp.empty(n, g.dtype) if wanted[1] else None
    grad_b = xp.empty(n, g.dtype) if wanted[2] else None
    if (wanted[1] or wanted[2]) and not KERNELS.launch(
            xp, 'nbgrad_layer_norm_backward_params', _BACKWARD_PARAMS, g.dtype, n,
            (g, x, mean, invstd, g if grad_w is None else grad_w,
             g if grad_b is None else grad_b, np.int64(rows), np.int64(n),
             np.int32(wanted[1]), np.int32(wanted[2]))):
        return False
    return grad_w, grad_b
