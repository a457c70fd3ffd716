"""torch.nn.modules.utils against PyTorch's: the argument helpers custom layers import, and
consume_prefix_in_state_dict_if_present on a wrapped model's state_dict (keys and _metadata)."""
import pytest
import torch

import nbgrad
from nbgrad.nn.modules import utils as ours

theirs = torch.nn.modules.utils


@pytest.mark.parametrize('name', ['_single', '_pair', '_triple', '_quadruple'])
@pytest.mark.parametrize('value', [3, (1, 2), [4, 5, 6], 'ab', range(3)])
def test_tuple_helpers_match_pytorch(name, value):
    assert getattr(ours, name)(value) == getattr(theirs, name)(value)
    assert getattr(ours, name).__name__ == getattr(theirs, name).__name__


def test_reverse_repeat_and_list_with_default_match_pytorch():
    assert ours._reverse_repeat_tuple((1, 2, 3), 2) == theirs._reverse_repeat_tuple((1, 2, 3), 2)
    for size, defaults in (([None, 4], [8, 9, 10]), (5, [1, 2]), ([2, None, 3], [7, 6, 5, 4])):
        assert ours._list_with_default(size, defaults) == \
            theirs._list_with_default(size, defaults)
    for module in (ours, theirs):
        with pytest.raises(ValueError, match='Input dimension should be at least 3'):
            module._list_with_default([None, 4], [8, 9])


def _wrapped_state_dict(lib):
    lib.manual_seed(0)
    inner = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
    wrapper = lib.nn.Module()
    wrapper.module = inner
    return wrapper.state_dict()


def test_consume_prefix_strips_keys_and_metadata_as_pytorch():
    results = []
    for lib, module in ((torch, theirs), (nbgrad, ours)):
        state = _wrapped_state_dict(lib)
        module.consume_prefix_in_state_dict_if_present(state, 'module.')
        results.append((list(state.keys()), sorted(state._metadata.keys())))
        lib.manual_seed(1)
        bare = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        assert not bare.load_state_dict(state).missing_keys
    assert results[1] == results[0]
    assert ours.__all__ == theirs.__all__
