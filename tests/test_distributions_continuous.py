"""The continuous families of nbgrad.distributions against torch.distributions: moments, entropy,
log_prob / cdf / icdf, gradients, seeded samples (PyTorch's numbers), KL divergences, argument
validation errors, and a few runs on CUDA tensors."""
import math

import numpy as np
import pytest

import nbgrad
import nbgrad.distributions  # noqa: F401  (nbgrad does not import it by itself yet)
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')

rng = np.random.default_rng


def _pos(r, *shape, low=0.2, high=3.0):
    return r.uniform(low, high, size=shape)


def _spd(r, *shape):
    """Random symmetric positive definite matrices of shape shape + (n, n)."""
    a = r.normal(size=shape + (shape[-1],))
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _simplex(r, *shape):
    x = r.uniform(0.05, 1.0, size=shape)
    return x / x.sum(-1, keepdims=True)


# Each case: the family's name, its parameters (NumPy arrays, or numbers), a valid value
# (with a leading sample dim), probabilities for icdf, and the names of the parameters to
# differentiate. Parameter shapes differ so that broadcasting is exercised.
def _cases():
    r = rng(0)
    u = r.uniform(0.02, 0.98, size=(2, 3, 4))
    cases = {
        'Normal': (dict(loc=r.normal(size=(3, 1)), scale=_pos(r, 4)), r.normal(size=(2, 3, 4))),
        'Normal-numbers': (dict(loc=0.5, scale=2.0), r.normal(size=(5,))),
        'Uniform': (dict(low=r.uniform(-3, -1, size=(3, 4)), high=r.uniform(4, 6, size=(4,))),
                    r.uniform(1.0, 3.0, size=(2, 3, 4))),
        'Exponential': (dict(rate=_pos(r, 3, 4)), _pos(r, 2, 3, 4)),
        'Laplace': (dict(loc=r.normal(size=(3, 4)), scale=_pos(r, 3, 1)), r.normal(size=(2, 3, 4))),
        'Cauchy': (dict(loc=r.normal(size=(4,)), scale=_pos(r, 3, 4)), r.normal(size=(2, 3, 4))),
        'Gamma': (dict(concentration=_pos(r, 3, 1, low=0.3, high=5), rate=_pos(r, 4)),
                  _pos(r, 2, 3, 4)),
        'Chi2': (dict(df=_pos(r, 3, 4, low=0.5, high=8)), _pos(r, 2, 3, 4)),
        'Beta': (dict(concentration1=_pos(r, 3, 4, low=0.3, high=5),
                      concentration0=_pos(r, 4, low=0.3, high=5)), u),
        'Dirichlet': (dict(concentration=_pos(r, 3, 4, low=0.3, high=5)), _simplex(r, 2, 3, 4)),
        # all concentrations below 1 in a row: the mode is a vertex
        'Dirichlet-sparse': (dict(concentration=np.array([[0.3, 0.5, 0.2], [2.0, 0.5, 3.0]])),
                             _simplex(r, 2, 2, 3)),
        'StudentT': (dict(df=_pos(r, 3, 4, low=0.5, high=6), loc=r.normal(size=(4,)),
                          scale=_pos(r, 3, 1)), r.normal(size=(2, 3, 4))),
        'VonMises': (dict(loc=r.normal(size=(3, 4)),
                          concentration=np.array([0.1, 1.0, 3.0, 10.0]) * np.ones((3, 1))),
                     r.uniform(-5, 5, size=(2, 3, 4))),
        'ContinuousBernoulli': (dict(probs=np.array([0.1, 0.4995, 0.5005, 0.8]) * np.ones((3, 1))),
                                u),
        # (logits away from 0: just outside lims the closed forms cancel catastrophically, and
        # float32 results there depend on the last bits of log1p)
        'ContinuousBernoulli-logits': (dict(logits=r.choice([-1, 1], size=(3, 4))
                                            * r.uniform(0.3, 3, size=(3, 4))), u),
        'MultivariateNormal-cov': (dict(loc=r.normal(size=(2, 3)), covariance_matrix=_spd(r, 3)),
                                   r.normal(size=(4, 2, 3))),
        'MultivariateNormal-prec': (dict(loc=r.normal(size=(3,)),
                                         precision_matrix=_spd(r, 2, 3)),
                                    r.normal(size=(4, 2, 3))),
        'MultivariateNormal-tril': (dict(loc=r.normal(size=(2, 1, 3)),
                                         scale_tril=np.linalg.cholesky(_spd(r, 4, 3))),
                                    r.normal(size=(5, 2, 4, 3))),
        'LowRankMultivariateNormal': (dict(loc=r.normal(size=(2, 3)),
                                           cov_factor=r.normal(size=(2, 3, 2)),
                                           cov_diag=_pos(r, 3)), r.normal(size=(4, 2, 3))),
    }
    return {name: (params, value, u) for name, (params, value) in cases.items()}


CASES = _cases()
DTYPES = ['float64', 'float32']


def _family(name):
    return name.split('-')[0]


def _build(lib, name, params, dtype='float64', requires_grad=False):
    """The distribution `name` of library lib with `params` as lib tensors (numbers stay
    numbers), plus the dict of those tensors."""
    tensors = {}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            value = lib.tensor(value.astype(dtype), requires_grad=requires_grad)
        tensors[key] = value
    dist = getattr(lib.distributions, _family(name))(**tensors)
    return dist, tensors


def _tensor(lib, array, dtype):
    return lib.tensor(np.asarray(array).astype(dtype))


def _outcome(fn):
    """fn()'s value as NumPy (or a number, a shape), or the kind of exception it raised."""
    try:
        value = fn()
    except (NotImplementedError, ValueError, RuntimeError, AttributeError) as e:
        return type(e)
    if hasattr(value, 'detach'):
        return value.detach().numpy(), str(value.dtype).rsplit('.', 1)[-1]
    return value


def _assert_outcomes_equal(got, expected, rtol, atol, where):
    if isinstance(expected, type):
        assert got is expected or (isinstance(got, type) and issubclass(got, expected)), \
            f'{where}: nbgrad gave {got!r}, PyTorch raised {expected.__name__}'
        return
    assert not isinstance(got, type), f'{where}: nbgrad raised {got.__name__}'
    if isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[0],
                                                                          np.ndarray):
        assert got[1] == expected[1], f'{where}: dtype {got[1]} != {expected[1]}'
        assert got[0].shape == expected[0].shape, f'{where}: shape {got[0].shape}'
        np.testing.assert_allclose(got[0], expected[0], rtol=rtol, atol=atol, err_msg=where)
    else:
        assert tuple(got) == tuple(expected), where


QUANTITIES = {
    'batch_shape': lambda d, lib, v, u: tuple(d.batch_shape),
    'event_shape': lambda d, lib, v, u: tuple(d.event_shape),
    'mean': lambda d, lib, v, u: d.mean,
    'mode': lambda d, lib, v, u: d.mode,
    'variance': lambda d, lib, v, u: d.variance,
    'stddev': lambda d, lib, v, u: d.stddev,
    'entropy': lambda d, lib, v, u: d.entropy(),
    'log_prob': lambda d, lib, v, u: d.log_prob(v),
    'cdf': lambda d, lib, v, u: d.cdf(v),
    'icdf': lambda d, lib, v, u: d.icdf(u),
    'perplexity': lambda d, lib, v, u: d.perplexity(),
    # the multivariate normals' matrices (AttributeError for the other families)
    'covariance_matrix': lambda d, lib, v, u: d.covariance_matrix,
    'precision_matrix': lambda d, lib, v, u: d.precision_matrix,
    'scale_tril': lambda d, lib, v, u: d.scale_tril,
}


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', list(CASES))
def test_values_equal_pytorch(name, dtype):
    params, value, u = CASES[name]
    rtol, atol = (1e-10, 1e-12) if dtype == 'float64' else (2e-5, 2e-6)
    dists = {lib: _build(lib, name, params, dtype)[0] for lib in (torch, nbgrad)}
    for what, fn in QUANTITIES.items():
        outcomes = {lib: _outcome(lambda: fn(dists[lib], lib, _tensor(lib, value, dtype),
                                             _tensor(lib, u, dtype))) for lib in dists}
        _assert_outcomes_equal(outcomes[nbgrad], outcomes[torch], rtol, atol, f'{name}.{what}')


@pytest.mark.parametrize('name', list(CASES))
def test_expand_equals_pytorch(name):
    params, value, u = CASES[name]
    results = []
    for lib in (torch, nbgrad):
        dist = _build(lib, name, params)[0]
        expanded = dist.expand((2,) + tuple(dist.batch_shape))
        results.append((type(expanded).__name__, tuple(expanded.batch_shape),
                        tuple(expanded.event_shape),
                        expanded.log_prob(_tensor(lib, value[0], 'float64')).detach().numpy()))
    assert results[1][:3] == results[0][:3]
    np.testing.assert_allclose(results[1][3], results[0][3], rtol=1e-10)


def _differentiable(name, params):
    return [k for k, v in params.items() if isinstance(v, np.ndarray)]


@pytest.mark.parametrize('name', list(CASES))
def test_log_prob_and_entropy_gradients_equal_pytorch(name):
    params, value, u = CASES[name]
    if not _differentiable(name, params):
        pytest.skip('no tensor parameters')
    grads = []
    for lib in (torch, nbgrad):
        dist, tensors = _build(lib, name, params, requires_grad=True)
        loss = dist.log_prob(_tensor(lib, value, 'float64')).sum()
        try:
            loss = loss + dist.entropy().sum()
        except NotImplementedError:
            pass
        # (PyTorch cannot differentiate Gamma's cdf in the concentration)
        if _family(name) in ('Normal', 'Exponential', 'Laplace', 'ContinuousBernoulli'):
            loss = loss + dist.cdf(_tensor(lib, value, 'float64')).sum()
        keys = _differentiable(name, params)
        grads.append([g.numpy() for g in lib.autograd.grad(loss, [tensors[k] for k in keys],
                                                           allow_unused=True)])
    # (nbgrad's trigamma, in the entropies' gradients, is within 5e-10 of PyTorch's)
    for got, expected in zip(grads[1], grads[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-9)


# Seeded draws: every family's sampler makes PyTorch's RNG calls, so the draws are PyTorch's.
# Where the draws are then transformed by log/log1p/acos/sqrt or a matmul, NumPy's functions
# and summation order may differ from PyTorch's (vectorised) ones in the last bits.
EXACT = {'Normal', 'Uniform', 'Exponential', 'Cauchy', 'Gamma', 'Chi2'}


@pytest.mark.parametrize('method', ['sample', 'rsample'])
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', list(CASES))
def test_seeded_samples_equal_pytorch(name, dtype, method):
    params, value, u = CASES[name]
    samples = []
    for lib in (torch, nbgrad):
        dist = _build(lib, name, params, dtype)[0]
        if method == 'rsample' and not dist.has_rsample:
            pytest.skip(f'{name} has no rsample')
        lib.manual_seed(2024)
        first = getattr(dist, method)((7,))
        second = getattr(dist, method)()        # continues from the same generator state
        samples.append([first.numpy(), second.numpy()])
    for got, expected in zip(samples[1], samples[0]):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if _family(name) in EXACT:
            np.testing.assert_array_equal(got, expected)
        else:
            # a few ulps (float32: log1p near 1 loses a few bits to the subtraction)
            tol = 1e-13 if dtype == 'float64' else 2e-6
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize('name', [n for n in CASES if n != 'VonMises'])
def test_rsample_gradients_equal_pytorch(name):
    params, value, u = CASES[name]
    results = []
    for lib in (torch, nbgrad):
        dist, tensors = _build(lib, name, params, requires_grad=True)
        keys = _differentiable(name, params)
        if not keys:
            pytest.skip('no tensor parameters')
        lib.manual_seed(7)
        x = dist.rsample((6,))
        grads = lib.autograd.grad(lib.sin(x).sum(), [tensors[k] for k in keys],
                                  allow_unused=True)
        results.append((x.detach().numpy(), [g.numpy() for g in grads]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, atol=1e-13)
    for got, expected in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------------------- samplers

@pytest.mark.parametrize('concentration', [0.05, 1.0, 4.0, 30.0])
def test_von_mises_samples_fit_the_distribution(concentration):
    """The circular mean resultant length E[cos(x - loc)] = I1(k) / I0(k), within 5 standard
    errors of the sample mean (the ratio from PyTorch's i1e / i0e)."""
    n = 20000
    nbgrad.manual_seed(1)
    x = nbgrad.distributions.VonMises(nbgrad.tensor(0.5, dtype=nbgrad.float64),
                                      nbgrad.tensor(concentration, dtype=nbgrad.float64))
    c = np.cos(x.sample((n,)).numpy() - 0.5)
    k = torch.tensor(concentration, dtype=torch.float64)
    r = (torch.special.i1e(k) / torch.special.i0e(k)).item()
    assert abs(c.mean() - r) < 5 * c.std() / math.sqrt(n) + 1e-12
    assert np.all((x.sample((100,)).numpy() >= -math.pi) & (x.sample((100,)).numpy() < math.pi))


# ------------------------------------------------------------------------------------------ KL

def _kl_params():
    r = rng(5)
    unit = dict(low=np.full(3, 0.2), high=np.array([0.5, 0.7, 0.9]))
    return {
        'Normal': dict(loc=r.normal(size=3), scale=_pos(r, 3)),
        'Uniform': dict(low=r.normal(size=3) - 3, high=r.normal(size=3) + 3),
        'UnitUniform': unit,
        'Exponential': dict(rate=_pos(r, 3)),
        'Laplace': dict(loc=r.normal(size=3), scale=_pos(r, 3)),
        'Cauchy': dict(loc=r.normal(size=3), scale=_pos(r, 3)),
        'Gamma': dict(concentration=_pos(r, 3), rate=_pos(r, 3)),
        'Chi2': dict(df=_pos(r, 3, low=1, high=5)),
        'Beta': dict(concentration1=_pos(r, 3), concentration0=_pos(r, 3)),
        'Dirichlet': dict(concentration=_pos(r, 3, 4)),
        'ContinuousBernoulli': dict(probs=np.array([0.2, 0.4999, 0.7])),
        'MultivariateNormal': dict(loc=r.normal(size=(3, 2)), covariance_matrix=_spd(r, 3, 2)),
        'LowRankMultivariateNormal': dict(loc=r.normal(size=(3, 2)),
                                          cov_factor=r.normal(size=(3, 2, 1)),
                                          cov_diag=_pos(r, 3, 2)),
    }


KL_PARAMS = _kl_params()
_SCALAR = ['Normal', 'Uniform', 'UnitUniform', 'Exponential', 'Laplace', 'Gamma', 'Chi2', 'Beta',
           'ContinuousBernoulli']
KL_PAIRS = ([(p, q) for p in _SCALAR for q in _SCALAR]
            + [('Cauchy', 'Cauchy'), ('Dirichlet', 'Dirichlet')]
            + [(p, q) for p in ('MultivariateNormal', 'LowRankMultivariateNormal')
               for q in ('MultivariateNormal', 'LowRankMultivariateNormal')])


def _kl_dist(lib, key, requires_grad=False):
    name = 'Uniform' if key == 'UnitUniform' else key
    return _build(lib, name, KL_PARAMS[key], requires_grad=requires_grad)


@pytest.mark.parametrize('p_name, q_name', KL_PAIRS, ids=[f'{p}-{q}' for p, q in KL_PAIRS])
def test_kl_divergence_equals_pytorch(p_name, q_name):
    results = []
    for lib in (torch, nbgrad):
        p, p_tensors = _kl_dist(lib, p_name, requires_grad=True)
        q, q_tensors = _kl_dist(lib, q_name, requires_grad=True)
        try:
            kl = lib.distributions.kl_divergence(p, q)
        except NotImplementedError:
            results.append(NotImplementedError)
            continue
        leaves = list(p_tensors.values()) + list(q_tensors.values())
        grads = []
        if kl.requires_grad:        # (not where the divergence is +inf whatever the parameters)
            finite = kl.detach().isfinite()
            grads = lib.autograd.grad(lib.where(finite, kl, 0.0).sum(), leaves,
                                      allow_unused=True)
        results.append((kl.detach().numpy(),
                        [None if g is None else g.numpy() for g in grads]))
    if results[0] is NotImplementedError:
        assert results[1] is NotImplementedError
        return
    assert results[1] is not NotImplementedError, 'nbgrad has no KL for this pair'
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    assert len(results[1][1]) == len(results[0][1])
    for got, expected in zip(results[1][1], results[0][1]):
        if expected is None:
            assert got is None or not np.any(got)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------------------- validation

def _t(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.float64))


ERRORS = {
    'Normal-scale': lambda lib: lib.distributions.Normal(_t(lib, [0.0, 1.0]), _t(lib, [1.0, -1.0]),
                                                         validate_args=True),
    'Normal-value': lambda lib: lib.distributions.Normal(0.0, 1.0, validate_args=True).log_prob(
        _t(lib, [float('nan')])),
    'Uniform-bounds': lambda lib: lib.distributions.Uniform(_t(lib, [1.0]), _t(lib, [0.0]),
                                                            validate_args=True),
    'Uniform-value': lambda lib: lib.distributions.Uniform(
        _t(lib, [0.0]), _t(lib, [1.0]), validate_args=True).log_prob(_t(lib, [2.0])),
    'Exponential-value': lambda lib: lib.distributions.Exponential(
        _t(lib, [1.0, 2.0]), validate_args=True).cdf(_t(lib, [-1.0, 1.0])),
    'Gamma-value': lambda lib: lib.distributions.Gamma(
        _t(lib, [1.0]), _t(lib, [1.0]), validate_args=True).log_prob(_t(lib, [-1.0])),
    'Chi2-df': lambda lib: lib.distributions.Chi2(_t(lib, [0.0]), validate_args=True),
    'Beta-value': lambda lib: lib.distributions.Beta(
        _t(lib, [1.0]), _t(lib, [2.0]), validate_args=True).log_prob(_t(lib, [1.5])),
    'Dirichlet-dim': lambda lib: lib.distributions.Dirichlet(_t(lib, 1.0)),
    'Dirichlet-value': lambda lib: lib.distributions.Dirichlet(
        _t(lib, [1.0, 2.0]), validate_args=True).log_prob(_t(lib, [0.5, 0.6])),
    'StudentT-df': lambda lib: lib.distributions.StudentT(_t(lib, [-1.0]), validate_args=True),
    'VonMises-concentration': lambda lib: lib.distributions.VonMises(
        _t(lib, [0.0]), _t(lib, [0.0]), validate_args=True),
    'ContinuousBernoulli-both': lambda lib: lib.distributions.ContinuousBernoulli(
        probs=0.3, logits=0.1),
    'ContinuousBernoulli-probs': lambda lib: lib.distributions.ContinuousBernoulli(
        probs=_t(lib, [1.5]), validate_args=True),
    'MultivariateNormal-none': lambda lib: lib.distributions.MultivariateNormal(_t(lib, [0.0])),
    'MultivariateNormal-two': lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [0.0]), covariance_matrix=_t(lib, [[1.0]]), scale_tril=_t(lib, [[1.0]])),
    'MultivariateNormal-loc': lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, 0.0), covariance_matrix=_t(lib, [[1.0]])),
    'MultivariateNormal-cov-dim': lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [0.0]), covariance_matrix=_t(lib, [1.0])),
    'MultivariateNormal-tril-dim': lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [0.0]), scale_tril=_t(lib, [1.0])),
    'MultivariateNormal-not-pd': lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [0.0, 0.0]), scale_tril=_t(lib, [[1.0, 0.0], [0.5, -1.0]]), validate_args=True),
    'LowRank-factor-shape': lambda lib: lib.distributions.LowRankMultivariateNormal(
        _t(lib, [0.0, 0.0]), _t(lib, [[1.0]]), _t(lib, [1.0, 1.0])),
    'LowRank-diag-shape': lambda lib: lib.distributions.LowRankMultivariateNormal(
        _t(lib, [0.0, 0.0]), _t(lib, [[1.0], [1.0]]), _t(lib, [1.0])),
    'LowRank-batch': lambda lib: lib.distributions.LowRankMultivariateNormal(
        _t(lib, np.zeros((3, 2))), _t(lib, np.ones((4, 2, 1))), _t(lib, [1.0, 1.0])),
    'LowRank-diag-positive': lambda lib: lib.distributions.LowRankMultivariateNormal(
        _t(lib, [0.0, 0.0]), _t(lib, [[1.0], [1.0]]), _t(lib, [1.0, -1.0]),
        validate_args=True),
    'KL-event-shapes': lambda lib: lib.distributions.kl_divergence(
        lib.distributions.MultivariateNormal(_t(lib, [0.0]), scale_tril=_t(lib, [[1.0]])),
        lib.distributions.MultivariateNormal(_t(lib, [0.0, 0.0]), scale_tril=_t(lib, np.eye(2)))),
}


@pytest.mark.parametrize('name', list(ERRORS))
def test_errors_equal_pytorch(name):
    assert_same_error(ERRORS[name])


# ------------------------------------------------------------------------------------- CUDA

CUDA_CASES = ['Normal', 'Exponential', 'Gamma', 'Beta', 'Dirichlet', 'StudentT', 'VonMises',
              'ContinuousBernoulli', 'MultivariateNormal-cov', 'LowRankMultivariateNormal']


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
@pytest.mark.parametrize('name', CUDA_CASES)
def test_on_cuda_log_prob_gradients_and_samples(name):
    """With parameters on the GPU: log_prob and its gradients equal PyTorch's (CPU), and samples
    are on the GPU with the right shape, inside the support, and differentiable where rsample is."""
    params, value, u = CASES[name]
    dist, tensors = _build(nbgrad, name, {k: v for k, v in params.items()}, requires_grad=True)
    gpu = {k: (v.detach().to('cuda').requires_grad_() if isinstance(v, nbgrad.Tensor) else v)
           for k, v in tensors.items()}
    dist = getattr(nbgrad.distributions, _family(name))(**gpu)
    expected, expected_tensors = _build(torch, name, params, requires_grad=True)
    keys = _differentiable(name, params)
    lp = dist.log_prob(nbgrad.tensor(value, device='cuda'))
    assert lp.device.type == 'cuda'
    # (retain_graph: the constructor's graph, e.g. the Cholesky factor, serves rsample too)
    grads = nbgrad.autograd.grad(lp.sum(), [gpu[k] for k in keys], retain_graph=True)
    lp_t = expected.log_prob(torch.tensor(value))
    grads_t = torch.autograd.grad(lp_t.sum(), [expected_tensors[k] for k in keys])
    np.testing.assert_allclose(lp.detach().cpu().numpy(), lp_t.detach().numpy(), rtol=1e-10)
    for g, gt in zip(grads, grads_t):
        assert g.device.type == 'cuda'
        np.testing.assert_allclose(g.cpu().numpy(), gt.numpy(), rtol=1e-9, atol=1e-11)
    x = dist.rsample((5,)) if dist.has_rsample else dist.sample((5,))
    assert x.device.type == 'cuda'
    assert tuple(x.shape) == (5,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    assert bool(dist.support.check(x).all())
    if dist.has_rsample:
        x.sum().backward()
        assert all(gpu[k].grad is not None and gpu[k].grad.device.type == 'cuda' for k in keys)


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_gamma_on_cuda_has_the_gamma_moments():
    n = 40000
    conc, rate = 2.5, 1.5
    nbgrad.manual_seed(3)
    x = nbgrad.distributions.Gamma(nbgrad.tensor(conc, device='cuda', dtype=nbgrad.float64),
                                   nbgrad.tensor(rate, device='cuda', dtype=nbgrad.float64))
    s = x.sample((n,)).cpu().numpy()
    mean, var = conc / rate, conc / rate ** 2
    assert abs(s.mean() - mean) < 5 * math.sqrt(var / n)
    # the variance of the sample variance of a Gamma: (mu4 - var^2) / n, mu4 = 3 var^2 (1 + 2/conc)
    assert abs(s.var() - var) < 5 * math.sqrt((3 * var ** 2 * (1 + 2 / conc) - var ** 2) / n)
