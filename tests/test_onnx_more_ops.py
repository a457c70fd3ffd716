"""nbgrad.onnx.export of transposed convolutions, padding, cumsum, floor and trunc division,
group and instance norm, multi-head attention and Transformer encoder layers, LSTM and GRU.

Each model is built twice from the same code, in nbgrad and in torch, with nbgrad's weights
loaded into torch's copy; the exported graph must pass ONNX's full checker, and ONNX's reference
evaluator and ONNX Runtime (both written by others) must compute what torch computes, and what
nbgrad's eager model computes."""
import io
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
onnx = pytest.importorskip('onnx')
from onnx.reference import ReferenceEvaluator  # noqa: E402

try:
    import onnxruntime as ort
except ImportError:     # (optional: the reference evaluator is the oracle that always runs)
    ort = None


def _lambda_module(lib, fn):
    class Lambda(lib.nn.Module):
        def forward(self, *xs):
            return fn(lib, *xs)
    return Lambda()


def _export(model, args, **options):
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert nbgrad.onnx.export(model, args, buffer, **options) is None
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _flat(item)]
    return [result]


def _torch_twin(make, model):
    """torch's model built by the same code, holding nbgrad's weights and buffers."""
    twin = make(torch)
    state = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in
             model.state_dict().items()}
    twin.load_state_dict(state)
    return twin.train(model.training)


def _check(make, arrays, opset=None, rtol=1e-4, atol=1e-5, dynamic_axes=None, resized=None,
           reference=True, **options):
    """Export nbgrad's model on arrays; the ONNX runtimes' outputs must match torch's and
    nbgrad's (on `resized` inputs too, when given with dynamic_axes). reference=False leaves
    out onnx's reference evaluator where it is known to be wrong (ONNX Runtime then must run)."""
    if not reference and ort is None:
        pytest.skip('onnx.reference computes this op wrongly and onnxruntime is not installed')
    nbgrad.manual_seed(0)
    model = make(nbgrad).eval()
    twin = _torch_twin(make, model).eval()
    inputs = tuple(nbgrad.from_numpy(a) for a in arrays)
    names = [f'x{i}' for i in range(len(arrays))]
    proto = _export(model, inputs, opset_version=opset, input_names=names,
                    dynamic_axes=dynamic_axes, **options)
    if (opset or 20) < 14 and 'BatchNormalization' in _ops_of(proto):
        # onnx.reference's BatchNormalization-9 fills in momentum's default and so always
        # normalises with the batch's statistics (onnx/reference/ops/op_batch_normalization.py)
        reference = False
        if ort is None:
            pytest.skip('onnx.reference computes opset-9 BatchNormalization wrongly and '
                        'onnxruntime is not installed')
    for feed in [arrays] + ([resized] if resized is not None else []):
        with torch.no_grad():
            expected = [t.numpy() for t in _flat(twin(*[torch.from_numpy(a) for a in feed]))]
        mine = [t.detach().numpy() for t in
                _flat(model(*[nbgrad.from_numpy(a) for a in feed]))]
        feeds = dict(zip(names, feed))
        runs = {}
        if reference:
            runs['reference'] = ReferenceEvaluator(proto).run(None, feeds)
        if ort is not None:
            runs['onnxruntime'] = ort.InferenceSession(proto.SerializeToString()).run(None, feeds)
        for who, got in runs.items():
            assert len(got) == len(expected), who
            for g, e, m in zip(got, expected, mine):
                assert g.shape == e.shape and g.dtype == e.dtype, (who, g.shape, e.shape)
                np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f'{who} vs torch')
                np.testing.assert_allclose(g, m, rtol=rtol, atol=atol,
                                           err_msg=f'{who} vs nbgrad')
    return proto


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _ops_of(proto):
    return {n.op_type for n in proto.graph.node}


# -- transposed convolutions -------------------------------------------------------------------

CONV_TRANSPOSE = {
    '1d': (lambda lib: lib.nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1),
           (2, 3, 7)),
    '1d-no-bias': (lambda lib: lib.nn.ConvTranspose1d(2, 3, 4, bias=False), (1, 2, 5)),
    '2d-groups-dilation': (lambda lib: lib.nn.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), (2, 4, 5, 6)),
    '2d-uneven': (lambda lib: lib.nn.ConvTranspose2d(
        3, 2, (2, 3), stride=(3, 1), padding=(0, 2), output_padding=(2, 0)), (1, 3, 4, 5)),
    'in-a-decoder': (lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(2, 4, 3, stride=2, padding=1), lib.nn.ReLU(),
        lib.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)), (2, 2, 8, 8)),
}


# onnx's reference ConvTranspose splits a grouped weight by output channels, not input ones
# (onnx/reference/ops/op_conv_transpose.py): grouped ones are checked with ONNX Runtime
GROUPED = {'2d-groups-dilation'}


@pytest.mark.parametrize('name', CONV_TRANSPOSE)
def test_transposed_convolutions_export_as_conv_transpose(name):
    make, shape = CONV_TRANSPOSE[name]
    proto = _check(make, [_randn(*shape)], reference=name not in GROUPED)
    assert 'ConvTranspose' in _ops_of(proto)


def test_transposed_convolution_follows_a_dynamic_batch_and_size():
    make = CONV_TRANSPOSE['2d-groups-dilation'][0]
    _check(make, [_randn(2, 4, 5, 6)], dynamic_axes={'x0': {0: 'n', 2: 'h', 3: 'w'}},
           resized=[_randn(3, 4, 7, 4, seed=1)], reference=False)


def _sized_up(lib, extra):
    """A ConvTranspose2d given output_size = 2 * in + extra(in)."""
    class Sized(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.up = lib.nn.ConvTranspose2d(2, 2, 3, stride=2)

        def forward(self, x):
            return self.up(x, output_size=[2 * x.shape[2] + extra(x.shape[2]),
                                           2 * x.shape[3] + extra(x.shape[3])])
    return Sized()


def test_conv_transpose_output_size_exports_as_its_output_padding():
    _check(lambda lib: _sized_up(lib, lambda n: 2), [_randn(1, 2, 4, 5)],
           dynamic_axes={'x0': {2: 'h', 3: 'w'}}, resized=[_randn(1, 2, 6, 3, seed=1)])


def test_conv_transpose_output_padding_that_varies_with_a_dynamic_axis_is_refused():
    model = _sized_up(nbgrad, lambda n: 1 + n % 2)
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='conv_transpose'):
        _export(model, (nbgrad.randn(1, 2, 4, 4),), input_names=['x'],
                dynamic_axes={'x': {2: 'h'}})


# -- padding -----------------------------------------------------------------------------------

PADS = {
    'constant': (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 3, 0), value=1.5), (2, 3, 4, 5)),
    'constant-default': (lambda lib, x: lib.nn.functional.pad(x, (2, 1)), (2, 3)),
    'constant-crop': (lambda lib, x: lib.nn.functional.pad(x, (-1, 2, 1, -2)), (2, 4, 5)),
    'constant-3d': (lambda lib, x: lib.nn.ConstantPad3d((1, 0, 0, 2, 1, 1), -3.0)(x),
                    (1, 2, 3, 3, 3)),
    'reflect-1d': (lambda lib, x: lib.nn.ReflectionPad1d((2, 3))(x), (2, 3, 5)),
    'reflect-2d': (lambda lib, x: lib.nn.ReflectionPad2d((1, 2, 2, 1))(x), (2, 3, 5, 6)),
    'reflect-unbatched': (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 2, 2), 'reflect'),
                          (3, 4, 4)),
    'replicate-1d': (lambda lib, x: lib.nn.ReplicationPad1d((2, 3))(x), (2, 3, 5)),
    'replicate-2d': (lambda lib, x: lib.nn.ReplicationPad2d(2)(x), (1, 2, 3, 4)),
    'replicate-3d': (lambda lib, x: lib.nn.ReplicationPad3d((1, 0, 2, 1, 0, 1))(x),
                     (1, 2, 3, 3, 4)),
    'circular': (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 0), 'circular'),
                 (2, 3, 4, 5)),
    'circular-crop': (lambda lib, x: lib.nn.functional.pad(x, (-1, 2), 'circular'), (2, 3, 5)),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', PADS)
def test_padding_exports_in_every_mode(name, opset):
    fn, shape = PADS[name]
    _check(lambda lib: _lambda_module(lib, fn), [_randn(*shape)], opset=opset)


def test_integer_padding_keeps_its_dtype():
    fn = lambda lib, x: lib.nn.functional.pad(x, (1, 1), value=7)   # noqa: E731
    _check(lambda lib: _lambda_module(lib, fn), [np.arange(12).reshape(3, 4)])


def test_padding_follows_dynamic_axes():
    fn = lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), 'reflect')   # noqa: E731
    _check(lambda lib: _lambda_module(lib, fn), [_randn(2, 3, 5, 6)],
           dynamic_axes={'x0': {0: 'n', 3: 'w'}}, resized=[_randn(4, 3, 5, 9, seed=1)])


def test_reflect_padding_by_a_negative_amount_is_refused_by_name():
    fn = lambda x: nbgrad.nn.functional.pad(x, (-1, 2), 'reflect')   # noqa: E731
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='borderpad'):
        _export(fn, (nbgrad.randn(2, 3, 6),))


# -- cumsum and rounding division --------------------------------------------------------------

def _divisors(*shape):
    """Values away from 0, of both signs, with exact multiples of the dividends among them."""
    rng = np.random.default_rng(3)
    return (rng.choice([-1, 1], shape) * rng.uniform(0.3, 3, shape)).astype(np.float32)


ARITHMETIC = {
    'cumsum': (lambda lib, x: x.cumsum(1), [_randn(2, 3, 4)]),
    'cumsum-negative-dim': (lambda lib, x: lib.cumsum(x, -1), [_randn(2, 3, 4)]),
    'cumsum-int': (lambda lib, x: lib.cumsum(x, 0), [np.arange(-6, 6).reshape(3, 4)]),
    'cumsum-bool': (lambda lib, x: (x > 0).cumsum(1), [_randn(3, 4)]),
    'cumsum-dtype': (lambda lib, x: x.cumsum(0, dtype=lib.float64), [_randn(3, 4)]),
    'floordiv': (lambda lib, x, y: x // y, [_randn(4, 5) * 4, _divisors(4, 5)]),
    'floordiv-exact-and-rounding': (
        lambda lib, x, y: x // y,
        [np.array([1, -1, 6, -6, 0.3, 7.5, -0.0, 1e-8], np.float32),
         np.array([0.1, 0.1, 3, 3, 0.1, -2.5, 2, -3], np.float32)]),
    'floordiv-scalar': (lambda lib, x: x // 0.7, [_randn(3, 4) * 3]),
    'floor-mode': (lambda lib, x, y: lib.div(x, y, rounding_mode='floor'),
                   [_randn(4, 5) * 4, _divisors(4, 5)]),
    'floordiv-int': (lambda lib, x, y: x // y,
                     [np.arange(-10, 10).reshape(4, 5), np.array([3, -3, 4, -7, 1])]),
    'floordiv-int-scalar': (lambda lib, x: x // 3, [np.arange(-10, 10).reshape(4, 5)]),
    'trunc-mode': (lambda lib, x, y: lib.div(x, y, rounding_mode='trunc'),
                   [_randn(4, 5) * 4, _divisors(4, 5)]),
    'trunc-int': (lambda lib, x, y: lib.div(x, y, rounding_mode='trunc'),
                  [np.arange(-10, 10).reshape(4, 5), np.array([3, -3, 4, -7, 1])]),
    'trunc-int-by-float': (lambda lib, x: lib.div(x, 2.5, rounding_mode='trunc'),
                           [np.arange(-10, 10).reshape(4, 5)]),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', ARITHMETIC)
def test_cumsum_and_rounding_divisions(name, opset):
    fn, arrays = ARITHMETIC[name]
    _check(lambda lib: _lambda_module(lib, fn), arrays, opset=opset, rtol=1e-6, atol=1e-6)


def test_float_floor_division_is_pythons_not_floor_of_the_quotient():
    """1 // 0.1 is 9 in PyTorch (and Python): floor(1 / 0.1) would be 10."""
    proto = _check(lambda lib: _lambda_module(lib, lambda lib, x, y: x // y),
                   [np.ones(1, np.float32), np.full(1, 0.1, np.float32)])
    got = ReferenceEvaluator(proto).run(None, {'x0': np.ones(1, np.float32),
                                               'x1': np.full(1, 0.1, np.float32)})[0]
    assert got[0] == float(torch.tensor([1.0]) // torch.tensor([0.1]))


# -- group and instance norm -------------------------------------------------------------------

NORMS = {
    'group': (lambda lib: lib.nn.GroupNorm(2, 4), (2, 4, 5)),
    'group-2d': (lambda lib: lib.nn.GroupNorm(3, 6, eps=1e-3), (2, 6, 3, 4)),
    'group-per-channel-no-affine': (lambda lib: lib.nn.GroupNorm(4, 4, affine=False),
                                    (3, 4, 2, 2)),
    'instance-1d': (lambda lib: lib.nn.InstanceNorm1d(3), (2, 3, 6)),
    'instance-2d-affine': (lambda lib: lib.nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    'instance-2d-running-stats': (
        lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
        (2, 3, 4, 5)),
    'batch-without-running-stats': (
        lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 2)),
    'in-a-cnn': (lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.GroupNorm(2, 4), lib.nn.SiLU(),
        lib.nn.Conv2d(4, 4, 3, padding=1, padding_mode='reflect'), lib.nn.InstanceNorm2d(4),
        lib.nn.ReLU()), (2, 2, 6, 6)),
}


def _with_random_affine(make):
    """The layer with weights, biases and running stats away from their initial 1s and 0s."""
    def build(lib):
        model = make(lib)
        if lib is nbgrad:
            rng = np.random.default_rng(5)
            with nbgrad.no_grad():
                for name, t in [*model.named_parameters(), *model.named_buffers()]:
                    if t.dtype == nbgrad.float32:
                        values = rng.uniform(0.5, 1.5, tuple(t.shape)).astype(np.float32)
                        t.copy_(nbgrad.from_numpy(values))
        return model
    return build


@pytest.mark.parametrize('opset', [13, 18, 20])
@pytest.mark.parametrize('name', NORMS)
def test_group_and_instance_norm(name, opset):
    make, shape = NORMS[name]
    _check(_with_random_affine(make), [_randn(*shape) * 3 + 1], opset=opset)


def test_group_norm_follows_dynamic_batch_and_spatial_axes():
    make, _ = NORMS['group-2d']
    _check(_with_random_affine(make), [_randn(2, 6, 3, 4)],
           dynamic_axes={'x0': {0: 'n', 3: 'w'}}, resized=[_randn(5, 6, 3, 7, seed=1)])


def test_group_norm_of_float16_is_normalised_in_float32():
    make = lambda lib: lib.nn.GroupNorm(2, 4).half()    # noqa: E731
    _check(make, [_randn(2, 4, 6).astype(np.float16)], rtol=2e-3, atol=2e-3,
           reference=True)


def test_batch_norm_updating_running_stats_is_still_refused():
    with pytest.raises(nbgrad.onnx.OnnxExporterError, match='eval'):
        nbgrad.onnx.export(nbgrad.nn.BatchNorm1d(3), nbgrad.randn(4, 3), io.BytesIO(),
                           training=nbgrad.onnx.TrainingMode.TRAINING)


# -- multi-head attention and the Transformer encoder layer ------------------------------------

def _attention(batch_first=True, kdim=None, need_weights=True, average=True, masks=()):
    """MultiheadAttention(8, 2) called on (query, key, value, *masks); without weights, the
    output alone (the weights are None: a trace returns tensors only)."""
    def make(lib):
        class Attend(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.mha = lib.nn.MultiheadAttention(8, 2, batch_first=batch_first, kdim=kdim,
                                                     vdim=kdim)

            def forward(self, q, k, v, *given):
                named = dict(zip(masks, given))
                out, weights = self.mha(q, k, v, need_weights=need_weights,
                                        average_attn_weights=average, **named)
                return (out, weights) if need_weights else out
        return Attend()
    return make


def _qkv(batch_first, kdim=8, n=2, target=5, source=6):
    shape = (lambda t: (n, t)) if batch_first else (lambda t: (t, n))
    return [_randn(*shape(target), 8, seed=1), _randn(*shape(source), kdim, seed=2),
            _randn(*shape(source), kdim, seed=3)]


_PADDING = np.array([[False] * 6, [False] * 4 + [True] * 2])          # (N, S)
_CAUSAL = np.triu(np.ones((5, 6), bool), 1)                            # (L, S)
_FLOAT_MASK = np.where(_CAUSAL, -1e4, 0.5).astype(np.float32)

ATTENTION = {
    'batch-first': (_attention(), _qkv(True)),
    'sequence-first': (_attention(batch_first=False), _qkv(False)),
    'kdim-vdim': (_attention(kdim=5), _qkv(True, kdim=5)),
    'no-weights': (_attention(need_weights=False), _qkv(True)),
    'weights-per-head': (_attention(average=False), _qkv(True)),
    'key-padding-mask': (_attention(masks=('key_padding_mask',)), _qkv(True) + [_PADDING]),
    'key-padding-mask-no-weights': (
        _attention(need_weights=False, masks=('key_padding_mask',)), _qkv(True) + [_PADDING]),
    'bool-attn-mask': (_attention(batch_first=False, masks=('attn_mask',)),
                       _qkv(False) + [_CAUSAL]),
    'float-attn-mask-no-weights': (_attention(need_weights=False, masks=('attn_mask',)),
                                   _qkv(True) + [_FLOAT_MASK]),
    'both-masks': (_attention(masks=('key_padding_mask', 'attn_mask')),
                   _qkv(True) + [_PADDING, _CAUSAL]),
    'both-masks-sequence-first-no-weights': (
        _attention(batch_first=False, need_weights=False,
                   masks=('key_padding_mask', 'attn_mask')), _qkv(False) + [_PADDING, _CAUSAL]),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', ATTENTION)
def test_multihead_attention(name, opset):
    make, arrays = ATTENTION[name]
    _check(make, arrays, opset=opset)


def _encoder(batch_first=True, norm_first=False, activation='relu', masks=(), causal=False):
    def make(lib):
        class Encode(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = lib.nn.TransformerEncoderLayer(
                    8, 2, 16, dropout=0.1, activation=activation, batch_first=batch_first,
                    norm_first=norm_first)

            def forward(self, x, *given):
                named = dict(zip(masks, given))
                return self.layer(x, is_causal=causal, **named)
        return Encode()
    return make


def _tokens(batch_first):
    return [_randn(2, 6, 8) if batch_first else _randn(6, 2, 8)]


_SQUARE_CAUSAL = np.triu(np.ones((6, 6), bool), 1)
ENCODERS = {
    'batch-first': (_encoder(), _tokens(True)),
    'sequence-first-gelu-norm-first': (_encoder(False, True, 'gelu'), _tokens(False)),
    'padding-mask': (_encoder(masks=('src_key_padding_mask',)), _tokens(True) + [_PADDING]),
    'causal-mask': (_encoder(False, masks=('src_mask',)), _tokens(False) + [_SQUARE_CAUSAL]),
    'float-causal-mask': (_encoder(masks=('src_mask',), causal=True),
                          _tokens(True) + [np.where(_SQUARE_CAUSAL, -np.inf, 0).astype(
                              np.float32)]),
    'both-masks': (_encoder(norm_first=True, masks=('src_mask', 'src_key_padding_mask')),
                   _tokens(True) + [_SQUARE_CAUSAL, _PADDING]),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', ENCODERS)
def test_transformer_encoder_layer(name, opset):
    make, arrays = ENCODERS[name]
    _check(make, arrays, opset=opset)


@pytest.mark.parametrize('axis', ['batch', 'time'])
def test_transformer_encoder_follows_a_dynamic_batch_or_length(axis):
    """(Both at once are refused by name: the heads' reshapes then merge two dynamic sizes.)"""
    make, arrays = ENCODERS['padding-mask']
    n, t = (3, 6) if axis == 'batch' else (2, 9)
    dim = 0 if axis == 'batch' else 1
    _check(make, arrays, dynamic_axes={'x0': {dim: axis}, 'x1': {dim: axis}},
           resized=[_randn(n, t, 8, seed=4), np.arange(n * t).reshape(n, t) % 7 == 6])


def test_multihead_attention_follows_a_dynamic_batch():
    make, arrays = ATTENTION['both-masks-sequence-first-no-weights']
    resized = _qkv(False, n=4) + [np.arange(24).reshape(4, 6) % 5 == 4, _CAUSAL]
    _check(make, arrays, dynamic_axes={'x0': {1: 'n'}, 'x1': {1: 'n'}, 'x2': {1: 'n'},
                                       'x3': {0: 'n'}}, resized=resized)


def test_attention_masks_are_graph_inputs_not_the_examples():
    """The mask the model is traced with must not leak into the graph: MultiheadAttention
    writes a bool mask as -inf into a tensor it makes (masked_fill_), which the graph must
    start from zeros at every run."""
    make, arrays = ATTENTION['both-masks']
    other_padding = np.array([[False] * 3 + [True] * 3, [False] * 6])
    _check(make, arrays, resized=arrays[:3] + [other_padding, np.zeros((5, 6), bool)])
    make, arrays = ENCODERS['padding-mask']
    _check(make, arrays, resized=arrays[:1] + [~_PADDING & (np.arange(6) < 3)])


# -- LSTM and GRU ------------------------------------------------------------------------------

RECURRENT = {
    'lstm-batch-first': (lambda lib: lib.nn.LSTM(4, 5, batch_first=True), (2, 3, 4)),
    'lstm-bidirectional': (lambda lib: lib.nn.LSTM(4, 5, bidirectional=True), (3, 2, 4)),
    'lstm-no-bias': (lambda lib: lib.nn.LSTM(4, 3, bias=False, batch_first=True), (2, 5, 4)),
    'gru-batch-first': (lambda lib: lib.nn.GRU(4, 5, batch_first=True), (2, 3, 4)),
    'gru-bidirectional': (lambda lib: lib.nn.GRU(4, 5, batch_first=True, bidirectional=True),
                          (2, 3, 4)),
    'gru-two-layers': (lambda lib: lib.nn.GRU(4, 3, num_layers=2), (4, 2, 4)),
}


@pytest.mark.parametrize('opset', [13, 20])
@pytest.mark.parametrize('name', RECURRENT)
def test_lstm_and_gru_export_as_onnx_recurrent_ops(name, opset):
    make, shape = RECURRENT[name]
    proto = _check(make, [_randn(*shape)], opset=opset)
    assert _ops_of(proto) & {'LSTM', 'GRU'}


def test_lstm_with_given_initial_states():
    def build(lib):
        class Run(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = lib.nn.LSTM(4, 5, batch_first=True, bidirectional=True)

            def forward(self, x, h, c):
                out, (h_n, c_n) = self.lstm(x, (h, c))
                return out, h_n, c_n
        return Run()
    _check(build, [_randn(2, 3, 4), _randn(2, 2, 5, seed=1), _randn(2, 2, 5, seed=2)])


def test_gru_follows_a_dynamic_batch_when_given_its_initial_state():
    """(Without h0 the model makes zeros of the batch's size, a constant in the graph.)"""
    def build(lib):
        class Run(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = lib.nn.GRU(4, 5, batch_first=True)

            def forward(self, x, h):
                return self.gru(x, h)
        return Run()
    _check(build, [_randn(2, 3, 4), _randn(1, 2, 5, seed=1)],
           dynamic_axes={'x0': {0: 'n'}, 'x1': {1: 'n'}},
           resized=[_randn(4, 3, 4, seed=2), _randn(1, 4, 5, seed=3)])

