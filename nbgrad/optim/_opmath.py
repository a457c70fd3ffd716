"""float16 and bfloat16 optimizer steps with PyTorch's roundings.

PyTorch's CPU kernels compute every op on float16 tensors in float32 ('opmath') and round the
op's result to float16 once. nbgrad's element-wise kernels (in each optimizer's module) split and
reorder PyTorch's ops for speed, which is harmless in float32 and float64 but in float16 gives
different numbers after a few steps. So for float16 (and bfloat16, likewise) parameters an
optimizer runs its `reference`
step instead: PyTorch's single-tensor step (torch/optim/<name>.py, _single_tensor_<name>) written
op by op in Tensor-method syntax, run on `Half` arrays whose methods are those ops with
PyTorch's roundings. (The same reference code runs on real Tensors for differentiable=True.)

The scalars follow PyTorch's TensorIterator: `alpha` of add/sub and a Python number added to a
tensor are cast to float16 first; multipliers, lerp weights and addcmul/addcdiv values are
float32. lerp is computed as one fused multiply-add (float64 here: exact product, and the sum
rounds to float32 as the FMA does, then to float16).

An add with alpha follows PyTorch's two loops: its vectorized loop computes the product in
float (exact) and rounds the sum once; its scalar loop, over the last numel % 32 elements (all of
a tensor under 32), rounds the product to the dtype first (ops/scaled_sum.py, scalar_tail).
"""
import numpy as np

from ..ops._util import xp_of
from ..ops.scaled_sum import scalar_tail

_f32 = np.float32


class Half:
    """A float16 array (NumPy or CuPy) with the Tensor methods that PyTorch's optimizer steps use;
    in-place methods write into the array."""
    __slots__ = ('a',)

    def __init__(self, array):
        self.a = array

    # -- helpers ---------------------------------------------------------------------------------
    def _f(self):
        return self.a.astype(_f32)

    def _new(self, value):
        return Half(xp_of(self.a).asarray(value, dtype=self.a.dtype))

    def _set(self, value):
        self.a[...] = value           # one rounding to float16
        return self

    @staticmethod
    def _of(x):
        return x._f() if isinstance(x, Half) else x

    def _cast(self, x):
        """A Python number as PyTorch casts it to the tensor's dtype (float16 or bfloat16),
        in float32."""
        return _f32(self.a.dtype.type(x))

    def _sum(self, other, alpha):
        if isinstance(other, Half):
            if alpha == 1:
                return self._f() + other._f()
            product = self._cast(alpha) * other._f()      # (exact in float32)
            out = self._f() + product
            tail = scalar_tail(out.shape, out.shape, other.a.shape)
            if tail is not None:    # PyTorch's scalar loop rounds the product first
                rounded = product.astype(self.a.dtype).astype(_f32)
                out = xp_of(out).where(tail, self._f() + rounded, out)
            return out
        return self._f() + self._cast(alpha * other)

    # -- PyTorch's ops -----------------------------------------------------------------------------
    def __neg__(self):
        return self._new(-self.a)

    def detach(self):
        return self

    def clone(self):
        return Half(self.a.copy())

    def copy_(self, src):
        self.a[...] = src.a
        return self

    def add(self, other, alpha=1):
        return self._new(self._sum(other, alpha))

    def add_(self, other, alpha=1):
        return self._set(self._sum(other, alpha))

    def sub(self, other, alpha=1):
        return self.add(other, -alpha)

    def mul_(self, other):
        return self._set(self._f() * (other._f() if isinstance(other, Half) else _f32(other)))

    def __truediv__(self, other):
        return self._new(self._f() / (other._f() if isinstance(other, Half) else _f32(other)))

    def sqrt(self):
        return self._new(xp_of(self.a).sqrt(self._f()))

    def sqrt_(self):
        self.a[...] = self.sqrt().a
        return self

    def addcmul(self, t1, t2, value=1):
        return self._new(self._f() + _f32(value) * t1._f() * t2._f())

    def addcmul_(self, t1, t2, value=1):
        return self._set(self._f() + _f32(value) * t1._f() * t2._f())

    def addcdiv_(self, t1, t2, value=1):
        return self._set(self._f() + _f32(value) * (t1._f() / t2._f()))

    def lerp_(self, end, weight):
        start, end, w = self._f(), end._f(), _f32(weight)
        diff = (end - start).astype(np.float64)
        if abs(w) < 0.5:
            value = start.astype(np.float64) + np.float64(w) * diff
        else:
            value = end.astype(np.float64) - diff * np.float64(_f32(1) - w)
        return self._set(value.astype(_f32))

    def maximum_(self, other):
        """torch.maximum(self, other, out=self) (exact in any precision)."""
        xp_of(self.a).maximum(self.a, other.a, out=self.a)
        return self


def run_reference(reference, cfg, arrays):
    """reference(cfg, param, grad, *states) on float16 raw arrays, in place."""
    reference(cfg, *[Half(a) for a in arrays])
