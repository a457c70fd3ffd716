"""nbgrad._scalar_bounds against NumPy's maximum/minimum with the scalar itself: the same bits
(NaN payloads and signed zeros included) for every dtype, bound and size, block edges too."""
import numpy as np
import pytest

from nbgrad import _scalar_bounds
from nbgrad._scalar_bounds import BLOCK, MIN_SIZE

SPECIALS = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -3.5, 6.0]


def _array(dtype, size):
    rng = np.random.default_rng(size)
    if np.dtype(dtype).kind == 'f':
        a = (rng.standard_normal(size) * 4).astype(dtype)
        a[:len(SPECIALS)] = np.array(SPECIALS).astype(dtype)
        return a
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64, np.int8, np.int32,
                                   np.int64, np.uint8], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('size', [MIN_SIZE, BLOCK + 5, 3 * BLOCK])
@pytest.mark.parametrize('name', ['maximum', 'minimum'])
def test_the_same_bits_as_numpy_against_the_scalar(dtype, size, name):
    a = _array(dtype, size).reshape(-1, 1)
    bounds = [0, 3, 0.0, -0.0, 6.5, np.nan, np.inf] if np.dtype(dtype).kind == 'f' else [0, 3]
    for bound in bounds:
        got = getattr(_scalar_bounds, name)(np, a, bound)
        expected = getattr(np, name)(a, bound)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes(), bound


def test_what_it_does_not_take_goes_to_numpy():
    a = _array(np.float32, 4 * MIN_SIZE).reshape(64, -1)
    for x, bound in [(a.T, 0.0), (a, a[:1]), (a, np.float64(0.5)), (a.astype(np.int16), 2.5),
                     (a[:2, :3], 0.0), (a.astype(np.complex64), 0)]:
        np.testing.assert_array_equal(_scalar_bounds.maximum(np, x, bound), np.maximum(x, bound))
