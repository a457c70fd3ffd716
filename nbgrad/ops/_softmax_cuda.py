"""softmax and log_softmax over the last dim on CUDA, forward and backward in one kernel launch
each, where the array formulas take five or six CuPy launches (a maximum, a subtraction, an
exponential, a sum, a division or logarithm): on a GPU the per-launch host time, not the
arithmetic, is what a classifier's softmax costs. One block handles one row: its threads read
the row's elements side by side (coalesced) and combine their maxima and sums in shared memory
(exponentials and sums in double precision). A row holding NaN gives NaN, as PyTorch's. Float32
and float64; a compiler that refuses the kernels is warned about once, and the array formulas
are used (same numbers to rounding, more launches).
"""
import numpy as np

from .._cuda_kernels import BLOCK_REDUCE, KernelFamily, row_threads

_FORWARD = BLOCK_REDUCE + r'''
extern "C" __global__ void nbgrad_softmax_forward(
        const T* x, T* y, long long rows, long long n, int log_softmax) {
    __shared__ double scratch[NBGRAD_ROW_THREADS_MAX];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        double top = NBGRAD_NEG_INF;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double v = (double)xr[j];
            if (top == top && (v != v || v > top)) top = v;      // NaN wins
        }
        top = nbgrad_block_max(top, scratch);
        // NaN rows stay NaN, and all -inf rows give NaN (0 / 0), as the shift by 0 leaves them
        if (top != top || top == NBGRAD_NEG_INF) top = 0;
        double sum = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) sum += exp((double)xr[j] - top);
        sum = nbgrad_block_sum(sum, scratch);
        double log_sum = log(sum);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double shifted = (double)xr[j] - top;
            yr[j] = (T)(log_softmax ? shifted - log_sum : exp(shifted) / sum);
        }
    }
}
'''

_BACKWARD = BLOCK_REDUCE + r'''
extern "C" __global__ void nbgrad_softmax_backward(
        const T* g, const T* y, T* out, long long rows, long long n, int log_softmax) {
    __shared__ double scratch[NBGRAD_ROW_THREADS_MAX];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* gr = g + r * n;
        const T* yr = y + r * n;
        double total = 0;   // sum(g) for log_softmax, sum(g * y) for softmax
        for (long long j = threadIdx.x; j < n; j += blockDim.x)
            total += log_softmax ? (double)gr[j] : (double)gr[j] * (double)yr[j];
        total = nbgrad_block_sum(total, scratch);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double gv = (double)gr[j], yv = (double)yr[j];
            out[r * n + j] = (T)(log_softmax ? gv - exp(yv) * total : yv * (gv - total));
        }
    }
}
'''
KERNELS = KernelFamily('softmax')


def usable(xp, a, dim):
    """Whether the kernels serve a softmax of array a over dim (the last, of a non-empty
    float32 or float64 CuPy array)."""
    return KERNELS.available(xp, a.dtype) and a.ndim > 0 and dim == a.ndim - 1 and a.size > 0


def forward(xp, a, log):
    """softmax (or log_softmax) of a over its last dim, or None if the kernel is unavailable."""
    a = xp.ascontiguousarray(a)
    out = xp.empty_like(a)
    n = a.shape[-1]
    rows = a.size // n
    done = KERNELS.launch(xp, 'nbgrad_softmax_forward', _FORWARD, a.dtype, rows,
                   (a, out, np.int64(rows), np.int64(n), np.int32(log)), threads=row_threads(n))
    return out if done else None


def backward(xp, g, y, log):
    """The gradient of (log_)softmax over the last dim given its output y and the incoming g
    (y's shape and dtype), or None if the kernel is unavailable."""
    g, y = xp.ascontiguousarray(g), xp.ascontiguousarray(y)
    out = xp.empty_like(y)
    n = y.shape[-1]
    rows = y.size // n
    done = KERNELS.launch(xp, 'nbgrad_softmax_backward', _BACKWARD, y.dtype, rows,
                   (g, y, out, np.int64(rows), np.int64(n), np.int32(log)), threads=row_threads(n))
    return out if done else None
