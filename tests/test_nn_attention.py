"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention against
PyTorch: values and gradients (inputs, float masks, every parameter) over tables of shapes, masks
and options; fully masked rows; seeded dropout (nbgrad's CPU generator is PyTorch's stream);
seeded initialisation, parameter names and state_dicts; reprs; errors of PyTorch's kinds; float64
gradcheck; the 'cuda' device (the nbgrad side on the device, PyTorch on the CPU as the oracle).

`run_pair` is shared with test_nn_transformer.py: it builds a PyTorch module, loads its state_dict
into nbgrad's twin and compares outputs and gradients."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import arr, assert_same, assert_same_value, both

torch = pytest.importorskip('torch')


def host(t):
    return None if t is None else t.detach().cpu().numpy().copy()


def lib_tensors(lib, arrays, grad, device):
    dev = device if lib is nbgrad else 'cpu'
    return {k: None if a is None else lib.tensor(a, device=dev, requires_grad=k in grad)
            for k, a in arrays.items()}


def backprop(lib, outputs, device):
    """Backpropagate a fixed random cotangent from every output that requires grad."""
    dev = device if lib is nbgrad else 'cpu'
    loss = None
    for i, out in enumerate(outputs):
        if out is not None and out.requires_grad:
            cot = lib.tensor(arr(*out.shape, seed=100 + i, dtype=host(out).dtype), device=dev)
            term = (out * cot).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()


def run_pair(make, arrays, call, grad=(), device='cpu', seed=0, rtol=1e-9, atol=1e-12):
    """make(lib) -> a module; PyTorch's (built after manual_seed(seed)) gives its state_dict to
    nbgrad's. call(module, **tensors) -> a tensor or a tuple of tensors/None. Outputs, gradients
    of the inputs named in `grad` and of every parameter must agree."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TransformerEncoder's nested-tensor warning: own test
        torch.manual_seed(seed)
        theirs = make(torch)
        ours = make(nbgrad)
    ours.load_state_dict({k: nbgrad.tensor(host(v)) for k, v in theirs.state_dict().items()})
    ours.to(device)
    found = {}
    for lib, module in ((torch, theirs), (nbgrad, ours)):
        tensors = lib_tensors(lib, arrays, grad, device)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # both warn alike on mismatched mask types
            outputs = call(module, **tensors)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        backprop(lib, outputs, device)
        found[lib] = {'outputs': [host(o) for o in outputs],
                      'inputs': {k: host(tensors[k].grad) for k in grad},
                      'params': {k: host(p.grad) for k, p in module.named_parameters()}}
    assert_same_value(found[nbgrad], found[torch], rtol, atol)
    return ours


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------

def _bool_mask(*shape, seed=3):
    mask = np.random.default_rng(seed).random(shape) > 0.4
    mask[..., 0] = True  # every query may attend to something (fully masked rows: own test)
    return mask


def _float_mask(*shape, seed=4):
    return np.where(_bool_mask(*shape, seed=seed), arr(*shape, seed=seed), -np.inf)


# name: (query, key, value shapes, extra arrays, keyword arguments)
SDPA_CASES = {
    'batched_4d': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}, {}),
    '3d': ((3, 4, 8), (3, 5, 8), (3, 5, 8), {}, {}),
    '2d': ((4, 8), (5, 8), (5, 3), {}, {}),
    '5d': ((2, 1, 2, 3, 4), (2, 1, 2, 5, 4), (2, 1, 2, 5, 4), {}, {}),
    'key_batch_broadcast': ((2, 3, 4, 8), (1, 3, 5, 8), (2, 1, 5, 6), {}, {}),
    'bool_mask': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {'attn_mask': _bool_mask(4, 5)}, {}),
    'float_mask': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {'attn_mask': _float_mask(4, 5)},
                   {}),
    'mask_per_batch': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6),
                       {'attn_mask': _bool_mask(2, 1, 1, 5)}, {}),
    'mask_3d': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {'attn_mask': _float_mask(3, 4, 5)},
                {}),
    'causal_square': ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}, {'is_causal': True}),
    'causal_wide': ((2, 4, 8), (2, 6, 8), (2, 6, 3), {}, {'is_causal': True}),
    'causal_tall': ((2, 6, 8), (2, 3, 8), (2, 3, 3), {}, {'is_causal': True}),
    'scale': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}, {'scale': 0.7}),
    'scale_zero': ((2, 4, 8), (2, 5, 8), (2, 5, 6), {}, {'scale': 0.0}),
    'scale_negative': ((2, 4, 8), (2, 5, 8), (2, 5, 6), {}, {'scale': -0.4}),
    'gqa': ((2, 6, 4, 8), (2, 3, 5, 8), (2, 2, 5, 6), {}, {'enable_gqa': True}),
    'gqa_same_heads': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}, {'enable_gqa': True}),
    'gqa_causal_mask': ((1, 4, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8), {},
                        {'enable_gqa': True, 'is_causal': True}),
    # 4-D, one head size, no dropout: PyTorch's CPU flash kernel, which takes a mask with
    # is_causal (its math kernel refuses the pair: see SDPA_ERRORS, and the test below)
    'causal_and_bool_mask': ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8),
                             {'attn_mask': _bool_mask(2, 1, 4, 5)}, {'is_causal': True}),
    'no_keys': ((2, 4, 8), (2, 0, 8), (2, 0, 6), {}, {}),
    'no_features': ((2, 4, 0), (2, 5, 0), (2, 5, 3), {}, {}),   # uniform weights
    'no_queries': ((2, 0, 8), (2, 5, 8), (2, 5, 6), {}, {}),
}


def _sdpa_inputs(case, dtype):
    qs, ks, vs, extra, kwargs = SDPA_CASES[case]
    arrays = {'query': arr(*qs, seed=1, dtype=dtype), 'key': arr(*ks, seed=2, dtype=dtype),
              'value': arr(*vs, seed=3, dtype=dtype)}
    for name, mask in extra.items():
        arrays[name] = mask if mask.dtype == bool else mask.astype(dtype)
    return arrays, kwargs


def _compare_sdpa(arrays, kwargs, grad, device='cpu', rtol=1e-9, atol=1e-12, seed=None):
    found = {}
    for lib in (torch, nbgrad):
        t = lib_tensors(lib, arrays, grad, device)
        if seed is not None:
            lib.manual_seed(seed)
        out = lib.nn.functional.scaled_dot_product_attention(**t, **kwargs)
        backprop(lib, (out,), device)
        found[lib] = (host(out), {k: host(t[k].grad) for k in grad})
    assert_same_value(found[nbgrad], found[torch], rtol, atol)


@pytest.mark.parametrize('case', SDPA_CASES)
def test_sdpa_float64(case):
    arrays, kwargs = _sdpa_inputs(case, np.float64)
    grad = [k for k, a in arrays.items() if a.dtype != bool]  # float masks get gradients too
    _compare_sdpa(arrays, kwargs, grad)


def test_sdpa_causal_and_a_float_mask():
    """PyTorch's CPU flash kernel adds a float mask to the causal one when the mask needs no
    gradient; one that requires grad sends it to the math kernel, which refuses the pair."""
    arrays = {'query': arr(2, 3, 5, 8, seed=1), 'key': arr(2, 3, 4, 8, seed=2),
              'value': arr(2, 3, 4, 8, seed=3), 'attn_mask': _float_mask(5, 4)}
    _compare_sdpa(arrays, {'is_causal': True}, ['query', 'key', 'value'])
    for lib in (torch, nbgrad):
        t = lib_tensors(lib, arrays, ['attn_mask'], 'cpu')
        with pytest.raises(RuntimeError, match='Explicit attn_mask should not be set'):
            lib.nn.functional.scaled_dot_product_attention(**t, is_causal=True)


@pytest.mark.parametrize('case', ['batched_4d', 'float_mask', 'causal_square', 'gqa'])
def test_sdpa_float32(case):
    arrays, kwargs = _sdpa_inputs(case, np.float32)
    _compare_sdpa(arrays, kwargs, ['query', 'key', 'value'], rtol=2e-5, atol=2e-6)


def test_sdpa_float16_and_float32_mask_on_float64():
    arrays, _ = _sdpa_inputs('batched_4d', np.float16)
    _compare_sdpa(arrays, {}, (), rtol=1e-2, atol=2e-3)
    arrays, _ = _sdpa_inputs('batched_4d', np.float64)
    arrays['attn_mask'] = _float_mask(4, 5).astype(np.float32)  # float32 masks go with any dtype
    _compare_sdpa(arrays, {}, ['query', 'attn_mask'])


@pytest.mark.parametrize('kind', [bool, np.float64])
def test_sdpa_row_that_attends_to_nothing_gives_zeros(kind):
    """A fully masked query row gives a zero output and zero gradients, as in PyTorch (not NaN)."""
    arrays, _ = _sdpa_inputs('batched_4d', np.float64)
    mask = _bool_mask(4, 5)
    mask[2] = False
    arrays['attn_mask'] = mask if kind is bool else np.where(mask, 0.0, -np.inf)
    _compare_sdpa(arrays, {}, ['query', 'key', 'value'])


@pytest.mark.parametrize('p', [0.3, 1.0])
def test_sdpa_dropout_draws_pytorchs_mask(p):
    arrays, _ = _sdpa_inputs('float_mask', np.float32)
    _compare_sdpa(arrays, {'dropout_p': p}, ['query', 'value'], rtol=2e-5, atol=2e-6, seed=7)


def test_sdpa_dropout_statistics(device):
    """Dropout keeps each weight with probability 1 - p and scales it by 1 / (1 - p): with
    all-equal scores (scale=0) every kept weight is 1/S/(1-p), so value = ones counts them.
    (On CUDA the stream is not PyTorch's, so statistics are the oracle there.)"""
    n, s, p = 4000, 10, 0.25
    q = nbgrad.zeros(n, 1, 4, device=device)
    out = nbgrad.nn.functional.scaled_dot_product_attention(
        q, nbgrad.zeros(n, s, 4, device=device), nbgrad.ones(n, s, 1, device=device),
        dropout_p=p, scale=0.0)
    kept = (out.flatten().cpu().numpy() * s * (1 - p)).round()
    mean, std = kept.mean(), np.sqrt(s * p * (1 - p) / n)  # binomial(s, 1-p) per row
    assert abs(mean - s * (1 - p)) < 5 * std


def test_sdpa_gradcheck():
    q, k, v = (nbgrad.tensor(arr(1, 2, n, 3, seed=i), requires_grad=True)
               for i, n in enumerate((2, 3, 3)))
    mask = nbgrad.tensor(_float_mask(2, 3), requires_grad=True)
    F = nbgrad.nn.functional
    assert nbgrad.autograd.gradcheck(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), (q, k, v, mask))
    assert nbgrad.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
        (q, k, v))
    assert nbgrad.autograd.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (q, k, v))


def _sdpa_call(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)), dtypes=('float32',) * 3,
               **kwargs):
    def fn(lib):
        q, k, v = (lib.zeros(s, dtype=getattr(lib, d)) for s, d in zip(shapes, dtypes))
        kwargs_lib = {key: val(lib) if callable(val) else val for key, val in kwargs.items()}
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs_lib)
    return fn


SDPA_ERRORS = {
    'dtypes_differ': _sdpa_call(dtypes=('float32', 'float64', 'float32')),
    'integer_inputs': _sdpa_call(dtypes=('int64',) * 3),
    'complex_inputs': _sdpa_call(dtypes=('complex64',) * 3),
    'one_dimensional': _sdpa_call(shapes=((8,), (8,), (8,))),
    'integer_mask': _sdpa_call(attn_mask=lambda lib: lib.ones(4, 5, dtype=lib.int64)),
    'float64_mask_on_float32': _sdpa_call(attn_mask=lambda lib: lib.ones(4, 5,
                                                                          dtype=lib.float64)),
    'mask_shape': _sdpa_call(attn_mask=lambda lib: lib.ones(4, 4, dtype=lib.bool)),
    'mask_more_dims': _sdpa_call(attn_mask=lambda lib: lib.ones(1, 1, 1, 4, 5, dtype=lib.bool)),
    'mask_one_dim': _sdpa_call(attn_mask=lambda lib: lib.zeros(5)),
    'mask_and_causal': _sdpa_call(attn_mask=lambda lib: lib.ones(4, 5, dtype=lib.bool),
                                  is_causal=True),
    'mask_and_causal_3d': _sdpa_call(shapes=((3, 4, 8), (3, 5, 8), (3, 5, 8)),
                                     attn_mask=lambda lib: lib.ones(4, 5, dtype=lib.bool),
                                     is_causal=True),
    'key_features_differ': _sdpa_call(shapes=((2, 3, 4, 8), (2, 3, 5, 7), (2, 3, 5, 6))),
    'value_length_differs': _sdpa_call(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 4, 6))),
    'heads_differ_without_gqa': _sdpa_call(shapes=((2, 6, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))),
    'gqa_heads_do_not_divide': _sdpa_call(shapes=((2, 4, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)),
                                          enable_gqa=True),
    'gqa_two_dimensional': _sdpa_call(shapes=((4, 8), (5, 8), (5, 8)), enable_gqa=True),
    'dropout_above_one': _sdpa_call(dropout_p=2.0),
    'mask_not_a_tensor': _sdpa_call(attn_mask=lambda lib: [[1.0]]),
}


@pytest.mark.parametrize('case', SDPA_ERRORS)
def test_sdpa_errors(case):
    assert both(SDPA_ERRORS[case]) is None  # PyTorch raises: nbgrad must raise the same kind


def test_sdpa_query_not_a_tensor():
    with pytest.raises(TypeError, match='query'):
        nbgrad.nn.functional.scaled_dot_product_attention(1.0, nbgrad.zeros(2, 2),
                                                          nbgrad.zeros(2, 2))


# ---------------------------------------------------------------------------------------------
# MultiheadAttention
# ---------------------------------------------------------------------------------------------

E, HEADS, L, S, N = 8, 2, 4, 5, 3


def _kpm(kind, batch=N, src=S, seed=5):
    """A key padding mask (True or -inf: padding); batch=None gives an unbatched one."""
    mask = np.random.default_rng(seed).random((batch or 1, src)) > 0.6
    mask[:, 0] = False
    mask = mask if batch else mask[0]
    return mask if kind == 'bool' else np.where(mask, -np.inf, 0.0) + arr(*mask.shape, seed=6)


def _attn_mask(kind, rows=None, seed=7):
    shape = (L, S) if rows is None else (rows, L, S)
    mask = np.random.default_rng(seed).random(shape) > 0.6  # True: may not attend
    mask[..., 0] = False
    return mask if kind == 'bool' else np.where(mask, -np.inf, 0.0) + arr(*shape, seed=8)


def _causal(size):
    return np.triu(np.full((size, size), -np.inf), 1)


# name: (constructor keywords, attention ('self', 'cross' with key is value, 'distinct'),
#        batched, call keywords (masks as arrays))
MHA_CASES = {
    'self': ({}, 'self', True, {}),
    'self_no_weights': ({}, 'self', True, {'need_weights': False}),
    'per_head_weights': ({}, 'self', True, {'average_attn_weights': False}),
    'cross': ({}, 'cross', True, {}),
    'cross_no_weights': ({}, 'cross', True, {'need_weights': False}),
    'distinct_key_value': ({}, 'distinct', True, {}),
    'kdim_vdim': ({'kdim': 5, 'vdim': 3}, 'distinct', True, {}),
    'kdim_vdim_no_weights': ({'kdim': 5, 'vdim': 3}, 'distinct', True, {'need_weights': False}),
    'no_bias': ({'bias': False}, 'self', True, {}),
    'one_head': ({'num_heads': 1}, 'cross', True, {}),
    'bool_mask_2d': ({}, 'cross', True, {'attn_mask': _attn_mask('bool')}),
    'float_mask_2d': ({}, 'cross', True, {'attn_mask': _attn_mask('float')}),
    'bool_mask_3d': ({}, 'cross', True, {'attn_mask': _attn_mask('bool', N * HEADS)}),
    'float_mask_3d_no_weights': ({}, 'cross', True, {'attn_mask': _attn_mask('float', N * HEADS),
                                                     'need_weights': False}),
    'bool_mask_2d_no_weights': ({}, 'cross', True, {'attn_mask': _attn_mask('bool'),
                                                    'need_weights': False}),
    'key_padding_bool': ({}, 'cross', True, {'key_padding_mask': _kpm('bool')}),
    'key_padding_float_no_weights': ({}, 'cross', True, {'key_padding_mask': _kpm('float'),
                                                         'need_weights': False}),
    'padding_and_mask': ({}, 'cross', True, {'key_padding_mask': _kpm('bool'),
                                             'attn_mask': _attn_mask('bool')}),
    'padding_and_float_mask': ({}, 'cross', True, {'key_padding_mask': _kpm('bool'),
                                                   'attn_mask': _attn_mask('float'),
                                                   'need_weights': False}),
    'bias_kv': ({'add_bias_kv': True}, 'cross', True, {'key_padding_mask': _kpm('bool'),
                                                       'attn_mask': _attn_mask('bool')}),
    'zero_attn': ({'add_zero_attn': True}, 'cross', True, {'key_padding_mask': _kpm('bool'),
                                                           'attn_mask': _attn_mask('float')}),
    'bias_kv_zero_attn_no_weights': ({'add_bias_kv': True, 'add_zero_attn': True}, 'cross',
                                     True, {'attn_mask': _attn_mask('bool', N * HEADS),
                                            'need_weights': False}),
    'batch_first_self': ({'batch_first': True}, 'self', True, {}),
    'batch_first_cross_padding': ({'batch_first': True}, 'cross', True,
                                  {'key_padding_mask': _kpm('bool'), 'need_weights': False}),
    'batch_first_distinct_kdim': ({'batch_first': True, 'kdim': 5, 'vdim': 3}, 'distinct', True,
                                  {}),
    'causal_hint_no_weights': ({}, 'self', True, {'attn_mask': _causal(L), 'is_causal': True,
                                                  'need_weights': False}),
    'causal_hint_with_weights': ({}, 'self', True, {'attn_mask': _causal(L), 'is_causal': True}),
    'causal_hint_and_padding': ({}, 'self', True, {'attn_mask': _causal(L), 'is_causal': True,
                                                   'key_padding_mask': _kpm('bool', src=L),
                                                   'need_weights': False}),
    'unbatched_self': ({}, 'self', False, {}),
    'unbatched_cross_masks': ({}, 'cross', False, {'key_padding_mask': _kpm('bool', batch=None),
                                                   'attn_mask': _attn_mask('float', HEADS)}),
    'unbatched_no_weights': ({'batch_first': True}, 'distinct', False,
                             {'key_padding_mask': _kpm('float', batch=None),
                              'need_weights': False}),
    'unbatched_bias_kv_zero_attn': ({'add_bias_kv': True, 'add_zero_attn': True}, 'cross',
                                    False, {'attn_mask': _attn_mask('bool')}),
}


def _mha_arrays(ctor, attention, batched, dtype=np.float64):
    first = ctor.get('batch_first', False)
    kdim, vdim = ctor.get('kdim', E), ctor.get('vdim', E)

    def shape(length, features):
        if not batched:
            return (length, features)
        return (N, length, features) if first else (length, N, features)
    length = L if attention == 'self' else S
    arrays = {'query': arr(*shape(L, E), seed=11, dtype=dtype),
              'key': arr(*shape(length, kdim), seed=12, dtype=dtype)}
    if attention == 'distinct':
        arrays['value'] = arr(*shape(length, vdim), seed=13, dtype=dtype)
    return arrays


def _mha_call(attention, masks):
    def call(module, query, key=None, value=None):
        lib = torch if isinstance(query, torch.Tensor) else nbgrad
        kwargs = {k: lib.tensor(v, device=query.device) if isinstance(v, np.ndarray) else v
                  for k, v in masks.items()}
        if attention == 'self':
            return module(query, query, query, **kwargs)
        return module(query, key, key if value is None else value, **kwargs)
    return call


def _make_mha(ctor, dtype='float64'):
    kwargs = {'embed_dim': E, 'num_heads': HEADS, **ctor}
    return lambda lib: lib.nn.MultiheadAttention(**kwargs, dtype=getattr(lib, dtype))


@pytest.mark.parametrize('case', MHA_CASES)
def test_multihead_attention(case):
    ctor, attention, batched, masks = MHA_CASES[case]
    arrays = _mha_arrays(ctor, attention, batched)
    if attention == 'self':
        arrays.pop('key')
    run_pair(_make_mha(ctor), arrays, _mha_call(attention, masks), grad=list(arrays))


def test_multihead_attention_float32():
    ctor, attention, batched, masks = MHA_CASES['padding_and_mask']
    arrays = _mha_arrays(ctor, attention, batched, np.float32)
    run_pair(_make_mha(ctor, 'float32'), arrays, _mha_call(attention, masks), grad=list(arrays),
             rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize('need_weights', [True, False])
def test_multihead_attention_fully_padded_sequence(need_weights):
    """A batch element whose keys are all padding: NaN with need_weights (PyTorch's softmax),
    zeros from scaled_dot_product_attention without."""
    kpm = _kpm('bool')
    kpm[1] = True
    arrays = _mha_arrays({}, 'cross', True)
    run_pair(_make_mha({}), arrays,
             _mha_call('cross', {'key_padding_mask': kpm, 'need_weights': need_weights}),
             grad=[] if need_weights else list(arrays))


@pytest.mark.parametrize('need_weights', [True, False])
def test_multihead_attention_dropout_draws_pytorchs_masks(need_weights):
    ctor = {'dropout': 0.4, 'batch_first': True}
    arrays = _mha_arrays(ctor, 'self', True)
    del arrays['key']
    call = _mha_call('self', {'need_weights': need_weights})

    def seeded(module, **tensors):
        (torch if isinstance(module, torch.nn.Module) else nbgrad).manual_seed(5)
        return call(module, **tensors)
    run_pair(_make_mha(ctor), arrays, seeded, grad=['query'])


def test_multihead_attention_eval_ignores_dropout():
    ctor = {'dropout': 0.9}

    def call(module, query, key):
        module.eval()
        return module(query, key, key)
    run_pair(_make_mha(ctor), _mha_arrays(ctor, 'cross', True), call, grad=['query', 'key'])


@pytest.mark.parametrize('ctor', [{}, {'kdim': 5, 'vdim': 3}, {'add_bias_kv': True},
                                  {'bias': False, 'add_zero_attn': True}],
                         ids=['packed', 'kdim_vdim', 'bias_kv', 'no_bias'])
def test_multihead_attention_seeded_init_names_and_repr(ctor):
    modules = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(3)
        modules[lib] = lib.nn.MultiheadAttention(E, HEADS, **ctor)
    theirs, ours = modules[torch], modules[nbgrad]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert_same_value({k: host(v) for k, v in ours.state_dict().items()},
                      {k: host(v) for k, v in theirs.state_dict().items()}, 0, 0)
    assert repr(ours) == repr(theirs)
    for name in ('embed_dim', 'kdim', 'vdim', 'num_heads', 'head_dim', 'dropout', 'batch_first',
                 '_qkv_same_embed_dim', 'add_zero_attn'):
        assert getattr(ours, name) == getattr(theirs, name), name
    for name in ('in_proj_weight', 'q_proj_weight', 'bias_k', 'in_proj_bias'):
        assert (getattr(ours, name) is None) == (getattr(theirs, name) is None), name


def test_multihead_attention_loads_into_pytorch_and_on_device(device):
    """nbgrad's state_dict loads into PyTorch (and back); the layer runs on the device."""
    nbgrad.manual_seed(0)
    ours = nbgrad.nn.MultiheadAttention(E, HEADS, kdim=5, add_bias_kv=True).to(device)
    theirs = torch.nn.MultiheadAttention(E, HEADS, kdim=5, add_bias_kv=True)
    theirs.load_state_dict({k: torch.tensor(host(v)) for k, v in ours.state_dict().items()})
    arrays = _mha_arrays({'kdim': 5}, 'distinct', True)
    arrays['value'] = arr(S, N, E, seed=13)
    found = {}
    for lib, module in ((torch, theirs.double()), (nbgrad, ours.double())):
        t = lib_tensors(lib, arrays, list(arrays), device)
        out, weights = module(t['query'], t['key'], t['value'],
                              key_padding_mask=lib.tensor(_kpm('bool'), device=t['key'].device))
        backprop(lib, (out, weights), device)
        assert out.device.type == (device if lib is nbgrad else 'cpu')
        found[lib] = [host(out), host(weights), host(t['key'].grad), host(module.bias_k.grad)]
    assert_same_value(found[nbgrad], found[torch], 1e-9, 1e-12)


def test_multihead_attention_gradcheck():
    nbgrad.manual_seed(0)
    module = nbgrad.nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=nbgrad.float64)
    q = nbgrad.tensor(arr(3, 1, 4, seed=1), requires_grad=True)
    kv = nbgrad.tensor(arr(2, 1, 4, seed=2), requires_grad=True)
    mask = nbgrad.tensor(_attn_mask('float')[:3, :2])
    assert nbgrad.autograd.gradcheck(
        lambda q, kv, w: module(q, kv, kv, attn_mask=mask)[0], (q, kv, module.in_proj_weight))
    assert nbgrad.autograd.gradcheck(
        lambda q, kv: module(q, kv, kv, attn_mask=mask, need_weights=False)[0], (q, kv))


def test_mismatched_mask_types_warn_like_pytorch():
    for lib in (torch, nbgrad):
        module = lib.nn.MultiheadAttention(E, HEADS)
        x = lib.zeros(L, N, E)
        with pytest.warns(UserWarning, match='mismatched key_padding_mask and attn_mask'):
            module(x, x, x, key_padding_mask=lib.zeros(N, L, dtype=lib.bool),
                   attn_mask=lib.zeros(L, L))


def _mha_error(ctor=None, q=(L, N, E), k=(S, N, E), v=None, **call):
    def fn(lib):
        module = lib.nn.MultiheadAttention(**{'embed_dim': E, 'num_heads': HEADS, **(ctor or {})})
        tensors = [lib.zeros(s) for s in (q, k, v or k)]
        kwargs = {key: val(lib) for key, val in call.items()}
        return module(*tensors, **kwargs)
    return fn


MHA_ERRORS = {
    # a float mask of another dtype than the query (baddbmm or sdpa refuses it)
    'half_mask_with_weights': _mha_error(attn_mask=lambda lib: lib.zeros(L, S).half()),
    'double_mask_without_weights': _mha_error(attn_mask=lambda lib: lib.zeros(L, S).double(),
                                              need_weights=lambda lib: False),
    'half_key_padding_mask': _mha_error(key_padding_mask=lambda lib: lib.zeros(N, S).half()),
    'heads_do_not_divide': _mha_error({'num_heads': 3}),
    'zero_embed_dim': _mha_error({'embed_dim': 0}),
    'negative_heads': _mha_error({'num_heads': -2}),
    'four_dimensional_query': _mha_error(q=(1, L, N, E)),
    'key_rank_differs': _mha_error(k=(S, E)),
    'wrong_embed_dim': _mha_error(q=(L, N, E + 2), k=(S, N, E + 2)),
    'key_value_shapes_differ': _mha_error(v=(S + 1, N, E)),
    'kdim_key_value_lengths_differ': _mha_error({'kdim': 5, 'vdim': 3}, k=(S, N, 5),
                                                v=(S + 1, N, 3)),
    'mask_2d_shape': _mha_error(attn_mask=lambda lib: lib.zeros(L, S + 1)),
    'mask_3d_shape': _mha_error(attn_mask=lambda lib: lib.zeros(N, L, S)),
    'mask_4d': _mha_error(attn_mask=lambda lib: lib.zeros(1, N * HEADS, L, S)),
    'unbatched_mask_3d_shape': _mha_error(q=(L, E), k=(S, E), attn_mask=lambda lib:
                                          lib.zeros(HEADS + 1, L, S)),
    'padding_rank': _mha_error(key_padding_mask=lambda lib: lib.zeros(S, dtype=lib.bool)),
    'padding_batch': _mha_error(key_padding_mask=lambda lib: lib.zeros(N + 1, S,
                                                                       dtype=lib.bool)),
    'padding_length': _mha_error(key_padding_mask=lambda lib: lib.zeros(N, S - 1,
                                                                        dtype=lib.bool)),
    'integer_mask': _mha_error(attn_mask=lambda lib: lib.zeros(L, S, dtype=lib.int64)),
    'causal_without_mask': _mha_error(is_causal=lambda lib: True, need_weights=lambda lib: False),
}


@pytest.mark.parametrize('case', MHA_ERRORS)
def test_multihead_attention_errors(case):
    assert both(MHA_ERRORS[case], quiet=True) is None


def test_multi_head_attention_forward_static_kv():
    """The functional form with static_k / static_v (precomputed per-head keys and values)."""
    rng_args = {'q': arr(L, N, E, seed=1), 'sk': arr(N * HEADS, S, E // HEADS, seed=2),
                'sv': arr(N * HEADS, S, E // HEADS, seed=3), 'w': arr(3 * E, E, seed=4),
                'b': arr(3 * E, seed=5), 'ow': arr(E, E, seed=6), 'ob': arr(E, seed=7)}
    found = {}
    for lib in (torch, nbgrad):
        t = lib_tensors(lib, rng_args, list(rng_args), 'cpu')
        out, weights = lib.nn.functional.multi_head_attention_forward(
            t['q'], t['q'], t['q'], E, HEADS, t['w'], t['b'], None, None, False, 0.0, t['ow'],
            t['ob'], static_k=t['sk'], static_v=t['sv'])
        backprop(lib, (out, weights), 'cpu')
        found[lib] = [host(out), host(weights)] + [host(t[k].grad) for k in ('q', 'sk', 'sv')]
    assert_same_value(found[nbgrad], found[torch], 1e-9, 1e-12)


@pytest.mark.parametrize('case', ['bool_mask', 'mask_3d', 'causal_square', 'gqa'])
def test_sdpa_on_device(case, device):
    arrays, kwargs = _sdpa_inputs(case, np.float32)
    if case == 'bool_mask':
        arrays['attn_mask'][1] = False  # a row that attends to nothing
    _compare_sdpa(arrays, kwargs, ['query', 'key', 'value'], device=device, rtol=2e-5,
                  atol=2e-6)


@pytest.mark.parametrize('masks', [(None, None), ('2d', None), ('3d', 'kpm'), (None, 'kpm'),
                                   ('2d', 'kpm')], ids=str)
def test_merge_masks(masks):
    attn_kind, kpm_kind = masks

    def fn(lib):
        module = lib.nn.MultiheadAttention(E, HEADS, batch_first=True)
        query = lib.zeros(N, L, E)
        attn = {None: None, '2d': lib.tensor(arr(L, L, seed=1)),
                '3d': lib.tensor(arr(N * HEADS, L, L, seed=1))}[attn_kind]
        kpm = None if kpm_kind is None else lib.tensor(arr(N, L, seed=2))
        return module.merge_masks(attn, kpm, query)
    both(fn)


def test_mha_float_mask_under_autocast_takes_the_autocast_dtype():
    def run(lib):
        lib.manual_seed(0)
        module = lib.nn.MultiheadAttention(E, HEADS)
        q = lib.tensor(arr(L, N, E, seed=1, dtype=np.float32))
        mask = lib.tensor(_float_mask(L, L).astype(np.float32))
        with lib.autocast('cpu', dtype=lib.float16):
            out, weights = module(q, q, q, attn_mask=mask)
        return out.float().detach().numpy(), weights.float().detach().numpy()
    assert_same_value(run(nbgrad), run(torch), 2e-3, 2e-3)


@pytest.mark.parametrize('mode', ['no_grad', 'grad', 'float mask', 'cross', 'need_weights'])
def test_fully_masked_queries_follow_pytorchs_path(mode):
    """A query whose keys are all padding: NaN on PyTorch's fast path (eval, no grad,
    self-attention, bool masks; the weights' plain softmax), 0 on its other paths (SDPA's safe
    softmax); nbgrad follows the same conditions."""
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(4, 2, batch_first=True).eval()
        x = lib.tensor(arr(2, 3, 4, seed=1), dtype=lib.float32)
        padding = lib.tensor([[True, True, True], [False, False, True]])
        if mode == 'float mask':
            padding = padding.float() * -1e9
        key = lib.tensor(arr(2, 3, 4, seed=2), dtype=lib.float32) if mode == 'cross' else x
        context = lib.enable_grad if mode == 'grad' else lib.no_grad
        with context():
            out, _ = m(x, key, key, key_padding_mask=padding,
                       need_weights=mode == 'need_weights')
        return out.detach()
    both(run, check=lambda got, expected: assert_same(got, expected, rtol=1e-5, atol=1e-6))
