"""The GRU cell's pointwise work on CUDA as one kernel launch per step forward and one backward,
where the array formulas of _rnn_sequence._GRUCell take a dozen CuPy launches each. The formulas
are _GRUCell's, element by element: r, z = sigmoid(x + h) (through tanh), n = tanh(x_n + r h_n),
h' = (1 - z) n + z h. A compiler that refuses the kernels is warned about once, and the cell
keeps its array formulas (same numbers, more launches).
"""
import numpy as np

from ..._cuda_kernels import SIGMOID, KernelFamily

# one thread per (row, unit j): gates at row * 3H + q * H + j, r and z at row * 2H + q * H + j,
# everything else at row * H + j
_FORWARD = r'''
extern "C" __global__ void nbgrad_gru_forward(
        const T* xg, const T* hg, const T* h_prev, T* rz, T* hn, T* n_out, T* h,
        long long count, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < count; k += stride) {
        long long row = k / H, j = k % H, gate = row * 3 * H + j, pair = row * 2 * H + j;
        T r = nbgrad_sigmoid(xg[gate] + hg[gate]);
        T z = nbgrad_sigmoid(xg[gate + H] + hg[gate + H]);
        T hv = hg[gate + 2 * H];
        T nv = tanh(xg[gate + 2 * H] + r * hv);
        rz[pair] = r; rz[pair + H] = z; hn[k] = hv; n_out[k] = nv;
        h[k] = ((T)1 - z) * nv + z * h_prev[k];
    }
}
'''

_BACKWARD = r'''
extern "C" __global__ void nbgrad_gru_backward(
        const T* gh, const T* rz, const T* n_in, const T* hn, const T* h_prev, T* dx, T* dh,
        T* direct, long long count, int H) {
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < count; k += stride) {
        long long row = k / H, j = k % H, gate = row * 3 * H + j, pair = row * 2 * H + j;
        T r = rz[pair], z = rz[pair + H], nv = n_in[k], g = gh[k];
        T d_n = g * ((T)1 - z) * ((T)1 - nv * nv);
        T d_z = g * (h_prev[k] - nv) * z * ((T)1 - z);
        T d_r = d_n * hn[k] * r * ((T)1 - r);
        dx[gate] = d_r; dx[gate + H] = d_z; dx[gate + 2 * H] = d_n;
        dh[gate] = d_r; dh[gate + H] = d_z; dh[gate + 2 * H] = d_n * r;
        direct[k] = g * z;   // h' = ... + z * h: the path straight to the previous h
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
    return KERNELS.launch(xp, 'nbgrad_gru_forward', SIGMOID + _FORWARD, h.dtype, rows * hidden,
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
