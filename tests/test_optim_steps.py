"""Optimizer steps against PyTorch: every optimizer, a representative set of options, float32 and
float64, shapes including 0-dim. Both libraries start from the same parameters and get the same
gradients (set from NumPy arrays, some elements zero, a parameter without grad on some steps);
after every step the parameters and every state entry must agree. Also: gradients from a loss,
param groups with their own lr, Tensor lr, version counters, big and strided parameters (the
chunked, threaded and whole-array paths), and a small case on 'cuda'."""
import numpy as np
import pytest

import nbgrad
from torch_compare import both

torch = pytest.importorskip('torch')

SHAPES = [(3, 4), (5,), ()]
STEPS = 20
# float32: the two libraries round differently (PyTorch fuses multiply-adds), a few ulps per step
TOL = {'float32': 3e-6, 'float64': 1e-12}

# (optimizer, options): the options each optimizer's math branches on
CONFIGS = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ('SGD', dict(lr=0.1, weight_decay=0.1, maximize=True, fused=True)),
    ('Adam', dict(lr=0.05)),
    ('Adam', dict(lr=0.05, amsgrad=True)),
    ('Adam', dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ('Adam', dict(lr=0.05, betas=(0.3, 0.6), eps=1e-3)),
    ('Adam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ('Adam', dict(lr=0.05, fused=True)),
    ('AdamW', dict(lr=0.05)),
    ('AdamW', dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
    ('Adagrad', dict(lr=0.1)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, maximize=True, eps=1e-3)),
    ('Adagrad', dict(lr=0.1, fused=True)),
    ('RMSprop', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, centered=True)),
    ('RMSprop', dict(lr=0.01, momentum=0.9, alpha=0.9)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ('Adadelta', dict()),
    ('Adadelta', dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    ('Adamax', dict(lr=0.05)),
    ('Adamax', dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1, maximize=True)),
    ('NAdam', dict(lr=0.05)),
    ('NAdam', dict(lr=0.05, momentum_decay=0.05, weight_decay=0.1)),
    ('NAdam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('RAdam', dict(lr=0.05)),
    ('RAdam', dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ('RAdam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('ASGD', dict(lr=0.05)),
    ('ASGD', dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1, maximize=True)),
    ('Rprop', dict(lr=0.05)),
    ('Rprop', dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
]
IDS = [f'{name}-' + '-'.join(f'{k}={v}' for k, v in options.items()) for name, options in CONFIGS]


def to_np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().cpu().numpy()


def assert_close(got, expected, where, tol):
    """An nbgrad tensor against a torch tensor: dtype, shape, device type, values within tol
    (relative, with an absolute floor of tol times the tensor's scale)."""
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1], where
    assert tuple(got.shape) == tuple(expected.shape), where
    e = to_np(expected)
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    np.testing.assert_allclose(to_np(got), e, rtol=tol, atol=tol * scale, err_msg=where)


def assert_same_state(got, expected, where, tol):
    """One parameter's state: the same keys (in the same order) and values."""
    assert list(got) == list(expected), f'{where}: keys {list(got)} != {list(expected)}'
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert isinstance(got[key], nbgrad.Tensor), f'{where}[{key}]'
            assert_close(got[key], value, f'{where}[{key}]', tol)
        else:
            assert got[key] == value, f'{where}[{key}]: {got[key]!r} != {value!r}'


def make_params(lib, arrays, dtype, device='cpu'):
    return [lib.tensor(a, dtype=getattr(lib, dtype), device=device).requires_grad_()
            for a in arrays]


def gradient_schedule(shapes, steps, seed=0):
    """Per step, one array (or None: no grad that step) per parameter; some exact zeros."""
    rng = np.random.default_rng(seed)
    schedule = []
    for k in range(steps):
        grads = []
        for i, shape in enumerate(shapes):
            g = rng.standard_normal(shape) * rng.uniform(0.5, 2)
            if k % 7 == 3 and g.ndim:
                g.reshape(-1)[0] = 0.0
            grads.append(None if (k % 5 == 2 and i == 1) else g)
        schedule.append(grads)
    return schedule


def set_grads(lib, params, arrays, device='cpu'):
    for p, g in zip(params, arrays):
        p.grad = None if g is None else lib.tensor(g, dtype=p.dtype, device=device)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name, options', CONFIGS, ids=IDS)
def test_steps_match_torch(name, options, dtype):
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s) for s in SHAPES]
    schedule = gradient_schedule(SHAPES, STEPS)
    params = {lib: make_params(lib, init, dtype) for lib in (torch, nbgrad)}
    opts = {lib: getattr(lib.optim, name)(params[lib], **options) for lib in (torch, nbgrad)}
    for k, grads in enumerate(schedule):
        for lib in (torch, nbgrad):
            set_grads(lib, params[lib], grads)
            opts[lib].step()
        for i, (p_nb, p_t) in enumerate(zip(params[nbgrad], params[torch])):
            where = f'step {k + 1}, param {i}'
            assert_close(p_nb, p_t, where, TOL[dtype])
            assert (p_t in opts[torch].state) == (p_nb in opts[nbgrad].state), where
            if p_t in opts[torch].state:
                assert_same_state(opts[nbgrad].state[p_nb], opts[torch].state[p_t], where,
                                  TOL[dtype])


@pytest.mark.parametrize('name, options', [c for c in CONFIGS if 'fused' not in c[1]],
                         ids=[i for i, c in zip(IDS, CONFIGS) if 'fused' not in c[1]])
def test_version_counters_match_torch(name, options):
    """Each step bumps the parameters' and state tensors' versions as PyTorch's in-place ops do
    (so autograd still detects a parameter changed under a saved graph)."""
    versions = {}
    for lib in (torch, nbgrad):
        params = make_params(lib, [np.ones((2, 3)), np.ones(())], 'float32')
        opt = getattr(lib.optim, name)(params, **options)
        seen = []
        for k in range(3):
            set_grads(lib, params, [np.full((2, 3), 0.5 - k), np.full((), k - 0.5)])
            opt.step()
            seen.append([(p._version, {key: v._version for key, v in opt.state[p].items()})
                         for p in params])
        versions[lib] = seen
    assert versions[nbgrad] == versions[torch]


def test_step_invalidates_saved_graph():
    for lib in (torch, nbgrad):
        p = lib.ones(3, requires_grad=True)
        loss = (p * p).sum()
        p.grad = lib.ones(3)
        lib.optim.SGD([p], lr=0.1).step()
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            loss.backward()


@pytest.mark.parametrize('name, options', [
    ('SGD', dict(lr=0.01, momentum=0.9, nesterov=True)), ('Adam', dict(lr=0.01, amsgrad=True)),
    ('RMSprop', dict(lr=0.01, centered=True)), ('Rprop', dict(lr=0.01)),
    ('LBFGS', dict(lr=0.5, max_iter=3))])
def test_gradients_from_a_loss(name, options):
    """The usual loop, zero_grad / loss / backward / step with a closure, in float64."""
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s) for s in SHAPES]
    target = [rng.standard_normal(s) for s in SHAPES]
    results = {}
    for lib in (torch, nbgrad):
        params = make_params(lib, init, 'float64')
        targets = [lib.tensor(t) for t in target]
        opt = getattr(lib.optim, name)(params, **options)

        def closure():
            opt.zero_grad()
            loss = sum(((p - t) ** 2).sum() + p.sin().sum() for p, t in zip(params, targets))
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(10)]
        results[lib] = (losses, [p.detach().numpy().copy() for p in params])
    np.testing.assert_allclose(results[nbgrad][0], results[torch][0], rtol=1e-12)
    for got, expected in zip(results[nbgrad][1], results[torch][1]):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'Adagrad', 'ASGD'])
def test_param_groups_with_their_own_options(name):
    """The classic example: one lr for the weights, another (the default) for the bias."""
    rng = np.random.default_rng(3)
    init = [rng.standard_normal((4, 3)), rng.standard_normal(4)]
    schedule = gradient_schedule([(4, 3), (4,)], 10, seed=4)
    params = {lib: make_params(lib, init, 'float64') for lib in (torch, nbgrad)}
    opts = {lib: getattr(lib.optim, name)(
        [{'params': [params[lib][0]], 'lr': 0.3, 'weight_decay': 0.01},
         {'params': [params[lib][1]]}], lr=0.01) for lib in (torch, nbgrad)}
    for groups in zip(opts[nbgrad].param_groups, opts[torch].param_groups):
        assert {k: v for k, v in groups[0].items() if k != 'params'} == \
               {k: v for k, v in groups[1].items() if k != 'params'}
    for grads in schedule:
        for lib in (torch, nbgrad):
            set_grads(lib, params[lib], grads)
            opts[lib].step()
    for p_nb, p_t in zip(params[nbgrad], params[torch]):
        assert_close(p_nb, p_t, name, 1e-12)


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'RMSprop'])
def test_tensor_lr(name):
    rng = np.random.default_rng(5)
    init = [rng.standard_normal(s) for s in SHAPES]
    schedule = gradient_schedule(SHAPES, 5, seed=6)
    params = {lib: make_params(lib, init, 'float32') for lib in (torch, nbgrad)}
    opts = {lib: getattr(lib.optim, name)(params[lib], lr=lib.tensor(0.05))
            for lib in (torch, nbgrad)}
    for grads in schedule:
        for lib in (torch, nbgrad):
            set_grads(lib, params[lib], grads)
            opts[lib].step()
    for p_nb, p_t in zip(params[nbgrad], params[torch]):
        assert_close(p_nb, p_t, name, TOL['float32'])


@pytest.mark.parametrize('name, options', [
    ('Adam', dict(lr=0.01)), ('SGD', dict(lr=0.01, momentum=0.9)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1))])
def test_big_and_strided_parameters(name, options):
    """A parameter big enough to be cut into pieces and spread over threads, one whose grad is
    a transposed (strided) array, and a strided parameter (updated as one whole array)."""
    rng = np.random.default_rng(7)
    big, grid = rng.standard_normal(300_001), rng.standard_normal((300, 200))
    strided_base = rng.standard_normal((6, 5))
    results = {}
    for lib in (torch, nbgrad):
        params = [lib.tensor(big, dtype=lib.float32).requires_grad_(),
                  lib.tensor(grid, dtype=lib.float32).requires_grad_(),
                  lib.tensor(strided_base, dtype=lib.float32).t().requires_grad_()]
        opt = getattr(lib.optim, name)(params, **options)
        for k in range(3):
            g_rng = np.random.default_rng(10 + k)
            params[0].grad = lib.tensor(g_rng.standard_normal(300_001), dtype=lib.float32)
            params[1].grad = lib.tensor(g_rng.standard_normal((200, 300)), dtype=lib.float32).t()
            params[2].grad = lib.tensor(g_rng.standard_normal((5, 6)), dtype=lib.float32)
            opt.step()
        results[lib] = (params, opt)
    for p_nb, p_t in zip(results[nbgrad][0], results[torch][0]):
        assert_close(p_nb, p_t, name, TOL['float32'])
        assert_same_state(results[nbgrad][1].state[p_nb], results[torch][1].state[p_t], name,
                          TOL['float32'])
    assert not results[nbgrad][0][2].is_contiguous()


@pytest.mark.parametrize('name, options', [
    ('Adam', dict(lr=0.05, amsgrad=True)), ('Adam', dict(lr=0.05, fused=True)),
    ('SGD', dict(lr=0.1, momentum=0.9)), ('ASGD', dict(lr=0.05, t0=2)),
    ('Rprop', dict(lr=0.05)), ('RMSprop', dict(lr=0.01, centered=True, momentum=0.5))])
def test_on_device(device, name, options):
    """nbgrad on `device` against PyTorch on the CPU; state lives where PyTorch keeps it ('step'
    on the CPU, except for fused optimizers and ASGD, whose scalar state is on the device)."""
    rng = np.random.default_rng(8)
    init = [rng.standard_normal(s) for s in SHAPES]
    schedule = gradient_schedule(SHAPES, 6, seed=9)
    params_t = make_params(torch, init, 'float32')
    params_nb = make_params(nbgrad, init, 'float32', device)
    opt_t = getattr(torch.optim, name)(params_t, **options)
    opt_nb = getattr(nbgrad.optim, name)(params_nb, **options)
    for grads in schedule:
        set_grads(torch, params_t, grads)
        set_grads(nbgrad, params_nb, grads, device)
        opt_t.step()
        opt_nb.step()
    on_device = name == 'ASGD' or options.get('fused')
    for p_nb, p_t in zip(params_nb, params_t):
        assert p_nb.device.type == device
        assert_close(p_nb, p_t, name, TOL['float32'])
        assert_same_state(opt_nb.state[p_nb], opt_t.state[p_t], name, TOL['float32'])
        for key, value in opt_nb.state[p_nb].items():
            expected = 'cpu' if key == 'step' and not on_device else device
            assert value.device.type == expected, (key, value.device)


def test_duplicate_parameter_is_updated_twice_like_torch():
    """A parameter listed twice in a group (PyTorch warns) gets two updates in a row; big enough
    that nbgrad would otherwise spread it over threads."""
    values = np.linspace(-1, 1, 200_000)
    results = []
    for lib in (torch, nbgrad):
        p = lib.tensor(values, dtype=lib.float32, requires_grad=True)
        with pytest.warns(UserWarning, match='duplicate'):
            opt = lib.optim.Adam([p, p], lr=0.01)
        for k in range(3):
            p.grad = lib.full(tuple(p.shape), 0.1 * k - 0.05)
            opt.step()
        results.append((p, opt.state[p]))
    assert_close(results[1][0], results[0][0], 'param', TOL['float32'])
    assert_same_state(results[1][1], results[0][1], 'state', TOL['float32'])


def test_many_small_parameters():
    """Enough small parameters to make a step worth spreading over threads whole."""
    rng = np.random.default_rng(11)
    init = [rng.standard_normal((50, 100)) for _ in range(40)]
    results = []
    for lib in (torch, nbgrad):
        params = make_params(lib, init, 'float32')
        opt = lib.optim.RMSprop(params, lr=0.01, centered=True)
        for k in range(3):
            set_grads(lib, params, [np.full((50, 100), 0.5 - 0.3 * k) + a for a in init])
            opt.step()
        results.append(params)
    for i, (p_nb, p_t) in enumerate(zip(*results[::-1])):
        assert_close(p_nb, p_t, f'param {i}', TOL['float32'])


@pytest.mark.parametrize('name', ['SGD', 'Adam'])
def test_parameters_that_are_views_of_one_array_update_in_order(name):
    """Big overlapping views (a threaded step would race on them) give PyTorch's numbers."""
    def run(lib):
        base = lib.zeros(600_000)
        views = [lib.nn.Parameter(base[:400_000]), lib.nn.Parameter(base[200_000:])]
        for v in views:
            v.grad = lib.ones_like(v)
        opt = getattr(lib.optim, name)(views, lr=0.1, **({'momentum': 0.9} if name == 'SGD'
                                                          else {}))
        for _ in range(3):
            opt.step()
        return base[::50_000].clone()
    both(run)
