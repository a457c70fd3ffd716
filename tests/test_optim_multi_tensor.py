"""The multi-tensor optimizer step on 'cuda' (nbgrad/optim/_multi_tensor.py): parameters of a
group are gathered into flat buffers, updated by one run of the optimizer's kernel and written
back. Every optimizer and option set against PyTorch on the CPU, with parameters that take every
route: mixed dtypes, a strided parameter and grad, an empty and a 0-dim parameter, a parameter
without grad, views of one tensor that overlap (PyTorch updates them one after the other), and
two devices. On the fake CuPy, the number of kernel launches of a step must not grow with the
number of parameters."""
import os

import numpy as np
import pytest

import nbgrad
from test_optim_steps import CONFIGS, IDS, TOL, assert_close, assert_same_state

torch = pytest.importorskip('torch')
cuda = pytest.mark.cuda
needs_cuda = pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')

# (shape, dtype, strided): the parameters of the mixed group
MIXED = [((3, 4), 'float32', False), ((5,), 'float32', False), ((), 'float32', False),
         ((7, 1, 2), 'float32', False), ((0, 3), 'float32', False), ((4, 3), 'float32', True),
         ((6,), 'float64', False), ((2, 2), 'float64', True), ((9,), 'float32', False)]
STEPS = 5


def _param(lib, value, dtype, strided, device):
    """A leaf parameter; a strided one is the transpose of a contiguous tensor."""
    if strided:
        return lib.tensor(value.T, dtype=getattr(lib, dtype), device=device).t().requires_grad_()
    return lib.tensor(value, dtype=getattr(lib, dtype), device=device).requires_grad_()


def _run(lib, name, options, device, steps=STEPS):
    rng = np.random.default_rng(3)
    params = [_param(lib, rng.standard_normal(shape), dtype, strided, device)
              for shape, dtype, strided in MIXED]
    opt = getattr(lib.optim, name)(params, **options)
    for k in range(steps):
        for i, (p, (shape, dtype, strided)) in enumerate(zip(params, MIXED)):
            g = rng.standard_normal(shape)
            if k == 2 and i == 1:
                p.grad = None                   # no grad this step: not updated
            elif strided:                       # a strided grad too
                p.grad = lib.tensor(g.T, dtype=p.dtype, device=device).t()
            else:
                p.grad = lib.tensor(g, dtype=p.dtype, device=device)
        opt.step()
    return params, opt


@cuda
@needs_cuda
@pytest.mark.parametrize('name, options', CONFIGS, ids=IDS)
def test_mixed_group_matches_torch(name, options):
    params_nb, opt_nb = _run(nbgrad, name, options, 'cuda')
    params_t, opt_t = _run(torch, name, options, 'cpu')
    for i, (p_nb, p_t) in enumerate(zip(params_nb, params_t)):
        tol = TOL[MIXED[i][1]] * 10      # GPU math rounds a little differently from the CPU's
        assert p_nb.device.type == 'cuda'
        assert p_nb.is_contiguous() == p_t.is_contiguous()
        assert_close(p_nb, p_t, f'{name} param {i}', tol)
        assert_same_state(opt_nb.state[p_nb], opt_t.state[p_t], f'{name} param {i}', tol)


@cuda
@needs_cuda
def test_overlapping_views_are_updated_one_after_the_other_like_torch():
    """Two parameters that are overlapping views of one tensor: PyTorch's step updates the first,
    then the second from the first's result; a flat buffer would update both from the old values.
    """
    results = []
    for lib, device in ((torch, 'cpu'), (nbgrad, 'cuda')):
        base = lib.linspace(-1, 1, 10, device=device)
        params = [base[:6].requires_grad_(), base[4:].requires_grad_(),
                  lib.ones(3, device=device).requires_grad_()]
        opt = lib.optim.Adam(params, lr=0.1)
        for k in range(3):
            for p in params:
                p.grad = lib.full(tuple(p.shape), 0.5 - k, device=device)
            opt.step()
        results.append(base)
    assert_close(results[1], results[0], 'overlapping views', TOL['float32'])


@cuda
@pytest.mark.skipif(nbgrad.cuda.device_count() < 2, reason='needs two CUDA devices')
def test_parameters_on_two_devices():
    """One group with parameters on cuda:0 and cuda:1: each device's bucket runs there."""
    results = []
    for lib, devices in ((torch, ('cpu', 'cpu')), (nbgrad, ('cuda:0', 'cuda:1'))):
        params = [lib.arange(float(n), device=devices[n % 2]).requires_grad_()
                  for n in range(2, 8)]
        opt = lib.optim.SGD(params, lr=0.1, momentum=0.9)
        for k in range(3):
            for p in params:
                p.grad = lib.ones_like(p) * (k + 1)
            opt.step()
        results.append(params)
    for p_nb, p_t in zip(*results[::-1]):
        assert_close(p_nb, p_t, 'two devices', TOL['float32'])
    assert [p.device.index for p in results[1]] == [0, 1] * 3


def _count_launches(monkeypatch):
    """Counts the fake CuPy's kernel launches (ufunc calls, copies, raw kernels) and uploads."""
    import cupy
    counts = []
    apply_ufunc, raw_call, copyto, asarray = (cupy._apply_ufunc, cupy.RawKernel.__call__,
                                              cupy.copyto, cupy.asarray)

    def counting(function):
        def wrapper(*args, **kwargs):
            counts.append(function)
            return function(*args, **kwargs)
        return wrapper
    monkeypatch.setattr(cupy, '_apply_ufunc', counting(apply_ufunc))
    monkeypatch.setattr(cupy.RawKernel, '__call__', counting(raw_call))
    monkeypatch.setattr(cupy, 'copyto', counting(copyto))
    monkeypatch.setattr(cupy, 'asarray', counting(asarray))
    return counts


def _launches_per_step(monkeypatch, name, options, n_params):
    params = [nbgrad.randn(3, 5, device='cuda', requires_grad=True) for _ in range(n_params)]
    opt = getattr(nbgrad.optim, name)(params, **options)
    for p in params:
        p.grad = nbgrad.randn(3, 5, device='cuda')
    opt.step()                              # the first step makes the state
    with monkeypatch.context() as patch:
        counts = _count_launches(patch)
        opt.step()
    return len(counts)


@cuda
@pytest.mark.skipif(not os.environ.get('NBGRAD_FAKE_CUDA'),
                    reason="counts the fake CuPy's kernel launches")
@pytest.mark.parametrize('name, options', CONFIGS, ids=IDS)
def test_launches_do_not_grow_with_the_number_of_parameters(monkeypatch, name, options):
    # fused=True and ASGD keep scalar state on the device ('step', 'eta', 'mu'), as PyTorch's
    # do: its writes are one launch (and one upload) for the whole step
    one = _launches_per_step(monkeypatch, name, options, 1)
    few = _launches_per_step(monkeypatch, name, options, 2)
    many = _launches_per_step(monkeypatch, name, options, 40)
    assert many == few, (few, many)
    assert one <= few <= 30, (one, few)
    if getattr(nbgrad.optim, name).fused_cuda is not None and not options.get('fused'):
        assert one == few == many <= 2, (one, few, many)   # one upload, one fused launch


@cuda
@needs_cuda
def test_a_fused_kernel_that_does_not_compile_falls_back_with_a_warning(monkeypatch):
    """A CUDA compiler that refuses a fused kernel (at its first launch, as CuPy compiles) must
    not stop training: one warning, then the generic path with the same numbers."""
    from nbgrad.optim import _fused_cuda
    broken = _fused_cuda.FusedKernel('nbgrad_broken_adam', _fused_cuda.ADAM.scalars,
                                     'this is not C++', _fused_cuda.ADAM.arguments)
    monkeypatch.setattr(nbgrad.optim.Adam, 'fused_cuda', broken)
    with pytest.warns(RuntimeWarning, match='did not compile') as caught:
        params_nb, opt_nb = _run(nbgrad, 'Adam', dict(lr=0.05), 'cuda')
    assert len(caught) == 1
    params_t, _ = _run(torch, 'Adam', dict(lr=0.05), 'cpu')
    for i, (p_nb, p_t) in enumerate(zip(params_nb, params_t)):
        assert_close(p_nb, p_t, f'param {i}', TOL[MIXED[i][1]] * 10)


@cuda
@needs_cuda
@pytest.mark.parametrize('name, options', [('Adam', dict(lr=0.05, fused=True)),
                                           ('ASGD', dict(lr=0.05, t0=2))])
def test_device_scalar_state_written_by_the_user_is_read_back(name, options):
    """nbgrad remembers the GPU-resident scalars it wrote (no read per step); a value the user
    writes (a version bump) must be read from the device instead."""
    results = []
    for lib, device in ((torch, 'cpu'), (nbgrad, 'cuda')):
        params = [lib.linspace(-1, 1, 6, device=device).requires_grad_(),
                  lib.ones(3, device=device).requires_grad_()]
        opt = getattr(lib.optim, name)(params, **options)
        for k in range(5):
            for p in params:
                p.grad = lib.full(tuple(p.shape), 0.3 * k - 0.5, device=device)
            opt.step()
            if k == 1:
                with lib.no_grad():
                    for p in params:
                        opt.state[p]['step'].fill_(7.0)
                        if name == 'ASGD':
                            opt.state[p]['eta'].mul_(0.5)
        results.append((params, opt))
    (params_t, opt_t), (params_nb, opt_nb) = results
    for i, (p_nb, p_t) in enumerate(zip(params_nb, params_t)):
        assert_close(p_nb, p_t, f'{name} param {i}', TOL['float32'] * 10)
        assert_same_state(opt_nb.state[p_nb], opt_t.state[p_t], f'{name} param {i}',
                          TOL['float32'] * 10)
