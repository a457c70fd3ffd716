"""Optimizer state_dict / load_state_dict against PyTorch: the layout (integer ids, param_groups
with 'params' index lists and names), the values, a reloaded optimizer continuing exactly, a
state_dict made by PyTorch loaded into nbgrad, casting to the parameters' dtype on load, the
errors for mismatched groups, and the state_dict hooks."""
import copy

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

OPTIMIZERS = [
    ('SGD', dict(lr=0.1, momentum=0.9)), ('Adam', dict(lr=0.05, amsgrad=True)),
    ('AdamW', dict(lr=0.05)), ('Adagrad', dict(lr=0.1)), ('RMSprop', dict(centered=True,
                                                                          momentum=0.5)),
    ('Adadelta', dict()), ('Adamax', dict()), ('NAdam', dict()), ('RAdam', dict()),
    ('ASGD', dict(t0=1)), ('Rprop', dict()), ('Adam', dict(fused=True)),
    ('Adafactor', dict(lr=0.05, weight_decay=0.1)),
]
IDS = [f'{name}-{i}' for i, (name, _) in enumerate(OPTIMIZERS)]
SHAPES = [(3, 2), (4,), ()]


def np_of(t):
    return t.detach().cpu().numpy()


def to_nbgrad(value):
    """A torch state_dict converted to nbgrad (tensors through NumPy, containers rebuilt)."""
    if isinstance(value, torch.Tensor):
        return nbgrad.tensor(value.numpy())
    if isinstance(value, dict):
        return {k: to_nbgrad(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_nbgrad(v) for v in value)
    return value


def assert_same_structure(got, expected, where='state_dict', exact=False):
    """Nested dicts/lists of nbgrad values against torch's: same keys, types, tensor dtypes and
    values (exact=True: bit for bit)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, nbgrad.Tensor), f'{where}: {type(got).__name__}'
        assert str(got.dtype)[7:] == str(expected.dtype)[6:], f'{where}: {got.dtype}'
        if exact:
            np.testing.assert_array_equal(np_of(got), np_of(expected), err_msg=where)
        else:
            np.testing.assert_allclose(np_of(got), np_of(expected), rtol=3e-6, atol=3e-6,
                                       err_msg=where)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), \
            f'{where}: keys {list(got)} != {list(expected)}'
        for k in expected:
            assert_same_structure(got[k], expected[k], f'{where}[{k!r}]', exact)
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same_structure(g, e, f'{where}[{i}]', exact)
    else:
        assert got == expected and type(got) is type(expected), f'{where}: {got!r} {expected!r}'


def setup(lib, name, options, dtype='float32', seed=0, groups=True):
    rng = np.random.default_rng(seed)
    params = [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype)).requires_grad_()
              for s in SHAPES]
    spec = ([{'params': params[:1], 'lr': 0.02}, {'params': params[1:]}] if groups
            and name != 'LBFGS' else params)
    return params, getattr(lib.optim, name)(spec, **options)


def run_steps(lib, params, opt, steps, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype)
        opt.step()


@pytest.mark.parametrize('name, options', OPTIMIZERS, ids=IDS)
def test_state_dict_layout_and_values(name, options):
    results = {}
    for lib in (torch, nbgrad):
        params, opt = setup(lib, name, options)
        run_steps(lib, params, opt, 3)
        results[lib] = opt.state_dict()
    assert_same_structure(results[nbgrad], results[torch])


@pytest.mark.parametrize('name, options', OPTIMIZERS, ids=IDS)
def test_reloaded_optimizer_continues_exactly(name, options):
    """state_dict -> a new optimizer over new parameters -> load_state_dict -> continue gives
    bit for bit the run that was never interrupted."""
    params, opt = setup(nbgrad, name, options)
    run_steps(nbgrad, params, opt, 6)

    first, opt1 = setup(nbgrad, name, options)
    run_steps(nbgrad, first, opt1, 3)
    saved = copy.deepcopy(opt1.state_dict())
    second, opt2 = setup(nbgrad, name, dict(options), seed=5)
    with nbgrad.no_grad():
        for p, q in zip(second, first):
            p.copy_(q)
    opt2.load_state_dict(saved)
    rng = np.random.default_rng(1)
    for _ in range(3):   # the gradients of steps 4-6 of the uninterrupted run
        for p in params:
            rng.standard_normal(tuple(p.shape))
    run_steps_from(nbgrad, second, opt2, rng)
    for p, q in zip(second, params):
        np.testing.assert_array_equal(np_of(p), np_of(q))
    assert_same_structure_nb(opt2.state_dict(), opt.state_dict())


def run_steps_from(lib, params, opt, rng, steps=3):
    for _ in range(steps):
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype)
        opt.step()


def assert_same_structure_nb(got, expected, where='state_dict'):
    if isinstance(expected, nbgrad.Tensor):
        assert got.dtype == expected.dtype, where
        np.testing.assert_array_equal(np_of(got), np_of(expected), err_msg=where)
    elif isinstance(expected, dict):
        assert list(got) == list(expected), where
        for k in expected:
            assert_same_structure_nb(got[k], expected[k], f'{where}[{k!r}]')
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same_structure_nb(g, e, f'{where}[{i}]')
    else:
        assert got == expected, where


@pytest.mark.parametrize('name, options', OPTIMIZERS, ids=IDS)
def test_load_a_state_dict_made_by_torch(name, options):
    """PyTorch runs 3 steps; its state_dict (tensors converted through NumPy) loaded into nbgrad
    over the same parameter values; both continue 3 steps and agree."""
    params_t, opt_t = setup(torch, name, options)
    run_steps(torch, params_t, opt_t, 3)
    params_nb, opt_nb = setup(nbgrad, name, options, seed=7)
    with nbgrad.no_grad():
        for p, q in zip(params_nb, params_t):
            p.copy_(nbgrad.tensor(q.detach().numpy()))
    opt_nb.load_state_dict(to_nbgrad(opt_t.state_dict()))
    rng_t, rng_nb = np.random.default_rng(9), np.random.default_rng(9)
    run_steps_from(torch, params_t, opt_t, rng_t)
    run_steps_from(nbgrad, params_nb, opt_nb, rng_nb)
    for p, q in zip(params_nb, params_t):
        np.testing.assert_allclose(np_of(p), np_of(q), rtol=3e-6, atol=3e-6)
    assert_same_structure(opt_nb.state_dict(), opt_t.state_dict())


@pytest.mark.parametrize('name, options', [('Adam', {}), ('Adam', dict(fused=True)),
                                           ('NAdam', {}), ('ASGD', {}), ('SGD',
                                                                        dict(momentum=0.9))])
def test_load_casts_state_to_the_parameter_dtype(name, options):
    """A float64 run's state loaded over float32 parameters: state tensors become float32;
    'step' keeps its dtype (unless fused), as in PyTorch."""
    loaded = {}
    for lib in (torch, nbgrad):
        params64, opt64 = setup(lib, name, options, dtype='float64')
        run_steps(lib, params64, opt64, 2)
        params32, opt32 = setup(lib, name, options, dtype='float32')
        opt32.load_state_dict(opt64.state_dict())
        loaded[lib] = opt32.state_dict()
        for p in params32:
            assert opt32.state[p] is not opt64.state.get(p)
    assert_same_structure(loaded[nbgrad], loaded[torch])


def test_loaded_state_shares_tensors_like_torch():
    """PyTorch's load_state_dict keeps the given tensors when no cast is needed (no copy)."""
    shared = {}
    for lib in (torch, nbgrad):
        params, opt = setup(lib, 'Adam', {})
        run_steps(lib, params, opt, 1)
        params2, opt2 = setup(lib, 'Adam', {})
        opt2.load_state_dict(opt.state_dict())
        shared[lib] = [opt2.state[q]['exp_avg'] is opt.state[p]['exp_avg']
                       for p, q in zip(params, params2)]
    assert shared[nbgrad] == shared[torch]


def test_named_parameters_in_groups():
    results = {}
    for lib in (torch, nbgrad):
        w, b = lib.ones(2, requires_grad=True), lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([('w', w), ('b', b)], lr=0.1, momentum=0.5)
        w.grad, b.grad = lib.ones(2), lib.ones(1)
        opt.step()
        other = lib.optim.SGD([lib.ones(2, requires_grad=True),
                               lib.ones(1, requires_grad=True)], lr=0.2)
        other.load_state_dict(opt.state_dict())
        results[lib] = (opt.state_dict(), other.state_dict())
    assert_same_structure(results[nbgrad], results[torch])


@pytest.mark.parametrize('case', ['fewer_groups', 'group_size'])
def test_load_errors(case):
    for lib in (torch, nbgrad):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = lib.optim.Adam([{'params': [a]}, {'params': [b]}])
        other = (lib.optim.Adam([a, b]) if case == 'fewer_groups'
                 else lib.optim.Adam([{'params': [a, b]}, {'params': [lib.ones(1)]}]))
        match = ('different number of parameter groups' if case == 'fewer_groups'
                 else "doesn't match the size of optimizer's group")
        with pytest.raises(ValueError, match=match):
            other.load_state_dict(opt.state_dict())


def test_state_dict_hooks():
    """Pre/post hooks of state_dict and load_state_dict: call order, the dict a post hook returns
    replaces the result, prepend=True, handles remove them."""
    logs = {}
    for lib in (torch, nbgrad):
        log = []
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        p.grad = lib.ones(2)
        opt.step()
        opt.register_state_dict_pre_hook(lambda o: log.append('pre'))
        opt.register_state_dict_pre_hook(lambda o: log.append('pre-first'), prepend=True)
        handle = opt.register_state_dict_post_hook(
            lambda o, sd: {**sd, 'extra': sorted(sd['state'][0])})
        sd = opt.state_dict()
        log.append(sd['extra'])
        handle.remove()
        log.append('extra' in opt.state_dict())

        def load_pre(o, sd):
            log.append(sorted(sd))
            sd = dict(sd)
            sd['param_groups'] = [dict(g, lr=0.5) for g in sd['param_groups']]
            return sd
        opt.register_load_state_dict_pre_hook(load_pre)
        opt.register_load_state_dict_post_hook(lambda o: log.append(o.param_groups[0]['lr']))
        opt.load_state_dict(opt.state_dict())
        logs[lib] = log
    assert logs[nbgrad] == logs[torch]


def test_lbfgs_state_dict():
    results = {}
    for lib in (torch, nbgrad):
        x = lib.tensor([-1.2, 1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([x], max_iter=4, history_size=3)

        def closure():
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        results[lib] = opt.state_dict()
    got, expected = results[nbgrad], results[torch]
    assert list(got['state'][0]) == list(expected['state'][0])
    assert got['param_groups'] == expected['param_groups']
    for key, value in expected['state'][0].items():
        mine = got['state'][0][key]
        if isinstance(value, list):
            assert len(mine) == len(value), key
            for m, v in zip(mine, value):
                if v is not None:
                    np.testing.assert_allclose(np.asarray(np_of(m) if isinstance(
                        m, nbgrad.Tensor) else m), np.asarray(np_of(v) if isinstance(
                            v, torch.Tensor) else v), rtol=1e-9, err_msg=key)
        elif isinstance(value, torch.Tensor):
            assert isinstance(mine, nbgrad.Tensor), key
            np.testing.assert_allclose(np_of(mine), np_of(value), rtol=1e-9, err_msg=key)
        else:
            assert mine == pytest.approx(value, rel=1e-9), key


@pytest.mark.parametrize('name', ['Adam', 'SGD', 'RMSprop', 'ASGD'])
def test_load_an_old_style_state_dict(name):
    """A state_dict from an older PyTorch: 'step' a number, newer group options missing."""
    loaded = {}
    for lib in (torch, nbgrad):
        params, opt = setup(lib, name, {}, groups=False)
        run_steps(lib, params, opt, 2)
        sd = opt.state_dict()
        for p_state in sd['state'].values():
            if 'step' in p_state:
                p_state['step'] = float(p_state['step'])
        for group in sd['param_groups']:
            for key in ('foreach', 'maximize', 'differentiable', 'capturable'):
                group.pop(key, None)
        params2, opt2 = setup(lib, name, {}, groups=False)
        opt2.load_state_dict(sd)
        run_steps(lib, params2, opt2, 1)
        loaded[lib] = opt2.state_dict()
    assert_same_structure(loaded[nbgrad], loaded[torch])


@pytest.mark.parametrize('name, options', [('Adam', {}), ('Adam', dict(fused=True)),
                                           ('ASGD', {})])
def test_load_moves_state_to_the_parameter_device(device, name, options):
    """State saved on the CPU follows the parameters to `device`; 'step' stays where it was
    unless the optimizer keeps it on the device (fused), as in PyTorch."""
    params, opt = setup(nbgrad, name, options, groups=False)
    run_steps(nbgrad, params, opt, 2)
    moved = [nbgrad.tensor(np_of(p), device=device).requires_grad_() for p in params]
    opt2 = getattr(nbgrad.optim, name)(moved, **options)
    opt2.load_state_dict(opt.state_dict())
    for p, q in zip(moved, params):
        for key, value in opt2.state[p].items():
            expected = 'cpu' if key == 'step' and not options.get('fused') else device
            assert value.device.type == expected, key
            np.testing.assert_array_equal(np_of(value), np_of(opt.state[q][key]))
    for p in moved:
        p.grad = nbgrad.ones(tuple(p.shape), device=device)
    opt2.step()
    assert all(p.device.type == device for p in moved)
