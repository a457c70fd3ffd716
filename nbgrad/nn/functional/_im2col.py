"""Convolution kernels on raw arrays (NumPy or CuPy), shared by conv*, conv_transpose*, unfold, fold
and pad.

A convolution is turned into matrix products (im2col): one strided *view* of the padded input holds
every receptive field, a single copy turns it into a contiguous GEMM operand, and one batched
matmul covers all groups. Spatial layout is N, C, *spatial throughout; `pads` is one (low, high)
pair per spatial dim, so asymmetric padding ('same' with an even kernel) needs no extra copy.

The three kernels below are adjoint to each other, which is what the autograd node builds on:
  conv_forward(x, w)         y = F(x, w)
  conv_input_grad(g, w)      x-shaped: the adjoint of F(., w) applied to g (transposed conv)
  conv_weight_grad(x, g)     w-shaped: the adjoint of F(x, .) applied to g
Large float32 3x3 stride-1 convolutions on NumPy go to the Winograd kernels (_winograd.py)
instead, from conv_forward (so from conv_input_grad's stride-1 case too) and conv_weight_grad.
On CUDA, convolutions go to cuDNN where it loads (_conv_cudnn), else float32/float64 ones to
_conv_cuda (a kernel-written operand, plain GEMMs).
"""
import itertools
import math
import threading

import numpy as np

from ...ops import _half_gemm
from ...ops._util import xp_of


def pad_constant(x, pads, value=0):
    """x with the last len(pads) dims padded by (low, high) pairs of `value`; a negative amount
    crops instead. Returns x itself when nothing changes."""
    if not any(lo or hi for lo, hi in pads):
        return x
    lead = x.ndim - len(pads)
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                 for (lo, hi), n in zip(pads, x.shape[lead:]))
    x = x[(slice(None),) * lead + crop]
    if not any(lo > 0 or hi > 0 for lo, hi in pads):
        return x.copy()
    xp = xp_of(x)
    shape = x.shape[:lead] + tuple(n + max(lo, 0) + max(hi, 0)
                                   for (lo, hi), n in zip(pads, x.shape[lead:]))
    out = xp.zeros(shape, x.dtype) if _is_plus_zero(value) else xp.full(shape, value, x.dtype)
    inner = tuple(slice(max(lo, 0), max(lo, 0) + n) for (lo, _), n in zip(pads, x.shape[lead:]))
    out[(slice(None),) * lead + inner] = x
    return out


def conv_output_size(size, kernel, stride, pads, dilation):
    """Output length per spatial dim of a convolution (may be < 1: the caller reports that)."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(size, kernel, stride, pads, dilation))


def windows(padded, kernel, stride, dilation, out_size):
    """A strided view (N, C, *kernel, *out_size) of padded (N, C, *spatial): element
    [n, c, k..., o...] is padded[n, c, o*stride + k*dilation ...]. No data is copied."""
    xp = xp_of(padded)
    step = padded.strides[2:]
    strides = padded.strides[:2] + tuple(st * d for st, d in zip(step, dilation)) + \
        tuple(st * s for st, s in zip(step, stride))
    return xp.lib.stride_tricks.as_strided(padded, padded.shape[:2] + tuple(kernel) +
                                           tuple(out_size), strides)


class _Workspace:
    """A few recently released scratch buffers (im2col's operand, the Winograd kernels' chunk
    arrays, half a dozen per call), for NumPy to reuse.

    im2col's operand is kernel-volume times the input (38 MB for a 3x3 conv over 32x32x32x32
    floats). Fresh memory of that size comes from mmap, and its first touch costs page faults:
    copying into it took 3.8 ms here, copying into a reused buffer 1.5 ms. CuPy has its own
    memory pool, so there arrays are allocated normally. A buffer is released (give) only by the
    code that took it, once nothing else refers to it. Backward keeps only x and w, as PyTorch
    does (not im2col's operand, which would hold kernel-volume times every input until then)."""
    keep, keep_bytes = 16, 256 << 20

    def __init__(self):
        self._free = []  # most recently released last
        self._lock = threading.Lock()

    def take(self, shape, dtype):
        with self._lock:
            for i in range(len(self._free) - 1, -1, -1):
                buffer = self._free[i]
                if buffer.shape == shape and buffer.dtype == dtype:
                    return self._free.pop(i)
        return np.empty(shape, dtype)

    def give(self, buffer):
        if buffer is not None and buffer.__class__ is np.ndarray:
            with self._lock:
                self._free.append(buffer)
                del self._free[:-self.keep]
                while sum(b.nbytes for b in self._free) > self.keep_bytes:
                    del self._free[0]


workspace = _Workspace()


def im2col(x, kernel, stride, pads, dilation, out_size, groups=1):
    """The GEMM operand of a convolution: (N, groups, C/groups * prod(kernel), prod(out_size)),
    contiguous (the one copy im2col makes). On NumPy it comes from `workspace`: hand it back with
    workspace.give once done with it."""
    n, c = x.shape[:2]
    view = windows(pad_constant(x, pads), kernel, stride, dilation, out_size)
    shape = (n, groups, c // groups * _prod(kernel), _prod(out_size))
    if view.__class__ is not np.ndarray:
        return view.reshape(shape)
    cols = workspace.take(shape, view.dtype)
    np.copyto(cols.reshape(view.shape), view)
    return cols


def col2im(cols, size, stride, pads, dilation):
    """The adjoint of im2col's view: cols (N, C, *kernel, *out) summed into an (N, C, *size)
    image. One strided add per kernel offset (prod(kernel) iterations), never per pixel."""
    xp = xp_of(cols)
    nd = len(size)
    kernel, out_size = cols.shape[2:2 + nd], cols.shape[2 + nd:]
    canvas = xp.zeros(cols.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(size, pads)),
                      cols.dtype)
    for offset in itertools.product(*(range(k) for k in kernel)) if cols.size else ():
        target = tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                       for k, d, s, o in zip(offset, dilation, stride, out_size))
        canvas[(slice(None), slice(None)) + target] += cols[(slice(None), slice(None)) + offset]
    return pad_constant(canvas, [(-lo, -hi) for lo, hi in pads])


def conv_forward(x, w, stride, pads, dilation, groups, out_size=None, bias=None):
    """y = F(x, w) (+ bias, one per output channel): x (N, C, *size), w (O, C/groups, *kernel) ->
    (N, O, *out). Returns (y, cols), cols being im2col's operand (None where the Winograd kernels
    ran). out_size may cut the output short of what the sizes allow (the adjoint of a transposed
    convolution with output_padding needs that)."""
    xp = xp_of(x, w)
    kernel = w.shape[2:]
    o = w.shape[0]
    if out_size is None:
        out_size = conv_output_size(x.shape[2:], kernel, stride, pads, dilation)
    if _winograd.applies(x, kernel, stride, dilation, groups, o, out_size):
        return _winograd.conv_forward(x, w, pads, out_size, bias), None
    if xp is not np:    # cuDNN where it loads, else nbgrad's CUDA kernels, else the formulas below
        y = _conv_cudnn.conv_forward(xp, x, w, stride, pads, dilation, groups, out_size)
        if y is None and _conv_cuda.usable(xp, x, w):
            y = _conv_cuda.conv_forward(xp, x, w, stride, pads, dilation, groups, out_size)
        if y is not None:
            if bias is not None:
                y += bias.reshape((-1,) + (1,) * len(out_size))
            return y, None
    cols = im2col(x, kernel, stride, pads, dilation, out_size, groups)
    # (N, groups, O/groups, L)
    # (the bias added before a float16 product's one rounding, as PyTorch's)
    y = _half_gemm.matmul(xp, w.reshape(groups, o // groups, cols.shape[2]), cols,
                          add=None if bias is None else bias.reshape(groups, o // groups, 1))
    return y.reshape((x.shape[0], o) + tuple(out_size)), cols


def conv_input_grad(g, w, stride, pads, dilation, groups, size):
    """The adjoint of x -> F(x, w), applied to g (N, O, *out): an (N, C, *size) image. This is
    the transposed convolution; `size` settles the lengths stride leaves ambiguous."""
    xp = xp_of(g, w)
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    nd = len(kernel)
    image = None if xp is np else _conv_cudnn.conv_input_grad(xp, g, w, stride, pads, dilation,
                                                               groups, size)
    if image is not None:
        return image
    if all(s == 1 for s in stride):
        # a correlation of g with the flipped kernel, channels in and out swapped per group
        flipped = w.reshape((groups, o // groups, cg) + kernel).swapaxes(1, 2)
        flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * nd]
        flipped = xp.ascontiguousarray(flipped).reshape((groups * cg, o // groups) + kernel)
        reach = [d * (k - 1) for d, k in zip(dilation, kernel)]
        g_pads = [(r - lo, n - m + lo) for r, (lo, _), n, m in zip(reach, pads, size, g.shape[2:])]
        out, cols = conv_forward(g, flipped, stride, g_pads, dilation, groups)
        workspace.give(cols)
        return out
    if xp is not np and _conv_cuda.usable(xp, g, w):
        image = _conv_cuda.conv_input_grad(xp, g, w, stride, pads, dilation, groups, size)
        if image is not None:
            return image
    n = g.shape[0]
    w_t = w.reshape(groups, o // groups, cg * _prod(kernel)).swapaxes(1, 2)
    cols = _half_gemm.matmul(xp, w_t, g.reshape(n, groups, o // groups, _prod(g.shape[2:])))
    return col2im(cols.reshape((n, groups * cg) + kernel + g.shape[2:]), size, stride, pads,
                  dilation)


def conv_weight_grad(x, g, stride, pads, dilation, groups, kernel):
    """The adjoint of w -> F(x, w), applied to g (N, O, *out): a (O, C/groups, *kernel) weight."""
    xp = xp_of(x, g)
    n, o = g.shape[:2]
    if _winograd.applies(x, kernel, stride, dilation, groups, o, g.shape[2:]):
        return _winograd.conv_weight_grad(x, g, pads)
    gw = None if xp is np else _conv_cudnn.conv_weight_grad(xp, x, g, stride, pads, dilation,
                                                             groups, kernel)
    if gw is not None:
        return gw
    if xp is not np and _conv_cuda.usable(xp, x, g):
        gw = _conv_cuda.conv_weight_grad(xp, x, g, stride, pads, dilation, groups, kernel)
        if gw is not None:
            return gw
    cols = im2col(x, kernel, stride, pads, dilation, g.shape[2:], groups)
    gw = _half_gemm.matmul(xp, g.reshape(n, groups, o // groups, cols.shape[3]),
                           cols.swapaxes(-1, -2))
    workspace.give(cols)
    gw = gw.sum(axis=0)
    return gw.reshape((o, x.shape[1] // groups) + tuple(kernel))


def _is_plus_zero(value):
    return value == 0 and (not isinstance(value, float) or math.copysign(1.0, value) > 0)


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


# The Winograd kernels take their scratch memory from `workspace` above, hence the late import.
from . import _conv_cuda, _conv_cudnn, _winograd  # noqa: E402
