"""The %%model summary table (magics/summary.py), checked against PyTorch: each architecture is
built twice from the same code, with nbgrad.nn and with torch.nn; parameter counts come from
torch's parameters(), and the rows (call order, depth, output shape) from hooks on the torch
model's own forward."""
import numpy as np
import pytest

import nbgrad
from nbgrad.magics.summary import ForwardError, ModelSummary, summarize

torch = pytest.importorskip('torch')


# -- the same architectures, for either library ---------------------------------------------

def mlp(nn, lib):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn(nn, lib):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))


def nested(nn, lib):
    return nn.Sequential(nn.Sequential(nn.Linear(6, 6), nn.Tanh()),
                         nn.Sequential(nn.Linear(6, 4),
                                       nn.Sequential(nn.Linear(4, 2), nn.Sigmoid())),
                         nn.Identity())


def shared(nn, lib):
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.scale = nn.Parameter(lib.ones(8))
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            return self.head(self.fc(self.fc(x)) * self.scale)
    return Shared()


def frozen(nn, lib):
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 2), nn.LayerNorm(2))
    for p in model[0].parameters():
        p.requires_grad_(False)
    return model


def recurrent(nn, lib):
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.out = nn.Linear(16, 4)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return self.out(hidden)
    return Tagger()


def rng_inputs(shape, dtype='float32'):
    rng = np.random.default_rng(0)
    if dtype == 'int64':
        return rng.integers(0, 20, size=shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32)


CASES = [
    pytest.param(mlp, (32, 1, 28, 28), 'float32', id='mlp'),
    pytest.param(cnn, (4, 3, 16, 16), 'float32', id='cnn'),
    pytest.param(nested, (5, 6), 'float32', id='nested'),
    pytest.param(shared, (3, 8), 'float32', id='shared-layer'),
    pytest.param(frozen, (7, 10), 'float32', id='frozen'),
    pytest.param(recurrent, (3, 7), 'int64', id='lstm'),
]


def torch_trace(model, x):
    """(type, depth, output shape, own params, first call) per module call, in call order,
    and the torchinfo forward/backward bytes, from hooks on the torch model."""
    rows, stack, seen, fb = [], [], set(), [0]

    def tensors(v):
        if isinstance(v, torch.Tensor):
            return [v]
        if isinstance(v, (tuple, list)):
            return [t for item in v for t in tensors(item)]
        return []

    def pre(module, args):
        first = id(module) not in seen
        seen.add(id(module))
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append([type(module).__name__, len(stack), None, own, first])
        stack.append((rows[-1], module))

    def post(module, args, out):
        row, _ = stack.pop()
        shapes = [list(t.shape) for t in tensors(out)]
        row[2] = shapes[0] if len(shapes) == 1 else shapes
        if not list(module.children()) and row[3] and row[4]:
            fb[0] += 2 * sum(t.numel() * t.element_size() for t in tensors(out))

    handles = [h for m in model.modules() for h in (m.register_forward_pre_hook(pre),
                                                    m.register_forward_hook(post))]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return rows, fb[0]


@pytest.mark.parametrize('make, shape, dtype', CASES)
def test_summary_matches_the_torch_model(make, shape, dtype):
    data = rng_inputs(shape, dtype)
    ours = make(nbgrad.nn, nbgrad)
    theirs = make(torch.nn, torch)
    x_theirs = torch.from_numpy(data)
    expected_rows, expected_fb = torch_trace(theirs, x_theirs)

    s = summarize(ours, nbgrad.from_numpy(data))
    got_rows = [[r.type_name, r.depth, r.output_shape, r.num_params, not r.recursive]
                for r in s.rows]
    assert got_rows == expected_rows

    params = list(theirs.parameters())
    assert s.total_params == sum(p.numel() for p in params)
    assert s.trainable_params == sum(p.numel() for p in params if p.requires_grad)
    assert s.non_trainable_params == sum(p.numel() for p in params if not p.requires_grad)
    assert s.param_bytes == sum(p.numel() * p.element_size() for p in params)
    assert s.input_bytes == x_theirs.numel() * x_theirs.element_size()
    assert s.forward_backward_bytes == expected_fb
    assert s.total_bytes == s.input_bytes + s.forward_backward_bytes + s.param_bytes

    text = str(s)
    assert f'Total params: {s.total_params:,}' in text
    assert f'Trainable params: {s.trainable_params:,}' in text
    assert f'Non-trainable params: {s.non_trainable_params:,}' in text
    assert f'Params size (MB): {s.param_bytes / 1e6:.2f}' in text
    assert f'Input size (MB): {s.input_bytes / 1e6:.2f}' in text
    assert f'Estimated Total Size (MB): {s.total_bytes / 1e6:.2f}' in text


@pytest.mark.parametrize('make', [mlp, cnn, nested, shared, frozen, recurrent])
def test_summary_without_input_lists_the_module_tree(make):
    ours, theirs = make(nbgrad.nn, nbgrad), make(torch.nn, torch)
    s = summarize(ours)
    expected = [(type(m).__name__, name.count('.') + 1 if name else 0)
                for name, m in theirs.named_modules()]
    assert [(r.type_name, r.depth) for r in s.rows] == expected
    assert all(r.output_shape is None for r in s.rows)
    assert s.total_params == sum(p.numel() for p in theirs.parameters())
    assert s.input_bytes is None
    text = str(s)
    assert 'Input size' not in text and 'Params size (MB)' in text


def test_transformer_parameter_totals_match_torch():
    def make(nn):
        return nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,
                                          batch_first=True)
    s = summarize(make(nbgrad.nn), nbgrad.randn(2, 5, 16))
    assert s.total_params == sum(p.numel() for p in make(torch.nn).parameters())
    assert s.rows[0].output_shape == [2, 5, 16]


MLP_TABLE = '''\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Sequential                               [32, 10]                  --
├─Flatten: 1-1                           [32, 784]                 --
├─Linear: 1-2                            [32, 128]                 100,480
├─ReLU: 1-3                              [32, 128]                 --
├─Linear: 1-4                            [32, 10]                  1,290
==========================================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
==========================================================================================
Input size (MB): 0.10
Forward/backward pass size (MB): 0.04
Params size (MB): 0.41
Estimated Total Size (MB): 0.54
=========================================================================================='''


def test_mlp_table_text_is_torchinfos_layout():
    s = summarize(mlp(nbgrad.nn, nbgrad), nbgrad.zeros(32, 1, 28, 28))
    assert str(s) == MLP_TABLE
    assert repr(s) == MLP_TABLE


def test_nested_labels_use_torchinfos_tree_and_running_depth_index():
    s = summarize(nested(nbgrad.nn, nbgrad), nbgrad.zeros(5, 6))
    labels = [line[:40].rstrip() for line in str(s).splitlines()[3:3 + len(s.rows)]]
    assert labels == ['Sequential', '├─Sequential: 1-1', '│    └─Linear: 2-1',
                      '│    └─Tanh: 2-2', '├─Sequential: 1-2', '│    └─Linear: 2-3',
                      '│    └─Sequential: 2-4', '│    │    └─Linear: 3-1',
                      '│    │    └─Sigmoid: 3-2', '├─Identity: 1-3']


def test_recursive_calls_are_marked_and_counted_once():
    s = summarize(shared(nbgrad.nn, nbgrad), nbgrad.zeros(3, 8))
    lines = str(s).splitlines()
    fc_rows = [line for line in lines if 'Linear: 1-' in line][:2]
    assert fc_rows[0].rstrip().endswith('72') and fc_rows[1].rstrip().endswith('(recursive)')
    assert s.rows[0].num_params == 8          # the model's own `scale`
    assert s.total_params == 72 + 8 + 27


def test_layer_column_widens_for_deep_trees():
    model = nbgrad.nn.Linear(2, 2)
    for _ in range(8):
        model = nbgrad.nn.Sequential(model)
    s = summarize(model, nbgrad.zeros(1, 2))
    lines = str(s).splitlines()
    assert len(lines[0]) == len(lines[-1]) > 90 and (len(lines[0]) - 50) % 5 == 0
    header = lines[1]
    assert header.index('Output Shape') == len(lines[0]) - 49   # the name column + one space


def test_training_flags_and_buffers_are_left_as_they_were():
    model = cnn(nbgrad.nn, nbgrad)
    model.train()
    model[1].eval()                      # a mix, to see each flag restored
    before = model[1].running_mean.clone()
    flags = [m.training for m in model.modules()]
    summarize(model, nbgrad.randn(2, 3, 8, 8))
    assert [m.training for m in model.modules()] == flags
    assert nbgrad.equal(model[1].running_mean, before)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_forward_error_names_the_innermost_module_and_its_input():
    model = nested(nbgrad.nn, nbgrad)
    with pytest.raises(ForwardError) as info:
        summarize(model, nbgrad.zeros(5, 7))
    assert info.value.path == '0.0'
    assert info.value.input_shapes == [[5, 7]]
    assert 'mat1 and mat2 shapes cannot be multiplied (5x7 and 6x6)' in str(info.value.error)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert all(not m._forward_hooks for m in model.modules())
    assert all(m.training for m in model.modules())


def test_forward_error_in_the_models_own_code():
    class Bad(nbgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nbgrad.nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x).view(7)

    with pytest.raises(ForwardError) as info:
        summarize(Bad(), nbgrad.zeros(1, 2))
    assert info.value.path == ''
    assert "shape '[7]' is invalid" in str(info.value.error)


def test_mimebundle_has_text_and_html():
    s = summarize(mlp(nbgrad.nn, nbgrad), nbgrad.zeros(32, 1, 28, 28))
    bundle = s._repr_mimebundle_()
    assert bundle['text/plain'] == MLP_TABLE
    assert bundle['text/html'].startswith('<pre') and '├─Linear: 1-2' in bundle['text/html']
    assert isinstance(s, ModelSummary)


def test_float64_model_sizes_double():
    model = mlp(nbgrad.nn, nbgrad).to(nbgrad.float64)
    s = summarize(model, nbgrad.zeros(32, 784, dtype=nbgrad.float64))
    assert s.param_bytes == 8 * 101770
    assert s.input_bytes == 8 * 32 * 784
