"""Muon against PyTorch: parameters and momentum buffers after every step for wide, tall and
square matrices and every option (PyTorch orthogonalises in bfloat16; nbgrad rounds each of those
operations to bfloat16, so agreement is to a bfloat16 step of the update), the bfloat16 rounding
itself, PyTorch's argument errors, a state_dict that resumes the same run, and 'cuda'."""
import io

import numpy as np
import pytest

import nbgrad
from nbgrad.optim.muon import round_to_bfloat16
from test_optim_steps import assert_close

torch = pytest.importorskip('torch')

SHAPES = [(12, 7), (7, 12), (16, 16), (40, 24)]
CONFIGS = [dict(), dict(lr=0.05, nesterov=False), dict(momentum=0.5, weight_decay=0.0),
           dict(adjust_lr_fn='match_rms_adamw', weight_decay=0.01),
           dict(ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3)]


def _run(lib, options, device='cpu', steps=6, dtype='float32'):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype),
                         device=device).requires_grad_() for s in SHAPES]
    opt = lib.optim.Muon(params, **dict(dict(lr=0.02), **options))
    history = []
    for k in range(steps):
        grads = np.random.default_rng(10 + k)
        for i, (p, s) in enumerate(zip(params, SHAPES)):
            g = grads.standard_normal(s)
            p.grad = None if (k == 2 and i == 1) else lib.tensor(g, dtype=p.dtype, device=device)
        opt.step()
        history.append(([p.detach().cpu().clone() for p in params],
                        [opt.state[p]['momentum_buffer'].cpu().clone() for p in params]))
    return history


def _assert_bfloat16_close(got, expected, lr, steps, what):
    """Where an element's float32 sums round to the other side of a bfloat16 tie, the update
    differs by one bfloat16 step (2^-8 of an entry below 1, times lr): allowed for a few
    elements, steps after steps. Measured: at most 1 element in 256 differs by more than 1e-6
    after six steps; without the bfloat16 rounding (plain float32) nearly all of them do."""
    got, expected = got.numpy(), expected.numpy()
    diff = np.abs(got - expected)
    off = diff > 1e-6 + 1e-6 * np.abs(expected)
    assert off.mean() <= 0.02, f'{what}: {off.sum()} of {off.size} elements differ'
    assert diff.max() <= steps * lr * 2.0 ** -8, f'{what}: differs by {diff.max()}'


@pytest.mark.parametrize('options', CONFIGS, ids=[str(c) for c in CONFIGS])
def test_steps_match_torch(options):
    lr = options.get('lr', 0.02) * (0.2 * np.sqrt(40) if options.get('adjust_lr_fn') else 2)
    for k, (got, expected) in enumerate(zip(_run(nbgrad, options), _run(torch, options))):
        for i, (p_nb, p_t) in enumerate(zip(got[0], expected[0])):
            _assert_bfloat16_close(p_nb, p_t, lr, k + 1, f'step {k + 1}, param {i}')
        for i, (b_nb, b_t) in enumerate(zip(got[1], expected[1])):
            assert_close(b_nb, b_t, f'step {k + 1}, buffer {i}', 1e-6)


def test_float64_parameters():
    got, expected = _run(nbgrad, {}, dtype='float64'), _run(torch, {}, dtype='float64')
    for p_nb, p_t in zip(got[-1][0], expected[-1][0]):
        assert p_nb.dtype == nbgrad.float64
        _assert_bfloat16_close(p_nb, p_t, 0.04, 6, 'float64')


def test_bfloat16_rounding_matches_torch():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.integers(-40, 38, 20000),
                        [np.inf, -np.inf, np.nan, 3.39e38, -3.39e38, 1e-45, 0.0, -0.0]])
    x = x.astype(np.float32)
    np.testing.assert_array_equal(round_to_bfloat16(x),
                                  torch.tensor(x).bfloat16().float().numpy())


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.Muon([p], lr=-1.0),
    lambda lib, p: lib.optim.Muon([p], momentum=-0.1),
    lambda lib, p: lib.optim.Muon([p], weight_decay=-0.1),
    lambda lib, p: lib.optim.Muon([p], adjust_lr_fn='cosine'),
    lambda lib, p: lib.optim.Muon([p, lib.zeros(3, requires_grad=True)]),
    lambda lib, p: lib.optim.Muon([p], lr=lib.tensor([0.1, 0.2])),
], ids=['lr', 'momentum', 'weight_decay', 'adjust_lr_fn', 'not 2-D', 'tensor lr'])
def test_argument_errors_match_torch(make):
    with pytest.raises(ValueError) as expected:
        make(torch, torch.zeros(2, 3, requires_grad=True))
    with pytest.raises(ValueError) as got:
        make(nbgrad, nbgrad.zeros(2, 3, requires_grad=True))
    assert str(got.value).replace('nbgrad', 'torch') == str(expected.value)


@pytest.mark.parametrize('options, message', [
    (dict(ns_steps=100), 'Number of steps must be less than 100'),
    (dict(ns_coefficients=(1.0, 2.0)), 'exactly 3 values')])
def test_step_errors_match_torch(options, message):
    for lib in (torch, nbgrad):
        p = lib.ones(3, 2, requires_grad=True)
        p.grad = lib.ones(3, 2)
        opt = lib.optim.Muon([p], **options)
        with pytest.raises(ValueError, match=message):
            opt.step()


def test_state_dict_resumes_the_same_run():
    """Three steps, save, a fresh optimizer loads the state, three more: the same as six."""
    straight = _run(nbgrad, {}, steps=6)
    rng = np.random.default_rng(0)
    params = [nbgrad.tensor(rng.standard_normal(s), dtype=nbgrad.float32).requires_grad_()
              for s in SHAPES]

    def steps(opt, ks):
        for k in ks:
            grads = np.random.default_rng(10 + k)
            for i, (p, s) in enumerate(zip(params, SHAPES)):
                g = grads.standard_normal(s)
                p.grad = None if (k == 2 and i == 1) else nbgrad.tensor(g, dtype=p.dtype)
            opt.step()
    first = nbgrad.optim.Muon(params, lr=0.02)
    steps(first, range(3))
    buffer = io.BytesIO()
    nbgrad.save(first.state_dict(), buffer)
    buffer.seek(0)
    second = nbgrad.optim.Muon(params, lr=0.02)
    second.load_state_dict(nbgrad.load(buffer))
    steps(second, range(3, 6))
    for p, expected in zip(params, straight[-1][0]):
        np.testing.assert_array_equal(p.detach().numpy(), expected.numpy())


def test_closure_and_device(device):
    got = _run(nbgrad, dict(lr=0.05), device, steps=3)
    expected = _run(torch, dict(lr=0.05), steps=3)
    for p_nb, p_t in zip(got[-1][0], expected[-1][0]):
        _assert_bfloat16_close(p_nb, p_t, 0.1, 3, device)
    p = nbgrad.ones(3, 2, device=device, requires_grad=True)
    opt = nbgrad.optim.Muon([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 6.0 and p.device.type == device
    assert opt.state[p]['momentum_buffer'].device.type == device
