"""The GRU cell's pointwise work on CUDA as one kernel launch per step forward and one backward,
where the array formulas of _rnn_sequence._GRUCell take a dozen CuPy launches each. The formulas
are _GRUCell's, element by element: r, z = sigmoid(x + h) (through tanh), n = tanh(x_n + r h_n),
h' = (1 - z) n + z h. A compiler that refuses the kernels is warned about once, and the cell
keeps its array formulas (same numbers, more launches).
"""
import numpy as np

from ..._cuda_kernels import SIGMOID, KernelFamily

# The cell's formulas for one (batch row, hidden unit) element, shared with the layer kernels of
# _gru_sequence_cuda: `gate` indexes the row's r gate of the unit in 3H-wide arrays (z and n
# follow H and 2H further), `pair` its r in rz (z H further), `e` the unit in H-wide arrays.
CELL = SIGMOID + r'''
__device__ __forceinline__ void nbgrad_gru_cell(
        T xr, T xz, T xn, T hr, T hz, T hn_v, T hp, long long pair, long long e, int H, T* rz,
        T* hn, T* n_out, T* h) {
    // x*: the input projections, h*: W_h h + b_h of the gates; hp: the previous h
    T r = nbgrad_sigmoid(xr + hr);
    T z = nbgrad_sigmoid(xz + hz);
    T nv = tanh(xn + r * hn_v);
    rz[pair] = r; rz[pair + H] = z; hn[e] = hn_v; n_out[e] = nv;
    *h = ((T)1 - z) * nv + z * hp;
}
__device__ __forceinline__ T nbgrad_gru_cell_backward(
        T g, T hp, const T* rz, const T* n_in, const T* hn, long long gate, long long pair,
        long long e, int H, T* dx, T* dh) {
    // the gates' gradients into dx (for x's projection) and dh (for W_h h + b_h); returns the
    // part of the previous h's gradient that flows straight to it (h' = ... + z h)
    T r = rz[pair], z = rz[pair + H], nv = n_in[e];
    T d_n = g * ((T)1 - z) * ((T)1 - nv * nv);
    T d_z = g * (hp - nv) * z * ((T)1 - z);
    T d_r = d_n * hn[e] * r * ((T)1 - r);
    dx[gate] = d_r; dx[gate + H] = d_z; dx[gate + 2 * H] = d_n;
    dh[gate] = d_r; dh[gate + H] = d_z; dh[gate + 2 * H] = d_n * r;
    return g * z;
}
'''

# one thread per (row, unit j)
_FORWARD = CELL + r'''
extern "C" __global__ void nbgrad_gru_forward(
        const T* xg, const T* hg, const T* h_prev, T* rz, T* hn, T* n_out, T* h,
        long long count, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < count; k += stride) {
        long long row = k / H, j = k % H, gate = row * 3 * H + j, pair = row * 2 * H + j;
        nbgrad_gru_cell(xg[gate], xg[gate + H], xg[gate + 2 * H], hg[gate], hg[gate + H],
                        hg[gate + 2 * H], h_prev[k], pair, k, H, rz, hn, n_out, h + k);
    }
}
'''

_BACKWARD = CELL + r'''
extern "C" __global__ void nbgrad_gru_backward(
        const T* gh, const T* rz, const T* n_in, const T* hn, const T* h_prev, T* dx, T* dh,
        T* direct, long long count, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < count; k += stride) {
        long long row = k / H, j = k % H, gate = row * 3 * H + j, pair = row * 2 * H + j;
        direct[k] = nbgrad_gru_cell_backward(gh[k], h_prev[k], rz, n_in, hn, gate, pair, k, H,
                                             dx, dh);
    }
}
'''
KERNELS = KernelFamily('GRU cell')


def usable(xp, dtype):
    """Whether these kernels serve arrays of this module and dtype."""
    return KERNELS.available(xp, dtype)


def forward(xp, xg, hg, h_prev, rz, hn, n, h):
    """One step into the given C-contiguous arrays; False if the kernel is unavailable."""
    rows, hidden = h.shape
    return KERNELS.launch(xp, 'nbgrad_gru_forward', _FORWARD, h.dtype, rows * hidden,
                          (xg, hg, h_prev, rz, hn, n, h, np.int64(rows * hidden),
                           np.int32(hidden)))


def backward(xp, gh, rz, n, hn, h_prev, dx, dh):
    """One step's gate gradients into dx and dh; returns the gradient that flows straight to
    the previous h (gh * z), or None if the kernel is unavailable."""
    direct = xp.empty_like(gh)
    rows, hidden = gh.shape
    done = KERNELS.launch(xp, 'nbgrad_gru_backward', _BACKWARD, gh.dtype, rows * hidden,
                          (gh, rz, n, hn, h_prev, dx, dh, direct, np.int64(rows * hidden),
                           np.int32(hidden)))
    return direct if done else None
