"""The LSTM cell's pointwise work on CUDA as one kernel launch per step and direction (forward)
and one per step (backward), where the array formulas of _rnn_sequence take a dozen CuPy
launches each: on a GPU the per-launch host time, not the arithmetic, is what a small recurrent
step costs. The backward kernel also adds the two parts of the h gradient (carried and from the
output), and the forward one writes h straight into the layer's output. The formulas are
_rnn_sequence._LSTMCell's, element by element (the sigmoid through tanh, as there). A compiler that refuses the kernels is warned about once, and the cell keeps
its array formulas (same numbers, more launches).
"""
import numpy as np

from ..._cuda_kernels import SIGMOID, KernelFamily

# The cell's formulas for one (batch row, hidden unit) element, shared with the layer kernels of
# _lstm_sequence_cuda: `gate` indexes the row's i gate of the unit in s and d (f, g and o follow
# H, 2H and 3H further), `e` the unit in the H-wide arrays g, c_prev and tc.
CELL = SIGMOID + r'''
__device__ __forceinline__ void nbgrad_lstm_cell(
        T pi, T pf, T pg, T po, T cp, long long gate, long long e, int H, T* s, T* g,
        T* c_prev, T* tc, T* c_next, T* h) {
    // pi..po: the gates' pre-activations; cp: the cell state coming in
    T si = nbgrad_sigmoid(pi), sf = nbgrad_sigmoid(pf), tg = tanh(pg), so = nbgrad_sigmoid(po);
    s[gate] = si; s[gate + H] = sf; s[gate + 2 * H] = (T)0; s[gate + 3 * H] = so;
    T cn = sf * cp + si * tg;
    T t = tanh(cn);
    g[e] = tg; c_prev[e] = cp; tc[e] = t; *c_next = cn; *h = so * t;
}
__device__ __forceinline__ T nbgrad_lstm_cell_backward(
        T h_grad, T gc_next, const T* s, const T* g, const T* tc, const T* c_prev,
        long long gate, long long e, int H, T* d) {
    // the gates' gradients into d; returns the c gradient into the step before
    T i = s[gate], f = s[gate + H], o = s[gate + 3 * H];
    T tg = g[e], t = tc[e];
    T gc = h_grad * o * ((T)1 - t * t) + gc_next;
    d[gate] = gc * tg * (i * ((T)1 - i));
    d[gate + H] = gc * c_prev[e] * (f * ((T)1 - f));
    d[gate + 2 * H] = gc * i * ((T)1 - tg * tg);
    d[gate + 3 * H] = h_grad * t * (o * ((T)1 - o));
    return gc * f;
}
'''

# one thread per (row r, unit j): gates at r * 4H + q * H + j, everything else at r * H + j
_FORWARD = CELL + r'''
extern "C" __global__ void nbgrad_lstm_forward(
        const T* xg, const T* hg, const T* c_prev, T* s, T* g, T* c_prev_kept, T* tc, T* c,
        T* h, long long n, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        long long gate = (k / H) * 4 * H + k % H;
        nbgrad_lstm_cell(xg[gate] + hg[gate], xg[gate + H] + hg[gate + H],
                         xg[gate + 2 * H] + hg[gate + 2 * H], xg[gate + 3 * H] + hg[gate + 3 * H],
                         c_prev[k], gate, k, H, s, g, c_prev_kept, tc, c + k, h + k);
    }
}
'''

_BACKWARD = CELL + r'''
extern "C" __global__ void nbgrad_lstm_backward(
        const T* gh_carry, const T* gh_out, const T* gc_next, const T* s, const T* g,
        const T* tc, const T* c_prev, T* d, T* gc_prev, long long n, int H) {
    // the step's h gradient is the carried one plus the output's: gh_carry + gh_out
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        long long gate = (k / H) * 4 * H + k % H;
        gc_prev[k] = nbgrad_lstm_cell_backward(gh_carry[k] + gh_out[k], gc_next[k], s, g, tc,
                                               c_prev, gate, k, H, d);
    }
}
'''
KERNELS = KernelFamily('LSTM cell')


def usable(xp, dtype):
    """Whether these kernels serve arrays of this module and dtype."""
    return KERNELS.available(xp, dtype)


def forward(xp, xg, hg, c_prev, s, g, c_prev_kept, tc, h):
    """One step's gates, c' and h = o * tanh(c') into the given arrays (all C-contiguous, rows
    of 4H or H); returns c', or None if the kernel is unavailable (nothing written)."""
    c = xp.empty_like(c_prev)
    rows, hidden = c_prev.shape
    done = KERNELS.launch(xp, 'nbgrad_lstm_forward', _FORWARD, c.dtype,
                          rows * hidden, (xg, hg, c_prev, s, g, c_prev_kept, tc, c, h,
                                          np.int64(rows * hidden), np.int32(hidden)))
    return c if done else None


def backward(xp, gh_carry, gh_out, gc_next, s, g, tc, c_prev, d):
    """One step's gate gradients into d, the step's h gradient being gh_carry + gh_out; returns
    the c gradient into the previous step, or None if the kernel is unavailable (nothing
    written)."""
    gc_prev = xp.empty_like(gc_next)
    rows, hidden = gc_next.shape
    done = KERNELS.launch(xp, 'nbgrad_lstm_backward', _BACKWARD, gc_prev.dtype, rows * hidden,
                          (gh_carry, gh_out, gc_next, s, g, tc, c_prev, d, gc_prev,
                           np.int64(rows * hidden), np.int32(hidden)))
    return gc_prev if done else None
