"""The Optimizer API against PyTorch: construction errors (PyTorch's exception types and
messages), add_param_group, zero_grad, step with a closure and grad mode, step hooks (per
optimizer and global), repr, and the options nbgrad refuses."""
import warnings

import numpy as np
import pytest

import nbgrad
from nbgrad.optim import optimizer as nb_optimizer

torch = pytest.importorskip('torch')
from torch.optim import optimizer as torch_optimizer  # noqa: E402

NAMES = ['SGD', 'Adam', 'AdamW', 'Adagrad', 'RMSprop', 'Adadelta', 'Adamax', 'NAdam', 'RAdam',
         'ASGD', 'Rprop', 'LBFGS', 'Adafactor']


def outcome(fn):
    """What fn() did: ('ok', value) or (builtin exception class name, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return ('ok', fn())
        except Exception as e:
            kind = next(c for c in type(e).__mro__ if c.__module__ == 'builtins')
            return (kind.__name__, str(e))


# (optimizer, options): each breaks one of PyTorch's argument checks (or passes one at its edge)
BAD_OPTIONS = [
    ('SGD', dict(lr=-0.1)), ('SGD', dict(lr=0.1, momentum=-1)),
    ('SGD', dict(lr=0.1, weight_decay=-1)), ('SGD', dict(lr=0.1, nesterov=True)),
    ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ('SGD', dict(lr=0.1, fused=True, foreach=True)), ('SGD', dict(lr=float('nan'))),
    ('Adam', dict(lr=-1e-3)), ('Adam', dict(eps=-1.0)), ('Adam', dict(betas=(1.0, 0.999))),
    ('Adam', dict(betas=(0.9, -0.1))), ('Adam', dict(weight_decay=-0.1)),
    ('Adam', dict(betas=(0, 0.9))), ('Adam', dict(lr=float('nan'))),
    ('Adam', dict(fused=True, foreach=True)), ('AdamW', dict(betas=(0.9, 1.5))),
    ('Adagrad', dict(lr_decay=-1)), ('Adagrad', dict(initial_accumulator_value=-1)),
    ('Adagrad', dict(eps=-1)), ('Adagrad', dict(fused=True, foreach=True)),
    ('RMSprop', dict(alpha=-0.5)), ('RMSprop', dict(momentum=-0.5)), ('RMSprop', dict(eps=-1)),
    ('Adadelta', dict(rho=1.5)), ('Adadelta', dict(lr=-1)), ('Adadelta', dict(eps=-1)),
    ('Adamax', dict(betas=(0.9, 1.0))), ('Adamax', dict(weight_decay=-1)),
    ('NAdam', dict(momentum_decay=-1)), ('NAdam', dict(betas=(-0.1, 0.9))),
    ('RAdam', dict(eps=-1e-8)), ('ASGD', dict(weight_decay=-1)), ('ASGD', dict(lr=-1)),
    ('Rprop', dict(etas=(1.2, 0.5))), ('Rprop', dict(etas=(0.0, 1.2))),
    ('Rprop', dict(lr=-0.1)), ('LBFGS', dict(lr=-1)), ('Adafactor', dict(lr=-1)),
    ('Adafactor', dict(beta2_decay=0.5)), ('Adafactor', dict(eps=(-1.0, 1e-3))),
    ('Adafactor', dict(eps=(None, -1.0))), ('Adafactor', dict(d=0.5)),
    ('Adafactor', dict(weight_decay=-1)), ('Adafactor', dict(eps=(0.0, 0.0), d=1.0)),
]


@pytest.mark.parametrize('name, options', BAD_OPTIONS,
                         ids=[f'{n}-{o}' for n, o in BAD_OPTIONS])
def test_argument_checks_match_torch(name, options):
    results = [outcome(lambda: type(getattr(lib.optim, name)(
        [lib.ones(2, requires_grad=True)], **options)).__name__) for lib in (torch, nbgrad)]
    assert results[1] == results[0]


@pytest.mark.parametrize('name', NAMES)
def test_tensor_lr_must_have_one_element(name):
    results = [outcome(lambda: getattr(lib.optim, name)(
        [lib.ones(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2]))) for lib in (torch, nbgrad)]
    assert results[1][0] == results[0][0] == 'ValueError'
    assert results[1][1] == results[0][1]


@pytest.mark.parametrize('name', NAMES)
def test_repr_matches_torch(name):
    texts = [repr(getattr(lib.optim, name)([lib.ones(2, requires_grad=True)]))
             for lib in (torch, nbgrad)]
    assert texts[1] == texts[0]


def test_repr_with_groups():
    texts = []
    for lib in (torch, nbgrad):
        a, b = lib.ones(2, requires_grad=True), lib.ones(1, requires_grad=True)
        texts.append(repr(lib.optim.SGD([{'params': [a], 'lr': 0.5}, {'params': [b]}], lr=0.1,
                                        momentum=0.9)))
    assert texts[1] == texts[0]


PARAM_ERRORS = {
    'tensor': lambda lib, ps: lib.optim.SGD(ps[0], lr=0.1),
    'empty': lambda lib, ps: lib.optim.SGD([], lr=0.1),
    'set_of_params': lambda lib, ps: repr(lib.optim.SGD({ps[0]}, lr=0.1)),
    'set_in_group': lambda lib, ps: lib.optim.SGD([{'params': {ps[0]}}], lr=0.1),
    'not_a_tensor': lambda lib, ps: lib.optim.SGD([ps[0], 3.0], lr=0.1),
    'non_leaf': lambda lib, ps: lib.optim.SGD([ps[0] * 2], lr=0.1),
    'same_param_twice_in_groups': lambda lib, ps: lib.optim.SGD(
        [{'params': [ps[0]]}, {'params': [ps[0], ps[1]]}], lr=0.1),
    'group_not_dict': lambda lib, ps: lib.optim.SGD([ps[0]], lr=0.1).add_param_group([ps[1]]),
    'mixed_names': lambda lib, ps: lib.optim.SGD([('a', ps[0]), ps[1]], lr=0.1),
    'named_then_unnamed_group': lambda lib, ps: lib.optim.SGD(
        [('a', ps[0])], lr=0.1).add_param_group({'params': [ps[1]]}),
    'lbfgs_two_groups': lambda lib, ps: lib.optim.LBFGS([{'params': [ps[0]]},
                                                          {'params': [ps[1]]}]),
    'leaf_ok': lambda lib, ps: len(lib.optim.SGD(ps, lr=0.1).param_groups[0]['params']),
    'single_tensor_group': lambda lib, ps: len(lib.optim.SGD(
        [{'params': ps[0]}], lr=0.1).param_groups[0]['params']),
}


@pytest.mark.parametrize('case', list(PARAM_ERRORS))
def test_params_and_groups(case):
    results = [outcome(lambda: PARAM_ERRORS[case](lib, [lib.ones(2, requires_grad=True),
                                                        lib.ones(3, requires_grad=True)]))
               for lib in (torch, nbgrad)]
    assert results[1][0] == results[0][0]
    if results[0][0] != 'TypeError':     # type names differ ('float' vs torch's wording)
        assert results[1] == results[0]


def test_duplicate_params_in_a_group_warn():
    for lib in (torch, nbgrad):
        p = lib.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match='duplicate parameters'):
            lib.optim.SGD([p, p], lr=0.1)


def test_add_param_group_fills_defaults():
    groups = []
    for lib in (torch, nbgrad):
        opt = lib.optim.Adam([lib.ones(2, requires_grad=True)], lr=0.1)
        opt.add_param_group({'params': [lib.ones(3, requires_grad=True)], 'betas': (0.5, 0.6)})
        groups.append([{k: v for k, v in g.items() if k != 'params'} for g in opt.param_groups])
    assert groups[1] == groups[0]


@pytest.mark.parametrize('set_to_none', [True, False])
def test_zero_grad(set_to_none):
    results = []
    for lib in (torch, nbgrad):
        a, b, c = (lib.ones(2, requires_grad=True) for _ in range(3))
        opt = lib.optim.SGD([a, b, c], lr=0.1)
        (a * 3).sum().backward()
        b.grad = (lib.ones(2, requires_grad=True) * 2)     # a grad with a grad_fn
        opt.zero_grad(set_to_none=set_to_none)
        results.append([None if p.grad is None else (p.grad.tolist(), p.grad.requires_grad,
                                                     p.grad.grad_fn is None) for p in (a, b, c)])
    assert results[1] == results[0]


def test_zero_grad_default_sets_to_none():
    p = nbgrad.ones(2, requires_grad=True)
    p.grad = nbgrad.ones(2)
    nbgrad.optim.Adam([p]).zero_grad()
    assert p.grad is None


def test_step_runs_without_grad_and_closure_with_grad():
    modes = {}
    for lib in (torch, nbgrad):
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        seen = []

        def closure():
            seen.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        opt.register_step_post_hook(lambda *a: seen.append(lib.is_grad_enabled()))
        loss = opt.step(closure)
        seen += [loss.item(), p.requires_grad, p.grad_fn is None, p.tolist()]
        with lib.no_grad():
            opt.step(closure)
        seen.append(lib.is_grad_enabled())
        modes[lib] = seen
    assert modes[nbgrad] == modes[torch]


def test_step_hooks():
    """Pre hooks may replace (args, kwargs); post hooks see them; global hooks run around the
    optimizer's own; handles remove them; a pre hook returning junk is an error."""
    logs = {}
    for lib, module in ((torch, torch_optimizer), (nbgrad, nb_optimizer)):
        log = []
        p = lib.ones(2, requires_grad=True)
        p.grad = lib.ones(2)
        opt = lib.optim.Adam([p], lr=0.1)
        handles = [
            module.register_optimizer_step_pre_hook(lambda o, a, k: log.append('global pre')),
            module.register_optimizer_step_post_hook(lambda o, a, k: log.append('global post')),
            opt.register_step_pre_hook(lambda o, a, k: log.append(('pre', len(a), k))),
            opt.register_step_pre_hook(lambda o, a, k: (a, {'closure': lambda: 7.0})),
            opt.register_step_post_hook(lambda o, a, k: log.append(('post', sorted(k)))),
        ]
        try:
            log.append(opt.step())
            for h in handles[2:]:
                h.remove()
            log.append(opt.step())
        finally:
            for h in handles[:2]:
                h.remove()
        opt.register_step_pre_hook(lambda o, a, k: 'junk')
        log.append(outcome(opt.step)[0])
        log.append(opt.state[p]['step'].item())
        logs[lib] = log
    assert logs[nbgrad] == logs[torch]


def test_custom_optimizer_subclass_gets_hooks():
    """A user-defined Optimizer (PyTorch's documented pattern) works and runs its hooks."""
    logs = {}
    for lib in (torch, nbgrad):
        class PlainSGD(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {'lr': lr})

            @lib.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group['params']:
                        if p.grad is not None:
                            p.add_(p.grad, alpha=-group['lr'])
                            self.state[p]['steps'] = self.state[p].get('steps', 0) + 1

        p = lib.ones(2, requires_grad=True)
        p.grad = lib.full((2,), 0.5)
        opt = PlainSGD([p])
        log = []
        opt.register_step_post_hook(lambda *a: log.append('post'))
        opt.step()
        logs[lib] = (log, p.tolist(), opt.state_dict()['state'], repr(opt))
    assert logs[nbgrad] == logs[torch]


@pytest.mark.parametrize('name, option', [
    ('Adam', 'capturable'), ('RMSprop', 'capturable'), ('ASGD', 'capturable')])
def test_unsupported_options_are_refused_clearly(name, option):
    with pytest.raises(NotImplementedError, match=f'{option}=True'):
        getattr(nbgrad.optim, name)([nbgrad.ones(2, requires_grad=True)], **{option: True})


@pytest.mark.parametrize('options', [dict(foreach=True), dict(foreach=False), dict(fused=True),
                                     dict(fused=False)])
def test_foreach_and_fused_flags_give_the_same_step(options):
    results = []
    for lib in (torch, nbgrad):
        p = lib.tensor(np.linspace(-1, 1, 6), dtype=lib.float32, requires_grad=True)
        opt = lib.optim.AdamW([p], lr=0.1, **options)
        for k in range(3):
            p.grad = lib.full((6,), 0.3 * k - 0.4)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=3e-6, atol=3e-6)


def test_fused_refuses_integer_params():
    results = []
    for lib in (torch, nbgrad):
        p = lib.ones(2, dtype=lib.int64)
        p.grad = lib.ones(2, dtype=lib.int64)
        results.append(outcome(lambda: lib.optim.Adam([p], fused=True).step())[0])
    assert results[1] == results[0] == 'RuntimeError'


def test_params_without_grad_are_skipped():
    results = []
    for lib in (torch, nbgrad):
        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        opt = lib.optim.Adam([a, b], lr=0.1)
        a.grad = lib.ones(2)
        opt.step()
        results.append((a.tolist(), b.tolist(), b in opt.state, len(opt.state_dict()['state'])))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    assert results[1][1:] == results[0][1:]


@pytest.mark.parametrize('name', ['Rprop', 'Adagrad'])
def test_integer_parameter_is_refused_before_any_change(name):
    kinds = []
    for lib in (torch, nbgrad):
        p, q = lib.ones(2, requires_grad=True), lib.ones(2, dtype=lib.int64)
        p.grad, q.grad = lib.ones(2), lib.ones(2, dtype=lib.int64)
        opt = getattr(lib.optim, name)([p, q])
        kinds.append(outcome(opt.step)[0])
    assert kinds[1] == kinds[0] == 'RuntimeError'
    assert p.tolist() == [1.0, 1.0] and p._version == 0 and float(opt.state[p].get('step', 0)) == 0
