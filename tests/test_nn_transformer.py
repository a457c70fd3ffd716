"""TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and
Transformer against PyTorch: PyTorch's weights loaded into nbgrad's modules, then outputs and the
gradients of inputs and every parameter over a table of configurations (masks of each kind, key
padding, causal masks and hints, norm_first, activations, batch_first, bias, unbatched inputs);
seeded dropout in training; seeded initialisation, state_dict keys and reprs; the nested-tensor
warnings; errors; float64 gradcheck; the 'cuda' device."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import arr, assert_same, assert_same_value, both
from test_nn_attention import backprop, host, lib_tensors, run_pair

torch = pytest.importorskip('torch')

D, HEADS, FF, S, T, N = 8, 2, 16, 5, 4, 3  # d_model, heads, feed-forward width, lengths, batch


def _lib(module):
    return torch if isinstance(module, torch.nn.Module) else nbgrad


def _padding(length, kind='bool', batch=N, seed=5):
    """A key padding mask, True (or -inf) at padding; batch=None for an unbatched one."""
    mask = np.random.default_rng(seed).random((batch or 1, length)) > 0.6
    mask[:, 0] = False
    mask = mask if batch else mask[0]
    return mask if kind == 'bool' else np.where(mask, -np.inf, 0.0) + arr(*mask.shape, seed=6)


def _mask(rows, cols, kind='bool', seed=7):
    """An attention mask, True (or -inf) where a query may not look; never a whole row."""
    mask = np.random.default_rng(seed).random((rows, cols)) > 0.6
    mask[:, 0] = False
    return mask if kind == 'bool' else np.where(mask, -np.inf, 0.0) + arr(rows, cols, seed=8)


def _causal(size):
    return np.triu(np.full((size, size), -np.inf), 1)


def _calling(names, masks):
    """call(module, **tensors): module(*tensors named, **masks) with masks made in its library."""
    def call(module, **tensors):
        device = tensors[names[0]].device
        kwargs = {k: _lib(module).tensor(v, device=device) if isinstance(v, np.ndarray) else v
                  for k, v in masks.items()}
        return module(*(tensors[n] for n in names), **kwargs)
    return call


def _sequence(length, batched=True, batch_first=False, seed=1):
    if not batched:
        return arr(length, D, seed=seed)
    return arr(N, length, D, seed=seed) if batch_first else arr(length, N, D, seed=seed)


def _layer_kwargs(lib, ctor):
    kwargs = {'dropout': 0.0, 'dim_feedforward': FF, 'dtype': lib.float64, **ctor}
    if kwargs.get('activation') == 'silu_function':
        kwargs['activation'] = lib.nn.functional.silu
    elif kwargs.get('activation') == 'gelu_module':
        kwargs['activation'] = lib.nn.GELU(approximate='tanh')
    return kwargs


# name: (constructor keywords, batched, forward keywords)
ENCODER_LAYER_CASES = {
    'default': ({}, True, {}),
    'norm_first': ({'norm_first': True}, True, {}),
    'gelu': ({'activation': 'gelu'}, True, {}),
    'activation_function': ({'activation': 'silu_function'}, True, {}),
    'activation_module': ({'activation': 'gelu_module', 'norm_first': True}, True, {}),
    'batch_first_padding': ({'batch_first': True}, True, {'src_key_padding_mask': _padding(S)}),
    'no_bias_eps': ({'bias': False, 'layer_norm_eps': 1e-3}, True, {}),
    'bool_mask': ({}, True, {'src_mask': _mask(S, S)}),
    'float_mask_float_padding': ({}, True, {'src_mask': _mask(S, S, 'float'),
                                            'src_key_padding_mask': _padding(S, 'float')}),
    'bool_mask_bool_padding': ({'norm_first': True}, True,
                               {'src_mask': _mask(S, S), 'src_key_padding_mask': _padding(S)}),
    'mixed_mask_types': ({}, True, {'src_mask': _mask(S, S, 'float'),
                                    'src_key_padding_mask': _padding(S)}),
    'causal_hint': ({}, True, {'src_mask': _causal(S), 'is_causal': True}),
    'unbatched': ({}, False, {'src_key_padding_mask': _padding(S, batch=None)}),
    'unbatched_batch_first_causal': ({'batch_first': True}, False,
                                     {'src_mask': _causal(S), 'is_causal': True}),
}


@pytest.mark.parametrize('case', ENCODER_LAYER_CASES)
def test_encoder_layer(case):
    ctor, batched, masks = ENCODER_LAYER_CASES[case]
    arrays = {'src': _sequence(S, batched, ctor.get('batch_first', False))}
    run_pair(lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, **_layer_kwargs(lib, ctor)),
             arrays, _calling(['src'], masks), grad=['src'])


DECODER_LAYER_CASES = {
    'default': ({}, True, {}),
    'norm_first_gelu': ({'norm_first': True, 'activation': 'gelu'}, True, {}),
    'activation_module': ({'activation': 'gelu_module'}, True, {}),
    'batch_first_masks': ({'batch_first': True}, True,
                          {'tgt_mask': _mask(T, T), 'memory_mask': _mask(T, S, 'float'),
                           'tgt_key_padding_mask': _padding(T),
                           'memory_key_padding_mask': _padding(S, seed=9)}),
    'causal_hints': ({'norm_first': True}, True, {'tgt_mask': _causal(T), 'tgt_is_causal': True,
                                                  'memory_mask': _mask(T, S)}),
    'no_bias': ({'bias': False}, True, {'memory_key_padding_mask': _padding(S, 'float')}),
    'unbatched': ({}, False, {'tgt_mask': _causal(T),
                              'memory_key_padding_mask': _padding(S, batch=None)}),
}


@pytest.mark.parametrize('case', DECODER_LAYER_CASES)
def test_decoder_layer(case):
    ctor, batched, masks = DECODER_LAYER_CASES[case]
    first = ctor.get('batch_first', False)
    arrays = {'tgt': _sequence(T, batched, first), 'memory': _sequence(S, batched, first, seed=2)}
    run_pair(lambda lib: lib.nn.TransformerDecoderLayer(D, HEADS, **_layer_kwargs(lib, ctor)),
             arrays, _calling(['tgt', 'memory'], masks), grad=['tgt', 'memory'])


@pytest.mark.parametrize('with_norm', [True, False])
@pytest.mark.parametrize('masks', [{}, {'mask': _causal(S)},
                                   {'mask': _causal(S), 'src_key_padding_mask': _padding(S)},
                                   {'mask': _mask(S, S), 'is_causal': False}],
                         ids=['none', 'causal_detected', 'causal_padding', 'bool_mask'])
def test_encoder_stack(masks, with_norm):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, **_layer_kwargs(lib, {}))
        norm = lib.nn.LayerNorm(D, dtype=lib.float64) if with_norm else None
        return lib.nn.TransformerEncoder(layer, 2, norm, enable_nested_tensor=False)
    run_pair(make, {'src': _sequence(S)}, _calling(['src'], masks), grad=['src'])


@pytest.mark.parametrize('masks', [{}, {'tgt_mask': _causal(T), 'memory_mask': _mask(T, S)},
                                   {'tgt_mask': _causal(T), 'tgt_is_causal': True,
                                    'tgt_key_padding_mask': _padding(T, 'float')}],
                         ids=['none', 'masks', 'causal_padding'])
def test_decoder_stack(masks):
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(D, HEADS, **_layer_kwargs(lib, {}))
        return lib.nn.TransformerDecoder(layer, 2, lib.nn.LayerNorm(D, dtype=lib.float64))
    arrays = {'tgt': _sequence(T), 'memory': _sequence(S, seed=2)}
    run_pair(make, arrays, _calling(['tgt', 'memory'], masks), grad=['tgt', 'memory'])


TRANSFORMER_CASES = {
    'masks': ({}, {'src_mask': _mask(S, S), 'tgt_mask': _causal(T), 'memory_mask': _mask(T, S),
                   'src_key_padding_mask': _padding(S), 'tgt_key_padding_mask': _padding(T),
                   'memory_key_padding_mask': _padding(S)}),
    'batch_first_norm_first_gelu': ({'batch_first': True, 'norm_first': True,
                                     'activation': 'gelu'},
                                    {'tgt_mask': _causal(T), 'tgt_is_causal': True}),
    'no_bias': ({'bias': False, 'layer_norm_eps': 1e-4}, {'src_is_causal': False}),
}


@pytest.mark.parametrize('case', TRANSFORMER_CASES)
def test_transformer(case):
    ctor, masks = TRANSFORMER_CASES[case]
    first = ctor.get('batch_first', False)
    arrays = {'src': _sequence(S, batch_first=first), 'tgt': _sequence(T, batch_first=first,
                                                                      seed=2)}
    run_pair(lambda lib: lib.nn.Transformer(D, HEADS, 2, 1, **_layer_kwargs(lib, ctor)),
             arrays, _calling(['src', 'tgt'], masks), grad=['src', 'tgt'])


def test_transformer_unbatched_and_custom_parts():
    def make(lib):
        kwargs = _layer_kwargs(lib, {})
        encoder = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, HEADS, **kwargs),
                                            1, enable_nested_tensor=False)
        decoder = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, HEADS, **kwargs),
                                            2)
        return lib.nn.Transformer(D, HEADS, custom_encoder=encoder, custom_decoder=decoder,
                                  dtype=lib.float64)
    arrays = {'src': _sequence(S, batched=False), 'tgt': _sequence(T, batched=False, seed=2)}
    ours = run_pair(make, arrays, _calling(['src', 'tgt'], {'tgt_mask': _causal(T)}),
                    grad=['src', 'tgt'])
    assert ours.encoder.norm is None and len(ours.decoder.layers) == 2


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('kind', ['encoder_layer', 'decoder_layer', 'transformer'])
def test_training_dropout_draws_pytorchs_masks(kind, batch_first):
    """In training, every Dropout (and the attention dropout) draws PyTorch's masks in PyTorch's
    order, so a seeded step gives PyTorch's values and gradients."""
    ctor = {'dropout': 0.3, 'batch_first': batch_first}
    make = {'encoder_layer': lambda lib: lib.nn.TransformerEncoderLayer(
                D, HEADS, **_layer_kwargs(lib, ctor)),
            'decoder_layer': lambda lib: lib.nn.TransformerDecoderLayer(
                D, HEADS, **_layer_kwargs(lib, ctor)),
            'transformer': lambda lib: lib.nn.Transformer(D, HEADS, 1, 1,
                                                          **_layer_kwargs(lib, ctor))}[kind]
    names = ['src'] if kind == 'encoder_layer' else ['src', 'tgt']
    arrays = {'src': _sequence(S, batch_first=batch_first),
              'tgt': _sequence(T, batch_first=batch_first, seed=2)}
    arrays = {k: arrays[k] for k in names}
    masks = {'src_key_padding_mask': _padding(S)} if kind == 'encoder_layer' else {}
    call = _calling(names, masks)

    def seeded(module, **tensors):
        _lib(module).manual_seed(11)
        return call(module, **tensors)
    run_pair(make, arrays, seeded, grad=names)


def test_seeded_initialisation_and_state_dict_keys():
    """Seeded construction gives PyTorch's parameters (Linear's, xavier_uniform_ on every
    matrix of a Transformer, zero attention biases), under PyTorch's names."""
    for make in (lambda lib: lib.nn.Transformer(D, HEADS, 2, 2, FF),
                 lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF, bias=False),
                 lambda lib: lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, 4), 2)):
        states = {}
        for lib in (torch, nbgrad):
            lib.manual_seed(1)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                states[lib] = {k: host(v) for k, v in make(lib).state_dict().items()}
        assert list(states[nbgrad]) == list(states[torch])
        assert_same_value(states[nbgrad], states[torch], 0, 0)


def test_encoder_layers_are_independent_copies():
    nbgrad.manual_seed(0)
    layer = nbgrad.nn.TransformerEncoderLayer(D, HEADS, FF)
    encoder = nbgrad.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    assert bool((first.linear1.weight == layer.linear1.weight).all())
    with nbgrad.no_grad():
        first.linear1.weight.add_(1)
    assert not bool((first.linear1.weight == second.linear1.weight).any())


@pytest.mark.parametrize('make', [
    lambda lib: lib.nn.Transformer(D, HEADS, 1, 1, FF, activation='gelu', batch_first=True),
    lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF, activation=lib.nn.GELU()),
    lambda lib: lib.nn.TransformerDecoderLayer(D, HEADS, FF, norm_first=True, bias=False),
], ids=['transformer', 'encoder_layer', 'decoder_layer'])
def test_repr(make):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert repr(make(nbgrad)) == repr(make(torch))


@pytest.mark.parametrize('ctor', [{}, {'batch_first': True}, {'norm_first': True},
                                  {'bias': False}, {'activation': 'silu_function'},
                                  {'activation': 'gelu'}, {'nhead': 1, 'd_model': 4},
                                  {'layer_norm_eps': 1e-3}], ids=str)
def test_nested_tensor_warnings(ctor):
    """TransformerEncoder warns as PyTorch does about (its) nested-tensor path."""
    messages = {}
    for lib in (torch, nbgrad):
        kwargs = {'d_model': D, 'nhead': HEADS, **_layer_kwargs(lib, {'batch_first': True,
                                                                       **ctor})}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            encoder = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(**kwargs), 2)
        messages[lib] = ([str(w.message) for w in caught], encoder.use_nested_tensor,
                         encoder.enable_nested_tensor)
    assert messages[nbgrad] == messages[torch]


@pytest.mark.parametrize('size,dtype', [(4, None), (1, 'float64'), (0, 'float16')])
def test_generate_square_subsequent_mask(size, dtype):
    both(lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(
        size, dtype=None if dtype is None else getattr(lib, dtype)),
        lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


def test_inference_matches_pytorchs_fast_path():
    """In eval mode without grad PyTorch takes its fused path (nested tensors for padding):
    the same values, except at padded positions, where PyTorch's encoder returns zeros."""
    padding = _padding(S)
    padding[1, 2:] = True  # a left-aligned padding for the nested-tensor path
    src = _sequence(S, batch_first=True)
    found = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
        encoder = lib.nn.TransformerEncoder(layer, 2).eval()
        if lib is nbgrad:
            encoder.load_state_dict({k: nbgrad.tensor(v) for k, v in found[torch][1].items()})
        with lib.no_grad():
            out = encoder(lib.tensor(src, dtype=lib.float32),
                          src_key_padding_mask=lib.tensor(padding))
        found[lib] = (host(out), {k: host(v) for k, v in encoder.state_dict().items()})
    keep = ~padding
    np.testing.assert_allclose(found[nbgrad][0][keep], found[torch][0][keep], rtol=2e-5,
                               atol=2e-5)


def test_on_device(device):
    def make(lib):
        return lib.nn.Transformer(D, HEADS, 1, 1, **_layer_kwargs(lib, {'batch_first': True}))
    arrays = {'src': _sequence(S, batch_first=True), 'tgt': _sequence(T, batch_first=True,
                                                                     seed=2)}
    masks = {'tgt_mask': _causal(T), 'src_key_padding_mask': _padding(S)}
    ours = run_pair(make, arrays, _calling(['src', 'tgt'], masks), grad=['src', 'tgt'],
                    device=device)
    assert ours.encoder.layers[0].linear1.weight.device.type == device


def test_gradcheck_encoder_layer():
    nbgrad.manual_seed(0)
    layer = nbgrad.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True,
                                              dtype=nbgrad.float64)
    src = nbgrad.tensor(arr(3, 1, 4), requires_grad=True)
    mask = nbgrad.tensor(_causal(3))
    assert nbgrad.autograd.gradcheck(lambda x: layer(x, src_mask=mask), (src,))
    assert nbgrad.autograd.gradcheck(lambda x, w: layer(x), (src, layer.linear1.weight))


def _transformer_call(src_shape, tgt_shape, **ctor):
    def fn(lib):
        model = lib.nn.Transformer(D, HEADS, 1, 1, FF, **ctor)
        return model(lib.zeros(src_shape), lib.zeros(tgt_shape))
    return fn


ERRORS = {
    'batch_differs': _transformer_call((S, N, D), (T, N + 1, D)),
    'batch_first_batch_differs': _transformer_call((N, S, D), (N + 1, T, D), batch_first=True),
    'features_differ': _transformer_call((S, N, D), (T, N, D + 1)),
    'unknown_activation': _transformer_call((S, N, D), (T, N, D), activation='tanh'),
    'heads_do_not_divide': lambda lib: lib.nn.TransformerEncoderLayer(D, 3),
    'integer_src_mask': lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF)(
        lib.zeros(S, N, D), src_mask=lib.zeros(S, S, dtype=lib.int64)),
    'src_mask_shape': lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF)(
        lib.zeros(S, N, D), src_mask=lib.zeros(S, S + 1)),
    'memory_features': lambda lib: lib.nn.TransformerDecoderLayer(D, HEADS, FF)(
        lib.zeros(T, N, D), lib.zeros(S, N, D + 2)),
}


@pytest.mark.parametrize('case', ERRORS)
def test_errors(case):
    assert both(ERRORS[case], quiet=True) is None


def test_layer_state_loads_into_pytorch():
    """A state_dict saved from nbgrad loads into PyTorch's module and gives the same output."""
    nbgrad.manual_seed(3)
    ours = nbgrad.nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0)
    theirs = torch.nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0)
    theirs.load_state_dict({k: torch.tensor(host(v)) for k, v in ours.state_dict().items()})
    tgt, memory = _sequence(T), _sequence(S, seed=2)
    found = {}
    for lib, module in ((torch, theirs), (nbgrad, ours)):
        t = lib_tensors(lib, {'tgt': tgt, 'memory': memory}, ['tgt'], 'cpu')
        out = module(t['tgt'].float(), t['memory'].float())
        backprop(lib, (out,), 'cpu')
        found[lib] = (host(out), host(t['tgt'].grad))
    assert_same_value(found[nbgrad], found[torch], 2e-5, 2e-6)


@pytest.mark.parametrize('padding', ['[[0, 0, 0], [0, 0, 1]]', '[[0, 1, 0], [0, 0, 1]]',
                                     'float [[0, 0, 0], [0, 0, -inf]]'])
@pytest.mark.parametrize('mode', ['no_grad', 'inference_mode', 'grad', 'fastpath off',
                                  'no mask_check', 'with mask', 'training'])
def test_encoder_zeroes_padded_positions_where_pytorch_takes_its_nested_path(padding, mode):
    """In eval, without grad, with a left-aligned key padding mask and no mask, PyTorch's
    TransformerEncoder runs as nested tensors and returns zeros (before its norm) at the padded
    positions; nbgrad follows the same conditions, so outputs and a Transformer's decoder,
    which attends to those positions, agree."""
    values = np.array(eval(padding.replace('float ', ''), {'inf': np.inf}), np.float64)

    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, batch_first=True)
        encoder = lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(4))
        encoder.train(mode == 'training')
        encoder.mask_check = mode != 'no mask_check'
        model = lib.nn.Transformer(4, 2, 1, 1, 8, batch_first=True).train(mode == 'training')
        x, tgt = lib.randn(2, 3, 4), lib.randn(2, 2, 4)
        mask = lib.tensor(values, dtype=lib.float32) if padding.startswith('float') else \
            lib.tensor(values != 0)
        extra = {'mask': lib.zeros(3, 3)} if mode == 'with mask' else {}
        context = {'no_grad': lib.no_grad, 'inference_mode': lib.inference_mode}.get(
            mode, lib.no_grad if mode != 'grad' else lib.enable_grad)
        lib.backends.mha.set_fastpath_enabled(mode != 'fastpath off')
        try:
            with warnings.catch_warnings(), context():
                warnings.simplefilter('ignore')     # (PyTorch's nested-tensor prototype note)
                return (encoder(x, src_key_padding_mask=mask, **extra).detach().clone(),
                        model(x, tgt, src_key_padding_mask=mask).detach().clone())
        finally:
            lib.backends.mha.set_fastpath_enabled(True)
    both(run, check=lambda got, expected: assert_same(got, expected, rtol=1e-5, atol=1e-6))
