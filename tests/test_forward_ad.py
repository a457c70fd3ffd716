"""torch.autograd.forward_ad against PyTorch's: the tangents (Jacobian-vector products) of ops
and models computed with dual tensors, under no_grad, through views and in-place ops, the
tangent's own gradient (forward-over-reverse), and the level's rules and errors."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
V = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 5))


def _host(t):
    return None if t is None else t.detach().numpy()


CASES = {
    'elementwise': lambda lib, F, x: (x.sin() * x.exp() + x.tanh() / (1 + x * x)).sigmoid(),
    'pow_sqrt_log': lambda lib, F, x: (x * x + 1).sqrt().log() + x.abs() ** 1.5,
    'reductions': lambda lib, F, x: lib.stack([x.sum(0), x.mean(0), x.amax(0), x.prod(0),
                                                 x.norm(dim=0), x.var(0)]),
    'matmul_linear': lambda lib, F, x: F.linear(x, lib.tensor(W.T.copy()), lib.ones(5, dtype=x.dtype)) @
    lib.tensor(W.T.copy()),
    'softmax_logsumexp': lambda lib, F, x: F.log_softmax(x, -1) + x.softmax(0) +
    x.logsumexp(1, keepdim=True),
    'norms': lambda lib, F, x: F.layer_norm(x, (4,)) + F.normalize(x, dim=1),
    'activations': lambda lib, F, x: F.gelu(x) + F.relu(x) + F.silu(x) + F.elu(x) + F.softplus(x),
    'shapes': lambda lib, F, x: lib.cat([x.t().reshape(2, 6), x.flip(0).reshape(2, 6)], 0)
    .unsqueeze(0).expand(2, 4, 6).permute(2, 0, 1),
    'indexing': lambda lib, F, x: x[1:, ::2] + x[[0, 2, 2]][:2, 1:3] + x.gather(
        1, lib.tensor([[0, 1], [2, 3], [1, 1]])).sum(1, keepdim=True)[:2],
    'where_clamp': lambda lib, F, x: lib.where(x > 0, x * 2, x.clamp(-0.5, 0.5)),
    'cumsum_cumprod': lambda lib, F, x: x.cumsum(1) + (x * 0.5).cumprod(0),
    'conv': lambda lib, F, x: F.conv1d(x.reshape(1, 3, 4), lib.ones(2, 3, 2, dtype=x.dtype) * 0.3),
    'pooling': lambda lib, F, x: F.max_pool1d(x[None], 2) + F.avg_pool1d(x[None], 2),
    'losses': lambda lib, F, x: F.mse_loss(x, lib.zeros(3, 4, dtype=x.dtype)) + F.cross_entropy(
        x, lib.tensor([0, 3, 1])) + F.binary_cross_entropy_with_logits(x, lib.ones(3, 4, dtype=x.dtype)),
    'linalg': lambda lib, F, x: lib.linalg.inv(x[:, :3] + 3 * lib.eye(3, dtype=x.dtype)).sum() +
    lib.linalg.det(x[:, 1:] + 2 * lib.eye(3, dtype=x.dtype)),
}


def _jvp(lib, case, **options):
    F = lib.nn.functional
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        dual = fw.make_dual(lib.tensor(X), lib.tensor(V))
        if options.get('no_grad'):
            with lib.no_grad():
                out = CASES[case](lib, F, dual)
        else:
            out = CASES[case](lib, F, dual)
        primal, tangent = fw.unpack_dual(out)
        return _host(primal), _host(tangent)


@pytest.mark.parametrize('no_grad', [False, True])
@pytest.mark.parametrize('case', CASES)
def test_tangents_match_pytorch(case, no_grad):
    (p, t), (tp, tt) = _jvp(nbgrad, case, no_grad=no_grad), _jvp(torch, case, no_grad=no_grad)
    np.testing.assert_allclose(p, tp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t, tt, rtol=1e-9, atol=1e-10)


def test_an_mlp_and_the_tangent_of_its_parameters():
    """The tangent of a model's output along a direction in one parameter (make_dual on the
    parameter's value, as torch.func does it)."""
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
        x = lib.tensor(X, dtype=lib.float32)
        fw = lib.autograd.forward_ad
        with fw.dual_level(), lib.no_grad():
            direction = lib.ones_like(net[0].weight)
            weight = net[0].weight.detach().clone()
            del net[0].weight
            net[0].weight = fw.make_dual(weight, direction)
            return _host(fw.unpack_dual(net(x)).tangent)
    np.testing.assert_allclose(run(nbgrad), run(torch), rtol=1e-5, atol=1e-6)


def test_views_and_in_place_ops_update_tangents():
    def run(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            base = fw.make_dual(lib.tensor(X).clone(), lib.tensor(V))
            view = base[1]
            view.mul_(view)              # through a view: the base's tangent follows
            base.add_(lib.tensor(W[:3]).sum(1, keepdim=True) * base)
            other = lib.zeros(3, 4, dtype=lib.float64)
            other.copy_(base.exp())      # a plain tensor gains a tangent from a dual one
            return [_host(fw.unpack_dual(t).tangent) for t in (base, view, other)]
    for got, expected in zip(run(nbgrad), run(torch)):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_forward_over_reverse():
    """A tangent stays a function of the inputs that require grad."""
    def run(lib):
        fw = lib.autograd.forward_ad
        w = lib.tensor(W[:, :4].T.copy(), requires_grad=True)
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(X), lib.tensor(V))
            tangent = fw.unpack_dual((dual @ w).sin().sum()).tangent
        assert tangent.requires_grad
        return _host(lib.autograd.grad(tangent, w)[0])
    np.testing.assert_allclose(run(nbgrad), run(torch), rtol=1e-10)


def test_level_rules_and_errors():
    def run(lib):
        fw = lib.autograd.forward_ad
        outcomes = []

        def attempt(fn):
            try:
                result = fn()
                outcomes.append(('ok', type(result).__name__))
            except Exception as e:       # noqa: BLE001  (compared with PyTorch's)
                outcomes.append((type(e).__name__, str(e).replace('nbgrad', 'torch')))
        x = lib.ones(3)
        attempt(lambda: fw.make_dual(x, lib.ones(3)))                      # no level
        with fw.dual_level():
            attempt(lambda: fw.make_dual(x, lib.ones(2)))                  # wrong size
            attempt(lambda: fw.make_dual(lib.ones(3, dtype=lib.long), lib.ones(3)))
            attempt(lambda: fw.dual_level().__enter__())                   # nested
            dual = fw.make_dual(x, lib.ones(3))
            outcomes.append((dual is x, dual.requires_grad, dual._base is x,
                             fw.unpack_dual(x).tangent is None,
                             fw.unpack_dual(dual.argmax()).tangent is None))
        outcomes.append(fw.unpack_dual(dual).tangent is None)              # level left
        outcomes.append(type(fw.unpack_dual(dual)).__name__)
        return outcomes
    assert run(nbgrad) == run(torch)


def test_gradcheck_checks_forward_mode():
    x = nbgrad.tensor(X, requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda t: (t.sin() @ nbgrad.tensor(W)).softmax(-1), (x,),
                                     check_forward_ad=True)
    assert nbgrad.autograd.gradcheck(lambda t: t.exp().sum(0), (x,), check_forward_ad=True,
                                     check_backward_ad=False)

    class Wrong(nbgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * t * 2

        @staticmethod
        def jvp(ctx, tangent):
            (t,) = ctx.saved_tensors
            return tangent * t * 3    # (2t is right)
    from nbgrad.autograd.gradcheck import GradcheckError
    assert nbgrad.autograd.gradcheck(Wrong.apply, (x,))
    with pytest.raises(GradcheckError, match='Jacobian computed with forward mode mismatch'):
        nbgrad.autograd.gradcheck(Wrong.apply, (x,), check_forward_ad=True,
                                  check_backward_ad=False)


def test_custom_functions_use_their_jvp():
    def run(lib, with_jvp):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_forward(t)
                ctx.save_for_backward(t)
                return t ** 3

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                return g * 3 * t ** 2
        if with_jvp:
            Cube.jvp = staticmethod(lambda ctx, tangent: tangent * 3 * ctx.saved_tensors[0] ** 2)
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            try:
                out = Cube.apply(fw.make_dual(lib.tensor(X), lib.tensor(V)))
                return _host(fw.unpack_dual(out.sin()).tangent)
            except NotImplementedError as e:
                return str(e)
    for with_jvp in (True, False):
        ours, theirs = run(nbgrad, with_jvp), run(torch, with_jvp)
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_random_ops_keep_their_draw_and_the_generator_its_state():
    def run(lib):
        F = lib.nn.functional
        fw = lib.autograd.forward_ad
        lib.manual_seed(3)
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(X), lib.tensor(V))
            out = F.rrelu(dual, training=True) + F.dropout(dual, 0.5) + lib.bernoulli(
                dual.sigmoid())
            tangent = _host(fw.unpack_dual(out).tangent)
        return tangent, _host(lib.rand(3))
    for got, expected in zip(run(nbgrad), run(torch)):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def _related_inputs(lib, fw, d):
    lib.manual_seed(0)
    layer = lib.nn.Linear(4, 4).double()         # (its parameters require grad)
    h = layer(d)
    return h + lib.relu(layer(h)) + d * d


REGRESSIONS = {   # found by a sweep against PyTorch: (lib, fw, dual of X along V) -> result
    'related_inputs_requiring_grad': _related_inputs,
    'logit': lambda lib, fw, d: lib.logit(d.sigmoid()) + lib.logit(d.sigmoid(), eps=0.25),
    'logcumsumexp': lambda lib, fw, d: d.logcumsumexp(1),
    'write_into_a_view_of_a_plain_tensor': lambda lib, fw, d: _written_base(lib, d),
    'duplicate_index_write': lambda lib, fw, d: lib.zeros(5, dtype=d.dtype).index_put(
        (lib.tensor([0, 2, 0, 4]),), d[0]),
    'as_strided': lambda lib, fw, d: d.as_strided((2, 2), (4, 1), 1),
    'cholesky_solve': lambda lib, fw, d: lib.cholesky_solve(
        d[:, :2], (lib.eye(3, dtype=d.dtype) * 2 + d[:, 1:] * 0.1).tril()),
    'qr_eigh_svdvals': lambda lib, fw, d: lib.linalg.qr(d[:, :3])[1].sum() + lib.linalg.eigh(
        d[:, :3] + d[:, :3].mT)[0].sum() + lib.linalg.svdvals(d).sum(),
    'lu_factor': lambda lib, fw, d: lib.linalg.lu_factor(d[:, :3])[0],
    'in_place_views': lambda lib, fw, d: d.clone().t_().unsqueeze_(0) * 2,
}


def _written_base(lib, d):
    base = lib.zeros(3, 4, dtype=d.dtype)
    base[1].copy_(d[0])
    base[2:].add_(d[1:2] * 3)
    return base


@pytest.mark.parametrize('case', REGRESSIONS)
def test_tangents_of_sweep_regressions(case):
    def run(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            out = REGRESSIONS[case](lib, fw, fw.make_dual(lib.tensor(X), lib.tensor(V)))
            return _host(fw.unpack_dual(out).tangent)
    np.testing.assert_allclose(run(nbgrad), run(torch), rtol=1e-9, atol=1e-10)


def test_an_expanded_tangent_is_copied():
    def run(lib):
        fw = lib.autograd.forward_ad
        given = lib.ones(4, dtype=lib.float64).expand(3, 4)
        with fw.dual_level():
            dual = fw.make_dual(lib.zeros(3, 4, dtype=lib.float64), given)
            dual[0].mul_(5)
            return _host(fw.unpack_dual(dual).tangent), _host(given)
    for got, expected in zip(run(nbgrad), run(torch)):
        np.testing.assert_array_equal(got, expected)


def test_out_functions_refuse_dual_tensors():
    def run(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(lib.ones(3), lib.ones(3))
            try:
                lib.sin(dual, out=lib.empty(3))
            except NotImplementedError as e:
                return str(e)
    assert run(nbgrad) == run(torch)
