"""optim.swa_utils against PyTorch: AveragedModel (SWA by default, EMA and custom averages, with
and without buffers, integer buffers), update_bn, SWALR's learning rates and state, the errors,
and the 'cuda' device. Both libraries run the same training from the same weights."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, assert_same_value, to_np

torch = pytest.importorskip('torch')


def _model(lib, dtype):
    """Linear -> BatchNorm1d -> ReLU -> Linear, with fixed weights."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model = model.to(getattr(lib, dtype))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-1, 1, tuple(p.shape)), dtype=p.dtype))
    return model


def _batches(lib, dtype, n=6, device='cpu'):
    rng = np.random.default_rng(1)
    return [(lib.tensor(rng.standard_normal((5, 3)), dtype=getattr(lib, dtype), device=device),
             lib.tensor(rng.standard_normal((5, 2)), dtype=getattr(lib, dtype), device=device))
            for _ in range(n)]


def _averaging(name, lib):
    su = lib.optim.swa_utils
    return {'swa': {},
            'ema_multi': dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
            'ema': dict(avg_fn=su.get_ema_avg_fn(0.8)),
            'swa_fn': dict(avg_fn=su.get_swa_avg_fn()),
            'custom': dict(avg_fn=lambda avg, cur, n: 0.5 * avg + 0.5 * cur)}[name]


def _train_and_average(lib, name, use_buffers, dtype='float32', device='cpu'):
    model = _model(lib, dtype).to(device)
    averaged = lib.optim.swa_utils.AveragedModel(model, device=device, use_buffers=use_buffers,
                                                 **_averaging(name, lib))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen = []
    for x, y in _batches(lib, dtype, device=device):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        averaged.update_parameters(model)
        seen.append(int(averaged.n_averaged))
    x = _batches(lib, dtype, 1, device)[0][0]
    averaged.eval()
    state = {k: v.cpu() for k, v in averaged.state_dict().items()}
    return {'n': seen, 'state': state, 'keys': list(state), 'out': averaged(x).detach().cpu(),
            'repr': repr(averaged), 'n dtype': str(averaged.n_averaged.dtype).split('.')[-1]}


@pytest.mark.parametrize('use_buffers', [False, True])
@pytest.mark.parametrize('name', ['swa', 'ema_multi', 'ema', 'swa_fn', 'custom'])
def test_averaged_model_matches_torch(name, use_buffers):
    got = _train_and_average(nbgrad, name, use_buffers)
    expected = _train_and_average(torch, name, use_buffers)
    assert got.pop('repr') == expected.pop('repr')
    assert_same_value(to_np(got), to_np(expected), rtol=1e-5, atol=1e-6)


def test_averaged_model_float64_and_device(device):
    got = _train_and_average(nbgrad, 'swa', True, 'float64', device)
    expected = _train_and_average(torch, 'swa', True, 'float64')
    got.pop('repr'), expected.pop('repr')
    # six training steps amplify the last-bit differences of float64 reductions; on CUDA the
    # running mean is a lerp with weights rounded to float32, as PyTorch's is there
    tol = dict(rtol=1e-8, atol=1e-10) if device == 'cpu' else dict(rtol=1e-6, atol=1e-8)
    assert_same_value(to_np(got), to_np(expected), **tol)


def test_integer_buffers_move_by_floor_division():
    """With use_buffers, num_batches_tracked (int64) is averaged too; counts that go down (a
    negative difference) round down as PyTorch's integer addcdiv does."""
    def run(lib):
        model = _model(lib, 'float32')
        averaged = lib.optim.swa_utils.AveragedModel(model, use_buffers=True)
        counts = []
        for tracked in (5, 10, 2, 9, 3):
            model[1].num_batches_tracked.fill_(tracked)
            averaged.update_parameters(model)
            counts.append(int(averaged.module[1].num_batches_tracked))
        return counts
    assert run(nbgrad) == run(torch)


def test_update_bn_matches_torch():
    def run(lib):
        model = _model(lib, 'float32')
        model.eval()
        batches = _batches(lib, 'float32')
        loaders = [[x for x, _ in batches], batches]   # tensors, and (input, target) pairs
        results = []
        for loader in loaders:
            lib.optim.swa_utils.update_bn(loader, model)
            bn = model[1]
            results.append([bn.running_mean.clone(), bn.running_var.clone(),
                            int(bn.num_batches_tracked), bn.momentum, model.training])
        lib.optim.swa_utils.update_bn([], lib.nn.Linear(2, 2))   # no BatchNorm: nothing to do
        return results
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), rtol=1e-5, atol=1e-6)


def _swalr_lrs(lib, steps=14, **kwargs):
    params = [lib.zeros(1, requires_grad=True)]
    opt = lib.optim.SGD([{'params': params}, {'params': [lib.zeros(1, requires_grad=True)],
                                               'lr': 0.5}], lr=1.0)
    other = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    swa = lib.optim.swa_utils.SWALR(opt, **kwargs)
    lrs = []
    for k in range(steps):
        opt.step()
        (other if k < 4 else swa).step()   # another schedule first, then SWA's
        lrs.append(swa.get_last_lr() if k >= 4 else [g['lr'] for g in opt.param_groups])
    state = swa.state_dict()
    return lrs, sorted(state), state['anneal_epochs'], state['_anneal_strategy']


@pytest.mark.parametrize('kwargs', [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.2], anneal_epochs=3,
                                                            anneal_strategy='linear'),
                                    dict(swa_lr=0.1, anneal_epochs=0)])
def test_swalr_matches_torch(kwargs):
    assert_same_value(_swalr_lrs(nbgrad, **kwargs), _swalr_lrs(torch, **kwargs), rtol=1e-12,
                      atol=1e-15)


def test_swalr_state_round_trip():
    """A reloaded SWALR continues the same annealing (its function is rebuilt, not saved)."""
    def run(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=5,
                                        anneal_strategy='linear')
        for _ in range(2):
            opt.step()
            swa.step()
        state = swa.state_dict()
        opt2 = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=opt.param_groups[0]['lr'])
        opt2.param_groups[0].update(swa_lr=0.1, initial_lr=1.0)
        resumed = lib.optim.swa_utils.SWALR(opt2, swa_lr=0.1, anneal_epochs=5)  # cos, replaced
        resumed.load_state_dict(state)
        lrs = []
        for _ in range(4):
            opt2.step()
            resumed.step()
            lrs.append(opt2.param_groups[0]['lr'])
        return lrs, resumed.anneal_func(0.5)
    assert_same_value(run(nbgrad), run(torch), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('case', ['both_fns', 'decay_high', 'decay_low', 'strategy', 'epochs',
                                  'epochs_float', 'swa_lr_list'])
def test_errors(case):
    def run(lib):
        su = lib.optim.swa_utils
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        if case == 'both_fns':
            return su.AveragedModel(lib.nn.Linear(1, 1), avg_fn=su.get_swa_avg_fn(),
                                    multi_avg_fn=su.get_swa_multi_avg_fn())
        if case == 'decay_high':
            return su.get_ema_multi_avg_fn(1.5)
        if case == 'decay_low':
            return su.get_ema_avg_fn(-0.1)
        if case == 'strategy':
            return su.SWALR(opt, 0.1, anneal_strategy='step')
        if case == 'epochs':
            return su.SWALR(opt, 0.1, anneal_epochs=-1)
        if case == 'epochs_float':
            return su.SWALR(opt, 0.1, anneal_epochs=2.0)
        return su.SWALR(opt, [0.1, 0.2])
    assert_same_error(run)
