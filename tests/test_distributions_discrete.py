"""nbgrad.distributions' discrete families, mixtures and relaxed families against
torch.distributions: the same parameters give the same log_prob, entropy, moments, modes and
supports (batched and broadcast shapes, float32 and float64), the same float64 gradients (score
function / REINFORCE and the relaxed families' rsample), the same seeded samples, the same KL
divergences and the same validation errors; on CUDA (a fake CuPy without a GPU) the same results
as PyTorch's CPU ones."""
import warnings

import numpy as np
import pytest

import nbgrad
import nbgrad.distributions  # noqa: F401  (nbgrad.distributions as an attribute)
from torch_compare import assert_same, assert_same_error, both, compare_on_device

torch = pytest.importorskip('torch')
import torch.distributions  # noqa: E402,F401

_rng = np.random.default_rng(7)


def _unit(*shape):
    return _rng.uniform(0.05, 0.95, shape)


# fixed parameter values, shared by both libraries
P = {
    'p34': _unit(3, 4),
    'p4': _unit(4),
    'logits34': _rng.normal(0, 2, (3, 4)),
    'w35': _rng.uniform(0.1, 2.0, (3, 5)),
    'w235': _rng.uniform(0.1, 2.0, (2, 3, 5)),
    'w4': _rng.uniform(0.1, 2.0, (4,)),
    'logits35': _rng.normal(0, 1.5, (3, 5)),
    'rate34': _rng.uniform(0.2, 15.0, (3, 4)),
    'count31': _rng.integers(1, 12, (3, 1)).astype(float),
    'real_count31': _rng.uniform(0.5, 8.0, (3, 1)),
    'loc23': _rng.normal(0, 2, (2, 3)),
    'scale23': _rng.uniform(0.3, 2.0, (2, 3)),
    'loc232': _rng.normal(0, 2, (2, 3, 2)),
    'scale232': _rng.uniform(0.3, 2.0, (2, 3, 2)),
    'w3': _rng.uniform(0.1, 2.0, (3,)),
    'w23': _rng.uniform(0.1, 2.0, (2, 3)),
}
P['p34'][0, 0] = 0.5        # Bernoulli's mode is NaN there


def _t(lib, name_or_value, dtype, requires_grad=False, device=None):
    value = P[name_or_value] if isinstance(name_or_value, str) else name_or_value
    t = lib.tensor(np.asarray(value), dtype=getattr(lib, dtype), device=device)
    return t.requires_grad_() if requires_grad else t


def make(case, lib, dtype='float32', requires_grad=False, validate_args=None, device=None):
    """(distribution, [its tensor parameters]) for `case`, built by lib from the values in P
    (on `device`, by default the CPU)."""
    D = lib.distributions
    params = []

    def t(name):
        params.append(_t(lib, name, dtype, requires_grad, device))
        return params[-1]

    v = dict(validate_args=validate_args)
    if case == 'bernoulli_probs':
        d = D.Bernoulli(probs=t('p34'), **v)
    elif case == 'bernoulli_logits':
        d = D.Bernoulli(logits=t('logits34'), **v)
    elif case == 'bernoulli_number':
        d = D.Bernoulli(0.3, **v)       # (a Python number: float32 on the CPU)
    elif case == 'categorical_probs':
        d = D.Categorical(probs=t('w35'), **v)
    elif case == 'categorical_logits':
        d = D.Categorical(logits=t('w235'), **v)
    elif case == 'categorical_1d':
        d = D.Categorical(t('w4'), **v)
    elif case == 'onehot_probs':
        d = D.OneHotCategorical(probs=t('w35'), **v)
    elif case == 'onehot_logits':
        d = D.OneHotCategorical(logits=t('logits35'), **v)
    elif case == 'onehot_straight_through':
        d = D.OneHotCategoricalStraightThrough(logits=t('logits35'), **v)
    elif case == 'binomial_probs':
        d = D.Binomial(10, probs=t('p34'), **v)
    elif case == 'binomial_logits':
        d = D.Binomial(t('count31'), logits=t('p4'), **v)     # broadcast (3, 1) with (4,)
    elif case == 'multinomial_probs':
        d = D.Multinomial(7, probs=t('w35'), **v)
    elif case == 'multinomial_logits':
        d = D.Multinomial(4, logits=t('logits35'), **v)
    elif case == 'poisson':
        d = D.Poisson(t('rate34'), **v)
    elif case == 'poisson_number':
        d = D.Poisson(2.5, **v)
    elif case == 'geometric_probs':
        d = D.Geometric(probs=t('p34'), **v)
    elif case == 'geometric_logits':
        d = D.Geometric(logits=t('logits34'), **v)
    elif case == 'negative_binomial_probs':
        d = D.NegativeBinomial(t('real_count31'), probs=t('p4'), **v)
    elif case == 'negative_binomial_logits':
        d = D.NegativeBinomial(t('real_count31'), logits=t('logits34'), **v)
    elif case == 'mixture_normal':
        d = D.MixtureSameFamily(D.Categorical(t('w23')),
                                D.normal.Normal(t('loc23'), t('scale23')), **v)
    elif case == 'mixture_broadcast':       # one mixture for a batch of components
        d = D.MixtureSameFamily(D.Categorical(t('w3')),
                                D.normal.Normal(t('loc23'), t('scale23')), **v)
    elif case == 'mixture_independent':
        d = D.MixtureSameFamily(D.Categorical(t('w23')), D.Independent(
            D.normal.Normal(t('loc232'), t('scale232')), 1), **v)
    elif case == 'relaxed_bernoulli':
        d = D.RelaxedBernoulli(t(np.array(0.7)), probs=t('p34'), **v)
    elif case == 'logit_relaxed_bernoulli':
        d = D.relaxed_bernoulli.LogitRelaxedBernoulli(t(np.array(1.3)), logits=t('logits34'), **v)
    elif case == 'relaxed_onehot':
        d = D.RelaxedOneHotCategorical(t(np.array(0.6)), logits=t('logits35'), **v)
    elif case == 'exp_relaxed_categorical':
        d = D.relaxed_categorical.ExpRelaxedCategorical(t(np.array(2.0)), probs=t('w35'), **v)
    else:
        raise KeyError(case)
    return d, params


CASES = ['bernoulli_probs', 'bernoulli_logits', 'bernoulli_number', 'categorical_probs',
         'categorical_logits', 'categorical_1d', 'onehot_probs', 'onehot_logits',
         'onehot_straight_through', 'binomial_probs', 'binomial_logits', 'multinomial_probs',
         'multinomial_logits', 'poisson', 'poisson_number', 'geometric_probs', 'geometric_logits',
         'negative_binomial_probs', 'negative_binomial_logits', 'mixture_normal',
         'mixture_broadcast', 'mixture_independent', 'relaxed_bernoulli',
         'logit_relaxed_bernoulli', 'relaxed_onehot',
         'exp_relaxed_categorical']
PARAMETRISED = [c for c in CASES if not c.endswith('_number')]
DTYPES = ['float32', 'float64']


def tolerances(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-12)


def values(case, dtype, n=2):
    """Values in the support for log_prob: PyTorch's own samples (sample_shape (n,)), with
    parameters of the dtype."""
    torch.manual_seed(sum(map(ord, case)))
    # (PyTorch cannot sample a mixture whose Categorical has fewer batch dims than it)
    d, _ = make('mixture_normal' if case == 'mixture_broadcast' else case, torch, dtype)
    return (d.rsample if d.has_rsample else d.sample)((n,)).detach().numpy()


def as_value(lib, array):
    return lib.tensor(array)


# ---------------------------------------------------------------------------------------------
# Values: log_prob, entropy, moments, mode, shapes, enumerate_support
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', CASES)
def test_log_prob(case, dtype):
    value = values(case, dtype)
    both(lambda lib: make(case, lib, dtype)[0].log_prob(as_value(lib, value)),
         lambda g, e: assert_same(g, e, **tolerances(dtype)))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('prop', ['mean', 'mode', 'variance', 'stddev'])
def test_moments_and_mode(case, dtype, prop):
    both(lambda lib: getattr(make(case, lib, dtype)[0], prop),
         lambda g, e: assert_same(g, e, **tolerances(dtype)))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', CASES)
def test_entropy_and_perplexity(case, dtype):
    both(lambda lib: make(case, lib, dtype)[0].entropy(),
         lambda g, e: assert_same(g, e, **tolerances(dtype)))
    both(lambda lib: make(case, lib, dtype)[0].perplexity(),
         lambda g, e: assert_same(g, e, **tolerances(dtype)))


@pytest.mark.parametrize('case', CASES)
def test_shapes_and_flags(case):
    def shapes(lib):
        d = make(case, lib)[0]
        flags = (d.has_rsample, d.has_enumerate_support, type(d).__name__)
        param_shape = getattr(d, 'param_shape', None)
        return (d.batch_shape, d.event_shape, d.sample().shape, d.sample((2, 1)).shape,
                flags, param_shape)
    both(shapes)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('expand', [True, False])
@pytest.mark.parametrize('case', CASES)
def test_enumerate_support(case, dtype, expand):
    both(lambda lib: make(case, lib, dtype)[0].enumerate_support(expand))


def test_inhomogeneous_total_count_refused():
    for method in ('entropy', 'enumerate_support'):
        assert_same_error(lambda lib: getattr(make('binomial_logits', lib)[0], method)())


@pytest.mark.parametrize('case', PARAMETRISED)
def test_expand(case):
    def expanded(lib):
        d = make(case, lib, 'float64')[0]
        e = d.expand((2,) + tuple(d.batch_shape))
        value = as_value(lib, values(case, 'float64', n=2))
        return e.batch_shape, e.event_shape, e.log_prob(value), e.mean if case.startswith(
            ('bernoulli', 'binomial', 'poisson', 'geometric', 'negative', 'mixture')) else None
    both(expanded, lambda g, e: assert_same(g, e, **tolerances('float64')))


def test_lazy_probs_and_logits():
    """probs from logits and logits from probs, computed on first use, as PyTorch's."""
    for case in ('bernoulli_probs', 'bernoulli_logits', 'categorical_probs',
                 'categorical_logits', 'binomial_logits', 'geometric_logits',
                 'negative_binomial_probs', 'relaxed_bernoulli', 'relaxed_onehot'):
        both(lambda lib: (make(case, lib, 'float64')[0].probs,
                          make(case, lib, 'float64')[0].logits),
             lambda g, e: assert_same(g, e, **tolerances('float64')))


def test_mixture_cdf():
    x = np.linspace(-3, 3, 6).reshape(3, 1, 2)[..., :1] * np.ones((1, 2, 1))
    both(lambda lib: make('mixture_normal', lib, 'float64')[0].cdf(lib.tensor(x)),
         lambda g, e: assert_same(g, e, **tolerances('float64')))


def test_mixture_repr_and_support():
    both(lambda lib: (repr(make('mixture_normal', lib)[0]).replace('torch.', 'nbgrad.'),
                      make('mixture_normal', lib)[0].support.event_dim))


# ---------------------------------------------------------------------------------------------
# Gradients (float64): log_prob (the score function), REINFORCE, entropy, rsample
# ---------------------------------------------------------------------------------------------

def _grads(case, loss_fn, lib):
    d, params = make(case, lib, 'float64', requires_grad=True)
    loss = loss_fn(lib, d)
    grads = lib.autograd.grad(loss, params, allow_unused=True)
    return loss.detach(), tuple(grads)


def _assert_grads(got, expected):
    loss_g, grads_g = got
    loss_e, grads_e = expected
    assert_same(loss_g, loss_e, rtol=1e-10, atol=1e-12)
    assert len(grads_g) == len(grads_e)
    for i, (g, e) in enumerate(zip(grads_g, grads_e)):
        if e is None:
            assert g is None, f'grad {i}: PyTorch has none'
        else:
            assert_same(g, e, f'grad {i}', rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize('case', PARAMETRISED)
def test_log_prob_gradients(case):
    value = values(case, 'float64')

    def loss(lib, d):
        return d.log_prob(as_value(lib, value)).sum()
    _assert_grads(_grads(case, loss, nbgrad), _grads(case, loss, torch))


@pytest.mark.parametrize('case', [c for c in PARAMETRISED if not c.startswith(
    ('relaxed', 'logit_relaxed', 'exp_relaxed'))])
def test_reinforce_surrogate_gradients(case):
    """The score-function estimator: actions sampled (without gradient), a reward per action,
    loss -(log_prob(a) * reward).mean(); its gradients wrt the parameters equal PyTorch's."""
    actions = values(case, 'float64', n=5)
    torch.manual_seed(0)
    log_prob_shape = make(case, torch, 'float64')[0].log_prob(torch.tensor(actions)).shape
    reward = np.random.default_rng(1).normal(size=tuple(log_prob_shape))

    def loss(lib, d):
        return -(d.log_prob(lib.tensor(actions)) * lib.tensor(reward)).mean()
    _assert_grads(_grads(case, loss, nbgrad), _grads(case, loss, torch))


@pytest.mark.parametrize('case', [c for c in PARAMETRISED if not c.startswith(
    ('binomial_logits', 'relaxed', 'logit_relaxed', 'exp_relaxed', 'mixture', 'poisson',
     'negative_binomial'))])     # (the excluded ones have no entropy: test_entropy_and_perplexity)
def test_entropy_gradients(case):
    def loss(lib, d):
        return (d.entropy() * lib.linspace(0.5, 1.5, d.batch_shape.numel(),
                                           dtype=lib.float64).reshape(d.batch_shape)).sum()
    _assert_grads(_grads(case, loss, nbgrad), _grads(case, loss, torch))


@pytest.mark.parametrize('case', ['relaxed_bernoulli', 'logit_relaxed_bernoulli',
                                  'relaxed_onehot', 'exp_relaxed_categorical',
                                  'onehot_straight_through'])
def test_rsample_gradients(case):
    """Pathwise gradients: the same seed gives the same sample and the same gradients wrt
    temperature and probs/logits."""
    def loss(lib, d):
        lib.manual_seed(3)
        sample = d.rsample((4,))
        weights = lib.linspace(-1.0, 2.0, sample.numel(), dtype=lib.float64)
        return (sample.reshape(-1) * weights).sum() + (sample ** 2).sum()
    _assert_grads(_grads(case, loss, nbgrad), _grads(case, loss, torch))


# ---------------------------------------------------------------------------------------------
# Seeded samples: the same RNG calls as PyTorch, so the same numbers
# ---------------------------------------------------------------------------------------------

EXACT_SAMPLES = ['bernoulli_probs', 'bernoulli_logits', 'bernoulli_number', 'categorical_probs',
                 'categorical_logits', 'categorical_1d', 'onehot_probs', 'onehot_logits',
                 'binomial_probs', 'binomial_logits', 'multinomial_probs', 'multinomial_logits',
                 'poisson', 'poisson_number', 'geometric_probs', 'geometric_logits',
                 'negative_binomial_probs', 'negative_binomial_logits']


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', EXACT_SAMPLES)
def test_seeded_samples_equal_pytorchs(case, dtype):
    def draw(lib):
        lib.manual_seed(123)
        d = make(case, lib, dtype)[0]
        return d.sample(), d.sample((3, 2)), lib.rand(2, dtype=lib.float64)
    both(draw, lambda g, e: assert_same(g, e, rtol=0, atol=0))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('case', ['mixture_normal', 'mixture_independent', 'relaxed_bernoulli',
                                  'logit_relaxed_bernoulli', 'relaxed_onehot',
                                  'exp_relaxed_categorical', 'onehot_straight_through'])
def test_seeded_continuous_samples_equal_pytorchs(case, dtype):
    """Float samples through log/exp: equal up to an ulp or so."""
    def draw(lib):
        lib.manual_seed(321)
        d = make(case, lib, dtype)[0]
        return d.sample((5,)), (d.rsample((2,)) if d.has_rsample else d.sample((2,)))
    both(draw, lambda g, e: assert_same(g, e, rtol=2e-6 if dtype == 'float32' else 1e-13,
                                        atol=1e-7 if dtype == 'float32' else 1e-15))


def test_geometric_sample_with_probs_one():
    """p = 1 always succeeds at once: log(u) / log1p(-1) = -0.0, floor 0 (-0.0 in PyTorch)."""
    def draw(lib):
        lib.manual_seed(0)
        return lib.distributions.Geometric(lib.tensor([1.0, 0.5])).sample((3,))
    both(draw, lambda g, e: assert_same(g, e, bitwise=True))


# ---------------------------------------------------------------------------------------------
# KL divergences
# ---------------------------------------------------------------------------------------------

def _kl_pair(lib, kind, params=None):
    """(p, q) for a KL case, in float64; the tensors made are appended to `params`."""
    D = lib.distributions
    params = [] if params is None else params

    def t(a):
        params.append(lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True))
        return params[-1]
    if kind == 'bernoulli':
        return D.Bernoulli(t(P['p34'])), D.Bernoulli(logits=t(P['logits34']))
    if kind == 'bernoulli_edges':       # p or q at 0 or 1: zero and infinite terms
        return (D.Bernoulli(t([0.0, 1.0, 0.3, 0.0, 1.0])),
                D.Bernoulli(t([0.5, 0.5, 0.0, 0.0, 1.0])))
    if kind == 'binomial':
        return D.Binomial(t(P['count31'] + 2), t(P['p4'])), D.Binomial(t(P['count31']),
                                                                      logits=t(P['logits34']))
    if kind == 'binomial_q_larger':
        return D.Binomial(5, t(P['p4'])), D.Binomial(t([5.0, 6.0, 5.0, 5.0]),
                                                     t(P['p4'][::-1].copy()))
    if kind == 'categorical':
        return D.Categorical(t(P['w35'])), D.Categorical(logits=t(P['logits35']))
    if kind == 'categorical_zeros':
        return D.Categorical(t([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])), D.Categorical(
            t([[1.0, 0.0, 1.0], [1.0, 2.0, 3.0]]))
    if kind == 'onehot':
        return D.OneHotCategorical(t(P['w35'])), D.OneHotCategorical(logits=t(P['logits35']))
    if kind == 'geometric':
        return D.Geometric(t(P['p34'])), D.Geometric(logits=t(P['logits34']))
    if kind == 'poisson':
        return D.Poisson(t(P['rate34'])), D.Poisson(t(P['rate34'][::-1].copy()))
    if kind == 'bernoulli_poisson':
        return D.Bernoulli(t(P['p34'])), D.Poisson(t(P['rate34']))
    if kind == 'poisson_bernoulli':
        return D.Poisson(t(P['rate34'])), D.Bernoulli(t(P['p34']))
    if kind == 'poisson_binomial':
        return D.Poisson(t(P['rate34'])), D.Binomial(10, t(P['p34']))
    if kind == 'relaxed_bernoulli':      # TransformedDistribution pair: no closed form below
        return (D.RelaxedBernoulli(t(0.5), t(P['p4'])), D.RelaxedBernoulli(t(0.5), t(P['p4'])))
    if kind == 'categorical_bernoulli':
        return D.Categorical(t(P['w35'])), D.Bernoulli(t(P['p34']))
    raise KeyError(kind)


KL_KINDS = ['bernoulli', 'bernoulli_edges', 'binomial', 'binomial_q_larger', 'categorical',
            'categorical_zeros', 'onehot', 'geometric', 'poisson', 'bernoulli_poisson',
            'poisson_bernoulli', 'poisson_binomial', 'relaxed_bernoulli',
            'categorical_bernoulli']


@pytest.mark.parametrize('kind', KL_KINDS)
def test_kl_divergence(kind):
    def kl(lib):
        p, q = _kl_pair(lib, kind)
        return lib.distributions.kl_divergence(p, q)
    got = both(kl, lambda g, e: assert_same(g, e, rtol=1e-10, atol=1e-12))
    if got is not None and kind in ('bernoulli', 'binomial', 'categorical', 'geometric',
                                    'poisson', 'bernoulli_poisson'):
        def kl_grads(lib):
            params = []
            p, q = _kl_pair(lib, kind, params)
            out = lib.distributions.kl_divergence(p, q)
            return lib.autograd.grad(out.sum(), params)
        both(kl_grads, lambda g, e: assert_same(g, e, rtol=1e-9, atol=1e-11))


def test_kl_errors_match():
    for kind in ('binomial_q_larger', 'relaxed_bernoulli', 'categorical_bernoulli'):
        assert_same_error(lambda lib: lib.distributions.kl_divergence(*_kl_pair(lib, kind)))


# ---------------------------------------------------------------------------------------------
# Validation errors
# ---------------------------------------------------------------------------------------------

ERROR_CASES = {
    'bernoulli_probs_out_of_range': lambda lib: lib.distributions.Bernoulli(
        lib.tensor([0.2, 1.5]), validate_args=True),
    'bernoulli_probs_and_logits': lambda lib: lib.distributions.Bernoulli(
        lib.tensor([0.2]), lib.tensor([0.1])),
    'bernoulli_neither': lambda lib: lib.distributions.Bernoulli(),
    'bernoulli_value_outside_support': lambda lib: lib.distributions.Bernoulli(
        lib.tensor([0.2, 0.3]), validate_args=True).log_prob(lib.tensor([0.5, 1.0])),
    'bernoulli_value_not_tensor': lambda lib: lib.distributions.Bernoulli(
        lib.tensor([0.2]), validate_args=True).log_prob(1.0),
    'bernoulli_value_shape': lambda lib: lib.distributions.Bernoulli(
        lib.tensor([0.2, 0.3]), validate_args=True).log_prob(lib.tensor([1.0, 0.0, 1.0])),
    'bernoulli_bad_argument': lambda lib: lib.distributions.Bernoulli([0.2]),
    'categorical_not_simplex': lambda lib: lib.distributions.Categorical(
        lib.tensor([0.2, -0.3, 1.0]), validate_args=True),
    'categorical_zero_dim': lambda lib: lib.distributions.Categorical(lib.tensor(0.2)),
    'categorical_logits_zero_dim': lambda lib: lib.distributions.Categorical(
        logits=lib.tensor(0.2)),
    'categorical_value_too_big': lambda lib: lib.distributions.Categorical(
        lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor(2)),
    'onehot_value_not_onehot': lambda lib: lib.distributions.OneHotCategorical(
        lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor([1.0, 1.0])),
    'onehot_event_shape': lambda lib: lib.distributions.OneHotCategorical(
        lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor([1.0, 0.0, 0.0])),
    'binomial_negative_count': lambda lib: lib.distributions.Binomial(
        lib.tensor([-1.0, 2.0]), lib.tensor([0.2, 0.4]), validate_args=True),
    'binomial_fractional_count': lambda lib: lib.distributions.Binomial(
        lib.tensor([1.5]), lib.tensor([0.2]), validate_args=True),
    'binomial_value_above_count': lambda lib: lib.distributions.Binomial(
        3, lib.tensor([0.2]), validate_args=True).log_prob(lib.tensor([4.0])),
    'multinomial_tensor_count': lambda lib: lib.distributions.Multinomial(
        lib.tensor(3), lib.tensor([0.2, 0.8])),
    'multinomial_value_wrong_total': lambda lib: lib.distributions.Multinomial(
        3, lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor([3.0, 1.0])),
    'multinomial_sample_nan_probs': lambda lib: lib.distributions.Multinomial(
        3, lib.tensor([0.2, float('nan')]), validate_args=False).sample(),
    'poisson_negative_rate': lambda lib: lib.distributions.Poisson(
        lib.tensor([-1.0]), validate_args=True),
    'poisson_fractional_value': lambda lib: lib.distributions.Poisson(
        lib.tensor([1.0]), validate_args=True).log_prob(lib.tensor([0.5])),
    'geometric_zero_probs': lambda lib: lib.distributions.Geometric(
        lib.tensor([0.0, 0.5]), validate_args=True),
    'geometric_probs_above_one': lambda lib: lib.distributions.Geometric(
        lib.tensor([1.5]), validate_args=True),
    'negative_binomial_probs_one': lambda lib: lib.distributions.NegativeBinomial(
        2.0, lib.tensor([1.0]), validate_args=True),
    'negative_binomial_negative_count': lambda lib: lib.distributions.NegativeBinomial(
        lib.tensor([-2.0]), lib.tensor([0.5]), validate_args=True),
    'mixture_not_categorical': lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Bernoulli(lib.tensor([0.5])),
        lib.distributions.Poisson(lib.tensor([1.0]))),
    'mixture_component_not_distribution': lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.tensor([0.5, 0.5])), lib.tensor([1.0, 2.0])),
    'mixture_component_count': lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.tensor([0.5, 0.5])),
        lib.distributions.Poisson(lib.tensor([1.0, 2.0, 3.0]))),
    'mixture_batch_shapes': lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.ones(3, 2)),
        lib.distributions.Poisson(lib.ones(4, 2))),
    'mixture_value_outside_support': lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.ones(2)), lib.distributions.Poisson(lib.ones(2)),
        validate_args=True).log_prob(lib.tensor([-1.0])),
    'relaxed_bernoulli_probs': lambda lib: lib.distributions.RelaxedBernoulli(
        lib.tensor(0.5), lib.tensor([1.5]), validate_args=True),
    'relaxed_bernoulli_value': lambda lib: lib.distributions.RelaxedBernoulli(
        lib.tensor(0.5), lib.tensor([0.5]), validate_args=True).log_prob(lib.tensor([1.5])),
    'relaxed_onehot_probs': lambda lib: lib.distributions.RelaxedOneHotCategorical(
        lib.tensor(0.5), lib.tensor([0.5, -0.5]), validate_args=True),
    'relaxed_onehot_value': lambda lib: lib.distributions.RelaxedOneHotCategorical(
        lib.tensor(0.5), lib.tensor([0.5, 0.5]), validate_args=True).log_prob(
        lib.tensor([0.9, 0.9])),
    'subclass_with_init_but_no_expand': lambda lib: type(
        'Sub', (lib.distributions.Categorical,), {'__init__': lambda self: None})().expand((2,)),
}


@pytest.mark.parametrize('case', list(ERROR_CASES))
def test_validation_errors(case):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert_same_error(ERROR_CASES[case])


def test_valid_values_pass_validation():
    for lib in (torch, nbgrad):
        D = lib.distributions
        d = D.Binomial(4, lib.tensor([0.2, 0.7]), validate_args=True)
        assert d.log_prob(lib.tensor([0.0, 4.0])).shape == (2,)
        assert D.Geometric(lib.tensor([1.0]), validate_args=True).log_prob(
            lib.tensor([0.0])).item() == 0.0


# ---------------------------------------------------------------------------------------------
# CUDA (fake CuPy on machines without a GPU)
# ---------------------------------------------------------------------------------------------

CUDA_CASES = ['bernoulli_logits', 'categorical_logits', 'onehot_probs', 'binomial_probs',
              'multinomial_probs', 'poisson', 'geometric_probs', 'negative_binomial_logits',
              'mixture_normal', 'relaxed_bernoulli', 'relaxed_onehot']


def make_on(case, lib, dev, requires_grad=False):
    """make() in float64 with nbgrad's parameters created on `dev` (PyTorch's stay on the CPU)."""
    return make(case, lib, 'float64', requires_grad=requires_grad,
                device=dev if lib is nbgrad else None)


@pytest.mark.parametrize('case', CUDA_CASES)
def test_log_prob_entropy_and_gradients_on_device(case, device):
    value = values(case, 'float64')

    def run(lib, dev):
        d, params = make_on(case, lib, dev, requires_grad=True)
        log_prob = d.log_prob(lib.tensor(value, device=dev) if lib is nbgrad else
                              lib.tensor(value))
        grads = lib.autograd.grad(log_prob.sum(), params)
        try:
            entropy = d.entropy()
        except NotImplementedError:
            entropy = None
        return log_prob, entropy if entropy is None else entropy.detach(), grads, d.mean
    compare_on_device(run, device, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize('case', CUDA_CASES)
def test_samples_on_device(case, device):
    """Samples on the device: the right shape, dtype and device, inside the support; the CPU
    ones equal PyTorch's (test_seeded_samples_equal_pytorchs), the CUDA ones come from the
    device's generator, reproducibly."""
    def draw():
        nbgrad.manual_seed(9)
        d = make_on(case, nbgrad, device)[0]
        return d, (d.rsample if d.has_rsample else d.sample)((50,))
    d, sample = draw()
    expected = make(case, torch, 'float64')[0].sample((50,))
    assert sample.device.type == device
    assert tuple(sample.shape) == tuple(expected.shape)
    assert str(sample.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
    assert bool(d.support.check(sample).all())
    np.testing.assert_array_equal(draw()[1].detach().cpu().numpy(),
                                  sample.detach().cpu().numpy())


def test_sample_means_on_device(device):
    """A moment check of the device samplers: sample means within 5 standard errors."""
    nbgrad.manual_seed(4)
    n = 20000
    for case in ('bernoulli_logits', 'binomial_probs', 'poisson', 'geometric_probs',
                 'negative_binomial_logits', 'categorical_1d'):
        d = make_on(case, nbgrad, device)[0]
        reference = make(case, torch, 'float64')[0]
        samples = d.sample((n,)).double().cpu().numpy()
        if case == 'categorical_1d':
            mean = (reference.probs * torch.arange(4.0, dtype=torch.float64)).sum().numpy()
            var = (reference.probs * torch.arange(4.0, dtype=torch.float64) ** 2).sum().numpy() \
                - mean ** 2
        else:
            mean, var = reference.mean.numpy(), reference.variance.numpy()
        se = np.sqrt(var / n)
        assert np.all(np.abs(samples.mean(0) - mean) < 5 * se + 1e-12), case


@pytest.mark.parametrize('case', ['bernoulli_logits', 'categorical_probs', 'onehot_logits',
                                  'binomial_probs', 'multinomial_probs', 'negative_binomial_probs',
                                  'logit_relaxed_bernoulli', 'exp_relaxed_categorical'])
def test_new_tensors_like_the_parameter(case):
    """_new is Tensor.new on the given parameter: sizes give a tensor of that shape, data a
    tensor of those values, both of the parameter's dtype."""
    both(lambda lib: (make(case, lib, 'float64')[0]._new(2, 3).shape,
                      make(case, lib, 'float64')[0]._new(lib.Size([4])).dtype.is_floating_point,
                      make(case, lib, 'float64')[0]._new((2, 3)),
                      make(case, lib, 'float64')[0]._new([1.5])))
