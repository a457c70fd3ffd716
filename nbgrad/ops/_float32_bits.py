"""Exact float32 <-> float64 conversion through the bits, for the GPU.

CuPy's kernels flush float32 subnormals to zero (on an H200 a float32 1e-40 became 0 in
astype(float64) as well as in ldexp and frexp), where PyTorch's CUDA kernels keep them. The ops
whose point is exactness at the bottom of the range (ldexp, frexp) convert through these
instead: the float32 bits are read as integers, the subnormal values rebuilt in float64, and
float64 results below float32's smallest normal rounded (to nearest, ties to even) into the
subnormal bits with integer arithmetic, which no flushing touches.
"""
import numpy as np

_SMALLEST_NORMAL = 2.0 ** -126
_SUBNORMAL_STEP = 2.0 ** -149         # the least float32 subnormal, the unit of their mantissas


def widen(xp, x):
    """float32 array -> float64, exactly, subnormals included."""
    bits = x.view(np.uint32)
    magnitude = (bits & np.uint32(0x007FFFFF)).astype(np.float64) * _SUBNORMAL_STEP
    subnormal = xp.where((bits >> np.uint32(31)) == 1, -magnitude, magnitude)
    return xp.where((bits & np.uint32(0x7F800000)) == 0, subnormal, x.astype(np.float64))


def narrow(xp, x):
    """float64 array -> float32, correctly rounded, subnormal results included."""
    size = xp.abs(x)
    # (fmin keeps larger sizes, infinities and NaN, whose bits come from the cast, in range)
    mantissa = xp.rint(xp.fmin(size, _SMALLEST_NORMAL) * (1.0 / _SUBNORMAL_STEP))
    mantissa = mantissa.astype(np.uint32)
    sign = xp.signbit(x).astype(np.uint32) << np.uint32(31)
    subnormal = mantissa | sign
    normal = x.astype(np.float32).view(np.uint32)
    return xp.where(size < _SMALLEST_NORMAL, subnormal, normal).view(np.float32)
