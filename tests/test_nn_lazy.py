"""Lazy modules against PyTorch: a seeded lazy layer gets PyTorch's weights at its first forward
and becomes the eager class; reprs and state_dicts before and after; moving and casting before
the first forward; loading checkpoints into lazy modules; the errors for using uninitialized
parameters; 'cuda'."""
import copy

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, assert_same_value, exc_kind, to_np

torch = pytest.importorskip('torch')

# (class, constructor args and kwargs, input shape)
CASES = {
    'linear': ('LazyLinear', (4,), {}, (3, 5)),
    'linear-nobias-3d': ('LazyLinear', (2,), dict(bias=False), (2, 3, 6)),
    'conv1d': ('LazyConv1d', (4, 3), dict(padding=1), (2, 3, 7)),
    'conv2d-groups': ('LazyConv2d', (4, 3), dict(groups=2, stride=2, bias=False), (2, 6, 7, 7)),
    'conv2d-unbatched': ('LazyConv2d', (3, 2), {}, (4, 5, 5)),
    'conv3d': ('LazyConv3d', (2, 2), dict(padding_mode='reflect', padding=1), (1, 3, 4, 4, 4)),
    'convtranspose1d': ('LazyConvTranspose1d', (3, 3), dict(stride=2, output_padding=1),
                        (2, 4, 5)),
    'convtranspose2d': ('LazyConvTranspose2d', (2, 2, 2, 0, 0, 1, True, 1), {}, (2, 3, 4, 4)),
    'convtranspose3d': ('LazyConvTranspose3d', (2, 2), dict(groups=1), (1, 2, 3, 3, 3)),
    'batchnorm1d': ('LazyBatchNorm1d', (), {}, (4, 3)),
    'batchnorm2d-noaffine': ('LazyBatchNorm2d', (), dict(affine=False, momentum=None),
                             (3, 2, 4, 4)),
    'batchnorm3d': ('LazyBatchNorm3d', (), dict(track_running_stats=False), (2, 3, 2, 2, 2)),
    'instancenorm1d': ('LazyInstanceNorm1d', (), dict(affine=True), (2, 3, 6)),
    'instancenorm2d': ('LazyInstanceNorm2d', (), dict(track_running_stats=True), (2, 3, 4, 4)),
    'instancenorm3d': ('LazyInstanceNorm3d', (), dict(affine=True, bias=False),
                       (2, 2, 3, 3, 3)),
}


def _data(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _run(lib, case, device='cpu', dtype='float32'):
    name, args, kwargs, shape = CASES[case]
    lib.manual_seed(0)
    layer = getattr(lib.nn, name)(*args, **kwargs)
    before = (repr(layer), {k: repr(v) for k, v in layer.state_dict().items()})
    layer = layer.to(device=device, dtype=getattr(lib, dtype))
    x = lib.tensor(_data(shape), dtype=getattr(lib, dtype), device=device, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    after = {
        'class': type(layer).__name__, 'repr': repr(layer), 'out': out.detach().cpu(),
        'x.grad': x.grad.cpu(),
        'params': {k: (type(p).__name__, p.detach().cpu(), p.grad.cpu() if p.grad is not None
                       else None) for k, p in layer.named_parameters()},
        'buffers': {k: b.cpu() for k, b in layer.named_buffers()},
        'devices': {p.device.type for p in layer.parameters()} | {
            b.device.type for b in layer.buffers()},
        'dtypes': sorted({str(p.dtype).split('.')[-1] for p in layer.parameters()}),
    }
    return before, after


@pytest.mark.parametrize('case', CASES)
def test_first_forward_matches_torch(case):
    """Same weights from the same seed, the same outputs and gradients, and the eager class."""
    got_before, got = _run(nbgrad, case)
    expected_before, expected = _run(torch, case)
    assert got_before == expected_before
    assert_same_value(to_np(got), to_np(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('case', ['linear', 'conv2d-groups', 'batchnorm1d', 'instancenorm2d'])
def test_moved_and_cast_before_the_first_forward(case, device):
    """Moved to `device` and cast to float64 while lazy: materialized there, in that dtype. (On
    'cuda' nn.init draws from the CUDA generator, whose numbers are not PyTorch's, so PyTorch's
    eager layer gets the weights nbgrad drew and runs the same step.)"""
    name, args, kwargs, shape = CASES[case]
    layer = getattr(nbgrad.nn, name)(*args, **kwargs).to(device=device, dtype=nbgrad.float64)
    drawn = {}
    layer.register_forward_pre_hook(   # runs after the lazy hook has initialized the layer
        lambda module, inputs: drawn.update(
            to_np({k: v.cpu() for k, v in module.state_dict().items()})))
    x = nbgrad.tensor(_data(shape), dtype=nbgrad.float64, device=device, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert type(layer).__name__ == name[len('Lazy'):]
    assert {t.device.type for t in (*layer.parameters(), *layer.buffers())} == {device}
    assert {t.dtype for t in layer.parameters()} <= {nbgrad.float64}

    size = shape[-1] if name == 'LazyLinear' else shape[1]   # the eager layer's first argument
    if 'Norm' in name:   # the lazy norms default to affine and tracked statistics, all of them
        kwargs = dict(dict(affine=True, track_running_stats=True), **kwargs)
    reference = getattr(torch.nn, name[len('Lazy'):])(size, *args, **kwargs).double()
    reference.load_state_dict({k: torch.tensor(v) for k, v in drawn.items()})
    x_t = torch.tensor(_data(shape), dtype=torch.float64, requires_grad=True)
    out_t = reference(x_t)
    out_t.sum().backward()
    assert_same_value(to_np([out.cpu(), x.grad.cpu(),
                             {k: v.cpu() for k, v in layer.state_dict().items()}]),
                      to_np([out_t, x_t.grad, dict(reference.state_dict())]),
                      rtol=1e-10, atol=1e-12)


def test_uninitialized_parameters_move_and_cast():
    p = nbgrad.nn.UninitializedParameter()
    assert repr(p) == '<UninitializedParameter>' and p.requires_grad
    assert list(p.size()) == list(torch.nn.UninitializedParameter().size()) == [0]
    assert p.device == nbgrad.device('cpu') and p.dtype == nbgrad.float32
    moved = p.double()
    assert isinstance(moved, nbgrad.nn.UninitializedParameter) and moved.dtype == nbgrad.float64
    b = nbgrad.nn.UninitializedBuffer(persistent=False).to(nbgrad.float16)
    assert isinstance(b, nbgrad.nn.UninitializedBuffer) and b.dtype == nbgrad.float16
    assert not b.persistent and not b.requires_grad
    p.materialize((2, 3))
    assert type(p) is nbgrad.nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad


@pytest.mark.parametrize('use', ['sum', 'matmul', 'shape', 'numel', 'dim', 'add_', 'relu',
                                 'share_memory_'])
def test_using_an_uninitialized_parameter_raises_as_torch(use):
    def run(lib):
        p = lib.nn.LazyLinear(3).weight
        if use == 'sum':
            return p.sum()
        if use == 'matmul':
            return lib.ones(2, 2) @ p
        if use == 'shape':
            return p.shape
        if use == 'numel':
            return p.numel()
        if use == 'dim':
            return p.dim()
        if use == 'relu':
            return lib.nn.functional.relu(p)
        if use == 'add_':
            with lib.no_grad():
                return p.add_(1)
        return p.share_memory_()
    kinds = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as info:
            run(lib)
        kinds.append(exc_kind(info.value))
        assert 'uninitialized parameter' in str(info.value)
    assert kinds[0] == kinds[1]


def _loaded(lib, assign=False):
    lib.manual_seed(0)
    nn = lib.nn
    trained = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d(), nn.LazyLinear(2))
    trained(lib.tensor(_data((4, 5)), dtype=lib.float32))
    lazy = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d(), nn.LazyLinear(2))
    result = lazy.load_state_dict(trained.state_dict(), assign=assign)
    classes = [type(m).__name__ for m in lazy]
    lazy.eval()
    out = lazy(lib.tensor(_data((2, 5), seed=3), dtype=lib.float32))
    return {'keys': (list(result.missing_keys), list(result.unexpected_keys)),
            'classes before': classes, 'classes': [type(m).__name__ for m in lazy],
            'repr': repr(lazy), 'out': out.detach(), 'state': dict(lazy.state_dict())}


@pytest.mark.parametrize('assign', [False, True])
def test_checkpoints_load_into_lazy_modules(assign):
    assert_same_value(to_np(_loaded(nbgrad, assign)), to_np(_loaded(torch, assign)),
                      rtol=1e-6, atol=1e-7)


def test_failed_load_leaves_the_lazy_module_lazy():
    """nbgrad checks every key first (PyTorch materializes lazy entries before it fails)."""
    lazy = nbgrad.nn.Sequential(nbgrad.nn.LazyLinear(3), nbgrad.nn.Linear(3, 2))
    state = {'0.weight': nbgrad.ones(3, 5), '0.bias': nbgrad.ones(3),
             '1.weight': nbgrad.ones(7, 7), '1.bias': nbgrad.ones(2)}
    with pytest.raises(RuntimeError, match='size mismatch for 1.weight'):
        lazy.load_state_dict(state)
    assert isinstance(lazy[0].weight, nbgrad.nn.UninitializedParameter)


def test_uninitialized_checkpoint_into_initialized_module_raises_as_torch():
    def run(lib):
        full = lib.nn.Linear(5, 3)
        return full.load_state_dict(lib.nn.LazyLinear(3).state_dict())
    outcomes = []
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError) as info:
            run(lib)
        outcomes.append(str(info.value).split('.')[0])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize('case', ['conv-dims', 'conv-groups', 'linear-loaded-mismatch'])
def test_errors_match_torch(case):
    def run(lib):
        nn = lib.nn
        if case == 'conv-dims':
            return nn.LazyConv2d(3, 2)(lib.ones(2, 3))
        if case == 'conv-groups':
            return nn.LazyConv2d(4, 1, groups=2)(lib.ones(1, 3, 2, 2))
        lazy = nn.LazyLinear(3)
        lazy.load_state_dict(nn.Linear(4, 3).state_dict())
        return lazy(lib.ones(2, 5))
    assert_same_error(run)


def test_lazy_instance_norm_takes_the_channels_of_an_unbatched_input():
    """(C, L) input: nbgrad sizes the layer by C, as the eager InstanceNorm1d(C) it becomes
    expects (PyTorch's lazy layer takes dim 1 here, the length)."""
    x = _data((3, 6))
    lazy = nbgrad.nn.LazyInstanceNorm1d(affine=True)
    out = lazy(nbgrad.tensor(x, dtype=nbgrad.float32))
    assert lazy.num_features == 3 and tuple(lazy.weight.shape) == (3,)
    expected = torch.nn.InstanceNorm1d(3, affine=True)(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_deepcopy_and_user_hooks_before_the_first_forward():
    lazy = nbgrad.nn.LazyLinear(2)
    calls = []
    lazy.register_forward_pre_hook(lambda module, args: calls.append(type(module).__name__))
    twin = copy.deepcopy(lazy)
    lazy(nbgrad.ones(1, 4))
    twin(nbgrad.ones(1, 6))
    assert (lazy.in_features, twin.in_features) == (4, 6)
    assert calls == ['Linear', 'Linear']   # the user's hook runs after the lazy one
    lazy(nbgrad.ones(1, 4))
    assert calls == ['Linear', 'Linear', 'Linear']
