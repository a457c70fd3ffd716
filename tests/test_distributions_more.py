"""FisherSnedecor, InverseGamma, Kumaraswamy, LogisticNormal, GeneralizedPareto, LKJCholesky and
Wishart against torch.distributions: moments, entropy, log_prob / cdf / icdf, gradients, seeded
samples (PyTorch's numbers), KL divergences, argument validation errors and warnings, sample
moments, and runs on CUDA tensors."""
import contextlib
import math
import warnings

import numpy as np
import pytest

import nbgrad
import nbgrad.distributions  # noqa: F401  (nbgrad does not import it by itself yet)
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')

rng = np.random.default_rng


def _pos(r, *shape, low=0.2, high=3.0):
    return r.uniform(low, high, size=shape)


def _simplex(r, *shape):
    x = r.uniform(0.05, 1.0, size=shape)
    return x / x.sum(-1, keepdims=True)


def _spd(r, *shape):
    """Random symmetric positive definite matrices of shape shape + (n, n)."""
    a = r.normal(size=shape + (shape[-1],))
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _corr_cholesky(r, *shape):
    """Cholesky factors of random correlation matrices, of shape shape + (n, n)."""
    n = shape[-1]
    a = r.normal(size=shape + (2 * n,))
    cov = a @ np.swapaxes(a, -1, -2)
    d = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return np.linalg.cholesky(cov / d[..., :, None] / d[..., None, :])


# Each case: the family's name (with a -suffix for variants), its parameters (NumPy arrays, or
# numbers), a valid value with a leading sample dim, and probabilities for icdf. Parameter
# shapes differ so that broadcasting is exercised; parameter ranges cross the thresholds where
# moments stop existing (NaN / inf there, as in PyTorch).
def _cases():
    r = rng(0)
    u = r.uniform(0.02, 0.98, size=(2, 3, 4))
    gp_loc, gp_scale = r.uniform(-0.5, 0.5, size=(3, 1)), _pos(r, 4, low=0.5, high=2)
    cases = {
        'FisherSnedecor': (dict(df1=_pos(r, 3, 1, low=0.5, high=6), df2=_pos(r, 4, low=1, high=9)),
                           _pos(r, 2, 3, 4, low=0.05)),
        'FisherSnedecor-numbers': (dict(df1=3.0, df2=7.5), _pos(r, 5)),
        'InverseGamma': (dict(concentration=_pos(r, 3, 1, low=0.5, high=4), rate=_pos(r, 4)),
                         _pos(r, 2, 3, 4)),
        'InverseGamma-numbers': (dict(concentration=2.5, rate=1.5), _pos(r, 5)),
        'Kumaraswamy': (dict(concentration1=_pos(r, 3, 1, low=0.5, high=4),
                             concentration0=_pos(r, 4, low=0.5, high=3)), u),
        'LogisticNormal': (dict(loc=r.normal(size=(3, 3)), scale=_pos(r, 3, low=0.5, high=2)),
                           _simplex(r, 2, 3, 4)),
        # a scalar base Normal: PyTorch expands it to one stick (samples of 2 coordinates)
        'LogisticNormal-numbers': (dict(loc=0.3, scale=1.2), _simplex(r, 5, 2)),
        # concentration 0 exercises the exponential branch, < 0 a bounded support
        'GeneralizedPareto': (dict(loc=gp_loc, scale=gp_scale,
                                   concentration=np.array([-0.3, 0.0, 0.2, 1.2])),
                              gp_loc + gp_scale * r.uniform(0.05, 1.5, size=(2, 3, 4))),
        'LKJCholesky': (dict(dim=3, concentration=np.array([0.5, 2.5])),
                        _corr_cholesky(r, 4, 2, 3)),
        'LKJCholesky-numbers': (dict(dim=2),  # (the default concentration, 1.0)
                                _corr_cholesky(r, 3, 2)),
        'Wishart-cov': (dict(df=_pos(r, 2, low=3.5, high=7), covariance_matrix=_spd(r, 3)),
                        _spd(r, 5, 2, 3)),
        'Wishart-prec': (dict(df=4.5, precision_matrix=_spd(r, 2, 3)), _spd(r, 5, 2, 3)),
        'Wishart-tril': (dict(df=_pos(r, 2, 1, low=3.5, high=7),
                              scale_tril=np.linalg.cholesky(_spd(r, 4, 3))),
                         _spd(r, 5, 2, 4, 3)),
    }
    return {name: (params, value, u) for name, (params, value) in cases.items()}


CASES = _cases()
DTYPES = ['float64', 'float32']


def _family(name):
    return name.split('-')[0]


def _build(lib, name, params, dtype='float64', requires_grad=False, device=None):
    """The distribution `name` of library lib with `params` as lib tensors (numbers stay
    numbers), plus the dict of those tensors."""
    tensors = {}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            value = lib.tensor(value.astype(dtype), device=device, requires_grad=requires_grad)
        tensors[key] = value
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # (Wishart's low-df warning: tested on its own)
        dist = getattr(lib.distributions, _family(name))(**tensors)
    return dist, tensors


def _tensor(lib, array, dtype):
    return lib.tensor(np.asarray(array).astype(dtype))


def _differentiable(params):
    return [k for k, v in params.items() if isinstance(v, np.ndarray)]


@contextlib.contextmanager
def _default_dtype(dtype):
    """Both libraries' default dtype set to `dtype` (GeneralizedPareto's log_prob compares its
    concentration with a default-dtype 0, so float64 parameters need a float64 default)."""
    saved = (torch.get_default_dtype(), nbgrad.get_default_dtype())
    torch.set_default_dtype(getattr(torch, dtype))
    nbgrad.set_default_dtype(getattr(nbgrad, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(saved[0])
        nbgrad.set_default_dtype(saved[1])


def _outcome(fn):
    """fn()'s value as NumPy (or a number, a shape), or the kind of exception it raised."""
    try:
        value = fn()
    except (NotImplementedError, ValueError, RuntimeError, AttributeError) as e:
        return type(e)
    if hasattr(value, 'detach'):
        return value.detach().numpy(), str(value.dtype).rsplit('.', 1)[-1]
    return value


def _float32_params(name, dtype='float64'):
    """Whether the parameters are float32: given as numbers (the -numbers cases: the default
    dtype), or as float32 tensors. (A result may then be float64, from a float64 value, yet carry
    float32 roundings: nbgrad's float32 lgamma / pow may differ from PyTorch's in the last bit.)"""
    return dtype == 'float32' or name.endswith('-numbers')


def _tolerance(dtype, float32_params):
    return (1e-10, 1e-12) if dtype == 'float64' and not float32_params else (2e-5, 2e-6)


def _assert_outcomes_equal(got, expected, where, float32_params):
    if isinstance(expected, type):
        assert got is expected or (isinstance(got, type) and issubclass(got, expected)), \
            f'{where}: nbgrad gave {got!r}, PyTorch raised {expected.__name__}'
        return
    assert not isinstance(got, type), f'{where}: nbgrad raised {got.__name__}'
    if isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[0],
                                                                          np.ndarray):
        assert got[1] == expected[1], f'{where}: dtype {got[1]} != {expected[1]}'
        assert got[0].shape == expected[0].shape, f'{where}: shape {got[0].shape}'
        if expected[0].dtype == bool:
            np.testing.assert_array_equal(got[0], expected[0], err_msg=where)
        else:
            rtol, atol = _tolerance(expected[1], float32_params)
            np.testing.assert_allclose(got[0], expected[0], rtol=rtol, atol=atol, err_msg=where)
    else:
        assert tuple(got) == tuple(expected), where


QUANTITIES = {
    'batch_shape': lambda d, v, u: tuple(d.batch_shape),
    'event_shape': lambda d, v, u: tuple(d.event_shape),
    'mean': lambda d, v, u: d.mean,
    'mode': lambda d, v, u: d.mode,
    'variance': lambda d, v, u: d.variance,
    'stddev': lambda d, v, u: d.stddev,
    'entropy': lambda d, v, u: d.entropy(),
    'log_prob': lambda d, v, u: d.log_prob(v),
    'cdf': lambda d, v, u: d.cdf(v),
    'icdf': lambda d, v, u: d.icdf(u),
    'support': lambda d, v, u: d.support.check(v),
    # GeneralizedPareto's extra methods (AttributeError for the others)
    'log_cdf': lambda d, v, u: d.log_cdf(v),
    'log_survival_function': lambda d, v, u: d.log_survival_function(v),
    # Wishart's matrices
    'covariance_matrix': lambda d, v, u: d.covariance_matrix,
    'precision_matrix': lambda d, v, u: d.precision_matrix,
    'scale_tril': lambda d, v, u: d.scale_tril,
}


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', list(CASES))
def test_values_equal_pytorch(name, dtype):
    """Also GeneralizedPareto's log_prob in float64, which raises in PyTorch (its isclose
    compares a float64 concentration with a float32 zero): nbgrad raises the same kind."""
    params, value, u = CASES[name]
    dists = {lib: _build(lib, name, params, dtype)[0] for lib in (torch, nbgrad)}
    for what, fn in QUANTITIES.items():
        outcomes = {lib: _outcome(lambda: fn(dists[lib], _tensor(lib, value, dtype),
                                             _tensor(lib, u, dtype))) for lib in dists}
        _assert_outcomes_equal(outcomes[nbgrad], outcomes[torch], f'{name}.{what}',
                               _float32_params(name, dtype))


def test_generalized_pareto_in_float64_with_a_float64_default():
    params, value, u = CASES['GeneralizedPareto']
    with _default_dtype('float64'):
        dists = {lib: _build(lib, 'GeneralizedPareto', params)[0] for lib in (torch, nbgrad)}
        for what in ('log_prob', 'cdf', 'log_cdf', 'log_survival_function'):
            got, expected = (getattr(dists[lib], what)(_tensor(lib, value, 'float64')).numpy()
                             for lib in (nbgrad, torch))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=what)


@pytest.mark.parametrize('name', list(CASES))
def test_expand_equals_pytorch(name):
    params, value, u = CASES[name]
    results = []
    for lib in (torch, nbgrad):
        dist = _build(lib, name, params)[0]
        expanded = dist.expand((2,) + tuple(dist.batch_shape))
        with _default_dtype('float64'):
            log_prob = expanded.log_prob(_tensor(lib, value[0], 'float64'))
        lib.manual_seed(5)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sample = expanded.sample((3,))
        results.append((type(expanded).__name__, tuple(expanded.batch_shape),
                        tuple(expanded.event_shape), log_prob.detach().numpy(), sample.numpy()))
    assert results[1][:3] == results[0][:3]
    rtol, atol = _tolerance('float64', _float32_params(name))
    for got, expected in zip(results[1][3:], results[0][3:]):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize('name', list(CASES))
def test_log_prob_and_entropy_gradients_equal_pytorch(name):
    params, value, u = CASES[name]
    keys = _differentiable(params)
    if not keys:
        pytest.skip('no tensor parameters')
    grads = []
    for lib in (torch, nbgrad):
        with _default_dtype('float64'):
            dist, tensors = _build(lib, name, params, requires_grad=True)
            loss = dist.log_prob(_tensor(lib, value, 'float64')).sum()
            try:
                loss = loss + dist.entropy().sum()
            except NotImplementedError:
                pass
            if _family(name) in ('Kumaraswamy', 'GeneralizedPareto'):   # (their cdf and icdf)
                loss = (loss + dist.cdf(_tensor(lib, value, 'float64')).sum()
                        + dist.icdf(_tensor(lib, u, 'float64')).sum())
            grads.append([g.numpy() for g in lib.autograd.grad(
                loss, [tensors[k] for k in keys], allow_unused=True)])
    for key, got, expected in zip(keys, grads[1], grads[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-9, err_msg=key)


def test_scale_tril_gradient_above_the_diagonal_equals_pytorch():
    """PyTorch's gradient of Wishart.log_prob in scale_tril is not zero above the diagonal
    (the derivative formula of cholesky_solve treats the factor as a full matrix)."""
    params, value, u = CASES['Wishart-tril']
    grads = []
    for lib in (torch, nbgrad):
        dist, tensors = _build(lib, 'Wishart-tril', params, requires_grad=True)
        loss = dist.log_prob(_tensor(lib, value, 'float64')).sum()
        grads.append(lib.autograd.grad(loss, tensors['scale_tril'])[0].numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-8, atol=1e-9)


# Seeded draws: each sampler makes PyTorch's RNG calls, so the draws are PyTorch's. Where the
# draws are then transformed by pow / log1p / a matmul, NumPy's functions and summation order
# may differ from PyTorch's in the last bits.
EXACT = {'FisherSnedecor'}


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
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # (Wishart's: see test_wishart_warns_as_pytorch)
            first = getattr(dist, method)((7,))
            second = getattr(dist, method)()        # continues from the same generator state
        samples.append([first.numpy(), second.numpy()])
    for got, expected in zip(samples[1], samples[0]):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if _family(name) in EXACT:
            np.testing.assert_array_equal(got, expected)
        else:
            tol = 1e-13 if expected.dtype == np.float64 else 2e-6
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def _differentiable_rsample(lib, dist, sample_shape):
    """dist.rsample(sample_shape), but for PyTorch's Wishart, whose rsample cannot be
    differentiated (test_pytorch_cannot_differentiate_wishart_rsample), the same draws made
    differentiably: every sample is drawn a second time (all of them are positive definite)."""
    if lib is torch and isinstance(dist, torch.distributions.Wishart):
        dist._bartlett_sampling(sample_shape)
        return dist._bartlett_sampling(sample_shape)
    return dist.rsample(sample_shape)


def test_pytorch_cannot_differentiate_wishart_rsample():
    """PyTorch's Wishart.rsample modifies in place the mask it indexed the redrawn samples with,
    so its backward refuses; nbgrad's gives the gradient of the samples returned."""
    params, value, u = CASES['Wishart-cov']
    dist, tensors = _build(torch, 'Wishart-cov', params, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        x = dist.rsample((3,))
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        x.sum().backward()


@pytest.mark.parametrize('name', [n for n in CASES if _family(n) != 'LKJCholesky'])
def test_rsample_gradients_equal_pytorch(name):
    params, value, u = CASES[name]
    keys = _differentiable(params)
    results = []
    for lib in (torch, nbgrad):
        dist, tensors = _build(lib, name, params, requires_grad=True)
        if not keys:
            pytest.skip('no tensor parameters')
        lib.manual_seed(7)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            x = _differentiable_rsample(lib, dist, (6,))
        grads = lib.autograd.grad(lib.sin(x).sum(), [tensors[k] for k in keys],
                                  allow_unused=True)
        results.append((x.detach().numpy(), [g.numpy() for g in grads]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, atol=1e-13)
    for got, expected in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_lkj_cholesky_has_no_rsample():
    for lib in (torch, nbgrad):
        dist = lib.distributions.LKJCholesky(3, 0.5)
        assert dist.has_rsample is False
        with pytest.raises(NotImplementedError):
            dist.rsample()


# ---------------------------------------------------------------------------------- Wishart

def _wishart(lib, df, dtype='float64', **kw):
    cov = lib.tensor(np.array([[2.0, 0.3], [0.3, 1.0]], dtype=dtype))
    return lib.distributions.Wishart(lib.tensor(np.asarray(df, dtype=dtype)), cov, **kw)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fn()
    return result, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize('sample_shape', [(), (4,), (2, 3)])
@pytest.mark.parametrize('df', [3.0, [3.0, 1.5, 8.0]])
def test_wishart_warns_and_redraws_as_pytorch(df, sample_shape):
    """PyTorch's rsample flags the positive definite samples as singular and redraws them (with
    a warning); a df between dim - 1 and dim warns at construction. Same warnings, same draws."""
    outcomes = []
    for lib in (torch, nbgrad):
        dist, init_warnings = _warnings_of(lambda: _wishart(lib, df))
        lib.manual_seed(11)
        sample, sample_warnings = _warnings_of(lambda: dist.rsample(sample_shape))
        after = lib.rand(())           # the generator advanced as far as PyTorch's
        outcomes.append((init_warnings, sample_warnings, sample.numpy(), after.item()))
    assert outcomes[1][:2] == outcomes[0][:2]
    np.testing.assert_allclose(outcomes[1][2], outcomes[0][2], rtol=1e-13, atol=1e-13)
    assert outcomes[1][3] == outcomes[0][3]


@pytest.mark.parametrize('max_try_correction', [0, 1, 3])
def test_wishart_max_try_correction_equals_pytorch(max_try_correction):
    samples = []
    for lib in (torch, nbgrad):
        dist = _wishart(lib, [2.5, 4.0])
        lib.manual_seed(3)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            samples.append(dist.rsample((5,), max_try_correction=max_try_correction).numpy())
    np.testing.assert_allclose(samples[1], samples[0], rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------------------------------ KL

def _kl_params():
    r = rng(5)
    a, b = _pos(r, 3, low=1, high=3), _pos(r, 3, low=1, high=3)
    return {
        'InverseGamma': (dict(concentration=a, rate=b), dict(concentration=b, rate=a)),
        'Kumaraswamy-same': (dict(concentration1=a, concentration0=b),
                             dict(concentration1=a, concentration0=b)),
        'Kumaraswamy-different': (dict(concentration1=a, concentration0=b),
                                  dict(concentration1=b, concentration0=a)),
        'LogisticNormal': (dict(loc=r.normal(size=(2, 3)), scale=a),
                           dict(loc=r.normal(size=(2, 3)), scale=b)),
        'Wishart': (dict(df=a + 2, covariance_matrix=_spd(r, 2)),
                    dict(df=b + 2, scale_tril=np.linalg.cholesky(_spd(r, 3, 2)))),
        'FisherSnedecor': (dict(df1=a, df2=b), dict(df1=b, df2=a)),
        'GeneralizedPareto': (dict(loc=a, scale=b, concentration=a - 2),
                              dict(loc=b, scale=a, concentration=b - 2)),
        'LKJCholesky': (dict(dim=3, concentration=a), dict(dim=3, concentration=b)),
    }


KL_PARAMS = _kl_params()


@pytest.mark.parametrize('name', list(KL_PARAMS))
def test_kl_divergence_equals_pytorch(name):
    """PyTorch registers no pair for these families: the transformed ones go through
    (TransformedDistribution, TransformedDistribution) (equal transforms only), Wishart through
    the exponential families' Bregman divergence, the others raise NotImplementedError."""
    results = []
    for lib in (torch, nbgrad):
        p, p_tensors = _build(lib, name, KL_PARAMS[name][0], requires_grad=True)
        q, q_tensors = _build(lib, name, KL_PARAMS[name][1], requires_grad=True)
        try:
            kl = lib.distributions.kl_divergence(p, q)
        except NotImplementedError:
            results.append(NotImplementedError)
            continue
        leaves = list(p_tensors.values()) + list(q_tensors.values())
        leaves = [t for t in leaves if not isinstance(t, int)]
        # (Kumaraswamy's KL comes from its base Uniforms' bounds, constants)
        grads = (lib.autograd.grad(kl.sum(), leaves, allow_unused=True) if kl.requires_grad
                 else [])
        results.append((kl.detach().numpy(), [None if g is None else g.numpy() for g in grads]))
    if results[0] is NotImplementedError:
        assert results[1] is NotImplementedError
        return
    assert results[1] is not NotImplementedError, 'nbgrad has no KL for this pair'
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    assert len(results[1][1]) == len(results[0][1])
    keys = list(KL_PARAMS[name][0]) + list(KL_PARAMS[name][1])
    for key, got, expected in zip(keys, results[1][1], results[0][1]):
        if expected is None:
            assert got is None or not np.any(got)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_kl_between_different_families_is_not_implemented():
    for lib in (torch, nbgrad):
        d = lib.distributions
        with pytest.raises(NotImplementedError):
            d.kl_divergence(d.InverseGamma(2.0, 1.0), d.Gamma(2.0, 1.0))


# ------------------------------------------------------------------------------- validation

def _t(lib, values):
    return lib.tensor(np.asarray(values, dtype=np.float64))


def _identity_like(lib, n=2):
    return _t(lib, np.eye(n))


ERRORS = {
    # the inner Gammas validate with the default setting, whatever validate_args says
    'FisherSnedecor-df1': lambda lib: lib.distributions.FisherSnedecor(
        _t(lib, [-1.0]), _t(lib, [2.0]), validate_args=False),
    'FisherSnedecor-df2': lambda lib: lib.distributions.FisherSnedecor(
        _t(lib, [1.0]), _t(lib, [0.0]), validate_args=True),
    'FisherSnedecor-value': lambda lib: lib.distributions.FisherSnedecor(
        _t(lib, [1.0]), _t(lib, [2.0]), validate_args=True).log_prob(_t(lib, [-1.0])),
    'InverseGamma-rate': lambda lib: lib.distributions.InverseGamma(
        _t(lib, [1.0]), _t(lib, [-2.0]), validate_args=True),
    'InverseGamma-value': lambda lib: lib.distributions.InverseGamma(
        _t(lib, [1.0]), _t(lib, [2.0]), validate_args=True).log_prob(_t(lib, [0.0])),
    'Kumaraswamy-concentration0': lambda lib: lib.distributions.Kumaraswamy(
        _t(lib, [1.0]), _t(lib, [0.0]), validate_args=True),
    'Kumaraswamy-value': lambda lib: lib.distributions.Kumaraswamy(
        _t(lib, [1.0]), _t(lib, [2.0]), validate_args=True).log_prob(_t(lib, [1.5])),
    'LogisticNormal-scale': lambda lib: lib.distributions.LogisticNormal(
        _t(lib, [0.0, 1.0]), _t(lib, [1.0, -1.0]), validate_args=True),
    'LogisticNormal-value': lambda lib: lib.distributions.LogisticNormal(
        _t(lib, [0.0, 1.0]), _t(lib, [1.0, 1.0]), validate_args=True).log_prob(
        _t(lib, [0.5, 0.6, 0.2])),
    'GeneralizedPareto-scale': lambda lib: lib.distributions.GeneralizedPareto(
        _t(lib, [0.0]), _t(lib, [0.0]), _t(lib, [0.1]), validate_args=True),
    'GeneralizedPareto-value': lambda lib: lib.distributions.GeneralizedPareto(
        _t(lib, [0.0]), _t(lib, [1.0]), _t(lib, [-0.5]), validate_args=True).log_survival_function(
        _t(lib, [2.5])),
    'LKJCholesky-dim': lambda lib: lib.distributions.LKJCholesky(1, 1.0),
    'LKJCholesky-concentration': lambda lib: lib.distributions.LKJCholesky(
        3, _t(lib, [1.0, 0.0]), validate_args=True),
    'LKJCholesky-value': lambda lib: lib.distributions.LKJCholesky(
        2, 1.0, validate_args=True).log_prob(_t(lib, [[1.0, 0.0], [0.5, 0.5]])),
    'Wishart-none': lambda lib: lib.distributions.Wishart(_t(lib, 3.0)),
    'Wishart-two': lambda lib: lib.distributions.Wishart(
        _t(lib, 3.0), covariance_matrix=_identity_like(lib), scale_tril=_identity_like(lib)),
    'Wishart-dim': lambda lib: lib.distributions.Wishart(
        _t(lib, 3.0), covariance_matrix=_t(lib, [1.0, 2.0])),
    'Wishart-df-number': lambda lib: lib.distributions.Wishart(
        1.0, precision_matrix=_identity_like(lib)),
    'Wishart-df-tensor': lambda lib: lib.distributions.Wishart(
        _t(lib, [3.0, 0.5]), covariance_matrix=_identity_like(lib)),
    'Wishart-cov': lambda lib: lib.distributions.Wishart(
        _t(lib, 3.0), covariance_matrix=_t(lib, [[1.0, 2.0], [2.0, 1.0]]), validate_args=True),
    'Wishart-tril': lambda lib: lib.distributions.Wishart(
        _t(lib, 3.0), scale_tril=_t(lib, [[1.0, 0.0], [2.0, -1.0]]), validate_args=True),
    'Wishart-value': lambda lib: lib.distributions.Wishart(
        _t(lib, 3.0), covariance_matrix=_identity_like(lib), validate_args=True).log_prob(
        _t(lib, [[1.0, 2.0], [2.0, 1.0]])),
}


@pytest.mark.parametrize('name', list(ERRORS))
def test_errors_equal_pytorch(name):
    assert_same_error(ERRORS[name])


# --------------------------------------------------------------------------- sample moments

N = 20000


def _moment_ok(samples, mean, variance):
    """The sample mean within 5 standard errors of mean (elementwise)."""
    err = np.abs(samples.mean(0) - mean)
    return np.all(err < 5 * np.sqrt(variance / samples.shape[0]) + 1e-12), err


def test_lkj_cholesky_first_correlation_has_the_lkj_marginal(device):
    """For LKJ(d, eta), each correlation r = (L L^T)_ij is 2 B - 1 with B ~ Beta(b, b),
    b = eta - 1 + d / 2: mean 0, E[r^2] = 1 / (2 b + 1), E[r^4] = 3 / ((2 b + 1) (2 b + 3)).
    Checked on r_10 (rows 0 and 1), the correlation that PyTorch's sampler draws from LKJ's
    marginal (its later rows are drawn from other Betas: see lkj_cholesky.py); every
    matrix L L^T has a unit diagonal."""
    d, eta = 4, np.array([0.5, 1.0, 3.0])
    nbgrad.manual_seed(0)
    dist = nbgrad.distributions.LKJCholesky(d, nbgrad.tensor(eta, device=device))
    L = dist.sample((N,))
    assert L.device.type == device
    L = L.cpu().numpy()
    corr = L @ np.swapaxes(L, -1, -2)
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    r = corr[..., 1, 0]                                   # (N, 3 etas)
    b = eta - 1 + d / 2
    m2, m4 = 1 / (2 * b + 1), 3 / ((2 * b + 1) * (2 * b + 3))
    assert _moment_ok(r, 0.0, m2)[0]
    assert _moment_ok(r ** 2, m2, m4 - m2 ** 2)[0]


def test_wishart_samples_have_the_wishart_moments(device):
    """E[W] = df S and Var[W_ij] = df (S_ij^2 + S_ii S_jj)."""
    df, cov = 5.5, np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.7]])
    nbgrad.manual_seed(1)
    dist = nbgrad.distributions.Wishart(nbgrad.tensor(df, device=device),
                                        covariance_matrix=nbgrad.tensor(cov, device=device))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        w = dist.sample((N,))
    assert w.device.type == device
    w = w.cpu().numpy()
    assert _moment_ok(w, df * cov, df * (cov ** 2 + np.outer(np.diag(cov), np.diag(cov))))[0]


@pytest.mark.parametrize('name, params', [
    ('GeneralizedPareto', dict(loc=0.5, scale=2.0, concentration=-0.25)),
    ('GeneralizedPareto', dict(loc=0.0, scale=1.0, concentration=0.3)),
    ('Kumaraswamy', dict(concentration1=0.7, concentration0=2.5)),
    ('InverseGamma', dict(concentration=2.5, rate=1.5)),
    ('LogisticNormal', dict(loc=np.array([0.2, -0.4]), scale=np.array([1.0, 0.5]))),
])
def test_samples_fit_pytorchs_cdf(name, params, device):
    """The Kolmogorov-Smirnov distance between the samples (their first coordinate) and
    PyTorch's cdf is below the 0.1% critical value 1.95 / sqrt(n)."""
    tensors = {k: nbgrad.tensor(v, dtype=nbgrad.float64, device=device)
               for k, v in params.items()}
    nbgrad.manual_seed(2)
    x = getattr(nbgrad.distributions, name)(**tensors).sample((N,))
    assert x.device.type == device
    x = torch.tensor(np.sort(x.cpu().numpy().reshape(N, -1)[:, 0]))
    if name == 'LogisticNormal':
        # stick breaking: x_1 = sigmoid(z_1 - log K), K the number of base coordinates
        shift = math.log(len(params['loc']))
        cdf = torch.distributions.Normal(params['loc'][0], params['scale'][0]).cdf(
            torch.logit(x) + shift)
    else:
        torch_params = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
        with _default_dtype('float64'):
            cdf = getattr(torch.distributions, name)(**torch_params).cdf(x)
    cdf = cdf.numpy()
    ks = np.max(np.maximum(np.arange(1, N + 1) / N - cdf, cdf - np.arange(N) / N))
    assert ks < 1.95 / math.sqrt(N)


def test_fisher_snedecor_samples_have_the_beta_moments(device):
    """B = df1 F / (df1 F + df2) ~ Beta(df1 / 2, df2 / 2): its first two raw moments, with
    E[B^k] = prod_{j<k} (a + j) / (a + b + j)."""
    df1, df2 = 4.0, 12.0
    nbgrad.manual_seed(4)
    dist = nbgrad.distributions.FisherSnedecor(nbgrad.tensor(df1, device=device),
                                               nbgrad.tensor(df2, device=device))
    f = dist.sample((N,))
    assert f.device.type == device
    f = f.cpu().numpy().astype(np.float64)
    b = df1 * f / (df1 * f + df2)
    a, c = df1 / 2, df2 / 2
    raw = [np.prod([(a + j) / (a + c + j) for j in range(k)]) for k in range(5)]
    assert _moment_ok(b, raw[1], raw[2] - raw[1] ** 2)[0]
    assert _moment_ok(b ** 2, raw[2], raw[4] - raw[2] ** 2)[0]


# ------------------------------------------------------------------------------------- CUDA

CUDA_CASES = [n for n in CASES if not n.endswith('-numbers')]


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
@pytest.mark.parametrize('name', CUDA_CASES)
def test_on_cuda_log_prob_gradients_and_samples(name):
    """With parameters on the GPU: log_prob and its gradients equal PyTorch's (CPU), and samples
    are on the GPU with the right shape, inside the support, and differentiable where rsample is."""
    params, value, u = CASES[name]
    keys = _differentiable(params)
    with _default_dtype('float64'):
        dist, gpu = _build(nbgrad, name, params, requires_grad=True, device='cuda')
        expected, expected_tensors = _build(torch, name, params, requires_grad=True)
        lp = dist.log_prob(nbgrad.tensor(value, device='cuda'))
        lp_t = expected.log_prob(torch.tensor(value))
    assert lp.device.type == 'cuda'
    # (retain_graph: the constructor's graph, e.g. the Cholesky factor, serves rsample too)
    grads = nbgrad.autograd.grad(lp.sum(), [gpu[k] for k in keys], retain_graph=True)
    grads_t = torch.autograd.grad(lp_t.sum(), [expected_tensors[k] for k in keys])
    np.testing.assert_allclose(lp.detach().cpu().numpy(), lp_t.detach().numpy(), rtol=1e-10)
    for key, g, gt in zip(keys, grads, grads_t):
        assert g.device.type == 'cuda'
        np.testing.assert_allclose(g.cpu().numpy(), gt.numpy(), rtol=1e-9, atol=1e-11)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        x = dist.rsample((5,)) if dist.has_rsample else dist.sample((5,))
    assert x.device.type == 'cuda'
    assert tuple(x.shape) == (5,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
    assert bool(dist.support.check(x).all())
    if dist.has_rsample:
        x.sum().backward()
        assert all(gpu[k].grad is not None and gpu[k].grad.device.type == 'cuda' for k in keys)


def test_wishart_rsample_gradient_matches_finite_differences():
    """PyTorch 2.13 cannot differentiate Wishart.rsample (its sampler modifies a saved mask in
    place); nbgrad can. With the seed fixed the draw is a smooth function of scale_tril, so
    central differences are the oracle."""
    tril = nbgrad.tensor([[1.3, 0.0], [0.4, 0.8]], dtype=nbgrad.float64, requires_grad=True)
    weights = nbgrad.tensor([[1.0, -0.5], [0.25, 2.0]], dtype=nbgrad.float64)

    def draw(factor):
        nbgrad.manual_seed(7)
        return (nbgrad.distributions.Wishart(4.5, scale_tril=factor).rsample((3,)) * weights).sum()

    grad = nbgrad.autograd.grad(draw(tril), tril)[0].numpy()
    eps, numeric = 1e-6, np.zeros((2, 2))
    for i, j in [(0, 0), (1, 0), (1, 1)]:
        step = nbgrad.zeros(2, 2, dtype=nbgrad.float64)
        step[i, j] = eps
        numeric[i, j] = (draw(tril.detach() + step).item()
                         - draw(tril.detach() - step).item()) / (2 * eps)
    np.testing.assert_allclose(np.tril(grad), numeric, rtol=1e-6, atol=1e-7)
