"""add and sub with alpha: input + alpha * other (input - alpha * other) as one node, as
PyTorch's add and sub with alpha are (one AddBackward0 or SubBackward0; the gradient of other is
grad * alpha, of sub's -grad * alpha).

PyTorch's CPU kernel is a fused multiply-add, fmadd(other, alpha, input): the exact value
rounded once. Half and bfloat16 compute it in float with alpha cast to their own dtype: their
products are exact in float, so float arithmetic here gives PyTorch's numbers bit for bit. The
kernel's scalar loop, which takes the elements after the last whole vector block in each
contiguous run (and runs too short for a block: any tensor under 32 elements), computes in the
dtype's own arithmetic and rounds alpha * other first; scalar_tail finds those elements.
float32 and float64 round alpha * other and then the sum: a float32 fused multiply-add costs
NumPy five times the two plain passes (float64 temporaries), so these can differ from PyTorch's
in the last bit, as the optimizers' steps can.
"""
import math

import numpy as np

from .._bfloat16 import to_bfloat16
from .._int_scalars import fits
from .._tensor import Tensor
from ._elementwise_op import _in_operands_layout
from ._util import promote, xp_of


def alpha_form(name, input, other, alpha):
    """(the op computing input + alpha * other for name 'add', - for 'sub', the operands),
    after PyTorch's checks of alpha."""
    if input.__class__ is Tensor and other.__class__ is Tensor and \
            _plain(input._data, other._data) and alpha.__class__ in (float, int):
        return _FORMS[name](alpha, name), input, other     # (the common case, checked quickly)
    from .elementwise import BINARY, mul
    if isinstance(alpha, Tensor):       # (a Scalar argument: PyTorch reads a 0-dim tensor's value)
        alpha = alpha.item()
    dt = promote([x._data if isinstance(x, Tensor) else x for x in (input, other)])
    if dt.kind in 'biu' and isinstance(alpha, float):
        raise RuntimeError('For integral input tensors, argument alpha must not be a floating '
                           'point number.')
    if dt.kind != 'c' and isinstance(alpha, complex):
        raise RuntimeError('For non-complex input tensors, argument alpha must not be a complex '
                           'number.')
    if dt.kind == 'b':  # for bool tensors alpha is a bool too: other, or nothing
        return BINARY[name](), input, (other if alpha else mul(other, False))
    alpha = fits(alpha, dt)     # (alpha=300 on uint8: PyTorch's overflow error)
    if name == 'sub' and dt.kind in 'iu':
        fits(-alpha, dt)        # (PyTorch's sub adds -alpha: -(-128) overflows int8)
    if any(isinstance(x, Tensor) and x.is_sparse for x in (input, other)):
        return BINARY[name](), input, mul(other, alpha)    # (sparse: scaled, then added)
    return _FORMS[name](alpha, name), input, other


# elements in one block of PyTorch's vectorized loop for half and bfloat16 (measured: PyTorch
# 2.13's CPU build, AVX-512 or AVX2, fuses the first 32 * (n // 32) of n contiguous elements)
_BLOCK = 32


def _scaled_sum(a, b, alpha, subtract, reduced=None):
    """a + alpha * b (a - alpha * b), rounded as in PyTorch where NumPy allows (see the module
    docstring); reduced: the half or bfloat16 NumPy dtype whose arithmetic the result is in
    (bfloat16 operands come as float32 holding bfloat16 values)."""
    xp = xp_of(a, b)
    dtype = (a if hasattr(a, 'dtype') else b).dtype     # (_prepare gave both operands it)
    combine = xp.subtract if subtract else xp.add
    if reduced is None and dtype == np.float16 and xp is np:
        reduced = dtype
    if reduced is None:
        if dtype.kind in 'iu':      # in the dtype's own arithmetic, wrapping as PyTorch's does
            return combine(xp.asarray(a, dtype), xp.asarray(alpha, dtype) * xp.asarray(b, dtype))
        out = combine(a, (dtype.type(alpha) if dtype.kind == 'f' else alpha) * b)
        return out if xp is np else _in_operands_layout(xp, (a, b), out)
    # in float with alpha (and a number operand) in the reduced dtype
    alpha = np.float32(reduced.type(alpha))
    if dtype == reduced:        # (half: to float; bfloat16 came as float32 already)
        a, b = (np.asarray(x, dtype).astype(np.float32) for x in (a, b))
    product = alpha * np.asarray(b, np.float32)      # (exact)
    out = combine(a, product)
    tail = scalar_tail(out.shape, np.shape(a), np.shape(b))
    if tail is not None:        # the scalar loop rounds the product to the dtype first
        rounded = product.astype(reduced).astype(np.float32)
        out = np.where(tail, combine(a, rounded), out)
    return out.astype(dtype) if dtype == reduced else out


def scalar_tail(shape, *operand_shapes):
    """Where PyTorch's elementwise loop over an output of shape (the operands C-ordered and
    broadcast to it) takes its scalar path: a boolean array of shape, or None if nowhere. The
    loop runs over the trailing dimensions that coalesce (each operand spans all of them, or is
    broadcast along all of them; size-1 ones go with any) in blocks of _BLOCK elements, the
    rest one at a time."""
    if not shape:
        return np.ones((), bool)
    spans = [tuple(len(s) - len(shape) + d >= 0 and s[len(s) - len(shape) + d] != 1
                   for d in range(len(shape))) for s in operand_shapes]
    d = len(shape) - 1
    while d > 0 and shape[d] == 1:
        d -= 1
    inner = d           # the innermost dimension of size > 1: the run's pattern is its
    run = math.prod(shape[d:])
    while d > 0 and (shape[d - 1] == 1 or all(span[d - 1] == span[inner] for span in spans)):
        d -= 1
        run *= shape[d]
    if run % _BLOCK == 0:
        return None
    within = np.arange(run) >= run - run % _BLOCK
    return np.broadcast_to(within, (math.prod(shape) // run, run)).reshape(shape)


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def _plain(a, b):
    """Two host float32 (or float64) arrays of one dtype: NumPy's arithmetic is the op's."""
    return a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.dtype is b.dtype and \
        (a.dtype is _FLOAT32 or a.dtype is _FLOAT64)


def _fits_in(shape, target):
    """Whether shape broadcasts to target itself (not to something larger)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _with_alpha(base):
    class WithAlpha(base):
        ufunc = np_ufunc = None     # (no plain-ufunc shortcuts: alpha is part of the op)
        _bfloat16 = None            # the bfloat16 NumPy dtype where the result is bfloat16

        def __init__(self, alpha, name):
            self.alpha = self._forward_alpha = alpha
            self._subtract = name == 'sub'
            self._combine = np.subtract if self._subtract else np.add

        def round_scalar_settings(self, bfloat16):
            # PyTorch's bfloat16 kernel multiplies by alpha cast to bfloat16; the gradient
            # multiplies by alpha as given
            self._forward_alpha = to_bfloat16(self.alpha, bfloat16)
            self._bfloat16 = bfloat16

        def forward(self, a, b):
            if _plain(a, b) and self._bfloat16 is None:     # (the common case, in two passes)
                product = np.multiply(b, a.dtype.type(self._forward_alpha))
                if product.__class__ is np.ndarray and product.shape == a.shape:
                    return self._combine(a, product, out=product)  # (0-dim: a NumPy scalar)
                return self._combine(a, product)
            a, b = self._prepare((a, b))
            return _scaled_sum(a, b, self._forward_alpha, self._subtract, self._bfloat16)

        def forward_into(self, out, a, b):
            if _plain(a, b) and self._bfloat16 is None and out.dtype is a.dtype and \
                    out.shape == a.shape and out.flags.writeable and \
                    (b.shape == a.shape or _fits_in(b.shape, a.shape)):
                # (the product first, so other may be out itself: x.add_(x, alpha=2))
                product = np.multiply(b, a.dtype.type(self._forward_alpha))
                return self._combine(a, product, out=out)
            return self.forward(a, b)

        def backward(self, g):
            from .elementwise import mul
            g_input, g_other = base.backward(self, g)
            alpha = self.alpha.conjugate() if isinstance(self.alpha, complex) else self.alpha
            return g_input, (None if g_other is None else mul(g_other, alpha))
    WithAlpha.__name__ = WithAlpha.__qualname__ = f'{base.__name__}WithAlpha'
    return WithAlpha


def _forms():
    from .elementwise import BINARY
    return {name: _with_alpha(BINARY[name]) for name in ('add', 'sub')}


_FORMS = _forms()
