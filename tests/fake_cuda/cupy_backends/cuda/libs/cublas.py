"""Fake cupy_backends.cuda.libs.cublas: sgemm/dgemm with cuBLAS's column-major semantics over
host addresses (the fake CuPy's data pointers), so nbgrad's direct GEMM calls (ops/_cublas_gemm)
are checked for their operand order, transpose flags and leading dimensions. The argument
checks are cuBLAS's (leading dimensions at least the stored rows; host pointer mode)."""
import ctypes

import numpy as np

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUBLAS_POINTER_MODE_HOST, CUBLAS_POINTER_MODE_DEVICE = 0, 1
_pointer_modes, _streams = {}, {}
calls = []          # (dtype, m, n, k) of each gemm, for tests that count them


def setStream(handle, stream):
    _streams[handle] = stream


def setPointerMode(handle, mode):
    _pointer_modes[handle] = mode


def _at(address, count, dtype):
    buffer = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(address)
    return np.frombuffer(buffer, dtype)


def _matrix(address, rows, cols, ld, dtype, writable=False):
    """The column-major (rows, cols) matrix at address with leading dimension ld."""
    if ld < max(1, rows):
        raise ValueError(f'CUBLAS_STATUS_INVALID_VALUE: ld {ld} < rows {rows}')
    flat = _at(address, ld * (cols - 1) + rows, dtype)
    item = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat, (rows, cols), (item, ld * item),
                                           writeable=writable)


def _gemm(dtype, handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    assert _pointer_modes.get(handle) == CUBLAS_POINTER_MODE_HOST
    op_a = _matrix(a, k, m, lda, dtype).T if transa == CUBLAS_OP_T else _matrix(a, m, k, lda,
                                                                               dtype)
    op_b = _matrix(b, n, k, ldb, dtype).T if transb == CUBLAS_OP_T else _matrix(b, k, n, ldb,
                                                                               dtype)
    out = _matrix(c, m, n, ldc, dtype, writable=True)
    alpha, beta = _at(alpha, 1, dtype)[0], _at(beta, 1, dtype)[0]
    result = alpha * (op_a @ op_b)
    out[...] = result + beta * out if beta else result
    calls.append((np.dtype(dtype).name, m, n, k))


def sgemm(*args):
    _gemm(np.float32, *args)


def dgemm(*args):
    _gemm(np.float64, *args)
