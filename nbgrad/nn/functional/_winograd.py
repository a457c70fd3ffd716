"""Winograd F(2x2, 3x3) kernels: 3x3, stride-1, undilated, ungrouped 2-D convolutions of float32
NumPy arrays, with 2.25x fewer multiplications than im2col (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2015).

Each 2x2 block of outputs (a tile) comes from the 4x4 input patch d under it as
    y = A^T [(G w G^T) . (B^T d B)] A          summed over input channels,
so for each of the 16 points xi of the transform domain the channel sum is one GEMM,
(K x C) @ (C x tiles). The weight gradient is the adjoint in w of the same bilinear form,
    gw = G^T [sum over tiles of (A g A^T) . (B^T d B)] G,
one GEMM per xi summing over tiles; it shares the input transform. The input gradient is a
forward convolution with the flipped kernel (_im2col.conv_input_grad), so it lands here too.
Float32 results differ from im2col's by rounding only (against float64 on 32x32x32x32 inputs:
2e-5 on outputs up to 96, PyTorch's float32 conv 3e-5; weight gradients 4e-4, PyTorch 2.6e-3).
An infinite input can give NaN where a direct sum gives +-inf (the transforms subtract it from
itself); float64 stays on the exact im2col path.

Layout. The padded input is split into its four phases (even or odd rows, even or odd columns),
each stored flat as (C, N, R, S) over a grid one cell larger than the tiles each way. A patch
entry is then a phase shifted by 0 or 1 grid row or column: a contiguous slice of the flat phase
at offset 0, 1, S or S + 1. So every transform is a few whole-array adds over contiguous memory
(strided versions measured 3-4x slower) and the GEMM operands need no copy. The grid's last row
and column hold no tile: their outputs are dropped and their gradients are zero.

Memory traffic, not arithmetic, is what these kernels spend their time on: the batch is cut into
chunks, and each chunk goes through the transform domain one column (4 of the 16 points) at a
time, so the arrays in flight stay in the cache (whole-batch versions were 20-40% slower).
"""
import numpy as np

from ..._blas import single_threaded
from ..._threads import row_parts, run_parts
from ._im2col import workspace

# F(2x2, 3x3)'s weight transform G, as the 16 x 9 matrix taking a flattened 3x3 kernel w to the
# flattened G w G^T (its transpose is the weight gradient's output transform). Entries are 0,
# +-1/4, +-1/2, 1: exact in any float type.
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_GG = np.kron(_G, _G)
# The last row of A (the output gradient's transform) is (0, -1); it is applied as (0, 1) and the
# sign fixed on the 16 small sums afterwards, which leaves those rows plain views of g's phases.
_A_SIGNS = np.multiply.outer([1.0, 1.0, 1.0, -1.0], [1.0, 1.0, 1.0, -1.0]).reshape(16)
# Scratch elements per batch chunk (12 MB): measured best among 0.5M-8M for 32x32x32x32 inputs;
# smaller chunks make the GEMMs too small, larger ones spill the cache.
_CHUNK_ELEMENTS = 3 << 20
# Below these sizes im2col was as fast or faster (the transforms' passes over memory cost more
# than the multiplications they save): both channel counts, and batch x output pixels.
_MIN_CHANNELS = 8
_MIN_PIXELS = 4096
# Below this many channels the batch is split over threads with single-threaded GEMMs
# (_over_batch). Measured on two cores, interleaved, fwd+bwd over 32x32 images: C8 N32
# 3.8 -> 3.1 ms, C16 N32 11.3 -> 8.3, C32 N32 25.5 -> 16.5 (im2col 25.0); at C64 N8 the
# split was slower, 10.9 against 14.4 ms.
_SPLIT_BELOW = 64


def applies(x, kernel, stride, dilation, groups, out_channels, out_size):
    """Whether these kernels handle (and speed up) a convolution of x (N, C, H, W) with this
    geometry, into out_channels channels of out_size."""
    return (x.__class__ is np.ndarray and x.dtype == np.float32 and x.ndim == 4
            and tuple(kernel) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1
            and min(x.shape[1], out_channels) >= _MIN_CHANNELS
            and x.shape[0] * out_size[0] * out_size[1] >= _MIN_PIXELS)


def conv_forward(x, w, pads, out_size, bias=None):
    """y = F(x, w) (+ bias) for x (N, C, H, W), w (K, C, 3, 3): an (N, K, *out_size) array."""
    n, c = x.shape[:2]
    k = w.shape[0]
    grid = _grid(out_size)
    u = (_GG @ w.reshape(k * c, 9).T).astype(np.float32).reshape(4, 4, k, c)
    y = np.empty((n, k) + tuple(out_size), np.float32)

    def rows_of_batch(part):
        with _Scratch(part, grid, 16 * (c + k)) as scratch:
            for start, stop, tiles in scratch.chunks:
                rows = _input_rows(x[start:stop], pads, grid, scratch, tiles)
                patches = scratch('patches', 4, c * tiles)
                products = scratch('products', 4, k * tiles)
                column_sums = scratch('column sums', 2, 4, k * tiles)
                for j in range(4):  # one column of the transform domain at a time (cache-sized)
                    _input_column(rows, j, grid, patches)
                    np.matmul(u[:, j], patches.reshape(4, c, tiles),
                              out=products.reshape(4, k, tiles))
                    _a_transpose(*products, column_sums[:, j])
                corners = scratch('corners', 4, k * tiles)
                for a in range(2):
                    _a_transpose(*column_sums[a], corners[2 * a:2 * a + 2])
                _merge_phases(corners, y[start:stop], grid, bias)
    _over_batch(rows_of_batch, x, k)
    return y


def conv_weight_grad(x, g, pads):
    """gw (K, C, 3, 3): the adjoint of w -> F(x, w) applied to g (N, K, *out)."""
    c = x.shape[1]
    k = g.shape[1]
    grid = _grid(g.shape[2:])

    def rows_of_batch(part):
        sums = np.zeros((4, 4, k, c), np.float32)
        product = np.empty((k, c), np.float32)
        with _Scratch(part, grid, 16 * c + 10 * k) as scratch:
            for start, stop, tiles in scratch.chunks:
                rows = _input_rows(x[start:stop], pads, grid, scratch, tiles)
                patches = scratch('patches', 4, c * tiles)
                g_rows = _gradient_rows(g[start:stop], grid, scratch, tiles)
                g_column = scratch('gradient column', 2, k * tiles)
                for j in range(4):
                    _input_column(rows, j, grid, patches)
                    for i, g_hat in enumerate(_gradient_column(g_rows, j, g_column)):
                        np.matmul(g_hat.reshape(k, tiles), patches[i].reshape(c, tiles).T,
                                  out=product)
                        sums[i, j] += product
        return sums
    sums = sum(_over_batch(rows_of_batch, x, k))
    gw = _GG.T @ (sums.reshape(16, k * c) * _A_SIGNS[:, None])
    return gw.T.astype(np.float32).reshape(k, c, 3, 3)


def _over_batch(rows_of_batch, x, channels):
    """[rows_of_batch(part) for the parts of x's batch]. With fewer than _SPLIT_BELOW channels
    (in and out) the parts run side by side on nbgrad's threads with single-threaded GEMMs, so
    each thread keeps its part in its own core's cache (see _blas); with more, the GEMMs are big
    enough to use BLAS's threads well and the whole batch runs here."""
    if max(x.shape[1], channels) >= _SPLIT_BELOW:
        return [rows_of_batch(slice(0, x.shape[0]))]
    with single_threaded():
        return run_parts(rows_of_batch, row_parts(x.shape[0], x[0].size))


# ---------------------------------------------------------------------------------------------
# Transforms (each a few whole-array adds; see the module docstring for the layout)
# ---------------------------------------------------------------------------------------------

def _grid(out_size):
    """(R, S): the tile grid for an output of out_size, plus one row and column."""
    return (out_size[0] + 1) // 2 + 1, (out_size[1] + 1) // 2 + 1


def _input_rows(x, pads, grid, scratch, tiles):
    """The first half of the input transform, B^T along each patch row (columns 2s .. 2s+3) of
    x's chunk: (2, 4, C*tiles + S). [a, j] holds entry j of patch row 2r + a; patch row
    2r + a + 2 is the same array shifted by one grid row (S elements)."""
    c = x.shape[1]
    row = grid[1]
    phases = scratch('phases', 2, 2, c * tiles + row + 1)
    _split_phases(x, (pads[0][0], pads[1][0]), grid, phases)
    rows = scratch('row transform', 2, 4, c * tiles + row)
    span = c * tiles + row
    for a in range(2):  # patch columns 2s, 2s+1, 2s+2, 2s+3
        even, odd = phases[a, 0], phases[a, 1]
        _b_transpose(even[:span], odd[:span], even[1:span + 1], odd[1:span + 1], rows[a])
    return rows


def _input_column(rows, j, grid, out):
    """out (4, C*tiles)[i] = (B^T d B)[i, j] for every patch d: B^T down column j of rows."""
    span, row = out.shape[1], grid[1]
    even, odd = rows[0, j], rows[1, j]  # patch rows 2r, 2r+1, 2r+2, 2r+3
    _b_transpose(even[:span], odd[:span], even[row:span + row], odd[row:span + row], out)


def _b_transpose(d0, d1, d2, d3, out):
    """out[0..3] = B^T (d0, d1, d2, d3)."""
    np.subtract(d0, d2, out=out[0])
    np.add(d1, d2, out=out[1])
    np.subtract(d2, d1, out=out[2])
    np.subtract(d1, d3, out=out[3])


def _a_transpose(m0, m1, m2, m3, out):
    """out[0..1] = A^T (m0, m1, m2, m3)."""
    np.add(m0, m1, out=out[0])
    out[0] += m2
    np.subtract(m1, m2, out=out[1])
    out[1] -= m3


def _gradient_rows(g, grid, scratch, tiles):
    """A (with A's sign dropped, see _A_SIGNS) applied along the rows of every 2x2 tile of g's
    chunk: rows [a][j], parity a, column j (views of g's phases or of a scratch array)."""
    k = g.shape[1]
    phases = scratch('gradient phases', 2, 2, k * tiles)
    _split_phases(g, (0, 0), grid, phases)
    rows = scratch('gradient rows', 2, 2, k * tiles)
    return [_a_pair(phases[a, 0], phases[a, 1], rows[a]) for a in range(2)]


def _gradient_column(rows, j, out):
    """(A g A^T)[i, j] for i = 0..3 (sign dropped), from _gradient_rows."""
    return _a_pair(rows[0][j], rows[1][j], out)


def _a_pair(g0, g1, out):
    """A (g0, g1) with A's last row (0, -1) taken as (0, 1): g0, g0 + g1, g0 - g1, g1."""
    np.add(g0, g1, out=out[0])
    np.subtract(g0, g1, out=out[1])
    return [g0, out[0], out[1], g1]


def _split_phases(x, lows, grid, out):
    """Fill out (2, 2, >= C*N*R*S) with x's four phases: out[a, b] holds, flat as (C, N, R, S),
    x[n, c, 2r + a - lows[0], 2s + b - lows[1]], and zeros outside x (its padding)."""
    n, c, h, w = x.shape
    cells = c * n * grid[0] * grid[1]
    out[:, :, cells:] = 0       # the tail the shifted slices read past the last cell
    for a in range(2):
        r0, r1, h0 = _span(a - lows[0], h, grid[0])
        for b in range(2):
            s0, s1, w0 = _span(b - lows[1], w, grid[1])
            phase = out[a, b, :cells].reshape(c, n, *grid)
            if not (r1 > r0 and s1 > s0):
                phase.fill(0)
                continue
            # zeros only around the copied rectangle (filling the whole phase first cost as
            # much as the copy)
            phase[:, :, :r0] = 0
            phase[:, :, r1:] = 0
            phase[:, :, r0:r1, :s0] = 0
            phase[:, :, r0:r1, s1:] = 0
            np.copyto(phase[:, :, r0:r1, s0:s1],
                      x[:, :, h0:h0 + 2 * (r1 - r0) - 1:2,
                        w0:w0 + 2 * (s1 - s0) - 1:2].transpose(1, 0, 2, 3))


def _span(offset, length, cells):
    """The grid cells r in [r0, r1) whose position 2r + offset lies in [0, length), and the
    position of the first, 2*r0 + offset."""
    r0 = max(0, (1 - offset) // 2)
    r1 = min(cells, (length - 1 - offset) // 2 + 1)
    return r0, r1, 2 * r0 + offset


def _merge_phases(corners, y, grid, bias=None):
    """y[n, k, 2r + a, 2s + b] = corners[2a + b] (flat (K, N, R, S)) (+ bias[k]) over y's
    extent."""
    n, k, ho, wo = y.shape
    for a in range(2):
        for b in range(2):
            corner = corners[2 * a + b].reshape(k, n, *grid)
            corner = corner[:, :, :(ho - a + 1) // 2, :(wo - b + 1) // 2].transpose(1, 0, 2, 3)
            if bias is None:
                np.copyto(y[:, :, a::2, b::2], corner)
            else:
                np.add(corner, bias.reshape(k, 1, 1), out=y[:, :, a::2, b::2])


class _Scratch:
    """Scratch arrays for a batch cut into chunks of about _CHUNK_ELEMENTS elements (at
    `per_cell` elements per grid cell), taken from `workspace` by name and given back on exit.
    `chunks` lists (start, stop, grid cells) per chunk."""

    def __init__(self, batch, grid, per_cell):
        cells = grid[0] * grid[1]
        size = max(1, min(batch.stop - batch.start, _CHUNK_ELEMENTS // (per_cell * cells)))
        self.chunks = [(start, min(batch.stop, start + size),
                        (min(batch.stop, start + size) - start) * cells)
                       for start in range(batch.start, batch.stop, size)]
        self.arrays = {}

    def __call__(self, name, *shape):
        """The array `name`, made for the first (largest) chunk; cut to shape for a smaller
        last chunk."""
        array = self.arrays.get(name)
        if array is None:
            array = self.arrays[name] = workspace.take(shape, np.float32)
        return array[..., :shape[-1]]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for array in self.arrays.values():
            workspace.give(array)
