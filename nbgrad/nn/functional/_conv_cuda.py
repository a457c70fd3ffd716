"""Convolutions on CUDA as plain 2-d matrix products over one kernel-written im2col operand.

On NumPy (_im2col) the operand comes from a zero-padded copy of the input and a strided copy of
its windows, laid out (N, C*K, L) (K = kernel volume, L = output positions), and one batched
matmul over the images. On a GPU those are three launches, the window copy a generic strided
one, and the batched product a batch of small GEMMs followed (for the weight's gradient) by a sum
over the batch. Here one kernel writes the operand as COLS: (C*K, N*L), reading the input with
the padding as bounds checks, so that every product is a single large GEMM per group:
    forward          y (O, N*L)        = w (O, C*K) @ cols
    weight gradient  gw (O, C*K)       = g (O, N*L) @ cols.T
    input gradient   cols (C*K, N*L)   = w.T @ g (O, N*L), summed back into the image by a second
                     kernel (col2im): one thread per input element gathers its kernel offsets in a
                     fixed order, so no atomics and the same bits every run.
(with groups, each product is batched over the groups). `pads` are the low pads per dim; a
negative one crops, as in _im2col.pad_constant. Float32 and float64, 1 to 3 spatial dims; a
compiler that refuses the kernels is warned about once and _im2col's array formulas run instead.
"""
import functools
import math

import numpy as np

from ..._cuda_kernels import KernelFamily, MAX_BLOCKS, THREADS

# the geometry as 3-d (leading dims of size 1): input size, output size, kernel, stride, low
# padding, dilation
_GEOMETRY = ('long long n_in0, long long n_in1, long long n_in2, long long n_out0, '
             'long long n_out1, long long n_out2, long long k0, long long k1, long long k2, '
             'long long s0, long long s1, long long s2, long long p0, long long p1, long long p2, '
             'long long d0, long long d1, long long d2')

# Inside the kernels, index arithmetic runs in I: 32-bit int when every index fits (64-bit
# integer division is emulated on GPUs, several times the cost of a 32-bit one, and these kernels
# divide a few times per element), else long long (_with_index_type). The arguments stay 64-bit.
_IM2COL = r'''
extern "C" __global__ void nbgrad_im2col(
        const T* x, T* cols, long long batch_, long long channels_, ''' + _GEOMETRY + r''') {
    // one thread per (channel, image, output position): it writes that position's column entry
    // for every kernel offset (threads side by side write side by side)
    const I batch = batch_, channels = channels_, out1 = n_out1, out2 = n_out2;
    const I in0 = n_in0, in1 = n_in1, in2 = n_in2;
    const I positions = n_out0 * n_out1 * n_out2, volume = k0 * k1 * k2;
    const I total = channels * batch * positions, stride = blockDim.x * gridDim.x;
    for (I item = blockIdx.x * blockDim.x + threadIdx.x; item < total; item += stride) {
        I l = item % positions, cn = item / positions;
        I n = cn % batch, c = cn / batch;
        I o0 = l / (out1 * out2), o1 = (l / out2) % out1, o2 = l % out2;
        const T* image = x + (n * channels + c) * in0 * in1 * in2;
        T* out = cols + (c * volume * batch + n) * positions + l;
        I kk = 0;
        for (I a = 0; a < k0; ++a) {
            I i0 = o0 * s0 - p0 + a * d0;
            for (I b = 0; b < k1; ++b) {
                I i1 = o1 * s1 - p1 + b * d1;
                for (I e = 0; e < k2; ++e, ++kk) {
                    I i2 = o2 * s2 - p2 + e * d2;
                    bool inside = i0 >= 0 && i0 < in0 && i1 >= 0 && i1 < in1 &&
                                  i2 >= 0 && i2 < in2;
                    out[kk * batch * positions] = inside ? image[(i0 * in1 + i1) * in2 + i2] : (T)0;
                }
            }
        }
    }
}
'''

_COL2IM = r'''
extern "C" __global__ void nbgrad_col2im(
        const T* cols, T* x, long long batch_, long long channels_, ''' + _GEOMETRY + r''') {
    // one thread per input element: the sum of the column entries that read it, kernel offsets
    // in order (the entry of offset k comes from output o with o * s - p + k * d = i)
    const I batch = batch_, channels = channels_, in1 = n_in1, in2 = n_in2;
    const I out0 = n_out0, out1 = n_out1, out2 = n_out2;
    const I st0 = s0, st1 = s1, st2 = s2;
    const I positions = n_out0 * n_out1 * n_out2, volume = k0 * k1 * k2;
    const I plane = n_in0 * n_in1 * n_in2, total = batch * channels * plane;
    const I stride = blockDim.x * gridDim.x;
    for (I item = blockIdx.x * blockDim.x + threadIdx.x; item < total; item += stride) {
        I q = item % plane, nc = item / plane;
        I c = nc % channels, n = nc / channels;
        I i0 = q / (in1 * in2), i1 = (q / in2) % in1, i2 = q % in2;
        const T* column = cols + c * volume * batch * positions + n * positions;
        double sum = 0;
        I kk = 0;
        for (I a = 0; a < k0; ++a) {
            I t0 = i0 + p0 - a * d0;
            bool ok0 = t0 >= 0 && t0 % st0 == 0 && t0 / st0 < out0;
            for (I b = 0; b < k1; ++b) {
                I t1 = i1 + p1 - b * d1;
                bool ok1 = ok0 && t1 >= 0 && t1 % st1 == 0 && t1 / st1 < out1;
                for (I e = 0; e < k2; ++e, ++kk) {
                    I t2 = i2 + p2 - e * d2;
                    if (ok1 && t2 >= 0 && t2 % st2 == 0 && t2 / st2 < out2)
                        sum += (double)column[kk * batch * positions +
                                              ((t0 / st0) * out1 + t1 / st1) * out2 + t2 / st2];
                }
            }
        }
        x[item] = (T)sum;
    }
}
'''
# the most elements an array may have for 32-bit indices: a thread's last item plus the grid's
# stride must stay below 2^31
_INT32_ELEMENTS = 2 ** 31 - 1 - THREADS * MAX_BLOCKS


def _with_index_type(source, *arrays):
    return ('typedef int I;\n' if max(a.size for a in arrays) <= _INT32_ELEMENTS
            else 'typedef long long I;\n') + source


KERNELS = KernelFamily('convolution')


def usable(xp, *arrays):
    """Whether the kernels serve a convolution of these arrays (same float dtype, 1-3 spatial
    dims)."""
    dtype = arrays[0].dtype
    return (KERNELS.available(xp, dtype) and 3 <= arrays[0].ndim <= 5
            and all(a.dtype == dtype for a in arrays))


def _geometry(in_size, out_size, kernel, stride, low_pads, dilation):
    """The kernels' 18 geometry arguments (made once per geometry: a training loop asks for the
    same ones every step)."""
    return _geometry_arguments(*(tuple(int(x) for x in v) for v in (
        in_size, out_size, kernel, stride, low_pads, dilation)))


@functools.lru_cache(maxsize=256)
def _geometry_arguments(in_size, out_size, kernel, stride, low_pads, dilation):
    pad = 3 - len(in_size)
    columns = [(1,) * pad + tuple(in_size), (1,) * pad + tuple(out_size),
               (1,) * pad + tuple(kernel), (1,) * pad + tuple(stride),
               (0,) * pad + tuple(low_pads), (1,) * pad + tuple(dilation)]
    return tuple(np.int64(v) for column in columns for v in column)


def im2col(xp, x, kernel, stride, low_pads, dilation, out_size):
    """COLS (C*K, N*L) of x (N, C, *size), or None if the kernel is unavailable."""
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    cols = xp.empty((c * math.prod(kernel), n * math.prod(out_size)), x.dtype)
    if cols.size and not KERNELS.launch(
            xp, 'nbgrad_im2col', _with_index_type(_IM2COL, x, cols), x.dtype,
            c * n * math.prod(out_size),
            (x, cols, np.int64(n), np.int64(c))
            + _geometry(x.shape[2:], out_size, kernel, stride, low_pads, dilation)):
        return None
    return cols


def col2im(xp, cols, batch, channels, size, kernel, stride, low_pads, dilation, out_size):
    """The (N, C, *size) image whose elements sum the COLS entries that read them, or None if
    the kernel is unavailable."""
    image = xp.empty((batch, channels) + tuple(size), cols.dtype)
    if image.size and not KERNELS.launch(
            xp, 'nbgrad_col2im', _with_index_type(_COL2IM, cols, image), cols.dtype, image.size,
            (xp.ascontiguousarray(cols), image, np.int64(batch), np.int64(channels))
            + _geometry(size, out_size, kernel, stride, low_pads, dilation)):
        return None
    return image


def _by_group(a, groups):
    """A (rows, cols) matrix as (groups, rows / groups, cols)."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _matmul(xp, a, b):
    """a @ b over stacked groups (G, ., .): one plain 2-d GEMM when G is 1."""
    return xp.matmul(a[0], b[0])[None] if a.shape[0] == 1 else xp.matmul(a, b)


def conv_forward(xp, x, w, stride, pads, dilation, groups, out_size):
    """y (N, O, *out) = F(x, w), or None if the kernel is unavailable."""
    n, o = x.shape[0], w.shape[0]
    cols = im2col(xp, x, w.shape[2:], stride, [lo for lo, _ in pads], dilation, out_size)
    if cols is None:
        return None
    y = _matmul(xp, _by_group(w.reshape(o, -1), groups), _by_group(cols, groups))  # G, O/G, NL
    y = y.reshape(o, n, math.prod(out_size)).transpose(1, 0, 2)
    return xp.ascontiguousarray(y).reshape((n, o) + tuple(out_size))


def _channels_first(g):
    """g (N, O, *out) as (O, N*L), contiguous."""
    n, o = g.shape[:2]
    positions = math.prod(g.shape[2:])
    return g.reshape(n, o, positions).transpose(1, 0, 2).reshape(o, n * positions)


def conv_weight_grad(xp, x, g, stride, pads, dilation, groups, kernel):
    """The weight's gradient (O, C/groups, *kernel), or None if the kernel is unavailable."""
    o = g.shape[1]
    cols = im2col(xp, x, kernel, stride, [lo for lo, _ in pads], dilation, g.shape[2:])
    if cols is None:
        return None
    gw = _matmul(xp, _by_group(_channels_first(g), groups),
                 _by_group(cols, groups).transpose(0, 2, 1))         # (G, O/G, C/G*K)
    return gw.reshape((o, x.shape[1] // groups) + tuple(kernel))


def conv_input_grad(xp, g, w, stride, pads, dilation, groups, size):
    """The input's gradient (N, C, *size) of a convolution whose output gradient is g (the
    transposed convolution), or None if the kernel is unavailable."""
    n, o = g.shape[:2]
    kernel = w.shape[2:]
    c = w.shape[1] * groups
    w_t = _by_group(w.reshape(o, -1), groups).transpose(0, 2, 1)    # (G, C/G*K, O/G)
    cols = _matmul(xp, w_t, _by_group(_channels_first(g), groups))   # (G, C/G*K, N*L)
    cols = cols.reshape(c * math.prod(kernel), cols.shape[-1])
    return col2im(xp, cols, n, c, size, kernel, stride, [lo for lo, _ in pads], dilation,
                  g.shape[2:])
