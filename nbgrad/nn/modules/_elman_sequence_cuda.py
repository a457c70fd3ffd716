"""A plain Elman RNN layer (tanh or relu) on CUDA with one kernel launch per step, forward and
backward: _lstm_sequence_cuda's design for h' = act(x W_ih^T + h W_hh^T + b), where stepping the
general way took a CuPy matmul and three more CuPy launches a step. A block per tile of
(batch rows, hidden units) computes its units' product with the previous h, then a thread per
(row, unit) the activation (b_hh is in the input projection: run_layers folds it there); the
backward's tile carries the h gradient from the previous launch's pre-activation gradients
(d @ W_hh), then multiplies in the activation's slope. The saved activations are _rnn_sequence._ElmanCell's (y), so either path can run the
backward. The formulas are _ElmanCell's: relu as NumPy's maximum(v, 0), NaN kept, and its slope
1 where y > 0; tanh's slope 1 - y^2.

Plain (uniform) batches whose step product is small enough (usable()); packed batches and larger
layers step the general way. Results equal the general path's to rounding.
"""
import numpy as np

from ..._cuda_kernels import LAYER_STEP, KernelFamily, launch_per_step, layer_steps_fit

# rows are time-major: step t's batch row r is row t * B + r of xg, y, out and d (all H wide)
_FORWARD = LAYER_STEP + r'''
extern "C" __global__ void nbgrad_elman_step_forward(
        const T* xg, const T* w_t, const T* h0, T* y, T* out, int relu, long long row0,
        long long prev_row0, int B, int H) {
    __shared__ T sums[NBGRAD_TILE_SUMS(1)];
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        nbgrad_tile_product<1>(t, nbgrad_previous_h(h0, out, prev_row0, t.r0, H), H, H, w_t, H,
                               H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const long long e = (row0 + r) * H + j;
            const T v = xg[e] + nbgrad_tile_total<1>(sums, threadIdx.x, 0);
            const T yv = relu ? (v != v || v > (T)0 ? v : (T)0) : tanh(v);
            y[e] = yv;
            out[e] = yv;
        }
        __syncthreads();    // sums is read: the next tile may write it
    }
}
'''

_BACKWARD = LAYER_STEP + r'''
extern "C" __global__ void nbgrad_elman_step_backward(
        const T* g_out, const T* gh_last, const T* w, const T* y, T* d, int relu,
        long long row0, long long next_row0, int B, int H) {
    __shared__ T sums[NBGRAD_TILE_SUMS(1)];
    NBGRAD_FOR_EACH_TILE(tile, B, H) {
        const NbgradTile t = nbgrad_tile(tile, B, H);
        if (next_row0 >= 0)
            nbgrad_tile_product<1>(t, d + (next_row0 + t.r0) * H, H, H, w, H, H, sums);
        long long r;
        int j;
        if (nbgrad_tile_pair(t, B, H, &r, &j)) {
            const long long e = (row0 + r) * H + j;
            const T gh = (next_row0 >= 0 ? nbgrad_tile_total<1>(sums, threadIdx.x, 0)
                                         : gh_last[r * H + j]) + g_out[e];
            const T yv = y[e];
            d[e] = relu ? gh * (yv > (T)0 ? (T)1 : (T)0) : gh * ((T)1 - yv * yv);
        }
        __syncthreads();
    }
}
'''
KERNELS = KernelFamily('RNN layer', 'the RNN steps through time the general way')


def usable(xp, dtype, batch, hidden):
    return layer_steps_fit(KERNELS, xp, dtype, batch, hidden, 1)


def forward(xp, xg, w_hh, h0, y, out, relu, reverse):
    """Every step of the layer: activations into y, each step's h into out; False if the kernel
    is unavailable (then nothing was written)."""
    batch, hidden = h0.shape
    fixed = (xp.ascontiguousarray(xg), xp.ascontiguousarray(w_hh.T), xp.ascontiguousarray(h0),
             y, out, np.int32(relu))
    return launch_per_step(KERNELS, xp, 'nbgrad_elman_step_forward', _FORWARD, out.dtype, batch,
                           hidden, fixed, xg.shape[0] // batch, reverse) is not None


def backward(xp, g_out, gh_last, w_hh, y, d, relu, reverse):
    """Backpropagation through every step: the pre-activations' gradients into d; returns the
    gradient of h0, or None if the kernel is unavailable (then nothing was written)."""
    batch, hidden = gh_last.shape
    w = xp.ascontiguousarray(w_hh)
    fixed = (xp.ascontiguousarray(g_out), xp.ascontiguousarray(gh_last), w, y, d,
             np.int32(relu))
    first = launch_per_step(KERNELS, xp, 'nbgrad_elman_step_backward', _BACKWARD, d.dtype, batch,
                            hidden, fixed, g_out.shape[0] // batch, not reverse)
    if first is None:
        return None
    first = int(first)      # the forward's first step: its gradient gives h0's
    return xp.matmul(d[first:first + batch], w)
