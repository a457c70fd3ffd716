"""nn.DataParallel, nn.parallel.data_parallel and the pieces (scatter, replicate, parallel_apply,
gather). Without CUDA it wraps the module and calls it (compared with PyTorch's DataParallel,
which does the same on this CPU-only oracle). On 'cuda' (two devices on the fake CuPy) the batch
is split: outputs, gradients and BatchNorm's running statistics must equal the module applied to
each chunk separately in PyTorch on the CPU, with the chunks' gradients summed."""
import collections
import copy
import warnings

import numpy as np
import pytest
import torch

import nbgrad


def _model(lib, batch_norm=False):
    lib.manual_seed(0)
    nn = lib.nn
    layers = [nn.Linear(4, 8)] + ([nn.BatchNorm1d(8)] if batch_norm else []) + \
        [nn.ReLU(), nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def _batch(n=7):
    return np.random.default_rng(1).standard_normal((n, 4)).astype(np.float32)


def test_without_cuda_it_calls_the_module_like_pytorch(monkeypatch):
    monkeypatch.setattr(nbgrad.cuda, 'is_available', lambda: False)
    results = []
    for lib in (torch, nbgrad):
        model = _model(lib)
        dp = lib.nn.DataParallel(model)
        x = lib.tensor(_batch())
        out = dp(x)
        out.sum().backward()
        results.append((out.detach().numpy(), model[0].weight.grad.numpy(), dp.device_ids,
                        list(dp.state_dict()), repr(dp), dp.module is model))
    got, expected = results[1], results[0]
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-6)
    assert got[2:] == expected[2:]


def _cuda_only(device, devices=2):
    if device != 'cuda':
        pytest.skip('cuda only')
    if nbgrad.cuda.device_count() < devices:
        pytest.skip(f'needs {devices} CUDA devices')


def _chunked_reference(batch, batch_norm):
    """PyTorch on the CPU: the module on each chunk (replica 0 updating the real module's
    BatchNorm statistics, the other replicas' updates lost), outputs concatenated."""
    model = _model(torch, batch_norm)
    x = torch.tensor(batch)
    chunks = x.chunk(2)
    replica = copy.deepcopy(model)
    outputs = [model(chunks[0])] + [replica(c) for c in chunks[1:]]
    out = torch.cat(outputs)
    out.pow(2).sum().backward()
    grads = [a.grad + b.grad for a, b in zip(model.parameters(), replica.parameters())] \
        if len(chunks) > 1 else [p.grad for p in model.parameters()]
    return out.detach().numpy(), [g.numpy() for g in grads], model


@pytest.mark.cuda
@pytest.mark.parametrize('batch_norm', [False, True], ids=['mlp', 'batch norm'])
def test_split_over_two_devices_matches_chunks_applied_separately(device, batch_norm):
    _cuda_only(device)
    model = _model(nbgrad, batch_norm).cuda()
    dp = nbgrad.nn.DataParallel(model)
    assert dp.device_ids == [0, 1] and dp.output_device == 0
    out = dp(nbgrad.tensor(_batch()).cuda())
    assert out.device == nbgrad.device('cuda:0')
    out.pow(2).sum().backward()
    expected_out, expected_grads, reference = _chunked_reference(_batch(), batch_norm)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected_out, rtol=1e-5, atol=1e-6)
    for p, g in zip(model.parameters(), expected_grads):
        assert p.grad.device == nbgrad.device('cuda:0')
        np.testing.assert_allclose(p.grad.cpu().numpy(), g, rtol=1e-4, atol=1e-5)
    if batch_norm:
        for name in ('running_mean', 'running_var', 'num_batches_tracked'):
            np.testing.assert_allclose(getattr(model[1], name).cpu().numpy(),
                                       getattr(reference[1], name).numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.cuda
def test_a_batch_smaller_than_the_devices_uses_fewer_replicas(device):
    _cuda_only(device)
    model = _model(nbgrad).cuda()
    out = nbgrad.nn.DataParallel(model)(nbgrad.tensor(_batch(1)).cuda())
    expected = _model(torch)(torch.tensor(_batch(1)))
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
def test_output_device_dim_and_data_parallel_function(device):
    _cuda_only(device)
    model = _model(nbgrad).cuda()
    x = nbgrad.tensor(_batch(6)).cuda()
    dp = nbgrad.nn.DataParallel(model, device_ids=['cuda:0', nbgrad.device('cuda', 1)],
                                output_device=1)
    assert dp(x).device == nbgrad.device('cuda:1')
    out = nbgrad.nn.parallel.data_parallel(model, x, output_device=-1)
    assert out.device.type == 'cpu'
    expected = _model(torch)(torch.tensor(_batch(6)))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    with nbgrad.no_grad():
        assert not dp(x).requires_grad


@pytest.mark.cuda
def test_scatter_and_gather_nested_inputs(device):
    _cuda_only(device)
    from nbgrad.nn.parallel import gather, scatter_kwargs
    Pair = collections.namedtuple('Pair', 'a b')
    x = nbgrad.arange(10.0).reshape(5, 2)
    inputs, kwargs = scatter_kwargs((x, [x, 3], Pair(x, 'tag')), {'scale': x, 'flag': True},
                                    [0, 1])
    chunks = torch.arange(10.0).reshape(5, 2).chunk(2)
    assert len(inputs) == len(kwargs) == 2
    for i, (args, kw) in enumerate(zip(inputs, kwargs)):
        assert args[0].device == nbgrad.device('cuda', i)
        np.testing.assert_array_equal(args[0].cpu().numpy(), chunks[i].numpy())
        assert args[1][1] == 3 and isinstance(args[1], list)
        assert isinstance(args[2], Pair) and args[2].b == 'tag'
        assert kw['flag'] is True and kw['scale'].device == nbgrad.device('cuda', i)
    joined = gather([{'y': a[0], 'n': None, 'p': Pair(a[0], a[0])} for a in inputs], 'cpu')
    np.testing.assert_array_equal(joined['y'].numpy(), np.arange(10.0).reshape(5, 2))
    assert joined['n'] is None and isinstance(joined['p'], Pair)
    with pytest.warns(UserWarning, match='all input tensors were scalars'):
        scalars = gather([a[0].sum() for a in inputs], 0)
    assert scalars.shape == (2,)


@pytest.mark.cuda
def test_errors(device):
    _cuda_only(device)
    model = _model(nbgrad)            # left on the CPU
    dp = nbgrad.nn.DataParallel(model)
    with pytest.raises(RuntimeError, match=r'module must have its parameters and buffers on '
                                           r'device cuda:0 \(device_ids\[0\]\) but found one of '
                                           r'them on device: cpu'):
        dp(nbgrad.tensor(_batch()).cuda())

    class Fails(nbgrad.nn.Module):
        def forward(self, x):
            raise ValueError('bad input')
    with pytest.raises(ValueError, match='Caught ValueError in replica 0 on device 0'):
        nbgrad.nn.DataParallel(Fails())(nbgrad.ones(4, 2).cuda())
    lazy = nbgrad.nn.LazyLinear(3).cuda()
    with pytest.raises(RuntimeError, match='uninitialized parameters'):
        nbgrad.nn.DataParallel(lazy)(nbgrad.ones(4, 2).cuda())


@pytest.mark.cuda
def test_one_device_moves_the_module_and_calls_it(device):
    """(runs on a one-GPU machine too)"""
    _cuda_only(device, devices=1)
    last = nbgrad.cuda.device_count() - 1
    model = _model(nbgrad)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        dp = nbgrad.nn.DataParallel(model, device_ids=[last])
    assert next(model.parameters()).device == nbgrad.device(f'cuda:{last}')
    out = dp(nbgrad.tensor(_batch()))
    assert out.device == nbgrad.device(f'cuda:{last}')
    out.pow(2).sum().backward()
    expected = _model(torch)(torch.tensor(_batch()))
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert model[0].weight.grad.device == nbgrad.device(f'cuda:{last}')
