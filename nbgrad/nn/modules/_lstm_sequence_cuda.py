"""A plain LSTM layer's time loop on CUDA with one kernel launch per step, forward and backward.

Stepping through time the general way (_rnn_sequence with _lstm_cuda), each step costs a CuPy
matmul for h @ W_hh^T and a pointwise kernel, plus the slicing of the step's rows: on an H200
that measured 112 us of host time a step, forward and backward (LSTM 64 -> 128, T=50, B=32:
11.2 ms, against cuDNN's 1.4 ms). Here one launch does a step's whole work, a block per tile
of (batch rows, hidden units) (_cuda_kernels.LAYER_STEP): its warps share the four gate
products of the tile's units with the previous h (rows of W_hh^T's quarters, read coalesced),
then a thread per (row, unit) adds them up and runs the cell's pointwise part, so no block waits
for another within a step: the launch boundary is the only synchronisation. The backward's tile
computes the carried h gradient from the previous launch's gate gradients (d @ W_hh), then its
gate gradients. The saved activations are _lstm_cuda's, in the same layout, so either path can
run the backward.

An earlier design ran the whole time loop in one block (no launch per step) and measured 8.5 ms
on the H200: one multiprocessor's instruction rate bounds it.

It serves plain (uniform) batches without projection whose step product is small enough
(usable() says when); larger layers, packed batches and projected
LSTMs step the general way. Results equal the general path's to rounding (the products sum in
another order than cuBLAS's).
"""

from ..._cuda_kernels import LAYER_STEP, KernelFamily, launch_per_step, layer_steps_fit
from ._lstm_cuda import CELL

# rows are time-major: step t's batch row r is row t * B + r of xg, s, d (4H wide: the gates'
# quarters i, f, g, o) and of g, c_prev, tc, out (H wide)
_FORWARD = LAYER_STEP + CELL + r'''
extern "C" __global__ void nbgrad_lstm_step_forward(
        const T* xg, const T* w_t, const T* h0, T* c, T* s, T* g, T* c_prev, T* tc, T* out,
        long long row0, long long prev_row0, int B, int H) {
    __shared__ T sums[NBGRAD_TILE_SUMS(4)];
    const long long G = 4 * (long long)H;
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        // the gates' products with the previous h: its rows against W_hh^T's four quarters
        nbgrad_tile_product<4>(t, nbgrad_previous_h(h0, out, prev_row0, t.r0, H), H, H, w_t, G,
                               H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const int pair = threadIdx.x;
            const long long gate = (row0 + r) * G + j, e = (row0 + r) * H + j, k = r * H + j;
            nbgrad_lstm_cell(xg[gate] + nbgrad_tile_total<4>(sums, pair, 0),
                             xg[gate + H] + nbgrad_tile_total<4>(sums, pair, 1),
                             xg[gate + 2 * H] + nbgrad_tile_total<4>(sums, pair, 2),
                             xg[gate + 3 * H] + nbgrad_tile_total<4>(sums, pair, 3), c[k], gate,
                             e, H, s, g, c_prev, tc, c + k, out + e);
        }
        __syncthreads();    // sums is read: the next tile may write it
    }
}
'''

_BACKWARD = LAYER_STEP + CELL + r'''
extern "C" __global__ void nbgrad_lstm_step_backward(
        const T* g_out, const T* gh_last, const T* w, const T* s, const T* g, const T* tc,
        const T* c_prev, T* d, T* gc, long long row0, long long next_row0, int B, int H) {
    __shared__ T sums[NBGRAD_TILE_SUMS(1)];
    const long long G = 4 * (long long)H;
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        // the carried h gradient: the following step's gate gradients against W_hh (none at
        // the last step, which carries gh_last)
        if (next_row0 >= 0)
            nbgrad_tile_product<1>(t, d + (next_row0 + t.r0) * G, G, G, w, H, H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const long long k = r * H + j, gate = (row0 + r) * G + j, e = (row0 + r) * H + j;
            const T carry = next_row0 >= 0 ? nbgrad_tile_total<1>(sums, threadIdx.x, 0)
                                           : gh_last[k];
            gc[k] = nbgrad_lstm_cell_backward(carry + g_out[e], gc[k], s, g, tc, c_prev, gate,
                                              e, H, d);
        }
        __syncthreads();
    }
}
'''
KERNELS = KernelFamily('LSTM layer', 'the LSTM steps through time the general way')


def usable(xp, dtype, batch, hidden):
    return layer_steps_fit(KERNELS, xp, dtype, batch, hidden, 4)


def forward(xp, xg, w_hh, h0, c0, s, g, c_prev, tc, out, reverse):
    """Every step of the layer: saved activations into s, g, c_prev, tc (_lstm_cuda's layout),
    each step's h into out; returns the final c, or None if the kernel is unavailable (then
    nothing was written)."""
    batch, hidden = c0.shape
    c = xp.array(c0, order='C', copy=True)          # the running cell state
    fixed = (xp.ascontiguousarray(xg), xp.ascontiguousarray(w_hh.T), xp.ascontiguousarray(h0),
             c, s, g, c_prev, tc, out)
    last = launch_per_step(KERNELS, xp, 'nbgrad_lstm_step_forward', _FORWARD, c.dtype, batch,
                           hidden, fixed, xg.shape[0] // batch, reverse)
    return None if last is None else c


def backward(xp, g_out, gh_last, gc_last, w_hh, s, g, tc, c_prev, d, reverse):
    """Backpropagation through every step: the gates' gradients into d; returns the gradients
    of h0 and c0, or None if the kernel is unavailable (then nothing was written)."""
    batch, hidden = gh_last.shape
    gc = xp.array(gc_last, order='C', copy=True)     # the running c gradient
    w = xp.ascontiguousarray(w_hh)
    fixed = (xp.ascontiguousarray(g_out), xp.ascontiguousarray(gh_last), w, s, g, tc, c_prev,
             d, gc)
    first = launch_per_step(KERNELS, xp, 'nbgrad_lstm_step_backward', _BACKWARD, gc.dtype,
                            batch, hidden, fixed, g_out.shape[0] // batch, not reverse)
    if first is None:
        return None
    first = int(first)      # the forward's first step: its gate gradients give h0's
    return xp.matmul(d[first:first + batch], w), gc
