"""Distributions porting sweep (see distributions_sweep_common.py): TransformedDistribution and
flows, MultivariateNormal and LowRankMultivariateNormal, and GLM likelihoods (Bernoulli,
Binomial, Poisson)."""
from distributions_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# TransformedDistribution / flows
# ======================================================================================

@case
def sac_tanh_normal(lib):
    lib.manual_seed(0)
    mu = leaf(lib, [[0.1, -0.3], [1.0, 2.0]])
    log_std = leaf(lib, [[-0.5, 0.0], [0.2, -1.0]])
    base = D(lib).Normal(mu, log_std.exp())
    d = D(lib).TransformedDistribution(base, [D(lib).transforms.TanhTransform(cache_size=1)])
    a = d.rsample()
    lp = d.log_prob(a).sum(-1)
    return a, lp, lib.autograd.grad(lp.sum() + a.sum(), [mu, log_std]), repr(d)


@case
def sac_manual_squash(lib):
    lib.manual_seed(0)
    mu = leaf(lib, [0.1, -0.3, 2.0])
    std = leaf(lib, [0.5, 1.0, 0.1])
    n = D(lib).Normal(mu, std)
    u = n.rsample()
    a = lib.tanh(u)
    lp = n.log_prob(u) - lib.log(1 - a.pow(2) + 1e-6)
    return a, lp, lib.autograd.grad(lp.sum(), [mu, std])


@case
def sac_tanh_affine_compose(lib):
    lib.manual_seed(1)
    T = D(lib).transforms
    base = D(lib).Independent(D(lib).Normal(lib.zeros(3, dtype=lib.float64),
                                            lib.ones(3, dtype=lib.float64)), 1)
    t = T.ComposeTransform([T.TanhTransform(), T.AffineTransform(f64(lib, [1.0, 2.0, 3.0]),
                                                                 f64(lib, [0.5, 0.5, 2.0]))])
    d = D(lib).TransformedDistribution(base, t)
    x = d.sample((4,))
    return x, d.log_prob(x), d.batch_shape, d.event_shape, d.support, t.domain, t.codomain


@case
def logit_normal_sigmoid(lib):
    lib.manual_seed(2)
    T = D(lib).transforms
    loc = leaf(lib, [0.0, 1.0])
    d = D(lib).TransformedDistribution(D(lib).Normal(loc, 1.0), [T.SigmoidTransform()])
    x = d.rsample((3,))
    lp = d.log_prob(x)
    return x, lp, lib.autograd.grad(lp.sum(), loc), d.cdf(f64(lib, [0.3, 0.6])), \
        d.icdf(f64(lib, [0.3, 0.6]))


@case
def log_normal_via_exp(lib):
    T = D(lib).transforms
    a = D(lib).TransformedDistribution(D(lib).Normal(f64(lib, 0.5), f64(lib, 0.8)),
                                       T.ExpTransform())
    b = D(lib).LogNormal(f64(lib, 0.5), f64(lib, 0.8))
    x = f64(lib, [0.5, 1.0, 3.0])
    return a.log_prob(x), b.log_prob(x), b.mean, b.variance, b.mode, b.entropy(), b.cdf(x), \
        b.icdf(f64(lib, [0.1, 0.5]))


@case
def planar_like_flow_training(lib):
    lib.manual_seed(0)
    T = D(lib).transforms
    loc = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    ls = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([loc, ls], lr=0.05)
    data = lib.rand(50, 2, dtype=lib.float64) * 0.8 + 0.1
    for _ in range(10):
        base = D(lib).Independent(D(lib).Normal(loc, ls.exp()), 1)
        d = D(lib).TransformedDistribution(base, [T.SigmoidTransform()])
        loss = -d.log_prob(data).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.detach(), loc.detach(), ls.detach()


@case
def transforms_inverse_and_jacobians(lib):
    T = D(lib).transforms
    x = f64(lib, [[-1.0, 0.5, 2.0], [0.1, 0.2, -0.3]])
    out = []
    for t in [T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform(), T.AbsTransform(),
              T.AffineTransform(1.0, 3.0), T.PowerTransform(f64(lib, 2.0)),
              T.SoftmaxTransform(), T.StickBreakingTransform(), T.SoftplusTransform(),
              T.ExpTransform().inv, T.AffineTransform(0.0, -2.0, event_dim=1)]:
        xx = x.abs() + 0.1 if isinstance(t, (T.PowerTransform, T._InverseTransform)) else x
        y = t(xx)
        r = [repr(t), y, t.sign if t.bijective and t.domain.event_dim == 0 and
             not isinstance(t, T.AbsTransform) else None, t.event_dim if hasattr(t, 'event_dim')
             else None, t.forward_shape((2, 3)), t.inverse_shape(y.shape)]
        if not isinstance(t, (T.AbsTransform, T.SoftmaxTransform)):
            r.append(try_(lambda: t.inv(y)))
        r.append(try_(lambda: t.log_abs_det_jacobian(xx, y)))
        out.append(r)
    return out


@case
def transform_sign_nonbijective(lib):
    T = D(lib).transforms
    return try_(lambda: T.AbsTransform().sign), try_(lambda: T.SoftmaxTransform().sign)


@case
def transform_equality_and_cache(lib):
    T = D(lib).transforms
    t = T.ExpTransform()
    return (t == T.ExpTransform(), t == T.SigmoidTransform(), t.inv.inv is t,
            T.AffineTransform(0.0, 1.0) == T.AffineTransform(0.0, 1.0),
            repr(T.ExpTransform(cache_size=1).inv), try_(lambda: T.ExpTransform(cache_size=2)),
            T.ComposeTransform([]).bijective, repr(T.ComposeTransform([t, T.TanhTransform()])),
            T.identity_transform == T.ComposeTransform([]))


@case
def transform_cache_identity(lib):
    T = D(lib).transforms
    t = T.TanhTransform(cache_size=1)
    x = f64(lib, [30.0, -30.0])
    y = t(x)
    return t.inv(y) is x, t.inv(y), T.TanhTransform().inv(y)


@case
def transform_reshape_independent_cat_stack(lib):
    T = D(lib).transforms
    x = lib.arange(12, dtype=lib.float64).reshape(2, 6) / 10
    r = T.ReshapeTransform((6,), (2, 3))
    it = T.IndependentTransform(T.SigmoidTransform(), 1)
    ct = T.CatTransform([T.ExpTransform(), T.identity_transform], dim=1, lengths=[2, 4])
    st = T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], dim=0)
    return (r(x), r.inv(r(x)), r.log_abs_det_jacobian(x, r(x)), r.forward_shape((5, 6)),
            it(x), it.log_abs_det_jacobian(x, it(x)), it.event_dim,
            ct(x), ct.log_abs_det_jacobian(x, ct(x)), st(x), st.log_abs_det_jacobian(x, st(x)),
            repr(it), repr(r))


@case
def cumulative_distribution_transform(lib):
    T = D(lib).transforms
    t = T.CumulativeDistributionTransform(D(lib).Normal(f64(lib, 0.0), f64(lib, 1.0)))
    x = f64(lib, [-1.0, 0.0, 2.0])
    y = t(x)
    return y, t.inv(y), t.log_abs_det_jacobian(x, y), t.domain, t.codomain


@case
def lower_cholesky_and_corr_transforms(lib):
    T = D(lib).transforms
    x = lib.arange(9, dtype=lib.float64).reshape(3, 3) / 10 - 0.3
    lc = T.LowerCholeskyTransform()
    pd = T.PositiveDefiniteTransform()
    cc = T.CorrCholeskyTransform()
    v = f64(lib, [0.1, -0.2, 0.3])
    L = cc(v)
    return lc(x), lc.inv(lc(x)), pd(x), pd.inv(pd(x)), L, cc.inv(L), \
        cc.log_abs_det_jacobian(v, L), cc.forward_shape((4, 6)), cc.inverse_shape((4, 4))


@case
def transform_grad_through(lib):
    T = D(lib).transforms
    x = leaf(lib, [0.3, -1.2, 2.0])
    ts = [T.SigmoidTransform(), T.TanhTransform(), T.SoftplusTransform(),
          T.StickBreakingTransform(), T.SoftmaxTransform()]
    out = []
    for t in ts:
        y = t(x)
        ld = t.log_abs_det_jacobian(x, y) if not isinstance(t, T.SoftmaxTransform) else y.sum()
        out.append((y, lib.autograd.grad(ld.sum() + y.pow(2).sum(), x)))
    return out


# ======================================================================================
# MultivariateNormal / LowRankMultivariateNormal
# ======================================================================================

def _spd(lib, n=3, seed=0):
    g = np.random.RandomState(seed)
    a = g.randn(n, n)
    return f64(lib, (a @ a.T + n * np.eye(n)).tolist())


@case
def mvn_three_parameterisations(lib):
    lib.manual_seed(0)
    S = _spd(lib)
    L = lib.linalg.cholesky(S)
    P = lib.linalg.inv(S)
    loc = f64(lib, [1.0, -1.0, 0.5])
    ds = [D(lib).MultivariateNormal(loc, covariance_matrix=S),
          D(lib).MultivariateNormal(loc, precision_matrix=P),
          D(lib).MultivariateNormal(loc, scale_tril=L)]
    x = f64(lib, [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    out = []
    for d in ds:
        lib.manual_seed(1)
        out.append((d.sample((2,)), d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance,
                    d.covariance_matrix, d.precision_matrix, d.scale_tril, repr(d)))
    return out


@case
def mvn_grads_each_param(lib):
    lib.manual_seed(0)
    S0 = _spd(lib, 2, 1)
    out = []
    for kind in ('covariance_matrix', 'precision_matrix', 'scale_tril'):
        loc = leaf(lib, [0.2, -0.1])
        M = (lib.linalg.cholesky(S0) if kind == 'scale_tril' else S0).clone().requires_grad_()
        d = D(lib).MultivariateNormal(loc, **{kind: M})
        z = d.rsample((3,))
        lp = d.log_prob(z.detach()).sum() + z.pow(2).sum() + d.entropy()
        out.append((z, lp, lib.autograd.grad(lp, [loc, M])))
    return out


@case
def mvn_batch_broadcast(lib):
    lib.manual_seed(2)
    loc = lib.randn(4, 1, 3, dtype=lib.float64)
    S = _spd(lib)
    d = D(lib).MultivariateNormal(loc, covariance_matrix=S.expand(5, 3, 3))
    s = d.sample((2,))
    return d.batch_shape, d.event_shape, s, d.log_prob(s), d.expand((2, 4, 5)).batch_shape


@case
def mvn_kl(lib):
    p = D(lib).MultivariateNormal(f64(lib, [0.0, 1.0, 2.0]), covariance_matrix=_spd(lib, 3, 0))
    q = D(lib).MultivariateNormal(f64(lib, [1.0, 0.0, 0.0]), scale_tril=lib.linalg.cholesky(
        _spd(lib, 3, 5)))
    return D(lib).kl_divergence(p, q), D(lib).kl_divergence(q, p)


@case
def mvn_not_pd(lib):
    return try_(lambda: D(lib).MultivariateNormal(lib.zeros(2), covariance_matrix=lib.tensor(
        [[1.0, 2.0], [2.0, 1.0]])))


@case
def mvn_no_matrix(lib):
    return try_(lambda: D(lib).MultivariateNormal(lib.zeros(2)))


@case
def mvn_two_matrices(lib):
    return try_(lambda: D(lib).MultivariateNormal(lib.zeros(2), covariance_matrix=lib.eye(2),
                                                  scale_tril=lib.eye(2)))


@case
def mvn_scalar_loc(lib):
    return try_(lambda: D(lib).MultivariateNormal(lib.tensor(0.0), covariance_matrix=lib.eye(2)))


@case
def mvn_float32(lib):
    lib.manual_seed(0)
    d = D(lib).MultivariateNormal(lib.zeros(3), lib.eye(3) * 2)
    s = d.sample((4,))
    return s, d.log_prob(s), d.entropy()


@case
def lowrank_mvn(lib):
    lib.manual_seed(0)
    loc = leaf(lib, [0.0, 1.0, -1.0, 2.0])
    W = leaf(lib, [[1.0, 0.5], [0.2, -0.3], [0.0, 1.0], [0.4, 0.4]])
    dg = leaf(lib, [0.5, 1.0, 1.5, 2.0])
    d = D(lib).LowRankMultivariateNormal(loc, W, dg)
    z = d.rsample((3,))
    lp = d.log_prob(z)
    full = D(lib).MultivariateNormal(loc, covariance_matrix=d.covariance_matrix)
    return (z, lp, full.log_prob(z), d.entropy(), d.variance, d.covariance_matrix,
            d.precision_matrix, d.scale_tril, repr(d),
            lib.autograd.grad(lp.sum() + d.entropy(), [loc, W, dg]))


@case
def lowrank_kl(lib):
    p = D(lib).LowRankMultivariateNormal(f64(lib, [0.0, 1.0, 0.5]),
                                         f64(lib, [[1.0], [0.5], [0.2]]), f64(lib, [1.0, 2.0, 0.5]))
    q = D(lib).LowRankMultivariateNormal(f64(lib, [1.0, 0.0, 0.5]),
                                         f64(lib, [[0.1], [0.5], [-0.2]]),
                                         f64(lib, [0.3, 1.0, 1.5]))
    m = D(lib).MultivariateNormal(f64(lib, [1.0, 0.0, 0.0]), covariance_matrix=_spd(lib))
    return (D(lib).kl_divergence(p, q), D(lib).kl_divergence(p, m), D(lib).kl_divergence(m, p))


@case
def lowrank_bad_shapes(lib):
    return try_(lambda: D(lib).LowRankMultivariateNormal(lib.zeros(3), lib.ones(2, 1),
                                                         lib.ones(3)))


# ======================================================================================
# GLM likelihoods: Bernoulli / Binomial / Poisson
# ======================================================================================

@case
def logistic_regression_bernoulli_logits(lib):
    lib.manual_seed(0)
    X = lib.randn(40, 3, dtype=lib.float64)
    wt = f64(lib, [1.0, -2.0, 0.5])
    y = D(lib).Bernoulli(logits=X @ wt).sample()
    w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([w], lr=0.5, max_iter=10)

    def closure():
        opt.zero_grad()
        loss = -D(lib).Bernoulli(logits=X @ w).log_prob(y).mean()
        loss.backward()
        return loss
    for _ in range(3):
        opt.step(closure)
    return y, w.detach()


@case
def bernoulli_probs_logits_stats(lib):
    lib.manual_seed(1)
    p = leaf(lib, [0.0, 0.3, 1.0])
    d = D(lib).Bernoulli(probs=p)
    v = f64(lib, [0.0, 1.0, 1.0])
    lp = d.log_prob(v)
    return (d.sample((3,)), lp, d.entropy(), d.logits, stats(d), d.enumerate_support(),
            d.enumerate_support(False), lib.autograd.grad(lp.sum(), p))


@case
def bernoulli_non_binary_value(lib):
    d = D(lib).Bernoulli(probs=lib.tensor([0.3]))
    return try_(lambda: d.log_prob(lib.tensor([0.5])))


@case
def bernoulli_number_prob(lib):
    lib.manual_seed(2)
    d = D(lib).Bernoulli(0.3)
    return d.probs, d.sample((5,)), d.batch_shape, d.log_prob(lib.tensor(1.0)), repr(d)


@case
def bernoulli_bad_prob(lib):
    return try_(lambda: D(lib).Bernoulli(probs=lib.tensor([1.2])))


@case
def binomial_glm(lib):
    lib.manual_seed(0)
    n = lib.tensor([10.0, 20.0, 5.0, 1.0])
    lg = leaf(lib, [0.1, -1.0, 2.0, 0.0])
    d = D(lib).Binomial(total_count=n.double(), logits=lg)
    k = d.sample((3,))
    lp = d.log_prob(k)
    return (k, lp, lib.autograd.grad(lp.sum(), lg), stats(d), try_(lambda: d.entropy()),
            try_(lambda: d.enumerate_support()), d.probs, repr(d))


@case
def binomial_enumerate_support(lib):
    d = D(lib).Binomial(4, probs=f64(lib, [0.2, 0.5]))
    return d.enumerate_support(), d.enumerate_support(expand=False), d.entropy(), \
        d.log_prob(d.enumerate_support())


@case
def binomial_out_of_range(lib):
    d = D(lib).Binomial(5, probs=lib.tensor(0.5))
    return try_(lambda: d.log_prob(lib.tensor(6.0))), try_(lambda: d.log_prob(lib.tensor(2.5)))


@case
def binomial_extreme_probs(lib):
    d = D(lib).Binomial(f64(lib, [3.0, 3.0, 0.0]), probs=f64(lib, [0.0, 1.0, 0.5]))
    return d.log_prob(f64(lib, [0.0, 3.0, 0.0])), d.mean, d.mode, d.variance


@case
def binomial_large_counts_sample(lib):
    lib.manual_seed(4)
    d = D(lib).Binomial(f64(lib, [100.0, 1000.0, 50.0]), probs=f64(lib, [0.3, 0.01, 0.9]))
    return d.sample((5,))


@case
def poisson_glm(lib):
    lib.manual_seed(0)
    X = lib.randn(30, 2, dtype=lib.float64)
    y = D(lib).Poisson((X @ f64(lib, [0.5, -0.3])).exp() * 3).sample()
    w = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    b = lib.zeros((), dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([w, b], lr=0.01, momentum=0.9)
    for _ in range(15):
        loss = -D(lib).Poisson((X @ w + b).exp()).log_prob(y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return y, w.detach(), b.detach(), loss.detach()


@case
def poisson_stats_and_errors(lib):
    lib.manual_seed(2)
    d = D(lib).Poisson(f64(lib, [0.5, 3.0, 40.0]))
    return (d.sample((4,)), stats(d), d.log_prob(f64(lib, [0.0, 2.0, 41.0])),
            try_(lambda: d.log_prob(f64(lib, [-1.0, 0.0, 0.0]))),
            try_(lambda: d.entropy()), try_(lambda: D(lib).Poisson(f64(lib, -1.0))))


@case
def poisson_zero_rate(lib):
    d = D(lib).Poisson(f64(lib, [0.0, 1.0]))
    return d.log_prob(f64(lib, [0.0, 0.0])), d.log_prob(f64(lib, [1.0, 1.0]))


@case
def geometric_negbinom(lib):
    lib.manual_seed(3)
    g = D(lib).Geometric(probs=f64(lib, [0.2, 0.9]))
    nb = D(lib).NegativeBinomial(f64(lib, [3.0, 10.0]), logits=f64(lib, [0.5, -1.0]))
    return (g.sample((3,)), g.log_prob(f64(lib, [0.0, 5.0])), stats(g), g.entropy(),
            nb.sample((3,)), nb.log_prob(f64(lib, [2.0, 7.0])), stats(nb), repr(nb))


@case
def multinomial_counts(lib):
    lib.manual_seed(4)
    m = D(lib).Multinomial(10, probs=f64(lib, [0.2, 0.3, 0.5]))
    s = m.sample((3,))
    return (s, m.log_prob(s), m.mean, m.variance, m.batch_shape, m.event_shape,
            try_(lambda: m.entropy()), m.total_count, repr(m))


@case
def multinomial_bad_total_count(lib):
    return try_(lambda: D(lib).Multinomial(lib.tensor([2, 3]), probs=lib.tensor([0.5, 0.5])))


@case
def multinomial_log_prob_without_total(lib):
    m = D(lib).Multinomial(probs=f64(lib, [0.5, 0.5]), validate_args=False)
    return m.log_prob(f64(lib, [3.0, 4.0])), try_(lambda: m.sample())


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
