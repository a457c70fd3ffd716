"""A plain GRU layer's time loop on CUDA with one kernel launch per step, forward and backward:
_lstm_sequence_cuda's design for the GRU cell (see there for why). A block per tile of (batch
rows, hidden units) computes its units' three products with the previous h (plus b_hh, which
sits inside r * (W_hn h + b_hn) and so cannot join the input projection), then a thread per
(row, unit) runs the cell (_gru_cuda.CELL, the per-step kernels' formulas). The backward's tile
carries the h gradient from the previous launch's gate gradients (dh @ W_hh, plus the path
straight through z), then writes its gate gradients. The saved activations are _gru_cuda's (rz, hn, n), so either path
can run the backward; the layer then takes W_hh's and b_hh's gradients from dh in one product.

Plain (uniform) batches whose step product is small enough (usable()); packed batches and larger
layers step the general way. Results equal the general path's to rounding.
"""
import numpy as np

from ..._cuda_kernels import LAYER_STEP, KernelFamily, launch_per_step, layer_steps_fit
from ._gru_cuda import CELL

# rows are time-major: step t's batch row r is row t * B + r of xg, dx, dh (3H wide: the gates'
# thirds r, z, n), of rz (2H wide) and of hn, n, h_prev, out (H wide)
_FORWARD = LAYER_STEP + CELL + r'''
extern "C" __global__ void nbgrad_gru_step_forward(
        const T* xg, const T* w_t, const T* bias, const T* h0, T* rz, T* hn, T* n_out, T* out,
        int has_bias, long long row0, long long prev_row0, int B, int H) {
    __shared__ T sums[NBGRAD_TILE_SUMS(3)];
    const long long G = 3 * (long long)H;
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        nbgrad_tile_product<3>(t, nbgrad_previous_h(h0, out, prev_row0, t.r0, H), H, H, w_t, G,
                               H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const int pair = threadIdx.x;
            T ar = nbgrad_tile_total<3>(sums, pair, 0), az = nbgrad_tile_total<3>(sums, pair, 1),
              an = nbgrad_tile_total<3>(sums, pair, 2);
            if (has_bias) { ar += bias[j]; az += bias[H + j]; an += bias[2 * H + j]; }
            const long long row = row0 + r, gate = row * G + j, e = row * H + j;
            nbgrad_gru_cell(xg[gate], xg[gate + H], xg[gate + 2 * H], ar, az, an,
                            nbgrad_previous_h(h0, out, prev_row0, r, H)[j], row * 2 * H + j, e,
                            H, rz, hn, n_out, out + e);
        }
        __syncthreads();    // sums is read: the next tile may write it
    }
}
'''

_BACKWARD = LAYER_STEP + CELL + r'''
extern "C" __global__ void nbgrad_gru_step_backward(
        const T* g_out, const T* gh_last, const T* w, const T* rz, const T* n_in, const T* hn,
        const T* h_prev, T* dx, T* dh, T* direct, long long row0, long long next_row0, int B,
        int H) {
    // the carried h gradient: the following step's dh @ W_hh plus its straight path `direct`
    __shared__ T sums[NBGRAD_TILE_SUMS(1)];
    const long long G = 3 * (long long)H;
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        if (next_row0 >= 0)
            nbgrad_tile_product<1>(t, dh + (next_row0 + t.r0) * G, G, G, w, H, H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const long long k = r * H + j, row = row0 + r, gate = row * G + j, e = row * H + j;
            const T carry = next_row0 >= 0
                ? nbgrad_tile_total<1>(sums, threadIdx.x, 0) + direct[k] : gh_last[k];
            direct[k] = nbgrad_gru_cell_backward(carry + g_out[e], h_prev[e], rz, n_in, hn,
                                                 gate, row * 2 * H + j, e, H, dx, dh);
        }
        __syncthreads();
    }
}
'''
KERNELS = KernelFamily('GRU layer', 'the GRU steps through time the general way')


def usable(xp, dtype, batch, hidden):
    return layer_steps_fit(KERNELS, xp, dtype, batch, hidden, 3)


def forward(xp, xg, w_hh, b_hh, h0, rz, hn, n, out, reverse):
    """Every step of the layer: saved activations into rz, hn, n (_gru_cuda's layout), each
    step's h into out; False if the kernel is unavailable (then nothing was written)."""
    batch, hidden = h0.shape
    w_t = xp.ascontiguousarray(w_hh.T)
    fixed = (xp.ascontiguousarray(xg), w_t, w_t if b_hh is None else xp.ascontiguousarray(b_hh),
             xp.ascontiguousarray(h0), rz, hn, n, out, np.int32(b_hh is not None))
    return launch_per_step(KERNELS, xp, 'nbgrad_gru_step_forward', _FORWARD, out.dtype, batch,
                           hidden, fixed, xg.shape[0] // batch, reverse) is not None


def backward(xp, g_out, gh_last, w_hh, rz, hn, n, h_prev, dx, dh, reverse):
    """Backpropagation through every step: the gates' gradients into dx and dh; returns the
    gradient of h0, or None if the kernel is unavailable (then nothing was written)."""
    batch, hidden = gh_last.shape
    w = xp.ascontiguousarray(w_hh)
    direct = xp.empty_like(gh_last)     # the straight path of the step just done, (B, H)
    fixed = (xp.ascontiguousarray(g_out), xp.ascontiguousarray(gh_last), w, rz, n, hn, h_prev,
             dx, dh, direct)
    first = launch_per_step(KERNELS, xp, 'nbgrad_gru_step_backward', _BACKWARD, dx.dtype, batch,
                            hidden, fixed, g_out.shape[0] // batch, not reverse)
    if first is None:
        return None
    first = int(first)      # the forward's first step: its dh gives h0's gradient
    return xp.matmul(dh[first:first + batch], w) + direct
