"""nbgrad._select.select against NumPy's where: the same bits for every dtype, special value,
scalar operand and size (block edges included), through the bit-choosing path where it
serves and through where itself elsewhere."""
import numpy as np
import pytest

from nbgrad import _select
from nbgrad._select import BLOCK, MIN_SIZE, select

SPECIALS = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -3.5, 65504.0]
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
          np.uint8, np.uint64, np.bool_]


def _values(dtype, size, seed):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(size) < 0.5
    if np.dtype(dtype).kind == 'f':
        values = rng.standard_normal(size).astype(dtype)
        values[:len(SPECIALS)] = np.array(SPECIALS).astype(dtype)
        return values
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)


def _same_bits(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('size', [MIN_SIZE, BLOCK - 1, BLOCK, 2 * BLOCK + 17])
def test_the_same_bits_as_numpys_where(dtype, size):
    cond = np.random.default_rng(size).random(size) < 0.5
    a, b = _values(dtype, size, 1), _values(dtype, size, 2)
    assert _select._select_bits(cond, a, b) is not None      # the bit path serves it
    _same_bits(select(np, cond, a, b), np.where(cond, a, b))
    # a NaN's payload and sign, and -0.0, come through as they are
    _same_bits(select(np, cond.reshape(-1, 1), a.reshape(-1, 1), b.reshape(-1, 1)),
               np.where(cond.reshape(-1, 1), a.reshape(-1, 1), b.reshape(-1, 1)))


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64, np.int32, np.bool_],
                         ids=lambda d: np.dtype(d).name)
def test_scalar_operands_promote_as_numpy_does(dtype):
    size = 3 * MIN_SIZE
    cond = np.random.default_rng(3).random((3, MIN_SIZE)) < 0.3
    a = _values(dtype, size, 4).reshape(3, MIN_SIZE)
    scalars = [0, 1, True] if dtype == np.bool_ else [0, 1, -2, 0.5, np.nan]
    if np.dtype(dtype).kind == 'i':
        scalars = [0, 1, -2]
    for scalar in scalars:
        for operands in ((a, scalar), (scalar, a), (np.asarray(scalar, a.dtype), a)):
            _same_bits(select(np, cond, *operands), np.where(cond, *operands))


def test_operands_it_does_not_take_go_to_where():
    rng = np.random.default_rng(5)
    cond = rng.random((64, 128)) < 0.5
    x = rng.standard_normal((64, 128)).astype(np.float32)
    cases = [
        (cond, x.T.copy().T, x[::-1]),                        # not C-contiguous
        (cond, x, x.astype(np.float64)),                      # mixed dtypes: promoted
        (cond, x[:1], x),                                     # broadcast operand
        (cond[:1], x, -x),                                    # broadcast condition
        (cond.astype(np.int8), x, -x),                        # a non-boolean condition
        (cond, x.astype(np.complex64), 0),                    # complex
        (cond[:2, :8], x[:2, :8], 1.0),                       # below MIN_SIZE
    ]
    for c, a, b in cases:
        _same_bits(select(np, c, a, b), np.where(c, a, b))


def test_other_array_modules_use_their_where():
    class Module:
        @staticmethod
        def where(cond, a, b):
            return ('where', cond, a, b)
    assert select(Module, 1, 2, 3) == ('where', 1, 2, 3)
