"""linear_cross_entropy, nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions against
PyTorch 2.13: values and gradients (input, weight, bias) for class-index and probability
targets, K-dimensional losses, class weights, ignore_index, label smoothing and every
reduction; `options` (validated, same numbers, PyTorch's warning where it cannot apply); the
module's seeded weights, state_dict and repr; PyTorch's errors."""
import warnings

import numpy as np
import pytest
import torch

import nbgrad

N, D, C = 5, 4, 3


def _case(lib, *, out=(), batched=True, bias=False, target='index', weight=False,
          options=None, **kwargs):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((N, D) if batched else (D,)), dtype=lib.float64,
                   requires_grad=True)
    w = lib.tensor(rng.standard_normal((C, *out, D)), dtype=lib.float64, requires_grad=True)
    b = lib.tensor(rng.standard_normal((C, *out)), dtype=lib.float64, requires_grad=True) \
        if bias else None
    shape = ((N,) if batched else ()) + out
    if target == 'index':
        y = lib.tensor(rng.integers(0, C, shape))
        if kwargs.get('ignore_index') == 1:
            y = lib.tensor(np.where(rng.random(shape) < 0.3, 1, y.numpy()))
    else:
        p = rng.random(((N,) if batched else ()) + (C,) + out)
        y = lib.tensor(p / p.sum(1 if batched else 0, keepdims=True), dtype=lib.float64)
    if weight:
        kwargs['weight'] = lib.tensor([0.2, 1.0, 3.0], dtype=lib.float64)
    if options is not None:
        kwargs['options'] = lib.nn.LinearCrossEntropyOptions(**options)
    loss = lib.nn.functional.linear_cross_entropy(x, w, y, linear_bias=b, **kwargs)
    loss.sum().backward()
    grads = [t.grad.numpy() for t in (x, w, b) if t is not None]
    return loss.detach().numpy(), grads


CASES = {
    'plain': {}, 'unbatched': dict(batched=False), 'bias': dict(bias=True),
    'k-dim': dict(out=(2,), bias=True), 'k-dim 2': dict(out=(2, 3)),
    'weight': dict(weight=True), 'ignore_index': dict(ignore_index=1),
    'label_smoothing': dict(label_smoothing=0.2, weight=True),
    'sum': dict(reduction='sum'), 'none': dict(reduction='none', bias=True),
    'none k-dim': dict(reduction='none', out=(2,)),
    'probabilities': dict(target='probabilities'),
    'probabilities k-dim': dict(target='probabilities', out=(2,), label_smoothing=0.1),
    'options': dict(options={}), 'options none': dict(options={'batch_chunk_size': 2},
                                                      reduction='none'),
}


@pytest.mark.parametrize('case', CASES)
def test_values_and_gradients_match_pytorch(case):
    with warnings.catch_warnings(record=True) as warned_t:
        warnings.simplefilter('always')
        expected = _case(torch, **CASES[case])
    with warnings.catch_warnings(record=True) as warned_nb:
        warnings.simplefilter('always')
        got = _case(nbgrad, **CASES[case])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-14)
    assert len(got[1]) == len(expected[1])
    for g_nb, g_t in zip(*(got[1], expected[1])):
        np.testing.assert_allclose(g_nb, g_t, rtol=1e-10, atol=1e-13)
    assert [str(w.message) for w in warned_nb] == [str(w.message) for w in warned_t]


def test_options_that_cannot_apply_warn_as_pytorch():
    kwargs = dict(options={}, label_smoothing=0.1)
    with pytest.warns(UserWarning) as expected:
        _case(torch, **kwargs)
    with pytest.warns(UserWarning) as got:
        _case(nbgrad, **kwargs)
    assert str(got[0].message).replace('nbgrad', 'torch') == str(expected[0].message)


@pytest.mark.parametrize('options', [
    dict(acc_policy='fast'), dict(chunking_method='rows'), dict(chunking_method='aspect_ratio:0'),
    dict(batch_chunk_size=0), dict(batch_chunk_size=2.5), dict(acc_dtype='int32')])
def test_options_validation_matches_pytorch(options):
    def make(lib):
        fixed = dict(options, acc_dtype=lib.int32) if 'acc_dtype' in options else options
        return lib.nn.LinearCrossEntropyOptions(**fixed)
    with pytest.raises(ValueError) as expected:
        make(torch)
    with pytest.raises(ValueError) as got:
        make(nbgrad)
    assert str(got.value).replace('nbgrad', 'torch') == str(expected.value)


@pytest.mark.parametrize('call', [
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x[0, 0], w, y),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x.reshape(2, 2, 5), w, y),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x, w[0], y),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x[:, :3], w, y),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x, w, y,
                                                                linear_bias=lib.zeros(2)),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(x[0], w.reshape(3, 1, 4), y),
    lambda lib, x, w, y: lib.nn.functional.linear_cross_entropy(
        x, w, lib.full((5, 3), 1 / 3), ignore_index=0),
    lambda lib, x, w, y: lib.nn.LinearCrossEntropyLoss(4, 3, weight=lib.ones(2)),
    lambda lib, x, w, y: lib.nn.LinearCrossEntropyLoss(4, 3, label_smoothing=1.5),
], ids=['0-d input', '3-d input', '1-d weight', 'in_features', 'bias shape', 'k-dim unbatched',
        'ignore_index with probabilities', 'module weight', 'module label_smoothing'])
def test_errors_match_pytorch(call):
    def args(lib):
        return lib.ones(5, 4), lib.ones(3, 4), lib.zeros(5, dtype=lib.int64)
    with pytest.raises(RuntimeError) as expected:
        call(torch, *args(torch))
    with pytest.raises(RuntimeError) as got:
        call(nbgrad, *args(nbgrad))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize('kwargs', [dict(), dict(out_features=(2,), bias=True,
                                                 reduction='sum', label_smoothing=0.1)])
def test_module_matches_pytorch(kwargs):
    def run(lib):
        lib.manual_seed(3)
        module = lib.nn.LinearCrossEntropyLoss(4, 3, **kwargs)
        x = lib.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=lib.float32)
        y = lib.tensor(np.arange(5 * np.prod(kwargs.get('out_features', ()), dtype=int))
                       .reshape((5,) + kwargs.get('out_features', ())) % 3)
        loss = module(x, y)
        loss.backward()
        return (loss.item(), {k: v.detach().numpy() for k, v in module.state_dict().items()},
                module.linear.weight.grad.numpy(), repr(module))
    got, expected = run(nbgrad), run(torch)
    assert got[0] == pytest.approx(expected[0], rel=1e-6)
    assert got[1].keys() == expected[1].keys()
    for key in got[1]:
        np.testing.assert_array_equal(got[1][key], expected[1][key])
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-5, atol=1e-7)
    assert got[3] == expected[3]
