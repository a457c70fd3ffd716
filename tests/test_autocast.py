"""autocast against PyTorch's: on the CPU, PyTorch's own autocast(dtype=float16) is the oracle
for every op's result dtype and values; on (fake) CUDA, the dtypes PyTorch's documentation lists
(the CUDA op lists of https://pytorch.org/docs/stable/amp.html); training through casts, the
weight cache, nesting, the decorators and the state functions."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import nbgrad
from nbgrad.amp import _policy

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 4)).astype(np.float32)
B = RNG.standard_normal((4, 4)).astype(np.float32)
SPD = (A @ A.T + 4 * np.eye(4)).astype(np.float32)
PROBS = (1 / (1 + np.exp(-B))).astype(np.float32)


def _F(lib):
    return lib.nn.functional


# (label, call(lib, a, b, dtype-cast inputs)): each run with float32 and with float16 inputs
CPU_CASES = {
    # lower precision
    'mm': lambda lib, a, b: lib.mm(a, b),
    'Tensor.mm': lambda lib, a, b: a.mm(b),
    'bmm': lambda lib, a, b: lib.bmm(a[None], b[None]),
    'addmm': lambda lib, a, b: lib.addmm(a, a, b),
    'baddbmm': lambda lib, a, b: lib.baddbmm(a[None], a[None], b[None]),
    'addbmm': lambda lib, a, b: lib.addbmm(a, a[None], b[None]),
    'matmul': lambda lib, a, b: lib.matmul(a, b),
    '@': lambda lib, a, b: a @ b,
    'linalg.vecdot': lambda lib, a, b: lib.linalg.vecdot(a, b),
    'F.linear': lambda lib, a, b: _F(lib).linear(a, b, b[0]),
    'conv1d': lambda lib, a, b: _F(lib).conv1d(a[None], b[:, :, None]),
    'conv2d': lambda lib, a, b: _F(lib).conv2d(a[None, None], b[None, None, :2, :2]),
    'conv_transpose2d': lambda lib, a, b: _F(lib).conv_transpose2d(a[None, None],
                                                                   b[None, None, :2, :2]),
    'prelu': lambda lib, a, b: _F(lib).prelu(a, b[0, :1]),
    'scaled_dot_product_attention':
        lambda lib, a, b: _F(lib).scaled_dot_product_attention(a[None], b[None], a[None]),
    'einsum': lambda lib, a, b: lib.einsum('ij,jk->ik', a, b),
    'linalg.multi_dot': lambda lib, a, b: lib.linalg.multi_dot([a, b, a]),
    # float32
    'mse_loss': lambda lib, a, b: _F(lib).mse_loss(a, b),
    'l1_loss': lambda lib, a, b: _F(lib).l1_loss(a, b),
    'smooth_l1_loss': lambda lib, a, b: _F(lib).smooth_l1_loss(a, b),
    'huber_loss': lambda lib, a, b: _F(lib).huber_loss(a, b),
    'kl_div': lambda lib, a, b: _F(lib).kl_div(a, b.exp(), reduction='batchmean'),
    'cross_entropy': lambda lib, a, b: _F(lib).cross_entropy(a, lib.tensor([0, 1, 2, 3])),
    'nll_loss': lambda lib, a, b: _F(lib).nll_loss(a, lib.tensor([0, 1, 2, 3])),
    'binary_cross_entropy': lambda lib, a, b: _F(lib).binary_cross_entropy(
        lib.tensor(PROBS).to(a.dtype), lib.tensor(PROBS.T.copy()).to(a.dtype)),
    'bce_with_logits': lambda lib, a, b: _F(lib).binary_cross_entropy_with_logits(a, b.sigmoid()),
    'cosine_embedding_loss': lambda lib, a, b: _F(lib).cosine_embedding_loss(
        a, b, lib.tensor([1, -1, 1, -1])),
    'margin_ranking_loss': lambda lib, a, b: _F(lib).margin_ranking_loss(a[0], b[0], a[1].sign()),
    'soft_margin_loss': lambda lib, a, b: _F(lib).soft_margin_loss(a, b.sign()),
    'triplet_margin_loss': lambda lib, a, b: _F(lib).triplet_margin_loss(a, b, a.flip(0)),
    'poisson_nll_loss': lambda lib, a, b: _F(lib).poisson_nll_loss(a, b.abs()),
    'fft.rfft': lambda lib, a, b: lib.fft.rfft(a),
    'grid_sample': lambda lib, a, b: _F(lib).grid_sample(
        a[None, None], (b[None, :, :2, None].expand(1, 4, 2, 2) / 4), align_corners=False),
    'prod': lambda lib, a, b: a.prod(1),
    'cdist': lambda lib, a, b: lib.cdist(a, b),
    'trace': lambda lib, a, b: lib.trace(a),
    'inverse': lambda lib, a, b: lib.inverse(lib.tensor(SPD).to(a.dtype)),
    'linalg.cholesky': lambda lib, a, b: lib.linalg.cholesky(lib.tensor(SPD).to(a.dtype)),
    'linalg.solve': lambda lib, a, b: lib.linalg.solve(lib.tensor(SPD).to(a.dtype), b),
    'pad reflect': lambda lib, a, b: _F(lib).pad(a[None], (1, 1), mode='reflect'),
    'pad constant': lambda lib, a, b: _F(lib).pad(a[None], (1, 1)),
    # promote to the widest
    'cat': lambda lib, a, b: lib.cat([a, b.float()]),
    'stack': lambda lib, a, b: lib.stack([a.half(), b]),
    # not listed on the CPU: the inputs' dtypes
    'exp': lambda lib, a, b: a.exp(),
    'sum': lambda lib, a, b: a.sum(),
    'softmax': lambda lib, a, b: a.softmax(1),
    'layer_norm': lambda lib, a, b: _F(lib).layer_norm(a, (4,)),
    'mv': lambda lib, a, b: lib.mv(a, b[0]),
    'add': lambda lib, a, b: a + b,
    'pow': lambda lib, a, b: a ** 2,
    'tensordot': lambda lib, a, b: lib.tensordot(a, b, dims=1),   # mm inside, in both
    'bilinear': lambda lib, a, b: _F(lib).bilinear(a, b, b[None].expand(3, 4, 4)),
    'multi_head_attention_forward': lambda lib, a, b: _F(lib).multi_head_attention_forward(
        a[:, None], a[:, None], a[:, None], 4, 2, b.repeat(3, 1), b[0].repeat(3), None, None,
        False, 0.0, b, b[0], need_weights=False)[0],
}


@pytest.mark.parametrize('input_dtype', ['float32', 'float16'])
@pytest.mark.parametrize('name', list(CPU_CASES))
def test_cpu_op_dtype_and_values_match_pytorch(name, input_dtype):
    results = []
    for lib in (torch, nbgrad):
        a, b = (lib.tensor(v).to(getattr(lib, input_dtype)) for v in (A, B))
        with lib.autocast('cpu', dtype=lib.float16):
            results.append(CPU_CASES[name](lib, a, b))
    expected, got = results
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1], name
    np.testing.assert_allclose(got.detach().numpy().astype(np.complex128),
                               expected.detach().numpy().astype(np.complex128),
                               rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize('cell', ['LSTMCell', 'GRUCell', 'RNNCell'])
def test_recurrent_cells_under_cpu_autocast_match_pytorch(cell):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    h = RNG.standard_normal((3, 5)).astype(np.float32)
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        module = getattr(lib.nn, cell)(4, 5)
        if lib is nbgrad:
            _same_weights(results[0][0], module)
        state = (lib.tensor(h), lib.tensor(h)) if cell == 'LSTMCell' else lib.tensor(h)
        with lib.autocast('cpu', dtype=lib.float16):
            out = module(lib.tensor(x), state)
        results.append((module, out if isinstance(out, tuple) else (out,)))
    for expected, got in zip(results[0][1], results[1][1]):
        assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   expected.detach().float().numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize('kind', ['RNN', 'RNN relu', 'GRU'])
def test_recurrent_layers_under_cpu_autocast_match_pytorch(kind):
    """nn.RNN's steps are linear layers on PyTorch's CPU, so it runs in float16; nn.GRU's CPU
    kernel stays in float32. (nn.LSTM is mkldnn_rnn_layer, also listed, but PyTorch's oneDNN
    refuses float16 on this CPU, so there is no PyTorch result to compare; nbgrad runs it in
    float16 like RNN.)"""
    x = RNG.standard_normal((2, 6, 4)).astype(np.float32)
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        options = {'nonlinearity': 'relu'} if kind == 'RNN relu' else {}
        module = getattr(lib.nn, kind.split()[0])(4, 5, num_layers=2, batch_first=True,
                                                  **options)
        if lib is nbgrad:
            _same_weights(results[0][0], module)
        with lib.autocast('cpu', dtype=lib.float16):
            out, h = module(lib.tensor(x))
        results.append((module, (out, h)))
    for expected, got in zip(results[0][1], results[1][1]):
        assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   expected.detach().float().numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize('name', ['lstm_cell', 'gru_cell', 'rnn_tanh_cell', 'rnn_relu_cell'])
def test_torch_level_cell_functions_match_pytorch(name):
    chunks = {'lstm_cell': 4, 'gru_cell': 3}.get(name, 1)
    arrays = [RNG.standard_normal(shape).astype(np.float64) for shape in
              ((3, 4), (3, 5), (chunks * 5, 4), (chunks * 5, 5), (chunks * 5,), (chunks * 5,))]
    results = []
    for lib in (torch, nbgrad):
        x, h, w_ih, w_hh, b_ih, b_hh = (lib.tensor(a, requires_grad=True) for a in arrays)
        hx = (h, h * 2) if name == 'lstm_cell' else h
        out = getattr(lib, name)(x, hx, w_ih, w_hh, b_ih, b_hh)
        out = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in out).backward()
        results.append([o.detach().numpy() for o in out] +
                       [t.grad.numpy() for t in (x, h, w_ih, w_hh, b_ih, b_hh)])
    for expected, got in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match='lstm_cell expects two hidden states'):
        nbgrad.lstm_cell(nbgrad.ones(1, 2), (nbgrad.ones(1, 3),), nbgrad.ones(12, 2),
                         nbgrad.ones(12, 3))


def test_transformer_layers_under_cpu_autocast_match_pytorch():
    """Composites reach the listed ops inside them, as PyTorch's dispatcher does: attention's
    projections and products in float16, its softmax in their dtype, the norms as listed."""
    x = RNG.standard_normal((2, 5, 8)).astype(np.float32)
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        attention = lib.nn.MultiheadAttention(8, 2, batch_first=True)
        if lib is nbgrad:
            _same_weights(results[0][0], layer)
            _same_weights(results[0][1], attention)
        inputs = lib.tensor(x, requires_grad=True)
        with lib.autocast('cpu', dtype=lib.float16):
            encoded = layer(inputs, is_causal=False)
            attended, weights = attention(inputs, inputs, inputs)
        (encoded.float().sum() + attended.float().sum()).backward()
        results.append((layer, attention, [encoded, attended, weights, inputs.grad]))
    for expected, got in zip(results[0][2], results[1][2]):
        assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   expected.detach().float().numpy(), rtol=2e-2, atol=2e-2)


def test_cpu_outputs_of_unlisted_ops_are_unchanged_outside_a_region():
    a = nbgrad.tensor(A)
    with nbgrad.autocast('cpu', dtype=nbgrad.float16):
        inside = (a @ a).dtype
    assert inside == nbgrad.float16 and (a @ a).dtype == nbgrad.float32
    with nbgrad.autocast('cpu', dtype=nbgrad.float16):
        out = nbgrad.empty(4, 4)
        nbgrad.mm(a, a, out=out)            # out= forms are not autocast, as in PyTorch
        assert out.dtype == nbgrad.float32
        assert (a.double() @ a.double()).dtype == nbgrad.float64
        ints = nbgrad.ones(2, 2, dtype=nbgrad.int64)
        assert (ints @ ints).dtype == nbgrad.int64


def _cnn(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 6 * 6, 5))


def _same_weights(model_t, model_n):
    with nbgrad.no_grad():
        for (_, p_t), (_, p_n) in zip(model_t.state_dict().items(),
                                      model_n.state_dict().items()):
            p_n.copy_(nbgrad.tensor(p_t.numpy()))


def test_training_steps_under_autocast_match_pytorch():
    """A CNN's forward under autocast (conv and linear in float16, batch norm on float16
    activations, the loss in float32), backward outside the region, SGD: the loss, the output's
    dtype and the float32 weights' gradients and updates agree with PyTorch's."""
    models = {torch: _cnn(torch), nbgrad: _cnn(nbgrad)}
    _same_weights(models[torch], models[nbgrad])
    x = RNG.standard_normal((3, 2, 6, 6)).astype(np.float32)
    y = np.array([0, 3, 1])
    history = {}
    for lib, model in models.items():
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses, dtypes = [], []
        for _ in range(3):
            opt.zero_grad()
            with lib.autocast('cpu', dtype=lib.float16):
                out = model(lib.tensor(x))
                loss = lib.nn.functional.cross_entropy(out, lib.tensor(y))
            dtypes.append((str(out.dtype), str(loss.dtype)))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        history[lib] = (losses, [str(p.grad.dtype) for p in model.parameters()],
                        [p.detach().numpy().copy() for p in model.parameters()], dtypes)
    (lt, gt, pt, dt), (ln, gn, pn, dn) = history[torch], history[nbgrad]
    np.testing.assert_allclose(ln, lt, rtol=1e-2)
    assert [g.split('.')[-1] for g in gn] == [g.split('.')[-1] for g in gt] == ['float32'] * 6
    assert [tuple(d.split('.')[-1] for d in pair) for pair in dn] == \
        [tuple(d.split('.')[-1] for d in pair) for pair in dt]
    for a, b in zip(pn, pt):
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-3)


def test_backward_inside_the_region_gives_the_gradients_of_backward_outside():
    grads = []
    for inside in (False, True):
        nbgrad.manual_seed(0)
        layer = nbgrad.nn.Linear(4, 3)
        with nbgrad.autocast('cpu', dtype=nbgrad.float16):
            loss = layer(nbgrad.tensor(A)).float().pow(2).sum()
            if inside:
                loss.backward()
        if not inside:
            loss.backward()
        grads.append(layer.weight.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert grads[0].dtype == np.float32


def test_weights_are_cast_once_per_region_and_again_after_an_in_place_change(monkeypatch):
    casts = []
    monkeypatch.setattr(_policy, '_to', lambda t, dtype: casts.append(t) or t.to(dtype))
    layer = nbgrad.nn.Linear(4, 4)
    x = nbgrad.tensor(A)
    with nbgrad.autocast('cpu', dtype=nbgrad.float16):
        layer(x)
        layer(x)
        assert [id(t) for t in casts] == [id(layer.weight), id(layer.bias)]   # once each
        with nbgrad.no_grad():
            layer.weight.mul_(2)
        changed = layer(x)
        assert [id(t) for t in casts[2:]] == [id(layer.weight)]    # PyTorch would reuse it
    half = (A.astype(np.float16).astype(np.float32) @
            layer.weight.detach().numpy().astype(np.float16).astype(np.float32).T +
            layer.bias.detach().numpy().astype(np.float16))
    np.testing.assert_allclose(changed.detach().float().numpy(), half, rtol=1e-2, atol=1e-2)
    assert not nbgrad.amp._state._cache         # dropped when the outermost region exits


def test_nesting_disabling_dtype_and_state_functions_match_pytorch():
    a = RNG.standard_normal((3, 3)).astype(np.float32)
    seen = {}
    for lib in (torch, nbgrad):
        x = lib.tensor(a)
        log = []
        with lib.autocast('cpu', dtype=lib.float16):
            log.append((lib.is_autocast_enabled('cpu'), str(lib.get_autocast_dtype('cpu')),
                        str((x @ x).dtype)))
            with lib.autocast('cpu', enabled=False):
                log.append((lib.is_autocast_enabled('cpu'), str((x @ x).dtype)))
            log.append((lib.is_autocast_enabled('cpu'), str((x @ x).dtype)))

            @lib.autocast('cpu', enabled=False)
            def product(t):
                return t @ t
            log.append(str(product(x).dtype))
        log.append((lib.is_autocast_enabled('cpu'), lib.is_autocast_enabled(),
                    str(lib.get_autocast_dtype('cpu')), lib.is_autocast_cache_enabled()))
        seen[lib] = [str(entry).replace('nbgrad.', 'torch.') for entry in log]
    assert seen[nbgrad] == seen[torch]


def test_unsupported_dtypes_disable_the_region_with_a_warning():
    with pytest.warns(UserWarning, match='CPU Autocast only supports dtypes of nbgrad.bfloat16, nbgrad.float16'):
        with nbgrad.autocast('cpu', dtype=nbgrad.float32):
            assert not nbgrad.is_autocast_enabled('cpu')


@pytest.mark.parametrize('name', ['is_autocast_cpu_enabled', 'get_autocast_cpu_dtype',
                                  'get_autocast_gpu_dtype'])
def test_deprecated_state_functions_warn_as_pytorch(name):
    messages = []
    for lib in (torch, nbgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            result = getattr(lib, name)()
        messages.append(str(caught[0].message).split(' (Triggered')[0])
        assert caught[0].category is DeprecationWarning
    assert messages[0] == messages[1]
    assert str(result).replace('nbgrad.', 'torch.') == str(getattr(torch, name)())


def test_custom_fwd_casts_inputs_and_custom_bwd_runs_under_the_forward_state():
    seen = {}
    for lib in (torch, nbgrad):
        class Product(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type='cpu', cast_inputs=lib.float32)
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a @ b                      # autocast is off in here: float32

            @staticmethod
            @lib.amp.custom_bwd(device_type='cpu')
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return g @ b.T, a.T @ g
        a = lib.tensor(A, requires_grad=True)
        b = lib.tensor(B).half()
        with lib.autocast('cpu', dtype=lib.float16):
            out = Product.apply(a, b)
        out.sum().backward()
        seen[lib] = (str(out.dtype).split('.')[-1], out.detach().numpy(), a.grad.numpy())
    assert seen[nbgrad][0] == seen[torch][0] == 'float32'
    np.testing.assert_allclose(seen[nbgrad][1], seen[torch][1], rtol=1e-5)
    np.testing.assert_allclose(seen[nbgrad][2], seen[torch][2], rtol=1e-5)


def test_unmatched_policy_names_are_pytorch_ops_nbgrad_lacks():
    """Every name in the policy tables reaches an nbgrad entry point, except PyTorch ops
    nbgrad does not have yet (they are cast as soon as they exist)."""
    for name in _policy.policies():
        targets = [t for t in _policy._targets(nbgrad, name) if hasattr(*t)]
        if targets:
            continue
        prefix, _, attr = name.rpartition('.')
        owner = {'': torch, 'F': torch.nn.functional, 'linalg': torch.linalg,
                 'fft': torch.fft}[prefix]      # (nbgrad's internal entries always match)
        assert hasattr(owner, attr), f'{name} is not a PyTorch op: a typo in the tables?'
    for name, by_device in _policy.policies().items():
        assert set(by_device) <= {'cpu', 'cuda'}


on_cuda = [pytest.mark.cuda,
           pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')]


# The CUDA op lists of PyTorch's amp documentation: (op, inputs' dtype) -> result dtype
CUDA_EXPECTED = [
    ('mm', 'float32', 'float16'), ('matmul', 'float32', 'float16'),
    ('linear', 'float32', 'float16'), ('conv2d', 'float32', 'float16'),
    ('mv', 'float32', 'float16'), ('exp', 'float16', 'float32'),
    ('sum', 'float16', 'float32'), ('softmax', 'float16', 'float32'),
    ('layer_norm', 'float16', 'float32'), ('mse_loss', 'float16', 'float32'),
    ('pow', 'float16', 'float32'), ('relu', 'float16', 'float16'),
    ('add', 'float16', 'float16'), ('addcmul', 'mixed', 'float32'),
    ('mm', 'float64', 'float64'), ('LSTMCell', 'float32', 'float16'),
    ('GRUCell', 'float32', 'float16'), ('LSTM', 'float32', 'float16'),
    ('GRU', 'float32', 'float16'),
]


def _cuda_call(name, lib, a, b):
    F = lib.nn.functional
    return {'mm': lambda: a.mm(b), 'matmul': lambda: a @ b, 'linear': lambda: F.linear(a, b),
            'conv2d': lambda: F.conv2d(a[None, None], b[None, None, :2, :2]),
            'mv': lambda: lib.mv(a, b[0]), 'exp': lambda: a.exp(), 'sum': lambda: a.sum(),
            'softmax': lambda: a.softmax(1), 'layer_norm': lambda: F.layer_norm(a, (4,)),
            'mse_loss': lambda: F.mse_loss(a, b), 'pow': lambda: a ** 2,
            'relu': lambda: F.relu(a), 'add': lambda: a + b,
            'addcmul': lambda: lib.addcmul(a.half(), a.float(), b.half()),
            'LSTMCell': lambda: lib.nn.LSTMCell(4, 3).to('cuda')(a)[1],
            'GRUCell': lambda: lib.nn.GRUCell(4, 3).to('cuda')(a),
            'LSTM': lambda: lib.nn.LSTM(4, 3, num_layers=2).to('cuda')(a[:, None])[1][1],
            'GRU': lambda: lib.nn.GRU(4, 3).to('cuda')(a[:, None])[1]}[name]()


@pytest.mark.parametrize('name,inputs,expected', CUDA_EXPECTED)
@on_cuda[0]
@on_cuda[1]
def test_cuda_policies_follow_pytorchs_documented_lists(name, inputs, expected):
    dtype = nbgrad.float32 if inputs == 'mixed' else getattr(nbgrad, inputs)
    a, b = (nbgrad.tensor(v, device='cuda').to(dtype) for v in (A, B))
    with nbgrad.autocast('cuda'):
        out = _cuda_call(name, nbgrad, a, b)
    assert str(out.dtype) == f'nbgrad.{expected}'
    assert out.device.type == 'cuda'


@on_cuda[0]
@on_cuda[1]
def test_cuda_region_leaves_cpu_tensors_and_bans_binary_cross_entropy():
    x = nbgrad.tensor(A)
    with nbgrad.autocast('cuda'):
        assert (x @ x).dtype == nbgrad.float32       # a CPU op: not this region's device
        p = nbgrad.tensor(PROBS, device='cuda')
        with pytest.raises(RuntimeError, match='unsafe to autocast'):
            nbgrad.nn.functional.binary_cross_entropy(p, p)
        assert nbgrad.nn.functional.binary_cross_entropy_with_logits(p, p).dtype == \
            nbgrad.float32


def test_state_functions_called_as_pytorch():
    seen = {}
    for lib in (torch, nbgrad):
        x = lib.tensor(A)
        log = []
        lib.set_autocast_dtype('cpu', lib.float16)
        lib.set_autocast_enabled('cpu', True)
        log.append(lib.autocast_increment_nesting())
        lib.set_autocast_cache_enabled(False)
        log.append((lib.is_autocast_enabled('cpu'), lib.is_autocast_cache_enabled(),
                    str((x @ x).dtype)))
        lib.set_autocast_cache_enabled(True)
        log.append(lib.autocast_decrement_nesting())
        lib.clear_autocast_cache()
        lib.set_autocast_enabled('cpu', False)
        lib.set_autocast_dtype('cpu', lib.bfloat16)
        log.append((lib.is_autocast_enabled('cpu'), str((x @ x).dtype)))
        seen[lib] = [str(entry).replace('nbgrad.', 'torch.') for entry in log]
    assert seen[nbgrad] == seen[torch]


# functions the sweep below must not call (they change global state or need other arguments)
_SWEEP_SKIPPED = {
    'manual_seed', 'seed', 'set_default_dtype', 'set_default_device', 'set_printoptions', 'load',
    'save', 'compile', 'use_deterministic_algorithms', 'set_num_threads',
    'set_float32_matmul_precision', 'set_rng_state', 'set_grad_enabled', 'set_anomaly_enabled',
    'set_warn_always', 'set_flush_denormal', 'set_num_interop_threads',
    'set_deterministic_debug_mode', 'set_default_tensor_type', 'autocast_increment_nesting',
    'autocast_decrement_nesting', 'backward', 'register_hook', 'share_memory', 'pin_memory',
    'cuda', 'to', 'type', 'apply', 'map', 'record_stream', 'retain_grad', 'set', 'storage',
    'untyped_storage', 'resize', 'copy'} | {name for name in dir(torch) if 'autocast' in name}
_SWEEP_ARGUMENTS = (('A',), ('B',), ('A', 'A'), ('B', 'B'), ('A', 1), ('B', 1), ('A', 'A', 'A'),
                    ('B', 'B', 'B'))


def _sweep_dtype(lib, fn):
    """The result dtype of fn under CPU autocast(float16) on float32 inputs, for the first
    argument pattern it accepts ('err' if none)."""
    arrays = {'A': RNG_SWEEP[0], 'B': RNG_SWEEP[1]}
    for pattern in _SWEEP_ARGUMENTS:
        args = [lib.tensor(arrays[a]) if isinstance(a, str) else a for a in pattern]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                with lib.autocast('cpu', dtype=lib.float16):
                    out = fn(*args)
        except Exception:
            continue
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        return str(first.dtype).split('.')[-1] if hasattr(first, 'dtype') else 'err'
    return 'err'


RNG_SWEEP = (np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32),
             np.random.default_rng(2).standard_normal((4, 4)).astype(np.float32))


@pytest.mark.parametrize('namespace', ['torch', 'nn.functional', 'Tensor'])
def test_every_function_gives_pytorchs_dtypes_under_cpu_autocast(namespace):
    """A sweep over the namespace: every function both libraries run on the same float32
    arguments inside a CPU autocast region returns PyTorch's dtype (listed ops cast, unlisted
    ones keep their inputs' dtype, composites cast what PyTorch's dispatcher casts inside)."""
    owner = {'torch': (torch, nbgrad), 'nn.functional': (torch.nn.functional,
                                                         nbgrad.nn.functional),
             'Tensor': (torch.Tensor, nbgrad.Tensor)}[namespace]
    compared, differing = 0, []
    for name in dir(owner[0]):
        if name.startswith('_') or not name.islower() or name in _SWEEP_SKIPPED or \
                (namespace == 'Tensor' and name.endswith('_')):
            continue
        theirs, ours = getattr(owner[0], name, None), getattr(owner[1], name, None)
        if ours is None or not callable(theirs) or not callable(ours):
            continue
        expected, got = _sweep_dtype(torch, theirs), _sweep_dtype(nbgrad, ours)
        if 'err' in (expected, got):
            continue
        compared += 1
        if got != expected:
            differing.append((name, expected, got))
    assert compared > 50 and differing == []


def test_warnings_of_wrapped_functions_name_the_callers_line():
    """The autocast entry points add a frame; warnings still point at the user's line, inside
    and outside a region, as PyTorch's do."""
    x, y = nbgrad.ones(3, 1), nbgrad.ones(3)
    lines = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        lines.append(inspect.currentframe().f_lineno + 1)
        nbgrad.nn.functional.mse_loss(x, y)            # target broadcasts: a UserWarning
        with nbgrad.autocast('cpu', dtype=nbgrad.float16):
            lines.append(inspect.currentframe().f_lineno + 1)
            nbgrad.nn.functional.mse_loss(x, y)
        lines.append(inspect.currentframe().f_lineno + 1)
        nbgrad.nn.functional.kl_div(x, x)              # reduction='mean': a UserWarning
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line) for line in lines]


@pytest.mark.parametrize('kind', ['RNN', 'GRU', 'LSTM'])
def test_recurrent_layers_take_half_input_under_cpu_autocast(kind):
    """A float16 input to a float32 layer inside autocast runs (outside, PyTorch's dtype
    check refuses it) and comes back in float16."""
    x = RNG.standard_normal((5, 2, 4)).astype(np.float16)
    results = []
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        module = getattr(lib.nn, kind)(4, 3)
        if lib is nbgrad:
            _same_weights(results[0][0], module)
        with lib.autocast('cpu', dtype=lib.float16):
            out, _ = module(lib.tensor(x))
        results.append((module, out))
    assert str(results[1][1].dtype).split('.')[-1] == str(results[0][1].dtype).split('.')[-1]
    np.testing.assert_allclose(results[1][1].float().detach().numpy(),
                               results[0][1].float().detach().numpy(), rtol=1e-2, atol=1e-2)


_HALF_GRAD = [[30816., -5868.], [-43584., 11368.], [-21696., -27968.], [8068., 16768.]]


@pytest.mark.parametrize('case', ['linear_bias', 'embedding'])
def test_half_gradient_sums_round_as_pytorch(case):
    """A bias's gradient sums in float then rounds to half (PyTorch's sum); an embedding's
    adds each row in half (PyTorch's CPU embedding backward): up to an ulp apart."""
    results = []
    for lib in (torch, nbgrad):
        g = lib.tensor(_HALF_GRAD).half()
        if case == 'linear_bias':
            b = lib.zeros(2, dtype=lib.float16, requires_grad=True)
            lib.nn.functional.linear(lib.zeros(4, 3).half(), lib.zeros(2, 3).half(), b) \
                .backward(g)
            results.append(b.grad.tolist())
        else:
            w = lib.zeros(3, 2, dtype=lib.float16, requires_grad=True)
            lib.nn.functional.embedding(lib.tensor([0, 0, 0, 0]), w).backward(g)
            results.append(w.grad.tolist())
    assert results[0] == results[1]
