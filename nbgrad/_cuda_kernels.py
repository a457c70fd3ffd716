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
# is one time step of a time-major layer (step t's batch row r is row t * B + r); a launch reads
# only what earlier launches wrote. A block computes a tile of the step, TILE_ROWS batch rows by
# 32 hidden units (a unit to a lane). The step's product (the previous h against W_hh^T forward,
# the next step's gate gradients against W_hh backward) is split over the block's warps by its
# reduction index, and each W element a warp loads serves every row of the tile; the warps'
# partial sums meet in shared memory, where a thread per (row, unit) of the tile adds them up and
# finishes the step (the cell). The first design, a thread per (row, unit) running the whole
# reduction, took 58 us a step on an H100 (LSTM, B=32, H=128): its threads' serial loops of
# dependent loads were the step's critical path, at 1/8 of the loads the split has a warp wait on.
TILE_ROWS, TILE_WARPS = 4, 8
TILE_THREADS = 32 * TILE_WARPS
LAYER_STEP = f'#define NBGRAD_TILE_ROWS {TILE_ROWS}\n#define NBGRAD_TILE_WARPS {TILE_WARPS}\n' + r"""
// the shared memory of a tile whose (row, unit) pairs take Q products each
#define NBGRAD_TILE_SUMS(Q) (NBGRAD_TILE_WARPS * NBGRAD_TILE_ROWS * (Q) * 32)
// the tiles of a step, grid-stride (every thread of a block runs the same iterations)
#define NBGRAD_FOR_EACH_TILE(tile, B, H) \
    for (long long tile = blockIdx.x; tile < nbgrad_tile_count(B, H); tile += gridDim.x)
__device__ __forceinline__ long long nbgrad_tile_count(int B, int H) {
    return (long long)((B + NBGRAD_TILE_ROWS - 1) / NBGRAD_TILE_ROWS) * ((H + 31) / 32);
}
struct NbgradTile {
    long long r0;   // its first batch row
    int rows;       // its batch rows (fewer than NBGRAD_TILE_ROWS at the batch's end)
    int j0;         // its first hidden unit
};
__device__ __forceinline__ NbgradTile nbgrad_tile(long long tile, int B, int H) {
    const int unit_tiles = (H + 31) / 32;
    NbgradTile t;
    t.r0 = tile / unit_tiles * NBGRAD_TILE_ROWS;
    t.rows = B - t.r0 < NBGRAD_TILE_ROWS ? (int)(B - t.r0) : NBGRAD_TILE_ROWS;
    t.j0 = (int)(tile % unit_tiles) * 32;
    return t;
}
// The tile's Q products, sum over m < K of a[rr * lda + m] * w[m * ldw + q * H + j] for its rows
// rr and units j, as each warp's partial sums in `sums` (a __shared__ T[NBGRAD_TILE_SUMS(Q)]);
// every thread of the block calls it (it ends at a barrier).
template <int Q>
__device__ __forceinline__ void nbgrad_tile_product(
        NbgradTile t, const T* a, long long lda, long long K, const T* w, long long ldw, int H,
        T* sums) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, j = t.j0 + lane;
    T acc[NBGRAD_TILE_ROWS][Q];
    for (int rr = 0; rr < NBGRAD_TILE_ROWS; ++rr)
        for (int q = 0; q < Q; ++q) acc[rr][q] = 0;
    if (j < H) {
        #pragma unroll 4
        for (long long m = warp; m < K; m += NBGRAD_TILE_WARPS) {
            const T* wm = w + m * ldw + j;
            T wq[Q];
            for (int q = 0; q < Q; ++q) wq[q] = wm[(long long)q * H];
            for (int rr = 0; rr < NBGRAD_TILE_ROWS; ++rr) {
                // (rows past the tile's repeat its last one: no branch, and never read)
                const T av = a[(rr < t.rows ? rr : t.rows - 1) * lda + m];
                for (int q = 0; q < Q; ++q) acc[rr][q] += av * wq[q];
            }
        }
    }
    for (int rr = 0; rr < NBGRAD_TILE_ROWS; ++rr)
        for (int q = 0; q < Q; ++q) sums[((warp * NBGRAD_TILE_ROWS + rr) * Q + q) * 32 + lane] =
            acc[rr][q];
    __syncthreads();
}
// product q of the (row, unit) pair `pair` of the tile: the warps' partial sums added
template <int Q>
__device__ __forceinline__ T nbgrad_tile_total(const T* sums, int pair, int q) {
    const int rr = pair / 32, lane = pair % 32;
    T total = 0;
    for (int warp = 0; warp < NBGRAD_TILE_WARPS; ++warp)
        total += sums[((warp * NBGRAD_TILE_ROWS + rr) * Q + q) * 32 + lane];
    return total;
}
// The (row, unit) pair of the tile that this thread finishes: its batch row r and unit j;
// false for threads past the tile's pairs and pairs past the layer's rows or units.
__device__ __forceinline__ bool nbgrad_tile_pair(NbgradTile t, int B, int H, long long* r,
                                                 int* j) {
    const int pair = threadIdx.x;
    *r = t.r0 + pair / 32;
    *j = t.j0 + pair % 32;
    return pair < NBGRAD_TILE_ROWS * 32 && *r < B && *j < H;
}
// the previous step's h of row r: out's rows at prev_row0, or h0's at the first step
__device__ __forceinline__ const T* nbgrad_previous_h(
        const T* h0, const T* out, long long prev_row0, long long r, int H) {
    return prev_row0 < 0 ? h0 + r * H : out + (prev_row0 + r) * H;
}
"""
MAX_STEP_PRODUCT = 1 << 26   # multiply-adds of one step's h @ W_hh^T: more, and cuBLAS steps it


def layer_steps_fit(family, xp, dtype, batch, hidden, gates):
    """Whether a layer's step kernels run it: CuPy float32/float64 arrays, a batch, and a step
    product (gates x hidden columns of W_hh) small enough for them: larger layers step the
    general way, a cuBLAS product a step."""
    return family.available(xp, dtype) and batch > 0 and \
        gates * batch * hidden * hidden <= MAX_STEP_PRODUCT


def launch_per_step(family, xp, name, source, dtype, batch, hidden, fixed, steps, last_first):
    """A layer's step kernel once per time step (the last step first, or the first): every
    launch gets the fixed arguments, its step's first row, the previous launch's (-1 at the
    first), then batch and hidden. Returns the last launch's first row, or None if the kernel
    is unavailable (only the first launch can fail, as it compiles the kernel: then nothing
    was written)."""
    sizes = (np.int32(batch), np.int32(hidden))
    tiles = -(-batch // TILE_ROWS) * -(-hidden // 32)
    previous = np.int64(-1)
    for t in (range(steps - 1, -1, -1) if last_first else range(steps)):
        row0 = np.int64(t * batch)
        if not family.launch(xp, name, source, dtype, tiles, fixed + (row0, previous) + sizes,
                             threads=TILE_THREADS):
            return None
        previous = row0
    return previous
