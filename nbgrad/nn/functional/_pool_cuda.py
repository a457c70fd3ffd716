"""Max and average pooling (sliding-window and adaptive, 1 to 3 pooled dims) on CUDA: one kernel
launch forward and one backward each, where the array formulas take a launch or two per window
offset (or copy every window into a row, take an argmax and fix up NaNs and padding in half a
dozen launches) and scatter the gradient with atomic adds.

Max forward: one thread per output scans its window in row-major order, skipping positions
outside the input (padding never competes), and keeps PyTorch's choice: the first maximum, or
the last NaN; a window of nothing but -inf keeps its first position inside the input, as
PyTorch's kernels start there. Average forward: the window's sum (double precision) over
PyTorch's divisor (the window clipped to the padded input, or to the input without
count_include_pad, or divisor_override; an adaptive window's own size). Backward, both: one
thread per input element adds up what the outputs whose windows reach it owe it, visiting them
in increasing order (max pooling: the outputs whose recorded maximum it is, in the order in which
PyTorch's CPU kernel adds them, so float32 sums agree bit for bit), with no atomics.
Float32 and float64 (other dtypes keep the array formulas); a compiler that refuses the kernels
is warned about once, and the array formulas are used.
"""
import functools

import numpy as np

from ..._cuda_kernels import KernelFamily

# A window along one dim, as (first position, step, count), for output o of a dim of input size
# n_in and output size n_out: a sliding window (kernel k, stride s, padding p, dilation d), or
# PyTorch's adaptive one [floor(o * n_in / n_out), ceil((o + 1) * n_in / n_out)).
# And the outputs [lo, hi] whose windows can hold input position i (a superset for dilated
# windows: the backward kernel checks the recorded index anyway).
_WINDOWS = r'''
struct nbgrad_pool_dim { long long n_in, n_out, k, s, p, d; };

__device__ void nbgrad_pool_window(const nbgrad_pool_dim& g, long long o, int adaptive,
                                   long long* first, long long* step, long long* count) {
    if (adaptive) {
        long long start = (o * g.n_in) / g.n_out;
        *first = start;
        *step = 1;
        *count = ((o + 1) * g.n_in + g.n_out - 1) / g.n_out - start;
    } else {
        *first = o * g.s - g.p;
        *step = g.d;
        *count = g.k;
    }
}

__device__ void nbgrad_pool_reaching(const nbgrad_pool_dim& g, long long i, int adaptive,
                                     long long* lo, long long* hi) {
    if (adaptive) {
        *lo = (i * g.n_out) / g.n_in;
        *hi = ((i + 1) * g.n_out) / g.n_in;
    } else {
        long long low = i + g.p - (g.k - 1) * g.d;     // o * s >= low
        *lo = low <= 0 ? 0 : (low + g.s - 1) / g.s;
        *hi = (i + g.p) / g.s;
    }
    if (*hi > g.n_out - 1) *hi = g.n_out - 1;
}
'''

_DIMS = ('long long n_in0, long long n_in1, long long n_in2, long long n_out0, long long n_out1, '
         'long long n_out2, long long k0, long long k1, long long k2, long long s0, long long s1, '
         'long long s2, long long p0, long long p1, long long p2, long long d0, long long d1, '
         'long long d2, int adaptive')
_UNPACK = r'''
    nbgrad_pool_dim dims[3] = {{n_in0, n_out0, k0, s0, p0, d0}, {n_in1, n_out1, k1, s1, p1, d1},
                               {n_in2, n_out2, k2, s2, p2, d2}};
    long long in_plane = n_in0 * n_in1 * n_in2, out_plane = n_out0 * n_out1 * n_out2;
'''

_MAX_FORWARD = _WINDOWS + r'''
extern "C" __global__ void nbgrad_max_pool_forward(
        const T* x, T* y, long long* index, long long planes, ''' + _DIMS + r''') {''' + _UNPACK + r'''
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
         item < planes * out_plane; item += stride) {
        long long plane = item / out_plane, o = item % out_plane;
        long long out_at[3] = {o / (n_out1 * n_out2), (o / n_out2) % n_out1, o % n_out2};
        long long first[3], step[3], count[3];
        for (int i = 0; i < 3; ++i)
            nbgrad_pool_window(dims[i], out_at[i], adaptive, &first[i], &step[i], &count[i]);
        const T* xp = x + plane * in_plane;
        double best = NBGRAD_NEG_INF;
        long long best_at = -1;
        for (long long a = 0; a < count[0]; ++a) {
            long long i0 = first[0] + a * step[0];
            if (i0 < 0 || i0 >= n_in0) continue;
            for (long long b = 0; b < count[1]; ++b) {
                long long i1 = first[1] + b * step[1];
                if (i1 < 0 || i1 >= n_in1) continue;
                for (long long c = 0; c < count[2]; ++c) {
                    long long i2 = first[2] + c * step[2];
                    if (i2 < 0 || i2 >= n_in2) continue;
                    long long q = (i0 * n_in1 + i1) * n_in2 + i2;
                    double v = (double)xp[q];
                    if (best_at < 0) best_at = q;     // the first position inside the input
                    if (v > best || v != v) {         // the first maximum, the last NaN
                        best = v;
                        best_at = q;
                    }
                }
            }
        }
        y[item] = (T)best;
        index[item] = best_at;
    }
}
'''

_MAX_BACKWARD = _WINDOWS + r'''
extern "C" __global__ void nbgrad_max_pool_backward(
        const T* g, const long long* index, T* grad, long long planes, ''' + _DIMS + r''') {''' + \
    _UNPACK + r'''
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
         item < planes * in_plane; item += stride) {
        long long plane = item / in_plane, q = item % in_plane;
        long long in_at[3] = {q / (n_in1 * n_in2), (q / n_in2) % n_in1, q % n_in2};
        long long lo[3], hi[3];
        for (int i = 0; i < 3; ++i) nbgrad_pool_reaching(dims[i], in_at[i], adaptive, &lo[i], &hi[i]);
        const T* gp = g + plane * out_plane;
        const long long* ip = index + plane * out_plane;
        T total = 0;
        for (long long a = lo[0]; a <= hi[0]; ++a)
            for (long long b = lo[1]; b <= hi[1]; ++b)
                for (long long c = lo[2]; c <= hi[2]; ++c) {
                    long long o = (a * n_out1 + b) * n_out2 + c;
                    if (ip[o] == q) total += gp[o];
                }
        grad[item] = total;
    }
}
'''
# An average window's divisor along one dim and its clipped bounds [lo, hi) in the input
_AVERAGE = r'''
__device__ void nbgrad_avg_window(const nbgrad_pool_dim& g, long long o, int adaptive,
                                  int count_include_pad, long long* lo, long long* hi,
                                  long long* counted) {
    long long first, step, count;
    nbgrad_pool_window(g, o, adaptive, &first, &step, &count);
    long long end = first + count;
    if (!adaptive && end > g.n_in + g.p) end = g.n_in + g.p;   // clipped to the padded input
    *counted = end - first;
    *lo = first < 0 ? 0 : first;
    *hi = end > g.n_in ? g.n_in : end;
    if (!count_include_pad) *counted = *hi - *lo;
}
'''

_AVG_FORWARD = _WINDOWS + _AVERAGE + r'''
extern "C" __global__ void nbgrad_avg_pool_forward(
        const T* x, T* y, long long planes, ''' + _DIMS + r''', int count_include_pad,
        long long divisor_override) {''' + _UNPACK + r'''
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
         item < planes * out_plane; item += stride) {
        long long plane = item / out_plane, o = item % out_plane;
        long long out_at[3] = {o / (n_out1 * n_out2), (o / n_out2) % n_out1, o % n_out2};
        long long lo[3], hi[3], counted[3];
        for (int i = 0; i < 3; ++i)
            nbgrad_avg_window(dims[i], out_at[i], adaptive, count_include_pad, &lo[i], &hi[i],
                              &counted[i]);
        const T* xp = x + plane * in_plane;
        double sum = 0;
        for (long long a = lo[0]; a < hi[0]; ++a)
            for (long long b = lo[1]; b < hi[1]; ++b)
                for (long long c = lo[2]; c < hi[2]; ++c)
                    sum += (double)xp[(a * n_in1 + b) * n_in2 + c];
        double divisor = divisor_override ? (double)divisor_override
                                          : (double)(counted[0] * counted[1] * counted[2]);
        y[item] = (T)(sum / divisor);
    }
}
'''

_AVG_BACKWARD = _WINDOWS + _AVERAGE + r'''
extern "C" __global__ void nbgrad_avg_pool_backward(
        const T* g, T* grad, long long planes, ''' + _DIMS + r''', int count_include_pad,
        long long divisor_override) {''' + _UNPACK + r'''
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
         item < planes * in_plane; item += stride) {
        long long plane = item / in_plane, q = item % in_plane;
        long long in_at[3] = {q / (n_in1 * n_in2), (q / n_in2) % n_in1, q % n_in2};
        long long reach_lo[3], reach_hi[3];
        for (int i = 0; i < 3; ++i)
            nbgrad_pool_reaching(dims[i], in_at[i], adaptive, &reach_lo[i], &reach_hi[i]);
        const T* gp = g + plane * out_plane;
        double total = 0;
        long long o_at[3], lo[3], hi[3], counted[3];
        for (o_at[0] = reach_lo[0]; o_at[0] <= reach_hi[0]; ++o_at[0])
            for (o_at[1] = reach_lo[1]; o_at[1] <= reach_hi[1]; ++o_at[1])
                for (o_at[2] = reach_lo[2]; o_at[2] <= reach_hi[2]; ++o_at[2]) {
                    bool inside = true;
                    for (int i = 0; i < 3; ++i) {
                        nbgrad_avg_window(dims[i], o_at[i], adaptive, count_include_pad, &lo[i],
                                          &hi[i], &counted[i]);
                        inside = inside && lo[i] <= in_at[i] && in_at[i] < hi[i];
                    }
                    if (!inside) continue;
                    double divisor = divisor_override ? (double)divisor_override
                                     : (double)(counted[0] * counted[1] * counted[2]);
                    total += (double)gp[(o_at[0] * n_out1 + o_at[1]) * n_out2 + o_at[2]] / divisor;
                }
        grad[item] = (T)total;
    }
}
'''
_PRELUDE = '#define NBGRAD_NEG_INF (-1.0 / 0.0)\n'   # (NVRTC has no math.h)
KERNELS = KernelFamily('pooling')


def spec(in_size, out_size, kernel=None, stride=None, padding=None, dilation=None):
    """The kernels' description of a pooling: the 19 scalar arguments for 1 to 3 pooled dims
    (leading dims of size 1 are added), adaptive when no kernel is given. Made once per
    geometry (a training loop asks for the same one every step)."""
    return _spec(*(None if v is None else tuple(int(x) for x in v)
                   for v in (in_size, out_size, kernel, stride, padding, dilation)))


@functools.lru_cache(maxsize=256)
def _spec(in_size, out_size, kernel, stride, padding, dilation):
    d = len(in_size)
    adaptive = kernel is None
    if adaptive:
        kernel = stride = dilation = (1,) * d
        padding = (0,) * d
    pad = 3 - d
    columns = [(1,) * pad + tuple(in_size), (1,) * pad + tuple(out_size),
               (1,) * pad + tuple(kernel), (1,) * pad + tuple(stride),
               (0,) * pad + tuple(padding), (1,) * pad + tuple(dilation)]
    return tuple(np.int64(v) for column in columns for v in column) + (np.int32(adaptive),)


def usable(xp, a):
    """Whether the kernels serve pooling of array a (a non-empty float32/64 CuPy array)."""
    return KERNELS.available(xp, a.dtype) and a.size > 0


def max_forward(xp, a, geometry_spec, spatial):
    """(values, flat per-plane indices) of max pooling a over its last `spatial` dims, or None
    if the kernel is unavailable."""
    a = xp.ascontiguousarray(a)
    out_size = tuple(int(v) for v in geometry_spec[3 + 3 - spatial:6])
    lead = a.shape[:a.ndim - spatial]
    planes = int(np.prod(lead, dtype=np.int64))
    values = xp.empty(lead + out_size, a.dtype)
    index = xp.empty(lead + out_size, np.int64)
    if not values.size:
        return values, index
    done = KERNELS.launch(xp, 'nbgrad_max_pool_forward', _PRELUDE + _MAX_FORWARD, a.dtype,
                          values.size, (a, values, index, np.int64(planes)) + geometry_spec)
    return (values, index) if done else None


def max_backward(xp, g, index, input_shape, geometry_spec, spatial):
    """The input's gradient: each output gradient added at its recorded maximum; None if the
    kernel is unavailable."""
    g = xp.ascontiguousarray(g)
    grad = xp.empty(input_shape, g.dtype)
    planes = int(np.prod(input_shape[:len(input_shape) - spatial], dtype=np.int64))
    done = KERNELS.launch(xp, 'nbgrad_max_pool_backward', _PRELUDE + _MAX_BACKWARD, g.dtype,
                          grad.size, (g, index, grad, np.int64(planes)) + geometry_spec)
    return grad if done else None


def _average_arguments(count_include_pad, divisor_override):
    return np.int32(bool(count_include_pad)), np.int64(divisor_override or 0)


def average_forward(xp, a, geometry_spec, spatial, count_include_pad=True,
                    divisor_override=None):
    """Average pooling of a over its last `spatial` dims, or None if the kernel is
    unavailable."""
    a = xp.ascontiguousarray(a)
    out_size = tuple(int(v) for v in geometry_spec[6 - spatial:6])
    lead = a.shape[:a.ndim - spatial]
    out = xp.empty(lead + out_size, a.dtype)
    if not out.size:
        return out
    done = KERNELS.launch(
        xp, 'nbgrad_avg_pool_forward', _PRELUDE + _AVG_FORWARD, a.dtype, out.size,
        (a, out, np.int64(int(np.prod(lead, dtype=np.int64)))) + geometry_spec
        + _average_arguments(count_include_pad, divisor_override))
    return out if done else None


def average_backward(xp, g, input_shape, geometry_spec, spatial, count_include_pad=True,
                     divisor_override=None):
    """The input's gradient of average pooling, or None if the kernel is unavailable."""
    g = xp.ascontiguousarray(g)
    grad = xp.empty(input_shape, g.dtype)
    planes = int(np.prod(input_shape[:len(input_shape) - spatial], dtype=np.int64))
    done = KERNELS.launch(
        xp, 'nbgrad_avg_pool_backward', _PRELUDE + _AVG_BACKWARD, g.dtype, grad.size,
        (g, grad, np.int64(planes)) + geometry_spec
        + _average_arguments(count_include_pad, divisor_override))
    return grad if done else None
