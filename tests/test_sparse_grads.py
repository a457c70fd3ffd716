"""Sparse gradients in training, against PyTorch: nn.Embedding(sparse=True)'s weight gradient,
its accumulation over backward calls, the optimizers that take it (SGD, Adagrad, SparseAdam:
same weights after several steps) and the ones that refuse it (PyTorch's messages), and
nbgrad.save/load of sparse tensors, across the two libraries' files. The sparse tensor API
itself is tested in test_sparse_coo.py."""
import io

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.filterwarnings('ignore:Sparse invariant checks')


def _embedding(lib, device, rows=6, dim=3, **kw):
    lib.manual_seed(0)     # nbgrad's CPU generator is PyTorch's: the same N(0, 1) weights
    return lib.nn.Embedding(rows, dim, sparse=True, **kw).to(device)


def _cpu(t):
    return t.detach().cpu()


def _same_sparse(ours, theirs):
    assert ours.layout is nbgrad.sparse_coo and theirs.layout is torch.sparse_coo
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.is_coalesced() == theirs.is_coalesced()
    np.testing.assert_array_equal(_cpu(ours._indices()).numpy(), theirs._indices().numpy())
    np.testing.assert_allclose(_cpu(ours._values()).numpy(), theirs._values().numpy(),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('padding_idx', [None, 1])
def test_embedding_weight_gradient_is_pytorchs_sparse_gradient(device, padding_idx):
    index = [[0, 2, 1], [4, 2, 1]]
    grads = {}
    for lib, dev in ((torch, 'cpu'), (nbgrad, device)):
        emb = _embedding(lib, dev, padding_idx=padding_idx)
        emb(lib.tensor(index, device=dev)).pow(2).sum().backward()
        emb(lib.tensor([5, 0], device=dev)).sum().backward()   # a second backward accumulates
        grads[lib] = emb.weight.grad
    _same_sparse(grads[nbgrad], grads[torch])


def test_scale_grad_by_freq_with_sparse_gradients_is_refused_at_backward():
    def run(lib):
        out = _embedding(lib, 'cpu', scale_grad_by_freq=True)(lib.tensor([1, 1]))
        with pytest.raises(RuntimeError) as info:   # the forward runs, as in PyTorch
            out.sum().backward()
        return str(info.value)
    assert run(nbgrad) == run(torch)


def _train(lib, device, make_optimizer, steps=4):
    emb = _embedding(lib, device)
    opt = make_optimizer(lib, emb.parameters())
    index = lib.tensor([[1, 3, 1], [0, 3, 5]], device=device)
    for _ in range(steps):
        opt.zero_grad()
        emb(index).pow(2).sum().backward()
        opt.step()
    return _cpu(emb.weight).numpy(), opt


OPTIMIZERS = {
    'SGD': lambda lib, p: lib.optim.SGD(p, lr=0.1),
    'SGD-momentum': lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    'SGD-nesterov': lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    'SGD-maximize': lambda lib, p: lib.optim.SGD(p, lr=0.01, maximize=True),
    'Adagrad': lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
    'Adagrad-decay': lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.1, eps=1e-6),
    'SparseAdam': lambda lib, p: lib.optim.SparseAdam(p, lr=0.05),
    'SparseAdam-maximize': lambda lib, p: lib.optim.SparseAdam(p, lr=0.05, betas=(0.8, 0.9),
                                                               maximize=True),
}


@pytest.mark.parametrize('name', OPTIMIZERS)
def test_optimizers_step_on_sparse_gradients_as_pytorch(device, name):
    ours, _ = _train(nbgrad, device, OPTIMIZERS[name])
    theirs, _ = _train(torch, 'cpu', OPTIMIZERS[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_sparse_adam_state_is_pytorchs():
    _, ours = _train(nbgrad, 'cpu', OPTIMIZERS['SparseAdam'])
    _, theirs = _train(torch, 'cpu', OPTIMIZERS['SparseAdam'])
    a, b = ours.state_dict()['state'][0], theirs.state_dict()['state'][0]
    assert a['step'] == b['step'] and type(a['step']) is type(b['step'])
    for key in ('exp_avg', 'exp_avg_sq'):
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.Adam(p), lambda lib, p: lib.optim.AdamW(p),
    lambda lib, p: lib.optim.RMSprop(p), lambda lib, p: lib.optim.Adadelta(p),
    lambda lib, p: lib.optim.Adamax(p), lambda lib, p: lib.optim.NAdam(p),
    lambda lib, p: lib.optim.RAdam(p), lambda lib, p: lib.optim.ASGD(p),
    lambda lib, p: lib.optim.Rprop(p), lambda lib, p: lib.optim.Adafactor(p),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, weight_decay=0.1),
    lambda lib, p: lib.optim.Adagrad(p, weight_decay=0.1),
], ids=['Adam', 'AdamW', 'RMSprop', 'Adadelta', 'Adamax', 'NAdam', 'RAdam', 'ASGD', 'Rprop',
        'Adafactor', 'SGD-weight-decay', 'Adagrad-weight-decay'])
def test_optimizers_refuse_sparse_gradients_with_pytorchs_message(make):
    def run(lib):
        emb = _embedding(lib, 'cpu')
        before = _cpu(emb.weight).numpy().copy()
        emb(lib.tensor([1, 2])).sum().backward()
        with pytest.raises(RuntimeError) as info:
            make(lib, emb.parameters()).step()
        return str(info.value), before, _cpu(emb.weight).numpy()
    (ours, before, after), (theirs, _, _) = run(nbgrad), run(torch)
    assert ours == theirs
    np.testing.assert_array_equal(before, after)


def test_sparse_adam_refuses_dense_gradients_and_sparse_parameters():
    for lib in (nbgrad, torch):
        layer = lib.nn.Linear(2, 2)
        layer(lib.ones(2)).sum().backward()
        with pytest.raises(RuntimeError, match='SparseAdam does not support dense gradients'):
            lib.optim.SparseAdam(layer.parameters()).step()
        s = lib.sparse_coo_tensor([[0]], [1.], (2,))
        with pytest.raises(ValueError, match='SparseAdam requires dense parameter tensors'):
            lib.optim.SparseAdam([s])


def _roundtrip(save_lib, load_lib, value):
    buffer = io.BytesIO()
    save_lib.save(value, buffer)
    buffer.seek(0)
    return load_lib.load(buffer)


@pytest.mark.parametrize('coalesce', [False, True])
@pytest.mark.parametrize('direction', ['nbgrad->nbgrad', 'nbgrad->torch', 'torch->nbgrad'])
def test_sparse_tensors_save_and_load_in_pytorchs_format(direction, coalesce):
    save_name, load_name = direction.split('->')
    libs = {'nbgrad': nbgrad, 'torch': torch}
    save_lib, load_lib = libs[save_name], libs[load_name]
    indices, values = [[0, 2, 0], [1, 0, 1]], np.arange(6, dtype=np.float32).reshape(3, 2)
    s = save_lib.sparse_coo_tensor(indices, save_lib.tensor(values), (3, 2, 2))
    s = s.coalesce() if coalesce else s
    loaded = _roundtrip(save_lib, load_lib, {'weights': s})['weights']
    reference = torch.sparse_coo_tensor(indices, torch.tensor(values), (3, 2, 2))
    reference = reference.coalesce() if coalesce else reference
    if load_lib is torch:
        loaded, reference = nbgrad.sparse_coo_tensor(
            loaded._indices().numpy(), loaded._values().numpy(), loaded.shape,
            is_coalesced=loaded.is_coalesced()), reference
    _same_sparse(loaded, reference)


@pytest.mark.cuda
def test_a_cuda_sparse_tensor_loads_on_the_cpu_with_map_location():
    if not nbgrad.cuda.is_available():
        pytest.skip('no CUDA device')
    s = nbgrad.sparse_coo_tensor([[0, 1]], [1., 2.], (3,), device='cuda')
    buffer = io.BytesIO()
    nbgrad.save(s, buffer)
    buffer.seek(0)
    loaded = nbgrad.load(buffer, map_location='cpu')
    assert loaded.is_sparse and loaded.device.type == 'cpu'
    np.testing.assert_array_equal(loaded.to_dense().numpy(), [1., 2., 0.])
