"""Ops PyTorch refuses for some dtypes refuse them in nbgrad too, with PyTorch's exception type and
message (found by the sweep of tests/test_sweep_values.py run the other way round: calls PyTorch
rejects and nbgrad computed), so code learned on nbgrad behaves the same on PyTorch."""
import pytest
import torch

import nbgrad


def _bools(lib):
    return lib.tensor([True, False])


def _ints(lib):
    return lib.tensor([1, 2])


CALLS = {
    'ceil of bool': lambda lib: _bools(lib).ceil(),
    'floor of bool': lambda lib: lib.floor(_bools(lib)),
    'round of bool': lambda lib: _bools(lib).round(),
    'trunc of bool': lambda lib: _bools(lib).trunc(),
    'fix of bool': lambda lib: lib.fix(_bools(lib)),
    'nanmean of int': lambda lib: _ints(lib).nanmean(),
    'nanmean of bool with dtype': lambda lib: _bools(lib).nanmean(dtype=lib.float32),
    'trace of bool': lambda lib: lib.ones(2, 2, dtype=lib.bool).trace(),
    'vecdot of int': lambda lib: lib.linalg.vecdot(_ints(lib), _ints(lib)),
    'logaddexp2 of int': lambda lib: lib.logaddexp2(_ints(lib), _ints(lib)),
    'argmax of bool': lambda lib: _bools(lib).argmax(),
    'argmin of bool': lambda lib: lib.argmin(_bools(lib), dim=0),
}


@pytest.mark.parametrize('name', list(CALLS))
def test_refused_as_pytorch_refuses(name):
    with pytest.raises(Exception) as expected:
        CALLS[name](torch)
    with pytest.raises(Exception) as got:
        CALLS[name](nbgrad)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize('call', [lambda lib: lib.tensor([1, 2]).floor(),
                                  lambda lib: lib.tensor([1.5, -2.5]).round(),
                                  lambda lib: lib.tensor([1., 2.]).nanmean(),
                                  lambda lib: lib.tensor([3, 1]).argmax()])
def test_the_dtypes_pytorch_takes_still_work(call):
    assert call(nbgrad).tolist() == call(torch).tolist()
