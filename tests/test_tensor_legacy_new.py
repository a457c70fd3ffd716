"""Tensor.new, PyTorch's legacy constructor (still common in older code: x.new(n).zero_(),
x.new(data)), against PyTorch's own for every form it accepts or refuses."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

FORMS = {
    'nothing': lambda lib, x: x.new(),
    'sizes': lambda lib, x: x.new(2, 3),
    'a Size': lambda lib, x: x.new(lib.Size([4, 1])),
    'one size': lambda lib, x: x.new(5),
    'a list': lambda lib, x: x.new([1, 2]),
    'a tuple is data': lambda lib, x: x.new((2, 3)),
    'nested data': lambda lib, x: x.new([[1, 2]], device='cpu'),
    'same-dtype tensor': lambda lib, x: x.new(lib.tensor([1.5, 2.0], dtype=lib.float64)),
}
REFUSED = {
    'other-dtype tensor': (lambda lib, x: x.new(lib.tensor([1, 2])), TypeError),
    'a float': (lambda lib, x: x.new(2.5), TypeError),
    'a bool': (lambda lib, x: x.new(True), TypeError),
    'a negative size': (lambda lib, x: x.new(-1), RuntimeError),
}


@pytest.mark.parametrize('form', list(FORMS))
def test_new_as_pytorch(form):
    results = [FORMS[form](lib, lib.ones(2, dtype=lib.float64)) for lib in (torch, nbgrad)]
    expected, got = results
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1] == 'float64'
    assert tuple(got.shape) == tuple(expected.shape)
    assert not got.requires_grad
    if form not in ('sizes', 'a Size', 'one size'):          # (uninitialised memory)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_new_of_a_tensor_aliases_it():
    x = nbgrad.ones(2, dtype=nbgrad.float64)
    source = nbgrad.tensor([1.5, 2.0], dtype=nbgrad.float64)
    alias = x.new(source)
    alias[0] = 7.0
    assert source[0].item() == 7.0


@pytest.mark.parametrize('form', list(REFUSED))
def test_new_refuses_as_pytorch(form):
    make, error = REFUSED[form]
    for lib in (torch, nbgrad):
        with pytest.raises(error):
            make(lib, lib.ones(2, dtype=lib.float64))
