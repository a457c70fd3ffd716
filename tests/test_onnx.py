"""nbgrad.onnx.export: the exported models pass ONNX's own checker and ONNX Runtime computes
the same outputs as nbgrad's eager model; names, atomic files and refusals."""
import io
import os

import numpy as np
import pytest

import nbgrad

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')
nn = nbgrad.nn


def _export_bytes(model, args, **options):
    """export() returns None, as torch's TorchScript path does: the bytes come from f."""
    buffer = io.BytesIO()
    assert nbgrad.onnx.export(model, args, buffer, **options) is None
    return buffer.getvalue()


class _Attention(nn.Module):
    """Matmuls, a transpose, softmax, a concat, a permute and an unsqueeze, and a scalar."""

    def __init__(self):
        super().__init__()
        self.q, self.k = nn.Linear(6, 6), nn.Linear(6, 6)

    def forward(self, x):
        scores = self.q(x) @ self.k(x).transpose(1, 2) / 2.5
        mixed = scores.softmax(-1) @ x
        both = nbgrad.cat([mixed, x * 0.5 - 1], dim=2)
        return both.permute(0, 2, 1).unsqueeze(0).sum(-1, keepdim=True)


MODELS = {
    'mlp': (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(1)),
            (5, 4)),
    'cnn': (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dilation=1), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 2)), (2, 1, 16, 16)),
    'ceil-pool': (lambda: nn.Sequential(nn.MaxPool2d(3, stride=2, ceil_mode=True),
                                        nn.AvgPool2d(2, count_include_pad=False, padding=1)),
                  (1, 2, 8, 8)),
    'layernorm-gelu': (lambda: nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.GELU(),
                                             nn.Tanh(), nn.Sigmoid()), (3, 5, 6)),
    'attention': (_Attention, (2, 5, 6)),
    'log-softmax-float64': (lambda: nn.Sequential(nn.Linear(3, 4), nn.LogSoftmax(1)).double(),
                            (4, 3)),
}


@pytest.mark.parametrize('name', MODELS)
def test_onnx_runtime_computes_what_nbgrad_computes(name):
    make, shape = MODELS[name]
    nbgrad.manual_seed(0)
    model = make().eval()
    dtype = next(model.parameters(), nbgrad.ones(1)).dtype
    x = nbgrad.randn(*shape, dtype=dtype)
    data = _export_bytes(model, (x,), input_names=['x'], output_names=['y'])
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    got = ort.InferenceSession(data).run(None, {'x': x.numpy()})[0]
    expected = model(x).detach().numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_parameters_are_named_by_their_state_dict_keys():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    proto = onnx.load_from_string(_export_bytes(model, nbgrad.randn(1, 4)))
    assert sorted(t.name for t in proto.graph.initializer) == sorted(model.state_dict())
    assert [i.name for i in proto.graph.input] == ['input_0']
    assert [o.name for o in proto.graph.output] == ['output_0']
    # torch's default opset for its TorchScript exporter (torch.onnx._constants)
    assert proto.opset_import[0].version == 20 and proto.producer_name == 'nbgrad'


def test_the_file_is_written_whole(tmp_path):
    path = tmp_path / 'model.onnx'
    model = nn.Linear(3, 2)
    assert nbgrad.onnx.export(model, nbgrad.ones(1, 3), str(path)) is None
    assert os.listdir(tmp_path) == ['model.onnx']
    assert path.read_bytes() == _export_bytes(model, nbgrad.ones(1, 3))


@pytest.mark.parametrize('make, message', [
    (lambda: nn.Sequential(nn.Linear(3, 3), nn.Hardswish()), "'hardswish'"),
    (lambda: nn.RNN(3, 4), 'only LSTM and GRU'),
    (lambda: nn.BatchNorm1d(3), 'eval'),
], ids=['unknown-op', 'plain-rnn', 'train-mode-batchnorm'])
def test_what_cannot_be_exported_is_named(make, message):
    model = make()
    x = nbgrad.randn(5, 2, 3) if isinstance(model, nn.RNN) else nbgrad.randn(2, 3)
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match=message):
        # (training=TRAINING keeps batch statistics; the default EVAL exports eval() mode)
        nbgrad.onnx.export(model, x, io.BytesIO(), training=nbgrad.onnx.TrainingMode.TRAINING)


class _ResidualBlock(nn.Module):
    """ResNet's pattern: ReLU(inplace=True) on a layer's output, and `out += identity`."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn(self.conv(x)))
        out += x
        return self.relu(out)


def test_in_place_ops_on_unaliased_values_export_as_their_out_of_place_forms():
    nbgrad.manual_seed(0)
    model = _ResidualBlock().eval()
    x = nbgrad.randn(2, 3, 5, 5)
    data = _export_bytes(model, (x,), input_names=['x'])
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    got = ort.InferenceSession(data).run(None, {'x': x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_in_place_ops_through_views_are_refused():
    def f(x):
        y = x * 2
        y[0].add_(1)            # (the write reaches y: ONNX values cannot say so)
        return y
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='in-place'):
        nbgrad.onnx.export(f, nbgrad.ones(2, 2), io.BytesIO())
