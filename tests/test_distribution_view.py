"""DistributionView: sliders, seeded samples, histogram, density and statistics of every family in
nbgrad.distributions, checked against PyTorch's distributions and NumPy."""
import json
import math
import warnings

import numpy as np
import pytest
import torch

import nbgrad
from nbgrad import distributions as D
pytest.importorskip('ipywidgets')     # (the notebook extras; absent on the GPU machine)
from nbgrad.widgets._base import WIDGET_VIEW_MIME  # noqa: E402
from nbgrad.widgets.distribution_view import _DEFAULTS, DistributionView, family_names  # noqa: E402

ABSTRACT = ['Distribution', 'ExponentialFamily']

# every Distribution subclass nbgrad.distributions exports, found here (not by the widget), so a
# new family cannot be missed
EXPORTED = sorted(name for name in D.__all__
                  if isinstance(getattr(D, name), type) and issubclass(getattr(D, name),
                                                                       D.Distribution))
FAMILIES = [name for name in EXPORTED if name not in ABSTRACT]

# families built from numbers and tensors (not from other distributions): PyTorch builds them
# from the same arguments
WRAPPERS = ['Independent', 'MixtureSameFamily', 'TransformedDistribution']
PLAIN = [name for name in FAMILIES if name not in WRAPPERS]

# samplers that give PyTorch's float32 numbers bit for bit; the others compute the same
# transform of the same uniforms in another order (rounding differences only)
BIT_EXACT = ['Bernoulli', 'Beta', 'Binomial', 'Categorical', 'Cauchy', 'Chi2', 'Dirichlet',
             'Exponential', 'FisherSnedecor', 'Gamma', 'Geometric', 'HalfCauchy', 'HalfNormal',
             'LowRankMultivariateNormal', 'Multinomial', 'MultivariateNormal',
             'NegativeBinomial', 'Normal', 'OneHotCategorical', 'OneHotCategoricalStraightThrough',
             'Poisson', 'StudentT', 'Uniform', 'VonMises']


def torch_twin(name, **overrides):
    """PyTorch's distribution built from the view's default arguments, with overrides."""
    def to_torch(value):
        value = value() if callable(value) else value
        if isinstance(value, nbgrad.Tensor):
            return torch.tensor(value.tolist())
        return torch.tensor(value) if isinstance(value, list) else value
    kwargs = {**_DEFAULTS[name], **overrides}
    return getattr(torch.distributions, name)(**{k: to_torch(v) for k, v in kwargs.items()})


def torch_samples(dist, n, seed):
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # Wishart's "Singular sample detected."
        return dist.sample((n,)).numpy()


def component(tensor, view):
    """The entry of a batch_shape + event_shape tensor the view shows."""
    index = tuple(view.marginal['index']) if view.marginal else ()
    return tensor[index].item()


def expected_statistic(dist, name):
    try:
        return dist.entropy() if name == 'entropy' else getattr(dist, name)
    except NotImplementedError:
        return None


def assert_statistic(shown, expected):
    if expected is None:
        assert shown is None
    elif math.isnan(expected):
        assert shown == 'nan'
    elif math.isinf(expected):
        assert shown == ('inf' if expected > 0 else '-inf')
    else:
        assert shown == pytest.approx(expected, rel=1e-5, abs=1e-6)


# -- every family ------------------------------------------------------------------------------

def test_family_list_is_every_exported_family():
    assert family_names() == FAMILIES
    assert len(FAMILIES) > 35


@pytest.mark.parametrize('name', FAMILIES)
def test_every_family_builds(name):
    with warnings.catch_warnings():
        warnings.simplefilter('error')      # a sampler warning must become a note, not stderr
        view = DistributionView(name, n=300)
    assert view.family == name and view.error == ''
    assert sum(view.histogram['counts']) + view.histogram['outside'] \
        + view.histogram['nonfinite'] == 300
    assert set(view.stats) == {'mean', 'variance', 'stddev', 'entropy', 'sample_mean',
                               'sample_var'}
    dist = view.distribution
    if dist.batch_shape or dist.event_shape:
        assert view.marginal['shape'] == list(dist.batch_shape + dist.event_shape)
        assert 'marginal of component' in view.text()
    else:
        assert view.marginal is None
    if not dist.event_shape:
        assert view.density, 'a univariate family draws its density'
    bundle = view._repr_mimebundle_()
    assert name in bundle['text/plain'] and '<svg' in bundle['text/html']
    json.dumps(view.get_state(), allow_nan=False)     # the synced data is plain JSON


@pytest.mark.parametrize('name', ABSTRACT)
def test_abstract_bases_are_refused(name):
    with pytest.raises(ValueError, match='abstract base class'):
        DistributionView(name)
    with pytest.raises(ValueError, match='abstract base class'):
        DistributionView(getattr(D, name))


# -- against PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', PLAIN)
def test_samples_are_pytorchs_under_the_same_seed(name):
    view = DistributionView(name, n=400, seed=11)
    expected = torch_samples(torch_twin(name), 400, 11)
    shown = view.samples.numpy()
    if name in BIT_EXACT:
        np.testing.assert_array_equal(shown, expected)
    elif name == 'Kumaraswamy':
        # (1 - u**(1/b))**(1/a) loses digits near 0 in float32 (relative 2e-4 seen at 0.0126)
        np.testing.assert_allclose(shown, expected, rtol=5e-4, atol=1e-6)
    else:
        np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-6)
    column = view.samples.numpy().reshape(400, -1)
    np.testing.assert_array_equal(view.marginal_samples,
                                  column[:, np.ravel_multi_index(view.marginal['index'],
                                                                 view.marginal['shape'])]
                                  if view.marginal else column[:, 0])


@pytest.mark.parametrize('name', PLAIN)
def test_statistics_are_pytorchs(name):
    view = DistributionView(name, n=300)
    twin = torch_twin(name)
    for stat in ('mean', 'variance', 'stddev'):
        expected = expected_statistic(twin, stat)
        assert_statistic(view.stats[stat], None if expected is None
                         else component(expected, view))
    entropy = expected_statistic(twin, 'entropy')
    if entropy is not None:
        # the entropy of the whole event for a multivariate family (one number per batch entry)
        entropy = entropy.reshape(-1)[0].item()
    assert_statistic(view.stats['entropy'], entropy)
    x = view.marginal_samples.astype(np.float64)
    assert view.stats['sample_mean'] == pytest.approx(float(torch.tensor(x).mean()), rel=1e-9)
    assert view.stats['sample_var'] == pytest.approx(float(torch.tensor(x).var()), rel=1e-9)


@pytest.mark.parametrize('name', [n for n in PLAIN if not torch_twin(n).event_shape])
def test_density_is_pytorchs_log_prob(name):
    view = DistributionView(name, n=300)
    twin = torch_twin(name)
    x = torch.tensor([x for x, _ in view.density], dtype=torch.float32)
    expected = twin.log_prob(x).exp().numpy()
    np.testing.assert_allclose([p for _, p in view.density], expected, rtol=2e-5, atol=1e-7)
    if view.discrete:
        # the pmf at every integer shown that PyTorch gives a finite probability
        assert [k for k, _ in view.density] == view.histogram['support']


def test_density_of_a_batched_instance_is_the_components():
    dist = D.Normal(nbgrad.tensor([0.0, 3.0]), nbgrad.tensor([1.0, 0.5]))
    view = DistributionView(dist, n=500, seed=2)
    assert view.marginal == {'index': [0], 'shape': [2], 'entropy': 'marginal'}
    x = torch.tensor([x for x, _ in view.density])
    np.testing.assert_allclose([p for _, p in view.density],
                               torch.distributions.Normal(0.0, 1.0).log_prob(x).exp().numpy(),
                               rtol=1e-5)
    twin = torch.distributions.Normal(torch.tensor([0.0, 3.0]), torch.tensor([1.0, 0.5]))
    assert view.stats['entropy'] == pytest.approx(twin.entropy()[0].item())
    np.testing.assert_array_equal(view.marginal_samples, torch_samples(twin, 500, 2)[:, 0])


def test_a_constant_component_is_skipped():
    # every sample of LKJCholesky has L[0, 0] == 1: the view shows L[1, 0]
    view = DistributionView('LKJCholesky', n=200)
    assert view.marginal['index'] == [1, 0]
    torch.manual_seed(0)
    expected = torch.distributions.LKJCholesky(3, 1.0).sample((200,))[:, 1, 0].numpy()
    np.testing.assert_allclose(view.marginal_samples, expected, rtol=1e-5, atol=1e-6)


# -- histogram -----------------------------------------------------------------------------------

def test_continuous_histogram_counts():
    view = DistributionView(D.Normal(0.0, 1.0), n=2000, seed=4, bins=25)
    h = view.histogram
    x = view.marginal_samples
    assert len(h['edges']) == 26 and h['edges'] == sorted(h['edges'])
    # a normal sample is not cut: the edges are its extremes
    assert (h['edges'][0], h['edges'][-1]) == (pytest.approx(x.min()), pytest.approx(x.max()))
    counts, _ = np.histogram(x, bins=np.array(h['edges']))
    assert h['counts'] == counts.tolist()
    # by hand: half-open bins, the last one closed
    edges = np.array(h['edges'])
    by_hand = [int(((x >= a) & (x < b)).sum()) for a, b in zip(edges[:-2], edges[1:-1])]
    by_hand.append(int(((x >= edges[-2]) & (x <= edges[-1])).sum()))
    assert h['counts'] == by_hand and h['outside'] == 0 and sum(by_hand) == 2000


def test_heavy_tails_are_cut_and_counted():
    view = DistributionView('Cauchy', n=2000, seed=1)
    h, x = view.histogram, view.marginal_samples
    q1, q3 = np.quantile(x.astype(np.float64), [0.25, 0.75])
    assert h['edges'][0] == pytest.approx(q1 - 5 * (q3 - q1))
    assert h['edges'][-1] == pytest.approx(q3 + 5 * (q3 - q1))
    inside = ((x >= h['edges'][0]) & (x <= h['edges'][-1])).sum()
    assert h['outside'] == 2000 - inside > 0
    assert '2000 samples (seed 1)' in view.text() and f'{h["outside"]} outside' in view.text()


def test_discrete_histogram_counts():
    view = DistributionView('Binomial', n=1000, seed=3)
    h, x = view.histogram, view.marginal_samples
    assert view.discrete
    assert h['support'] == list(range(int(x.min()), int(x.max()) + 1))
    assert h['counts'] == np.bincount(x.astype(np.int64))[int(x.min()):].tolist()
    # the pmf points: PyTorch's Binomial(10, 0.3) at the same integers
    pmf = torch.distributions.Binomial(10, probs=0.3).log_prob(
        torch.tensor(h['support'], dtype=torch.float32)).exp()
    np.testing.assert_allclose([p for _, p in view.density], pmf.numpy(), rtol=1e-5)


# -- seeding and the global generator ---------------------------------------------------------

def test_the_global_generator_is_not_disturbed():
    nbgrad.manual_seed(123)
    nbgrad.rand(3)
    before = nbgrad.get_rng_state().numpy().tobytes()
    view = DistributionView('Gamma', n=500, seed=9)
    view.values = {'rate': 2.0}
    view.seed = 10
    assert nbgrad.get_rng_state().numpy().tobytes() == before
    assert nbgrad.initial_seed() == 123
    # and the user's stream goes on with PyTorch's numbers
    torch.manual_seed(123)
    torch.rand(3)
    np.testing.assert_array_equal(nbgrad.rand(4).numpy(), torch.rand(4).numpy())


def test_same_seed_same_view():
    a = DistributionView('Poisson', n=300, seed=5)
    b = DistributionView('Poisson', n=300, seed=5)
    c = DistributionView('Poisson', n=300, seed=6)
    assert a.histogram == b.histogram and a.text() == b.text()
    assert not np.array_equal(a.samples.numpy(), c.samples.numpy())


# -- sliders -------------------------------------------------------------------------------------

def test_parameters_and_slider_ranges():
    view = DistributionView('StudentT')
    assert view.parameters == [
        {'name': 'df', 'kind': 'real', 'value': 4.0, 'min': 0.01, 'max': 10.0, 'step': 0.01},
        {'name': 'loc', 'kind': 'real', 'value': 0.0, 'min': -5.0, 'max': 5.0, 'step': 0.01},
        {'name': 'scale', 'kind': 'real', 'value': 1.0, 'min': 0.01, 'max': 10.0,
         'step': 0.01}]
    assert view.values == {'df': 4.0, 'loc': 0.0, 'scale': 1.0}
    binomial = {p['name']: p for p in DistributionView('Binomial').parameters}
    assert binomial['total_count'] == {'name': 'total_count', 'kind': 'integer', 'value': 10,
                                       'min': 0, 'max': 50, 'step': 1}
    assert binomial['probs']['min'] == 0.0 and binomial['probs']['max'] == 1.0
    # vectors and matrices are shown, not slid
    mvn = {p['name']: p for p in DistributionView('MultivariateNormal').parameters}
    assert mvn['covariance_matrix']['kind'] == 'fixed'
    assert mvn['covariance_matrix']['value'] == '[[1.0, 0.5], [0.5, 2.0]]'
    # a slider range stretches to hold a value beyond the default range
    wide = {p['name']: p for p in DistributionView('Normal', loc=20.0).parameters}
    assert wide['loc']['max'] == 20.0


def test_logits_given_logits_slid():
    view = DistributionView(D.Bernoulli(logits=nbgrad.tensor(0.5)))
    assert [p['name'] for p in view.parameters] == ['logits']
    assert view.parameters[0]['min'] == -5.0
    view.values = {'logits': -1.0}
    assert view.distribution.probs.item() == pytest.approx(torch.sigmoid(torch.tensor(-1.)).item())


def test_setting_values_resamples():
    view = DistributionView('Normal', n=500, seed=3)
    view.values = {'loc': 2.0, 'scale': 0.5}
    assert view.error == ''
    twin = torch.distributions.Normal(2.0, 0.5)
    np.testing.assert_array_equal(view.samples.numpy(), torch_samples(twin, 500, 3))
    assert view.stats['mean'] == 2.0 and view.stats['variance'] == 0.25
    assert view.description == 'Normal(loc: 2.0, scale: 0.5)'
    # a partial dict is merged into the other sliders
    view.values = {'loc': -1.0}
    assert view.values == {'loc': -1.0, 'scale': 0.5}
    np.testing.assert_array_equal(view.samples.numpy(),
                                  torch_samples(torch.distributions.Normal(-1.0, 0.5), 500, 3))
    view.update(scale=2.0)
    assert view.values == {'loc': -1.0, 'scale': 2.0} and view.stats['stddev'] == 2.0


def test_integer_slider():
    view = DistributionView('Binomial', n=400, seed=8)
    view.values = {'total_count': 20.0}         # a JavaScript slider sends a float
    assert view.error == '' and view.values['total_count'] == 20
    twin = torch.distributions.Binomial(20, probs=0.3)
    np.testing.assert_array_equal(view.samples.numpy(), torch_samples(twin, 400, 8))
    view.values = {'total_count': 2.5}
    assert 'total_count must be an integer' in view.error and view.values['total_count'] == 20


def test_invalid_value_keeps_the_last_good_state():
    view = DistributionView('Uniform', n=300)
    histogram, samples, text = view.histogram, view.samples.numpy().copy(), view.text()
    view.values = {'low': 3.0}                      # above high = 1
    assert view.error.startswith('values: Expected parameter low')
    assert view.values == {'low': 0.0, 'high': 1.0}
    assert view.histogram == histogram
    np.testing.assert_array_equal(view.samples.numpy(), samples)
    assert 'error: values: Expected parameter low' in view.text()
    assert 'error: values' in view.html()
    view.values = {'nope': 1.0}
    assert "no slider 'nope'" in view.error
    view.values = {'high': 'x'}
    assert 'high must be a number' in view.error
    view.values = {'high': 2.0}
    assert view.error == '' and 'error' not in view.text()
    assert view.text() != text
    with pytest.raises(ValueError, match='Expected parameter low .* high: -4.0'):
        view.update(high=-4.0)
    assert view.values == {'low': 0.0, 'high': 2.0}


def test_n_seed_and_bins_resample():
    view = DistributionView('Exponential', n=100, seed=0, bins=10)
    view.n = 250
    assert view.samples.shape == (250,)
    view.seed = 42
    np.testing.assert_array_equal(
        view.samples.numpy(), torch_samples(torch.distributions.Exponential(1.0), 250, 42))
    view.bins = 7
    assert len(view.histogram['counts']) == 7
    view.n = 0
    assert view.n == 250 and 'n must be an integer in [1, 1000000]' in view.error


def test_a_family_without_sliders():
    view = DistributionView('MixtureSameFamily', n=300, seed=1)
    assert view.values == {} and {p['kind'] for p in view.parameters} == {'fixed'}
    assert view.stats['entropy'] is None            # PyTorch has no closed form either
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=torch.tensor([0.3, 0.7])),
        torch.distributions.Normal(torch.tensor([-2.0, 1.5]), torch.tensor([0.7, 1.0])))
    assert view.stats['mean'] == pytest.approx(mix.mean.item())
    np.testing.assert_array_equal(view.samples.numpy(), torch_samples(mix, 300, 1))
    view.values = {'loc': 1.0}
    assert 'no slider parameters' in view.error


# -- construction errors ---------------------------------------------------------------------------

def test_construction_errors():
    with pytest.raises(ValueError, match="'Norma' is not a family.*Normal"):
        DistributionView('Norma')
    with pytest.raises(TypeError, match='got int'):
        DistributionView(3)
    with pytest.raises(TypeError, match="Normal has no parameter 'mean'"):
        DistributionView('Normal', mean=1.0)
    with pytest.raises(ValueError, match=r'n must be an integer in \[1, 1000000\]'):
        DistributionView('Normal', n=0)
    with pytest.raises(ValueError, match='bins must be an integer'):
        DistributionView('Normal', bins=2.5)
    with pytest.raises(ValueError, match='Expected parameter scale'):
        DistributionView('Normal', scale=-1.0)
    with pytest.raises(TypeError, match="Normal has no parameter 'rate'"):
        DistributionView(D.Normal(0.0, 1.0), rate=2.0)


def test_instance_with_overrides():
    view = DistributionView(D.Gamma(2.0, 1.0), rate=4.0)
    assert view.values == {'concentration': 2.0, 'rate': 4.0}
    assert view.stats['mean'] == pytest.approx(0.5)


# -- fallbacks -----------------------------------------------------------------------------------

def test_static_and_live_bundles(monkeypatch):
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    view = DistributionView('Normal', n=500)
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html'}
    monkeypatch.setenv('NBGRAD_WIDGETS', 'live')
    assert set(view._repr_mimebundle_()) == {'text/plain', 'text/html', WIDGET_VIEW_MIME}


def test_text_and_html_readouts():
    view = DistributionView('Gamma', n=1000, seed=0)
    text = view.text()
    assert text.startswith('DistributionView: Gamma(concentration: 2.0, rate: 1.0)')
    mean_line = next(line for line in text.splitlines() if line.startswith('mean'))
    assert mean_line.split()[1] == '2' and float(mean_line.split()[2]) == pytest.approx(
        view.marginal_samples.mean(), rel=1e-3)
    assert 'entropy    1.577' in text
    html = view.html()
    assert html.count('<svg') == 1 and '<polyline' in html       # histogram + density curve
    assert '<table' in html and 'concentration' in html
    discrete = DistributionView('Poisson', n=500).html()
    assert '<circle' in discrete                                  # the pmf as points
    # the same data draws the same bytes (nbval compares outputs)
    assert DistributionView('Gamma', n=1000, seed=0).html() == html


def test_multivariate_notes_and_sampler_warnings():
    view = DistributionView('Wishart', n=500)
    assert view.density == []
    assert 'note: no marginal density for a multivariate family: samples only' in view.text()
    # PyTorch warns the same on the same draws
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.manual_seed(0)
        torch_twin('Wishart').sample((500,))
    if any('Singular sample' in str(w.message) for w in caught):
        assert 'sampler warning: Singular sample detected.' in view.notes


def test_stats_json_safe():
    view = DistributionView('Cauchy', n=200)
    assert view.stats['mean'] == 'nan' and view.stats['variance'] == 'inf'
    json.dumps(view.get_state(), allow_nan=False)     # what the front end receives


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(),
                    reason='no CUDA device (CuPy + NVIDIA GPU, or NBGRAD_FAKE_CUDA=1)')
def test_a_distribution_on_the_gpu_draws_from_its_generator():
    nbgrad.manual_seed(1)
    nbgrad.rand(3, device='cuda')
    gpu_state = nbgrad.cuda.get_rng_state(0).numpy().tobytes()
    dist = D.Normal(nbgrad.tensor(0.0, device='cuda'), nbgrad.tensor(1.0, device='cuda'))
    view = DistributionView(dist, n=100, seed=4)
    assert view.samples.device.type == 'cuda'
    assert nbgrad.cuda.get_rng_state(0).numpy().tobytes() == gpu_state
    nbgrad.cuda.manual_seed(4)
    np.testing.assert_array_equal(view.samples.cpu().numpy(), dist.sample((100,)).cpu().numpy())


def test_a_bfloat16_distribution_shows_pytorchs_samples_and_density():
    """bfloat16 parameters: the samples (read through float32, as numpy() refuses bfloat16)
    are PyTorch's under the same seed, and the density is PyTorch's log_prob."""
    loc, scale = 0.5, 2.0
    view = DistributionView(D.Normal(nbgrad.tensor(loc).bfloat16(),
                                     nbgrad.tensor(scale).bfloat16()), n=400, seed=11)
    reference = torch.distributions.Normal(torch.tensor(loc).bfloat16(),
                                           torch.tensor(scale).bfloat16())
    torch.manual_seed(11)
    expected = reference.sample((400,)).float().numpy()
    np.testing.assert_array_equal(view.samples.float().numpy(), expected)
    for x, density in view.density[::20]:
        value = reference.log_prob(torch.tensor(x).bfloat16()).exp().float().item()
        assert density == pytest.approx(value, rel=2e-2)
