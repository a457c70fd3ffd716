"""Matrix products on CUDA through cuBLAS's gemm, called directly.

cupy.matmul spends about 30 us of host time on a small product (its argument handling and
checks); the same sgemm called directly takes about 14 us (scripts/gpu_parts.py, "LSTM step"
lines, H200). A training step's host time is mostly such products and elementwise launches, so
the products that are plain 2-d GEMMs come here: float32 or float64 operands (one dtype), each
either C-contiguous or the transpose of a C-contiguous matrix (a weight's `.T`, a backward's
swapaxes), and a stack of C-contiguous rows times one matrix (a Linear layer on a (batch, length,
features) input), folded into one GEMM as PyTorch does. Anything else returns None and goes to
cupy.matmul. cuBLAS runs on the current CuPy stream, with the handle's math mode, which nbgrad
never changes from cuBLAS's default (no TF32: PyTorch's default for matmul).

Row-major C = A @ B is column-major C^T = B^T A^T: cuBLAS sees each C-contiguous (r, c) buffer
as a column-major (c, r) matrix, so B's buffer comes first, untransposed if B is C-contiguous and
transposed if it is the transpose of one; A's likewise.
"""
import numpy as np

_ONE = {'f': np.ones(1, np.float32), 'd': np.ones(1, np.float64)}
_ZERO = {'f': np.zeros(1, np.float32), 'd': np.zeros(1, np.float64)}
_INT32 = 2 ** 31 - 1
_state = {'cublas': None, 'tried': False}


def _cublas():
    """CuPy's cuBLAS binding, or None where it cannot be imported."""
    if not _state['tried']:
        _state['tried'] = True
        try:
            from cupy_backends.cuda.libs import cublas
        except ImportError:
            return None
        _state['cublas'] = cublas
    return _state['cublas']


def _layout(m, rows, cols):
    """(transpose flag, leading dimension) of a (rows, cols) operand seen by cuBLAS as its
    column-major transpose, or None if it is neither C-contiguous nor the transpose of a
    C-contiguous matrix."""
    if m.flags.c_contiguous:
        return False, max(cols, 1)
    if m.flags.f_contiguous:
        return True, max(rows, 1)
    return None


def matmul(cp, a, b):
    """a @ b as one cuBLAS gemm, or None where this does not apply (see the module's text)."""
    dtype = a.dtype
    if dtype.char not in 'fd' or b.dtype != dtype or b.ndim != 2 or not a.ndim >= 2 or \
            not a.size or not b.size:
        return None
    if a.ndim > 2:
        if not a.flags.c_contiguous:
            return None
        lead = a.shape[:-1]
        a = a.reshape(-1, a.shape[-1])
    else:
        lead = a.shape[:1]
    (m, k), n = a.shape, b.shape[1]
    if max(m, n, k) > _INT32:
        return None
    a_layout, b_layout = _layout(a, m, k), _layout(b, k, n)
    cublas = _cublas()
    if a_layout is None or b_layout is None or cublas is None:
        return None
    out = cp.empty((m, n), dtype)
    # CuPy shares the handle and may have left another stream or pointer mode on it
    handle = cp.cuda.device.get_cublas_handle()
    cublas.setStream(handle, cp.cuda.get_current_stream().ptr)
    cublas.setPointerMode(handle, cublas.CUBLAS_POINTER_MODE_HOST)
    gemm = cublas.sgemm if dtype.char == 'f' else cublas.dgemm
    (b_t, ldb), (a_t, lda) = b_layout, a_layout
    gemm(handle, cublas.CUBLAS_OP_T if b_t else cublas.CUBLAS_OP_N,
         cublas.CUBLAS_OP_T if a_t else cublas.CUBLAS_OP_N, n, m, k,
         _ONE[dtype.char].ctypes.data, b.data.ptr, ldb, a.data.ptr, lda,
         _ZERO[dtype.char].ctypes.data, out.data.ptr, max(n, 1))
    return out.reshape(lead + (n,))
