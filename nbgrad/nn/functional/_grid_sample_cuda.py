"""2-d grid_sample (bilinear and nearest, every padding mode, both align_corners) on CUDA in one
kernel launch forward and one backward, where the tap-by-tap array formulas of _grid_ops take
dozens of CuPy launches. One thread handles one sampling point and loops over the channels; the
backward adds into the input's gradient with atomicAdd (sequential in the fake CuPy's CPU
emulation, where it is a plain add). The coordinate arithmetic is _grid_ops' (PyTorch's
GridSampler.h), point by point: unnormalize, clip or reflect, the taps, their weights and the
chain-rule multiplier, and NaN coordinates read nothing, as there. Bicubic and 3-d sampling keep
the array formulas.
"""
import numpy as np

from ..._cuda_kernels import KernelFamily

_COORDINATES = r'''
// one axis: the source coordinate of grid value v along an input side of `size`, and
// d(coordinate)/d(v) (see _grid_ops.axis_taps)
__device__ __forceinline__ void nbgrad_grid_axis(T v, long long size, int padding, int align,
                                                 T* coordinate, T* multiplier) {
    T x = align ? (v + 1) * ((T)(size - 1) / 2) : (v + 1) * ((T)size / 2) - (T)0.5;
    T mult = align ? (T)(size - 1) / 2 : (T)size / 2;
    if (padding == 2) {                                  // reflection, then clip
        T twice_low = align ? 0 : -1, twice_high = align ? 2 * (T)(size - 1) : 2 * (T)size - 1;
        if (twice_low == twice_high) {
            x = 0;
            mult = 0;
        } else {
            T low = twice_low / 2, span = (twice_high - twice_low) / 2;
            x = x - low;
            T sign = x < 0 ? -1 : 1;
            x = fabs(x);
            T extra = fmod(x, span);
            T flips = floor(x / span);
            int even = fmod(flips, (T)2) == 0;
            x = even ? extra + low : span - extra + low;
            mult *= even ? sign : -sign;
        }
    }
    if (padding >= 1) {                                  // border (and reflection's clip)
        T inside = (x > 0 && x < (T)(size - 1)) ? 1 : 0;
        x = fmin(fmax(x, (T)0), (T)(size - 1));   // NaN -> 0, as PyTorch's clip
        mult *= inside;
    }
    *coordinate = x;
    *multiplier = mult;
}

// the taps of one axis: positions p[0..1], validity ok[0..1], weights w[0..1], slopes s[0..1]
__device__ __forceinline__ void nbgrad_grid_taps(T x, long long size, int nearest,
                                                 long long* p, int* ok, T* w, T* s) {
    T base = nearest ? nearbyint(x) : floor(x);
    T t = x - base;
    for (int k = 0; k < 2; ++k) {
        T c = base + k;
        ok[k] = c >= 0 && c <= (T)(size - 1) && !(nearest && k == 1);
        p[k] = ok[k] ? (long long)c : 0;
    }
    w[0] = nearest ? 1 : 1 - t;
    w[1] = nearest ? 0 : t;
    s[0] = nearest ? 0 : -1;
    s[1] = nearest ? 0 : 1;
}
'''

_FORWARD = _COORDINATES + r'''
extern "C" __global__ void nbgrad_grid_sample_2d(
        const T* input, const T* grid, T* out, long long N, long long C, long long H,
        long long W, long long Ho, long long Wo, int nearest, int padding, int align) {
    long long points = N * Ho * Wo, stride = (long long)blockDim.x * gridDim.x;
    for (long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x; q < points; q += stride) {
        long long n = q / (Ho * Wo), at = q % (Ho * Wo);
        T x, y, mx, my;
        nbgrad_grid_axis(grid[2 * q], W, padding, align, &x, &mx);
        nbgrad_grid_axis(grid[2 * q + 1], H, padding, align, &y, &my);
        long long px[2], py[2];
        int okx[2], oky[2];
        T wx[2], wy[2], sx[2], sy[2];
        nbgrad_grid_taps(x, W, nearest, px, okx, wx, sx);
        nbgrad_grid_taps(y, H, nearest, py, oky, wy, sy);
        for (long long c = 0; c < C; ++c) {
            const T* plane = input + (n * C + c) * H * W;
            T value = 0;
            for (int ky = 0; ky < 2; ++ky)
                for (int kx = 0; kx < 2; ++kx)
                    if (oky[ky] && okx[kx])
                        value += wy[ky] * wx[kx] * plane[py[ky] * W + px[kx]];
            out[(n * C + c) * Ho * Wo + at] = value;
        }
    }
}
'''

_BACKWARD = _COORDINATES + r'''
extern "C" __global__ void nbgrad_grid_sample_2d_backward(
        const T* grad_out, const T* input, const T* grid, T* grad_input, T* grad_grid,
        long long N, long long C, long long H, long long W, long long Ho, long long Wo,
        int nearest, int padding, int align, int want_input, int want_grid) {
    long long points = N * Ho * Wo, stride = (long long)blockDim.x * gridDim.x;
    for (long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x; q < points; q += stride) {
        long long n = q / (Ho * Wo), at = q % (Ho * Wo);
        T x, y, mx, my;
        nbgrad_grid_axis(grid[2 * q], W, padding, align, &x, &mx);
        nbgrad_grid_axis(grid[2 * q + 1], H, padding, align, &y, &my);
        long long px[2], py[2];
        int okx[2], oky[2];
        T wx[2], wy[2], sx[2], sy[2];
        nbgrad_grid_taps(x, W, nearest, px, okx, wx, sx);
        nbgrad_grid_taps(y, H, nearest, py, oky, wy, sy);
        T gx = 0, gy = 0;
        for (long long c = 0; c < C; ++c) {
            T g = grad_out[(n * C + c) * Ho * Wo + at];
            long long plane = (n * C + c) * H * W;
            for (int ky = 0; ky < 2; ++ky)
                for (int kx = 0; kx < 2; ++kx) {
                    if (!(oky[ky] && okx[kx])) continue;
                    long long i = plane + py[ky] * W + px[kx];
                    if (want_input) atomicAdd(grad_input + i, g * wy[ky] * wx[kx]);
                    T along = g * input[i];
                    gx += along * sx[kx] * wy[ky];
                    gy += along * sy[ky] * wx[kx];
                }
        }
        if (want_grid) {
            grad_grid[2 * q] = gx * mx;
            grad_grid[2 * q + 1] = gy * my;
        }
    }
}
'''
_MODES = {'bilinear': 0, 'nearest': 1}
_PADDINGS = {'zeros': 0, 'border': 1, 'reflection': 2}
KERNELS = KernelFamily('grid_sample')


def usable(xp, input, grid, mode):
    """Whether the kernels serve this 2-d sampling (float32/float64 CuPy arrays)."""
    return (KERNELS.available(xp, input.dtype) and input.ndim == 4 and mode in _MODES
            and grid.dtype == input.dtype)


def _shape_args(input, grid):
    n, c, h, w = input.shape
    return [np.int64(v) for v in (n, c, h, w, grid.shape[1], grid.shape[2])]


def forward(xp, input, grid, mode, padding_mode, align_corners):
    """The sampled (N, C, Ho, Wo) array, or None if the kernel is unavailable."""
    input, grid = xp.ascontiguousarray(input), xp.ascontiguousarray(grid)
    n, c = input.shape[:2]
    out = xp.empty((n, c) + grid.shape[1:3], input.dtype)
    flags = (np.int32(_MODES[mode]), np.int32(_PADDINGS[padding_mode]),
             np.int32(bool(align_corners)))
    done = KERNELS.launch(xp, 'nbgrad_grid_sample_2d', _FORWARD, input.dtype,
                          n * grid.shape[1] * grid.shape[2],
                          (input, grid, out, *_shape_args(input, grid), *flags))
    return out if done else None


def backward(xp, g, input, grid, mode, padding_mode, align_corners, want_input, want_grid):
    """(grad_input, grad_grid), each None when not wanted, or False if the kernel is
    unavailable."""
    g, input, grid = (xp.ascontiguousarray(a) for a in (g, input, grid))
    grad_input = xp.zeros(input.shape, input.dtype) if want_input else None
    grad_grid = xp.empty(grid.shape, grid.dtype) if want_grid else None
    flags = (np.int32(_MODES[mode]), np.int32(_PADDINGS[padding_mode]),
             np.int32(bool(align_corners)), np.int32(want_input), np.int32(want_grid))
    done = KERNELS.launch(
        xp, 'nbgrad_grid_sample_2d_backward', _BACKWARD, input.dtype,
        input.shape[0] * grid.shape[1] * grid.shape[2],
        (g, input, grid, input if grad_input is None else grad_input,
         grid if grad_grid is None else grad_grid, *_shape_args(input, grid), *flags))
    if not done:
        return False
    if want_grid and mode == 'nearest':   # zero, as in PyTorch (the kernel's slopes are 0)
        grad_grid[...] = 0
    return grad_input, grad_grid
