"""Tensor.resize_ / resize_as_ against PyTorch where NumPy memory can mirror PyTorch's storage
(shrinking keeps the first elements and the memory, growing keeps them in new memory, a same
shape is a no-op), PyTorch's errors, and nbgrad's clear refusals where it cannot (growing a
view, reshaping a non-contiguous tensor)."""
import numpy as np
import pytest
import torch

import nbgrad

CASES = {
    'shrink': lambda lib: lib.arange(6.0).resize_(2, 2),
    'shrink to empty': lambda lib: lib.arange(6.0).resize_(0),
    'same shape non-contiguous': lambda lib: lib.arange(6.0).reshape(2, 3).t().resize_(3, 2),
    'tuple': lambda lib: lib.arange(6.0).resize_((3, 2)),
    'shrunken view': lambda lib: lib.arange(6.0)[:4].resize_(2),
    'resize_as_': lambda lib: lib.arange(6.0).resize_as_(lib.ones(1, 3)),
    'int': lambda lib: lib.arange(6).resize_(5),
}


@pytest.mark.parametrize('case', CASES)
def test_values_match_pytorch(case, device):
    got, expected = CASES[case](nbgrad), CASES[case](torch)
    assert got.tolist() == expected.tolist() and got.stride() == expected.stride()
    x = nbgrad.arange(6.0, device=device)
    assert x.resize_(2, 2).device.type == device


def test_memory_is_kept_when_shrinking_and_the_prefix_when_growing():
    for lib in (torch, nbgrad):
        base = lib.arange(6.0)
        alias = base.view(6)
        base.resize_(2, 2)
        base[0, 0] = 10.0
        assert alias[0].item() == 10.0          # the same memory
        grown = lib.arange(3.0)
        grown.resize_(2, 3)
        assert grown.flatten()[:3].tolist() == [0.0, 1.0, 2.0]
        assert grown.shape == (2, 3)


def test_a_resize_bumps_the_version():
    for lib in (torch, nbgrad):
        x = lib.arange(6.0)
        before = x._version
        x.resize_(2)
        assert x._version > before


@pytest.mark.parametrize('call', [lambda lib: lib.ones(3, requires_grad=True).resize_(2),
                                  lambda lib: lib.ones(3).resize_(2, -1)])
def test_errors_match_pytorch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(nbgrad)
    if 'require grad' in str(expected.value):
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize('call', [lambda: nbgrad.arange(6.0)[:2].resize_(5),
                                  lambda: nbgrad.arange(6.0).reshape(2, 3).t().resize_(6),
                                  lambda: nbgrad.ones(2, 3, 4, 5).resize_(
                                      2, 3, 4, 5, memory_format=nbgrad.channels_last)])
def test_what_numpy_cannot_mirror_is_refused(call):
    with pytest.raises(NotImplementedError):
        call()
