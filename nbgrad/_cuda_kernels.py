"""Hand-written CUDA kernels compiled by CuPy (RawKernel): what the layers that have some share.

A family (the kernels of one layer) compiles each kernel on first use, per dtype, with
`typedef <C type> T;` before its source. If the compiler refuses one, the family warns once and
reports itself unavailable from then on, and the layer keeps its array formulas: a compiler
problem costs speed, never results. Launches are 1-d grids over a count of work items (the
kernels loop grid-stride over theirs): either THREADS-thread blocks whose threads each take
independent items, or, for row reductions (softmax, layer norm), one block per row whose threads
share the row's elements and combine their partial results with BLOCK_REDUCE.
"""
import warnings

import numpy as np

THREADS = 128
MAX_BLOCKS = 4096
C_TYPES = {np.dtype(np.float32): 'float', np.dtype(np.float64): 'double'}

# the logistic function as the recurrent cells' array formulas compute it (through tanh)
SIGMOID = r'''
__device__ __forceinline__ T nbgrad_sigmoid(T x) { return tanh(x * (T)0.5) * (T)0.5 + (T)0.5; }
'''

# Block-wide reductions for kernels whose block works on one row: every thread of the block calls
# them with its own value (all threads must call them: they hold barriers), and all get the
# block's sum or maximum (NaN if any value is NaN). `scratch` is a __shared__
# double[NBGRAD_ROW_THREADS_MAX]; blockDim.x is a power of two (see row_threads).
ROW_THREADS_MAX = 256
BLOCK_REDUCE = f'#define NBGRAD_ROW_THREADS_MAX {ROW_THREADS_MAX}\n' + r'''
// (NVRTC has no math.h: no INFINITY macro)
#define NBGRAD_NEG_INF (-1.0 / 0.0)
__device__ double nbgrad_block_sum(double v, double* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
        __syncthreads();
    }
    double total = scratch[0];
    __syncthreads();    // every thread has read it: scratch is free for the next reduction
    return total;
}
__device__ double nbgrad_block_max(double v, double* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            double a = scratch[threadIdx.x], b = scratch[threadIdx.x + half];
            if (a == a && (b != b || b > a)) scratch[threadIdx.x] = b;    // NaN wins
        }
        __syncthreads();
    }
    double top = scratch[0];
    __syncthreads();
    return top;
}
'''


def row_threads(row_length):
    """Threads of a block that reduces one row: about four elements each, one warp at least."""
    threads = 32
    while threads < ROW_THREADS_MAX and 4 * threads < row_length:
        threads *= 2
    return threads


class KernelFamily:
    def __init__(self, what, fallback=None):
        self.what = what        # how the warning names the layer: 'LSTM cell', 'softmax'...
        self.fallback = fallback or f'{what} uses its array formulas'
        self.kernels = {}
        self.failed = False

    def available(self, xp, dtype):
        """Whether these kernels serve arrays of this module and dtype."""
        return xp is not np and not self.failed and dtype in C_TYPES

    def launch(self, xp, name, source, dtype, items, args, threads=None):
        """Run kernel `name` of `source` over `items` work items: THREADS to a block, each thread
        its own items; or, given `threads`, one block of that many threads per item (a row to
        reduce: see row_threads). False (after one warning) if it does not compile."""
        key = (name, dtype, source)
        if threads is None:
            blocks, threads = min(max(1, -(-items // THREADS)), MAX_BLOCKS), THREADS
        else:
            blocks = min(max(1, items), MAX_BLOCKS)
        try:
            if key not in self.kernels:
                self.kernels[key] = xp.RawKernel(f'typedef {C_TYPES[dtype]} T;\n{source}', name)
            self.kernels[key]((blocks,), (threads,), args)
        except xp.cuda.compiler.CompileException as e:
            self.failed = True
            warnings.warn(f'nbgrad: the CUDA {self.what} kernel {name} did not compile, so '
                          f'{self.fallback} (same results, more kernel launches). Please report '
                          f'this with the compiler message: {e}', RuntimeWarning, stacklevel=3)
            return False
        return True


# The recurrent layers' step kernels (nn/modules/_lstm_, _gru_, _elman_sequence_cuda): each launch
# is one time step of a time-major layer (step t's batch row r is row t * B + r), one thread per
# (batch row r, hidden unit j) of the step; a launch reads only what earlier launches wrote.
LAYER_STEP = r'''
#define NBGRAD_FOR_EACH_ROW_AND_UNIT(k, r, j, B, H) \
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x, r = k / (H), \
         j = k % (H); k < (long long)(B) * (H); \
         k += (long long)blockDim.x * gridDim.x, r = k / (H), j = k % (H))
// the previous step's h of row r: out's rows at prev_row0, or h0's at the first step
__device__ __forceinline__ const T* nbgrad_previous_h(
        const T* h0, const T* out, long long prev_row0, long long r, int H) {
    return prev_row0 < 0 ? h0 + r * H : out + (prev_row0 + r) * H;
}
// the h gradient carried into a step, unit j of row r: the following step's gradients
// (G wide, at next_row0) times w (G x H), or gh_last's at the last step
__device__ __forceinline__ T nbgrad_carried(
        const T* d, const T* w, const T* gh_last, long long next_row0, long long r,
        long long j, long long G, int H) {
    if (next_row0 < 0) return gh_last[r * H + j];
    const T* dn = d + (next_row0 + r) * G;
    T carry = 0;
    // (unrolled, so that the loads of several iterations are in flight at once: each
    // thread's loop is the step's critical path)
    #pragma unroll 8
    for (long long q = 0; q < G; ++q) carry += dn[q] * w[q * H + j];
    return carry;
}
'''
MAX_STEP_PRODUCT = 1 << 26   # multiply-adds of one step's h @ W_hh^T, for one thread per unit


def layer_steps_fit(family, xp, dtype, batch, hidden, gates):
    """Whether a layer's step kernels run it: CuPy float32/float64 arrays, a batch, and a step
    product (gates x hidden columns of W_hh) small enough for one thread per (row, unit)."""
    return family.available(xp, dtype) and batch > 0 and \
        gates * batch * hidden * hidden <= MAX_STEP_PRODUCT


def launch_per_step(family, xp, name, source, dtype, batch, hidden, fixed, steps, last_first):
    """A layer's step kernel once per time step (the last step first, or the first): every
    launch gets the fixed arguments, its step's first row, the previous launch's (-1 at the
    first), then batch and hidden. Returns the last launch's first row, or None if the kernel
    is unavailable (only the first launch can fail, as it compiles the kernel: then nothing
    was written)."""
    sizes = (np.int32(batch), np.int32(hidden))
    previous = np.int64(-1)
    for t in (range(steps - 1, -1, -1) if last_first else range(steps)):
        row0 = np.int64(t * batch)
        if not family.launch(xp, name, source, dtype, batch * hidden,
                             fixed + (row0, previous) + sizes):
            return None
        previous = row0
    return previous
