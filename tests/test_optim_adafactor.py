"""Adafactor against PyTorch: parameters and state after every step, for matrices (factored
second moments), higher-dimensional parameters, vectors and scalars, every option, float32 and
float64, a Tensor lr, gradients that skip steps, complex parameters refused, and 'cuda'."""
import numpy as np
import pytest

import nbgrad
from test_optim_steps import assert_close, assert_same_state

torch = pytest.importorskip('torch')

SHAPES = [(3, 4), (2, 3, 5), (6,), (), (1, 7)]
TOL = {'float32': 3e-6, 'float64': 1e-12}
CONFIGS = [dict(), dict(lr=0.05, weight_decay=0.1), dict(maximize=True, beta2_decay=-0.5),
           dict(eps=(1e-6, 1e-2), d=2.0), dict(lr=0.5, d=1.0)]


def _run(lib, options, dtype, device='cpu', steps=8, tensor_lr=False):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype),
                         device=device).requires_grad_() for s in SHAPES]
    if tensor_lr:
        options = dict(options, lr=lib.tensor(options.get('lr', 0.01)))
    opt = lib.optim.Adafactor(params, **options)
    history = []
    for k in range(steps):
        grads = np.random.default_rng(10 + k)
        for i, (p, s) in enumerate(zip(params, SHAPES)):
            g = grads.standard_normal(s)
            p.grad = None if (k == 3 and i == 1) else lib.tensor(g, dtype=p.dtype, device=device)
        opt.step()
        history.append(([p.detach().clone() for p in params],
                        [dict(opt.state[p]) for p in params]))
    return history


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('options', CONFIGS, ids=[str(c) for c in CONFIGS])
def test_steps_match_torch(options, dtype):
    for k, (got, expected) in enumerate(zip(_run(nbgrad, options, dtype),
                                            _run(torch, options, dtype))):
        for i, (p_nb, p_t) in enumerate(zip(got[0], expected[0])):
            assert_close(p_nb, p_t, f'step {k + 1}, param {i}', TOL[dtype])
        for i, (s_nb, s_t) in enumerate(zip(got[1], expected[1])):
            assert_same_state(s_nb, s_t, f'step {k + 1}, param {i} state', TOL[dtype])


def test_tensor_lr_and_device(device):
    got = _run(nbgrad, dict(lr=0.05), 'float32', device, tensor_lr=True)
    expected = _run(torch, dict(lr=0.05), 'float32', tensor_lr=True)
    for p_nb, p_t in zip(got[-1][0], expected[-1][0]):
        assert p_nb.device.type == device
        assert_close(p_nb, p_t, 'last step', TOL['float32'] * 10)
    state = got[-1][1][0]
    assert state['step'].device.type == 'cpu' and state['row_var'].device.type == device


def test_complex_parameters_are_refused():
    for lib in (torch, nbgrad):
        p = lib.zeros(2, dtype=lib.complex64, requires_grad=True) if lib is torch else \
            nbgrad.zeros(2, dtype=nbgrad.complex64)
        p.grad = lib.ones(2, dtype=lib.complex64)
        opt = lib.optim.Adafactor([p])
        with pytest.raises(RuntimeError, match='Adafactor does not support complex parameters'):
            opt.step()
