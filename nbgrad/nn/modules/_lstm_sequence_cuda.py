"""A small LSTM layer's whole time loop on CUDA in one kernel launch (forward) and one (backward).

Step by step (_lstm_cuda), each time step costs a cuBLAS product and a pointwise kernel, and on a
GPU the host time of those launches, not their arithmetic, is what a small recurrent layer costs:
tens of microseconds a step against the few that cuDNN's persistent kernels take. Here one
thread block runs every step: the previous h stays in shared memory, each thread computes whole
gate columns of h @ W_hh^T (W_hh transposed, so that a warp's reads are coalesced) for several
batch rows at a time, the block synchronises, and the pointwise part writes the same saved
activations as _lstm_cuda's forward, so the two share their layout. The backward runs the
carried h gradient through W_hh the same way, with _lstm_cuda's pointwise formulas.

One block uses one multiprocessor, so this serves layers whose step is small: the batch's h fits
the shared buffer and a step's product stays within a few tens of microseconds of one
multiprocessor's arithmetic (usable() says when). Larger layers, packed batches of varying
size and projected LSTMs step through time as before. Results equal the step-by-step path's to
rounding (the products sum in another order than cuBLAS's).

Measured on an H200 (T=50, B=32, 64 -> 128, forward and backward): 8.5 ms, where stepping took
11.2 ms and PyTorch's cuDNN 1.4 ms. One multiprocessor's instruction rate bounds it (a step's
two million multiply-adds and as many loads); loading eight weights at a time with sixteen rows
of accumulators measured slower (12 ms). Reaching cuDNN needs the hidden units spread over many
blocks, each owning its units' four gate columns, with h exchanged through global memory and a
grid-wide barrier per step (a cooperative launch).
"""
import numpy as np

from ..._cuda_kernels import SIGMOID, KernelFamily

ROWS = 8                     # batch rows a thread's product covers at once (its accumulators)
SHARED_BYTES = 32768         # the block's h (or carried h gradient), in shared memory
MAX_STEP_PRODUCT = 1 << 24   # multiply-adds of one step's h @ W_hh^T on one multiprocessor

_COMMON = f'#define NBGRAD_ROWS {ROWS}\n#define NBGRAD_SHARED_DOUBLES {SHARED_BYTES // 8}\n'

# rows are time-major: step t's batch row r is row t * B + r of xg, s, d (4H wide) and of g,
# c_prev, tc, out (H wide); gate q of a row is its column q (i, f, g, o quarters)
_FORWARD = _COMMON + r'''
extern "C" __global__ void nbgrad_lstm_sequence_forward(
        const T* xg, const T* w_t, const T* h0, const T* c0, T* s, T* g, T* c_prev, T* tc,
        T* out, T* c, int steps, int B, int H, int reverse) {
    __shared__ double raw[NBGRAD_SHARED_DOUBLES];
    T* h = (T*)raw;                              // the previous step's h, (B, H)
    const int G = 4 * H;
    for (int k = threadIdx.x; k < B * H; k += blockDim.x) { h[k] = h0[k]; c[k] = c0[k]; }
    __syncthreads();
    for (int step = 0; step < steps; ++step) {
        long long row0 = (long long)(reverse ? steps - 1 - step : step) * B;
        // the gates' pre-activations xg + h @ W_hh^T, into s
        for (int q = threadIdx.x; q < G; q += blockDim.x) {
            for (int r0 = 0; r0 < B; r0 += NBGRAD_ROWS) {
                T acc[NBGRAD_ROWS];
                for (int j = 0; j < NBGRAD_ROWS; ++j) acc[j] = 0;
                // (rows past B read the buffer's spare rows: their sums are never stored)
                for (int k = 0; k < H; ++k) {
                    T w = w_t[(long long)k * G + q];
                    for (int j = 0; j < NBGRAD_ROWS; ++j) acc[j] += w * h[(r0 + j) * H + k];
                }
                for (int j = 0; j < NBGRAD_ROWS && r0 + j < B; ++j) {
                    long long at = (row0 + r0 + j) * G + q;
                    s[at] = xg[at] + acc[j];
                }
            }
        }
        __syncthreads();
        // the pointwise part, as _lstm_cuda's forward: activations, c' and h
        for (int k = threadIdx.x; k < B * H; k += blockDim.x) {
            long long r = k / H, j = k % H;
            long long gate = (row0 + r) * G + j, e = (row0 + r) * H + j;
            T si = nbgrad_sigmoid(s[gate]);
            T sf = nbgrad_sigmoid(s[gate + H]);
            T tg = tanh(s[gate + 2 * H]);
            T so = nbgrad_sigmoid(s[gate + 3 * H]);
            s[gate] = si; s[gate + H] = sf; s[gate + 2 * H] = (T)0; s[gate + 3 * H] = so;
            T cp = c[k];
            T cn = sf * cp + si * tg;
            T t = tanh(cn);
            T hv = so * t;
            g[e] = tg; c_prev[e] = cp; tc[e] = t; c[k] = cn; out[e] = hv; h[k] = hv;
        }
        __syncthreads();
    }
}
'''

_BACKWARD = _COMMON + r'''
extern "C" __global__ void nbgrad_lstm_sequence_backward(
        const T* g_out, const T* gh_last, const T* gc_last, const T* w, const T* s,
        const T* g, const T* tc, const T* c_prev, T* d, T* gh0, T* gc, int steps, int B,
        int H, int reverse) {
    __shared__ double raw[NBGRAD_SHARED_DOUBLES];
    T* carry = (T*)raw;                          // the h gradient carried back, (B, H)
    const int G = 4 * H;
    for (int k = threadIdx.x; k < B * H; k += blockDim.x) { carry[k] = gh_last[k];
                                                            gc[k] = gc_last[k]; }
    __syncthreads();
    const int chunks = (B + NBGRAD_ROWS - 1) / NBGRAD_ROWS;
    for (int step = 0; step < steps; ++step) {   // the forward's steps, last first
        long long row0 = (long long)(reverse ? step : steps - 1 - step) * B;
        // the gates' gradients, as _lstm_cuda's backward
        for (int k = threadIdx.x; k < B * H; k += blockDim.x) {
            long long r = k / H, j = k % H;
            long long gate = (row0 + r) * G + j, e = (row0 + r) * H + j;
            T i = s[gate], f = s[gate + H], o = s[gate + 3 * H];
            T tg = g[e], t = tc[e], h_grad = carry[k] + g_out[e];
            T gcv = h_grad * o * ((T)1 - t * t) + gc[k];
            d[gate] = gcv * tg * (i * ((T)1 - i));
            d[gate + H] = gcv * c_prev[e] * (f * ((T)1 - f));
            d[gate + 2 * H] = gcv * i * ((T)1 - tg * tg);
            d[gate + 3 * H] = h_grad * t * (o * ((T)1 - o));
            gc[k] = gcv * f;
        }
        __syncthreads();
        // the h gradient into the previous step: d @ W_hh, a column of it per thread
        for (int item = threadIdx.x; item < H * chunks; item += blockDim.x) {
            int k = item % H, r0 = (item / H) * NBGRAD_ROWS;
            T acc[NBGRAD_ROWS];
            const T* rows[NBGRAD_ROWS];
            for (int j = 0; j < NBGRAD_ROWS; ++j) {
                acc[j] = 0;   // (rows past B repeat the last row: their sums are never stored)
                rows[j] = d + (row0 + (r0 + j < B ? r0 + j : B - 1)) * G;
            }
            for (int q = 0; q < G; ++q) {
                T wv = w[(long long)q * H + k];
                for (int j = 0; j < NBGRAD_ROWS; ++j) acc[j] += wv * rows[j][q];
            }
            for (int j = 0; j < NBGRAD_ROWS && r0 + j < B; ++j) carry[(r0 + j) * H + k] = acc[j];
        }
        __syncthreads();
    }
    for (int k = threadIdx.x; k < B * H; k += blockDim.x) gh0[k] = carry[k];
}
'''
KERNELS = KernelFamily('LSTM layer', 'the LSTM steps through time with one launch a step')


def usable(xp, dtype, batch, hidden):
    """Whether one block runs this layer: CuPy float32/float64 arrays, the batch's h (padded to
    whole ROWS) within the shared buffer, a step's product small enough for one
    multiprocessor."""
    padded = -(-batch // ROWS) * ROWS
    return (KERNELS.available(xp, dtype) and batch > 0 and
            padded * hidden * np.dtype(dtype).itemsize <= SHARED_BYTES and
            4 * batch * hidden * hidden <= MAX_STEP_PRODUCT)


def _threads(hidden):
    """A warp multiple covering the 4H gate columns, within a block's 1024 threads."""
    return min(1024, -(-4 * hidden // 32) * 32)


def forward(xp, xg, w_hh, h0, c0, s, g, c_prev, tc, out, reverse):
    """Every step of the layer: saved activations into s, g, c_prev, tc (_lstm_cuda's layout),
    each step's h into out; returns the final c, or None if the kernel is unavailable."""
    batch, hidden = c0.shape
    steps = xg.shape[0] // batch
    c = xp.empty_like(c0)
    w_t = xp.ascontiguousarray(w_hh.T)
    done = KERNELS.launch(
        xp, 'nbgrad_lstm_sequence_forward', SIGMOID + _FORWARD, c.dtype, 1,
        (xp.ascontiguousarray(xg), w_t, xp.ascontiguousarray(h0), xp.ascontiguousarray(c0), s,
         g, c_prev, tc, out, c, np.int32(steps), np.int32(batch), np.int32(hidden),
         np.int32(reverse)), threads=_threads(hidden))
    return c if done else None


def backward(xp, g_out, gh_last, gc_last, w_hh, s, g, tc, c_prev, d, reverse):
    """Backpropagation through every step: the gates' gradients into d; returns the gradients
    of h0 and c0, or None if the kernel is unavailable."""
    batch, hidden = gh_last.shape
    steps = g_out.shape[0] // batch
    gh0, gc = xp.empty_like(gh_last), xp.empty_like(gh_last)
    done = KERNELS.launch(
        xp, 'nbgrad_lstm_sequence_backward', _BACKWARD, gh0.dtype, 1,
        (xp.ascontiguousarray(g_out), xp.ascontiguousarray(gh_last),
         xp.ascontiguousarray(gc_last), xp.ascontiguousarray(w_hh), s, g, tc, c_prev, d, gh0,
         gc, np.int32(steps), np.int32(batch), np.int32(hidden), np.int32(reverse)),
        threads=_threads(hidden))
    return (gh0, gc) if done else None
