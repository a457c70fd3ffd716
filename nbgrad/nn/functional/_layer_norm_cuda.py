"""Layer norm on CUDA in one kernel launch forward and three backward, where the array formulas of
_norm_ops take a dozen or more CuPy launches: on a GPU the per-launch host time dominates a
normalisation. One block normalises one row (its threads read the row side by side and combine
their sums in shared memory, in double precision). The weight and bias gradients, sums down the
columns, are made in two steps with a fixed order (so the same input gives the same bits): blocks
of 32 columns by CHUNK_ROWS rows write partial sums, and one thread per column adds those up.
Float32 and float64; a compiler that refuses the kernels is warned about once, and layer norm
keeps its array formulas (same numbers to rounding, more launches).
"""
import numpy as np

from ..._cuda_kernels import BLOCK_REDUCE, ROW_THREADS_MAX, KernelFamily, row_threads

CHUNK_ROWS = 64     # rows summed by one block of the parameter-gradient kernel

_FORWARD = BLOCK_REDUCE + r'''
extern "C" __global__ void nbgrad_layer_norm_forward(
        const T* x, const T* weight, const T* bias, T* y, T* mean, T* invstd,
        long long rows, long long n, double eps, int has_weight, int has_bias) {
    __shared__ double scratch[NBGRAD_ROW_THREADS_MAX];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        double sum = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) sum += (double)xr[j];
        double mu = nbgrad_block_sum(sum, scratch) / n, squares = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double d = (double)xr[j] - mu;
            squares += d * d;
        }
        double inv = 1.0 / sqrt(nbgrad_block_sum(squares, scratch) / n + eps);
        if (threadIdx.x == 0) {
            mean[r] = (T)mu;
            invstd[r] = (T)inv;
        }
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            T v = (T)(((double)xr[j] - mu) * inv);
            if (has_weight) v *= weight[j];
            if (has_bias) v += bias[j];
            yr[j] = v;
        }
    }
}
'''

_BACKWARD_INPUT = BLOCK_REDUCE + r'''
extern "C" __global__ void nbgrad_layer_norm_backward_input(
        const T* g, const T* x, const T* weight, const T* mean, const T* invstd, T* grad,
        long long rows, long long n, int has_weight) {
    __shared__ double scratch[NBGRAD_ROW_THREADS_MAX];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* gr = g + r * n;
        const T* xr = x + r * n;
        double mu = (double)mean[r], inv = (double)invstd[r], sum_gy = 0, sum_gy_xhat = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double gy = has_weight ? (double)gr[j] * (double)weight[j] : (double)gr[j];
            sum_gy += gy;
            sum_gy_xhat += gy * ((double)xr[j] - mu) * inv;
        }
        double mean_gy = nbgrad_block_sum(sum_gy, scratch) / n;
        double mean_gy_xhat = nbgrad_block_sum(sum_gy_xhat, scratch) / n;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            double gy = has_weight ? (double)gr[j] * (double)weight[j] : (double)gr[j];
            double xhat = ((double)xr[j] - mu) * inv;
            grad[r * n + j] = (T)((gy - mean_gy - xhat * mean_gy_xhat) * inv);
        }
    }
}
'''

# partial[chunk][0][j], partial[chunk][1][j]: the weight and bias gradients of column j summed
# over the rows of one chunk; a block is 32 columns (its threads' col) by blockDim.x / 32 lanes
# of rows, which it adds up in shared memory
_BACKWARD_PARAMS_PARTIAL = r'''
#define NBGRAD_ROW_THREADS_MAX %d
extern "C" __global__ void nbgrad_layer_norm_backward_params_partial(
        const T* g, const T* x, const T* mean, const T* invstd, double* partial,
        long long rows, long long n, long long chunk_rows) {
    __shared__ double gw_lanes[NBGRAD_ROW_THREADS_MAX], gb_lanes[NBGRAD_ROW_THREADS_MAX];
    long long tiles = (n + 31) / 32, chunks = (rows + chunk_rows - 1) / chunk_rows;
    unsigned int col = threadIdx.x %% 32, lane = threadIdx.x / 32, lanes = blockDim.x / 32;
    for (long long b = blockIdx.x; b < tiles * chunks; b += gridDim.x) {
        long long j = (b %% tiles) * 32 + col, chunk = b / tiles;
        long long end = (chunk + 1) * chunk_rows < rows ? (chunk + 1) * chunk_rows : rows;
        double gw = 0, gb = 0;
        if (j < n)
            for (long long r = chunk * chunk_rows + lane; r < end; r += lanes) {
                double gv = (double)g[r * n + j];
                gw += gv * ((double)x[r * n + j] - (double)mean[r]) * (double)invstd[r];
                gb += gv;
            }
        gw_lanes[threadIdx.x] = gw;
        gb_lanes[threadIdx.x] = gb;
        __syncthreads();
        if (lane == 0 && j < n) {
            for (unsigned int l = 1; l < lanes; ++l) {
                gw += gw_lanes[l * 32 + col];
                gb += gb_lanes[l * 32 + col];
            }
            partial[chunk * 2 * n + j] = gw;
            partial[(chunk * 2 + 1) * n + j] = gb;
        }
        __syncthreads();    // the lanes are read before the next tile overwrites them
    }
}
''' % ROW_THREADS_MAX

_BACKWARD_PARAMS_TOTAL = r'''
extern "C" __global__ void nbgrad_layer_norm_backward_params_total(
        const double* partial, T* grad_weight, T* grad_bias, long long chunks, long long n,
        int want_weight, int want_bias) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += stride) {
        double gw = 0, gb = 0;
        for (long long c = 0; c < chunks; ++c) {
            gw += partial[c * 2 * n + j];
            gb += partial[(c * 2 + 1) * n + j];
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
    done = KERNELS.launch(
        xp, 'nbgrad_layer_norm_forward', _FORWARD, x.dtype, rows,
        (x, dummy if weight is None else weight, dummy if bias is None else bias, out, mean,
         invstd, np.int64(rows), np.int64(n), np.float64(eps), np.int32(weight is not None),
         np.int32(bias is not None)), threads=row_threads(n))
    return (mean, invstd) if done else None


def backward(xp, g, x, mean, invstd, weight, wanted, grad):
    """Layer norm's gradients (see _norm_ops._layer_norm_backward_rows): x's into grad when
    wanted[0]; returns (grad_weight, grad_bias) (each None when not wanted), or False if a
    kernel is unavailable (the caller then computes everything again)."""
    rows, n = x.shape
    if wanted[0] and not KERNELS.launch(
            xp, 'nbgrad_layer_norm_backward_input', _BACKWARD_INPUT, g.dtype, rows,
            (g, x, x if weight is None else weight, mean, invstd, grad, np.int64(rows),
             np.int64(n), np.int32(weight is not None)), threads=row_threads(n)):
        return False
    if not (wanted[1] or wanted[2]):
        return None, None
    grad_w = xp.empty(n, g.dtype) if wanted[1] else None
    grad_b = xp.empty(n, g.dtype) if wanted[2] else None
    chunks = -(-rows // CHUNK_ROWS)
    partial = xp.empty((chunks, 2, n), np.float64)
    if not KERNELS.launch(xp, 'nbgrad_layer_norm_backward_params_partial',
                          _BACKWARD_PARAMS_PARTIAL, g.dtype, chunks * -(-n // 32),
                          (g, x, mean, invstd, partial, np.int64(rows), np.int64(n),
                           np.int64(CHUNK_ROWS)), threads=ROW_THREADS_MAX):
        return False
    if not KERNELS.launch(xp, 'nbgrad_layer_norm_backward_params_total', _BACKWARD_PARAMS_TOTAL,
                          g.dtype, n, (partial, g if grad_w is None else grad_w,
                                       g if grad_b is None else grad_b, np.int64(chunks),
                                       np.int64(n), np.int32(wanted[1]), np.int32(wanted[2]))):
        return False
    return grad_w, grad_b
