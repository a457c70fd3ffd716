"""LBFGS against PyTorch on the Rosenbrock function (and a quadratic over several parameters):
without a line search and with 'strong_wolfe', float64 and float32, the iterate, the loss the
step returns and the counters after each step; its errors."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def run(lib, dtype, steps, **options):
    x = lib.tensor([-1.5, 2.0], dtype=getattr(lib, dtype), requires_grad=True)
    opt = lib.optim.LBFGS([x], **options)
    calls = []

    def closure():
        calls.append(lib.is_grad_enabled())
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss
    history = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[x]
        history.append((loss.item(), x.detach().numpy().copy(), state['func_evals'],
                        state['n_iter'], len(state['old_dirs'])))
    return history, calls


@pytest.mark.parametrize('line_search_fn', [None, 'strong_wolfe'])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_rosenbrock_matches_torch(line_search_fn, dtype):
    """The two libraries' gradients differ in the last bit now and then, and Rosenbrock's valley
    amplifies that about 30-fold per step (ten iterations): float64 runs agree to 1e-8 over six
    steps, float32 runs on the first step; both end at the minimum with the line search."""
    options = dict(lr=1 if line_search_fn else 0.1, max_iter=10, history_size=5,
                   line_search_fn=line_search_fn)
    steps = 6
    (expected, calls_t), (got, calls_nb) = (run(lib, dtype, steps, **options)
                                            for lib in (torch, nbgrad))
    assert all(calls_nb)                       # every closure call had grad enabled
    compared, tol = (steps, 1e-8) if dtype == 'float64' else (1, 1e-5)
    assert calls_nb[:10 * compared] == calls_t[:10 * compared]
    for k in range(compared):
        (loss_t, x_t, *counters_t), (loss_nb, x_nb, *counters_nb) = expected[k], got[k]
        assert counters_nb == counters_t, f'step {k + 1}: (func_evals, n_iter, history)'
        np.testing.assert_allclose(x_nb, x_t, rtol=tol, atol=tol, err_msg=f'step {k + 1}')
        assert loss_nb == pytest.approx(loss_t, rel=tol, abs=tol)
    if line_search_fn:
        np.testing.assert_allclose(got[-1][1], [1.0, 1.0], atol=1e-2)   # at the minimum
        np.testing.assert_allclose(expected[-1][1], [1.0, 1.0], atol=1e-2)


def test_converged_step_returns_at_once():
    """A gradient below tolerance_grad: one closure call, nothing moves (as in PyTorch)."""
    results = []
    for lib in (torch, nbgrad):
        x = lib.tensor([1.0, 1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([x])
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss
        opt.step(closure)
        results.append((len(calls), x.tolist(), sorted(opt.state[x])))
    assert results[1] == results[0]


def test_several_parameters_and_a_missing_grad():
    """Parameters are flattened into one vector; a parameter without grad counts as zeros."""
    rng = np.random.default_rng(0)
    a0, b0, c0 = rng.standard_normal((3, 2)), rng.standard_normal(4), rng.standard_normal(2)
    target = rng.standard_normal((3, 2))
    results = []
    for lib in (torch, nbgrad):
        a, b, c = (lib.tensor(v, requires_grad=True) for v in (a0, b0, c0))
        t = lib.tensor(target)
        opt = lib.optim.LBFGS([a, b, c], max_iter=8, line_search_fn='strong_wolfe')

        def closure():
            opt.zero_grad()
            loss = ((a - t) ** 2).sum() + (b ** 4).sum()
            loss.backward()
            return loss
        opt.step(closure)
        results.append([v.detach().numpy().copy() for v in (a, b, c)])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_errors():
    for lib in (torch, nbgrad):
        x = lib.ones(2, requires_grad=True)
        opt = lib.optim.LBFGS([x], line_search_fn='backtracking')

        def closure():
            opt.zero_grad()
            loss = ((x - 3) ** 2).sum()
            loss.backward()
            return loss
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            lib.optim.LBFGS([{'params': [x]}, {'params': [lib.ones(1, requires_grad=True)]}])
