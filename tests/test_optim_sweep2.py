"""nbgrad.optim against PyTorch, second porting sweep: the functional forms (torch.optim.adam.adam
... and torch.optim._functional), the typing aliases and swap_in_optimizer_params_and_state, a
loaded state of the wrong shape, float16 parameters rounded as PyTorch's CPU kernels round,
ASGD(foreach=True)'s float32 eta, and differentiable=True for SGD and Adam."""
import importlib

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same

torch = pytest.importorskip('torch')


def _rng_arrays(n_steps, shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    init = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(n_steps)]
    return init, grads


# -- typing aliases and swap_in ------------------------------------------------------------------

def test_typing_aliases_and_exports():
    for lib in (torch, nbgrad):
        module = importlib.import_module(lib.__name__ + '.optim.optimizer')
        for name in ('ParamsT', 'Kwargs', 'Args', 'StateDict', 'GlobalOptimizerPreHook',
                     'GlobalOptimizerPostHook'):
            assert hasattr(module, name), (lib.__name__, name)
        assert hasattr(lib.optim.Optimizer, 'OptimizerPreHook')
        assert hasattr(lib.optim.Optimizer, 'OptimizerPostHook')
    assert sorted(nbgrad.optim.__all__) == sorted(torch.optim.__all__)
    names = {n for n in dir(torch.optim._functional) if not n.startswith('_')}
    assert names <= set(dir(nbgrad.optim._functional))


def test_swap_in_optimizer_params_and_state():
    def run(lib):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        o = lib.optim.Adam([p], lr=0.1)
        p.grad = lib.tensor([0.5, -1.0])
        o.step()
        sd = o.state_dict()
        sd = {'state': {0: {k: v.clone() for k, v in sd['state'][0].items()}},
              'param_groups': [dict(sd['param_groups'][0], lr=0.5)]}
        q = lib.tensor([10.0, 20.0], requires_grad=True)
        q.grad = lib.tensor([1.0, 1.0])
        with lib.optim.swap_in_optimizer_params_and_state(o, {'w': q}, sd):
            o.step()
            lr_inside = o.param_groups[0]['lr']
        return (p.detach(), q.detach(), sd['state'][0]['exp_avg'], sd['state'][0]['step'],
                o.param_groups[0]['lr'], lr_inside, o.state[p]['step'])
    assert_same(run(nbgrad), run(torch))


# -- functional forms ----------------------------------------------------------------------------

def _zeros_like(lib, a):
    return lib.zeros(a.shape, dtype=lib.float64)


FUNCTIONAL = [
    ('sgd', lambda lib, s, i, g: ([s['p']], [g], [s.get('buf')]),
     dict(weight_decay=0.1, momentum=0.9, lr=0.1, dampening=0.2, nesterov=False,
          maximize=False)),
    ('adam', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [s['vmax']], [s['step']]),
     dict(amsgrad=True, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1, eps=1e-8,
          maximize=False)),
    ('adamw', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [], [s['step']]),
     dict(amsgrad=False, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1, eps=1e-8,
          maximize=True)),
    ('rmsprop', lambda lib, s, i, g: ([s['p']], [g], [s['v']], [s['m']], [s['vmax']],
                                      [s['step']]),
     dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True)),
    ('adagrad', lambda lib, s, i, g: ([s['p']], [g], [s['v']], [s['step']]),
     dict(lr=0.1, weight_decay=0.1, lr_decay=0.01, eps=1e-10, maximize=False)),
    ('radam', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [s['step']]),
     dict(beta1=0.9, beta2=0.5, lr=0.05, weight_decay=0.1, eps=1e-8)),
    ('nadam', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [s['mu']], [s['step']]),
     dict(beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1, momentum_decay=4e-3, eps=1e-8)),
    ('asgd', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['mu']], [s['eta']],
                                   [s['step']]),
     dict(lambd=1e-2, lr=0.05, t0=1, alpha=0.75, weight_decay=0.1)),
    ('rprop', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['ss']], [s['step']]),
     dict(step_size_min=1e-6, step_size_max=50, etaminus=0.5, etaplus=1.2)),
    ('adamax', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [s['step']]),
     dict(eps=1e-8, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1)),
    ('adadelta', lambda lib, s, i, g: ([s['p']], [g], [s['m']], [s['v']], [s['step']]),
     dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=False)),
]


@pytest.mark.parametrize('name, lists, options', FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_forms_match_torch(name, lists, options):
    init, grads = _rng_arrays(4, (3, 5))

    def run(lib):
        fn = getattr(importlib.import_module(f'{lib.__name__}.optim.{name}'), name)
        assert getattr(lib.optim._functional, name) is fn
        s = {'p': lib.tensor(init.copy()), 'step': lib.tensor(0.0),
             'mu': lib.tensor(1.0), 'eta': lib.tensor(options.get('lr', 0.0)),
             'ss': lib.full((3, 5), 0.05, dtype=lib.float64)}
        for key in ('m', 'v', 'vmax'):
            s[key] = lib.zeros((3, 5), dtype=lib.float64)
        buffers = [None]
        for i, g in enumerate(grads):
            args = lists(lib, s, i, lib.tensor(g))
            if name == 'sgd':
                args = (args[0], args[1], buffers)
            fn(*args, **options)
        return [s[k] for k in sorted(s)] + [buffers[0]]
    assert_same(run(nbgrad), run(torch), rtol=1e-12, atol=1e-14)


def test_functional_sparse_adam_matches_torch():
    def run(lib):
        p = lib.tensor(np.arange(12.0).reshape(4, 3) / 7)
        m, v = lib.zeros(4, 3, dtype=lib.float64), lib.zeros(4, 3, dtype=lib.float64)
        for step in (1, 2):
            g = lib.sparse_coo_tensor([[0, 2]], lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, 0.1]],
                                                          dtype=lib.float64), (4, 3))
            lib.optim._functional.sparse_adam([p], [g], [m], [v], [step], eps=1e-8, beta1=0.9,
                                              beta2=0.99, lr=0.1, maximize=False)
        return p, m, v
    assert_same(run(nbgrad), run(torch), rtol=1e-12, atol=1e-14)


def test_functional_state_steps_must_be_tensors():
    for lib in (torch, nbgrad):
        p = lib.zeros(2)
        with pytest.raises(RuntimeError, match='singleton tensors'):
            importlib.import_module(f'{lib.__name__}.optim.adam').adam([p], [lib.ones(2)], [lib.zeros(2)], [lib.zeros(2)], [], [0],
                                amsgrad=False, beta1=0.9, beta2=0.99, lr=0.1, weight_decay=0,
                                eps=1e-8, maximize=False)


def test_functional_version_counters_like_torch():
    def run(lib):
        p, m, v, step = lib.zeros(2), lib.zeros(2), lib.zeros(2), lib.tensor(0.0)
        importlib.import_module(f'{lib.__name__}.optim.adam').adam([p], [lib.ones(2)], [m], [v], [], [step], amsgrad=False, beta1=0.9,
                            beta2=0.99, lr=0.1, weight_decay=0, eps=1e-8, maximize=False)
        return p._version, m._version, v._version, step._version
    assert run(nbgrad) == run(torch)


# -- a loaded state of the wrong shape -----------------------------------------------------------

@pytest.mark.parametrize('name, options, key', [
    ('SGD', dict(lr=0.1, momentum=0.9), 'momentum_buffer'),
    ('Adam', dict(lr=0.1), 'exp_avg')])
def test_loaded_state_of_the_wrong_shape_raises_runtime_error(name, options, key):
    def run(lib):
        p = lib.ones(2, requires_grad=True)
        o = getattr(lib.optim, name)([p], **options)
        p.grad = lib.ones(2)
        o.step()
        sd = o.state_dict()
        sd['state'][0][key] = lib.zeros(5)
        q = lib.ones(2, requires_grad=True)
        o2 = getattr(lib.optim, name)([q], **options)
        o2.load_state_dict(sd)
        q.grad = lib.ones(2)
        with pytest.raises(RuntimeError) as info:
            o2.step()
        return q.detach(), str(info.value)
    got, expected = run(nbgrad), run(torch)
    assert_same(got[0], expected[0])
    assert key in got[1] and '(5,)' in got[1] and '(2,)' in got[1]


# -- float16 -------------------------------------------------------------------------------------
# PyTorch's vectorized CPU loop casts an add's alpha (and a Python number added) to float16, its
# scalar loop for the last (numel % vector width) elements does not; nbgrad follows the
# vectorized loop, so the sizes here are multiples of 64 (see the module docstring of _opmath).

HALF_CONFIGS = [
    ('SGD', dict(lr=0.05, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(lr=0.05, momentum=0.9, dampening=0.3, maximize=True)),
    ('Adam', dict(lr=0.05)),
    ('Adam', dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ('AdamW', dict(lr=0.05, amsgrad=True)),
    ('RMSprop', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.3, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.3)),
    ('Adagrad', dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.2)),
]


@pytest.mark.parametrize('name, options', HALF_CONFIGS,
                         ids=[f'{n}-{o}' for n, o in HALF_CONFIGS])
def test_float16_steps_round_as_torch(name, options):
    init, grads = _rng_arrays(6, (64, 48), np.float16)

    def run(lib):
        p = lib.tensor(init, requires_grad=True)
        o = getattr(lib.optim, name)([p], **options)
        for g in grads:
            p.grad = lib.tensor(g)
            o.step()
        return p.detach(), [o.state[p][k] for k in sorted(o.state[p])]
    assert_same(run(nbgrad), run(torch), rtol=0, atol=0)


def test_float16_adam_repro():
    def run(lib):
        a = lib.tensor([1.0, 2.0, -3.0], dtype=lib.float16, requires_grad=True)
        o = lib.optim.Adam([a], lr=0.1)
        a.grad = lib.tensor([2.0, 4.0, -6.0], dtype=lib.float16)
        o.step()
        return a.detach(), o.state[a]['exp_avg'], o.state[a]['exp_avg_sq']
    assert_same(run(nbgrad), run(torch), rtol=0, atol=0)


# -- ASGD(foreach=True) --------------------------------------------------------------------------

@pytest.mark.parametrize('foreach', [True, False])
def test_asgd_eta_as_torch(foreach):
    def run(lib):
        p = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        o = lib.optim.ASGD([p], lr=0.05, foreach=foreach)
        etas = []
        for _ in range(4):
            p.grad = lib.ones(3, dtype=lib.float64)
            o.step()
            etas.append(o.state[p]['eta'].item())
        return etas
    assert run(nbgrad) == run(torch)


@pytest.mark.parametrize('default', ['float64', 'float32'])
def test_asgd_foreach_eta_follows_the_default_dtype(default):
    """PyTorch's foreach step tensor has the default dtype: float32 arithmetic there, float64
    (the Python formula's values) under a float64 default."""
    def run(lib):
        before = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            p = lib.nn.Parameter(lib.ones(3))
            o = lib.optim.ASGD([p], lr=0.05, t0=1, foreach=True)
            for _ in range(4):
                p.grad = lib.ones(3)
                o.step()
            return o.state[p]['eta'].item()
        finally:
            lib.set_default_dtype(before)
    assert run(nbgrad) == run(torch)


def test_sgd_state_dict_without_fused_loads_as_pytorchs():
    def run(lib):
        w = lib.nn.Parameter(lib.ones(2))
        state = lib.optim.SGD([w], lr=0.1).state_dict()
        del state['param_groups'][0]['fused']
        optimizer = lib.optim.SGD([w], lr=0.1)
        optimizer.load_state_dict(state)
        return optimizer.param_groups[0]['fused']
    assert run(nbgrad) is run(torch) is False


# -- differentiable=True -------------------------------------------------------------------------

_DIFFERENTIABLE = [
    ('Adagrad', {'lr': 0.1}), ('Adagrad', {'lr': 0.1, 'lr_decay': 0.01, 'maximize': True}),
    ('RMSprop', {'lr': 0.01}), ('RMSprop', {'lr': 0.01, 'momentum': 0.9, 'weight_decay': 0.1}),
    ('RMSprop', {'lr': 0.01, 'centered': True}),
    ('Adadelta', {'lr': 1.0}), ('Adadelta', {'lr': 0.5, 'weight_decay': 0.1, 'maximize': True}),
    ('Adamax', {'lr': 0.1}), ('Adamax', {'lr': 0.1, 'weight_decay': 0.1}),
    ('Rprop', {'lr': 0.1}), ('Rprop', {'lr': 0.1, 'maximize': True}),
    ('NAdam', {'lr': 0.1}), ('NAdam', {'lr': 0.1, 'weight_decay': 0.1,
                                       'decoupled_weight_decay': True}),
    ('RAdam', {'lr': 0.1}), ('RAdam', {'lr': 0.1, 'weight_decay': 0.1, 'maximize': True}),
    ('ASGD', {'lr': 0.05, 't0': 1}), ('ASGD', {'lr': 0.05, 'weight_decay': 0.1}),
]


@pytest.mark.parametrize('steps', [1, 3])
@pytest.mark.parametrize('name,options', _DIFFERENTIABLE,
                         ids=[f'{n}-{i}' for i, (n, _) in enumerate(_DIFFERENTIABLE)])
def test_differentiable_steps_are_pytorchs(name, options, steps):
    """differentiable=True: steps recorded by autograd, then a loss differentiated back to the
    parameter's source, as PyTorch's (float64: its op order, so its numbers; a + alpha*b may
    round once more, see the README). Where a later step overwrites state an earlier one saved
    (Adamax, Rprop, centered RMSprop), both refuse the backward."""
    def run(lib):
        w0 = lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64, requires_grad=True)
        p = w0.clone()
        optimizer = getattr(lib.optim, name)([p], differentiable=True, **options)
        for i in range(steps):
            p.grad = (p * p * (i + 1)).detach() - 0.5 + p * 0.1
            optimizer.step()
        try:
            (p ** 2).sum().backward()
        except RuntimeError as error:
            return 'modified in place' in str(error) or 'inplace operation' in str(error)
        return p.detach(), w0.grad, p.grad_fn is not None
    ours, theirs = run(nbgrad), run(torch)
    if theirs is True:
        assert ours is True
    else:
        assert_same(ours, theirs, rtol=1e-14, atol=0)

def test_differentiable_sgd_repro():
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        lr = lib.tensor(0.1, requires_grad=True)
        p = w.clone()
        o = lib.optim.SGD([p], lr=lr, differentiable=True)
        p.grad = p * 2
        o.step()
        p.sum().backward()
        return p.detach(), w.grad, lr.grad, p.grad_fn is not None
    assert_same(run(nbgrad), run(torch))


@pytest.mark.parametrize('name, options', [
    ('SGD', dict(momentum=0.9, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(momentum=0.9, dampening=0.2, maximize=True)),
    ('Adam', dict()),
    ('Adam', dict(amsgrad=True, weight_decay=0.1)),
    ('AdamW', dict(weight_decay=0.1, maximize=True))])
def test_differentiable_steps_carry_gradients_as_torch(name, options):
    init, _ = _rng_arrays(0, (4,))

    def run(lib):
        w = lib.tensor(init, requires_grad=True)
        lr = lib.tensor(0.05, dtype=lib.float64, requires_grad=True)
        p = w.clone()
        o = getattr(lib.optim, name)([p], lr=lr, differentiable=True, **options)
        for _ in range(3):
            p.grad = p.detach() ** 3 + w * 0.5          # a gradient in the graph
            o.step()
        (p * p).sum().backward()
        return p.detach(), w.grad, lr.grad
    try:
        expected = run(torch)
    except RuntimeError as e:
        # a momentum buffer or max_exp_avg_sq saved by one step and written by the next: PyTorch
        # refuses the backward, and so must nbgrad (same versions in the message)
        assert 'modified by an inplace operation' in str(e)
        with pytest.raises(RuntimeError) as info:
            run(nbgrad)
        assert str(e).split('is at version')[1][:30] in str(info.value)
        return
    assert_same(run(nbgrad), expected, rtol=1e-10, atol=1e-12)
