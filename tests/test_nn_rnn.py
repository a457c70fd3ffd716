"""nn.RNN / LSTM / GRU and their cells against PyTorch: the same weights (copied from a seeded
torch layer, or made by both libraries from the same seed), the same inputs, and then outputs,
final states and the gradients of the input, h0/c0 and every parameter must agree. Plus float64
gradcheck/gradgradcheck, PyTorch's errors, and the 'cuda' device."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import nbgrad
from nbgrad.nn.modules import rnn as nb_rnn
from nbgrad.nn.utils import rnn as nb_rnn_utils
from torch_compare import assert_same_value, both, exc_kind, to_np

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.filterwarnings('ignore:LSTM with projections is not supported')

SEQ, BATCH, FEATURES, HIDDEN = 5, 3, 3, 4
LENGTHS = [3, 5, 2]  # unsorted: the packed cases need enforce_sorted=False


def modules(lib):
    """The recurrent classes: nbgrad's from nbgrad.nn.modules.rnn (until nn exports them)."""
    return lib.nn if lib is torch else nb_rnn


def packing(lib):
    return lib.nn.utils.rnn if lib is torch else nb_rnn_utils


def arr(*shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape)


def torch_weights(cls, kwargs, seed=0):
    """The parameters of a seeded torch layer, as NumPy arrays by name."""
    torch.manual_seed(seed)
    layer = getattr(torch.nn, cls)(**kwargs)
    return {name: p.detach().numpy().copy() for name, p in layer.named_parameters()}


def make_layer(lib, cls, kwargs, weights, dtype):
    layer = getattr(modules(lib), cls)(**kwargs).to(dtype)
    names = [name for name, _ in layer.named_parameters()]
    assert names == list(weights), f'{lib.__name__}: parameter names {names}'
    with lib.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(lib.tensor(weights[name], dtype=dtype))
    return layer


# ---------------------------------------------------------------------------------------------
# The configuration table: (class, constructor kwargs, input kind, with initial state)
# ---------------------------------------------------------------------------------------------
CONFIGS = {
    'rnn_tanh': ('RNN', {}, 'padded', True),
    'rnn_relu_2layer_bidir': ('RNN', dict(nonlinearity='relu', num_layers=2,
                                          bidirectional=True), 'padded', True),
    'rnn_nobias_batch_first': ('RNN', dict(bias=False, batch_first=True), 'padded', False),
    'lstm': ('LSTM', {}, 'padded', True),
    'lstm_2layer_bidir_batch_first': ('LSTM', dict(num_layers=2, bidirectional=True,
                                                   batch_first=True), 'padded', True),
    'lstm_proj_2layer_bidir': ('LSTM', dict(num_layers=2, bidirectional=True, proj_size=2),
                               'padded', True),
    'lstm_nobias_default_state': ('LSTM', dict(bias=False), 'padded', False),
    'gru': ('GRU', {}, 'padded', True),
    'gru_2layer_bidir': ('GRU', dict(num_layers=2, bidirectional=True), 'padded', True),
    'gru_nobias_batch_first': ('GRU', dict(bias=False, batch_first=True), 'padded', True),
    'rnn_unbatched_bidir': ('RNN', dict(bidirectional=True), 'unbatched', True),
    'lstm_unbatched_proj': ('LSTM', dict(proj_size=3, num_layers=2), 'unbatched', True),
    'gru_unbatched_batch_first': ('GRU', dict(batch_first=True), 'unbatched', False),
    'rnn_relu_packed_bidir': ('RNN', dict(nonlinearity='relu', bidirectional=True), 'packed',
                              True),
    'lstm_packed_2layer_bidir_proj': ('LSTM', dict(num_layers=2, bidirectional=True,
                                                   proj_size=3), 'packed', True),
    'lstm_packed_default_state': ('LSTM', dict(bidirectional=True), 'packed', False),
    'gru_packed_2layer_bidir_batch_first': ('GRU', dict(num_layers=2, bidirectional=True,
                                                        batch_first=True), 'packed', True),
    'lstm_packed_sorted_proj': ('LSTM', dict(proj_size=2, bidirectional=True), 'packed_sorted',
                                True),
    'rnn_packed_sorted_default_state': ('RNN', dict(num_layers=2), 'packed_sorted', False),
}


def state_shapes(cls, kwargs, batch):
    """The shapes of h0 (and c0) for a layer; batch None for unbatched input."""
    num = kwargs.get('num_layers', 1) * (2 if kwargs.get('bidirectional') else 1)
    lead = (num,) if batch is None else (num, batch)
    hidden = kwargs.get('hidden_size', HIDDEN)
    h = (*lead, kwargs.get('proj_size') or hidden)
    return [h, (*lead, hidden)] if cls == 'LSTM' else [h]


def run_config(lib, cls, kwargs, kind, with_state, weights, dtype):
    """Forward, a weighted sum of everything returned, backward; returns what to compare."""
    kwargs = dict(kwargs, input_size=FEATURES, hidden_size=HIDDEN)
    dt = getattr(lib, dtype)
    layer = make_layer(lib, cls, kwargs, weights, dt)
    batch_first = kwargs.get('batch_first', False)
    shape = (SEQ, FEATURES) if kind == 'unbatched' else \
        (BATCH, SEQ, FEATURES) if batch_first else (SEQ, BATCH, FEATURES)
    x = lib.tensor(arr(*shape, seed=1), dtype=dt, requires_grad=True)
    states = [lib.tensor(arr(*s, seed=2 + i), dtype=dt, requires_grad=True)
              for i, s in enumerate(state_shapes(cls, kwargs,
                                                 None if kind == 'unbatched' else BATCH))]
    hx = None if not with_state else states[0] if cls != 'LSTM' else tuple(states)
    inp = x
    packed = kind.startswith('packed')
    if packed:
        lengths = LENGTHS if kind == 'packed' else sorted(LENGTHS, reverse=True)
        inp = packing(lib).pack_padded_sequence(x, lengths, batch_first=batch_first,
                                                enforce_sorted=kind == 'packed_sorted')
    out, hidden = layer(inp, hx)
    result = {}
    if packed:
        result['batch_sizes'] = out.batch_sizes
        result['sorted_indices'] = out.sorted_indices
        result['unsorted_indices'] = out.unsorted_indices
        out_data = out.data
        padded, lengths = packing(lib).pad_packed_sequence(out, batch_first=batch_first)
        result['padded'], result['lengths'] = padded, lengths
    else:
        out_data = out
    hidden = list(hidden) if cls == 'LSTM' else [hidden]
    result['output'] = out_data
    result['hidden'] = hidden
    loss = (out_data * lib.tensor(arr(*out_data.shape, seed=7), dtype=dt)).sum()
    for i, h in enumerate(hidden):
        loss = loss + (h * lib.tensor(arr(*h.shape, seed=8 + i), dtype=dt)).sum()
    loss.backward()
    result['x.grad'] = x.grad
    if with_state:
        result['state grads'] = [s.grad for s in states]
    result['param grads'] = {n: p.grad for n, p in layer.named_parameters()}
    return to_np(result)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('config', list(CONFIGS))
def test_matches_torch(config, dtype):
    cls, kwargs, kind, with_state = CONFIGS[config]
    weights = torch_weights(cls, dict(kwargs, input_size=FEATURES, hidden_size=HIDDEN))
    expected = run_config(torch, cls, kwargs, kind, with_state, weights, dtype)
    got = run_config(nbgrad, cls, kwargs, kind, with_state, weights, dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == 'float64' else dict(rtol=2e-5, atol=2e-6)
    assert_same_value(got, expected, **tol)


# ---------------------------------------------------------------------------------------------
# Construction: seeded weights, names, shapes, reprs, attributes
# ---------------------------------------------------------------------------------------------
CONSTRUCTIONS = [
    ('RNN', (3, 4), {}), ('RNN', (3, 4, 2, 'relu', False, True, 0.0, True), {}),
    ('LSTM', (3, 5), dict(num_layers=2, proj_size=2, bidirectional=True)),
    ('LSTM', (3, 5), dict(bias=False, proj_size=4)),
    ('GRU', (2, 3), dict(num_layers=3, batch_first=True, dropout=0.25)),
    ('RNNCell', (3, 4), dict(nonlinearity='relu')), ('LSTMCell', (3, 4), dict(bias=False)),
    ('GRUCell', (5, 2), {}),
]


@pytest.mark.parametrize('cls,args,kwargs', CONSTRUCTIONS,
                         ids=[f'{c[0]}-{i}' for i, c in enumerate(CONSTRUCTIONS)])
def test_seeded_init_names_and_repr(cls, args, kwargs):
    def build(lib):
        lib.manual_seed(3)
        layer = getattr(modules(lib), cls)(*args, **kwargs)
        params = {n: to_np(p) for n, p in layer.named_parameters()}
        text = repr(layer)
        extras = {a: getattr(layer, a) for a in ('mode', 'input_size', 'hidden_size',
                                                  'num_layers', 'bias', 'batch_first',
                                                  'dropout', 'bidirectional', 'proj_size',
                                                  'nonlinearity') if hasattr(layer, a)}
        after = to_np(lib.rand(2))  # the generator moved on by exactly as much
        return params, text, extras, after
    expected, got = build(torch), build(nbgrad)
    assert_same_value(got[0], expected[0], 0, 0)  # bitwise: the same draws
    assert got[1] == expected[1]
    assert got[2] == expected[2]
    np.testing.assert_array_equal(got[3], expected[3])


def test_weight_lists_and_flat_weights():
    kwargs = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, proj_size=2)

    def observe(lib):
        layer = modules(lib).LSTM(**kwargs)
        names = layer._flat_weights_names
        all_shapes = [[tuple(w.shape) for w in ws] for ws in layer.all_weights]
        same_objects = all(w is getattr(layer, n) for w, n in zip(layer._flat_weights, names))
        layer.flatten_parameters()
        new = lib.nn.Parameter(lib.zeros(16, 3))
        layer.weight_ih_l0 = new  # assignment keeps _flat_weights current
        return list(names), all_shapes, same_objects, layer._flat_weights[0] is new
    assert observe(nbgrad) == observe(torch)


def test_copies_pickles_and_assigned_weights():
    """deepcopy and pickle give layers that compute with their own weights; weights put in place
    by load_state_dict(assign=True) are the ones the next forward uses."""
    kwargs = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    weights = torch_weights('LSTM', kwargs)
    other = torch_weights('LSTM', kwargs, seed=5)
    x = arr(SEQ, BATCH, 3, seed=6)

    def out(lib, layer):
        return to_np(layer(lib.tensor(x, dtype=lib.float32))[0])
    ref = make_layer(torch, 'LSTM', kwargs, weights, torch.float32)
    layer = make_layer(nbgrad, 'LSTM', kwargs, weights, nbgrad.float32)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert all(w is getattr(clone, n) for w, n in zip(clone._flat_weights,
                                                          clone._flat_weights_names))
        assert_same_value(out(nbgrad, clone), out(torch, ref), rtol=1e-5, atol=1e-6)
    layer.load_state_dict({k: nbgrad.tensor(v) for k, v in other.items()}, assign=True)
    ref.load_state_dict({k: torch.tensor(v) for k, v in other.items()}, assign=True)
    assert_same_value(out(nbgrad, layer), out(torch, ref), rtol=1e-5, atol=1e-6)


def test_double_and_state_dict_round_trip():
    """.double() reaches the weights the forward uses, and a torch state_dict loads."""
    weights = torch_weights('GRU', dict(input_size=3, hidden_size=4))
    layer = nb_rnn.GRU(3, 4)
    layer.load_state_dict({k: nbgrad.tensor(v) for k, v in weights.items()})
    layer = layer.double()
    x = arr(SEQ, BATCH, 3, seed=4)
    out, _ = layer(nbgrad.tensor(x))
    ref = torch.nn.GRU(3, 4).double()
    ref.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in weights.items()})
    expected, _ = ref(torch.tensor(x))
    assert out.dtype == nbgrad.float64
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------
CELLS = [('RNNCell', {}), ('RNNCell', dict(nonlinearity='relu')), ('RNNCell', dict(bias=False)),
         ('LSTMCell', {}), ('LSTMCell', dict(bias=False)), ('GRUCell', {}),
         ('GRUCell', dict(bias=False))]


@pytest.mark.parametrize('batched', [True, False], ids=['batched', 'unbatched'])
@pytest.mark.parametrize('with_state', [True, False], ids=['hx', 'no_hx'])
@pytest.mark.parametrize('cls,kwargs', CELLS, ids=[f'{c}-{i}' for i, (c, _) in enumerate(CELLS)])
def test_cells_match_torch(cls, kwargs, batched, with_state):
    kwargs = dict(kwargs, input_size=FEATURES, hidden_size=HIDDEN)
    weights = torch_weights(cls, kwargs)
    lead = (BATCH,) if batched else ()

    def run(lib):
        cell = make_layer(lib, cls, kwargs, weights, lib.float64)
        x = lib.tensor(arr(*lead, FEATURES, seed=1), requires_grad=True)
        states = [lib.tensor(arr(*lead, HIDDEN, seed=2 + i), requires_grad=True)
                  for i in range(2 if cls == 'LSTMCell' else 1)]
        hx = None if not with_state else tuple(states) if cls == 'LSTMCell' else states[0]
        out = cell(x, hx)
        outs = list(out) if cls == 'LSTMCell' else [out]
        sum(((o * lib.tensor(arr(*o.shape, seed=9 + i))).sum() for i, o in enumerate(outs)),
            lib.zeros(())).backward()
        return to_np({'out': outs, 'x.grad': x.grad,
                      'hx.grad': [s.grad for s in states] if with_state else None,
                      'params': {n: p.grad for n, p in cell.named_parameters()}})
    assert_same_value(run(nbgrad), run(torch), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Numerical gradients (float64): first and second order
# ---------------------------------------------------------------------------------------------

def _gradcheck_inputs(layer, cls, batch):
    nbgrad.manual_seed(0)
    x = nbgrad.randn(3, batch, 2, dtype=nbgrad.float64, requires_grad=True)
    states = [nbgrad.randn(*s, dtype=nbgrad.float64, requires_grad=True)
              for s in state_shapes(cls, dict(num_layers=layer.num_layers,
                                              bidirectional=layer.bidirectional,
                                              proj_size=layer.proj_size,
                                              hidden_size=layer.hidden_size), batch)]
    return x, states


@pytest.mark.parametrize('cls,kwargs', [('LSTM', dict(bidirectional=True)),
                                        ('LSTM', dict(proj_size=1, num_layers=2)),
                                        ('GRU', dict(num_layers=2, bidirectional=True)),
                                        ('RNN', dict(nonlinearity='tanh'))])
def test_gradcheck_layers(cls, kwargs):
    nbgrad.manual_seed(1)
    kwargs = dict(kwargs, input_size=2, hidden_size=2)
    layer = getattr(nb_rnn, cls)(**kwargs).double()
    x, states = _gradcheck_inputs(layer, cls, batch=2)
    params = list(layer.parameters())

    def f(x, *rest):  # the parameters are perturbed in place by gradcheck
        hx = tuple(rest[:2]) if cls == 'LSTM' else rest[0]
        out, hidden = layer(x, hx)
        return (out,) + (tuple(hidden) if cls == 'LSTM' else (hidden,))
    assert nbgrad.autograd.gradcheck(f, (x, *states, *params))


def test_gradcheck_packed_lstm():
    nbgrad.manual_seed(2)
    layer = nb_rnn.LSTM(2, 2, bidirectional=True).double()
    x = nbgrad.randn(3, 3, 2, dtype=nbgrad.float64, requires_grad=True)

    def f(x, *params):
        packed = nb_rnn_utils.pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        out, (h, c) = layer(packed)
        return out.data, h, c
    assert nbgrad.autograd.gradcheck(f, (x, *layer.parameters()))


@pytest.mark.parametrize('cls', ['LSTMCell', 'GRUCell', 'RNNCell'])
def test_gradgradcheck_cells(cls):
    nbgrad.manual_seed(4)
    cell = getattr(nb_rnn, cls)(2, 2).double()
    x = nbgrad.randn(2, 2, dtype=nbgrad.float64, requires_grad=True)
    states = [nbgrad.randn(2, 2, dtype=nbgrad.float64, requires_grad=True)
              for _ in range(2 if cls == 'LSTMCell' else 1)]

    def f(x, *rest):
        hx = tuple(rest[:2]) if cls == 'LSTMCell' else rest[0]
        return cell(x, hx)
    inputs = (x, *states, cell.weight_ih, cell.weight_hh, cell.bias_hh)
    assert nbgrad.autograd.gradcheck(f, inputs)
    assert nbgrad.autograd.gradgradcheck(f, inputs)


@pytest.mark.parametrize('cls,kwargs', [('LSTM', dict(bidirectional=True, proj_size=1)),
                                        ('GRU', dict(bidirectional=True)),
                                        ('RNN', dict(nonlinearity='relu'))])
def test_gradgradcheck_packed_layers(cls, kwargs):
    """Second derivatives of whole layers over a packed batch (a backward with create_graph
    replays the per-step path as Tensor ops)."""
    nbgrad.manual_seed(3)
    layer = getattr(nb_rnn, cls)(2, 2, **kwargs).double()
    x = nbgrad.randn(3, 3, 2, dtype=nbgrad.float64, requires_grad=True)
    params = [layer.weight_ih_l0, layer.weight_hh_l0_reverse if layer.bidirectional
              else layer.weight_hh_l0]

    def f(x, *params):
        packed = nb_rnn_utils.pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        out, hidden = layer(packed)
        return (out.data,) + (tuple(hidden) if cls == 'LSTM' else (hidden,))
    assert nbgrad.autograd.gradgradcheck(f, (x, *params))


def test_double_backward_matches_torch():
    """Second derivatives through an LSTM layer (create_graph), against torch's."""
    weights = torch_weights('LSTM', dict(input_size=2, hidden_size=3))

    def run(lib):
        layer = make_layer(lib, 'LSTM', dict(input_size=2, hidden_size=3), weights, lib.float64)
        x = lib.tensor(arr(4, 2, 2, seed=5), requires_grad=True)
        out, (h, c) = layer(x)
        (gx,) = lib.autograd.grad((out ** 2).sum() + c.sum(), x, create_graph=True)
        (gx ** 2).sum().backward()
        return to_np({'gx': gx, 'x.grad': x.grad, 'w': layer.weight_hh_l0.grad})
    assert_same_value(run(nbgrad), run(torch), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Dropout between layers, train and eval
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
def test_dropout_between_layers(train):
    """The masks come from the same generator stream as PyTorch's CPU dropout."""
    kwargs = dict(input_size=3, hidden_size=4, num_layers=3, dropout=0.4, bidirectional=True)
    weights = torch_weights('LSTM', kwargs)

    def run(lib):
        layer = make_layer(lib, 'LSTM', kwargs, weights, lib.float64)
        layer.train(train)
        x = lib.tensor(arr(SEQ, BATCH, 3, seed=3), requires_grad=True)
        lib.manual_seed(11)
        out, (h, c) = layer(x)
        (out.sum() + h.sum()).backward()
        return to_np([out, h, c, x.grad])
    assert_same_value(run(nbgrad), run(torch), rtol=1e-10, atol=1e-12)


def test_dropout_warning_and_checks():
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match='num_layers greater than 1'):
            modules(lib).GRU(2, 3, dropout=0.5)


# ---------------------------------------------------------------------------------------------
# Errors: PyTorch's exception kinds (and messages where they name the problem)
# ---------------------------------------------------------------------------------------------

def _lstm(lib, **kw):
    return modules(lib).LSTM(4, 3, **kw)


ERRORS = {
    'proj_size_too_big': lambda lib: modules(lib).LSTM(4, 3, proj_size=3),
    'proj_size_negative': lambda lib: modules(lib).LSTM(4, 3, proj_size=-1),
    'proj_size_on_gru': lambda lib: modules(lib).GRU(4, 3, proj_size=1),
    'proj_size_on_rnn': lambda lib: modules(lib).RNN(4, 3, proj_size=1),
    'bad_nonlinearity': lambda lib: modules(lib).RNN(4, 3, nonlinearity='sigmoid'),
    'dropout_out_of_range': lambda lib: modules(lib).GRU(4, 3, dropout=1.5),
    'dropout_bool': lambda lib: modules(lib).GRU(4, 3, dropout=True),
    'zero_layers': lambda lib: modules(lib).GRU(4, 3, num_layers=0),
    'float_input_size': lambda lib: modules(lib).GRU(4.0, 3),
    'zero_hidden_size': lambda lib: modules(lib).GRU(4, 0),
    'int_bias': lambda lib: modules(lib).GRU(4, 3, bias=1),
    'int_batch_first': lambda lib: modules(lib).GRU(4, 3, batch_first=0),
    'dtype_mismatch': lambda lib: _lstm(lib)(lib.randn(5, 2, 4, dtype=lib.float64)),
    'input_4d': lambda lib: _lstm(lib)(lib.randn(5, 2, 4, 1)),
    'rnn_input_1d': lambda lib: modules(lib).RNN(4, 3)(lib.randn(4)),
    'gru_input_4d': lambda lib: modules(lib).GRU(4, 3)(lib.randn(1, 5, 2, 4)),
    'input_size': lambda lib: _lstm(lib)(lib.randn(5, 2, 5)),
    'zero_length': lambda lib: _lstm(lib)(lib.randn(0, 2, 4)),
    'h0_shape': lambda lib: _lstm(lib)(lib.randn(5, 2, 4), (lib.randn(1, 3, 3),
                                                            lib.randn(1, 2, 3))),
    'c0_shape': lambda lib: _lstm(lib)(lib.randn(5, 2, 4), (lib.randn(1, 2, 3),
                                                            lib.randn(1, 2, 4))),
    'lstm_hx_not_tuple': lambda lib: _lstm(lib)(lib.randn(5, 2, 4), lib.randn(1, 2, 3)),
    'lstm_unbatched_3d_hx': lambda lib: _lstm(lib)(lib.randn(5, 4), (lib.randn(1, 1, 3),
                                                                     lib.randn(1, 1, 3))),
    'lstm_batched_2d_hx': lambda lib: _lstm(lib)(lib.randn(5, 1, 4), (lib.randn(1, 3),
                                                                      lib.randn(1, 3))),
    'gru_hidden_size': lambda lib: modules(lib).GRU(4, 3, bidirectional=True)(
        lib.randn(5, 2, 4), lib.randn(1, 2, 3)),
    'rnn_unbatched_3d_hx': lambda lib: modules(lib).RNN(4, 3)(lib.randn(5, 4),
                                                              lib.randn(1, 1, 3)),
    'rnn_batched_2d_hx': lambda lib: modules(lib).RNN(4, 3)(lib.randn(5, 2, 4), lib.randn(1, 3)),
    'packed_h0_batch': lambda lib: modules(lib).GRU(4, 3)(
        packing(lib).pack_sequence([lib.randn(3, 4), lib.randn(2, 4)]), lib.randn(1, 3, 3)),
    'cell_input_size': lambda lib: modules(lib).RNNCell(4, 3)(lib.randn(2, 5)),
    'cell_batch': lambda lib: modules(lib).GRUCell(4, 3)(lib.randn(2, 4), lib.randn(3, 3)),
    'cell_hidden_size': lambda lib: modules(lib).RNNCell(4, 3)(lib.randn(2, 4), lib.randn(2, 5)),
    'cell_input_3d': lambda lib: modules(lib).GRUCell(4, 3)(lib.randn(1, 2, 4)),
    'cell_hx_3d': lambda lib: modules(lib).RNNCell(4, 3)(lib.randn(2, 4), lib.randn(1, 2, 3)),
    'lstm_cell_one_state': lambda lib: modules(lib).LSTMCell(4, 3)(lib.randn(2, 4),
                                                                   (lib.randn(2, 3),)),
    'lstm_cell_c_size': lambda lib: modules(lib).LSTMCell(4, 3)(
        lib.randn(2, 4), (lib.randn(2, 3), lib.randn(2, 4))),
    'lstm_cell_hx_3d': lambda lib: modules(lib).LSTMCell(4, 3)(
        lib.randn(2, 4), (lib.randn(2, 3), lib.randn(1, 2, 3))),
    'cell_unknown_nonlinearity': lambda lib: modules(lib).RNNCell(4, 3, nonlinearity='gelu')(
        lib.randn(2, 4)),
    'cell_dtype': lambda lib: modules(lib).RNNCell(4, 3).double()(lib.randn(2, 4)),
    'lstm_cell_hx_one_tensor': lambda lib: modules(lib).LSTMCell(4, 3)(
        lib.randn(2, 4), lib.randn(2, 3)),
    'lstm_cell_hx_three_states': lambda lib: modules(lib).LSTMCell(4, 3)(
        lib.randn(2, 4), (lib.randn(2, 3),) * 3),
}

# messages that name the problem as PyTorch's do
MESSAGES = {'input_size': 'input.size(-1) must be equal to input_size. Expected 4, got 5',
            'h0_shape': 'Expected hidden[0] size (1, 2, 3), got [1, 3, 3]',
            'c0_shape': 'Expected hidden[1] size (1, 2, 3), got [1, 2, 4]',
            'gru_hidden_size': 'Expected hidden size (2, 2, 3), got [1, 2, 3]',
            'dtype_mismatch': 'does not match weight dtype',
            'cell_batch': "Input batch size 2 doesn't match hidden0 batch size 3",
            'lstm_cell_hx_one_tensor': "argument 'hx' (position 2) must be tuple of Tensors",
            'lstm_cell_hx_three_states': 'lstm_cell expects two hidden states'}


@pytest.mark.parametrize('case', list(ERRORS))
def test_errors(case):
    fn = ERRORS[case]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(Exception) as theirs:
            fn(torch)
        with pytest.raises(exc_kind(theirs.value)) as ours:
            fn(nbgrad)
    if case in MESSAGES:
        assert MESSAGES[case] in str(ours.value)
        assert MESSAGES[case] in str(theirs.value)


def test_empty_batch():
    def run(lib):
        out, (h, c) = _lstm(lib, bidirectional=True)(lib.randn(5, 0, 4))
        return tuple(out.shape), tuple(h.shape), tuple(c.shape)
    assert run(nbgrad) == run(torch)


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('cls, extra', [('LSTM', {}), ('LSTM', dict(proj_size=2)), ('GRU', {}),
                                        ('RNN', {}), ('RNN', dict(nonlinearity='relu'))])
@pytest.mark.parametrize('packed', [True, False], ids=['packed', 'padded'])
def test_device(device, cls, extra, packed):
    """Values and gradients of a 2-layer bidirectional layer on each device, over a packed batch
    (steps of shrinking width) and a plain one (every step as wide)."""
    kwargs = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, **extra)
    weights = torch_weights(cls, kwargs)

    def run(lib, dev):
        layer = make_layer(lib, cls, kwargs, weights, lib.float32).to(dev)
        x = lib.tensor(arr(SEQ, BATCH, 3, seed=1), dtype=lib.float32, device=dev,
                       requires_grad=True)
        if packed:
            out, hidden = layer(packing(lib).pack_padded_sequence(x, LENGTHS,
                                                                  enforce_sorted=False))
            assert out.data.device.type == dev and out.batch_sizes.device.type == 'cpu'
            out, _ = packing(lib).pad_packed_sequence(out)
        else:
            out, hidden = layer(x)
        hidden = list(hidden) if cls == 'LSTM' else [hidden]
        weighting = lib.tensor(arr(*out.shape, seed=2), dtype=lib.float32, device=dev)
        ((out * weighting).sum() + sum(h.sum() for h in hidden)).backward()
        return to_np([out.cpu(), [h.cpu() for h in hidden], x.grad.cpu(),
                      layer.weight_hh_l0.grad.cpu(), layer.weight_hh_l1_reverse.grad.cpu()])
    assert_same_value(run(nbgrad, device), run(torch, 'cpu'), rtol=2e-5, atol=2e-6)


def test_cell_default_state_follows_input():
    cell = nb_rnn.GRUCell(3, 2).double()
    out = cell(nbgrad.randn(4, 3, dtype=nbgrad.float64))
    assert out.dtype == nbgrad.float64 and tuple(out.shape) == (4, 2)


def test_both_helper_agrees_on_unbatched_rnn_shapes():
    def fn(lib):
        out, h = modules(lib).RNN(3, 2, num_layers=2)(lib.randn(4, 3))
        return out.shape, h.shape
    both(fn)


@pytest.mark.cuda
def test_lstm_cell_kernel_that_does_not_compile_falls_back(device, monkeypatch):
    """On CUDA an LSTM step's pointwise work is one kernel (_lstm_cuda); a compiler that refuses
    it must not stop the layer: one warning, then the array formulas, with the same numbers."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.nn.modules import _lstm_cuda, _lstm_sequence_cuda
    monkeypatch.setattr(_lstm_sequence_cuda, 'usable', lambda *args: False)   # step by step
    monkeypatch.setattr(_lstm_cuda, 'KERNELS', KernelFamily('LSTM cell'))
    monkeypatch.setattr(_lstm_cuda, '_FORWARD', _lstm_cuda._FORWARD.replace('tanh(cn)', 'tanh(cn'))
    kwargs = dict(input_size=3, hidden_size=4)
    weights = torch_weights('LSTM', kwargs)

    def run(lib, dev):
        layer = make_layer(lib, 'LSTM', kwargs, weights, lib.float32).to(dev)
        x = lib.tensor(arr(SEQ, BATCH, 3, seed=1), dtype=lib.float32, device=dev,
                       requires_grad=True)
        out, (h, c) = layer(x)
        (out.sum() + c.sum()).backward()
        return to_np([out.cpu(), c.cpu(), x.grad.cpu(), layer.weight_hh_l0.grad.cpu()])
    with pytest.warns(RuntimeWarning, match='did not compile'):
        got = run(nbgrad, 'cuda')
    assert_same_value(got, run(torch, 'cpu'), rtol=2e-5, atol=2e-6)
    assert _lstm_cuda.KERNELS.failed


def _layer_run(lib, dev, cls, dtype, seq, batch, hidden, bidirectional):
    """Outputs, final states and every gradient of a 2-layer LSTM or GRU on a plain (padded)
    batch."""
    kwargs = dict(input_size=3, hidden_size=hidden, num_layers=2, bidirectional=bidirectional)
    if cls.startswith('RNN_'):   # RNN_TANH, RNN_RELU: nn.RNN with that nonlinearity
        cls, kwargs['nonlinearity'] = 'RNN', cls[4:].lower()
    weights = torch_weights(cls, kwargs)
    dt = getattr(lib, dtype)
    layer = make_layer(lib, cls, kwargs, weights, dt).to(dev)
    states = 2 * (1 + bidirectional)
    x, h0, c0 = (lib.tensor(arr(*shape, seed=k), dtype=dt, device=dev, requires_grad=True)
                 for k, shape in enumerate([(seq, batch, 3), (states, batch, hidden),
                                            (states, batch, hidden)]))
    initial = [h0, c0] if cls == 'LSTM' else [h0]
    out, final = layer(x, tuple(initial) if cls == 'LSTM' else h0)
    final = list(final) if cls == 'LSTM' else [final]
    weighting = lib.tensor(arr(*out.shape, seed=5), dtype=dt, device=dev)
    ((out * weighting).sum() + sum((0.3 + 0.4 * k) * f.sum() for k, f in enumerate(final))
     ).backward()
    return to_np([out.cpu(), [f.cpu() for f in final], x.grad.cpu(),
                  [s.grad.cpu() for s in initial], [p.grad.cpu() for p in layer.parameters()]])


def _layer_kernels(cls):
    from nbgrad.nn.modules import _elman_sequence_cuda, _gru_sequence_cuda, _lstm_sequence_cuda
    return {'LSTM': _lstm_sequence_cuda, 'GRU': _gru_sequence_cuda}.get(cls, _elman_sequence_cuda)


@pytest.mark.cuda
@pytest.mark.parametrize('cls', ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('seq, batch, hidden, bidirectional', [
    (5, 3, 4, False), (4, 9, 5, True), (3, 16, 33, True), (2, 37, 16, False),
    (1, 1, 2, False)])
def test_plain_layer_runs_one_launch_a_step(device, monkeypatch, cls, dtype, seq, batch, hidden,
                                            bidirectional):
    """On CUDA a plain LSTM, GRU or RNN layer's step, matrix product and cell together, is
    one kernel launch forward and one backward (_lstm_, _gru_, _elman_sequence_cuda); its
    values and gradients are PyTorch's."""
    if device != 'cuda':
        pytest.skip('cuda only')
    kernels = _layer_kernels(cls)
    launches = []
    for name in ('forward', 'backward'):
        run = getattr(kernels, name)
        monkeypatch.setattr(kernels, name,
                            lambda *args, run=run, name=name: launches.append(name) or run(*args))
    got = _layer_run(nbgrad, 'cuda', cls, dtype, seq, batch, hidden, bidirectional)
    assert launches.count('forward') == launches.count('backward') == 2 * (1 + bidirectional)
    tolerance = dict(rtol=2e-5, atol=2e-6) if dtype == 'float32' else dict(rtol=1e-12,
                                                                           atol=1e-13)
    assert_same_value(got, _layer_run(torch, 'cpu', cls, dtype, seq, batch, hidden,
                                      bidirectional), **tolerance)


@pytest.mark.cuda
@pytest.mark.parametrize('cls', ['LSTM', 'GRU', 'RNN_TANH'])
def test_layer_kernel_blocks_take_several_tiles(device, monkeypatch, cls):
    """A step has a block per tile of 4 batch rows by 32 hidden units, up to a grid limit past
    which each block loops over several tiles: with the limit at 2 blocks, the results are
    still PyTorch's."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad import _cuda_kernels
    monkeypatch.setattr(_cuda_kernels, 'MAX_BLOCKS', 2)
    got = _layer_run(nbgrad, 'cuda', cls, 'float64', 3, 9, 40, True)
    assert_same_value(got, _layer_run(torch, 'cpu', cls, 'float64', 3, 9, 40, True),
                      rtol=1e-12, atol=1e-13)


@pytest.mark.cuda
@pytest.mark.parametrize('cls, broken', [('LSTM', 'tanh(cn)'), ('GRU', 'tanh(xn + r * hn_v)'),
                                         ('RNN_TANH', 'tanh(v)')])
def test_layer_kernel_that_does_not_compile_falls_back(device, monkeypatch, cls, broken):
    """A compiler that refuses a layer's step kernels costs one warning; the layer then steps
    through time the general way, with PyTorch's numbers."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    kernels = _layer_kernels(cls)
    monkeypatch.setattr(kernels, 'KERNELS', KernelFamily(f'{cls} layer'))
    monkeypatch.setattr(kernels, '_FORWARD', kernels._FORWARD.replace(broken, broken[:-1]))
    with pytest.warns(RuntimeWarning, match='did not compile'):
        got = _layer_run(nbgrad, 'cuda', cls, 'float32', 4, 3, 4, True)
    assert kernels.KERNELS.failed
    assert_same_value(got, _layer_run(torch, 'cpu', cls, 'float32', 4, 3, 4, True), rtol=2e-5,
                      atol=2e-6)


@pytest.mark.parametrize('state_dtype', ['float64', 'int64'])
@pytest.mark.parametrize('mode', ['RNN', 'GRU', 'LSTM'])
@pytest.mark.parametrize('packed', [False, True], ids=['padded', 'packed'])
def test_initial_state_of_another_dtype_is_refused(mode, state_dtype, packed):
    """PyTorch's matrix products refuse an h_0 (or c_0) whose dtype is not the input's;
    nbgrad refuses it too (NumPy would promote the returned state to float64), naming both."""
    def run(lib):
        lib.manual_seed(0)
        layer = getattr(lib.nn, mode)(3, 4)
        x = lib.ones(5, 2, 3)
        if packed:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, [5, 3])
        bad = lib.zeros(1, 2, 4, dtype=getattr(lib, state_dtype))
        layer(x, (bad, lib.zeros(1, 2, 4)) if mode == 'LSTM' else bad)
    kinds = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as info:
            run(lib)
        kinds.append(exc_kind(info.value))
    assert kinds[0] is kinds[1] is RuntimeError
    assert state_dtype in str(info.value) and 'float32' in str(info.value)


@pytest.mark.parametrize('cls, kwargs', [
    ('LSTM', dict(bidirectional=True)), ('LSTM', dict(proj_size=3)), ('GRU', {}),
    ('RNN', dict(nonlinearity='relu'))])
def test_layers_reusing_their_work_arrays_match_pytorch_call_after_call(monkeypatch, cls,
                                                                       kwargs):
    """A recurrent layer's saved activations go back to nbgrad._work_arrays when the backward
    frees the graph (or at once under no_grad) and the next call reuses them, stale values and
    all: training steps, a no_grad forward and a packed batch in turn, each PyTorch's."""
    from nbgrad import _work_arrays
    monkeypatch.setattr(_work_arrays, 'MIN_BYTES', 0)     # keep even these small arrays
    _work_arrays.clear()
    kwargs = dict(input_size=3, hidden_size=5, num_layers=2, **kwargs)
    weights = torch_weights(cls, kwargs)

    def calls(lib):
        layer = make_layer(lib, cls, kwargs, weights, lib.float64)
        results = []
        for k in range(4):
            x = lib.tensor(arr(6, 4, 3, seed=k), dtype=lib.float64, requires_grad=True)
            if k == 2:
                with lib.no_grad():
                    results.append(layer(x)[0])
                continue
            if k == 3:
                x_in = lib.nn.utils.rnn.pack_padded_sequence(x, [6, 5, 5, 2])
                out = lib.nn.utils.rnn.pad_packed_sequence(layer(x_in)[0])[0]
            else:
                out = layer(x)[0]
            layer.zero_grad()
            (out * lib.tensor(arr(*out.shape, seed=9 + k), dtype=lib.float64)).sum().backward()
            results.append([out, x.grad, [p.grad for p in layer.parameters()]])
            if lib is nbgrad and k == 0:
                assert _work_arrays._kept, 'the backward gave no work arrays back'
        return to_np(results)
    assert_same_value(calls(nbgrad), calls(torch), rtol=1e-12, atol=1e-13)
    _work_arrays.clear()


def test_work_arrays_are_kept_once_and_only_whole_numpy_arrays(monkeypatch):
    from nbgrad import _work_arrays
    monkeypatch.setattr(_work_arrays, 'MIN_BYTES', 64)
    monkeypatch.setattr(_work_arrays, 'LIMIT', 1000)
    _work_arrays.clear()
    a = np.ones((4, 8))                                    # 256 bytes
    _work_arrays.give_back(a, a, a[1:], np.ones(2), np.ones((8, 4)).T, None)
    assert _work_arrays.empty(np, (4, 8), np.float64) is a
    assert _work_arrays.empty(np, (4, 8), np.float64) is not a     # given back once
    assert _work_arrays.empty(np, (4, 8), np.float32).dtype == np.float32
    big = [np.ones(32) for _ in range(5)]                   # 5 x 256 bytes, over LIMIT
    _work_arrays.give_back(*big)
    taken = [_work_arrays.empty(np, (32,), np.float64) for _ in big]
    assert sum(any(t is b for b in big) for t in taken) == 3
    _work_arrays.clear()
