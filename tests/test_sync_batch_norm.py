"""nn.SyncBatchNorm against PyTorch without torch.distributed (PyTorch then normalises over the
local batch, as nbgrad always does for now): values, gradients, running statistics and reprs
after convert_sync_batchnorm on a nested model, inputs of 2 to 5 dims, eval mode, errors."""
import numpy as np
import pytest
import torch

import nbgrad


def _convert_and_run(lib, shape, train=True):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(shape[-1], shape[-1]), nn.BatchNorm1d(shape[1])
                          if len(shape) <= 3 else nn.BatchNorm2d(shape[1]),
                          nn.Sequential(nn.BatchNorm2d(shape[1], affine=False, momentum=None)
                                        if len(shape) == 4 else nn.Identity()))
    weight = model[1].weight
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.train(train)
    x = lib.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32),
                   requires_grad=True)
    for _ in range(2):
        y = model(x)
    y.pow(2).sum().backward()
    return (repr(model), model[1].weight is weight, y.detach().numpy(), x.grad.numpy(),
            {k: v.numpy() for k, v in model.state_dict().items()}, model[1].training)


@pytest.mark.parametrize('shape', [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
def test_converted_model_matches_pytorch(shape, train):
    got, expected = _convert_and_run(nbgrad, shape, train), _convert_and_run(torch, shape, train)
    assert got[0] == expected[0] and got[1] is expected[1] is True and got[5] == expected[5]
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[3], expected[3], rtol=1e-4, atol=1e-5)
    assert got[4].keys() == expected[4].keys()
    for key in got[4]:
        np.testing.assert_allclose(got[4][key], expected[4][key], rtol=1e-5, atol=1e-6)


def test_five_dims_and_constructor():
    for lib in (torch, nbgrad):
        layer = lib.nn.SyncBatchNorm(3, momentum=None, bias=False, process_group=None)
        x = lib.ones(2, 3, 2, 2, 2)
        assert tuple(layer(x).shape) == (2, 3, 2, 2, 2) and layer.process_group is None
    assert repr(nbgrad.nn.SyncBatchNorm(3, bias=False)) == \
        repr(torch.nn.SyncBatchNorm(3, bias=False))


@pytest.mark.parametrize('make_input', [lambda lib: lib.ones(3), lambda lib: lib.ones(2, 0, 4)],
                         ids=['1-d', 'no channels'])
def test_errors_match_pytorch(make_input):
    with pytest.raises(ValueError) as expected:
        torch.nn.SyncBatchNorm(0 if make_input(torch).dim() == 3 else 3)(make_input(torch))
    with pytest.raises(ValueError) as got:
        nbgrad.nn.SyncBatchNorm(0 if make_input(nbgrad).dim() == 3 else 3)(make_input(nbgrad))
    assert str(got.value) == str(expected.value)
