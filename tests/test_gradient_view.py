"""GradientView against PyTorch: the same model from the same weights, the same batch, and the
per-parameter gradient norms, statistics and histograms must be what PyTorch's gradients give;
flags on crafted gradients; the hooks that follow training (one step per backward, removed by
close()); the text/HTML fallbacks and the mime bundle."""
import math

import numpy as np
import pytest

import nbgrad
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets.gradient_view import MAX_HISTOGRAMS, GradientView  # noqa: E402
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402

torch = pytest.importorskip('torch')


def twin_mlps(device='cpu'):
    """An nbgrad MLP holding a seeded PyTorch MLP's weights, and that PyTorch MLP."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    model = nbgrad.nn.Sequential(nbgrad.nn.Linear(5, 7), nbgrad.nn.Tanh(), nbgrad.nn.Linear(7, 3))
    with nbgrad.no_grad():
        for p, q in zip(model.parameters(), reference.parameters()):
            p.copy_(nbgrad.tensor(q.detach().numpy()))
    return model.to(device), reference


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((16, 5)).astype(np.float32),
            rng.standard_normal((16, 3)).astype(np.float32))


def backward(model, x, y, device='cpu'):
    lib = torch if isinstance(model, torch.nn.Module) else nbgrad
    x, y = lib.tensor(x), lib.tensor(y)
    if lib is nbgrad:
        x, y = x.to(device), y.to(device)
    model.zero_grad()
    lib.nn.functional.mse_loss(model(x), y).backward()


def test_norms_statistics_and_histograms_match_pytorch(device):
    model, reference = twin_mlps(device)
    view = GradientView(model, bins=8)
    x, y = batch()
    backward(model, x, y, device)
    backward(reference, x, y)
    assert view.step == 1
    records = view.parameters
    assert [r['name'] for r in records] == [name for name, _ in reference.named_parameters()]
    for r, (name, q) in zip(records, reference.named_parameters()):
        g = q.grad.double()
        assert r['shape'] == list(q.shape) and r['numel'] == q.numel()
        assert r['grad_norm'] == pytest.approx(torch.linalg.vector_norm(g).item(), rel=1e-5)
        assert r['param_norm'] == pytest.approx(torch.linalg.vector_norm(q.double()).item(),
                                                rel=1e-6)
        assert r['ratio'] == pytest.approx(r['grad_norm'] / r['param_norm'], rel=1e-12)
        for key, expected in (('mean', g.mean()), ('std', g.std()), ('min', g.min()),
                              ('max', g.max())):
            assert r[key] == pytest.approx(expected.item(), rel=1e-4, abs=1e-7), (name, key)
        assert r['nan_count'] == r['inf_count'] == 0 and r['flag'] == ''
        # the histogram: numpy.histogram of PyTorch's gradient, up to an element that float32
        # rounding moved across a bin edge; exactly numpy's on nbgrad's own gradient
        counts = r['histogram']['counts']
        oracle, edges = np.histogram(g.numpy(), bins=8)
        assert len(r['histogram']['edges']) == 9 and sum(counts) == q.numel()
        assert np.abs(np.array(counts) - oracle).max() <= 1
        np.testing.assert_allclose(r['histogram']['edges'], edges, rtol=1e-4, atol=1e-7)
        own = dict(model.named_parameters())[name].grad.detach().cpu().numpy()
        assert counts == np.histogram(own.astype(np.float64), bins=8)[0].tolist()
    view.close()


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_half_precision_models_show_their_gradients(dtype):
    """A bfloat16 (or half) model's gradients as PyTorch computes them (numpy() refuses
    bfloat16, so the view reads the values through float64)."""
    model, reference = twin_mlps()
    model, reference = model.to(getattr(nbgrad, dtype)), reference.to(getattr(torch, dtype))
    view = GradientView(model, bins=8)
    x, y = batch()
    for lib, m in ((nbgrad, model), (torch, reference)):
        m(lib.tensor(x).to(getattr(lib, dtype))).float().square().sum().backward()
    for r, (name, q) in zip(view.parameters, reference.named_parameters()):
        g = q.grad.double()
        assert r['grad_norm'] == pytest.approx(torch.linalg.vector_norm(g).item(), rel=2e-2)
        assert r['max'] == pytest.approx(g.max().item(), rel=2e-2, abs=1e-3), name
    view.close()


def crafted():
    """A module whose gradients the tests set by hand."""
    module = nbgrad.nn.Module()
    for name in ('ok', 'zero', 'huge', 'broken', 'unreached', 'frozen'):
        setattr(module, name, nbgrad.nn.Parameter(nbgrad.ones(2, 3)))
    module.frozen.requires_grad_(False)
    module.ok.grad = nbgrad.full((2, 3), 0.5)
    module.zero.grad = nbgrad.zeros(2, 3)
    module.huge.grad = nbgrad.full((2, 3), 1e4)
    module.broken.grad = nbgrad.tensor([[1.0, math.nan, 2.0], [math.inf, 3.0, 4.0]])
    return module


def test_flags_on_crafted_gradients():
    view = GradientView(crafted(), track=False).update()
    flags = {r['name']: r['flag'] for r in view.parameters}
    assert flags == {'ok': '', 'zero': 'vanishing', 'huge': 'exploding', 'broken': 'nan/inf',
                     'unreached': 'no grad', 'frozen': 'frozen'}
    broken = view.parameters[3]
    finite = np.array([1.0, 2.0, 3.0, 4.0])
    assert (broken['nan_count'], broken['inf_count']) == (1, 1)
    # NaN norms travel as JSON null; the statistics describe the finite elements
    assert broken['grad_norm'] is None and broken['ratio'] is None
    assert broken['mean'] == finite.mean() and broken['std'] == pytest.approx(finite.std(ddof=1))
    assert sum(broken['histogram']['counts']) == 4
    unreached = view.parameters[4]
    assert unreached['grad_norm'] is None and unreached['histogram'] == {'edges': [], 'counts': []}
    assert view.summary() == ('4 parameters flagged: zero vanishing, huge exploding, '
                              'broken nan/inf, unreached no grad')
    # thresholds are the constructor's: 0.5 * sqrt(6) = 1.22 is 'exploding' above 1
    strict = GradientView(crafted(), track=False, exploding_above=1.0, vanishing_below=0.0)
    assert {r['name']: r['flag'] for r in strict.update().parameters}['ok'] == 'exploding'
    assert {r['name']: r['flag'] for r in strict.parameters}['zero'] == ''
    assert strict.thresholds == {'vanishing_below': 0.0, 'exploding_above': 1.0}


def norms(model):
    return [float(np.linalg.norm(p.grad.numpy().astype(np.float64)))
            for p in model.parameters()]


def test_hooks_publish_one_step_per_backward_and_close_removes_them():
    model, _ = twin_mlps()
    view = GradientView(model, history_size=3)
    assert view.step == 0 and view.history == {}
    seen = []
    for seed in range(5):
        backward(model, *batch(seed))
        seen.append(norms(model))
        assert view.step == seed + 1
    # the history keeps the last 3 steps, each the norm of that step's gradient
    for i, (name, norms_of_name) in enumerate(view.history.items()):
        np.testing.assert_allclose(norms_of_name, [step[i] for step in seen[-3:]], rtol=1e-6)
    view.close()
    backward(model, *batch(7))
    model(nbgrad.zeros(1, 5))
    assert view.step == 5
    assert all(len(h) == 3 for h in view.history.values())


def test_context_manager_detaches():
    model, _ = twin_mlps()
    with GradientView(model) as view:
        backward(model, *batch())
    backward(model, *batch())
    assert view.step == 1


class PartlyUsed(nbgrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nbgrad.nn.Linear(3, 2)
        self.unused = nbgrad.nn.Linear(3, 2)

    def forward(self, x):
        return self.used(x)


def test_parameters_a_backward_does_not_reach():
    model = PartlyUsed()
    view = GradientView(model)
    loss = model(nbgrad.ones(4, 3)).sum()
    loss.backward(retain_graph=True)
    assert view.step == 0           # unused.* never get a gradient: the step is still open
    expected = norms(model.used)
    model.zero_grad()               # the view recorded used.* as their gradients arrived
    model(nbgrad.ones(1, 3))        # the next forward publishes the open step
    assert view.step == 1
    flags = {r['name']: r['flag'] for r in view.parameters}
    assert flags == {'used.weight': '', 'used.bias': '', 'unused.weight': 'no grad',
                     'unused.bias': 'no grad'}
    np.testing.assert_allclose([r['grad_norm'] for r in view.parameters[:2]], expected)
    # two backwards with no forward between: the second one closes the first step
    loss.backward(retain_graph=True)
    loss.backward()
    assert view.step == 2
    view.update()
    assert view.step == 3 and view.history['unused.weight'] == [None, None, None]
    view.close()


def test_text_and_html_fallbacks():
    assert (GradientView(nbgrad.nn.Linear(2, 2)).text().splitlines()[-1]
            == 'no gradients yet: call loss.backward()')
    view = GradientView(crafted(), track=False).update()
    lines = view.text().splitlines()
    assert lines[0] == 'GradientView: 6 parameters, step 1'
    assert lines[1].split() == ['name', 'shape', 'grad', 'norm', 'ratio', 'flag']
    assert lines[3].split() == ['ok', '(2,', '3)', '1.225', '0.5']
    assert lines[5].split() == ['huge', '(2,', '3)', '2.449e+04', '1e+04', 'exploding']
    assert lines[6].split() == ['broken', '(2,', '3)', 'nan', '-', 'nan/inf']
    assert lines[8].split() == ['frozen', '(2,', '3)', '-', '-', 'frozen']
    assert lines[-1] == view.summary()
    html = view.html()
    assert html.count('<tr style="color:#c44e52') == 3     # vanishing, exploding, nan/inf rows
    assert 'grad norm (log scale' in html and '<title>huge</title>' in html
    assert 'histograms of the first' not in html
    many = nbgrad.nn.Sequential(*[nbgrad.nn.Linear(2, 2) for _ in range(MAX_HISTOGRAMS)])
    assert (f'histograms of the first {MAX_HISTOGRAMS} of {2 * MAX_HISTOGRAMS} parameters'
            in GradientView(many, track=False).html())


def test_mimebundle(monkeypatch):
    view = GradientView(crafted(), track=False)
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html'}
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}
    assert bundle[WIDGET_VIEW_MIME]['model_id'] == view.model_id


@pytest.mark.parametrize('kwargs, error, match', [
    ({'model': nbgrad.ones(3)}, TypeError, 'expects an nn.Module, got Tensor'),
    ({'model': nbgrad.nn.ReLU()}, ValueError, 'has no parameters'),
    ({'bins': 0}, ValueError, 'bins must be a positive int'),
    ({'history_size': 2.5}, ValueError, 'history_size must be a positive int'),
    ({'vanishing_below': 10.0, 'exploding_above': 1.0}, ValueError, 'vanishing_below <'),
])
def test_bad_arguments(kwargs, error, match):
    model = nbgrad.nn.Linear(2, 2)
    kwargs = {'model': model, **kwargs}
    with pytest.raises(error, match=match):
        GradientView(**kwargs)
    # nothing was hooked before the error
    model(nbgrad.ones(1, 2)).sum().backward()
    assert len(model._forward_pre_hooks) == 0
