"""Matrix products of float16 NumPy arrays, computed in float32 and rounded once.

NumPy has no float16 BLAS: its float16 matmul is a plain loop, about 300 times slower than the
float32 GEMM (512^3: 378 ms against 1.3 ms here; PyTorch's own CPU half GEMM took 100 ms), which
made autocast on the CPU a trap. PyTorch's CPU half GEMMs accumulate in float32 too, so the
results agree with PyTorch's as closely as NumPy's loop did (both to a float16 rounding)."""
import numpy as np

from . import _cublas_gemm

_HALF = np.dtype(np.float16)


def matmul(xp, a, b, add=None):
    """xp.matmul(a, b) (+ add, broadcast over the product: a bias), float16 NumPy operands
    through float32, the bias added before the one rounding to half (as PyTorch's half addmm
    and its linear/conv biases). On NumPy a stack of matrices times one matrix (a Linear
    layer's (batch, length, features) input) is one product of all the stack's rows, as PyTorch
    folds it: NumPy's matmul would multiply the stack's matrices one BLAS call at a time (a
    Transformer step's 3-d products took twice as long)."""
    if xp is not np:
        out = _cublas_gemm.matmul(xp, a, b)     # plain GEMMs, at half cupy.matmul's host time
        out = xp.matmul(a, b) if out is None else out
        if add is not None:
            out += add
        return out
    if a.ndim > 2 and b.ndim == 2 and a.size and a.shape[-1] and (add is None or add.ndim <= 1):
        rows = a.reshape(-1, a.shape[-1])     # (a copy where the stack's rows are not evenly
        return _product(rows, b, add).reshape(a.shape[:-1] + b.shape[1:])  # spaced in memory)
    return _product(a, b, add)


def _product(a, b, add=None):
    if a.dtype == _HALF and b.dtype == _HALF:
        out = np.matmul(a.astype(np.float32), b.astype(np.float32))
        if add is not None:
            out += add.astype(np.float32)
        return out.astype(_HALF)
    if a.shape[-1] == 1 and a.ndim == 2 and b.ndim == 2:
        # an outer product: elementwise, so 0 * -1 is -0 as in PyTorch's float32/64 mm (a GEMM
        # adds the products to +0, as PyTorch's half GEMM and batched bmm do), and no BLAS call
        out = a * b
    else:
        out = np.matmul(a, b)
    if add is not None:
        out += add
    return out


def einsum(equation, *arrays, **options):
    """np.einsum, float16 operands through float32 (its contractions call BLAS only there)."""
    if arrays and all(a.dtype == _HALF for a in arrays):
        widened = [a.astype(np.float32) for a in arrays]
        return np.einsum(equation, *widened, **options).astype(_HALF)
    return np.einsum(equation, *arrays, **options)
