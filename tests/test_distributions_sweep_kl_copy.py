"""Distributions porting sweep (see distributions_sweep_common.py): kl_divergence for many pairs
and register_kl; deepcopy, pickle, repr and attributes; user subclasses of Distribution."""
from distributions_sweep_common import *  # noqa: F401,F403 (the harness and helpers)
from distributions_sweep_common import _text  # noqa: F401


# ======================================================================================
# kl_divergence for many pairs, register_kl
# ======================================================================================

def _kl_zoo(lib):
    a = f64(lib, [0.5, 2.0])
    b = f64(lib, [1.5, 0.7])
    lt = f64(lib, [[1.0, 0.0], [0.4, 0.8]])
    return {
        'Normal': D(lib).Normal(a - 1, b), 'Laplace': D(lib).Laplace(a, b),
        'Gumbel': D(lib).Gumbel(a, b), 'Cauchy': D(lib).Cauchy(a, b),
        'Uniform': D(lib).Uniform(a - 3, a + b), 'Exponential': D(lib).Exponential(b),
        'Gamma': D(lib).Gamma(a + 1, b), 'Beta': D(lib).Beta(a, b),
        'Chi2': D(lib).Chi2(a + 1), 'Pareto': D(lib).Pareto(b, a + 2),
        'HalfNormal': D(lib).HalfNormal(b), 'LogNormal': D(lib).LogNormal(a, b),
        'ContinuousBernoulli': D(lib).ContinuousBernoulli(b / 3),
        'Bernoulli': D(lib).Bernoulli(b / 3), 'Binomial': D(lib).Binomial(5, b / 3),
        'Geometric': D(lib).Geometric(b / 3), 'Poisson': D(lib).Poisson(a),
        'Categorical': D(lib).Categorical(logits=lt),
        'OneHotCategorical': D(lib).OneHotCategorical(logits=lt),
        'Dirichlet': D(lib).Dirichlet(lt + 0.5), 'StudentT': D(lib).StudentT(a + 2, a, b),
        'VonMises': D(lib).VonMises(a, b), 'Weibull': D(lib).Weibull(b, a),
        'Kumaraswamy': D(lib).Kumaraswamy(a, b),
        'MVN': D(lib).MultivariateNormal(a, scale_tril=lt),
        'LowRank': D(lib).LowRankMultivariateNormal(a, lt[:, :1], b),
        'IndepNormal': D(lib).Independent(D(lib).Normal(a, b), 1),
        'NegBin': D(lib).NegativeBinomial(a, b / 3),
        'InverseGamma': D(lib).InverseGamma(a + 1, b),
    }


def _kl_row(first):
    def fn(lib):
        zoo = _kl_zoo(lib)
        zoo2 = _kl_zoo(lib)
        p = zoo[first]
        out = []
        for k, q in zoo2.items():
            out.append((k, try_(lambda: D(lib).kl_divergence(p, q))))
        return out
    fn.__name__ = f'kl_row_{first}'
    return fn


for _first in ['Normal', 'Laplace', 'Gumbel', 'Uniform', 'Exponential', 'Gamma', 'Beta',
               'Pareto', 'HalfNormal', 'LogNormal', 'ContinuousBernoulli', 'Bernoulli',
               'Binomial', 'Geometric', 'Poisson', 'Categorical', 'OneHotCategorical',
               'Dirichlet', 'MVN', 'LowRank', 'IndepNormal', 'Chi2', 'Cauchy', 'StudentT']:
    case(_kl_row(_first))


@case
def kl_grads_float64(lib):
    out = []
    for mk in [lambda p: (D(lib).Normal(p[0], p[1]), D(lib).Normal(p[1], p[0] + 2)),
               lambda p: (D(lib).Gamma(p[0] + 1, p[1]), D(lib).Gamma(p[1], p[0] + 2)),
               lambda p: (D(lib).Beta(p[0] + 1, p[1]), D(lib).Beta(p[1], p[0] + 2)),
               lambda p: (D(lib).Dirichlet(lib.stack([p[0] + 1, p[1]])),
                          D(lib).Dirichlet(lib.stack([p[1], p[0] + 2]))),
               lambda p: (D(lib).Categorical(logits=p[0]), D(lib).Categorical(logits=p[1])),
               lambda p: (D(lib).Bernoulli(logits=p[0]), D(lib).Bernoulli(logits=p[1])),
               lambda p: (D(lib).Uniform(p[0] - 5, p[0] + 5), D(lib).Normal(p[1], p[0] + 2)),
               lambda p: (D(lib).Exponential(p[1]), D(lib).Gamma(p[0] + 1, p[1])),
               lambda p: (D(lib).Laplace(p[0], p[1]), D(lib).Laplace(p[1], p[0] + 2)),
               lambda p: (D(lib).Poisson(p[1]), D(lib).Poisson(p[0] + 2))]:
        p = [leaf(lib, [0.5, 1.5]), leaf(lib, [1.2, 0.3])]
        a, b = mk(p)
        kl = D(lib).kl_divergence(a, b)
        out.append((kl, lib.autograd.grad(kl.sum(), p, allow_unused=True)))
    return out


@case
def kl_transformed_same_transform(lib):
    T = D(lib).transforms
    p = D(lib).TransformedDistribution(D(lib).Normal(f64(lib, 0.5), 1.2), [T.ExpTransform()])
    q = D(lib).TransformedDistribution(D(lib).Normal(f64(lib, 0.0), 2.0), [T.ExpTransform()])
    r = D(lib).TransformedDistribution(D(lib).Normal(f64(lib, 0.0), 2.0), [T.SigmoidTransform()])
    return D(lib).kl_divergence(p, q), try_(lambda: D(lib).kl_divergence(p, r))


@case
def kl_independent_mismatch(lib):
    p = D(lib).Independent(D(lib).Normal(lib.zeros(2, 3), 1.0), 1)
    q = D(lib).Independent(D(lib).Normal(lib.zeros(2, 3), 1.0), 2)
    return try_(lambda: D(lib).kl_divergence(p, q)), try_(
        lambda: D(lib).kl_divergence(p, D(lib).Normal(lib.zeros(2, 3), 1.0)))


@case
def kl_batch_broadcast(lib):
    p = D(lib).Normal(f64(lib, [[0.0], [1.0]]), 1.0)
    q = D(lib).Normal(f64(lib, [0.0, 2.0, 3.0]), 2.0)
    return D(lib).kl_divergence(p, q)


@case
def kl_infinite_support_mismatch(lib):
    return (D(lib).kl_divergence(D(lib).Uniform(0.0, 2.0), D(lib).Uniform(0.5, 1.0)),
            D(lib).kl_divergence(D(lib).Normal(0.0, 1.0), D(lib).Exponential(1.0)),
            D(lib).kl_divergence(D(lib).Categorical(probs=lib.tensor([0.5, 0.5])),
                                 D(lib).Categorical(probs=lib.tensor([1.0, 0.0]))),
            D(lib).kl_divergence(D(lib).Bernoulli(lib.tensor(1.0)), D(lib).Bernoulli(
                lib.tensor(0.0))),
            D(lib).kl_divergence(D(lib).Poisson(lib.tensor(0.0)), D(lib).Poisson(
                lib.tensor(1.0))))


@case
def register_kl_custom_pair(lib):
    class MyNormal(D(lib).Normal):
        pass

    class Other(D(lib).Distribution):
        arg_constraints = {}

        def __init__(self):
            super().__init__(lib.Size(), validate_args=False)

    @D(lib).register_kl(MyNormal, MyNormal)
    def _kl_mine(p, q):
        return (p.loc - q.loc).abs()

    @D(lib).register_kl(Other, D(lib).Normal)
    def _kl_other(p, q):
        return q.loc * 0 + 42.0

    a = MyNormal(f64(lib, 1.0), 1.0)
    b = MyNormal(f64(lib, 3.0), 1.0)
    n = D(lib).Normal(f64(lib, 3.0), 1.0)
    return (D(lib).kl_divergence(a, b), D(lib).kl_divergence(a, n),
            D(lib).kl_divergence(Other(), n), D(lib).kl_divergence(Other(), b),
            try_(lambda: D(lib).kl_divergence(n, Other())))


@case
def register_kl_ambiguous_warning(lib):
    class A(D(lib).Normal):
        pass

    class B(D(lib).Normal):
        pass

    class AA(A):
        pass

    class BB(B):
        pass

    D(lib).register_kl(AA, B)(lambda p, q: lib.tensor(1.0))
    D(lib).register_kl(A, BB)(lambda p, q: lib.tensor(2.0))
    return D(lib).kl_divergence(AA(0.0, 1.0), BB(0.0, 1.0))


@case
def register_kl_bad_types(lib):
    return try_(lambda: D(lib).register_kl(int, D(lib).Normal)), \
        try_(lambda: D(lib).register_kl(D(lib).Normal, 'x'))


@case
def kl_not_implemented_message(lib):
    return try_(lambda: D(lib).kl_divergence(D(lib).Cauchy(0.0, 1.0),
                                             D(lib).Normal(0.0, 1.0)))


# ======================================================================================
# deepcopy / pickle / repr / attributes
# ======================================================================================

@case
def deepcopy_distributions(lib):
    lib.manual_seed(0)
    out = []
    for d in [D(lib).Normal(leaf(lib, [0.0, 1.0]), 2.0), D(lib).Categorical(logits=lib.ones(3)),
              D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)), _gmm(lib)[0],
              D(lib).TransformedDistribution(D(lib).Normal(0., 1.),
                                             [D(lib).transforms.TanhTransform(cache_size=1)]),
              D(lib).Independent(D(lib).Beta(lib.ones(2), lib.ones(2)), 1)]:
        c = copy.deepcopy(d)
        lib.manual_seed(1)
        s1 = d.sample((2,))
        lib.manual_seed(1)
        s2 = c.sample((2,))
        out.append((type(c).__name__, repr(c), s2, d.log_prob(s1), c.log_prob(s2),
                    c.batch_shape, c.event_shape))
    return out


@case
def pickle_distributions(lib):
    out = []
    for d in [D(lib).Normal(lib.tensor([0.0, 1.0]), 2.0),
              D(lib).Categorical(probs=lib.tensor([0.2, 0.8])),
              D(lib).Gamma(lib.tensor(2.0), lib.tensor(3.0)),
              D(lib).Independent(D(lib).Normal(lib.zeros(2, 2), 1.0), 1),
              D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)),
              D(lib).Bernoulli(logits=lib.tensor([0.3])),
              D(lib).MixtureSameFamily(D(lib).Categorical(lib.ones(2)),
                                       D(lib).Normal(lib.zeros(2), 1.0))]:
        r = try_(lambda: pickle.loads(pickle.dumps(d)))
        out.append(r if isinstance(r, tuple) else (repr(r), r.mean, r.batch_shape))
    return out


@case
def pickle_transforms_constraints(lib):
    T = D(lib).transforms
    C = D(lib).constraints
    out = []
    for o in [T.ExpTransform(), T.AffineTransform(1.0, 2.0), T.ComposeTransform(
            [T.ExpTransform(), T.SigmoidTransform()]), C.positive, C.interval(0.0, 1.0),
              C.simplex, T.ExpTransform().inv]:
        r = try_(lambda: pickle.loads(pickle.dumps(o)))
        out.append(r if isinstance(r, tuple) else repr(r))
    return out


@case
def repr_many(lib):
    ds = [D(lib).Normal(0.0, 1.0), D(lib).Normal(lib.tensor(0.5), lib.tensor(1.5)),
          D(lib).Normal(lib.tensor([0.5]), 1.0), D(lib).Normal(lib.zeros(2), 1.0),
          D(lib).Normal(leaf(lib, 0.5), 1.0),
          D(lib).Categorical(probs=lib.tensor([0.25, 0.75])),
          D(lib).Categorical(logits=lib.tensor([0.25, 0.75])),
          D(lib).Bernoulli(logits=lib.tensor(0.3)), D(lib).Bernoulli(0.3),
          D(lib).Binomial(10, lib.tensor(0.3)), D(lib).Binomial(lib.tensor([10, 2]), 0.3),
          D(lib).Gamma(f64(lib, 1.0), 2.0), D(lib).Beta(2.0, 3.0), D(lib).Dirichlet(lib.ones(3)),
          D(lib).Dirichlet(lib.tensor([0.123456789, 2.0])), D(lib).Uniform(-1.0, 1.0),
          D(lib).Exponential(3.0), D(lib).StudentT(3.0), D(lib).Chi2(lib.tensor(4.0)),
          D(lib).Multinomial(5, lib.ones(3)), D(lib).OneHotCategorical(lib.ones(3)),
          D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)), D(lib).LKJCholesky(2, 0.5),
          D(lib).Wishart(lib.tensor(3.0), lib.eye(2)), D(lib).VonMises(0.0, 1.0),
          D(lib).Poisson(lib.tensor([1.0, 2.0, 3.0])), D(lib).Geometric(0.5),
          D(lib).NegativeBinomial(3, 0.5), D(lib).RelaxedBernoulli(0.5, 0.3),
          D(lib).RelaxedOneHotCategorical(0.5, lib.ones(2)), D(lib).LogNormal(0.0, 1.0),
          D(lib).HalfNormal(1.0), D(lib).Pareto(1.0, 2.0), D(lib).Weibull(1.0, 2.0),
          D(lib).Kumaraswamy(1.0, 2.0), D(lib).LogisticNormal(lib.zeros(2), 1.0),
          D(lib).ContinuousBernoulli(0.3), D(lib).FisherSnedecor(2.0, 3.0),
          D(lib).Laplace(0.0, 1.0), D(lib).Cauchy(0.0, 1.0), D(lib).Gumbel(0.0, 1.0),
          D(lib).HalfCauchy(1.0), D(lib).InverseGamma(2.0, 1.0),
          D(lib).GeneralizedPareto(0.0, 1.0, 0.1),
          D(lib).Normal(lib.tensor(1e-8), lib.tensor(123456.7)),
          D(lib).Normal(f64(lib, 1.0 / 3), f64(lib, 2.0 / 3))]
    return [repr(d) for d in ds], [str(d) for d in ds[:3]]


@case
def distribution_attributes(lib):
    d = D(lib).Normal(lib.zeros(2), 1.0)
    c = D(lib).Categorical(probs=lib.tensor([0.5, 0.5]))
    return (sorted(k for k in vars(d) if not k.startswith('__')),
            sorted(k for k in vars(c) if not k.startswith('__')),
            d.arg_constraints is D(lib).Normal.arg_constraints,
            D(lib).Normal.has_rsample, D(lib).Categorical.has_enumerate_support,
            isinstance(D(lib).Normal(0., 1.), D(lib).ExponentialFamily),
            isinstance(D(lib).Gamma(1., 1.), D(lib).ExponentialFamily),
            [c.__name__ for c in D(lib).LogNormal.__mro__],
            [c.__name__ for c in D(lib).Chi2.__mro__],
            [c.__name__ for c in D(lib).HalfCauchy.__mro__],
            [c.__name__ for c in D(lib).OneHotCategoricalStraightThrough.__mro__])


@case
def lazy_property_caching(lib):
    c = D(lib).Categorical(probs=lib.tensor([0.2, 0.8]))
    before = 'logits' in vars(c)
    lg = c.logits
    after = 'logits' in vars(c)
    b = D(lib).Bernoulli(logits=lib.tensor([0.0]))
    return before, after, lg, lg is c.logits, 'probs' in vars(b), b.probs, 'probs' in vars(b), \
        type(vars(type(c))['logits']).__name__


# ======================================================================================
# user subclasses of Distribution
# ======================================================================================

@case
def user_subclass_distribution(lib):
    class Shifted(D(lib).Distribution):
        arg_constraints = {'loc': D(lib).constraints.real}
        support = D(lib).constraints.real
        has_rsample = True

        def __init__(self, loc, validate_args=None):
            self.loc = lib.as_tensor(loc)
            super().__init__(self.loc.shape, validate_args=validate_args)

        def rsample(self, sample_shape=lib.Size()):
            shape = self._extended_shape(sample_shape)
            return self.loc + lib.randn(shape, dtype=self.loc.dtype)

        def log_prob(self, value):
            if self._validate_args:
                self._validate_sample(value)
            return -0.5 * (value - self.loc) ** 2 - 0.5 * math.log(2 * math.pi)

    lib.manual_seed(0)
    d = Shifted(f64(lib, [1.0, 2.0]))
    s = d.sample((3,))
    return (s, s.requires_grad, d.log_prob(s), repr(d), d.batch_shape,
            try_(lambda: d.entropy()), try_(lambda: d.mean), try_(lambda: d.cdf(s)),
            try_(lambda: d.log_prob(f64(lib, [1.0, float('nan')]))),
            try_(lambda: d.log_prob(f64(lib, [1.0, 2.0, 3.0]))), try_(lambda: Shifted(
                f64(lib, [float('nan')]))), try_(lambda: d.enumerate_support()),
            try_(lambda: d.expand((2, 2))))


@case
def user_subclass_missing_arg_constraints(lib):
    class NoC(D(lib).Distribution):
        def __init__(self):
            super().__init__(lib.Size([2]))
    r = run_warn(lambda: NoC())
    return r


def run_warn(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        out = try_(f)
    return (out if isinstance(out, tuple) else type(out).__name__,
            [(x.category.__name__, _text(str(x.message))) for x in w])


@case
def user_exponential_family_entropy(lib):
    class MyExp(D(lib).ExponentialFamily):
        arg_constraints = {'rate': D(lib).constraints.positive}
        support = D(lib).constraints.nonnegative

        def __init__(self, rate):
            self.rate = rate
            super().__init__(rate.shape)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -lib.log(-x)

        @property
        def _mean_carrier_measure(self):
            return 0

    r = leaf(lib, [0.5, 2.0])
    e = MyExp(r).entropy()
    return e, D(lib).Exponential(r).entropy(), e.requires_grad


@case
def expfamily_kl_via_bregman(lib):
    class MyExp(D(lib).Exponential):
        pass
    p = MyExp(f64(lib, [0.5, 2.0]))
    q = D(lib).Poisson(f64(lib, [0.5, 2.0]))
    return D(lib).kl_divergence(p, MyExp(f64(lib, [1.0, 1.0]))), try_(
        lambda: D(lib).kl_divergence(D(lib).Wishart(f64(lib, 3.0), lib.eye(2, dtype=lib.float64)),
                                     D(lib).Wishart(f64(lib, 4.0), lib.eye(2, dtype=lib.float64)
                                                    * 2))), q.mean


@case
def autograd_grad_unused_message_in_dist_code(lib):
    mu = leaf(lib, [0.0, 1.0])
    sd = leaf(lib, [1.0, 2.0])
    lp = D(lib).Normal(mu, 1.0).log_prob(f64(lib, [0.5, 0.5])).sum()
    return try_(lambda: lib.autograd.grad(lp, [mu, sd]))


@case
def autograd_grad_no_requires_grad_message(lib):
    mu = leaf(lib, [0.0, 1.0])
    sd = f64(lib, [1.0, 2.0])
    lp = D(lib).Normal(mu, sd).log_prob(f64(lib, [0.5, 0.5])).sum()
    return try_(lambda: lib.autograd.grad(lp, [mu, sd]))


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
