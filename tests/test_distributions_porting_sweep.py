"""Porting sweep of nbgrad.distributions against torch.distributions: every case runs the same
user-style code with lib=torch and lib=nbgrad and compares the normalized results (values through
NumPy with tight tolerances, shapes, dtypes, types, exception types and messages, warnings)."""
import copy
import math
import pickle
import re
import warnings

import numpy as np
import pytest

torch_lib = pytest.importorskip('torch')
import nbgrad  # noqa: E402

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# -- normalization ---------------------------------------------------------------------------

def _is_tensor(x):
    return isinstance(x, (torch_lib.Tensor, nbgrad.Tensor))


def _text(s):
    s = re.sub(' at 0x[0-9a-f]+', ' at 0x?', s)
    return s.replace('nbgrad.', 'torch.')


def norm(x):
    if _is_tensor(x):
        arr = np.array(x.detach().numpy())
        return ('Tensor', str(x.dtype).split('.')[-1], tuple(int(s) for s in x.shape), arr,
                bool(x.requires_grad))
    if isinstance(x, (torch_lib.Size, nbgrad.Size)):
        return ('Size', tuple(int(s) for s in x))
    if isinstance(x, (torch_lib.dtype, nbgrad.dtype)):
        return ('dtype', str(x).split('.')[-1])
    if isinstance(x, np.ndarray):
        return ('ndarray', x.dtype.str, x.shape, x)
    if isinstance(x, np.generic):
        return ('npscalar', type(x).__name__, x.item())
    if isinstance(x, str):
        return ('str', _text(x))
    if isinstance(x, (bool, int, float, bytes, type(None))):
        return (type(x).__name__, x)
    if isinstance(x, dict):
        return ('dict', [(k, norm(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, type):
        return ('type', x.__name__)
    return ('obj', type(x).__name__)


TOL = {'float64': (1e-12, 1e-14), 'float32': (4e-6, 1e-7), 'float16': (2e-3, 1e-4),
       'bfloat16': (1e-2, 1e-3)}


def same(a, b, tol=None, path='out'):
    """Assert normalized results a (nbgrad) and b (torch) agree."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        assert a.shape == b.shape, f'{path}: shape {a.shape} vs {b.shape}'
        if a.dtype.kind in 'fc':
            rtol, atol = tol or TOL.get(str(a.dtype), (1e-12, 1e-14))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=path)
        else:
            np.testing.assert_array_equal(a, b, err_msg=path)
        return
    if isinstance(a, float) and isinstance(b, float):
        rtol, atol = tol or (1e-12, 1e-14)
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol,
                                                                 abs_tol=atol), \
            f'{path}: {a!r} vs {b!r}'
        return
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f'{path}:\nnbgrad: {a!r}\ntorch:  {b!r}'
        if len(a) == 5 and a and a[0] == 'Tensor':
            assert a[1:3] == b[1:3], f'{path}: dtype/shape nbgrad {a[1:3]} torch {b[1:3]}'
            assert a[4] == b[4], f'{path}: requires_grad nbgrad {a[4]} torch {b[4]}'
            t = tol or TOL.get(a[1])
            same(a[3], b[3], t, path)
            return
        if _is_error(a) and _is_error(b) and a[1] == b[1]:
            a = [*a[:2], ('str', _advice_trimmed(a[2][1], b[2][1]))]
        for i, (u, v) in enumerate(zip(a, b)):
            same(u, v, tol, f'{path}[{i}]')
        return
    assert a == b, f'{path}:\nnbgrad: {a!r}\ntorch:  {b!r}'


def _is_error(x):
    """A normalized try_() result for an exception: ('EXC', type name, message) as strings."""
    return len(x) == 3 and all(isinstance(e, tuple) and len(e) == 2 and e[0] == 'str'
                               for e in x) and x[0][1] == 'EXC'


def _advice_trimmed(message, torch_message):
    """nbgrad's error messages are PyTorch's, sometimes followed by a sentence on how to fix
    the problem: an error's message is compared up to the end of PyTorch's."""
    rest = message[len(torch_message):] if message.startswith(torch_message) else None
    return torch_message if rest and rest[:2] in ('. ', ' (') else message


def run(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out = norm(fn(lib))
        except Exception as e:  # noqa: BLE001
            out = ('EXC', type(e).__name__, _text(str(e)))
    warns = [(w.category.__name__, _text(str(w.message))) for w in caught
             if 'distributions' in w.filename.replace('\\', '/') or 'sweep' in w.filename]
    return out, warns


def D(lib):
    return lib.distributions


def f64(lib, x):
    return lib.tensor(x, dtype=lib.float64)


def leaf(lib, x):
    return lib.tensor(x, dtype=lib.float64, requires_grad=True)


def stats(d, names=('mean', 'mode', 'variance', 'stddev')):
    out = {}
    for n in names:
        try:
            out[n] = getattr(d, n)
        except Exception as e:  # noqa: BLE001
            out[n] = ('EXC', type(e).__name__, _text(str(e)))
    return out


def try_(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001
        return ('EXC', type(e).__name__, _text(str(e)))


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
                                         f64(lib, [[0.1], [0.5], [-0.2]]), f64(lib, [0.3, 1.0, 1.5]))
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


# ======================================================================================
# constraints, biject_to / transform_to, constrained optimisation
# ======================================================================================

@case
def constraints_check_values(lib):
    C = D(lib).constraints
    x = f64(lib, [[-1.0, 0.0, 0.5], [1.0, 2.0, float('nan')]])
    cs = [C.real, C.positive, C.nonnegative, C.unit_interval, C.interval(0.0, 1.0),
          C.half_open_interval(0.0, 1.0), C.greater_than(0.0), C.greater_than_eq(0.0),
          C.less_than(1.0), C.boolean, C.nonnegative_integer, C.positive_integer,
          C.integer_interval(0, 1), C.real_vector, C.simplex, C.independent(C.positive, 1)]
    return [(repr(c), c.check(x), c.event_dim, c.is_discrete) for c in cs]


@case
def constraints_matrix_checks(lib):
    C = D(lib).constraints
    S = _spd(lib)
    bad = f64(lib, [[1.0, 2.0], [2.0, 1.0]])
    L = lib.linalg.cholesky(S)
    cs = [C.positive_definite, C.positive_semidefinite, C.lower_cholesky, C.lower_triangular,
          C.symmetric, C.square, C.corr_cholesky]
    return [(repr(c), c.check(S), c.check(bad), c.check(L), c.event_dim) for c in cs]


@case
def constraints_repr_and_types(lib):
    C = D(lib).constraints
    return (repr(C.interval(-1, 2)), repr(C.greater_than(f64(lib, 0.5))), repr(C.simplex),
            repr(C.cat([C.real, C.positive], 0, [1, 1])), repr(C.stack([C.real, C.positive])),
            repr(C.independent(C.real, 2)), type(C.real).__name__, C.is_dependent(C.real),
            C.is_dependent(C.dependent), repr(C.dependent), repr(C.multinomial(3)),
            repr(C.one_hot))


@case
def biject_to_each_constraint(lib):
    C = D(lib).constraints
    x = f64(lib, [0.3, -1.2, 2.0])
    out = []
    for c in [C.real, C.positive, C.greater_than(1.5), C.less_than(-2.0), C.unit_interval,
              C.interval(-3.0, 5.0), C.simplex, C.real_vector, C.nonnegative,
              C.greater_than_eq(0.5), C.half_open_interval(0.0, 2.0),
              C.independent(C.positive, 1)]:
        for f in (D(lib).biject_to, D(lib).transform_to):
            r = try_(lambda: f(c))
            if isinstance(r, tuple):
                out.append(r)
                continue
            y = r(x)
            out.append((repr(r), y, r.inv(y), try_(lambda: r.log_abs_det_jacobian(x, y)),
                        c.check(y), r.domain.event_dim, r.codomain.event_dim))
    return out


@case
def biject_to_unregistered(lib):
    C = D(lib).constraints
    return (try_(lambda: D(lib).biject_to(C.boolean)),
            try_(lambda: D(lib).transform_to(C.nonnegative_integer)),
            try_(lambda: D(lib).biject_to(C.corr_cholesky)),
            try_(lambda: D(lib).biject_to(C.positive_definite)),
            try_(lambda: D(lib).transform_to(C.positive_definite)))


@case
def transform_to_lower_cholesky_pd(lib):
    C = D(lib).constraints
    x = lib.arange(9, dtype=lib.float64).reshape(3, 3) / 7 - 0.5
    t = D(lib).transform_to(C.lower_cholesky)
    t2 = D(lib).transform_to(C.positive_definite)
    t3 = D(lib).transform_to(C.corr_cholesky)
    v = f64(lib, [0.2, -0.3, 0.4])
    return t(x), C.lower_cholesky.check(t(x)), t2(x), t3(v), repr(t), repr(t2), repr(t3)


@case
def constrained_optimisation_loop(lib):
    lib.manual_seed(0)
    data = D(lib).Gamma(f64(lib, 3.0), f64(lib, 2.0)).sample((50,))
    C = D(lib).constraints
    u_a = lib.zeros((), dtype=lib.float64, requires_grad=True)
    u_b = lib.zeros((), dtype=lib.float64, requires_grad=True)
    u_p = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([u_a, u_b, u_p], lr=0.1)
    target = f64(lib, [0.2, 0.3, 0.5])
    for _ in range(12):
        a = D(lib).transform_to(C.positive)(u_a)
        b = D(lib).biject_to(C.positive)(u_b)
        p = D(lib).transform_to(C.simplex)(u_p)
        loss = -D(lib).Gamma(a, b).log_prob(data).mean() + ((p - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return data, u_a.detach(), u_b.detach(), u_p.detach(), loss.detach()


@case
def support_of_distributions(lib):
    ds = [D(lib).Normal(0., 1.), D(lib).Gamma(1., 1.), D(lib).Beta(1., 1.),
          D(lib).Uniform(f64(lib, 0.0), f64(lib, 2.0)), D(lib).Categorical(lib.ones(4)),
          D(lib).Binomial(5, 0.5), D(lib).Dirichlet(lib.ones(3)), D(lib).Poisson(1.),
          D(lib).Pareto(2., 1.), D(lib).HalfNormal(1.), D(lib).LKJCholesky(3, 1.0),
          D(lib).Exponential(1.), D(lib).VonMises(0., 1.), D(lib).Bernoulli(0.5)]
    return [repr(d.support) for d in ds], [sorted(d.arg_constraints) for d in ds], \
        [repr(v) for d in ds for v in d.arg_constraints.values()]


# ======================================================================================
# shapes: expand / batch_shape / event_shape / sample shapes
# ======================================================================================

@case
def shapes_sample_matrix(lib):
    lib.manual_seed(0)
    out = []
    ds = [D(lib).Normal(lib.zeros(2, 3), 1.0), D(lib).Categorical(logits=lib.zeros(2, 4)),
          D(lib).Dirichlet(lib.ones(2, 3)), D(lib).MultivariateNormal(lib.zeros(2, 3),
                                                                      lib.eye(3)),
          D(lib).Independent(D(lib).Normal(lib.zeros(2, 3), 1.0), 1),
          D(lib).Bernoulli(lib.full((2,), 0.5)), D(lib).OneHotCategorical(lib.ones(2, 4)),
          D(lib).Multinomial(3, lib.ones(2, 4)), D(lib).Poisson(lib.ones(2))]
    for d in ds:
        for ss in [(), (5,), (4, 1), lib.Size([2])]:
            s = d.sample(ss)
            out.append((type(d).__name__, s.shape, s.dtype, d.batch_shape, d.event_shape,
                        d.log_prob(s).shape))
    return out


@case
def expand_each_family(lib):
    lib.manual_seed(0)
    ds = [D(lib).Normal(f64(lib, [0.0, 1.0]), 1.0), D(lib).Gamma(f64(lib, [2.0, 3.0]), 1.0),
          D(lib).Beta(f64(lib, [2.0, 3.0]), 1.0), D(lib).Categorical(logits=lib.zeros(2, 3)),
          D(lib).Bernoulli(f64(lib, [0.2, 0.7])), D(lib).Dirichlet(lib.ones(2, 3)),
          D(lib).MultivariateNormal(lib.zeros(2, 3), lib.eye(3)),
          D(lib).Binomial(4, f64(lib, [0.2, 0.7])), D(lib).Poisson(f64(lib, [0.2, 0.7])),
          D(lib).StudentT(f64(lib, [2.0, 3.0])), D(lib).Uniform(f64(lib, [0.0, 1.0]), 2.0),
          D(lib).Independent(D(lib).Normal(lib.zeros(2, 3), 1.0), 1),
          D(lib).LowRankMultivariateNormal(lib.zeros(2, 3), lib.ones(2, 3, 1), lib.ones(2, 3)),
          D(lib).LogNormal(f64(lib, [0.0, 1.0]), 1.0), D(lib).Chi2(f64(lib, [2.0, 3.0])),
          D(lib).VonMises(f64(lib, [0.0, 1.0]), 2.0), D(lib).RelaxedBernoulli(
              f64(lib, 0.5), f64(lib, [0.3, 0.6]))]
    out = []
    for d in ds:
        e = d.expand((4, 2))
        lib.manual_seed(1)
        s = e.sample()
        out.append((type(e).__name__, e.batch_shape, e.event_shape, s.shape, e.log_prob(s),
                    e._validate_args if hasattr(e, '_validate_args') else None))
    return out


@case
def expand_bad_shape(lib):
    d = D(lib).Normal(lib.zeros(3), 1.0)
    return try_(lambda: d.expand((4, 2)).batch_shape)


@case
def independent_reinterpreted_too_many(lib):
    return try_(lambda: D(lib).Independent(D(lib).Normal(lib.zeros(3), 1.0), 2))


@case
def independent_nested_and_props(lib):
    d = D(lib).Independent(D(lib).Independent(D(lib).Normal(lib.zeros(2, 3, 4), 1.0), 1), 1)
    return (d.batch_shape, d.event_shape, repr(d), d.reinterpreted_batch_ndims, d.has_rsample,
            d.has_enumerate_support, d.support, d.mean.shape, d.entropy().shape,
            repr(D(lib).Independent(D(lib).Bernoulli(lib.ones(2, 3) / 2), 1).support))


@case
def independent_enumerate_support(lib):
    d = D(lib).Independent(D(lib).Bernoulli(lib.ones(2, 3) / 2), 1)
    return try_(lambda: d.enumerate_support()), D(lib).Independent(
        D(lib).Bernoulli(lib.ones(2, 3) / 2), 0).enumerate_support().shape


@case
def sample_shape_int_and_list(lib):
    lib.manual_seed(0)
    d = D(lib).Normal(0.0, 1.0)
    return try_(lambda: d.sample(3)), try_(lambda: d.sample([2, 2]).shape), \
        try_(lambda: d.rsample(lib.Size([2])).shape), d.sample_n(2) if hasattr(d, 'sample_n') \
        else None


@case
def extended_shape(lib):
    d = D(lib).Dirichlet(lib.ones(2, 3))
    return d._extended_shape((4,)), d._extended_shape(), type(d._extended_shape()).__name__


# ======================================================================================
# validate_args on/off, error messages
# ======================================================================================

@case
def validate_default_toggle(lib):
    Dist = D(lib).Distribution
    out = [Dist._validate_args]
    Dist.set_default_validate_args(False)
    try:
        d = D(lib).Normal(lib.tensor([0.0]), lib.tensor([-1.0]))
        out.append((d.scale, d.log_prob(lib.tensor([0.5])), d._validate_args))
        out.append(D(lib).Bernoulli(lib.tensor([0.5])).log_prob(lib.tensor([0.3])))
    finally:
        Dist.set_default_validate_args(True)
    out.append(try_(lambda: D(lib).Normal(lib.tensor([0.0]), lib.tensor([-1.0]))))
    out.append(try_(lambda: Dist.set_default_validate_args('yes')))
    return out


@case
def validate_args_explicit(lib):
    d = D(lib).Normal(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=False)
    e = D(lib).Normal(lib.tensor([0.0]), lib.tensor([1.0]), validate_args=True)
    return d.stddev, try_(lambda: e.log_prob(lib.tensor([[1.0, 2.0]]).T)), \
        try_(lambda: e.log_prob([1.0]))


@case
def validate_nan_param(lib):
    return try_(lambda: D(lib).Normal(lib.tensor([0.0, float('nan')]), 1.0))


@case
def validate_error_messages_many(lib):
    out = []
    for mk in [lambda: D(lib).Normal(0.0, -1.0),
               lambda: D(lib).Normal(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 0.0])),
               lambda: D(lib).Exponential(lib.tensor([-1.0])),
               lambda: D(lib).Uniform(lib.tensor(2.0), lib.tensor(1.0)),
               lambda: D(lib).Beta(lib.tensor(0.0), lib.tensor(1.0)),
               lambda: D(lib).Dirichlet(lib.tensor([1.0, -1.0])),
               lambda: D(lib).Dirichlet(lib.tensor(1.0)),
               lambda: D(lib).Binomial(lib.tensor(-1.0), probs=lib.tensor(0.5)),
               lambda: D(lib).Binomial(2, probs=lib.tensor(1.5)),
               lambda: D(lib).Poisson(lib.tensor([-0.5])),
               lambda: D(lib).Geometric(lib.tensor(0.0)),
               lambda: D(lib).StudentT(lib.tensor(-1.0)),
               lambda: D(lib).Laplace(0.0, lib.tensor(-2.0)),
               lambda: D(lib).Cauchy(0.0, lib.tensor(0.0)),
               lambda: D(lib).VonMises(0.0, lib.tensor(-1.0)),
               lambda: D(lib).Pareto(lib.tensor(1.0), lib.tensor(-1.0)),
               lambda: D(lib).LKJCholesky(1, 1.0),
               lambda: D(lib).LKJCholesky(3, -1.0),
               lambda: D(lib).Wishart(lib.tensor(1.0), lib.eye(3)),
               lambda: D(lib).Chi2(lib.tensor(-2.0)),
               lambda: D(lib).Multinomial(3, probs=lib.tensor([0.5, -0.5])),
               lambda: D(lib).Gumbel(0.0, -1.0),
               lambda: D(lib).HalfNormal(-1.0),
               lambda: D(lib).Weibull(1.0, -1.0),
               lambda: D(lib).Kumaraswamy(-1.0, 1.0),
               lambda: D(lib).ContinuousBernoulli(lib.tensor(1.5)),
               lambda: D(lib).FisherSnedecor(-1.0, 1.0),
               lambda: D(lib).NegativeBinomial(-1.0, 0.5),
               lambda: D(lib).InverseGamma(-1.0, 1.0),
               lambda: D(lib).GeneralizedPareto(0.0, -1.0, 0.5),
               lambda: D(lib).RelaxedBernoulli(lib.tensor(-1.0), lib.tensor(0.5)),
               lambda: D(lib).OneHotCategorical(lib.tensor([-1.0, 1.0])),
               ]:
        out.append(try_(mk))
    return out


@case
def value_out_of_support_messages(lib):
    out = []
    for d, v in [(D(lib).Exponential(1.0), lib.tensor(-1.0)),
                 (D(lib).Uniform(0.0, 1.0), lib.tensor(1.0)),
                 (D(lib).Uniform(0.0, 1.0), lib.tensor(0.0)),
                 (D(lib).Poisson(2.0), lib.tensor(1.5)),
                 (D(lib).Geometric(0.5), lib.tensor(-1.0)),
                 (D(lib).Multinomial(3, lib.ones(3)), lib.tensor([1.0, 1.0, 2.0])),
                 (D(lib).OneHotCategorical(lib.ones(3)), lib.tensor([1.0, 1.0, 0.0])),
                 (D(lib).Pareto(1.0, 2.0), lib.tensor(0.5)),
                 (D(lib).HalfCauchy(1.0), lib.tensor(-0.5)),
                 (D(lib).LogNormal(0.0, 1.0), lib.tensor(-1.0)),
                 (D(lib).TransformedDistribution(D(lib).Normal(0., 1.),
                                                 [D(lib).transforms.SigmoidTransform()]),
                  lib.tensor(1.5)),
                 (D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)), lib.zeros(3)),
                 (D(lib).Normal(lib.zeros(3), 1.0), lib.zeros(2)),
                 (D(lib).Normal(lib.zeros(3), 1.0), lib.tensor([float('inf'), 0.0, 0.0])),
                 (D(lib).Normal(lib.zeros(3), 1.0), lib.tensor([float('nan'), 0.0, 0.0])),
                 (D(lib).LKJCholesky(2, 1.0), lib.eye(2) * 2)]:
        out.append(try_(lambda: d.log_prob(v)))
    return out


@case
def log_prob_non_tensor_value(lib):
    return (try_(lambda: D(lib).Normal(0.0, 1.0).log_prob(0.5)),
            try_(lambda: D(lib).Normal(0.0, 1.0).log_prob(np.float32(0.5))),
            D(lib).Normal(0.0, 1.0, validate_args=False).log_prob(lib.tensor(0.5)))


@case
def warnings_on_ambiguous_usage(lib):
    lib.manual_seed(0)
    out = []
    out.append(D(lib).Normal(0.0, 1.0).sample_n(2).shape)
    d = D(lib).Categorical(logits=lib.zeros(3))
    out.append(d.sample().shape)
    return out


# ======================================================================================
# every family: seeded sample, log_prob, stats, entropy, cdf/icdf, gradients (float64)
# ======================================================================================

FAMILIES = {
    'Normal': (lambda lib, P: D(lib).Normal(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'Laplace': (lambda lib, P: D(lib).Laplace(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'Cauchy': (lambda lib, P: D(lib).Cauchy(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'Gumbel': (lambda lib, P: D(lib).Gumbel(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'Uniform': (lambda lib, P: D(lib).Uniform(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'LogNormal': (lambda lib, P: D(lib).LogNormal(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'StudentT': (lambda lib, P: D(lib).StudentT(P[0], P[1], P[2]),
                 [[3.0, 1.5], [0.5, -1.0], [1.5, 0.3]]),
    'Exponential': (lambda lib, P: D(lib).Exponential(P[0]), [[0.5, 3.0]]),
    'HalfNormal': (lambda lib, P: D(lib).HalfNormal(P[0]), [[0.5, 3.0]]),
    'HalfCauchy': (lambda lib, P: D(lib).HalfCauchy(P[0]), [[0.5, 3.0]]),
    'Chi2': (lambda lib, P: D(lib).Chi2(P[0]), [[0.5, 3.0]]),
    'Gamma': (lambda lib, P: D(lib).Gamma(P[0], P[1]), [[0.7, 3.0], [2.0, 0.5]]),
    'InverseGamma': (lambda lib, P: D(lib).InverseGamma(P[0], P[1]), [[2.7, 3.0], [2.0, 0.5]]),
    'Beta': (lambda lib, P: D(lib).Beta(P[0], P[1]), [[0.7, 3.0], [2.0, 0.5]]),
    'Kumaraswamy': (lambda lib, P: D(lib).Kumaraswamy(P[0], P[1]), [[0.7, 3.0], [2.0, 0.5]]),
    'Weibull': (lambda lib, P: D(lib).Weibull(P[0], P[1]), [[0.7, 3.0], [2.0, 0.5]]),
    'Pareto': (lambda lib, P: D(lib).Pareto(P[0], P[1]), [[0.7, 3.0], [2.5, 3.5]]),
    'FisherSnedecor': (lambda lib, P: D(lib).FisherSnedecor(P[0], P[1]),
                       [[3.0, 5.0], [6.0, 10.0]]),
    'VonMises': (lambda lib, P: D(lib).VonMises(P[0], P[1]), [[0.5, -1.0], [1.5, 0.3]]),
    'ContinuousBernoulli': (lambda lib, P: D(lib).ContinuousBernoulli(P[0]), [[0.2, 0.5]]),
    'GeneralizedPareto': (lambda lib, P: D(lib).GeneralizedPareto(P[0], P[1], P[2]),
                          [[0.5, -1.0], [1.5, 0.3], [0.2, -0.1]]),
    'Dirichlet': (lambda lib, P: D(lib).Dirichlet(P[0]), [[[0.5, 2.0, 1.0], [3.0, 1.0, 1.0]]]),
    'LogisticNormal': (lambda lib, P: D(lib).LogisticNormal(P[0], P[1]),
                       [[[0.5, -1.0], [0.0, 1.0]], [[1.5, 0.3], [1.0, 1.0]]]),
    'RelaxedBernoulli': (lambda lib, P: D(lib).RelaxedBernoulli(f64(lib, 0.7), probs=P[0]),
                         [[0.2, 0.9]]),
    'Bernoulli': (lambda lib, P: D(lib).Bernoulli(probs=P[0]), [[0.2, 0.9]]),
    'BernoulliLogits': (lambda lib, P: D(lib).Bernoulli(logits=P[0]), [[0.2, -3.0]]),
    'Geometric': (lambda lib, P: D(lib).Geometric(probs=P[0]), [[0.2, 0.9]]),
    'GeometricLogits': (lambda lib, P: D(lib).Geometric(logits=P[0]), [[0.2, -3.0]]),
    'Poisson': (lambda lib, P: D(lib).Poisson(P[0]), [[0.2, 13.0]]),
    'Binomial': (lambda lib, P: D(lib).Binomial(f64(lib, [5.0, 30.0]), probs=P[0]),
                 [[0.2, 0.9]]),
    'NegativeBinomial': (lambda lib, P: D(lib).NegativeBinomial(P[0], probs=P[1]),
                         [[2.5, 7.0], [0.2, 0.6]]),
    'Categorical': (lambda lib, P: D(lib).Categorical(probs=P[0]),
                    [[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]]),
    'OneHotCategorical': (lambda lib, P: D(lib).OneHotCategorical(logits=P[0]),
                          [[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]]),
    'Multinomial': (lambda lib, P: D(lib).Multinomial(7, logits=P[0]),
                    [[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]]),
    'RelaxedOneHot': (lambda lib, P: D(lib).RelaxedOneHotCategorical(f64(lib, 0.7), logits=P[0]),
                      [[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]]),
    'MVN': (lambda lib, P: D(lib).MultivariateNormal(P[0], scale_tril=P[1]),
            [[0.5, -1.0], [[1.5, 0.0], [0.3, 0.7]]]),
    'LowRankMVN': (lambda lib, P: D(lib).LowRankMultivariateNormal(P[0], P[1], P[2]),
                   [[0.5, -1.0], [[1.5], [0.3]], [0.5, 2.0]]),
    'Wishart': (lambda lib, P: D(lib).Wishart(P[0], scale_tril=P[1]),
                [[3.5], [[1.5, 0.0], [0.3, 0.7]]]),
    'LKJCholesky': (lambda lib, P: D(lib).LKJCholesky(3, P[0]), [[0.5, 2.0]]),
}


def _family_case(name):
    make, raw = FAMILIES[name]

    def fn(lib):
        params = [leaf(lib, r) for r in raw]
        d = make(lib, params)
        lib.manual_seed(123)
        s = d.sample((3,))
        out = {'sample': s, 'batch': d.batch_shape, 'event': d.event_shape,
               'repr': repr(d), 'has_rsample': d.has_rsample,
               'has_enum': d.has_enumerate_support}
        if d.has_rsample:
            lib.manual_seed(123)
            r = d.rsample((2,))
            out['rsample'] = r
            if name != 'Wishart':
                # (PyTorch 2.13's Wishart.rsample cannot be differentiated: its sampler modifies
                # a saved mask in place, 'one of the variables needed for gradient computation
                # has been modified'; nbgrad's can: test_distributions_more checks it)
                out['rsample_grad'] = try_(lambda: lib.autograd.grad(
                    r.sum(), params, allow_unused=True))
            s = r.detach()
        lp = try_(lambda: d.log_prob(s))
        out['log_prob'] = lp
        if not isinstance(lp, tuple):
            out['lp_grad'] = lib.autograd.grad(lp.sum(), params, allow_unused=True)
        for k in ('mean', 'mode', 'variance', 'stddev'):
            out[k] = try_(lambda: getattr(d, k))
        out['entropy'] = try_(lambda: d.entropy())
        out['cdf'] = try_(lambda: d.cdf(s))
        out['icdf'] = try_(lambda: d.icdf(f64(lib, 0.3).expand(d.batch_shape)))
        out['enum'] = try_(lambda: d.enumerate_support())
        out['perplexity'] = try_(lambda: d.perplexity())
        return out
    fn.__name__ = f'family_{name}'
    return fn


for _name in FAMILIES:
    case(_family_case(_name))


def _family_f32_case(name):
    make, raw = FAMILIES[name]

    def fn(lib):
        params = [lib.tensor(r) for r in raw]
        d = make(lib, params)
        lib.manual_seed(7)
        s = d.sample((4,))
        return s, try_(lambda: d.log_prob(s)), try_(lambda: d.entropy()), \
            try_(lambda: d.mean), try_(lambda: d.variance)
    fn.__name__ = f'family_f32_{name}'
    return fn


for _name in ['Normal', 'Gamma', 'Beta', 'Dirichlet', 'Poisson', 'Binomial', 'StudentT',
              'VonMises', 'Chi2', 'Categorical', 'Multinomial', 'Wishart', 'LKJCholesky',
              'Bernoulli', 'NegativeBinomial', 'FisherSnedecor', 'InverseGamma', 'Exponential']:
    case(_family_f32_case(_name))


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


# ======================================================================================
# edge values, dtypes, requires_grad of samples
# ======================================================================================

@case
def sample_vs_rsample_requires_grad(lib):
    lib.manual_seed(0)
    mu = leaf(lib, [0.0, 1.0])
    d = D(lib).Normal(mu, 1.0)
    s = d.sample()
    r = d.rsample()
    c = D(lib).Categorical(logits=mu)
    g = D(lib).Gamma(mu.exp(), 1.0)
    return (s.requires_grad, r.requires_grad, c.sample().requires_grad, g.sample().requires_grad,
            g.rsample().requires_grad, try_(lambda: c.rsample()),
            try_(lambda: D(lib).Poisson(mu.exp()).rsample()),
            try_(lambda: _gmm(lib)[0].rsample()))


@case
def categorical_neg_inf_logits(lib):
    lg = f64(lib, [[0.0, -float('inf'), 1.0], [-float('inf'), 0.0, -float('inf')]])
    c = D(lib).Categorical(logits=lg)
    lib.manual_seed(0)
    return (c.probs, c.logits, c.entropy(), c.log_prob(lib.tensor([1, 1])), c.sample((5,)),
            D(lib).kl_divergence(c, c))


@case
def categorical_zero_probs(lib):
    c = D(lib).Categorical(probs=f64(lib, [0.0, 0.3, 0.7]))
    return c.logits, c.entropy(), c.log_prob(lib.tensor(0)), c.perplexity()


@case
def bernoulli_extreme_logits(lib):
    lg = leaf(lib, [-800.0, -40.0, 0.0, 40.0, 800.0])
    b = D(lib).Bernoulli(logits=lg)
    v = f64(lib, [1.0, 0.0, 1.0, 1.0, 0.0])
    lp = b.log_prob(v)
    return lp, b.entropy(), b.probs, lib.autograd.grad(lp.sum(), lg)


@case
def bernoulli_prob_edges(lib):
    b = D(lib).Bernoulli(probs=f64(lib, [0.0, 1.0, 1e-300]))
    return b.logits, b.log_prob(f64(lib, [0.0, 1.0, 1.0])), b.entropy()


@case
def clamp_probs_float32(lib):
    b = D(lib).Bernoulli(probs=lib.tensor([0.0, 1.0]))
    return b.logits, b.log_prob(lib.tensor([1.0, 0.0])), D(lib).Binomial(
        3, probs=lib.tensor([0.0, 1.0])).log_prob(lib.tensor([1.0, 1.0]))


@case
def log_prob_value_dtypes(lib):
    n = D(lib).Normal(lib.tensor(0.0), lib.tensor(1.0))
    n64 = D(lib).Normal(f64(lib, 0.0), f64(lib, 1.0))
    b = D(lib).Bernoulli(lib.tensor([0.3, 0.6]))
    c = D(lib).Categorical(lib.ones(3))
    return (try_(lambda: n.log_prob(lib.tensor(1))), try_(lambda: n.log_prob(f64(lib, 1.0))),
            try_(lambda: n64.log_prob(lib.tensor(1.0))),
            try_(lambda: b.log_prob(lib.tensor([True, False]))),
            try_(lambda: b.log_prob(lib.tensor([1, 0]))),
            try_(lambda: c.log_prob(lib.tensor([1, 2], dtype=lib.int32))),
            try_(lambda: c.log_prob(lib.tensor([1, 2], dtype=lib.uint8))),
            try_(lambda: D(lib).Poisson(lib.tensor(2.0)).log_prob(lib.tensor(3))),
            try_(lambda: D(lib).Binomial(5, lib.tensor(0.5)).log_prob(lib.tensor(2))))


@case
def sample_dtypes(lib):
    lib.manual_seed(0)
    out = []
    for d in [D(lib).Bernoulli(lib.tensor([0.3])), D(lib).Bernoulli(f64(lib, [0.3])),
              D(lib).Categorical(f64(lib, [0.3, 0.7])), D(lib).Poisson(f64(lib, [3.0])),
              D(lib).Binomial(3, lib.tensor([0.3])), D(lib).Multinomial(3, f64(lib, [0.3, 0.7])),
              D(lib).OneHotCategorical(f64(lib, [0.3, 0.7])), D(lib).Geometric(lib.tensor(0.3)),
              D(lib).Uniform(lib.tensor(0.0, dtype=lib.float16), 1.0)]:
        out.append(try_(lambda: d.sample((2,))))
    return out


@case
def half_precision_normal(lib):
    lib.manual_seed(0)
    d = D(lib).Normal(lib.zeros(3, dtype=lib.float16), lib.ones(3, dtype=lib.float16))
    s = d.sample()
    return s, try_(lambda: d.log_prob(s)), try_(lambda: d.entropy())


@case
def uniform_rsample_grad_and_edges(lib):
    lib.manual_seed(0)
    lo = leaf(lib, [0.0, -1.0])
    hi = leaf(lib, [1.0, 3.0])
    d = D(lib).Uniform(lo, hi)
    s = d.rsample((3,))
    lp = d.log_prob(s.detach())
    return (s, lib.autograd.grad(s.sum() + lp.sum(), [lo, hi]), d.cdf(f64(lib, [0.5, -2.0])),
            d.icdf(f64(lib, [0.5, 0.25])), stats(d), d.entropy(),
            D(lib).Uniform(0.0, 1.0, validate_args=False).log_prob(lib.tensor([-1.0, 0.5, 2.0])),
            D(lib).Uniform(0.0, 1.0, validate_args=False).cdf(lib.tensor([-1.0, 0.5, 2.0])))


@case
def exponential_laplace_cauchy_cdf_icdf(lib):
    x = f64(lib, [-1.0, 0.5, 3.0])
    p = f64(lib, [0.1, 0.5, 0.9])
    out = []
    for d in [D(lib).Laplace(0.5, 2.0), D(lib).Cauchy(0.5, 2.0),
              D(lib).Exponential(f64(lib, 2.0), validate_args=False),
              D(lib).Gumbel(f64(lib, 0.5), 2.0), D(lib).Pareto(f64(lib, 1.0), 2.0,
                                                              validate_args=False),
              D(lib).Weibull(f64(lib, 1.0), 2.0, validate_args=False),
              D(lib).HalfNormal(f64(lib, 1.0), validate_args=False),
              D(lib).HalfCauchy(f64(lib, 1.0), validate_args=False),
              D(lib).ContinuousBernoulli(f64(lib, 0.3), validate_args=False),
              D(lib).ContinuousBernoulli(f64(lib, 0.5), validate_args=False)]:
        out.append((try_(lambda: d.cdf(x)), try_(lambda: d.icdf(p)),
                    try_(lambda: d.log_prob(x))))
    return out


@case
def continuous_bernoulli_near_half(lib):
    p = leaf(lib, [0.499, 0.5, 0.501, 0.1, 0.9999])
    d = D(lib).ContinuousBernoulli(p)
    x = f64(lib, [0.3, 0.3, 0.3, 0.7, 0.2])
    lp = d.log_prob(x)
    return lp, d.mean, d.variance, d.entropy(), d.cdf(x), d.icdf(x), lib.autograd.grad(
        lp.sum() + d.mean.sum() + d.entropy().sum(), p)


@case
def studentt_df_edges(lib):
    d = D(lib).StudentT(f64(lib, [0.5, 1.0, 1.5, 2.0, 3.0, 300.0]))
    return d.mean, d.variance, d.entropy(), d.log_prob(f64(lib, 0.7))


@case
def vonmises_sampling_and_stats(lib):
    lib.manual_seed(5)
    conc = f64(lib, [1e-3, 0.5, 5.0, 100.0, 1e5])
    d = D(lib).VonMises(f64(lib, [0.0, 1.0, -2.0, 3.0, 0.5]), conc)
    s = d.sample((3,))
    return s, d.log_prob(s), d.mean, d.mode, d.variance, try_(lambda: d.entropy())


@case
def vonmises_float32_sample(lib):
    lib.manual_seed(5)
    d = D(lib).VonMises(lib.tensor([0.0, 1.0]), lib.tensor([0.5, 20.0]))
    s = d.sample((4,))
    return s, d.log_prob(s)


@case
def lkj_cholesky_sample_logprob(lib):
    lib.manual_seed(0)
    d = D(lib).LKJCholesky(4, f64(lib, [0.5, 1.0, 3.0]))
    s = d.sample((2,))
    return s, d.log_prob(s), d.batch_shape, d.event_shape


@case
def wishart_params(lib):
    lib.manual_seed(0)
    S = _spd(lib, 3, 2)
    out = []
    for kw in [dict(covariance_matrix=S), dict(precision_matrix=lib.linalg.inv(S)),
               dict(scale_tril=lib.linalg.cholesky(S))]:
        d = D(lib).Wishart(f64(lib, 5.0), **kw)
        lib.manual_seed(1)
        s = d.sample()
        out.append((s, d.log_prob(s), d.mean, d.mode, d.variance, d.entropy()))
    return out


@case
def wishart_low_df_warning(lib):
    return run_warn(lambda: D(lib).Wishart(f64(lib, 2.5), lib.eye(3, dtype=lib.float64)))


@case
def multinomial_large(lib):
    lib.manual_seed(0)
    m = D(lib).Multinomial(1000, probs=f64(lib, [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
    s = m.sample((2,))
    return s, m.log_prob(s)


@case
def poisson_large_rates_float32(lib):
    lib.manual_seed(0)
    return D(lib).Poisson(lib.tensor([0.0, 1e-3, 9.9, 10.0, 150.0, 1e6])).sample((3,))


@case
def gamma_small_concentration(lib):
    lib.manual_seed(0)
    a = D(lib).Gamma(lib.tensor([1e-3, 0.05, 0.5]), 1.0).sample((3,))
    b = D(lib).Gamma(f64(lib, [1e-3, 0.05, 0.5]), 1.0).sample((3,))
    c = D(lib).Dirichlet(f64(lib, [0.01, 0.01, 0.01])).sample((2,))
    return a, b, c


@case
def binomial_sampling_edges(lib):
    lib.manual_seed(0)
    d = D(lib).Binomial(f64(lib, [0.0, 1.0, 10.0, 200.0, 200.0]),
                        probs=f64(lib, [0.5, 0.0, 1.0, 0.5, 0.02]))
    return d.sample((4,)), D(lib).Binomial(lib.tensor([50.0]), logits=lib.tensor([-3.0])).sample(
        (5,))


@case
def independent_normal_entropy_mode(lib):
    d = D(lib).Independent(D(lib).Normal(f64(lib, [[0.0, 1.0]]), f64(lib, [[1.0, 2.0]])), 1)
    return d.entropy(), d.mode, d.mean, d.variance, d.stddev, try_(lambda: d.cdf(f64(lib, [0.0,
                                                                                      0.0])))


@case
def bernoulli_log_prob_bool_value(lib):
    b = D(lib).Bernoulli(lib.tensor([0.3, 0.6]))
    return try_(lambda: b.log_prob(lib.tensor([True, False])))


@case
def bool_mask_minus_number(lib):
    m = lib.tensor([True, False])
    return try_(lambda: 1 - m), try_(lambda: m - lib.tensor([1.0, 2.0]))


@case
def bce_with_logits_bool_target(lib):
    return try_(lambda: lib.nn.functional.binary_cross_entropy_with_logits(
        lib.tensor([0.3]), lib.tensor([True])))


# ======================================================================================
# training loops through rsample paths: parameter trajectories
# ======================================================================================

@case
def trajectory_beta_rsample_elbo(lib):
    lib.manual_seed(0)
    ua = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    ub = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([ua, ub], lr=0.05)
    prior = D(lib).Beta(f64(lib, 2.0), f64(lib, 5.0))
    data = f64(lib, [1.0, 0.0, 1.0])
    traj = []
    for _ in range(8):
        q = D(lib).Beta(lib.nn.functional.softplus(ua) + 0.1,
                        lib.nn.functional.softplus(ub) + 0.1)
        z = q.rsample((4,))
        lik = D(lib).Bernoulli(probs=z.clamp(1e-6, 1 - 1e-6)).log_prob(data).sum(-1)
        elbo = (lik + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)).mean()
        opt.zero_grad()
        (-elbo).backward()
        opt.step()
        traj.append((ua.detach().clone(), ub.detach().clone()))
    return traj


@case
def trajectory_dirichlet_rsample(lib):
    lib.manual_seed(1)
    u = lib.zeros(4, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.RMSprop([u], lr=0.05)
    target = f64(lib, [0.1, 0.2, 0.3, 0.4])
    traj = []
    for _ in range(8):
        q = D(lib).Dirichlet(u.exp())
        z = q.rsample((5,))
        loss = ((z - target) ** 2).sum(-1).mean() - 0.01 * q.entropy()
        opt.zero_grad()
        loss.backward()
        opt.step()
        traj.append(u.detach().clone())
    return traj


@case
def trajectory_gamma_rsample(lib):
    lib.manual_seed(2)
    u = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    v = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adagrad([u, v], lr=0.1)
    for _ in range(8):
        q = D(lib).Gamma(u.exp() + 0.5, v.exp())
        z = q.rsample((6,))
        loss = (z - 3.0).pow(2).mean() + D(lib).kl_divergence(q, D(lib).Gamma(
            f64(lib, 2.0), f64(lib, 1.0))).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return u.detach(), v.detach(), loss.detach()


@case
def trajectory_mvn_rsample(lib):
    lib.manual_seed(3)
    loc = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    raw = lib.zeros(6, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([loc, raw], lr=0.05)
    tril_idx = lib.tril_indices(3, 3)
    for _ in range(8):
        L = lib.zeros(3, 3, dtype=lib.float64)
        L = L.index_put((tril_idx[0], tril_idx[1]), raw)
        L = D(lib).transform_to(D(lib).constraints.lower_cholesky)(L)
        q = D(lib).MultivariateNormal(loc, scale_tril=L)
        z = q.rsample((4,))
        loss = (z - f64(lib, [1.0, 2.0, 3.0])).pow(2).sum(-1).mean() - q.entropy()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loc.detach(), raw.detach(), loss.detach()


@case
def trajectory_lowrank_rsample(lib):
    lib.manual_seed(4)
    loc = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    W = (lib.ones(3, 2, dtype=lib.float64) * 0.1).requires_grad_()
    ld = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([loc, W, ld], lr=0.05)
    for _ in range(8):
        q = D(lib).LowRankMultivariateNormal(loc, W, ld.exp())
        z = q.rsample((4,))
        loss = (z ** 2).sum(-1).mean() + q.log_prob(z.detach()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loc.detach(), W.detach(), ld.detach(), loss.detach()


@case
def trajectory_relaxed_categorical(lib):
    lib.manual_seed(5)
    lg = lib.zeros(4, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([lg], lr=0.1)
    w = f64(lib, [1.0, 3.0, 0.0, -1.0])
    for _ in range(8):
        q = D(lib).RelaxedOneHotCategorical(f64(lib, 0.5), logits=lg)
        z = q.rsample((8,))
        loss = -(z * w).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lg.detach(), loss.detach()


@case
def trajectory_reinforce_bernoulli(lib):
    lib.manual_seed(6)
    lg = lib.zeros(5, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([lg], lr=0.1)
    target = f64(lib, [1.0, 0.0, 1.0, 1.0, 0.0])
    for _ in range(10):
        d = D(lib).Bernoulli(logits=lg)
        a = d.sample((16,))
        r = -(a - target).abs().sum(-1)
        loss = -(d.log_prob(a).sum(-1) * (r - r.mean())).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lg.detach()


@case
def trajectory_sac_actor(lib):
    lib.manual_seed(7)
    T = D(lib).transforms
    net = lib.nn.Linear(3, 4).double()
    opt = lib.optim.Adam(net.parameters(), lr=3e-3)
    alpha = 0.2
    for _ in range(6):
        obs = lib.randn(5, 3, dtype=lib.float64)
        out = net(obs)
        mu, log_std = out[:, :2], out[:, 2:].clamp(-5, 2)
        pi = D(lib).TransformedDistribution(
            D(lib).Independent(D(lib).Normal(mu, log_std.exp()), 1),
            [T.TanhTransform(cache_size=1), T.AffineTransform(0.0, 2.0)])
        a = pi.rsample()
        logp = pi.log_prob(a)
        q = -(a - 0.5).pow(2).sum(-1)
        loss = (alpha * logp - q).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach() for p in net.parameters()], loss.detach()


@case
def trajectory_kumaraswamy_weibull(lib):
    lib.manual_seed(8)
    ua = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adam([ua], lr=0.1)
    for _ in range(6):
        k = D(lib).Kumaraswamy(ua.exp(), 2.0)
        w = D(lib).Weibull(ua.exp(), 1.5)
        z1 = k.rsample((3,))
        z2 = w.rsample((3,))
        loss = (z1 - 0.8).pow(2).mean() + (z2 - 2.0).pow(2).mean() - k.entropy().sum() \
            - w.entropy().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ua.detach(), loss.detach()


# ======================================================================================
# distributions.utils and misc API
# ======================================================================================

@case
def utils_functions(lib):
    U = lib.distributions.utils
    p = f64(lib, [0.0, 0.2, 1.0])
    return (U.probs_to_logits(p), U.probs_to_logits(p, is_binary=True),
            U.logits_to_probs(f64(lib, [-1.0, 0.0, 2.0])),
            U.logits_to_probs(f64(lib, [-1.0, 0.0, 2.0]), is_binary=True),
            U.clamp_probs(lib.tensor([0.0, 1.0])), U.clamp_probs(p),
            [x for x in U.broadcast_all(1.0, lib.tensor([1.0, 2.0]), f64(lib, [[3.0]]))],
            try_(lambda: U.broadcast_all(1.0, 2.0)), try_(lambda: U.broadcast_all('a', 1.0)),
            U.tril_matrix_to_vec(lib.arange(9.).reshape(3, 3)),
            U.vec_to_tril_matrix(lib.arange(6.)),
            U.tril_matrix_to_vec(lib.arange(9.).reshape(3, 3), diag=-1),
            type(U.lazy_property).__name__, U.euler_constant)


@case
def broadcast_all_dtypes(lib):
    U = lib.distributions.utils
    old = lib.get_default_dtype()
    out = [[x.dtype for x in U.broadcast_all(1.0, lib.tensor([1, 2]))],
           [x.dtype for x in U.broadcast_all(1, lib.tensor([1.0], dtype=lib.float64))]]
    lib.set_default_dtype(lib.float64)
    try:
        out.append([x.dtype for x in U.broadcast_all(1.0, 2)])
        out.append(D(lib).Normal(0.0, 1.0).loc.dtype)
        out.append(D(lib).Gamma(2, 3).sample().dtype)
    finally:
        lib.set_default_dtype(old)
    return out


@case
def score_function_and_variance_props(lib):
    d = D(lib).Normal(leaf(lib, 1.0), leaf(lib, 2.0))
    return (d.mean.requires_grad, d.stddev.requires_grad, d.variance, d.mode,
            D(lib).Normal(f64(lib, 1.0), 2.0).mean.requires_grad)


@case
def mixture_of_mvn(lib):
    lib.manual_seed(9)
    mix = D(lib).Categorical(logits=f64(lib, [0.0, 1.0]))
    comp = D(lib).MultivariateNormal(f64(lib, [[0.0, 0.0], [3.0, 3.0]]),
                                     scale_tril=lib.eye(2, dtype=lib.float64).expand(2, 2, 2))
    m = D(lib).MixtureSameFamily(mix, comp)
    s = m.sample((4,))
    return s, m.log_prob(s), m.mean, m.variance, m.event_shape, repr(m)


@case
def transformed_event_dim_bump(lib):
    lib.manual_seed(10)
    T = D(lib).transforms
    base = D(lib).Normal(lib.zeros(2, 3, dtype=lib.float64), 1.0)
    d = D(lib).TransformedDistribution(base, [T.StickBreakingTransform()])
    s = d.sample((2,))
    d2 = D(lib).TransformedDistribution(base, [T.ReshapeTransform((3,), (3, 1))])
    return (d.batch_shape, d.event_shape, s, d.log_prob(s), d2.batch_shape, d2.event_shape,
            d2.sample().shape, d.expand((4, 2)).batch_shape, repr(d.support))


@case
def transformed_bad_transform_type(lib):
    return try_(lambda: D(lib).TransformedDistribution(D(lib).Normal(0., 1.), ['exp'])), try_(
        lambda: D(lib).TransformedDistribution(D(lib).Normal(0., 1.), 5))


@case
def transformed_mean_not_implemented(lib):
    d = D(lib).TransformedDistribution(D(lib).Normal(0., 1.), [D(lib).transforms.ExpTransform()])
    return try_(lambda: d.mean), try_(lambda: d.variance), try_(lambda: d.entropy()), \
        d.has_rsample, repr(d.support), d.cdf(lib.tensor(2.0)), d.icdf(lib.tensor(0.3))


@case
def logistic_normal_sample(lib):
    lib.manual_seed(11)
    d = D(lib).LogisticNormal(f64(lib, [0.0, 1.0, -1.0]), f64(lib, [1.0, 0.5, 2.0]))
    s = d.rsample((3,))
    return s, d.log_prob(s), d.event_shape, repr(d), d.support


@case
def inverse_gamma_and_fisher(lib):
    lib.manual_seed(12)
    a = leaf(lib, [3.0, 4.0])
    ig = D(lib).InverseGamma(a, 2.0)
    fs = D(lib).FisherSnedecor(a, a + 2)
    s1 = ig.rsample((2,))
    s2 = fs.rsample((2,))
    return s1, s2, ig.entropy(), stats(ig), stats(fs), lib.autograd.grad(
        s1.sum() + s2.sum() + ig.entropy().sum(), a)


@case
def enumerate_support_expand_variants(lib):
    out = []
    for d in [D(lib).Bernoulli(lib.full((2, 3), 0.5)), D(lib).Categorical(lib.ones(2, 4)),
              D(lib).OneHotCategorical(lib.ones(2, 3)),
              D(lib).Binomial(3, lib.full((2,), 0.5)), D(lib).Bernoulli(0.5)]:
        a = d.enumerate_support()
        b = d.enumerate_support(expand=False)
        out.append((a, b, d.log_prob(b).shape, d.log_prob(a).shape))
    return out


@case
def enumerate_support_not_supported(lib):
    return (try_(lambda: D(lib).Normal(0., 1.).enumerate_support()),
            try_(lambda: D(lib).Poisson(1.).enumerate_support()),
            try_(lambda: D(lib).Multinomial(2, lib.ones(2)).enumerate_support()),
            try_(lambda: D(lib).Geometric(0.5).enumerate_support()),
            try_(lambda: _gmm(lib)[0].enumerate_support()))


@case
def perplexity_and_entropy_batch(lib):
    d = D(lib).Categorical(probs=f64(lib, [[0.25, 0.25, 0.5], [1.0, 0.0, 0.0]]))
    n = D(lib).Normal(f64(lib, [0.0, 1.0]), f64(lib, [0.1, 10.0]))
    return d.perplexity(), d.entropy(), n.perplexity(), n.entropy()


# ======================================================================================
# misc: list params, devices, numpy params, icdf ranges, stddev under default dtype
# ======================================================================================

@case
def list_and_numpy_params(lib):
    return (try_(lambda: D(lib).Normal([0.0, 1.0], 1.0)),
            try_(lambda: D(lib).Normal(np.array([0.0, 1.0]), 1.0)),
            try_(lambda: D(lib).Categorical(probs=[0.5, 0.5])),
            try_(lambda: D(lib).Normal(np.float64(0.5), 1.0).loc),
            try_(lambda: D(lib).Bernoulli(probs=np.float32(0.5)).probs))


@case
def params_on_cpu_device(lib):
    dev = lib.device('cpu')
    lib.manual_seed(0)
    d = D(lib).Normal(lib.zeros(2, device=dev), lib.ones(2, device='cpu'))
    c = D(lib).Categorical(logits=lib.zeros(3, device=dev))
    m = D(lib).MultivariateNormal(lib.zeros(2, device=dev), lib.eye(2, device=dev))
    return (str(d.sample().device), str(c.sample().device), str(m.rsample().device),
            str(d.mean.device), str(D(lib).Normal(0.0, 1.0).loc.device))


@case
def icdf_out_of_range(lib):
    d = D(lib).Normal(f64(lib, 0.0), 1.0)
    u = D(lib).Uniform(f64(lib, 0.0), 2.0)
    return (try_(lambda: d.icdf(f64(lib, [0.0, 1.0, 1.5]))),
            try_(lambda: u.icdf(f64(lib, [1.5]))),
            try_(lambda: d.cdf(f64(lib, [float('inf'), -float('inf')]))),
            try_(lambda: D(lib).Exponential(1.0).icdf(lib.tensor([1.0]))))


@case
def gradient_of_log_prob_wrt_value(lib):
    x = leaf(lib, [0.3, 0.6])
    out = []
    for d in [D(lib).Normal(f64(lib, 0.0), 1.0), D(lib).Beta(f64(lib, 2.0), 3.0),
              D(lib).Gamma(f64(lib, 2.0), 3.0), D(lib).StudentT(f64(lib, 3.0)),
              D(lib).Laplace(f64(lib, 0.0), 1.0), D(lib).LogNormal(f64(lib, 0.0), 1.0),
              D(lib).Kumaraswamy(f64(lib, 2.0), 3.0), D(lib).Weibull(f64(lib, 1.0), 2.0),
              D(lib).ContinuousBernoulli(f64(lib, 0.3)), D(lib).VonMises(f64(lib, 0.0), 2.0),
              D(lib).Cauchy(f64(lib, 0.0), 1.0), D(lib).Gumbel(f64(lib, 0.0), 1.0),
              D(lib).HalfNormal(f64(lib, 1.0)), D(lib).Chi2(f64(lib, 3.0)),
              D(lib).FisherSnedecor(f64(lib, 3.0), 5.0)]:
        lp = d.log_prob(x)
        out.append((lp, lib.autograd.grad(lp.sum(), x)))
    return out


@case
def uniform_log_prob_no_grad_to_value(lib):
    x = leaf(lib, [0.3, 0.6])
    lp = D(lib).Uniform(f64(lib, 0.0), 1.0).log_prob(x)
    return lp, try_(lambda: lib.autograd.grad(lp.sum(), x))


@case
def second_order_grad_normal(lib):
    mu = leaf(lib, [0.5, -0.5])
    sd = leaf(lib, [1.0, 2.0])
    lp = D(lib).Normal(mu, sd).log_prob(f64(lib, [1.0, 1.0])).sum()
    g = lib.autograd.grad(lp, [mu, sd], create_graph=True)
    h = lib.autograd.grad(g[0].sum() + g[1].sum(), [mu, sd])
    return g, h


@case
def validate_args_with_expand_and_sample(lib):
    d = D(lib).Normal(lib.zeros(3), 1.0, validate_args=True).expand((2, 3))
    return d._validate_args, try_(lambda: d.log_prob(lib.zeros(4))), \
        D(lib).Normal(lib.zeros(3), 1.0, validate_args=False).expand((2, 3))._validate_args


@case
def categorical_probs_renorm_validate(lib):
    return (try_(lambda: D(lib).Categorical(probs=lib.tensor([0.2, 0.2]))),
            try_(lambda: D(lib).OneHotCategorical(probs=lib.tensor([0.2, 0.2])).probs),
            try_(lambda: D(lib).Multinomial(2, probs=lib.tensor([0.2, 0.2])).probs),
            try_(lambda: D(lib).Dirichlet(lib.tensor([[1.0, 2.0]])).mean))


@case
def kl_mixture_and_transformed_not_implemented(lib):
    g = _gmm(lib)[0]
    return (try_(lambda: D(lib).kl_divergence(g, g)),
            try_(lambda: D(lib).kl_divergence(D(lib).LogNormal(0., 1.), D(lib).Gamma(1., 1.))),
            try_(lambda: D(lib).kl_divergence(D(lib).Normal(0., 1.), D(lib).Cauchy(0., 1.))))


@case
def sample_reproducible_interleaved(lib):
    lib.manual_seed(42)
    a = D(lib).Normal(0.0, 1.0).sample((2,))
    b = D(lib).Gamma(2.0, 1.0).sample((2,))
    c = lib.rand(2)
    e = D(lib).Categorical(lib.ones(5)).sample((3,))
    f = D(lib).Beta(0.5, 0.5).sample((2,))
    g = D(lib).Poisson(lib.tensor([5.0, 50.0])).sample()
    h = D(lib).Dirichlet(lib.ones(3)).sample()
    i = D(lib).Binomial(10, lib.tensor([0.3, 0.7])).sample()
    j = D(lib).StudentT(3.0).sample((2,))
    k = lib.randn(2)
    return a, b, c, e, f, g, h, i, j, k


# ======================================================================================
# focused reproducers of root causes found above
# ======================================================================================

@case
def dirichlet_entropy_grad_trigamma(lib):
    # d/da digamma(a) = polygamma(1, a): PyTorch's trigamma is accurate to ~5e-10 only
    a = leaf(lib, [0.5, 1.5])
    return lib.autograd.grad(D(lib).Dirichlet(a).entropy(), a)


@case
def isclose_dtype_mismatch_message(lib):
    # GeneralizedPareto (float64 params) calls isclose(concentration, tensor(0.0))
    return try_(lambda: lib.isclose(f64(lib, [0.0]), lib.tensor([0.0])))


@case
def generalized_pareto_float32(lib):
    lib.manual_seed(3)
    c = lib.tensor([0.2, -0.1, 0.0], requires_grad=True)
    d = D(lib).GeneralizedPareto(lib.tensor([0.5, -1.0, 0.0]), lib.tensor([1.5, 0.3, 1.0]), c)
    s = d.rsample((2,))
    lp = d.log_prob(s.detach())
    return (s, lp, d.cdf(s.detach()), d.icdf(lib.tensor(0.3)), d.mean, d.variance, d.entropy(),
            lib.autograd.grad(lp.sum() + s.sum(), c))


@case
def halfnormal_mro(lib):
    return [c.__name__ for c in D(lib).HalfNormal.__mro__], D(lib).HalfNormal.__bases__[0].__name__


def _ids(fn):
    return fn.__name__


# Cases whose float64 results go through the trigamma function (Dirichlet/Gamma entropy and
# rsample gradients, KL gradients): PyTorch's trigamma is off by up to 5e-10 relative (against
# mpmath: nbgrad's is exact to 1e-16 at 0.3, 0.7, 1.5, 2.2, 5.1), so these compare to 1e-8
# (an optimiser's trajectory amplifies the difference over its steps).
TRIGAMMA_CASES = {'kl_grads_float64', 'trajectory_dirichlet_rsample', 'trajectory_gamma_rsample',
                  'inverse_gamma_and_fisher', 'dirichlet_entropy_grad_trigamma'}


@pytest.mark.parametrize('fn', CASES, ids=_ids)
def test_same_as_torch(fn):
    expected = run(fn, torch_lib)
    got = run(fn, nbgrad)
    if got[0][0] == 'EXC' or expected[0][0] == 'EXC':
        assert got[0] == expected[0], f'\nnbgrad: {got[0]!r}\ntorch:  {expected[0]!r}'
    same(got[0], expected[0], (1e-8, 1e-12) if fn.__name__ in TRIGAMMA_CASES else None)
    assert got[1] == expected[1], f'\nwarnings nbgrad: {got[1]!r}\nwarnings torch:  {expected[1]!r}'
