"""torch.amp in nbgrad: GradScaler against PyTorch's CPU GradScaler (every step's parameters,
gradients after unscale_, scale, growth tracker and state_dict through overflows, growth,
skipped steps, two optimizers, clipping between unscale_ and step, pickling and state_dicts,
PyTorch's errors) and on 'cuda'; autocast's arguments and checks (its casts: test_autocast);
the deprecated torch.cuda.amp spellings."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import nbgrad

# the loss is multiplied by inf on these steps: an overflow, a skipped step, a backed-off scale
OVERFLOW_STEPS = {1, 4, 5}


def _train(lib, device='cpu', steps=9, clip=False):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2).to(device)
    head = lib.nn.Linear(2, 1).to(device)
    opt_a = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt_b = lib.optim.Adam(head.parameters(), lr=0.01)
    scaler = lib.amp.GradScaler(device, init_scale=8.0, growth_interval=3, growth_factor=4.0,
                                backoff_factor=0.25)
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=lib.float32, device=device)
    history = []
    for k in range(steps):
        opt_a.zero_grad()
        opt_b.zero_grad()
        loss = head(model(x)).pow(2).mean()
        if k in OVERFLOW_STEPS:
            loss = loss * float('inf')
        scaler.scale(loss).backward()
        if clip:
            scaler.unscale_(opt_a)
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.05)
        grads = [p.grad.detach().cpu().numpy().copy() for p in model.parameters()]
        stepped = scaler.step(opt_a), scaler.step(opt_b)
        scaler.update()
        history.append(([p.detach().cpu().numpy().copy() for p in
                         list(model.parameters()) + list(head.parameters())],
                        grads if clip else None, scaler.get_scale(), scaler._get_growth_tracker(),
                        scaler.state_dict(), stepped))
    return history


@pytest.mark.parametrize('clip', [False, True], ids=['plain', 'unscale_ and clip'])
def test_training_matches_pytorch(clip):
    got, expected = _train(nbgrad, clip=clip), _train(torch, clip=clip)
    for k, (g, e) in enumerate(zip(got, expected)):
        for a, b in zip(g[0], e[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f'step {k}')
        if clip:
            for a, b in zip(g[1], e[1]):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f'step {k}')
        assert g[2:5] == e[2:5], f'step {k}'
        assert [r is None for r in g[5]] == [r is None for r in e[5]]


def test_on_device(device):
    got, expected = _train(nbgrad, device), _train(torch)
    for g, e in zip(got, expected):
        for a, b in zip(g[0], e[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert g[2:5] == e[2:5]


def _unscale_many(lib, device, poison):
    """unscale_ over gradients of two dtypes, one of them a transposed (strided) view, with
    `poison` (inf, -inf, nan or None) at one element of one gradient."""
    rng = np.random.default_rng(3)
    shapes = [(5,), (3, 4), (1,), (7, 2), (2, 3)]
    params, grads = [], []
    for k, shape in enumerate(shapes):
        dtype = lib.float64 if k == 2 else lib.float32
        params.append(lib.nn.Parameter(lib.zeros(shape, dtype=dtype, device=device)))
        grads.append(rng.standard_normal(shape))
    if poison is not None:
        grads[3][4, 1] = poison
    for p, g in zip(params, grads):
        p.grad = lib.tensor(g, dtype=p.dtype, device=device)
    params[4].grad = lib.tensor(grads[4].T.copy(), dtype=lib.float32, device=device).t()
    scaler = lib.amp.GradScaler(device, init_scale=3.0, backoff_factor=0.3,
                                growth_factor=3.3, growth_interval=1)
    scaler.scale(lib.ones((), device=device))       # (makes the scale)
    opt = lib.optim.SGD(params, lr=0.1)
    versions = [p.grad._version for p in params]
    scaler.unscale_(opt)
    found = scaler._per_optimizer_states[id(opt)]['found_inf_per_device']
    flags = sorted(float(f.item()) for f in found.values())
    after = [p.grad.cpu().numpy().copy() for p in params]
    bumps = [p.grad._version - v for p, v in zip(params, versions)]
    scaler.step(opt)
    scaler.update()
    first = scaler.get_scale()
    opt.zero_grad()
    scaler.scale(params[0].sum()).backward()     # a clean step: the scale grows
    scaler.step(opt)
    scaler.update()
    return after, flags, bumps, first, scaler.get_scale(), scaler._get_growth_tracker()


@pytest.mark.parametrize('poison', [None, np.inf, -np.inf, np.nan])
def test_unscale_of_many_gradients_and_odd_factors_match_pytorch(device, poison):
    """unscale_ multiplies every gradient (float32, float64, strided) by 1/scale in place,
    leaving its version as it was, and flags an inf or NaN in any of them; the scale's update
    multiplies by factors like 0.3 and 3.3 with PyTorch's rounding (float times double)."""
    got, expected = _unscale_many(nbgrad, device, poison), _unscale_many(torch, 'cpu', poison)
    for a, b in zip(got[0], expected[0]):
        np.testing.assert_array_equal(a, b)
    assert got[1:] == expected[1:]


def _scaler_with_grads(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler('cpu')
    scaler.scale((p * 3).sum()).backward()
    return scaler, opt


@pytest.mark.parametrize('misuse', [
    lambda lib, s, o: (s.unscale_(o), s.unscale_(o)),
    lambda lib, s, o: (s.step(o), s.unscale_(o)),
    lambda lib, s, o: (s.step(o), s.step(o)),
    lambda lib, s, o: s.step(o, closure=lambda: 0.0),
    lambda lib, s, o: lib.amp.GradScaler('cpu').step(o),
    lambda lib, s, o: lib.amp.GradScaler('cpu').update(),
    lambda lib, s, o: lib.amp.GradScaler('cpu', growth_factor=1.0),
    lambda lib, s, o: lib.amp.GradScaler('cpu', backoff_factor=1.0),
    lambda lib, s, o: lib.amp.GradScaler('cpu').load_state_dict({}),
    lambda lib, s, o: pickle.dumps((s.unscale_(o), s)[1]),
], ids=['unscale twice', 'unscale after step', 'step twice', 'closure', 'step before scale',
        'update before scale', 'growth factor', 'backoff factor', 'empty state_dict',
        'pickled mid-iteration'])
def test_errors_match_pytorch(misuse):
    results = []
    for lib in (torch, nbgrad):
        scaler, opt = _scaler_with_grads(lib)
        with pytest.raises(Exception) as info:
            misuse(lib, scaler, opt)
        results.append((type(info.value), str(info.value)))
    assert results[1] == results[0]


def test_state_dict_pickle_and_new_scale_match_pytorch():
    def run(lib):
        scaler, opt = _scaler_with_grads(lib)
        scaler.step(opt)
        scaler.update(new_scale=32.0)
        state = scaler.state_dict()
        copy = pickle.loads(pickle.dumps(scaler))
        other = lib.amp.GradScaler('cpu')
        other.load_state_dict(state)
        scaler.update(lib.tensor(2.0))
        return state, copy.state_dict(), other.state_dict(), scaler.get_scale()
    assert run(nbgrad) == run(torch)


def test_disabled_and_cuda_less_scalers(monkeypatch):
    for lib in (torch, nbgrad):
        scaler = lib.amp.GradScaler('cpu', enabled=False)
        loss = lib.ones(())
        assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
        assert scaler.state_dict() == {} and not scaler.is_enabled()
    monkeypatch.setattr(nbgrad.cuda, 'is_available', lambda: False)
    messages = []
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning) as caught:
            assert not lib.amp.GradScaler().is_enabled()
        messages.append(str(caught[0].message))
    assert messages[1] == messages[0]
    with pytest.warns(FutureWarning, match=r"torch.amp.GradScaler\('cuda', args...\)"):
        with pytest.warns(UserWarning):
            nbgrad.cuda.amp.GradScaler()


def test_autocast_checks_its_arguments_as_pytorch():
    for make in (lambda lib: lib.autocast(lib.device('cpu')),
                 lambda lib: lib.autocast('nonsense')):
        with pytest.raises(Exception) as expected:
            make(torch)
        with pytest.raises(Exception) as got:
            make(nbgrad)
        assert type(got.value) is type(expected.value)
        if isinstance(got.value, ValueError):
            assert str(got.value).replace('nbgrad._device', 'torch') == str(expected.value)
        else:   # nbgrad's device strings name the two device types it has
            assert str(got.value).endswith('device type at start of device string: nonsense')
    assert str(nbgrad.get_autocast_dtype('cuda')) == 'nbgrad.float16'
    assert nbgrad.amp.is_autocast_available('cpu') == torch.amp.is_autocast_available('cpu')


@pytest.mark.parametrize('name', ['GradScaler', 'autocast'])
def test_deprecated_cpu_spellings_match_pytorch(name):
    messages = []
    for lib in (torch, nbgrad):
        with pytest.warns(FutureWarning) as caught:
            made = getattr(lib.cpu.amp, name)(enabled=False)
        messages.append(str(caught[0].message))
        assert type(made).__name__ == name
    assert messages[1] == messages[0]
    if name == 'GradScaler':
        with pytest.warns(FutureWarning):
            scaler = nbgrad.cpu.amp.GradScaler(init_scale=8.0)
        assert scaler.get_scale() == 8.0 and scaler.is_enabled()
