"""nbgrad.distributions' core against torch.distributions: the Distribution base class
(validation and its messages, shapes, expand, repr), utils, ExponentialFamily, the KL registry,
TransformedDistribution, Independent and the transform-based families LogNormal, HalfNormal,
HalfCauchy, Gumbel, Weibull and Pareto (values, gradients, seeded samples)."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip('torch')

import nbgrad  # noqa: E402
import nbgrad.distributions  # noqa: E402,F401  (the lead wires nbgrad.distributions into nbgrad)
from torch_compare import assert_same, assert_same_error, on_cpu  # noqa: E402

LIBS = [torch, nbgrad]


def D(lib):
    return lib.distributions


def tensor(lib, a, **kw):
    return lib.tensor(np.asarray(a), **kw)


def _lib_free(text):
    return text.replace('torch.', 'nbgrad.')


# ---------------------------------------------------------------------------------------------
# A minimal distribution written the same way with both libraries, to test the base class alone
# ---------------------------------------------------------------------------------------------

def toy_class(lib):
    dist = D(lib)

    class Toy(dist.Distribution):
        arg_constraints = {'loc': dist.constraints.real, 'scale': dist.constraints.positive}
        support = dist.constraints.real

        def __init__(self, loc, scale, validate_args=None):
            self.loc, self.scale = dist.utils.broadcast_all(loc, scale)
            super().__init__(self.loc.shape, validate_args=validate_args)

    return Toy


def test_parameter_validation_message():
    assert_same_error(lambda lib: toy_class(lib)(tensor(lib, [np.nan, 1.]), tensor(lib, [1., 1.])))
    assert_same_error(lambda lib: toy_class(lib)(0., tensor(lib, [[1., -1.], [2., 0.]])))
    assert_same_error(lambda lib: toy_class(lib)(0., -2.0))
    for lib in LIBS:  # validate_args=False skips the check
        toy_class(lib)(0., -2.0, validate_args=False)


def test_default_validate_args():
    for lib in LIBS:
        base = D(lib).Distribution
        assert base._validate_args is True
        try:
            base.set_default_validate_args(False)
            toy_class(lib)(0., -1.0)  # no error
            with pytest.raises(ValueError):
                toy_class(lib)(0., -1.0, validate_args=True)
        finally:
            base.set_default_validate_args(True)
    assert_same_error(lambda lib: D(lib).Distribution.set_default_validate_args('yes'))
    assert D(nbgrad).Distribution._validate_args is True


def test_missing_arg_constraints_and_support_warn():
    for lib in LIBS:
        class Bare(D(lib).Distribution):
            pass
        with pytest.warns(UserWarning, match='does not define `arg_constraints`'):
            d = Bare(lib.Size([2]))
        with pytest.warns(UserWarning, match='does not define `support`'):
            d._validate_sample(lib.zeros(2))
        with pytest.raises(NotImplementedError):
            d.expand((3, 2))
        for name in ('mean', 'variance', 'stddev'):
            with pytest.raises(NotImplementedError):
                getattr(d, name)
        with pytest.raises(NotImplementedError, match='does not implement mode'):
            d.mode
        for method in ('rsample', 'sample', 'entropy', 'perplexity', 'enumerate_support'):
            with pytest.raises(NotImplementedError):
                getattr(d, method)()
        for method in ('log_prob', 'cdf', 'icdf'):
            with pytest.raises(NotImplementedError):
                getattr(d, method)(lib.zeros(2))


def test_validate_sample_messages():
    def check(value_fn):
        assert_same_error(lambda lib: toy_class(lib)(tensor(lib, [0., 1.]), 1.)._validate_sample(value_fn(lib)))
    check(lambda lib: [0.5, 0.5])
    check(lambda lib: lib.zeros(3))
    check(lambda lib: lib.zeros(4, 3))
    check(lambda lib: tensor(lib, [0., np.nan]))
    # an event shape that does not match
    assert_same_error(lambda lib: D(lib).Independent(toy_class(lib)(lib.zeros(2, 3), 1.), 1)
                      ._validate_sample(lib.zeros(2, 2)))
    for lib in LIBS:  # broadcastable values pass
        toy_class(lib)(tensor(lib, [0., 1.]), 1.)._validate_sample(lib.zeros(5, 1))


def test_repr_shapes_and_extended_shape():
    def run(lib):
        Toy = toy_class(lib)
        a = Toy(0., 1.)
        b = Toy(lib.zeros(2, 3), 1.)
        return (_lib_free(repr(a)), _lib_free(repr(b)), tuple(b.batch_shape), tuple(b.event_shape),
                tuple(b._extended_shape((4,))), tuple(a._extended_shape()),
                type(b._extended_shape([5])).__name__)
    assert run(nbgrad) == run(torch)


def test_get_checked_instance():
    assert_same_error(lambda lib: toy_class(lib)(0., 1.)._get_checked_instance(toy_class(lib)))

    def subclass_expand(lib):
        class MyLogNormal(D(lib).LogNormal):
            def __init__(self, loc):
                super().__init__(loc, 1.0)
        return MyLogNormal(lib.zeros(2)).expand((3, 2))
    assert_same_error(subclass_expand)


def test_sample_n_is_deprecated():
    for lib in LIBS:
        lib.manual_seed(3)
        with pytest.warns(FutureWarning, match=r'`sample_n\(n\)` will be deprecated. Use `sample\(\(n,\)\)` instead.'):
            s = D(lib).LogNormal(0., 1.).sample_n(4)
        assert tuple(s.shape) == (4,)


# ---------------------------------------------------------------------------------------------
# utils
# ---------------------------------------------------------------------------------------------

def test_broadcast_all():
    def run(lib):
        u = D(lib).utils
        a, b = u.broadcast_all(1.0, 2)
        c, d = u.broadcast_all(tensor(lib, [1., 2.], dtype=lib.float64), 3)
        e, f = u.broadcast_all(lib.zeros(2, 1), lib.ones(3))
        return (a, b, c, d, e, f)
    assert_same(run(nbgrad), run(torch))
    assert_same_error(lambda lib: D(lib).utils.broadcast_all(lib.zeros(2), 'x'))
    assert_same_error(lambda lib: D(lib).utils.broadcast_all(lib.zeros(2), lib.zeros(3)))
    assert_same_error(lambda lib: D(lib).utils.broadcast_all(None))
    assert_same_error(lambda lib: D(lib).utils.broadcast_all(1j))
    for lib in LIBS:  # a tensor already of the broadcast shape is returned itself
        a = lib.ones(3, requires_grad=True)
        assert D(lib).utils.broadcast_all(a, 2.0)[0] is a


def test_probs_logits_conversions():
    p = np.array([[0.0, 0.2, 0.8], [1.0, 0.5, 1e-9]])
    for dtype in ('float32', 'float64'):
        def run(lib):
            u = D(lib).utils
            probs = tensor(lib, p, dtype=getattr(lib, dtype))
            logits = tensor(lib, np.log(p + 0.1), dtype=getattr(lib, dtype))
            return (u.clamp_probs(probs), u.probs_to_logits(probs), u.probs_to_logits(probs, is_binary=True),
                    u.logits_to_probs(logits), u.logits_to_probs(logits, is_binary=True))
        assert_same(run(nbgrad), run(torch), rtol=1e-6)


def test_tril_helpers():
    for diag in (-2, -1, 0, 1):
        def run(lib):
            u = D(lib).utils
            mat = tensor(lib, np.arange(2 * 16.).reshape(2, 4, 4))
            vec = u.tril_matrix_to_vec(mat, diag=diag)
            return vec, u.vec_to_tril_matrix(vec, diag=diag)
        assert_same(run(nbgrad), run(torch))
    assert_same_error(lambda lib: D(lib).utils.tril_matrix_to_vec(lib.zeros(3, 3), diag=3))
    assert_same_error(lambda lib: D(lib).utils.vec_to_tril_matrix(lib.zeros(4)))


def test_sum_rightmost_and_standard_normal():
    def run(lib):
        u = D(lib).utils
        lib.manual_seed(11)
        z = u._standard_normal((2, 3), dtype=lib.float64, device='cpu')
        return z, u._sum_rightmost(z, 0), u._sum_rightmost(z, 1), u._sum_rightmost(z, 2)
    got, expected = run(nbgrad), run(torch)
    assert_same(got[0], expected[0], rtol=0, atol=0)
    assert_same(got, expected, rtol=1e-15, atol=1e-15)  # summation order


def test_lazy_property():
    for lib in LIBS:
        u = D(lib).utils
        calls = []

        class Thing:
            @u.lazy_property
            def value(self):
                calls.append(1)
                return lib.ones(2, requires_grad=True) * 2
        assert isinstance(Thing.value, u.lazy_property) and isinstance(Thing.value, property)
        t = Thing()
        with lib.no_grad():
            v = t.value  # computed with grad on even under no_grad
        assert v.requires_grad and t.value is v and len(calls) == 1 and 'value' in t.__dict__
        assert Thing.value.__doc__ == Thing.__dict__['value'].__doc__


# ---------------------------------------------------------------------------------------------
# ExponentialFamily and the KL registry
# ---------------------------------------------------------------------------------------------

def exp_family_class(lib):
    """Exponential(rate) as an exponential family: theta = -rate, F(theta) = -log(-theta)."""
    dist = D(lib)

    class RateFamily(dist.ExponentialFamily):
        arg_constraints = {'rate': dist.constraints.positive}
        support = dist.constraints.nonnegative

        def __init__(self, rate):
            (self.rate,) = dist.utils.broadcast_all(rate)
            super().__init__(self.rate.shape)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, theta):
            return -lib.log(-theta)

        @property
        def _mean_carrier_measure(self):
            return 0

    return RateFamily


def test_exponential_family_entropy_and_kl():
    rates_p, rates_q = [0.5, 1.0, 3.0], [2.0, 1.0, 0.1]

    def run(lib):
        Fam = exp_family_class(lib)
        rate = tensor(lib, rates_q, requires_grad=True)
        p, q = Fam(tensor(lib, rates_p)), Fam(rate)
        h, kl = p.entropy(), D(lib).kl_divergence(p, q)
        grad = lib.autograd.grad(kl.sum(), rate)[0]  # the entropy treats theta as a constant
        return h, kl, grad
    got = run(nbgrad)
    assert_same(got, run(torch), rtol=1e-12)
    # the closed forms: H = 1 - log(rate); KL = log(rp / rq) + rq / rp - 1
    rp, rq = np.array(rates_p), np.array(rates_q)
    np.testing.assert_allclose(got[0].detach().numpy(), 1 - np.log(rp), rtol=1e-12)
    np.testing.assert_allclose(got[1].detach().numpy(), np.log(rp / rq) + rq / rp - 1, rtol=1e-12)


def test_kl_expfamily_cross_family_message():
    def cross(lib):
        Fam = exp_family_class(lib)

        class Other(Fam):
            pass
        return D(lib).kl_divergence(Fam(1.0), Other(2.0))
    assert_same_error(cross)


def test_kl_registry_dispatch():
    for lib in LIBS:
        dist = D(lib)

        class Base(dist.Distribution):
            arg_constraints = {}

        class Derived(Base):
            pass

        class Unrelated(dist.Distribution):
            arg_constraints = {}

        def kl_one(p, q):
            return 'one'

        def kl_two(p, q):
            return 'two'

        dist.register_kl(Base, Derived)(kl_one)
        dist.register_kl(Derived, Base)(kl_two)
        with pytest.warns(RuntimeWarning, match=r'Ambiguous kl_divergence\(Derived, Derived\). '
                                                r'Please register_kl\(Derived, Derived\)'):
            assert dist.kl_divergence(Derived(), Derived()) == 'two'
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            assert dist.kl_divergence(Derived(), Derived()) == 'two'  # memoised: no new warning
            assert dist.kl_divergence(Base(), Derived()) == 'one'
            assert dist.register_kl(Derived, Derived)(kl_one) is kl_one  # breaks the tie
            assert dist.kl_divergence(Derived(), Derived()) == 'one'
        with pytest.raises(NotImplementedError, match='No KL\\(p \\|\\| q\\) is implemented for p type '
                                                      'Unrelated and q type Base'):
            dist.kl_divergence(Unrelated(), Base())
    assert_same_error(lambda lib: D(lib).register_kl(1, D(lib).Distribution))
    assert_same_error(lambda lib: D(lib).register_kl(D(lib).Distribution, 'x'))


# ---------------------------------------------------------------------------------------------
# Independent and TransformedDistribution
# ---------------------------------------------------------------------------------------------

def test_independent():
    loc = np.linspace(-1, 1, 24).reshape(2, 3, 4)

    def run(lib):
        dist = D(lib)
        mu = tensor(lib, loc, requires_grad=True)
        base = dist.Normal(mu, tensor(lib, 1.5, dtype=lib.float64))
        ind = dist.Independent(base, 2)
        value = tensor(lib, loc[::-1].copy() * 2)
        lib.manual_seed(5)
        sample = ind.sample((2,))
        lp = ind.log_prob(value)
        grad = lib.autograd.grad(lp.sum() + ind.entropy().sum(), mu)[0]
        expanded = ind.expand((5, 2))
        return dict(batch=tuple(ind.batch_shape), event=tuple(ind.event_shape), lp=lp.detach(),
                    entropy=ind.entropy().detach(), mean=ind.mean.detach(), mode=ind.mode.detach(),
                    variance=ind.variance, sample=sample, grad=grad, support=repr(ind.support),
                    rsample=ind.has_rsample, enum=ind.has_enumerate_support,
                    expanded=(tuple(expanded.batch_shape), tuple(expanded.event_shape),
                              tuple(expanded.base_dist.batch_shape)),
                    repr=_lib_free(repr(dist.Independent(dist.Normal(0., lib.ones(3)), 1))))
    expected, got = run(torch), run(nbgrad)
    for key in expected:
        assert_same(got[key], expected[key], key, rtol=1e-12)
    assert_same_error(lambda lib: D(lib).Independent(D(lib).Normal(lib.zeros(3), 1.), 2))
    assert_same_error(lambda lib: D(lib).Independent(D(lib).Bernoulli(lib.full((3,), 0.5)), 1)
                      .enumerate_support())
    for lib in LIBS:
        plain = D(lib).Independent(D(lib).Bernoulli(lib.full((3,), 0.5)), 0)
        assert plain.has_enumerate_support and tuple(plain.enumerate_support().shape) == (2, 3)


def _transformed_cases(lib):
    dist, T = D(lib), D(lib).transforms
    normal = dist.Normal(tensor(lib, [0.1, -0.3, 0.5]), tensor(lib, [1.0, 0.5, 2.0]))
    return {
        'logistic': (dist.TransformedDistribution(dist.Uniform(lib.zeros(3), lib.ones(3)),
                                                  [T.SigmoidTransform().inv,
                                                   T.AffineTransform(loc=1.0, scale=2.0)]),
                     [[-2.0, 0.0, 3.0]]),
        'decreasing': (dist.TransformedDistribution(normal, T.AffineTransform(0.5, -2.0)),
                       [[-1.0, 0.5, 2.0]]),
        'stick': (dist.TransformedDistribution(normal, T.StickBreakingTransform()),
                  [[0.1, 0.2, 0.3, 0.4]]),
        'reshape': (dist.TransformedDistribution(dist.Normal(lib.zeros(2, 6), 1.0),
                                                 [T.ReshapeTransform((6,), (2, 3)), T.ExpTransform()]),
                    [np.full((2, 2, 3), 0.5)]),
        'empty': (dist.TransformedDistribution(normal, []), [[0.0, 1.0, -1.0]]),
    }


@pytest.mark.parametrize('name', ['logistic', 'decreasing', 'stick', 'reshape', 'empty'])
def test_transformed_distribution(name):
    def run(lib):
        d, values = _transformed_cases(lib)[name]
        lib.manual_seed(9)
        sample = d.sample((4,))
        lib.manual_seed(9)
        rsample = d.rsample((4,))
        out = dict(batch=tuple(d.batch_shape), event=tuple(d.event_shape), sample=sample,
                   rsample=rsample.detach(), support=_lib_free(repr(d.support)),
                   has_rsample=d.has_rsample,
                   sample_lp=d.log_prob(sample))
        for i, v in enumerate(values):
            value = tensor(lib, v, dtype=lib.float32)
            out[f'log_prob{i}'] = d.log_prob(value)
            if name in ('logistic', 'decreasing', 'empty'):
                out[f'cdf{i}'] = d.cdf(value)
                out[f'icdf{i}'] = d.icdf(tensor(lib, [0.1, 0.5, 0.9], dtype=lib.float32))
        expanded = d.expand((2,) + tuple(d.batch_shape))
        out['expanded'] = (tuple(expanded.batch_shape), tuple(expanded.event_shape),
                           type(expanded).__name__)
        return out
    expected, got = run(torch), run(nbgrad)
    for key in expected:
        assert_same(got[key], expected[key], key, rtol=2e-6, atol=1e-6)


def test_transformed_distribution_errors():
    assert_same_error(lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0., 1.), [1]))
    assert_same_error(lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0., 1.), 'exp'))
    assert_same_error(lambda lib: D(lib).TransformedDistribution(D(lib).Normal(0., 1.),
                                                                 D(lib).transforms.StickBreakingTransform()))
    assert_same_error(lambda lib: D(lib).TransformedDistribution(
        D(lib).Normal(0., 1.), D(lib).transforms.ExpTransform()).log_prob(lib.tensor(-1.)))


def test_kl_independent_and_transformed():
    def run(lib):
        dist, T = D(lib), D(lib).transforms
        n1 = dist.Normal(tensor(lib, [[0., 1.], [2., 3.]]), tensor(lib, [[1., 2.], [0.5, 1.]]))
        n2 = dist.Normal(tensor(lib, [[1., 1.], [0., 3.]]), tensor(lib, [[2., 2.], [1., 0.5]]))
        kls = [dist.kl_divergence(dist.Independent(n1, 1), dist.Independent(n2, 1)),
               dist.kl_divergence(dist.TransformedDistribution(n1, T.ExpTransform()),
                                  dist.TransformedDistribution(n2, T.ExpTransform()))]
        return kls
    assert_same(run(nbgrad), run(torch))
    assert_same_error(lambda lib: D(lib).kl_divergence(
        D(lib).Independent(D(lib).Normal(lib.zeros(2, 2), 1.), 1),
        D(lib).Independent(D(lib).Normal(lib.zeros(2, 2), 1.), 2)))
    assert_same_error(lambda lib: D(lib).kl_divergence(
        D(lib).TransformedDistribution(D(lib).Normal(0., 1.), D(lib).transforms.ExpTransform()),
        D(lib).TransformedDistribution(D(lib).Normal(0., 1.), D(lib).transforms.SigmoidTransform())))


# ---------------------------------------------------------------------------------------------
# The six transform-based families
# ---------------------------------------------------------------------------------------------

# (name, build(lib, params) -> distribution, parameter arrays, values in the support, has icdf)
FAMILY_CASES = [
    ('LogNormal', lambda M, p: M.LogNormal(p[0], p[1]), ([0.2, -1.0, 1.5], [0.5, 1.0, 2.0]),
     [0.3, 1.0, 4.0], False),
    ('HalfNormal', lambda M, p: M.HalfNormal(p[0]), ([0.5, 1.0, 3.0],), [0.0, 1.0, 4.0], True),
    ('HalfCauchy', lambda M, p: M.HalfCauchy(p[0]), ([0.5, 1.0, 3.0],), [0.0, 1.0, 4.0], True),
    ('Gumbel', lambda M, p: M.Gumbel(p[0], p[1]), ([0.2, -1.0, 1.5], [0.5, 1.0, 2.0]),
     [-1.0, 0.5, 3.0], True),
    ('Weibull', lambda M, p: M.Weibull(p[0], p[1]), ([0.5, 1.0, 3.0], [0.7, 1.5, 3.0]),
     [0.3, 1.0, 4.0], True),
    ('Pareto', lambda M, p: M.Pareto(p[0], p[1]), ([0.5, 1.0, 1.5], [0.7, 2.5, 3.5]),
     [0.6, 1.0, 4.0], True),
]
FAMILY_IDS = [c[0] for c in FAMILY_CASES]


def _family_outcomes(lib, build, params, values, has_icdf, dtype):
    dist = D(lib)
    leaves = [tensor(lib, p, dtype=dtype, requires_grad=True) for p in params]
    d = build(dist, leaves)
    value = tensor(lib, values, dtype=dtype)
    out = dict(batch=tuple(d.batch_shape), event=tuple(d.event_shape), support=_lib_free(repr(d.support)),
               has_rsample=d.has_rsample)
    for name in ('mean', 'mode', 'variance', 'stddev'):
        out[name] = getattr(d, name).detach()
    out['entropy'] = d.entropy()
    out['perplexity'] = d.perplexity().detach()
    out['log_prob'] = d.log_prob(value)
    out['cdf'] = d.cdf(value)
    if has_icdf:
        out['icdf'] = d.icdf(tensor(lib, [0.1, 0.5, 0.9], dtype=dtype))
    lib.manual_seed(17)
    out['sample'] = d.sample((5,))
    lib.manual_seed(17)
    rsample = d.rsample((5,))
    out['rsample'] = rsample.detach()
    loss = (rsample.sum() + out['log_prob'].sum() + out['entropy'].sum() + out['cdf'].sum()
            + (out['icdf'].sum() if has_icdf else 0))
    out['grads'] = lib.autograd.grad(loss, leaves)
    for key in ('entropy', 'log_prob', 'cdf', 'icdf'):
        if key in out:
            out[key] = out[key].detach()
    expanded = d.expand((4, 3))
    lib.manual_seed(2)
    out['expanded'] = (tuple(expanded.batch_shape), expanded.log_prob(value).detach(),
                       expanded.sample(), expanded.mean.detach())
    return out


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name, build, params, values, has_icdf', FAMILY_CASES, ids=FAMILY_IDS)
def test_family(name, build, params, values, has_icdf, dtype):
    expected = _family_outcomes(torch, build, params, values, has_icdf, getattr(torch, dtype))
    got = _family_outcomes(nbgrad, build, params, values, has_icdf, getattr(nbgrad, dtype))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == 'float64' else dict(rtol=2e-6, atol=1e-6)
    for key in expected:
        assert_same(got[key], expected[key], f'{name}: {key}', **tol)


@pytest.mark.parametrize('name, build, params, values, has_icdf', FAMILY_CASES, ids=FAMILY_IDS)
def test_family_seeded_samples_exact(name, build, params, values, has_icdf):
    def run(lib, dtype):
        d = build(D(lib), [tensor(lib, p, dtype=getattr(lib, dtype)) for p in params])
        lib.manual_seed(123)
        return d.sample((1000,)), d.rsample((2, 3))
    # the same draws; the transforms' arithmetic (exp, log, pow) may differ in the last bit,
    # which Gumbel's loc - scale * log(-log(u)) can turn into a few ulps near 0
    assert_same(run(nbgrad, 'float64'), run(torch, 'float64'), rtol=1e-13, atol=1e-14)
    assert_same(run(nbgrad, 'float32'), run(torch, 'float32'), rtol=4e-7, atol=1e-6)


@pytest.mark.parametrize('name, build, params, values, has_icdf', FAMILY_CASES, ids=FAMILY_IDS)
def test_family_validation(name, build, params, values, has_icdf):
    bad = [np.array(p) * np.array([1.0, -1.0, 1.0]) for p in params]
    # one parameter made invalid at a time (a negative scale or shape); loc is real
    for i in range(len(params)):
        args = [np.array(p) for p in params]
        args[i] = bad[i]
        assert_same_error(lambda lib: build(D(lib), [tensor(lib, a, dtype=lib.float32) for a in args])) \
            if name not in ('LogNormal', 'Gumbel') or i == 1 else None
    # a value outside the support
    outside = {'Gumbel': [np.nan, 0., 0.]}.get(name, [-1.0, 1.0, 2.0])
    assert_same_error(lambda lib: build(D(lib), [tensor(lib, p, dtype=lib.float32) for p in params])
                      .log_prob(tensor(lib, outside, dtype=lib.float32)))


def test_family_scalar_parameters():
    def run(lib):
        M = D(lib)
        lib.manual_seed(4)
        ds = [M.LogNormal(0.5, 2.0), M.HalfNormal(2.0), M.HalfCauchy(1.0), M.Gumbel(1.0, 2.0),
              M.Weibull(2.0, 1.5), M.Pareto(1.0, 3.0)]
        return [(d.sample((3,)), d.log_prob(d.sample()), d.entropy(), d.mean) for d in ds]
    assert_same(run(nbgrad), run(torch), rtol=1e-6)


def test_half_families_log_prob_outside():
    def run(lib):
        M = D(lib)
        value = tensor(lib, [-1.0, 0.0, 2.0])
        return (M.HalfNormal(lib.ones(3), validate_args=False).log_prob(value),
                M.HalfCauchy(lib.ones(3), validate_args=False).log_prob(value))
    assert_same(run(nbgrad), run(torch))


def test_pareto_support_and_moments_at_small_alpha():
    def run(lib):
        d = D(lib).Pareto(tensor(lib, [1.0, 2.0, 3.0]), tensor(lib, [0.5, 1.5, 2.5]))
        return d.mean, d.variance, _lib_free(repr(d.support)), d.support.check(tensor(lib, [1.0, 1.9, 3.0]))
    assert_same(run(nbgrad), run(torch))


# (p, q) pairs PyTorch registers with a Gumbel, HalfNormal or Pareto on one side
KL_CASES = [
    ('Gumbel', 'Gumbel'), ('HalfNormal', 'HalfNormal'), ('Pareto', 'Pareto'),
    ('Exponential', 'Gumbel'), ('Gamma', 'Gumbel'), ('Normal', 'Gumbel'), ('Uniform', 'Gumbel'),
    ('Gumbel', 'Normal'), ('Pareto', 'Exponential'), ('Pareto', 'Gamma'), ('Pareto', 'Normal'),
    ('Uniform', 'Pareto'), ('Gumbel', 'Beta'), ('Gumbel', 'ContinuousBernoulli'), ('Gumbel', 'Exponential'),
    ('Gumbel', 'Gamma'), ('Gumbel', 'Pareto'), ('Gumbel', 'Uniform'), ('Pareto', 'Beta'),
    ('Pareto', 'ContinuousBernoulli'), ('Pareto', 'Uniform'), ('Beta', 'Pareto'),
    ('ContinuousBernoulli', 'Pareto'), ('Exponential', 'Pareto'), ('Gamma', 'Pareto'),
    ('Laplace', 'Pareto'), ('Normal', 'Pareto'), ('LogNormal', 'LogNormal'),
]


def _kl_dist(lib, name, which):
    M = D(lib)
    a = tensor(lib, [0.4, 1.3, 2.5] if which else [1.2, 0.6, 3.0], dtype=lib.float64, requires_grad=True)
    b = tensor(lib, [1.5, 0.8, 2.0] if which else [0.9, 2.5, 1.1], dtype=lib.float64, requires_grad=True)
    build = {
        'Gumbel': lambda: M.Gumbel(a, b), 'HalfNormal': lambda: M.HalfNormal(b),
        'Pareto': lambda: M.Pareto(a, b), 'Exponential': lambda: M.Exponential(b),
        'Gamma': lambda: M.Gamma(a, b), 'Normal': lambda: M.Normal(a, b),
        'Uniform': lambda: M.Uniform(a, a + b), 'Beta': lambda: M.Beta(a, b),
        'ContinuousBernoulli': lambda: M.ContinuousBernoulli(a / 3),
        'Laplace': lambda: M.Laplace(a, b), 'LogNormal': lambda: M.LogNormal(a, b),
    }[name]
    return build(), (a, b)


@pytest.mark.parametrize('p_name, q_name', KL_CASES, ids=[f'{p}-{q}' for p, q in KL_CASES])
def test_kl_pairs(p_name, q_name):
    def run(lib):
        p, p_leaves = _kl_dist(lib, p_name, 0)
        q, q_leaves = _kl_dist(lib, q_name, 1)
        kl = D(lib).kl_divergence(p, q)
        leaves = [x for x in p_leaves + q_leaves]
        grads = lib.autograd.grad(kl[kl.isfinite()].sum(), leaves, allow_unused=True) \
            if bool(kl.isfinite().any()) else None
        return kl.detach(), grads
    got, expected = run(nbgrad), run(torch)
    assert_same(got[0], expected[0], rtol=1e-12, atol=1e-14)
    # PyTorch's trigamma (the gradient of digamma) is accurate to ~1e-9 only; nbgrad's to 1e-15
    assert_same(got[1], expected[1], rtol=1e-8, atol=1e-12)


def test_kl_gumbel_matches_monte_carlo():
    # an estimate nbgrad's closed form did not make: E_p[log p - log q] from 200k samples
    p, q = nbgrad.distributions.Gumbel(0.3, 1.2), nbgrad.distributions.Gumbel(-0.5, 2.0)
    nbgrad.manual_seed(0)
    x = p.sample((200000,)).double()
    terms = (p.log_prob(x) - q.log_prob(x)).numpy()
    tolerance = 5 * terms.std() / math.sqrt(terms.size)
    assert abs(float(nbgrad.distributions.kl_divergence(p, q)) - terms.mean()) < tolerance


# ---------------------------------------------------------------------------------------------
# Device (CUDA): the same numbers from parameters on the GPU
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, build, params, values, has_icdf', FAMILY_CASES, ids=FAMILY_IDS)
def test_family_on_device(device, name, build, params, values, has_icdf):
    def run(lib, dev):
        leaves = [tensor(lib, p, dtype=lib.float64).to(dev).requires_grad_() for p in params]
        d = build(D(lib), leaves)
        value = tensor(lib, values, dtype=lib.float64).to(dev)
        lp = d.log_prob(value)
        sample = d.rsample((50,))
        assert tuple(sample.shape) == (50, 3) and sample.device.type == lib.device(dev).type
        assert bool(d.support.check(sample.detach()).all())
        grads = lib.autograd.grad(lp.sum() + d.entropy().sum(), leaves, retain_graph=True)
        # a reparameterised sample backpropagates to every parameter (values differ by draw)
        sample_grads = lib.autograd.grad(sample.sum(), leaves)
        assert all(bool(g.isfinite().all()) for g in sample_grads)
        return lp.detach(), d.cdf(value).detach(), d.mean.detach(), grads
    expected = run(torch, 'cpu')
    got = run(nbgrad, device)
    assert_same(on_cpu(got), expected, rtol=1e-10, atol=1e-12)


def test_transformed_on_device(device):
    def run(lib, dev):
        M, T = D(lib), D(lib).transforms
        loc = tensor(lib, [0.1, -0.3, 0.5], dtype=lib.float64).to(dev).requires_grad_()
        base = M.Normal(loc, tensor(lib, [1.0, 0.5, 2.0], dtype=lib.float64).to(dev))
        d = M.TransformedDistribution(base, [T.StickBreakingTransform(),
                                             T.AffineTransform(0.0, 2.0, event_dim=1)])
        ind = M.Independent(M.Normal(loc, 1.0), 1)
        value = tensor(lib, [0.2, 0.4, 0.6, 0.8], dtype=lib.float64).to(dev)
        lp = d.log_prob(value) + ind.log_prob(loc.detach() * 2)
        sample = d.rsample((20,))
        assert sample.device.type == lib.device(dev).type
        return lp.detach(), lib.autograd.grad(lp, loc)[0]
    assert_same(on_cpu(run(nbgrad, device)), run(torch, 'cpu'), rtol=1e-10)
