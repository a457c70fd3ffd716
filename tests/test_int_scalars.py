"""Python ints written into integer tensors, against PyTorch: unsigned types wrap negatives down
to -max (fill_(-1) on uint8 is 255), beyond the range is PyTorch's RuntimeError (NumPy raised
OverflowError, or wrapped 300 to 44)."""
import pytest

from torch_compare import both

torch = pytest.importorskip('torch')

WRITES = {
    'tensor_negative': lambda lib: lib.tensor([-1, 5], dtype=lib.uint8),
    'tensor_too_big': lambda lib: lib.tensor([300], dtype=lib.uint8),
    'tensor_int8_too_big': lambda lib: lib.tensor([200], dtype=lib.int8),
    'tensor_int16_in_range': lambda lib: lib.tensor([[-32768, 32767]], dtype=lib.int16),
    'fill_negative': lambda lib: lib.zeros(2, dtype=lib.uint8).fill_(-1),
    'fill_beyond_minus_max': lambda lib: lib.zeros(2, dtype=lib.uint8).fill_(-300),
    'fill_int8_too_big': lambda lib: lib.zeros(2, dtype=lib.int8).fill_(200),
    'setitem_negative': lambda lib: _set(lib.zeros(2, dtype=lib.uint8), 0, -1),
    'setitem_int8_too_big': lambda lib: _set(lib.zeros(2, dtype=lib.int8), 0, 128),
    'masked_fill_negative': lambda lib: lib.zeros(2, dtype=lib.uint8).masked_fill(
        lib.tensor([True, False]), -1),
    'masked_fill_int16_too_big': lambda lib: lib.zeros(2, dtype=lib.int16).masked_fill(
        lib.tensor([True, False]), 40000),
    'full_too_big': lambda lib: lib.full((2,), 300, dtype=lib.uint8),
    'full_negative': lambda lib: lib.full((2,), -1, dtype=lib.uint8),
    'full_like_too_big': lambda lib: lib.full_like(lib.zeros(2, dtype=lib.uint8), 2 ** 40),
    'where_int8_too_big': lambda lib: lib.where(lib.tensor([True, False]),
                                                lib.tensor([1, 2], dtype=lib.int8), 1000),
    'where_uint8_negative': lambda lib: lib.where(lib.tensor([True, False]),
                                                  lib.tensor([1, 2], dtype=lib.uint8), -2),
    'index_fill_negative': lambda lib: lib.zeros(3, dtype=lib.uint8).index_fill(
        0, lib.tensor([1]), -1),
    'scatter_negative': lambda lib: lib.zeros(3, dtype=lib.uint8).scatter(0, lib.tensor([1]), -1),
}


def _set(t, i, v):
    t[i] = v
    return t


@pytest.mark.parametrize('case', WRITES)
def test_int_scalar_written_into_an_integer_tensor(case):
    both(WRITES[case])


UNINITIALIZED = {
    'empty': lambda lib, dt: lib.empty(2, 3, dtype=dt),
    'empty_like_transposed': lambda lib, dt: lib.empty_like(lib.zeros(3, 2, dtype=dt).t()),
    'new_empty': lambda lib, dt: lib.zeros(1, dtype=dt).new_empty(4),
    'empty_strided': lambda lib, dt: lib.empty_strided((2, 3), (1, 2), dtype=dt),
    'resize_growth': lambda lib, dt: lib.zeros(2, dtype=dt).resize_(5),
}


@pytest.mark.parametrize('dtype', ['float32', 'float16', 'int64', 'int8', 'uint8', 'bool',
                                   'complex64'])
@pytest.mark.parametrize('case', UNINITIALIZED)
def test_deterministic_mode_fills_uninitialized_memory(case, dtype):
    """Under use_deterministic_algorithms(True), PyTorch's NaN / largest-value fill."""
    def run(lib):
        lib.use_deterministic_algorithms(True)
        try:
            out = UNINITIALIZED[case](lib, getattr(lib, dtype))
            return out, out.stride()
        finally:
            lib.use_deterministic_algorithms(False)
    both(run)


def test_empty_strided_shape_strides_and_errors():
    both(lambda lib: (lambda t: (t.shape, t.stride(), t.is_contiguous(), str(t.dtype)[-7:]))(
        lib.empty_strided((2, 3, 4), (1, 2, 6), dtype=lib.float64)))
    both(lambda lib: lib.empty_strided((2, 3), (1,)))
