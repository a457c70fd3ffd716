"""A plain LSTM layer's time loop on CUDA with one kernel launch per step, forward and backward.

Stepping through time the general way (_rnn_sequence with _lstm_cuda), each step costs a CuPy
matmul for h @ W_hh^T and a pointwise kernel, plus the slicing of the step's rows: on an H200
that measured 112 us of host time a step, forward and backward (LSTM 64 -> 128, T=50, B=32:
11.2 ms, against cuDNN's 1.4 ms). Here one launch does a step's whole work: a thread per
(batch row, hidden unit) computes its unit's four gate pre-activations (the row of the previous
h, read by the warp at once, against four columns of W_hh^T, read coalesced), then the cell's
pointwise part, so no block waits for another within a step: the launch boundary is the only
synchronisation. The backward's thread computes its unit's part of the carried h gradient from
the previous launch's gate gradients (d @ W_hh), then its gate gradients. The saved activations
are _lstm_cuda's, in the same layout, so either path can run the backward.

An earlier design ran the whole time loop in one block (no launch per step) and measured 8.5 ms
on the H200: one multiprocessor's instruction rate bounds it.

It serves plain (uniform) batches without projection whose step product is small enough for
these unblocked dot products (usable() says when); larger layers, packed batches and projected
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
    const long long G = 4 * (long long)H;
    NBGRAD_FOR_EACH_ROW_AND_UNIT(k, r, j, B, H) {
        const T* hp = nbgrad_previous_h(h0, out, prev_row0, r, H);
        T ai = 0, af = 0, ag = 0, ao = 0;
        #pragma unroll 8
        for (int m = 0; m < H; ++m) {
            T hv = hp[m];
            const T* w = w_t + m * G;
            ai += hv * w[j]; af += hv * w[H + j]; ag += hv * w[2 * H + j]; ao += hv * w[3 * H + j];
        }
        long long gate = (row0 + r) * G + j, e = (row0 + r) * H + j;
        nbgrad_lstm_cell(xg[gate] + ai, xg[gate + H] + af, xg[gate + 2 * H] + ag,
                         xg[gate + 3 * H] + ao, c[k], gate, e, H, s, g, c_prev, tc, c + k,
                         out + e);
    }
}
'''

_BACKWARD = LAYER_STEP + CELL + r'''
extern "C" __global__ void nbgrad_lstm_step_backward(
        const T* g_out, const T* gh_last, const T* w, const T* s, const T* g, const T* tc,
        const T* c_prev, T* d, T* gc, long long row0, long long next_row0, int B, int H) {
    const long long G = 4 * (long long)H;
    NBGRAD_FOR_EACH_ROW_AND_UNIT(k, r, j, B, H) {
        T carry = nbgrad_carried(d, w, gh_last, next_row0, r, j, G, H);
        long long gate = (row0 + r) * G + j, e = (row0 + r) * H + j;
        gc[k] = nbgrad_lstm_cell_backward(carry + g_out[e], gc[k], s, g, tc, c_prev, gate, e, H,
                                          d);
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
