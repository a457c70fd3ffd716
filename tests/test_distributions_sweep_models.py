"""Distributions porting sweep (see distributions_sweep_common.py): the models people write: VAE-
style Normal rsample and KL, policy gradients with Categorical, Gamma/Beta/Dirichlet priors,
mixtures."""
from distributions_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# VAE-style: Normal rsample + KL to a standard Normal, Independent over event dims
# ======================================================================================

@case
def vae_normal_rsample_kl_grad(lib):
    lib.manual_seed(0)
    mu = leaf(lib, [[0.1, -0.2, 0.3], [1.0, 0.5, -0.5]])
    logvar = leaf(lib, [[0.0, -1.0, 0.5], [0.2, 0.1, -0.3]])
    q = D(lib).Normal(mu, (0.5 * logvar).exp())
    p = D(lib).Normal(lib.zeros_like(mu), lib.ones_like(mu))
    z = q.rsample()
    kl = D(lib).kl_divergence(q, p).sum(-1)
    loss = (z ** 2).sum() + kl.sum()
    return z, kl, lib.autograd.grad(loss, [mu, logvar])


@case
def vae_independent_normal_kl(lib):
    lib.manual_seed(1)
    mu = leaf(lib, np.linspace(-1, 1, 12).reshape(3, 4).tolist())
    sd = leaf(lib, np.linspace(0.2, 2, 12).reshape(3, 4).tolist())
    q = D(lib).Independent(D(lib).Normal(mu, sd), 1)
    p = D(lib).Independent(D(lib).Normal(lib.zeros(3, 4, dtype=lib.float64),
                                         lib.ones(3, 4, dtype=lib.float64)), 1)
    z = q.rsample((2,))
    lp = q.log_prob(z)
    kl = D(lib).kl_divergence(q, p)
    return (z, lp, kl, q.batch_shape, q.event_shape, repr(q),
            lib.autograd.grad(kl.sum() + lp.sum(), [mu, sd]))


@case
def vae_training_loop_adam(lib):
    lib.manual_seed(0)
    enc = lib.nn.Linear(4, 6).double()
    dec = lib.nn.Linear(3, 4).double()
    opt = lib.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-2)
    x = lib.randn(8, 4, dtype=lib.float64)
    losses = []
    for _ in range(5):
        h = enc(x)
        mu, logvar = h[:, :3], h[:, 3:]
        q = D(lib).Normal(mu, lib.exp(0.5 * logvar))
        z = q.rsample()
        recon = D(lib).Normal(dec(z), 1.0).log_prob(x).sum(-1)
        kl = D(lib).kl_divergence(q, D(lib).Normal(0., 1.)).sum(-1)
        loss = (kl - recon).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach() for p in enc.parameters()], [p.detach() for p in dec.parameters()]


@case
def vae_float32_default(lib):
    lib.manual_seed(3)
    mu = lib.randn(5, 2, requires_grad=True)
    sd = lib.rand(5, 2).add(0.5).requires_grad_()
    q = D(lib).Normal(mu, sd)
    z = q.rsample((3,))
    out = q.log_prob(z).sum() - D(lib).kl_divergence(q, D(lib).Normal(0.0, 1.0)).sum()
    out.backward()
    return z, out, mu.grad, sd.grad, q.entropy(), q.mean.dtype


@case
def normal_python_number_params(lib):
    d = D(lib).Normal(0.0, 1.0)
    return (d.loc, d.scale, d.batch_shape, d.event_shape, d.log_prob(lib.tensor(0.3)),
            d.cdf(lib.tensor([0.0, 1.0])), d.icdf(lib.tensor([0.1, 0.9])), d.entropy(),
            d.sample().shape, d.sample((2, 3)).shape)


@case
def normal_mixed_number_tensor_broadcast(lib):
    d = D(lib).Normal(f64(lib, [[0.0], [1.0]]), 2)
    return (d.loc, d.scale, d.batch_shape, d.log_prob(f64(lib, [0.5, 1.5, 2.5])),
            stats(d), d.entropy())


@case
def normal_int_tensor_params(lib):
    return try_(lambda: D(lib).Normal(lib.tensor([0, 1]), lib.tensor([1, 2])).loc)


@case
def normal_float64_number_promote(lib):
    d = D(lib).Normal(lib.tensor([0.0, 1.0]), f64(lib, 2.0))
    return d.loc.dtype, d.scale.dtype, d.loc, d.scale


@case
def normal_default_dtype_float64(lib):
    old = lib.get_default_dtype()
    lib.set_default_dtype(lib.float64)
    try:
        lib.manual_seed(0)
        d = D(lib).Normal(0.0, 1.0)
        e = D(lib).Exponential(2.0)
        return (d.loc.dtype, d.sample((3,)), e.rate.dtype, e.sample((2,)),
                d.log_prob(lib.tensor(0.5)), try_(lambda: d.log_prob(0.5)))
    finally:
        lib.set_default_dtype(old)


@case
def normal_cdf_icdf_grad(lib):
    loc = leaf(lib, [0.3, -1.0])
    scale = leaf(lib, [1.5, 0.7])
    d = D(lib).Normal(loc, scale)
    x = f64(lib, [0.1, 0.2])
    c = d.cdf(x)
    i = d.icdf(f64(lib, [0.2, 0.95]))
    return c, i, lib.autograd.grad(c.sum() + i.sum(), [loc, scale])


# ======================================================================================
# policy gradients: Categorical(logits=...)
# ======================================================================================

@case
def pg_categorical_logits_loop(lib):
    lib.manual_seed(0)
    pol = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.Tanh(), lib.nn.Linear(16, 3))
    opt = lib.optim.SGD(pol.parameters(), lr=0.1)
    hist = []
    for step in range(6):
        obs = lib.randn(10, 4)
        dist = D(lib).Categorical(logits=pol(obs))
        a = dist.sample()
        r = (a == 1).float() - 0.5
        loss = -(dist.log_prob(a) * r).mean() - 0.01 * dist.entropy().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append((a, loss.detach()))
    return hist, [p.detach() for p in pol.parameters()]


@case
def categorical_probs_vs_logits(lib):
    lib.manual_seed(2)
    p = f64(lib, [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    a = D(lib).Categorical(probs=p)
    b = D(lib).Categorical(logits=p.log() + 3.0)
    s = a.sample((4,))
    return (a.logits, b.probs, b.logits, a.log_prob(s), b.log_prob(s), a.entropy(), b.entropy(),
            a.perplexity(), s, stats(a, ('mean', 'mode', 'variance')), a.param_shape,
            a.batch_shape, a.event_shape, a.support, repr(a))


@case
def categorical_unnormalized_probs(lib):
    c = D(lib).Categorical(probs=f64(lib, [1.0, 2.0, 7.0]))
    return c.probs, c.logits, c.entropy()


@case
def categorical_enumerate_support(lib):
    c = D(lib).Categorical(logits=lib.zeros(2, 3, 4))
    return (c.enumerate_support(), c.enumerate_support(expand=False), c.has_enumerate_support,
            c.log_prob(c.enumerate_support()))


@case
def categorical_logits_grad(lib):
    lg = leaf(lib, [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    c = D(lib).Categorical(logits=lg)
    a = lib.tensor([2, 1])
    out = c.log_prob(a).sum() + c.entropy().sum()
    return out, lib.autograd.grad(out, lg)


@case
def categorical_out_of_support(lib):
    c = D(lib).Categorical(logits=lib.zeros(3))
    return try_(lambda: c.log_prob(lib.tensor(3)))


@case
def categorical_float_value(lib):
    c = D(lib).Categorical(logits=lib.zeros(3))
    return try_(lambda: c.log_prob(lib.tensor(1.0)))


@case
def categorical_bad_probs(lib):
    return try_(lambda: D(lib).Categorical(probs=lib.tensor([0.5, -0.1, 0.6])))


@case
def categorical_both_args(lib):
    return try_(lambda: D(lib).Categorical(probs=lib.tensor([0.5, 0.5]),
                                           logits=lib.tensor([0.0, 0.0])))


@case
def categorical_no_args(lib):
    return try_(lambda: D(lib).Categorical())


@case
def categorical_large_sample_counts(lib):
    lib.manual_seed(5)
    c = D(lib).Categorical(probs=lib.tensor([0.1, 0.2, 0.3, 0.4]))
    s = c.sample((1000,))
    return s[:20], lib.bincount(s, minlength=4)


@case
def categorical_broadcast_log_prob(lib):
    c = D(lib).Categorical(logits=lib.arange(12.).reshape(4, 3))
    return c.log_prob(lib.tensor([[0], [1]])), c.log_prob(lib.tensor(2))


@case
def onehot_categorical_pg(lib):
    lib.manual_seed(7)
    lg = leaf(lib, [[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    d = D(lib).OneHotCategorical(logits=lg)
    s = d.sample((3,))
    lp = d.log_prob(s)
    return (s, lp, d.entropy(), d.enumerate_support(), d.mean, d.mode, d.variance,
            lib.autograd.grad(lp.sum(), lg), d.event_shape)


@case
def onehot_straight_through(lib):
    lib.manual_seed(7)
    lg = leaf(lib, [[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    d = D(lib).OneHotCategoricalStraightThrough(logits=lg)
    s = d.rsample((2,))
    w = f64(lib, [1.0, 2.0, 3.0])
    return s, lib.autograd.grad((s * w).sum(), lg), d.has_rsample


@case
def relaxed_onehot_gumbel_softmax(lib):
    lib.manual_seed(11)
    lg = leaf(lib, [0.5, 1.0, -0.5, 0.0])
    d = D(lib).RelaxedOneHotCategorical(f64(lib, 0.5), logits=lg)
    s = d.rsample((3,))
    lp = d.log_prob(s)
    return s, lp, lib.autograd.grad(lp.sum() + s[:, 0].sum(), lg), d.temperature, repr(d)


@case
def relaxed_bernoulli(lib):
    lib.manual_seed(12)
    p = leaf(lib, [0.2, 0.7])
    d = D(lib).RelaxedBernoulli(f64(lib, 0.3), probs=p)
    s = d.rsample((4,))
    lp = d.log_prob(s)
    return s, lp, lib.autograd.grad(lp.sum() + s.sum(), p), d.temperature, d.logits


@case
def gumbel_softmax_functional(lib):
    lib.manual_seed(4)
    x = lib.randn(2, 5)
    return (lib.nn.functional.gumbel_softmax(x, tau=0.5),
            lib.nn.functional.gumbel_softmax(x, hard=True))


# ======================================================================================
# Bayesian-ish models: Gamma / Beta / Dirichlet priors, log_prob sums
# ======================================================================================

@case
def bayes_gamma_beta_dirichlet_priors(lib):
    lib.manual_seed(0)
    a = leaf(lib, [2.0, 3.0])
    b = leaf(lib, [1.0, 0.5])
    g = D(lib).Gamma(a, b)
    be = D(lib).Beta(a, b)
    di = D(lib).Dirichlet(f64(lib, [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]))
    xg = g.rsample((3,))
    xb = be.rsample((3,))
    xd = di.sample((2,))
    lp = g.log_prob(xg).sum() + be.log_prob(xb).sum() + di.log_prob(xd).sum()
    return xg, xb, xd, lp, lib.autograd.grad(lp, [a, b])


@case
def gamma_rsample_grad_float64(lib):
    lib.manual_seed(3)
    a = leaf(lib, [0.5, 1.0, 4.0, 20.0])
    r = leaf(lib, [1.0, 2.0, 0.5, 3.0])
    x = D(lib).Gamma(a, r).rsample((5,))
    return x, lib.autograd.grad(x.sum(), [a, r])


@case
def gamma_rsample_grad_float32(lib):
    lib.manual_seed(3)
    a = lib.tensor([0.5, 1.0, 4.0, 20.0], requires_grad=True)
    x = D(lib).Gamma(a, 1.0).rsample((5,))
    return x, lib.autograd.grad(x.sum(), [a])


@case
def beta_rsample_grad(lib):
    lib.manual_seed(4)
    a = leaf(lib, [0.5, 2.0, 5.0])
    b = leaf(lib, [1.5, 2.0, 0.7])
    x = D(lib).Beta(a, b).rsample((4,))
    return x, lib.autograd.grad(x.sum(), [a, b])


@case
def dirichlet_rsample_grad(lib):
    lib.manual_seed(5)
    c = leaf(lib, [[0.5, 1.0, 2.0], [3.0, 3.0, 0.2]])
    d = D(lib).Dirichlet(c)
    x = d.rsample()
    w = f64(lib, [1.0, -1.0, 0.5])
    return x, lib.autograd.grad((x * w).sum(), c), stats(d), d.entropy()


@case
def gamma_beta_stats_entropy(lib):
    out = []
    for d in (D(lib).Gamma(f64(lib, [0.5, 1.0, 3.0]), f64(lib, [2.0, 1.0, 0.5])),
              D(lib).Beta(f64(lib, [0.5, 1.0, 3.0]), f64(lib, [2.0, 1.0, 0.5])),
              D(lib).Dirichlet(f64(lib, [0.5, 1.0, 3.0]))):
        out.append((stats(d), d.entropy(), repr(d), d.support))
    return out


@case
def gamma_cdf(lib):
    d = D(lib).Gamma(f64(lib, [0.5, 2.0, 7.0]), f64(lib, [1.0, 3.0, 0.5]))
    return d.cdf(f64(lib, [0.3, 0.8, 12.0])), try_(lambda: d.icdf(f64(lib, [0.5, 0.5, 0.5])))


@case
def beta_out_of_support(lib):
    d = D(lib).Beta(2.0, 3.0)
    return try_(lambda: d.log_prob(lib.tensor(1.5)))


@case
def beta_boundary_values_no_validate(lib):
    d = D(lib).Beta(f64(lib, [2.0, 0.5]), f64(lib, [3.0, 0.5]), validate_args=False)
    return d.log_prob(f64(lib, [0.0, 1.0]))


@case
def dirichlet_not_simplex(lib):
    d = D(lib).Dirichlet(f64(lib, [1.0, 2.0]))
    return try_(lambda: d.log_prob(f64(lib, [0.3, 0.3])))


@case
def gamma_negative_concentration(lib):
    return try_(lambda: D(lib).Gamma(f64(lib, [-1.0, 1.0]), 1.0))


@case
def gamma_zero_value_log_prob(lib):
    return try_(lambda: D(lib).Gamma(f64(lib, [1.0, 2.0]), 1.0).log_prob(f64(lib, 0.0)))


@case
def map_estimate_loop(lib):
    lib.manual_seed(0)
    data = D(lib).Poisson(f64(lib, 4.0)).sample((30,))
    log_rate = leaf(lib, 0.0)
    opt = lib.optim.Adam([log_rate], lr=0.1)
    prior = D(lib).Gamma(f64(lib, 2.0), f64(lib, 0.5))
    traj = []
    for _ in range(20):
        rate = log_rate.exp()
        loss = -(D(lib).Poisson(rate).log_prob(data).sum() + prior.log_prob(rate))
        opt.zero_grad()
        loss.backward()
        opt.step()
        traj.append(log_rate.item())
    return data, traj


# ======================================================================================
# mixtures
# ======================================================================================

def _gmm(lib, requires_grad=False):
    mk = leaf if requires_grad else f64
    w = mk(lib, [0.2, 1.0, -0.5])
    mu = mk(lib, [[0.0, 0.0], [2.0, -1.0], [-3.0, 1.0]])
    sd = mk(lib, [[1.0, 0.5], [0.3, 0.3], [1.5, 2.0]])
    mix = D(lib).Categorical(logits=w)
    comp = D(lib).Independent(D(lib).Normal(mu, sd), 1)
    return D(lib).MixtureSameFamily(mix, comp), (w, mu, sd)


@case
def gmm_log_prob_sample_grad(lib):
    lib.manual_seed(0)
    g, params = _gmm(lib, True)
    x = g.sample((6,))
    lp = g.log_prob(x)
    return (x, lp, g.mean, g.variance, g.batch_shape, g.event_shape, repr(g),
            lib.autograd.grad(lp.sum(), params))


@case
def gmm_fit_loop(lib):
    lib.manual_seed(1)
    data = lib.cat([lib.randn(20, 2, dtype=lib.float64) * 0.5 + 2,
                    lib.randn(20, 2, dtype=lib.float64) - 1])
    w = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    mu = lib.randn(2, 2, dtype=lib.float64).requires_grad_()
    ls = lib.zeros(2, 2, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([w, mu, ls], lr=0.05)
    for _ in range(15):
        g = D(lib).MixtureSameFamily(D(lib).Categorical(logits=w),
                                     D(lib).Independent(D(lib).Normal(mu, ls.exp()), 1))
        loss = -g.log_prob(data).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.detach(), w.detach(), mu.detach(), ls.detach()


@case
def mixture_univariate_cdf(lib):
    m = D(lib).MixtureSameFamily(D(lib).Categorical(probs=f64(lib, [0.3, 0.7])),
                                 D(lib).Normal(f64(lib, [-1.0, 1.0]), f64(lib, [0.5, 2.0])))
    x = f64(lib, [-1.0, 0.0, 3.0])
    return m.cdf(x), m.log_prob(x), m.mean, m.variance, try_(lambda: m.entropy())


@case
def mixture_batched(lib):
    lib.manual_seed(2)
    mix = D(lib).Categorical(logits=lib.zeros(4, 3, dtype=lib.float64))
    comp = D(lib).Normal(lib.randn(4, 3, dtype=lib.float64), lib.ones(4, 3, dtype=lib.float64))
    m = D(lib).MixtureSameFamily(mix, comp)
    s = m.sample((2,))
    return s, m.log_prob(s), m.batch_shape, m.expand((5, 4)).batch_shape


@case
def mixture_shape_mismatch(lib):
    return try_(lambda: D(lib).MixtureSameFamily(
        D(lib).Categorical(logits=lib.zeros(3)), D(lib).Normal(lib.zeros(4), lib.ones(4))))


@case
def mixture_bad_mixture_type(lib):
    return try_(lambda: D(lib).MixtureSameFamily(
        D(lib).Normal(0.0, 1.0), D(lib).Normal(lib.zeros(4), lib.ones(4))))


@case
def mixture_bernoulli_components(lib):
    lib.manual_seed(3)
    m = D(lib).MixtureSameFamily(D(lib).Categorical(probs=f64(lib, [0.5, 0.5])),
                                 D(lib).Bernoulli(probs=f64(lib, [0.1, 0.9])))
    return m.sample((5,)), m.log_prob(f64(lib, [0.0, 1.0])), m.mean


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
