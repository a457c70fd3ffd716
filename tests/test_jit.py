"""nbgrad.jit.trace against torch.jit.trace: the same model (same seeded weights) traced in both
libraries gives the same outputs on new inputs (other batch sizes too), the same gradients, and
follows the traced branch of Python control flow as PyTorch's trace does; in-place ops, tuple and
dict outputs, dropout redrawn per call, new shapes traced again, the warnings, script() and
save()."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.filterwarnings('ignore::UserWarning')


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


class _LSTMHead:
    @staticmethod
    def make(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = lib.nn.LSTM(3, 5, batch_first=True)
                self.out = lib.nn.Linear(5, 1)

            def forward(self, x):
                y, _ = self.lstm(x)
                return self.out(y[:, -1])
        return Model()


MODELS = {'mlp': (_mlp, (3, 4), (7, 4)), 'cnn': (_cnn, (2, 1, 8, 8), (5, 1, 8, 8)),
          'lstm': (_LSTMHead.make, (2, 6, 3), (4, 6, 3))}


def _input(lib, shape, seed):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


@pytest.mark.parametrize('name', MODELS)
def test_traced_models_match_pytorchs_traces(name):
    make, example_shape, other_shape = MODELS[name]
    results = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = make(lib).eval()
        traced = lib.jit.trace(model, _input(lib, example_shape, 1))
        x = _input(lib, other_shape, 2)
        out = traced(x)
        out.pow(2).sum().backward()
        results[lib] = (out.detach().numpy(), model(x).detach().numpy(),
                        [p.grad.numpy() for p in model.parameters()],
                        sorted(traced.state_dict()))
    ours, theirs = results[nbgrad], results[torch]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours[0], ours[1])           # the replay is the eager result
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert ours[3] == theirs[3]


def _branchy(lib):
    def f(a, b):
        c = a * 2 + b
        if c.sum() > 0:             # frozen at the example's branch
            d = c.relu()
            d.add_(1)               # an in-place op on an intermediate
            return d, (a @ b.t(), c)
        return c, (a, b)
    return f


def test_traced_functions_follow_the_traced_branch_as_pytorch():
    outputs = {}
    for lib in (torch, nbgrad):
        a, b = _input(lib, (2, 3), 3).abs(), _input(lib, (2, 3), 4).abs()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            traced = lib.jit.trace(_branchy(lib), (a, b), strict=False)
        result = traced(-a, -b)     # the other branch, eagerly
        outputs[lib] = [result[0].numpy(), *[t.numpy() for t in result[1]]]
    for ours, theirs in zip(outputs[nbgrad], outputs[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_dict_outputs():
    traced = nbgrad.jit.trace(lambda x: {'double': x * 2, 'neg': -x}, nbgrad.ones(2))
    out = traced(nbgrad.tensor([1., 3.]))
    assert out['double'].tolist() == [2., 6.] and out['neg'].tolist() == [-1., -3.]


def test_dropout_draws_again_and_other_shapes_are_traced_again():
    nbgrad.manual_seed(0)
    model = nbgrad.nn.Sequential(nbgrad.nn.Linear(4, 4), nbgrad.nn.Dropout(0.5)).train()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = nbgrad.jit.trace(model, nbgrad.ones(8, 4), check_trace=False)
    x = nbgrad.ones(8, 4)
    assert not nbgrad.equal(traced(x), traced(x))            # a new mask per call
    assert traced(nbgrad.ones(3, 4)).shape == (3, 4)     # (a new recording for (3, 4))
    assert len(traced._traced_methods['forward']._recordings) == 2


def test_random_factories_in_traced_code_warn():
    with pytest.warns(nbgrad.jit.TracerWarning, match='random'):
        nbgrad.jit.trace(lambda x: x + nbgrad.rand(3), nbgrad.ones(3))


def test_a_traced_module_trains_the_original_parameters():
    nbgrad.manual_seed(0)
    model = _mlp(nbgrad)
    traced = nbgrad.jit.trace(model, nbgrad.randn(2, 4))
    optimizer = nbgrad.optim.SGD(traced.parameters(), lr=0.1)
    before = model[0].weight.detach().clone()
    nbgrad.nn.functional.mse_loss(traced(nbgrad.randn(2, 4)), nbgrad.zeros(2, 2)).backward()
    optimizer.step()
    assert not nbgrad.equal(before, model[0].weight.detach())


def test_the_graph_names_the_ops():
    traced = nbgrad.jit.trace(_mlp(nbgrad).eval(), nbgrad.randn(2, 4))
    text = str(traced.graph)
    assert text.startswith('graph(%0 : Tensor[2, 4]):')
    assert traced.graph.nodes() == ['linear', 'relu', 'linear'] and 'aten::relu' in text
    assert '= aten::linear(%0, %self.0.weight, %self.0.bias)' in text
    assert text.endswith('return %3')
    assert traced.code.startswith('def forward(x0):')


def test_script_runs_eagerly_and_plain_modules_cannot_be_saved():
    """script() gives a ScriptModule (nbgrad's runs the module eagerly, with a warning) that
    computes what the module does; jit.save of a plain module fails as PyTorch's (the module
    has no .save)."""
    def run(lib):
        lib.manual_seed(0)
        model = _mlp(lib)
        scripted = lib.jit.script(model)
        x = lib.ones(3, 4)
        kinds = (isinstance(scripted, lib.jit.ScriptModule), isinstance(model, lib.jit.ScriptModule))
        try:
            lib.jit.save(model, 'never_written.pt')
        except AttributeError:
            refused = True
        return scripted(x).detach(), model(x).detach(), kinds, refused
    with pytest.warns(UserWarning, match='eagerly'):
        nbgrad.jit._warned_script[0] = False
        both(run)
    assert not nbgrad.jit.is_scripting() and not nbgrad.jit.is_tracing()


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match='tensor'):
        nbgrad.jit.trace(lambda x: x, 3)
    traced = nbgrad.jit.trace(lambda x: x * 2, nbgrad.ones(2))
    with pytest.raises(TypeError, match='1 tensor inputs, got 2'):
        traced(nbgrad.ones(2), nbgrad.ones(2))


def test_tracing_warns_where_a_tensor_becomes_a_python_value():
    """PyTorch's tracer warns at each tensor-to-Python conversion (the value is baked into the
    trace); nbgrad's was silent. Internal conversions (the tracer's own) do not warn."""
    def kinds(lib):
        class Model(lib.nn.Module):
            def forward(self, x):
                values = (x.sum().item(), float(x.max()), x.tolist(), bool(x.sum() > 0),
                          int(x[0]))
                return x * values[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.jit.trace(Model(), lib.ones(2), check_trace=False)
        return sorted({str(w.message).split(' might')[0] for w in caught
                       if type(w.message).__name__ == 'TracerWarning'})
    assert kinds(nbgrad) == kinds(torch) == sorted(
        f'Converting a tensor to a Python {kind}' for kind in
        ('number', 'float', 'list', 'boolean', 'integer'))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        nbgrad.jit.trace(_mlp(nbgrad), nbgrad.ones(3, 4))
    assert not [w for w in caught if type(w.message).__name__ == 'TracerWarning']


def test_a_tensor_the_code_makes_and_fills_starts_afresh_at_every_call(tmp_path):
    """MultiheadAttention makes a mask tensor and fills it in place from key_padding_mask: a
    replay starts from a fresh copy of what the code made (one call's mask must not stay in the
    next), before and after jit.save/jit.load; PyTorch's trace gives the same numbers."""
    def build(lib):
        lib.manual_seed(0)

        class Attend(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.attention = lib.nn.MultiheadAttention(8, 2, batch_first=True)

            def forward(self, x, mask):
                return self.attention(x, x, x, key_padding_mask=mask, need_weights=False)[0]
        return Attend().eval()
    x = np.random.default_rng(0).standard_normal((2, 4, 8)).astype(np.float32)
    masks = [np.array([[0, 0, 1, 1], [0, 0, 0, 0]], bool),
             np.array([[0, 0, 0, 0], [0, 1, 1, 1]], bool)]

    def outputs(lib, save=None):
        model = build(lib)
        with lib.no_grad():
            traced = lib.jit.trace(model, (lib.tensor(x), lib.tensor(masks[0])))
            if save is not None:
                lib.jit.save(traced, save)
                traced = lib.jit.load(save)
            return [traced(lib.tensor(x), lib.tensor(m)).numpy()
                    for m in (masks[1], masks[0], masks[1])]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        theirs = outputs(torch)
    for ours in (outputs(nbgrad), outputs(nbgrad, tmp_path / 'attend.pt')):
        for got, expected in zip(ours, theirs):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_recording_again_for_new_shapes_keeps_warnings_shown_once():
    """A traced function records again for new input shapes without TracerWarnings, and
    without resetting Python's memory of the warnings it has shown once (catch_warnings would:
    PyTorch's traced modules show such a warning once)."""
    import warnings

    def warn_here():
        warnings.warn('shown once', UserWarning)

    traced = nbgrad.jit.trace(lambda x: x * float(x.sum()), nbgrad.ones(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        warn_here()
        traced(nbgrad.ones(3))
        warn_here()
    assert [str(w.message) for w in caught] == ['shown once']
