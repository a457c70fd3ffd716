"""Graph nodes of nbgrad.fft: the transforms on raw arrays, with NumPy's numpy.fft on the CPU and
cupy.fft on CUDA (both keep float32/complex64 in single precision; results are cast to PyTorch's
dtype anyway).

`FFT` computes every transform (complex-to-complex, real-to-complex one-sided, complex-to-real).
Each is linear over the reals, so its gradient is its adjoint (`FFTAdjoint`, PyTorch's
fft_c2c_backward, fft_r2c_backward and fft_c2r_backward), and the adjoint's gradient is the
transform again: gradients of any order follow. `RealC2R` is the case that stays real on both
sides, irfftn (and hfftn, which is irfftn with the other normalization) of a *real* input; its
transpose is `RealC2RTranspose`, and the two are each other's backward.
"""
import numpy as np

from ..autograd.graph import Node
from ._util import xp_of

# NumPy's norm names are direction-specific: the same scale factor is 'backward' for an inverse
# transform and 'forward' for a forward one
SWAP_NORM = {'backward': 'forward', 'forward': 'backward', 'ortho': 'ortho'}


def resize(xp, a, axes, sizes):
    """PyTorch's resize_fft_input: a's length along axes[i] becomes sizes[i], by keeping the
    first sizes[i] entries or by zero-padding at the end."""
    index = [slice(None)] * a.ndim
    padded = list(a.shape)
    pad = False
    for axis, size in zip(axes, sizes):
        if a.shape[axis] > size:
            index[axis] = slice(0, size)
            padded[axis] = size
        elif a.shape[axis] < size:
            padded[axis] = size
            pad = True
    a = a[tuple(index)]
    if not pad:
        return a
    out = xp.zeros(padded, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


class FFT(Node):
    """One transform over `axes` (PyTorch's _fft_c2c, _fft_r2c and _fft_c2r, with fft's, ihfft's
    and hfft's conjugations folded in).

    kind: 'c2c', 'r2c' (one-sided output along axes[-1]) or 'c2r' (output length last_size along
    axes[-1]); forward: the direction PyTorch's function has (hfft is a forward c2r, ihfft an
    inverse r2c); norm: NumPy's name for the function's normalization; sizes: the input's length
    along each axis after padding or trimming; work: the dtype the input is cast to first (the
    promotion); dtype: the result's dtype."""
    complex_autograd = True

    def __init__(self, kind, forward, axes, sizes, norm, work, dtype, last_size=None,
                 op_name='fft'):
        self.kind, self.forward_direction = kind, forward
        self.axes, self.sizes, self.norm = tuple(axes), tuple(sizes), norm
        self.work, self.dtype, self.last_size = work, dtype, last_size
        self.op_name = op_name

    def forward(self, a):
        xp = xp_of(a)
        self._in_shape, self._real_input = a.shape, a.dtype.kind != 'c'
        a = resize(xp, a.astype(self.work, copy=False), self.axes, self.sizes)
        axes, norm = self.axes, self.norm
        if not axes:  # fftn over no dimensions: the promoted input, in new memory
            out = a.copy()
        elif self.kind == 'c2c':
            out = (xp.fft.fftn if self.forward_direction else xp.fft.ifftn)(a, axes=axes,
                                                                             norm=norm)
        elif self.kind == 'r2c':
            if self.forward_direction:
                out = xp.fft.rfftn(a, axes=axes, norm=norm)
            else:  # ihfftn: the conjugate of the forward transform with the other scale
                out = xp.conj(xp.fft.rfftn(a, axes=axes, norm=SWAP_NORM[norm]))
        else:
            s = [a.shape[ax] for ax in axes[:-1]] + [self.last_size]
            if self.forward_direction:  # hfftn: irfftn of the conjugate, the other scale
                out = xp.fft.irfftn(xp.conj(a), s=s, axes=axes, norm=SWAP_NORM[norm])
            else:
                out = xp.fft.irfftn(a, s=s, axes=axes, norm=norm)
        return out.astype(self.dtype, copy=False)

    def backward(self, g):
        from .._dispatch import dispatch
        return dispatch(FFTAdjoint(self.replay_copy(), self._in_shape), g)

    def name(self):
        # (PyTorch transforms a real input's fft/ifft with its r2c kernel)
        kind = 'r2c' if self.kind == 'c2c' and self._real_input else self.kind
        return f'Fft{kind.upper()}Backward0'


class FFTAdjoint(Node):
    """The adjoint of an FFT node's map, which is its gradient (the engine takes the real part
    for a real input). A forward transform's adjoint is the inverse direction with the other
    scale factor, and the reverse; a one-sided r2c result is zero-padded back to full length
    first; a c2r transform's adjoint is the one-sided forward transform with the bins that
    stand for two conjugate ones doubled (PyTorch's fft_c2r_backward); a conjugation in the map
    (ihfft, hfft) conjugates. The padding or trimming of the input is undone last."""
    complex_autograd = True

    def __init__(self, fft, in_shape):
        self.fft, self.in_shape = fft, tuple(in_shape)

    def forward(self, g):
        op = self.fft
        xp = xp_of(g)
        axes, norm, other = op.axes, op.norm, SWAP_NORM[op.norm]
        if not axes:
            out = g.copy()
        elif op.kind == 'c2c':
            out = (xp.fft.ifftn if op.forward_direction else xp.fft.fftn)(g, axes=axes,
                                                                           norm=other)
        elif op.kind == 'r2c':
            full = resize(xp, g, axes[-1:], op.sizes[-1:])
            if op.forward_direction:     # rfftn
                out = xp.fft.ifftn(full, axes=axes, norm=other).real
            else:                        # ihfftn: conj(rfftn with the other scale)
                out = xp.fft.ifftn(xp.conj(full), axes=axes, norm=norm).real
        else:
            # irfftn's adjoint: rfftn with the same scale, doubled; hfftn is irfftn of the
            # conjugate with the other scale
            out = xp.fft.rfftn(g, axes=axes, norm=norm if op.forward_direction else other)
            doubled = op.last_size - (op.last_size // 2 + 1)
            if doubled > 0:
                index = [slice(None)] * out.ndim
                index[axes[-1]] = slice(1, 1 + doubled)
                out[tuple(index)] *= 2
            if op.forward_direction:
                out = xp.conj(out)
        out = resize(xp, out, axes, [self.in_shape[ax] for ax in axes])
        precision = g.real.dtype if g.dtype.kind == 'c' else g.dtype
        dtype = out.dtype if out.dtype.kind != 'c' else (
            np.complex64 if precision == np.float32 else np.complex128)
        if out.dtype.kind != 'c':
            dtype = precision
        return xp.ascontiguousarray(out, dtype=dtype)

    def backward(self, gg):
        from .._dispatch import dispatch
        return dispatch(self.fft.replay_copy(), gg)

    def name(self):
        return self.fft.name().replace('Backward0', 'BackwardBackward0')


class RealC2R(Node):
    """irfftn of a real input x (hfftn of a real input is this with the other normalization):
    x is padded or trimmed to `sizes` along `axes`, read as complex (`work`) and transformed
    back to `last_size` points along axes[-1]. Real in, real out, so it is differentiable."""

    def __init__(self, axes, sizes, last_size, norm, work, dtype, in_sizes):
        self.axes, self.sizes, self.last_size = tuple(axes), tuple(sizes), last_size
        self.norm, self.work, self.dtype, self.in_sizes = norm, work, dtype, tuple(in_sizes)

    def forward(self, x):
        xp = xp_of(x)
        a = resize(xp, x.astype(self.work, copy=False), self.axes, self.sizes)
        s = [a.shape[ax] for ax in self.axes[:-1]] + [self.last_size]
        out = xp.fft.irfftn(a, s=s, axes=self.axes, norm=self.norm)
        return out.astype(self.dtype, copy=False)

    def backward(self, g):
        from .._dispatch import dispatch
        return dispatch(RealC2RTranspose(self.replay_copy()), g)

    def name(self):
        return 'FftC2RBackward0'


class RealC2RTranspose(Node):
    """The transpose of a RealC2R map, which is its gradient: the real part of the one-sided
    forward transform of g with the same scale factor, the bins that stand for two conjugate
    ones doubled, then padded or trimmed back to the input's sizes."""

    def __init__(self, c2r):
        self.c2r = c2r

    def forward(self, g):
        c2r = self.c2r
        xp = xp_of(g)
        axes = c2r.axes
        r = xp.fft.rfftn(g, axes=axes, norm=SWAP_NORM[c2r.norm]).real
        doubled = c2r.last_size - (c2r.last_size // 2 + 1)
        if doubled > 0:
            index = [slice(None)] * r.ndim
            index[axes[-1]] = slice(1, 1 + doubled)
            r[tuple(index)] *= 2
        r = resize(xp, r, axes, [c2r.in_sizes[ax] for ax in axes])
        return xp.ascontiguousarray(r, dtype=c2r.dtype)

    def backward(self, gg):
        from .._dispatch import dispatch
        return dispatch(self.c2r.replay_copy(), gg)

    def name(self):
        return 'FftC2RBackwardBackward0'
