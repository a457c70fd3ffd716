"""bfloat16 tensors on the CPU against PyTorch's: every op of the op table (forward and backward),
nn layers and losses, autocast's CPU default, optimizer steps, creation and random draws, type
promotion, conversions, printing, saving and loading, and the errors (numpy(), CUDA).

PyTorch computes each op on bfloat16 in float32 and rounds once; so does nbgrad (_bfloat16.py),
so most results are bit for bit PyTorch's. Where the two compute a transcendental function or a
multi-op backward formula a little differently in float32, a value can land one or two bfloat16
steps (2^-8 relative) away: the tolerances below allow that and nothing more."""
import io
import os
import sys

import numpy as np
import pytest

import nbgrad

pytest.importorskip('ml_dtypes')
torch = pytest.importorskip('torch')
sys.path.insert(0, os.path.dirname(__file__))
from op_table import OPS  # noqa: E402
from test_ops import _cases, _inputs  # noqa: E402

STEP = 2.0 ** -7        # one bfloat16 step, relative (8 significant bits)


def _bf16(lib, array, requires_grad=False):
    return lib.tensor(np.asarray(array, np.float32)).to(lib.bfloat16).requires_grad_(requires_grad)


def _f32(t):
    return t.detach().float().numpy(force=True) if isinstance(t, nbgrad.Tensor) else \
        t.detach().float().numpy()


def _first(result):
    return result[0] if isinstance(result, tuple) else result


def _close(got, expected, steps=2, atol=1e-5):
    np.testing.assert_allclose(_f32(got), _f32(expected), rtol=steps * STEP, atol=atol,
                               equal_nan=True)


def _same_dtype(got, expected):
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]


# -- the op table -----------------------------------------------------------------------------

_TABLE = [pytest.param(op, shapes, id=f'{op.name}-{shapes}') for op in OPS
          for shapes in _cases(op)]
# PyTorch's float32 formulas for these differ from nbgrad's by float32 ulps that land a
# bfloat16 step or two away, mostly on values near zero (logit near 0.5) or long products
_LOOSER = {'logit': 4, 'prod': 4}


@pytest.mark.parametrize('op,shapes', _TABLE)
def test_op_table_forward_and_backward_match_torch(op, shapes):
    arrays = [a.astype(np.float32) for a in _inputs(op, shapes, 'float64')]
    try:
        expected = _first(op.fn(torch, *[_bf16(torch, a) for a in arrays]))
    except Exception as e:          # PyTorch refuses bfloat16 here: so does nbgrad
        with pytest.raises(type(e)):
            op.fn(nbgrad, *[_bf16(nbgrad, a) for a in arrays])
        return
    got = _first(op.fn(nbgrad, *[_bf16(nbgrad, a) for a in arrays]))
    _same_dtype(got, expected)
    assert tuple(got.shape) == tuple(expected.shape)
    _close(got, expected, _LOOSER.get(op.name, 1))
    if not op.differentiable or expected.dtype != torch.bfloat16:
        return
    grads = []
    for lib in (torch, nbgrad):
        inputs = [_bf16(lib, a, True) for a in arrays]
        out = _first(op.fn(lib, *inputs))
        upstream = np.random.default_rng(2).standard_normal(tuple(out.shape))
        out.backward(_bf16(lib, upstream))
        grads.append([t.grad for t in inputs])
    for g, e in zip(grads[1], grads[0]):
        assert (g is None) == (e is None)
        if e is not None:
            _same_dtype(g, e)
            # backward formulas are several bfloat16 ops each (rsqrt's: -0.5 * g * r^3)
            _close(g, e, steps=4, atol=2 * STEP * max(1.0, float(np.abs(_f32(e)).max(initial=0))))


# -- nn layers and losses ---------------------------------------------------------------------

def _layers(nn):
    return {
        'Linear': (lambda: nn.Linear(8, 5), (4, 8)),
        'Conv2d': (lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 6)),
        'ConvTranspose2d': (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), (2, 3, 5, 5)),
        'BatchNorm2d': (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
        'LayerNorm': (lambda: nn.LayerNorm(8), (4, 8)),
        'GroupNorm': (lambda: nn.GroupNorm(2, 4), (2, 4, 5)),
        'RMSNorm': (lambda: nn.RMSNorm(8), (4, 8)),
        'MaxPool2d': (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
        'AdaptiveAvgPool2d': (lambda: nn.AdaptiveAvgPool2d(3), (2, 3, 7, 7)),
        'GELU': (lambda: nn.GELU(), (4, 8)),
        'GELU-tanh': (lambda: nn.GELU('tanh'), (4, 8)),
        'SiLU': (lambda: nn.SiLU(), (4, 8)),
        'LogSoftmax': (lambda: nn.LogSoftmax(-1), (4, 8)),
        'LSTM': (lambda: nn.LSTM(6, 5, batch_first=True), (2, 4, 6)),
        'GRU': (lambda: nn.GRU(6, 5, num_layers=2), (4, 2, 6)),
        'TransformerEncoderLayer': (lambda: nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, batch_first=True), (2, 5, 8)),
        'Upsample-bilinear': (lambda: nn.Upsample(scale_factor=2, mode='bilinear'), (1, 2, 4, 4)),
        'Embedding': (lambda: nn.Embedding(10, 4), None),
    }


@pytest.mark.parametrize('name', list(_layers(torch.nn)))
def test_layers_in_bfloat16_match_torch(name):
    make, shape = _layers(torch.nn)[name]
    torch.manual_seed(0)
    reference = make()
    ours = _layers(nbgrad.nn)[name][0]()
    ours.load_state_dict({k: nbgrad.tensor(v.detach().numpy())
                          for k, v in reference.state_dict().items()})
    results = []
    for lib, module in ((torch, reference), (nbgrad, ours)):
        module = module.to(lib.bfloat16)
        assert all(p.dtype == lib.bfloat16 for p in module.parameters())
        if shape is None:
            inputs = [lib.tensor([[1, 2, 3], [4, 5, 9]])]
        else:
            x = np.random.default_rng(1).standard_normal(shape)
            inputs = [_bf16(lib, x, True)]
        out = _first(module(*inputs))
        weights = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32)
        (out.float() * lib.tensor(weights)).sum().backward()
        grads = [i.grad for i in inputs if i.is_floating_point()] + \
            [p.grad for p in module.parameters()]
        results.append((out, grads))
    (expected, expected_grads), (got, got_grads) = results
    _same_dtype(got, expected)
    _close(got, expected, steps=2, atol=1e-2)
    for g, e in zip(got_grads, expected_grads):
        _same_dtype(g, e)
        _close(g, e, steps=4, atol=4 * STEP * max(1.0, float(np.abs(_f32(e)).max(initial=0))))


_LOSSES = {
    'cross_entropy': lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
    'nll_loss': lambda F, x, t: F.nll_loss(F.log_softmax(x, -1), t),
    'mse_loss': lambda F, x, t: F.mse_loss(x, x.detach() * 0.5 + 0.1),
    'bce_with_logits': lambda F, x, t: F.binary_cross_entropy_with_logits(
        x, (x.detach() > 0).to(x.dtype)),
    'kl_div': lambda F, x, t: F.kl_div(F.log_softmax(x, -1), F.softmax(x.detach() * 2, -1),
                                       reduction='batchmean'),
    'scaled_dot_product_attention': lambda F, x, t: F.scaled_dot_product_attention(
        x[None], x[None], x[None], is_causal=True),
    'normalize': lambda F, x, t: F.normalize(x, dim=-1),
    'embedding_bag': lambda F, x, t: F.embedding_bag(t, x, t.new_tensor([0, 2]), mode='mean'),
}


@pytest.mark.parametrize('name', list(_LOSSES))
def test_functionals_in_bfloat16_match_torch(name):
    results = []
    for lib in (torch, nbgrad):
        x = _bf16(lib, np.random.default_rng(3).standard_normal((4, 8)), True)
        out = _LOSSES[name](lib.nn.functional, x, lib.tensor([1, 0, 3, 2]))
        weights = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32)
        (out.float() * lib.tensor(weights)).sum().backward()
        results.append((out, x.grad))
    (expected, expected_grad), (got, got_grad) = results
    _same_dtype(got, expected)
    _close(got, expected, steps=2, atol=1e-3)
    _close(got_grad, expected_grad, steps=4, atol=1e-3)


# -- autocast and optimizers --------------------------------------------------------------------

def test_cpu_autocast_defaults_to_bfloat16_as_in_torch():
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(16, 4))
        x = lib.tensor(np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32))
        with lib.autocast('cpu'):
            assert lib.get_autocast_dtype('cpu') == lib.bfloat16 and lib.is_autocast_enabled('cpu')
            out = model(x)
            loss = lib.nn.functional.cross_entropy(out, lib.tensor([0, 1, 2, 3, 0]))
            kinds = [str(t.dtype).split('.')[-1] for t in (out, loss, x @ x.T, x.exp())]
        loss.backward()
        results.append((kinds, out, loss, model[0].weight.grad))
    (kinds_t, out_t, loss_t, grad_t), (kinds_n, out_n, loss_n, grad_n) = results
    assert kinds_n == kinds_t == ['bfloat16', 'float32', 'bfloat16', 'float32']
    _close(out_n, out_t, steps=1)
    _close(loss_n, loss_t, steps=0, atol=1e-6)
    _same_dtype(grad_n, grad_t)
    _close(grad_n, grad_t, steps=1, atol=1e-6)


@pytest.mark.parametrize('name,options', [
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ('Adam', dict(lr=0.01)), ('AdamW', dict(lr=0.01, amsgrad=True)),
    ('RMSprop', dict(lr=0.01)), ('Adagrad', dict(lr=0.1))])
def test_optimizer_steps_on_bfloat16_parameters_round_as_torch(name, options):
    """Parameters of 64 elements and more take PyTorch's vectorised loops, whose roundings
    nbgrad's op-by-op reference step for reduced floats follows (see optim/_opmath.py)."""
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = lib.nn.Linear(64, 32, bias=False).to(lib.bfloat16)
        opt = getattr(lib.optim, name)(model.parameters(), **options)
        x = _bf16(lib, np.random.default_rng(0).standard_normal((8, 64)))
        for _ in range(5):
            opt.zero_grad()
            model(x).float().pow(2).mean().backward()
            opt.step()
        results.append(model.weight)
    assert results[1].dtype == nbgrad.bfloat16
    np.testing.assert_array_equal(_f32(results[1]), _f32(results[0]))


# -- creation, random draws, promotion and conversions --------------------------------------------

_MAKERS = {
    'tensor': lambda lib: lib.tensor([1.1, 2.7, -3.3333, 300], dtype=lib.bfloat16),
    'arange': lambda lib: lib.arange(0, 3, 0.7, dtype=lib.bfloat16),
    'linspace': lambda lib: lib.linspace(-1.3, 2.9, 33, dtype=lib.bfloat16),
    'full': lambda lib: lib.full((3,), 3.3, dtype=lib.bfloat16),
    'randn': lambda lib: lib.randn(40, dtype=lib.bfloat16),
    'normal_': lambda lib: lib.empty(33, dtype=lib.bfloat16).normal_(),
    'rand': lambda lib: lib.rand(20, dtype=lib.bfloat16),
    'uniform_': lambda lib: lib.empty(33, dtype=lib.bfloat16).uniform_(-1, 1),
    'randint': lambda lib: lib.randint(0, 10, (6,), dtype=lib.bfloat16),
    'dropout': lambda lib: lib.nn.functional.dropout(lib.ones(40, dtype=lib.bfloat16), 0.5),
    'from_float16': lambda lib: lib.tensor([1.0009765625, 65504], dtype=lib.float16).to(
        lib.bfloat16),
    'to_float16': lambda lib: lib.tensor([1e-8, 1e5, 1.5], dtype=lib.bfloat16).half(),
    'to_int64': lambda lib: lib.tensor([1.7, -2.5], dtype=lib.bfloat16).long(),
    'view_int16': lambda lib: lib.tensor([1.5, -2], dtype=lib.bfloat16).view(lib.int16),
    'in_place_add': lambda lib: lib.ones(3, dtype=lib.bfloat16).add_(
        lib.tensor([0.001, 0.01, 1e-5])),
    'copy_': lambda lib: lib.zeros(3, dtype=lib.bfloat16).copy_(lib.tensor([1.001, 2.3, 3.7])),
    'masked_fill_': lambda lib: lib.zeros(3, dtype=lib.bfloat16).masked_fill_(
        lib.tensor([True, False, True]), 1.3),
    'int_times_bfloat16_scalar': lambda lib: lib.arange(3) * lib.tensor(1.5, dtype=lib.bfloat16),
    'sum_in_float32': lambda lib: lib.tensor([1.1, 2.2], dtype=lib.bfloat16).sum(
        dtype=lib.float32),
}


@pytest.mark.parametrize('name', list(_MAKERS))
def test_creation_draws_and_conversions_match_torch(name):
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        results.append(_MAKERS[name](lib))
    expected, got = results
    _same_dtype(got, expected)
    np.testing.assert_array_equal(got.numpy(force=True) if got.dtype != nbgrad.bfloat16 else
                                  _f32(got), expected.numpy() if expected.dtype !=
                                  torch.bfloat16 else _f32(expected))


def test_promotion_finfo_and_tensor_facts_match_torch():
    for lib in (torch, nbgrad):
        assert str(lib.promote_types(lib.bfloat16, lib.float16)).endswith('float32')
        assert str(lib.promote_types(lib.bfloat16, lib.int64)).endswith('bfloat16')
        x = lib.ones(2, dtype=lib.bfloat16)
        assert str((x + lib.ones(2, dtype=lib.float16)).dtype).endswith('float32')
        assert str((x * lib.tensor(1.5)).dtype).endswith('bfloat16')       # 0-dim: weak
        assert x.element_size() == 2 and x.is_floating_point() and x.dtype.is_floating_point
        assert lib.tensor(2.7, dtype=lib.bfloat16).item() == 2.703125
        assert x.type().endswith('BFloat16Tensor')
    assert repr(nbgrad.finfo(nbgrad.bfloat16)) == repr(torch.finfo(torch.bfloat16)).replace(
        'torch.', 'nbgrad.')
    assert repr(nbgrad.tensor([1.1, -2.5], dtype=nbgrad.bfloat16, requires_grad=True) * 2) == \
        repr(torch.tensor([1.1, -2.5], dtype=torch.bfloat16, requires_grad=True) * 2).replace(
            'torch.', 'nbgrad.')


def test_numpy_and_cuda_refuse_bfloat16_clearly():
    x = nbgrad.ones(2, dtype=nbgrad.bfloat16)
    with pytest.raises(TypeError, match='unsupported ScalarType BFloat16'):
        x.numpy()       # as PyTorch: NumPy has no bfloat16 of its own
    with pytest.raises(TypeError, match='unsupported ScalarType BFloat16'):
        np.asarray(x)
    with pytest.raises(TypeError) as torch_error:
        torch.ones(2, dtype=torch.bfloat16).numpy()
    assert 'BFloat16' in str(torch_error.value)


def test_a_bfloat16_tensor_never_goes_to_cuda_silently(monkeypatch):
    from nbgrad import _bfloat16
    with pytest.raises(TypeError, match='no bfloat16 tensors on CUDA'):
        _bfloat16.refuse_on_gpu(nbgrad.bfloat16.np)
    _bfloat16.refuse_on_gpu(np.dtype(np.float16))       # (other dtypes pass)


# -- saving and loading ----------------------------------------------------------------------

def test_bfloat16_checkpoints_load_across_libraries():
    state = {'w': torch.randn(3, 4).to(torch.bfloat16), 'b': torch.tensor([1.5, -2.25],
                                                                        dtype=torch.bfloat16)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    loaded = nbgrad.load(io.BytesIO(buffer.getvalue()))
    assert loaded['w'].dtype == nbgrad.bfloat16
    for key in state:
        np.testing.assert_array_equal(_f32(loaded[key]), _f32(state[key]))
    back = io.BytesIO()
    nbgrad.save(loaded, back)
    again = torch.load(io.BytesIO(back.getvalue()))
    assert again['w'].dtype == torch.bfloat16
    for key in state:
        assert torch.equal(again[key], state[key])
