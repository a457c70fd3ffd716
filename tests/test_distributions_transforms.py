"""nbgrad.distributions constraints, transforms and constraint_registry against
torch.distributions: the same checks, values, log-determinants, shapes, caching, equality,
float64 gradients, and biject_to/transform_to for every constraint PyTorch registers."""

import numpy as np
import pytest

torch = pytest.importorskip('torch')

import nbgrad  # noqa: E402
import nbgrad.distributions  # noqa: E402,F401  (the lead wires nbgrad.distributions into nbgrad)
from torch_compare import assert_same, assert_same_error, exc_kind, on_cpu  # noqa: E402

LIBS = [torch, nbgrad]


def tensor(lib, a, **kw):
    return lib.tensor(np.asarray(a), **kw)


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# Constraints
# ---------------------------------------------------------------------------------------------

def _psd(n, rank=None, seed=0):
    a = rng(seed).normal(size=(n, rank or n))
    return a @ a.T


_CORR_L = np.linalg.cholesky(np.array([[1.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.0]]))

# (id, constraint from the constraints module C, values: each checked alone)
CONSTRAINT_CASES = [
    ('boolean', lambda C: C.boolean, [[0., 1., 1.], [0., 0.5, 2.], [[1, 0], [-1, 1]]]),
    ('one_hot', lambda C: C.one_hot, [[[0., 1., 0.], [1., 0., 0.]], [[0., 1., 1.], [0.5, 0.5, 0.]]]),
    ('nonnegative_integer', lambda C: C.nonnegative_integer, [[0., 1., 7.], [-1., 0.5, 3.]]),
    ('positive_integer', lambda C: C.positive_integer, [[1., 2.], [0., 1.5]]),
    ('integer_interval', lambda C: C.integer_interval(-1, 3), [[-1., 0., 3.], [-2., 2.5, 4.]]),
    ('real', lambda C: C.real, [[0., -np.inf, np.inf, np.nan]]),
    ('real_vector', lambda C: C.real_vector, [[[0., 1.], [np.nan, 2.]]]),
    ('positive', lambda C: C.positive, [[1e-30, 1., np.inf], [0., -1., np.nan]]),
    ('nonnegative', lambda C: C.nonnegative, [[0., 2.], [-1e-30, np.nan]]),
    ('greater_than', lambda C: C.greater_than(1.5), [[1.5, 1.6, 9.], [1.4, 1.5]]),
    ('greater_than_eq', lambda C: C.greater_than_eq(-2), [[-2., 0.], [-2.1]]),
    ('less_than', lambda C: C.less_than(3.0), [[2.9, 3.0, -np.inf]]),
    ('interval', lambda C: C.interval(-1.0, 2.0), [[-1., 0., 2.], [-1.01, 2.01]]),
    ('half_open_interval', lambda C: C.half_open_interval(0., 1.), [[0., 0.5, 1.]]),
    ('unit_interval', lambda C: C.unit_interval, [[0., 1., 0.3], [1.1, -0.1]]),
    ('simplex', lambda C: C.simplex,
     [[[0.2, 0.3, 0.5], [1., 0., 0.]], [[0.2, 0.3, 0.6], [-0.1, 0.6, 0.5]]]),
    ('multinomial', lambda C: C.multinomial(5), [[[1., 2., 2.], [0., 0., 5.]], [[3., 3., 0.], [-1., 1., 1.]]]),
    ('lower_triangular', lambda C: C.lower_triangular,
     [np.tril(rng(1).normal(size=(2, 3, 3))), rng(1).normal(size=(2, 3, 3))]),
    ('lower_cholesky', lambda C: C.lower_cholesky,
     [np.tril(rng(2).normal(size=(3, 3))) + 3 * np.eye(3), np.tril(rng(2).normal(size=(3, 3))) - 3 * np.eye(3)]),
    ('corr_cholesky', lambda C: C.corr_cholesky, [_CORR_L, 1.1 * _CORR_L]),
    ('square', lambda C: C.square, [np.zeros((2, 3, 3)), np.zeros((2, 3, 2))]),
    ('symmetric', lambda C: C.symmetric, [_psd(3), rng(3).normal(size=(2, 3, 3)), np.zeros((3, 2))]),
    ('positive_semidefinite', lambda C: C.positive_semidefinite,
     [_psd(3, rank=1), -_psd(3), rng(3).normal(size=(3, 3))]),
    ('positive_definite', lambda C: C.positive_definite,
     [np.stack([_psd(3), _psd(3, seed=4)]), np.stack([_psd(3, rank=1) - 1e-3 * np.eye(3), _psd(3)])]),
    ('independent', lambda C: C.independent(C.positive, 1), [[[1., 2.], [1., -1.]]]),
    ('independent_2', lambda C: C.independent(C.unit_interval, 2), [[[[0.1, 0.2], [0.3, 1.2]]]]),
    ('cat', lambda C: C.cat([C.positive, C.real, C.unit_interval], dim=-1, lengths=[2, 1, 1]),
     [[[1., 2., -5., 0.5], [1., -2., -5., 1.5]]]),
    ('stack', lambda C: C.stack([C.positive, C.unit_interval], dim=-1),
     [[[1., 0.5], [-1., 0.5], [1., 2.]]]),
    ('tensor_bounds', lambda C: C.interval(torch_or_nbgrad(C).tensor([0., 1.]),
                                           torch_or_nbgrad(C).tensor([1., 3.])),
     [[0.5, 2.], [1.5, 0.5]]),
]


def torch_or_nbgrad(constraints_module):
    return torch if constraints_module.__name__.startswith('torch') else nbgrad


def constraints_of(lib):
    return lib.distributions.constraints


@pytest.mark.parametrize('name, make, values', CONSTRAINT_CASES, ids=[c[0] for c in CONSTRAINT_CASES])
def test_constraint_check(name, make, values):
    for value in values:
        for dtype in ('float32', 'float64'):
            def check(lib):
                return make(constraints_of(lib)).check(tensor(lib, value, dtype=getattr(lib, dtype)))
            assert_same(check(nbgrad), check(torch), f'{name} check({value!r})')
    theirs, ours = make(constraints_of(torch)), make(constraints_of(nbgrad))
    assert ours.is_discrete == theirs.is_discrete
    assert ours.event_dim == theirs.event_dim
    if name != 'tensor_bounds':
        assert repr(ours) == repr(theirs)


def test_constraint_check_dim_errors():
    for build in (lambda C: C.independent(C.real, 2), lambda C: C.cat([C.real], dim=3),
                  lambda C: C.stack([C.real], dim=-4)):
        assert_same_error(lambda lib: build(constraints_of(lib)).check(lib.zeros(2)))
    assert_same_error(lambda lib: constraints_of(lib).independent(constraints_of(lib).real, -1))
    assert_same_error(lambda lib: constraints_of(lib).independent(3, 1))
    assert_same_error(lambda lib: constraints_of(lib).cat([constraints_of(lib).real], lengths=[1, 2]))


def test_dependent_constraints():
    for lib in LIBS:
        C = constraints_of(lib)
        assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
        custom = C.dependent(is_discrete=True, event_dim=1)
        assert (custom.is_discrete, custom.event_dim) == (True, 1)
        assert C.is_dependent(custom)
    assert_same_error(lambda lib: constraints_of(lib).dependent.is_discrete)
    assert_same_error(lambda lib: constraints_of(lib).dependent.event_dim)
    assert_same_error(lambda lib: constraints_of(lib).dependent.check(lib.zeros(1)))
    assert repr(constraints_of(nbgrad).dependent) == repr(constraints_of(torch).dependent)


def test_dependent_property():
    results = []
    for lib in LIBS:
        C = constraints_of(lib)

        class Thing:
            def __init__(self, low):
                self.low = low

            @C.dependent_property(is_discrete=False, event_dim=0)
            def support(self):
                return C.greater_than(self.low)

            @C.dependent_property
            def other(self):
                return C.real

        on_class = Thing.support
        results.append((C.is_dependent(on_class), on_class.is_discrete, on_class.event_dim,
                        repr(Thing(2.0).support), C.is_dependent(Thing.other)))
    assert results[1] == results[0]


def test_public_names():
    assert set(constraints_of(nbgrad).__all__) == set(constraints_of(torch).__all__)
    assert set(nbgrad.distributions.transforms.__all__) == set(torch.distributions.transforms.__all__)
    for name in constraints_of(torch).__all__:
        assert hasattr(constraints_of(nbgrad), name), name


def test_mixture_same_family_constraint():
    def check(lib):
        C = constraints_of(lib)
        c = C.MixtureSameFamilyConstraint(C.independent(C.positive, 1))
        value = tensor(lib, [[1., 2.], [1., -2.], [3., 4.]])
        return c.check(value), c.event_dim, c.is_discrete, repr(c)
    assert_same(check(nbgrad), check(torch))


# ---------------------------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------------------------

def T(lib):
    return lib.distributions.transforms


def _positive(shape, seed=0):
    return rng(seed).uniform(0.2, 3.0, size=shape)


def _real(shape, seed=0):
    return rng(seed).normal(size=shape) * 1.5


def _unit(shape, seed=0):
    return rng(seed).uniform(0.05, 0.95, size=shape)


# (id, build(lib) -> transform, input array in its domain)
TRANSFORM_CASES = [
    ('exp', lambda lib: T(lib).ExpTransform(), _real((3, 4))),
    ('power', lambda lib: T(lib).PowerTransform(2.5), _positive((3, 4))),
    ('power_tensor', lambda lib: T(lib).PowerTransform(tensor(lib, [0.5, -1.5, 2.0, 3.0])),
     _positive((3, 4))),
    ('sigmoid', lambda lib: T(lib).SigmoidTransform(), _real((3, 4))),
    ('sigmoid_extreme', lambda lib: T(lib).SigmoidTransform(), np.array([-800., -40., 0., 40., 800.])),
    ('softplus', lambda lib: T(lib).SoftplusTransform(), _real((3, 4))),
    ('tanh', lambda lib: T(lib).TanhTransform(), _real((3, 4))),
    ('tanh_large', lambda lib: T(lib).TanhTransform(), np.array([-30., -5., 5., 15.])),
    ('abs', lambda lib: T(lib).AbsTransform(), _real((3, 4))),
    ('affine_numbers', lambda lib: T(lib).AffineTransform(2.0, -3.0), _real((3, 4))),
    ('affine_tensors', lambda lib: T(lib).AffineTransform(tensor(lib, [1., 2., 3., 4.]),
                                                          tensor(lib, [0.5, -2., 3., 1.])),
     _real((3, 4))),
    ('affine_event', lambda lib: T(lib).AffineTransform(tensor(lib, [1., 2., 3., 4.]),
                                                        tensor(lib, [0.5, -2., 3., 1.]), event_dim=1),
     _real((3, 4))),
    ('affine_event2', lambda lib: T(lib).AffineTransform(0.0, 2.0, event_dim=2), _real((2, 3, 4))),
    ('softmax', lambda lib: T(lib).SoftmaxTransform(), _real((3, 4))),
    ('stick_breaking', lambda lib: T(lib).StickBreakingTransform(), _real((3, 4))),
    ('lower_cholesky', lambda lib: T(lib).LowerCholeskyTransform(), _real((2, 3, 3))),
    ('positive_definite', lambda lib: T(lib).PositiveDefiniteTransform(), _real((2, 3, 3))),
    ('corr_cholesky', lambda lib: T(lib).CorrCholeskyTransform(), _real((2, 6))),
    ('compose', lambda lib: T(lib).ComposeTransform([T(lib).ExpTransform(),
                                                     T(lib).AffineTransform(1.0, 2.0)]),
     _real((3, 4))),
    ('compose_event', lambda lib: T(lib).ComposeTransform([T(lib).AffineTransform(0.5, 2.0),
                                                           T(lib).StickBreakingTransform(),
                                                           T(lib).AffineTransform(0.0, 3.0,
                                                                                  event_dim=1)]),
     _real((3, 4))),
    ('identity', lambda lib: T(lib).identity_transform, _real((3, 4))),
    ('independent', lambda lib: T(lib).IndependentTransform(T(lib).ExpTransform(), 2),
     _real((2, 3, 4))),
    ('reshape', lambda lib: T(lib).ReshapeTransform((2, 3), (6,)), _real((4, 2, 3))),
    ('cat', lambda lib: T(lib).CatTransform([T(lib).ExpTransform(), T(lib).identity_transform,
                                             T(lib).AffineTransform(1.0, 2.0)], dim=-1,
                                            lengths=[1, 2, 1]), _real((3, 4))),
    ('cat_dim0', lambda lib: T(lib).CatTransform([T(lib).ExpTransform(), T(lib).SigmoidTransform()],
                                                 dim=0, lengths=[1, 2]), _real((3, 4))),
    ('stack', lambda lib: T(lib).StackTransform([T(lib).ExpTransform(), T(lib).SigmoidTransform(),
                                                 T(lib).identity_transform], dim=1), _real((4, 3))),
    ('inverse_sigmoid', lambda lib: T(lib).SigmoidTransform().inv, _unit((3, 4))),
    ('inverse_exp', lambda lib: T(lib).ExpTransform().inv, _positive((3, 4))),
    ('inverse_stick', lambda lib: T(lib).StickBreakingTransform().inv,
     np.exp(_real((3, 4))) / np.exp(_real((3, 4))).sum(-1, keepdims=True)),
]


def _attempt(fn):
    """fn()'s result, or the kind of exception it raised (to compare refusals)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 (compared with PyTorch's outcome)
        return ('raised', exc_kind(e).__name__)


def _transform_outcomes(lib, build, x_np):
    t = build(lib)
    x = tensor(lib, x_np, dtype=lib.float64, requires_grad=True)
    y = t(x)
    x_back = _attempt(lambda: t.inv(y))
    ladj = _attempt(lambda: t.log_abs_det_jacobian(x, y))
    if isinstance(ladj, tuple):
        grad = lib.autograd.grad(y.sum(), x)[0]
    else:
        grad = lib.autograd.grad((y * y).sum() + ladj.sum(), x)[0]
    shape = tuple(x.shape)
    return dict(
        y=y.detach(), x_back=x_back if isinstance(x_back, tuple) else x_back.detach(),
        ladj=ladj if isinstance(ladj, tuple) else ladj.detach(), grad=grad,
        forward_shape=tuple(t.forward_shape(shape)),
        inverse_shape=tuple(t.inverse_shape(tuple(y.shape))),
        domain_event_dim=t.domain.event_dim, codomain_event_dim=t.codomain.event_dim,
        bijective=t.bijective, domain_repr=repr(t.domain), codomain_repr=repr(t.codomain),
        event_dim=_attempt(lambda: t.event_dim),
        sign=_attempt(lambda: t.sign if isinstance(t.sign, int) else t.sign.detach()),
        in_codomain=t.codomain.check(y.detach()),
        repr=repr(t) if 'tensor' not in repr(t) else None)


@pytest.mark.parametrize('name, build, x', TRANSFORM_CASES, ids=[c[0] for c in TRANSFORM_CASES])
def test_transform(name, build, x):
    expected = _transform_outcomes(torch, build, x)
    got = _transform_outcomes(nbgrad, build, x)
    for key in expected:
        assert_same(got[key], expected[key], f'{name}: {key}', rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('name, build, x', TRANSFORM_CASES[:12], ids=[c[0] for c in TRANSFORM_CASES[:12]])
def test_transform_float32(name, build, x):
    def run(lib):
        t = build(lib)
        xt = tensor(lib, x, dtype=lib.float32)
        y = t(xt)
        return y, _attempt(lambda: t.log_abs_det_jacobian(xt, y)), _attempt(lambda: t.inv(y))
    assert_same(run(nbgrad), run(torch), name, rtol=2e-6, atol=1e-6)


def test_transform_gradcheck():
    # nbgrad's own finite differences, as a check independent of PyTorch
    for name, build, x_np in TRANSFORM_CASES:
        t = build(nbgrad)
        try:
            t.log_abs_det_jacobian(tensor(nbgrad, x_np), t(tensor(nbgrad, x_np)))
        except NotImplementedError:
            continue
        x = tensor(nbgrad, x_np, dtype=nbgrad.float64, requires_grad=True)

        def outputs(v):
            # only the outputs that depend on v (nbgrad's gradcheck trips over constant outputs,
            # such as identity_transform's zero log-det, where PyTorch's does not)
            return tuple(o for o in (t(v), t.log_abs_det_jacobian(v, t(v))) if o.requires_grad)
        assert nbgrad.autograd.gradcheck(outputs, (x,)), name


def test_tanh_log_det_matches_direct_formula():
    # the stable formula equals log(1 - tanh(x)^2) where the latter is accurate
    x = nbgrad.linspace(-3, 3, 13, dtype=nbgrad.float64)
    t = nbgrad.distributions.transforms.TanhTransform()
    direct = np.log1p(-np.tanh(x.numpy()) ** 2)
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).numpy(), direct, rtol=1e-12)


def test_caching():
    for lib in LIBS:
        tr = T(lib)
        x = lib.randn(4)
        for t in (tr.ExpTransform(cache_size=1), tr.ExpTransform().with_cache(),
                  tr.ComposeTransform([tr.ExpTransform(), tr.AffineTransform(0., 2.)], cache_size=1),
                  tr.IndependentTransform(tr.SigmoidTransform(), 1, cache_size=1),
                  tr.ExpTransform().inv.with_cache(1)):
            y = t(x)
            assert t(x) is y
            assert t.inv(y) is x
        t = tr.ExpTransform()
        y = t(x)
        assert t.inv(y) is not x and t(x) is not y
        # a cached inverse also answers the forward call
        t = tr.ExpTransform(cache_size=1)
        y = lib.rand(3) + 0.5
        x2 = t.inv(y)
        assert t(x2) is y
        assert tr.ExpTransform(cache_size=1).with_cache(1)._cache_size == 1
        assert tr.PowerTransform(2.0).with_cache(1)._cache_size == 1
        assert tr.AffineTransform(1.0, 2.0, event_dim=1).with_cache(1).event_dim == 1
        assert tr.CatTransform([tr.ExpTransform()]).with_cache(1).transforms[0]._cache_size == 1
        assert tr.StackTransform([tr.ExpTransform()]).with_cache(1).transforms[0]._cache_size == 1
        assert tr.ReshapeTransform((2,), (2,)).with_cache(1)._cache_size == 1
    assert_same_error(lambda lib: T(lib).ExpTransform(cache_size=2))

    def custom_with_cache(lib):
        class Scaled(T(lib).Transform):
            def __init__(self, factor, cache_size=0):
                super().__init__(cache_size=cache_size)
                self.factor = factor
        return Scaled(2.0).with_cache(1)
    with pytest.raises(NotImplementedError, match='with_cache is not implemented'):
        custom_with_cache(nbgrad)
    with pytest.raises(NotImplementedError):
        custom_with_cache(torch)


def test_inverse_relations():
    for lib in LIBS:
        tr = T(lib)
        t = tr.SigmoidTransform()
        assert t.inv.inv is t
        assert t.inv == tr.SigmoidTransform().inv and t.inv != t
        c = tr.ComposeTransform([tr.ExpTransform(), tr.AffineTransform(1., 2.)])
        assert c.inv.inv is c
        assert c.inv.parts[0] == tr.AffineTransform(1., 2.).inv


EQUALITY_CASES = [
    lambda tr, lib: (tr.ExpTransform(), tr.ExpTransform()),
    lambda tr, lib: (tr.ExpTransform(), tr.SigmoidTransform()),
    lambda tr, lib: (tr.ExpTransform(cache_size=1), tr.ExpTransform()),
    lambda tr, lib: (tr.AffineTransform(1., 2.), tr.AffineTransform(1., 2.)),
    lambda tr, lib: (tr.AffineTransform(1., 2.), tr.AffineTransform(1., 3.)),
    lambda tr, lib: (tr.AffineTransform(lib.tensor([1., 2.]), 2.), tr.AffineTransform(lib.tensor([1., 2.]), 2.)),
    lambda tr, lib: (tr.AffineTransform(lib.tensor([1., 2.]), 2.), tr.AffineTransform(lib.tensor([1., 3.]), 2.)),
    lambda tr, lib: (tr.PowerTransform(2.), tr.PowerTransform(2.)),
    lambda tr, lib: (tr.PowerTransform(2.), tr.PowerTransform(3.)),
    lambda tr, lib: (tr.ComposeTransform([tr.ExpTransform()]), tr.ComposeTransform([tr.ExpTransform()])),
    lambda tr, lib: (tr.ComposeTransform([tr.ExpTransform()]), tr.ComposeTransform([])),
    lambda tr, lib: (tr.identity_transform, tr.ComposeTransform([])),
    lambda tr, lib: (tr.ReshapeTransform((2,), (2,)), tr.ReshapeTransform((2,), (2,))),
    lambda tr, lib: (tr.ExpTransform().inv, tr.ExpTransform().inv),
    lambda tr, lib: (tr.TanhTransform(), tr.TanhTransform()),
    lambda tr, lib: (tr.StickBreakingTransform(), tr.SoftmaxTransform()),
    lambda tr, lib: (tr.IndependentTransform(tr.ExpTransform(), 1), tr.IndependentTransform(tr.ExpTransform(), 1)),
]


@pytest.mark.parametrize('case', range(len(EQUALITY_CASES)))
def test_equality(case):
    def compare(lib):
        a, b = EQUALITY_CASES[case](T(lib), lib)
        return bool(a == b), bool(a != b), bool(b == a)
    assert compare(nbgrad) == compare(torch)


def test_subclass_equality():
    for lib in LIBS:
        class MyExp(T(lib).ExpTransform):
            pass
        assert (MyExp() == T(lib).ExpTransform(), T(lib).ExpTransform() == MyExp()) == (True, True)


def test_shape_errors():
    assert_same_error(lambda lib: T(lib).ReshapeTransform((2, 3), (5,)))
    assert_same_error(lambda lib: T(lib).ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2)))
    assert_same_error(lambda lib: T(lib).ReshapeTransform((2, 3), (6,)).inverse_shape(()))
    assert_same_error(lambda lib: T(lib).CorrCholeskyTransform().forward_shape((4,)))
    assert_same_error(lambda lib: T(lib).CorrCholeskyTransform().inverse_shape((3, 4)))
    assert_same_error(lambda lib: T(lib).StickBreakingTransform().forward_shape(()))
    assert_same_error(lambda lib: T(lib).IndependentTransform(T(lib).ExpTransform(), 2)(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], dim=0, lengths=[2])(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], dim=2)(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], dim=0).inv(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], dim=0)
                      .log_abs_det_jacobian(lib.zeros(3), lib.zeros(1)))
    assert_same_error(lambda lib: T(lib).StackTransform([T(lib).ExpTransform()], dim=0)(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).StackTransform([T(lib).ExpTransform()], dim=0).inv(lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).StackTransform([T(lib).ExpTransform()], dim=0)
                      .log_abs_det_jacobian(lib.zeros(1), lib.zeros(3)))
    assert_same_error(lambda lib: T(lib).CatTransform([1]))
    assert_same_error(lambda lib: T(lib).CatTransform([T(lib).ExpTransform()], lengths=[1, 1]))
    assert_same_error(lambda lib: T(lib).StackTransform([1]))
    assert_same_error(lambda lib: T(lib).CorrCholeskyTransform().event_dim)


def test_compose_domain_event_dims():
    def dims(lib):
        tr = T(lib)
        out = []
        for parts in ([tr.ExpTransform(), tr.StickBreakingTransform()],
                      [tr.StickBreakingTransform(), tr.ExpTransform()],
                      [tr.ReshapeTransform((6,), (2, 3)), tr.ExpTransform()],
                      [tr.CorrCholeskyTransform(), tr.ExpTransform()], []):
            c = tr.ComposeTransform(parts)
            out.append((repr(c.domain), repr(c.codomain), c.bijective,
                        _attempt(lambda: c.sign if isinstance(c.sign, int) else 'tensor')))
        return out
    assert dims(nbgrad) == dims(torch)


def test_cumulative_distribution_transform():
    if not hasattr(nbgrad.distributions, 'Normal'):
        pytest.skip('nbgrad.distributions.Normal is not there yet')

    def run(lib):
        t = T(lib).CumulativeDistributionTransform(lib.distributions.Normal(tensor(lib, [0.5]),
                                                                            tensor(lib, [2.0])))
        x = tensor(lib, [-1., 0., 3.], dtype=lib.float32)
        y = t(x)
        return y, t.inv(y), t.log_abs_det_jacobian(x, y), repr(t.domain), t.with_cache(1)._cache_size
    assert_same(run(nbgrad), run(torch), rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# biject_to / transform_to
# ---------------------------------------------------------------------------------------------

# (id, constraint, the unconstrained input's shape)
REGISTRY_CASES = [
    ('real', lambda C, lib: C.real, (3, 4)),
    ('real_vector', lambda C, lib: C.real_vector, (3, 4)),
    ('positive', lambda C, lib: C.positive, (3, 4)),
    ('nonnegative', lambda C, lib: C.nonnegative, (3, 4)),
    ('greater_than', lambda C, lib: C.greater_than(2.5), (3, 4)),
    ('greater_than_eq', lambda C, lib: C.greater_than_eq(-1.0), (3, 4)),
    ('greater_than_tensor', lambda C, lib: C.greater_than(lib.tensor([0., 1., 2., 3.], dtype=lib.float64)), (3, 4)),
    ('less_than', lambda C, lib: C.less_than(3.0), (3, 4)),
    ('interval', lambda C, lib: C.interval(-2.0, 5.0), (3, 4)),
    ('half_open_interval', lambda C, lib: C.half_open_interval(1.0, 2.0), (3, 4)),
    ('unit_interval', lambda C, lib: C.unit_interval, (3, 4)),
    ('interval_01_ints', lambda C, lib: C.interval(0, 1), (3, 4)),
    ('interval_tensor', lambda C, lib: C.interval(lib.tensor([0., -1., 2., 3.], dtype=lib.float64),
                                                   lib.tensor([1., 1., 4., 3.5], dtype=lib.float64)), (3, 4)),
    ('simplex', lambda C, lib: C.simplex, (3, 4)),
    ('corr_cholesky', lambda C, lib: C.corr_cholesky, (2, 6)),
    ('lower_cholesky', lambda C, lib: C.lower_cholesky, (2, 3, 3)),
    ('positive_definite', lambda C, lib: C.positive_definite, (2, 3, 3)),
    ('positive_semidefinite', lambda C, lib: C.positive_semidefinite, (2, 3, 3)),
    ('independent', lambda C, lib: C.independent(C.positive, 1), (3, 4)),
    ('independent_simplex', lambda C, lib: C.independent(C.simplex, 1), (3, 4)),
    ('cat', lambda C, lib: C.cat([C.positive, C.real, C.unit_interval], dim=-1, lengths=[2, 1, 1]), (3, 4)),
    ('stack', lambda C, lib: C.stack([C.positive, C.unit_interval, C.less_than(0.)], dim=-1), (4, 3)),
    ('boolean', lambda C, lib: C.boolean, (3,)),
    ('integer_interval', lambda C, lib: C.integer_interval(0, 3), (3,)),
    ('dependent', lambda C, lib: C.dependent, (3,)),
]


@pytest.mark.parametrize('registry', ['biject_to', 'transform_to'])
@pytest.mark.parametrize('name, make, shape', REGISTRY_CASES, ids=[c[0] for c in REGISTRY_CASES])
def test_constraint_registry(registry, name, make, shape):
    u = rng(5).normal(size=shape)

    def run(lib):
        constraint = make(constraints_of(lib), lib)
        t = getattr(lib.distributions, registry)(constraint)
        x = tensor(lib, u, dtype=lib.float64, requires_grad=True)
        y = t(x)
        ladj = _attempt(lambda: t.log_abs_det_jacobian(x, y))
        loss = y.sum() + (0 if isinstance(ladj, tuple) else ladj.sum())
        grad = lib.autograd.grad(loss, x)[0]
        return dict(y=y.detach(), x_back=_attempt(lambda: t.inv(y).detach()), grad=grad,
                    ladj=ladj if isinstance(ladj, tuple) else ladj.detach(),
                    in_support=constraint.check(y.detach()), type=type(t).__name__,
                    bijective=t.bijective)

    try:
        expected = run(torch)
    except Exception as e:
        assert_same_error(lambda lib: getattr(lib.distributions, registry)(make(constraints_of(lib), lib)))
        assert exc_kind(e) is NotImplementedError
        return
    got = run(nbgrad)
    assert bool(got['in_support'].all())
    for key in expected:
        assert_same(got[key], expected[key], f'{registry}({name}): {key}', rtol=1e-9, atol=1e-12)


def test_registry_register():
    for lib in LIBS:
        C = constraints_of(lib)

        class Odd(C.Constraint):
            def check(self, value):
                return value % 2 == 1

        registry = type(lib.distributions.biject_to)()
        registry.register(Odd, lambda c: T(lib).AffineTransform(1.0, 2.0))

        @registry.register(Odd())
        def _odd(constraint):
            return T(lib).AffineTransform(1.0, 2.0)
        assert registry(Odd())(lib.tensor([0., 1.])).tolist() == [1.0, 3.0]
    assert_same_error(lambda lib: type(lib.distributions.biject_to)().register(int, lambda c: None))
    assert_same_error(lambda lib: type(lib.distributions.biject_to)()(constraints_of(lib).real))


# ---------------------------------------------------------------------------------------------
# Device (CUDA): transforms and registry maps of tensors on the GPU give PyTorch's CPU numbers
# ---------------------------------------------------------------------------------------------

_DEVICE_CASES = ['exp', 'power_tensor', 'sigmoid', 'tanh', 'affine_tensors', 'stick_breaking',
                 'corr_cholesky', 'lower_cholesky', 'cat', 'stack']


@pytest.mark.parametrize('name', _DEVICE_CASES)
def test_transform_on_device(device, name):
    _, build, x_np = next(c for c in TRANSFORM_CASES if c[0] == name)

    def run(lib, dev):
        t = build(lib)
        if name in ('power_tensor', 'affine_tensors'):  # parameters on the device too
            for attr in ('exponent', 'loc', 'scale'):
                if isinstance(getattr(t, attr, None), lib.Tensor):
                    setattr(t, attr, getattr(t, attr).to(dev))
        x = tensor(lib, x_np, dtype=lib.float64).to(dev).requires_grad_()
        y = t(x)
        ladj = _attempt(lambda: t.log_abs_det_jacobian(x, y))
        loss = y.sum() + (0 if isinstance(ladj, tuple) else ladj.sum())
        return (y.detach(), t.inv(y).detach(), ladj if isinstance(ladj, tuple) else ladj.detach(),
                lib.autograd.grad(loss, x)[0])
    assert_same(on_cpu(run(nbgrad, device)), run(torch, 'cpu'), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('registry', ['biject_to', 'transform_to'])
def test_registry_on_device(device, registry):
    def run(lib, dev):
        C = constraints_of(lib)
        x = tensor(lib, rng(8).normal(size=(3, 4)), dtype=lib.float64).to(dev)
        out = []
        for c in (C.positive, C.interval(-1.0, 2.0), C.simplex, C.independent(C.greater_than(1.0), 1)):
            y = getattr(lib.distributions, registry)(c)(x)
            assert bool(c.check(y).all())
            out.append(y)
        return out
    assert_same(on_cpu(run(nbgrad, device)), run(torch, 'cpu'), rtol=1e-12)
