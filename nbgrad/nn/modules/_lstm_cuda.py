"""The LSTM cell's pointwise work on CUDA as one kernel launch per step and direction (forward)
and one per step (backward), where the array formulas of _rnn_sequence take a dozen CuPy
launches each: on a GPU the per-launch host time, not the arithmetic, is what a small recurrent
step costs. The backward kernel also adds the two parts of the h gradient (carried and from the
output), and the forward one writes h straight into the layer's output. The formulas are _rnn_sequence._LSTMCell's, element by element (the sigmoid through
tanh, as there). A compiler that refuses the kernels is warned about once, and the cell keeps
its array formulas (same numbers, more launches).
"""
import numpy as np

from ..._cuda_kernels import SIGMOID, KernelFamily

# one thread per (row r, unit j): gates at r * 4H + q * H + j, everything else at r * H + j
_FORWARD = r'''
extern "C" __global__ void nbgrad_lstm_forward(
        const T* xg, const T* hg, const T* c_prev, T* s, T* g, T* c_prev_kept, T* tc, T* c,
        T* h, long long n, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        long long gate = (k / H) * 4 * H + k % H;
        T si = nbgrad_sigmoid(xg[gate] + hg[gate]);
        T sf = nbgrad_sigmoid(xg[gate + H] + hg[gate + H]);
        T tg = tanh(xg[gate + 2 * H] + hg[gate + 2 * H]);
        T so = nbgrad_sigmoid(xg[gate + 3 * H] + hg[gate + 3 * H]);
        s[gate] = si; s[gate + H] = sf; s[gate + 2 * H] = (T)0; s[gate + 3 * H] = so;
        T cp = c_prev[k];
        T cn = sf * cp + si * tg;
        T t = tanh(cn);
        g[k] = tg; c_prev_kept[k] = cp; tc[k] = t; c[k] = cn; h[k] = so * t;
    }
}
'''

_BACKWARD = r'''
extern "C" __global__ void nbgrad_lstm_backward(
        const T* gh_carry, const T* gh_out, const T* gc_next, const T* s, const T* g,
        const T* tc, const T* c_prev, T* d, T* gc_prev, long long n, int H) {
    // the step's h gradient is the carried one plus the output's: gh_carry + gh_out
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) {
        long long gate = (k / H) * 4 * H + k % H;
        T i = s[gate], f = s[gate + H], o = s[gate + 3 * H];
        T tg = g[k], t = tc[k], h_grad = gh_carry[k] + gh_out[k];
        T gc = h_grad * o * ((T)1 - t * t) + gc_next[k];
        d[gate] = gc * tg * (i * ((T)1 - i));
        d[gate + H] = gc * c_prev[k] * (f * ((T)1 - f));
        d[gate + 2 * H] = gc * i * ((T)1 - tg * tg);
        d[gate + 3 * H] = h_grad * t * (o * ((T)1 - o));
        gc_prev[k] = gc * f;
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
    done = KERNELS.launch(xp, 'nbgrad_lstm_forward', SIGMOID + _FORWARD, c.dtype,
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
