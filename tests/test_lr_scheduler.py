"""nbgrad.optim.lr_scheduler against PyTorch's: the same optimizer and schedule run with both
libraries give the same learning rates (and cycled momentums) at every step, bit for bit, the
same state_dicts, the same warnings, and the same kinds of error for invalid arguments."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import exc_kind

torch = pytest.importorskip('torch')

STEPS = 60
LRS = (0.1, 0.02)  # two param groups with different learning rates
# the param-group entries that schedulers read or write
SCHEDULED_KEYS = ('lr', 'initial_lr', 'momentum', 'betas', 'max_lr', 'min_lr', 'max_momentum',
                  'base_momentum')


def make_optimizer(lib, kind='sgd', lrs=LRS):
    params = [lib.ones(3, requires_grad=True), lib.ones(2, requires_grad=True)]
    groups = [{'params': [p], 'lr': lr} for p, lr in zip(params, lrs)]
    if kind == 'adam':
        return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.999))
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def group_view(opt):
    return [{k: g[k] for k in SCHEDULED_KEYS if k in g} for g in opt.param_groups]


def recorded(fn, lib):
    """fn(lib)'s result and the warnings it gave, as (category name, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fn(lib)
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def assert_same_run(fn):
    """fn(torch) and fn(nbgrad) return equal values (floats exactly) and warn alike."""
    expected, expected_warnings = recorded(fn, torch)
    got, got_warnings = recorded(fn, nbgrad)
    if isinstance(expected, list):  # a trajectory: name the first step that differs
        assert len(got) == len(expected)
        for i, (g, e) in enumerate(zip(got, expected)):
            assert g == e, f'step {i}:\n nbgrad {g}\n torch  {e}'
    assert got == expected
    assert got_warnings == expected_warnings


class Scale:
    """A callable object: schedulers save its __dict__ in their state_dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


# id -> (optimizer kind, build(lr_scheduler module, optimizer) -> scheduler)
CASES = {
    'LambdaLR': ('sgd', lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    'LambdaLR-per-group': ('sgd', lambda m, o: m.LambdaLR(o, [lambda e: e // 10 + 1, Scale(0.9)])),
    'MultiplicativeLR': ('sgd', lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95)),
    'MultiplicativeLR-per-group': ('sgd', lambda m, o: m.MultiplicativeLR(
        o, (lambda e: 1.01, lambda e: 0.9 if e % 3 else 1.2))),
    'StepLR': ('sgd', lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    'StepLR-default-gamma': ('sgd', lambda m, o: m.StepLR(o, 3)),
    'MultiStepLR': ('sgd', lambda m, o: m.MultiStepLR(o, [5, 20, 20, 40], gamma=0.3)),
    'ConstantLR': ('sgd', lambda m, o: m.ConstantLR(o)),
    'ConstantLR-half': ('sgd', lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=10)),
    'LinearLR': ('sgd', lambda m, o: m.LinearLR(o)),
    'LinearLR-long': ('sgd', lambda m, o: m.LinearLR(o, 0.1, 0.9, total_iters=30)),
    'LinearLR-decay': ('sgd', lambda m, o: m.LinearLR(o, 1.0, 0.0, total_iters=50)),
    'ExponentialLR': ('sgd', lambda m, o: m.ExponentialLR(o, 0.93)),
    'PolynomialLR': ('sgd', lambda m, o: m.PolynomialLR(o)),
    'PolynomialLR-power': ('sgd', lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.5)),
    'CosineAnnealingLR': ('sgd', lambda m, o: m.CosineAnnealingLR(o, T_max=10)),
    'CosineAnnealingLR-eta_min': ('sgd', lambda m, o: m.CosineAnnealingLR(o, 25, eta_min=1e-3)),
    'CosineAnnealingWarmRestarts': ('sgd', lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7)),
    'CosineAnnealingWarmRestarts-T_mult': ('sgd', lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=1e-4)),
    'CyclicLR-triangular': ('sgd', lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=5)),
    'CyclicLR-triangular2': ('sgd', lambda m, o: m.CyclicLR(
        o, [0.01, 0.001], 0.1, step_size_up=4, step_size_down=6, mode='triangular2',
        base_momentum=[0.7, 0.75], max_momentum=0.95)),
    'CyclicLR-exp_range': ('sgd', lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, mode='exp_range', gamma=0.97)),
    'CyclicLR-scale_fn-iterations': ('sgd', lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, scale_fn=Scale(0.98), scale_mode='iterations')),
    'CyclicLR-scale_fn-cycle': ('sgd', lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, scale_fn=lambda c: 1 / c)),
    'CyclicLR-no-momentum': ('sgd', lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=6, cycle_momentum=False)),
    'CyclicLR-adam': ('adam', lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=5)),
    'OneCycleLR': ('sgd', lambda m, o: m.OneCycleLR(o, [1.0, 0.5], total_steps=STEPS)),
    'OneCycleLR-linear': ('sgd', lambda m, o: m.OneCycleLR(
        o, 1.0, epochs=6, steps_per_epoch=11, anneal_strategy='linear', pct_start=0.25,
        div_factor=10.0, final_div_factor=100.0)),
    'OneCycleLR-three_phase': ('sgd', lambda m, o: m.OneCycleLR(
        o, 0.3, total_steps=STEPS + 3, three_phase=True, base_momentum=[0.8, 0.85])),
    'OneCycleLR-adam': ('adam', lambda m, o: m.OneCycleLR(o, 0.01, total_steps=STEPS)),
    'OneCycleLR-no-momentum': ('adam', lambda m, o: m.OneCycleLR(
        o, 0.01, total_steps=STEPS, cycle_momentum=False)),
    'SequentialLR-warmup-cosine': ('sgd', lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=50)], [5])),
    'SequentialLR-three': ('sgd', lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, total_iters=4), m.ExponentialLR(o, 0.9), m.StepLR(o, 5)],
        milestones=[10, 30])),
    'ChainedScheduler': ('sgd', lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.5, total_iters=4), m.ExponentialLR(o, 0.9)])),
    'ChainedScheduler-optimizer': ('sgd', lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, 0.2, total_iters=8), m.MultiStepLR(o, [15, 30])], optimizer=o)),
    'SequentialLR-of-chained': ('sgd', lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.StepLR(o, 4, 0.5), m.LinearLR(o, 0.5, total_iters=6)]),
            m.ExponentialLR(o, 0.95)], milestones=[12])),
}


def build(lib, case):
    kind, make = CASES[case]
    opt = make_optimizer(lib, kind)
    return opt, make(lib.optim.lr_scheduler, opt)


def snapshot(sched, opt):
    return list(sched.get_last_lr()), group_view(opt)


def run_schedule(lib, case, steps=STEPS, resume_at=None):
    """The lrs and scheduled group entries after construction and after each step; resume_at:
    at that step, save both state_dicts and continue with a fresh optimizer and scheduler that
    loaded them (PyTorch's recipe: build both, then load the optimizer's, then the scheduler's)."""
    opt, sched = build(lib, case)
    record = [snapshot(sched, opt)]
    for i in range(1, steps + 1):
        opt.step()
        sched.step()
        if i == resume_at:
            opt_state, sched_state = opt.state_dict(), sched.state_dict()
            opt, sched = build(lib, case)
            opt.load_state_dict(opt_state)
            sched.load_state_dict(sched_state)
        record.append(snapshot(sched, opt))
    return record


@pytest.mark.parametrize('case', CASES)
def test_schedule_matches_torch(case):
    assert_same_run(lambda lib: run_schedule(lib, case))


@pytest.mark.parametrize('case', CASES)
def test_resume_from_state_dict_continues_identically(case):
    expected, _ = recorded(lambda lib: run_schedule(lib, case), torch)
    got, _ = recorded(lambda lib: run_schedule(lib, case, resume_at=23), nbgrad)
    assert got == expected


@pytest.mark.parametrize('case', ['StepLR', 'CyclicLR-triangular2', 'OneCycleLR-adam',
                                  'CosineAnnealingWarmRestarts-T_mult'])
def test_optimizer_steps_with_the_scheduled_values(case):
    """The optimizer reads the lr (and momentum or betas) the scheduler wrote."""
    def run(lib):
        opt, sched = build(lib, case)
        params = [p for group in opt.param_groups for p in group['params']]
        for i in range(25):
            for p in params:
                p.grad = lib.full_like(p, 0.5 + 0.1 * (i % 3))
            opt.step()
            sched.step()
        return [p.detach().numpy().copy() for p in params]
    for got, expected in zip(run(nbgrad), run(torch)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def plain(value):
    """A state_dict with what is not plain data (functions, partials) replaced by its type's
    name; a Counter as a dict."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return type(value).__name__


@pytest.mark.parametrize('case', CASES)
def test_state_dict_equals_torch(case):
    def state(lib):
        opt, sched = build(lib, case)
        for _ in range(17):
            opt.step()
            sched.step()
        return plain(sched.state_dict())
    assert_same_run(state)


def test_state_dict_excludes_optimizer_and_keeps_callable_objects():
    def case(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Scale(0.9)])
        state = sched.state_dict()
        fresh = lib.optim.lr_scheduler.LambdaLR(make_optimizer(lib), [lambda e: 1.0, Scale(0.5)])
        fresh.load_state_dict(state)
        return sorted(state), state['lr_lambdas'], fresh.lr_lambdas[1].base
    assert_same_run(case)


# ---------------------------------------------------------------------------------------------
# step(epoch) (deprecated: warns, and uses the closed form) and fractional epochs
# ---------------------------------------------------------------------------------------------

CLOSED_FORM_CASES = ['LambdaLR', 'StepLR', 'MultiStepLR', 'ConstantLR-half', 'LinearLR-long',
                     'ExponentialLR', 'PolynomialLR-power', 'CosineAnnealingLR-eta_min',
                     'MultiplicativeLR']


@pytest.mark.parametrize('case', CLOSED_FORM_CASES)
def test_step_with_epoch_warns_and_uses_closed_form(case):
    def run(lib):
        opt, sched = build(lib, case)
        record = []
        for epoch in (3, 7, 7, 12, 2, 20, 45, 0):
            opt.step()
            sched.step(epoch)
            record.append((sched.last_epoch, snapshot(sched, opt)))
        sched.step()  # back to the recursive form, from the lr the closed form left
        record.append((sched.last_epoch, snapshot(sched, opt)))
        return record
    assert_same_run(run)


@pytest.mark.parametrize('T_0,T_mult', [(5, 1), (3, 2), (2, 3)])
def test_warm_restarts_fractional_epochs(T_0, T_mult):
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0, T_mult, 0.001)
        record = []
        for epoch in range(25):
            for batch in range(4):
                opt.step()
                sched.step(epoch + batch / 4)
                record.append((sched.last_epoch, sched.T_cur, sched.T_i, sched.get_last_lr()))
        sched.step()
        record.append((sched.last_epoch, sched.T_cur, sched.T_i, sched.get_last_lr()))
        return record
    assert_same_run(run)


# ---------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------------------------

# decreasing with plateaus and ties, then rising
METRICS = [round(1.0 / (1 + i // 7) + 0.01 * ((i * 37) % 5), 4) for i in range(45)]
METRICS += [METRICS[-1] + 0.05 * i for i in range(15)]

PLATEAU_CASES = {
    'default': {},
    'patience-factor': dict(patience=2, factor=0.5),
    'abs-threshold': dict(patience=1, threshold=0.05, threshold_mode='abs'),
    'max-rel': dict(mode='max', patience=2, threshold=0.01),
    'max-abs': dict(mode='max', patience=0, threshold=0.02, threshold_mode='abs'),
    'cooldown': dict(patience=1, cooldown=3, factor=0.7),
    'min_lr-per-group': dict(patience=0, factor=0.3, min_lr=[0.01, 1e-3]),
    'min_lr-scalar': dict(patience=0, factor=0.3, min_lr=5e-3),
    'eps': dict(patience=0, factor=0.9, eps=1e-3),
}


@pytest.mark.parametrize('case', PLATEAU_CASES)
def test_reduce_on_plateau_matches_torch(case):
    kwargs = PLATEAU_CASES[case]
    metrics = [-m for m in METRICS] if kwargs.get('mode') == 'max' else METRICS

    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        record = [(sched.get_last_lr(), sched.best)]
        for metric in metrics:
            opt.step()
            sched.step(metric)
            record.append((sched.get_last_lr(), group_view(opt), sched.best,
                           sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch,
                           sched.in_cooldown))
        return record, plain(sched.state_dict())
    assert_same_run(run)


def test_reduce_on_plateau_tensor_metric_epoch_and_state_dict():
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, mode='max')
        for i, metric in enumerate(METRICS[:20]):
            sched.step(lib.tensor(metric, dtype=lib.float64), epoch=i if i % 5 == 0 else None)
        state = sched.state_dict()
        fresh = lib.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(lib))
        fresh.load_state_dict(state)
        return (sched.get_last_lr(), sched.last_epoch, plain(state), fresh.mode, fresh.mode_worse,
                fresh._is_better(0.5, 0.4))
    assert_same_run(run)


def test_reduce_on_plateau_after_add_param_group():
    def run(lib, min_lr):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
        opt.add_param_group({'params': [lib.ones(1, requires_grad=True)], 'lr': 0.5})
        sched.step(1.0)
        sched.step(2.0)  # a bad epoch: reduces every group's lr
        return [g['lr'] for g in opt.param_groups], sched.min_lrs

    assert_same_run(lambda lib: run(lib, 1e-3))
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='min_lrs'):
            run(lib, [1e-3, 1e-4])


# ---------------------------------------------------------------------------------------------
# Tensor learning rates, warnings, the base class
# ---------------------------------------------------------------------------------------------

TENSOR_LR_CASES = ['StepLR', 'ExponentialLR', 'CosineAnnealingLR', 'LinearLR', 'LambdaLR']


@pytest.mark.parametrize('case', TENSOR_LR_CASES)
def test_tensor_lr_is_updated_in_place(case):
    def run(lib):
        lr = lib.tensor(0.1, dtype=lib.float64)
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=lr)
        sched = CASES[case][1](lib.optim.lr_scheduler, opt)
        record = []
        for _ in range(20):
            opt.step()
            sched.step()
            last = sched.get_last_lr()[0]
            assert opt.param_groups[0]['lr'] is lr and last is not lr
            assert isinstance(last, lib.Tensor) and isinstance(sched.base_lrs[0], lib.Tensor)
            record.append(last.item())
        return record
    assert_same_run(run)


def test_warns_when_scheduler_steps_before_optimizer():
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        sched.step()  # warns: the optimizer has not stepped yet
        opt.step()
        sched.step()
        return sched.get_last_lr(), hasattr(opt.step, '_wrapped_by_lr_sched')
    assert_same_run(run)
    assert recorded(run, nbgrad)[1][0][1].startswith('Detected call of `lr_scheduler.step()`')


def test_no_warning_in_the_right_order_and_one_wrapper_for_two_schedulers():
    def run(lib):
        opt = make_optimizer(lib)
        first = lib.optim.lr_scheduler.StepLR(opt, 2)
        step_after_first = opt.step
        second = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        for _ in range(3):
            opt.step()
            first.step()
            second.step()
        return first.get_last_lr(), second.get_last_lr(), opt.step is step_after_first
    assert_same_run(run)
    assert recorded(run, nbgrad)[1] == []


def test_warns_when_optimizer_step_replaced_after_scheduler():
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step = lambda: None
        opt.step()
        sched.step()
        return sched.get_last_lr()
    assert_same_run(run)
    assert 'overridden' in recorded(run, nbgrad)[1][0][1]


def test_get_lr_outside_step_warns():
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        opt.step()
        sched.step()
        return sched.get_lr(), sched.get_last_lr()
    assert_same_run(run)
    assert 'get_last_lr()' in recorded(run, nbgrad)[1][0][1]


def test_base_class_and_resuming_with_last_epoch():
    def run(lib):
        m = lib.optim.lr_scheduler
        opt = make_optimizer(lib)
        first = m.StepLR(opt, 3)
        for _ in range(5):
            opt.step()
            first.step()
        # a new scheduler resumes from the groups' initial_lr
        resumed = m.CosineAnnealingLR(opt, T_max=10, last_epoch=first.last_epoch)
        lrs = [resumed.get_last_lr()]
        for _ in range(4):
            opt.step()
            resumed.step()
            lrs.append(resumed.get_last_lr())
        return (lrs, resumed.base_lrs, issubclass(m.StepLR, m.LRScheduler),
                issubclass(m.ReduceLROnPlateau, m.LRScheduler), sorted(m.__all__))
    assert_same_run(run)
    with pytest.raises(NotImplementedError):
        nbgrad.optim.lr_scheduler.LRScheduler(make_optimizer(nbgrad))


def test_one_cycle_stepping_past_total_steps_raises():
    for lib in (torch, nbgrad):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=4)
        for _ in range(4):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match='Tried to step 5 times'):
            sched.step()


# ---------------------------------------------------------------------------------------------
# Invalid arguments: PyTorch's kinds of exception
# ---------------------------------------------------------------------------------------------

INVALID = {
    'not-an-optimizer': lambda m, o, lib: m.StepLR([1, 2], 3),
    'resume-without-initial_lr': lambda m, o, lib: m.StepLR(o, 3, last_epoch=4),
    'lambdas-length': lambda m, o, lib: m.LambdaLR(o, [lambda e: 1.0]),
    'multiplicative-not-callable': lambda m, o, lib: m.MultiplicativeLR(o, 0.9),
    'constant-factor': lambda m, o, lib: m.ConstantLR(o, factor=1.5),
    'constant-negative-factor': lambda m, o, lib: m.ConstantLR(o, factor=-0.1),
    'linear-start-zero': lambda m, o, lib: m.LinearLR(o, start_factor=0),
    'linear-end': lambda m, o, lib: m.LinearLR(o, end_factor=2.0),
    'plateau-factor': lambda m, o, lib: m.ReduceLROnPlateau(o, factor=1.0),
    'plateau-mode': lambda m, o, lib: m.ReduceLROnPlateau(o, mode='avg'),
    'plateau-threshold-mode': lambda m, o, lib: m.ReduceLROnPlateau(o, threshold_mode='x'),
    'plateau-min_lr-length': lambda m, o, lib: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    'plateau-not-an-optimizer': lambda m, o, lib: m.ReduceLROnPlateau(None),
    'cyclic-mode': lambda m, o, lib: m.CyclicLR(o, 0.01, 0.1, mode='sawtooth'),
    'cyclic-base_lr-length': lambda m, o, lib: m.CyclicLR(o, [0.01], 0.1),
    'cyclic-no-momentum': lambda m, o, lib: m.CyclicLR(
        lib.optim.Optimizer([lib.ones(1, requires_grad=True)], {'lr': 0.1}), 0.01, 0.1),
    'cyclic-not-an-optimizer': lambda m, o, lib: m.CyclicLR('sgd', 0.01, 0.1),
    'onecycle-no-length': lambda m, o, lib: m.OneCycleLR(o, 0.1),
    'onecycle-epochs-only': lambda m, o, lib: m.OneCycleLR(o, 0.1, epochs=3),
    'onecycle-total_steps-zero': lambda m, o, lib: m.OneCycleLR(o, 0.1, total_steps=0),
    'onecycle-total_steps-float': lambda m, o, lib: m.OneCycleLR(o, 0.1, total_steps=10.0),
    'onecycle-epochs': lambda m, o, lib: m.OneCycleLR(o, 0.1, epochs=-1, steps_per_epoch=3),
    'onecycle-steps_per_epoch': lambda m, o, lib: m.OneCycleLR(o, 0.1, epochs=2,
                                                               steps_per_epoch=0),
    'onecycle-pct_start': lambda m, o, lib: m.OneCycleLR(o, 0.1, 10, pct_start=1.5),
    'onecycle-pct_start-int': lambda m, o, lib: m.OneCycleLR(o, 0.1, 10, pct_start=1),
    'onecycle-anneal': lambda m, o, lib: m.OneCycleLR(o, 0.1, 10, anneal_strategy='exp'),
    'onecycle-max_lr-length': lambda m, o, lib: m.OneCycleLR(o, [0.1, 0.2, 0.3], 10),
    'onecycle-momentum-length': lambda m, o, lib: m.OneCycleLR(o, 0.1, 10, max_momentum=[0.9]),
    'restarts-T_0': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 0),
    'restarts-T_0-float': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 2.5),
    'restarts-T_mult': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 3, T_mult=0),
    'restarts-T_mult-float': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 3, T_mult=1.5),
    'restarts-eta_min': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 3, eta_min='0'),
    'restarts-negative-epoch': lambda m, o, lib: m.CosineAnnealingWarmRestarts(o, 3).step(-1),
    'sequential-empty': lambda m, o, lib: m.SequentialLR(o, [], []),
    'sequential-milestones': lambda m, o, lib: m.SequentialLR(
        o, [m.StepLR(o, 2), m.ExponentialLR(o, 0.9)], [3, 5]),
    'sequential-no-optimizer': lambda m, o, lib: m.SequentialLR(o, [object()], []),
    'sequential-plateau': lambda m, o, lib: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []),
    'sequential-other-optimizer': lambda m, o, lib: m.SequentialLR(
        o, [m.StepLR(o, 2), m.StepLR(make_optimizer(lib), 2)], [3]),
    'chained-empty': lambda m, o, lib: m.ChainedScheduler([]),
    'chained-plateau': lambda m, o, lib: m.ChainedScheduler([m.StepLR(o, 2),
                                                             m.ReduceLROnPlateau(o)]),
    'chained-other-optimizer': lambda m, o, lib: m.ChainedScheduler(
        [m.StepLR(o, 2)], optimizer=make_optimizer(lib)),
}


@pytest.mark.parametrize('case', INVALID)
def test_invalid_arguments_raise_torchs_exception_kind(case):
    errors = {}
    for lib in (torch, nbgrad):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with pytest.raises(Exception) as info:
                INVALID[case](lib.optim.lr_scheduler, make_optimizer(lib), lib)
        errors[lib.__name__] = info.value
    assert exc_kind(errors['nbgrad']) is exc_kind(errors['torch']), errors
    assert str(errors['nbgrad']) == str(errors['torch']) or 'optimizer' in case, errors

