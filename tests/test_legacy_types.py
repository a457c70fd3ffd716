"""Old PyTorch code's typed constructors (FloatTensor([1, 2]), LongTensor(3)...) against PyTorch."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
NAMES = ['FloatTensor', 'DoubleTensor', 'HalfTensor', 'LongTensor', 'IntTensor', 'ShortTensor',
         'CharTensor', 'ByteTensor', 'BoolTensor']


@pytest.mark.parametrize('name', NAMES)
def test_constructors_and_isinstance(name):
    for lib in (torch, nbgrad):
        cls = getattr(lib, name)
        from_data = cls([1, 0, 1])
        assert isinstance(from_data, cls)
        assert isinstance(from_data, lib.Tensor)
        assert tuple(cls(2, 3).shape) == (2, 3)
    got, expected = nbgrad_result(name), getattr(torch, name)([1, 0, 1])
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    others = [n for n in NAMES if n != name]
    assert not any(isinstance(got, getattr(nbgrad, n)) for n in others)


def nbgrad_result(name):
    return getattr(nbgrad, name)([1, 0, 1])


def test_type_with_a_legacy_class():
    for lib in (torch, nbgrad):
        x = lib.ones(2).type(lib.DoubleTensor)
        assert str(x.dtype).endswith('float64')
        assert lib.ones(2).type().endswith('.FloatTensor')
