"""nbgrad.onnx.export's options and wider op set: every exported model passes ONNX's full
checker and ONNX's reference evaluator (onnx.reference, which nbgrad did not write) computes what
nbgrad's eager model computes, at opsets 13 to 20 and, under dynamic_axes, at other batch sizes;
names, IR versions, op forms per opset and option behaviour are compared with torch's own
TorchScript exporter (torch.onnx.export(..., dynamo=False))."""
import io
import warnings

import numpy as np
import pytest

import nbgrad

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')
from onnx.reference import ReferenceEvaluator  # noqa: E402

nn = nbgrad.nn
F = nn.functional


def _export(model, args, **options):
    buffer = io.BytesIO()
    assert nbgrad.onnx.export(model, args, buffer, **options) is None
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _run(proto, *arrays):
    feeds = dict(zip([i.name for i in proto.graph.input], arrays))
    return ReferenceEvaluator(proto).run(None, feeds)


def _torch_export(model, args, **options):
    torch = pytest.importorskip('torch')
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, args, buffer, dynamo=False, **options)
    return onnx.load_from_string(buffer.getvalue())


def _dims(values):
    return [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values]


_index = nbgrad.tensor([1, 0, 2])
OPS = {
    'clamp': lambda x: x.clamp(-0.5, 0.5), 'clamp_min': lambda x: x.clamp(min=0.1),
    'clamp_max': lambda x: nbgrad.clamp_max(x, 0.2),
    'clamp_tensor': lambda x: x.clamp(min=nbgrad.zeros(4)),
    'slice': lambda x: x[:, 1:3], 'slice_step': lambda x: x[..., ::2],
    'slice_negative': lambda x: x[:, :-1], 'select': lambda x: x[:, 1],
    'select_last': lambda x: x[..., -1], 'index_mix': lambda x: x[0, 1:, ::2],
    'index_none': lambda x: x[None, :, None], 'index_array': lambda x: x[:, _index],
    'cat': lambda x: nbgrad.cat([x, x * 2], 1), 'stack': lambda x: nbgrad.stack([x, x], 1),
    'transpose': lambda x: x.transpose(0, 2), 'permute': lambda x: x.permute(2, 0, 1),
    'chunk': lambda x: x.chunk(2, -1), 'split': lambda x: nbgrad.split(x, [1, 2], 1),
    'unbind': lambda x: x.unbind(1), 'matmul': lambda x: x @ x.transpose(1, 2),
    'mm': lambda x: x[0] @ x[0].t(), 'softmax': lambda x: F.softmax(x, -1),
    'log_softmax': lambda x: F.log_softmax(x, 1), 'layer_norm': lambda x: F.layer_norm(x, (4,)),
    'gelu': lambda x: F.gelu(x), 'gelu_tanh': lambda x: F.gelu(x, approximate='tanh'),
    'dropout_eval': lambda x: F.dropout(x, 0.5, training=False) * 3,
    'square': lambda x: x.pow(2), 'pow_number': lambda x: x.pow(3),
    'number_pow': lambda x: 2 ** x, 'pow_tensor': lambda x: x.abs() ** x,
    'sqrt_exp_log': lambda x: x.abs().sqrt() + x.exp().log(), 'rsqrt': lambda x: x.abs().rsqrt(),
    'tanh_sigmoid': lambda x: x.tanh() * x.sigmoid(),
    'where': lambda x: nbgrad.where(x > 0, x, 0.0),
    'masked_fill': lambda x: x.masked_fill(x > 0, 1),
    'mean_all': lambda x: x.mean(), 'mean_dims': lambda x: x.mean((0, 2), keepdim=True),
    'sum_dim': lambda x: x.sum(1), 'sum_all': lambda x: x.sum(), 'prod': lambda x: x.prod(1),
    'max_dim': lambda x: x.max(-1), 'max_all': lambda x: x.max(), 'amin': lambda x: x.amin(-1),
    'argmax': lambda x: x.argmax(-1), 'var': lambda x: x.var(-1),
    'std': lambda x: x.std((0, 1), keepdim=True, correction=0),
    'view_size': lambda x: x.view(x.size(0), -1), 'flatten': lambda x: x.flatten(1),
    'squeeze': lambda x: x[:, :1].squeeze(1), 'unsqueeze': lambda x: x.unsqueeze(-1),
    'expand': lambda x: x[:, :1].expand(2, 3, 4), 'repeat': lambda x: x.repeat(2, 1, 2, 1),
    'rsub': lambda x: 1 - x, 'relu6': lambda x: F.relu6(x),
    'leaky': lambda x: F.leaky_relu(x, .1), 'silu': lambda x: F.silu(x),
    'softplus': lambda x: F.softplus(x, beta=2), 'elu': lambda x: F.elu(x),
    'compare': lambda x: (x != 0) & ~(x < 0.5),
    'casts': lambda x: (x > 0).long() * 0.5 + x.double(),
}


@pytest.mark.parametrize('opset', [13, 17, 18, 20])
@pytest.mark.parametrize('name', OPS)
def test_the_reference_evaluator_computes_what_nbgrad_computes(name, opset):
    fn = OPS[name]
    nbgrad.manual_seed(0)
    x = nbgrad.randn(2, 3, 4)
    proto = _export(fn, (x,), opset_version=opset)
    assert proto.opset_import[0].version == opset
    expected = fn(x)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = _run(proto, x.numpy())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = e.numpy()
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


class _Heads(nn.Module):
    """Sizes read from the input (x.shape) in view/reshape, slicing, attention."""

    def __init__(self):
        super().__init__()
        self.norm, self.q = nn.LayerNorm(8), nn.Linear(8, 8)

    def forward(self, x):
        batch, time, channels = x.shape
        h = self.q(self.norm(x)).view(batch, time, 2, 4).transpose(1, 2)
        mixed = (h @ h.transpose(-1, -2) / 2.0).softmax(-1) @ h
        y = mixed.transpose(1, 2).reshape(batch, time, channels)
        return F.gelu(y[:, 1:, ::2]).mean(1)


class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.out = nn.Embedding(10, 4), nn.Linear(4, 3)

    def forward(self, tokens):
        return self.out(nn.functional.dropout(self.embed(tokens), 0.2, self.training)).sum(1)


DYNAMIC = {
    'cnn': (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)),
            lambda b: nbgrad.randn(b, 1, 8, 8), {'x': {0: 'batch'}, 'y': {0: 'batch'}}),
    'attention': (_Heads, lambda b: nbgrad.randn(b, b + 3, 8),
                  {'x': {0: 'batch', 1: 'time'}, 'y': {0: 'batch'}}),
    'embedding': (_Tagger, lambda b: nbgrad.randint(0, 10, (b, 2 * b)), {'x': {0: 'b', 1: 't'}}),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', DYNAMIC)
def test_dynamic_axes_run_at_other_sizes(name, opset):
    make, example, axes = DYNAMIC[name]
    nbgrad.manual_seed(0)
    model = make().eval()
    proto = _export(model, (example(2),), input_names=['x'], output_names=['y'],
                    dynamic_axes=axes, opset_version=opset)
    assert _dims(proto.graph.input)[0][:len(axes['x'])] == list(axes['x'].values())
    session = ort.InferenceSession(proto.SerializeToString())
    for size in (2, 5, 1):
        x = example(size)
        expected = model(x).detach().numpy()
        runs = [session.run(None, {'x': x.numpy()})[0]]
        if opset >= 14:     # (onnx's reference BatchNormalization-9 uses batch statistics)
            runs.append(_run(proto, x.numpy())[0])
        for got in runs:
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_dynamic_axis_names_are_torchs():
    torch = pytest.importorskip('torch')
    axes = {'x': {0: 'batch'}, 'y': [0]}
    theirs = _torch_export(torch.nn.Linear(3, 2), (torch.ones(4, 3),), input_names=['x'],
                           output_names=['y'], dynamic_axes=dict(axes))   # (torch edits it)
    with pytest.warns(UserWarning, match='Automatically generated names'):
        mine = _export(nn.Linear(3, 2), (nbgrad.ones(4, 3),), input_names=['x'],
                       output_names=['y'], dynamic_axes=axes)
    assert _dims(mine.graph.input) == _dims(theirs.graph.input) == [['batch', 3]]
    assert _dims(mine.graph.output) == _dims(theirs.graph.output) == [['y_dynamic_axes_1', 2]]


def test_a_literal_size_stays_baked_as_in_torch():
    """x.view(2, -1) is the example's size in torch's graph too: the axis is named, the
    Reshape keeps 2 (and nbgrad warns that the resized trace could not run)."""
    with pytest.warns(UserWarning, match="keeps the example's sizes"):
        proto = _export(lambda x: x.view(2, -1), (nbgrad.randn(2, 3),), input_names=['x'],
                        dynamic_axes={'x': {0: 'b'}})
    assert _dims(proto.graph.input) == [['b', 3]]
    x = nbgrad.randn(2, 3)
    np.testing.assert_allclose(_run(proto, x.numpy())[0], x.view(2, -1).numpy())


@pytest.mark.parametrize('fn, message', [
    (lambda x: x + nbgrad.zeros(x.size(0), 1), 'makes a tensor'),
    (lambda x: x.chunk(2, 0)[0], 'dynamic axis'),
    (lambda x: x.sum(0) / x.size(0), 'Python number'),
], ids=['created-tensor', 'split-dynamic-dim', 'size-as-number'])
def test_what_cannot_follow_a_dynamic_axis_is_refused(fn, message):
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match=message):
        nbgrad.onnx.export(fn, (nbgrad.randn(4, 3),), io.BytesIO(), input_names=['x'],
                           dynamic_axes={'x': {0: 'b'}})


@pytest.mark.parametrize('opset', range(13, 21))
def test_opsets_ir_versions_and_op_forms_are_torchs(opset):
    torch = pytest.importorskip('torch')
    theirs = _torch_export(torch.nn.Sequential(torch.nn.LayerNorm(3), torch.nn.GELU()).eval(),
                           (torch.ones(4, 3),), opset_version=opset)
    mine = _export(nn.Sequential(nn.LayerNorm(3), nn.GELU()), (nbgrad.ones(4, 3),),
                   opset_version=opset)
    assert mine.ir_version == theirs.ir_version
    assert mine.opset_import[0].version == theirs.opset_import[0].version == opset
    for op in ('LayerNormalization', 'Gelu'):
        assert (op in {n.op_type for n in mine.graph.node}) == \
            (op in {n.op_type for n in theirs.graph.node})


def test_an_opset_below_13_is_refused():
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='opset'):
        nbgrad.onnx.export(nn.Linear(2, 2), nbgrad.ones(1, 2), io.BytesIO(), opset_version=11)


def test_export_params_false_and_keep_initializers_as_inputs_name_inputs_as_torch():
    torch = pytest.importorskip('torch')
    x = nbgrad.randn(4, 3)
    model = nn.Linear(3, 2)
    for options in (dict(export_params=False), dict(keep_initializers_as_inputs=True)):
        theirs = _torch_export(torch.nn.Linear(3, 2), (torch.ones(4, 3),), input_names=['x'],
                               **options)
        mine = _export(model, (x,), input_names=['x'], **options)
        assert [i.name for i in mine.graph.input] == [i.name for i in theirs.graph.input]
        assert ([i.name for i in mine.graph.initializer] ==
                [i.name for i in theirs.graph.initializer])
    weights = [model.weight.detach().numpy(), model.bias.detach().numpy()]
    got = _run(_export(model, (x,), export_params=False), x.numpy(), *weights)[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-6)


def test_export_returns_none_and_needs_f_as_torch():
    torch = pytest.importorskip('torch')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert torch.onnx.export(torch.nn.Linear(2, 2), (torch.ones(1, 2),), io.BytesIO(),
                                 dynamo=False) is None
        with pytest.raises(AttributeError):
            torch.onnx.export(torch.nn.Linear(2, 2), (torch.ones(1, 2),), None, dynamo=False)
        with pytest.raises(ValueError):
            torch.onnx.export(torch.nn.Linear(2, 2), (torch.ones(1, 2),), io.BytesIO(),
                              dynamo=False, dynamic_shapes={'input': {0: 'b'}})
    assert nbgrad.onnx.export(nn.Linear(2, 2), (nbgrad.ones(1, 2),), io.BytesIO()) is None
    with pytest.raises(AttributeError, match='f=None'):
        nbgrad.onnx.export(nn.Linear(2, 2), (nbgrad.ones(1, 2),), None)
    with pytest.raises(ValueError, match='dynamic_axes'):
        nbgrad.onnx.export(nn.Linear(2, 2), (nbgrad.ones(1, 2),), io.BytesIO(),
                           dynamic_shapes={'input': {0: 'b'}})


def test_training_modes_and_enums_are_torchs():
    torch = pytest.importorskip('torch')
    for mine, theirs in ((nbgrad.onnx.TrainingMode, torch.onnx.TrainingMode),
                         (nbgrad.onnx.OperatorExportTypes, torch.onnx.OperatorExportTypes)):
        assert {k: int(v) for k, v in mine.__members__.items()} == \
            {k: int(v) for k, v in theirs.__members__.items()}
    # EVAL (the default) exports a training-mode model in eval mode and restores its mode
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.5)).train()
    x = nbgrad.randn(4, 3)
    proto = _export(model, (x,), training=nbgrad.onnx.TrainingMode.EVAL, verbose=False,
                    do_constant_folding=True,
                    operator_export_type=nbgrad.onnx.OperatorExportTypes.ONNX)
    assert model.training and model[1].training
    model.eval()
    np.testing.assert_allclose(_run(proto, x.numpy())[0], model(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    # PRESERVE keeps training mode: batch statistics have no ONNX inference form here
    warnings.simplefilter('ignore', nbgrad.jit.TracerWarning)     # (dropout draws)
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='eval'):
        nbgrad.onnx.export(model.train(), (x,), io.BytesIO(),
                           training=nbgrad.onnx.TrainingMode.PRESERVE)


def test_verbose_prints_the_traced_graph(capsys):
    _export(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), (nbgrad.ones(1, 2),), verbose=True)
    assert 'aten::relu' in capsys.readouterr().out
