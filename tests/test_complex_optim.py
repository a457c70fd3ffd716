"""Optimizers with complex parameters against PyTorch.

PyTorch updates a complex parameter as torch.view_as_real of it (two real numbers per element:
Adam's second moment, Rprop's step sizes, LBFGS's flat vector are per real component). Both
libraries start from the same values, take their gradients from the same loss of a small complex
model through their own autograd, and must follow the same trajectory: parameters and every
state entry after every step, for the for-loop and foreach paths, a real parameter in the same
group, and a state_dict saved midway and loaded into a fresh optimizer. Optimizers PyTorch
refuses complex parameters for must refuse them the same way."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

STEPS = 12
TOL = {'complex128': 1e-10, 'complex64': 2e-5}

CONFIGS = [
    ('SGD', dict(lr=0.02)),
    ('SGD', dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(lr=0.02, momentum=0.9, dampening=0.3, maximize=False)),
    ('Adam', dict(lr=0.05)),
    ('Adam', dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ('Adam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ('AdamW', dict(lr=0.05, amsgrad=True)),
    ('RMSprop', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, initial_accumulator_value=0.3, lr_decay=0.01, weight_decay=0.1)),
    ('Adadelta', dict(lr=1.0, weight_decay=0.1)),
    ('Adamax', dict(lr=0.05, weight_decay=0.1)),
    ('NAdam', dict(lr=0.05, weight_decay=0.1)),
    ('NAdam', dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RAdam', dict(lr=0.05, weight_decay=0.1)),
    ('ASGD', dict(lr=0.05, t0=3, weight_decay=0.1)),
    ('Rprop', dict(lr=0.05)),
    ('Rprop', dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
]
IDS = [f'{name}-' + '-'.join(f'{k}={v}' for k, v in options.items()) for name, options in CONFIGS]


def _values(dtype, seed=0):
    """Starting values: a complex (3, 4) weight, a real (4,) bias, the model's data."""
    rng = np.random.default_rng(seed)
    real = 'float64' if dtype == 'complex128' else 'float32'

    def c(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return {'w': c(3, 4), 'b': rng.standard_normal(4).astype(real), 'x': c(3, 4),
            'target': c(3, 4)}


def _loss(lib, w, b, x, target):
    """A real loss of complex and real parameters (not quadratic, so steps differ per
    component): |x w - target|^2 summed, plus a quartic in the weight's real part."""
    fit = ((x * w - target + b).abs() ** 2).sum()
    return fit + 0.1 * ((w.real - 0.3) ** 4).sum()


def _to_np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().numpy()
    return t.detach().numpy()


class _Run:
    """One library's model, optimizer and step."""

    def __init__(self, lib, name, options, values, with_bias=True):
        self.lib = lib
        self.w = lib.tensor(values['w'], requires_grad=True)
        self.b = lib.tensor(values['b'], requires_grad=with_bias)
        self.x, self.target = lib.tensor(values['x']), lib.tensor(values['target'])
        self.params = [self.w, self.b] if with_bias else [self.w]
        self.opt = getattr(lib.optim, name)(self.params, **options)

    def closure(self):
        self.opt.zero_grad()
        loss = _loss(self.lib, self.w, self.b, self.x, self.target)
        loss.backward()
        return loss

    def step(self):
        return self.opt.step(self.closure)


def _assert_same(got, expected, tol, where):
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1], where
    assert tuple(got.shape) == tuple(expected.shape), where
    e = _to_np(expected)
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    np.testing.assert_allclose(_to_np(got), e, rtol=tol, atol=tol * scale, err_msg=where)


def _assert_same_state(mine, theirs, tol, where):
    for p_mine, p_theirs in zip(mine.params, theirs.params):
        _assert_same(p_mine, p_theirs, tol, f'{where}: param')
        s_mine, s_theirs = mine.opt.state[p_mine], theirs.opt.state[p_theirs]
        assert list(s_mine) == list(s_theirs), where
        for key, value in s_theirs.items():
            if isinstance(value, torch.Tensor):
                _assert_same(s_mine[key], value, tol, f'{where}: state[{key!r}]')
            else:
                assert s_mine[key] == pytest.approx(value), f'{where}: state[{key!r}]'


@pytest.mark.parametrize('dtype', ['complex128', 'complex64'])
@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('name,options', CONFIGS, ids=IDS)
def test_trajectory_matches_torch(name, options, foreach, dtype):
    values = _values(dtype)
    options = dict(options, foreach=foreach)
    mine, theirs = _Run(nbgrad, name, options, values), _Run(torch, name, options, values)
    for step in range(STEPS):
        loss_mine, loss_theirs = mine.step().detach(), theirs.step().detach()
        assert float(loss_mine) == pytest.approx(float(loss_theirs), rel=TOL[dtype] * 10)
        _assert_same_state(mine, theirs, TOL[dtype], f'{name} step {step}')


@pytest.mark.parametrize('name,options', CONFIGS, ids=IDS)
def test_state_dict_round_trip(name, options):
    """Save midway, load into a fresh optimizer over fresh parameters with the saved values, go
    on: the same as PyTorch going on from its own saved state."""
    values = _values('complex128', seed=1)
    mine, theirs = _Run(nbgrad, name, options, values), _Run(torch, name, options, values)
    for _ in range(5):
        mine.step()
        theirs.step()
    saved_mine, saved_theirs = mine.opt.state_dict(), theirs.opt.state_dict()
    for key, value in saved_theirs['state'].get(0, {}).items():    # the complex weight's state
        if isinstance(value, torch.Tensor):
            _assert_same(saved_mine['state'][0][key], value, 1e-10, f'state_dict {key!r}')
    restarted = dict(values, w=_to_np(mine.w).copy(), b=_to_np(mine.b).copy())
    mine2, theirs2 = _Run(nbgrad, name, options, restarted), _Run(torch, name, options, restarted)
    mine2.opt.load_state_dict(saved_mine)
    theirs2.opt.load_state_dict(saved_theirs)
    for step in range(5):
        mine2.step()
        theirs2.step()
        _assert_same_state(mine2, theirs2, 1e-10, f'{name} after load, step {step}')


@pytest.mark.parametrize('options', [dict(lr=0.5, history_size=4, max_iter=5),
                                     dict(lr=1, line_search_fn='strong_wolfe')],
                         ids=['fixed-step', 'strong-wolfe'])
def test_lbfgs(options):
    """LBFGS works on the flat real vector of all (real, imag) pairs, as PyTorch's."""
    values = _values('complex128', seed=2)
    mine, theirs = (_Run(nbgrad, 'LBFGS', options, values),
                    _Run(torch, 'LBFGS', options, values))
    for step in range(4):
        loss_mine, loss_theirs = mine.step().detach(), theirs.step().detach()
        assert float(loss_mine) == pytest.approx(float(loss_theirs), rel=1e-9)
        for p_mine, p_theirs in zip(mine.params, theirs.params):
            _assert_same(p_mine, p_theirs, 1e-9, f'LBFGS step {step}')
        s_mine, s_theirs = mine.opt.state[mine.w], theirs.opt.state[theirs.w]
        for key in ('d', 'prev_flat_grad'):
            _assert_same(s_mine[key], s_theirs[key], 1e-9, f'LBFGS state {key!r}')


def test_sgd_complex_param_alone_and_strided():
    """A strided complex parameter (a view with steps) and one far bigger than a kernel piece
    (the chunked, threaded path) take the same update as PyTorch's."""
    rng = np.random.default_rng(3)
    big = (rng.standard_normal(300_000) + 1j * rng.standard_normal(300_000)).astype('complex64')
    grad = (rng.standard_normal(300_000) + 1j * rng.standard_normal(300_000)).astype('complex64')
    results = []
    for lib in (nbgrad, torch):
        p = lib.tensor(big, requires_grad=True)
        base = lib.tensor(np.stack([big[:1000], big[1000:2000]], 1))
        strided = base[:, 0].detach().requires_grad_()
        assert not strided.is_contiguous()
        opt = lib.optim.Adam([p, strided], lr=0.1, foreach=False)
        for _ in range(3):
            p.grad, strided.grad = lib.tensor(grad), lib.tensor(grad[:1000])
            opt.step()
        results.append((p, strided, opt.state[p]['exp_avg_sq']))
    for got, expected in zip(*results):
        _assert_same(got, expected, 2e-6, 'big/strided')


@pytest.mark.parametrize('name,options', [('SGD', dict(lr=0.02, momentum=0.9)),
                                          ('Adam', dict(lr=0.05, amsgrad=True)),
                                          ('AdamW', dict(lr=0.05, weight_decay=0.1))])
def test_differentiable_step_on_complex(name, options):
    """differentiable=True runs the step in Tensor ops recorded by autograd: with a complex
    parameter (a non-leaf, as differentiable optimization needs) the second moment is per real
    component there too, and the gradient through the steps back to the leaf is PyTorch's."""
    values = _values('complex128', seed=4)
    results = []
    for lib in (nbgrad, torch):
        leaf = lib.tensor(values['w'], requires_grad=True)
        p = leaf.clone()
        opt = getattr(lib.optim, name)([p], differentiable=True, **options)
        for k in range(4):
            p.grad = lib.tensor(values['x'] * (k + 1) - values['target'])
            opt.step()
        (p.abs() ** 2 + p.real).sum().backward()
        results.append((p, leaf.grad, opt.state[p]['exp_avg_sq' if name != 'SGD'
                                                   else 'momentum_buffer']))
    # (1e-7: PyTorch's float32 `beta ** step` of the bias corrections is 1 ulp off the correctly
    # rounded value nbgrad gives at some steps; real float64 parameters show the same)
    for got, expected in zip(*results):
        _assert_same(got, expected, 1e-7, f'{name} differentiable')


@pytest.mark.parametrize('name', ['Adafactor', 'SparseAdam', 'Muon'])
def test_refused_where_torch_refuses(name):
    """PyTorch refuses complex parameters for these: the same kind of error (at construction
    or at the first step, wherever PyTorch raises it)."""
    kinds = []
    for lib in (torch, nbgrad):
        w = lib.zeros(3, 3, dtype=lib.complex64, requires_grad=True)
        try:
            opt = getattr(lib.optim, name)([w], lr=0.1)
            w.grad = lib.ones(3, 3, dtype=lib.complex64)
            opt.step()
        except Exception as e:              # noqa: BLE001 (the kind is what is compared)
            kinds.append(type(e))
        else:
            kinds.append(None)
    assert kinds[0] is not None, f'torch accepts complex parameters for {name} now'
    assert kinds[1] is kinds[0]


@pytest.mark.parametrize('name,options', [('Adam', dict(lr=0.1, fused=True)),
                                          ('SGD', dict(lr=0.1, fused=True)),
                                          ('Adagrad', dict(lr=0.1, fused=True))])
def test_fused_refuses_complex(name, options):
    kinds = []
    for lib in (torch, nbgrad):
        w = lib.zeros(3, dtype=lib.complex64, requires_grad=True)
        try:
            opt = getattr(lib.optim, name)([w], **options)
            w.grad = lib.ones(3, dtype=lib.complex64)
            opt.step()
        except Exception as e:              # noqa: BLE001
            kinds.append(type(e))
        else:
            kinds.append(None)
    assert kinds[1] is kinds[0]


@pytest.mark.parametrize('name,options', [('SGD', dict(lr=0.1)),
                                          ('SGD', dict(lr=0.1, momentum=0.9)),
                                          ('Adagrad', dict(lr=0.1))])
def test_sparse_gradient_of_complex_param(name, options):
    """The optimizers that take sparse gradients take them for complex parameters too."""
    rows = np.array([[1 + 2j, -2], [0.5j, 1]])
    results = []
    for lib in (nbgrad, torch):
        w = lib.tensor(np.ones((3, 2)) * (1 + 1j), requires_grad=True)
        opt = getattr(lib.optim, name)([w], **options)
        for _ in range(3):
            w.grad = lib.sparse_coo_tensor([[0, 2]], lib.tensor(rows), (3, 2))
            opt.step()
        results.append(w)
    _assert_same(*results, 1e-12, f'{name} sparse')


def test_functional_adam_with_complex():
    """torch.optim.adam.adam(..., has_complex=True): the same real-view update."""
    values = _values('complex128', seed=5)
    results = []
    import importlib
    for lib in (nbgrad, torch):
        adam = importlib.import_module(f'{lib.__name__}.optim.adam').adam
        p = lib.tensor(values['w'])
        grad = lib.tensor(values['x'])
        exp_avg, exp_avg_sq, max_sq = (lib.zeros_like(p) for _ in range(3))
        step = lib.tensor(0.0)
        for _ in range(3):
            adam([p], [grad], [exp_avg], [exp_avg_sq], [max_sq], [step], has_complex=True,
                 amsgrad=True, beta1=0.9, beta2=0.99, lr=0.1, weight_decay=0.01, eps=1e-8,
                 maximize=False)
        results.append((p, exp_avg_sq, max_sq))
    for got, expected in zip(*results):
        _assert_same(got, expected, 1e-12, 'functional adam')
