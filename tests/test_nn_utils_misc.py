"""The smaller nn.utils helpers against PyTorch: the deprecated hook-based weight_norm and
spectral_norm (parameters, buffers, state_dict and its metadata, training steps, removal),
fusion of BatchNorm into Conv/Linear, skip_init, and stateless.functional_call; errors of
PyTorch's kinds."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import arr, exc_kind, same

torch = pytest.importorskip('torch')


def f32(lib, *shape, seed):
    return lib.tensor(arr(*shape, seed=seed), dtype=lib.float32)


def state(m):
    """A state_dict as (key, value) pairs, so that the keys' order is compared too."""
    return list(m.state_dict().items())


def sgd_steps(lib, m, x, steps=3):
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)
    for _ in range(steps):
        opt.zero_grad()
        m(x).square().sum().backward()
        opt.step()


def error_kind(action):
    """The builtin exception class action() raises (None when it returns)."""
    try:
        action()
    except Exception as e:
        return exc_kind(e)


def quietly(case):
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            return case(lib)
    return run


# ---------------------------------------------------------------------------------------------
# Deprecated weight_norm (weight_g, weight_v and a forward pre-hook)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('layer,dim', [('linear', 0), ('linear', 1), ('linear', None),
                                       ('conv', 0), ('conv', 1)])
def test_hook_weight_norm(layer, dim):
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 3) if layer == 'linear' else lib.nn.Conv2d(2, 3, 3)
        with pytest.warns(FutureWarning, match='weight_norm'):
            same_module = lib.nn.utils.weight_norm(m, dim=dim) is m
        x = f32(lib, *((2, 4) if layer == 'linear' else (2, 2, 5, 5)), seed=1)
        out = m(x)
        out.square().sum().backward()
        first = [same_module, out, m.weight, m.weight_g.grad, m.weight_v.grad,
                 state(m), [n for n, _ in m.named_parameters()], repr(m)]
        sgd_steps(lib, m, x)
        trained = [m(x), state(m)]
        lib.nn.utils.remove_weight_norm(m)
        return first + trained + [state(m), type(m.weight).__name__,
                                  len(m._forward_pre_hooks)]
    same(case, rtol=2e-5, atol=1e-6)


def test_hook_weight_norm_errors():
    def case(lib):
        m = lib.nn.Linear(3, 2)
        missing = error_kind(lambda: lib.nn.utils.remove_weight_norm(m))
        lib.nn.utils.weight_norm(m)
        twice = error_kind(lambda: lib.nn.utils.weight_norm(m))
        other = error_kind(lambda: lib.nn.utils.remove_weight_norm(m, 'bias'))
        return [missing, twice, other]
    same(quietly(case))


# ---------------------------------------------------------------------------------------------
# Deprecated spectral_norm (weight_orig, weight_u, weight_v and hooks)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('layer', ['linear', 'conv', 'conv_transpose'])
def test_hook_spectral_norm(layer):
    makers = {'linear': (lambda nn: nn.Linear(5, 3), (2, 5)),
              'conv': (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
              'conv_transpose': (lambda nn: nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4))}
    make, shape = makers[layer]

    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.spectral_norm(make(lib.nn), n_power_iterations=2)
        registered = [state(m), m.weight]  # random u, v: not iterated yet
        x = f32(lib, *shape, seed=1)
        sgd_steps(lib, m, x)
        sd = m.state_dict()
        trained = [list(sd.items()), sd._metadata, m.weight]
        m.eval()
        evaluated = [m(x), state(m)]
        lib.nn.utils.remove_spectral_norm(m)
        return registered + trained + evaluated + [
            state(m), type(m.weight).__name__, len(m._forward_pre_hooks),
            len(m._state_dict_hooks), m.state_dict()._metadata]
    same(case, rtol=2e-5, atol=1e-6)


def test_hook_spectral_norm_loads_a_state_dict_without_v():
    """State_dicts of version 0 hold the normalized weight and no weight_v: v is solved for
    (a tall weight, so that W^T W is invertible and v unique)."""
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        m(f32(lib, 2, 3, seed=1))
        sd = m.state_dict()
        legacy = {k: v.clone() for k, v in sd.items() if k != 'weight_v'}
        legacy['weight'] = m.weight.detach().clone()
        lib.manual_seed(1)
        fresh = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        fresh.load_state_dict(legacy)
        return [state(fresh), fresh.eval()(f32(lib, 2, 3, seed=2))]
    same(case, rtol=1e-4, atol=1e-6)


def test_hook_spectral_norm_errors():
    def case(lib):
        m = lib.nn.Linear(3, 2)
        missing = error_kind(lambda: lib.nn.utils.remove_spectral_norm(m))
        zero = error_kind(lambda: lib.nn.utils.spectral_norm(lib.nn.Linear(3, 2),
                                                             n_power_iterations=0))
        lib.nn.utils.spectral_norm(m)
        twice = error_kind(lambda: lib.nn.utils.spectral_norm(m))
        no_bias = lib.nn.Linear(3, 2, bias=False)
        none_param = error_kind(lambda: lib.nn.utils.spectral_norm(no_bias, 'bias'))
        return [missing, zero, twice, none_param]
    same(case)


def test_module_loads_its_state_dict_after_remove_spectral_norm():
    """PyTorch leaves its load pre-hook behind here (and then fails to load its own state_dict);
    nbgrad removes it: the torch state_dict loads and gives torch's output."""
    torch.manual_seed(0)
    theirs = torch.nn.utils.remove_spectral_norm(torch.nn.utils.spectral_norm(
        torch.nn.Linear(4, 3)))
    nbgrad.manual_seed(0)
    ours = nbgrad.nn.utils.remove_spectral_norm(nbgrad.nn.utils.spectral_norm(
        nbgrad.nn.Linear(4, 3)))
    ours.load_state_dict({k: nbgrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = arr(2, 4, seed=1).astype(np.float32)
    np.testing.assert_allclose(ours(nbgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Fusion of BatchNorm into Conv / Linear
# ---------------------------------------------------------------------------------------------
def _eval_bn(lib, bn, seed):
    """A BatchNorm with non-trivial running statistics and affine parameters, in eval mode."""
    n = bn.num_features
    with lib.no_grad():
        bn.running_mean.copy_(f32(lib, n, seed=seed))
        bn.running_var.copy_(f32(lib, n, seed=seed + 1).abs() + 0.5)
        if bn.affine:
            bn.weight.copy_(f32(lib, n, seed=seed + 2))
            bn.bias.copy_(f32(lib, n, seed=seed + 3))
    return bn.eval()


FUSIONS = {
    'conv2d': (lambda nn: nn.Conv2d(2, 3, 3), lambda nn: nn.BatchNorm2d(3), (2, 2, 5, 5), False),
    'conv1d_no_bias_no_affine': (lambda nn: nn.Conv1d(2, 3, 2, bias=False),
                                 lambda nn: nn.BatchNorm1d(3, affine=False), (2, 2, 6), False),
    'conv_transpose2d': (lambda nn: nn.ConvTranspose2d(2, 3, 3), lambda nn: nn.BatchNorm2d(3),
                         (2, 2, 4, 4), True),
    'linear': (lambda nn: nn.Linear(4, 3), lambda nn: nn.BatchNorm1d(3), (5, 4), None),
    'linear_one_feature_bn': (lambda nn: nn.Linear(4, 3, bias=False),
                              lambda nn: nn.BatchNorm1d(1), (5, 4), None),
}


@pytest.mark.parametrize('case_name', list(FUSIONS))
def test_fusion(case_name):
    make_layer, make_bn, shape, transpose = FUSIONS[case_name]

    def case(lib):
        lib.manual_seed(0)
        layer = make_layer(lib.nn).eval()
        bn = _eval_bn(lib, make_bn(lib.nn), seed=3)
        utils = lib.nn.utils
        fused = utils.fuse_linear_bn_eval(layer, bn) if transpose is None else \
            utils.fuse_conv_bn_eval(layer, bn, transpose=transpose)
        x = f32(lib, *shape, seed=1)
        reference = bn(layer(x)) if case_name != 'linear_one_feature_bn' else None
        return [fused(x), reference, state(fused), fused is layer,
                type(fused.weight).__name__, fused.weight.requires_grad,
                fused.bias.requires_grad, state(layer)]
    got = same(case, rtol=1e-5, atol=1e-6)
    if got[1] is not None:
        np.testing.assert_allclose(got[0], got[1], rtol=1e-5, atol=1e-5)


def test_fusion_errors():
    def case(lib):
        nn, utils = lib.nn, lib.nn.utils
        training = error_kind(lambda: utils.fuse_conv_bn_eval(nn.Conv2d(2, 3, 1),
                                                              nn.BatchNorm2d(3)))
        untracked = nn.BatchNorm2d(3, track_running_stats=False).eval()
        no_stats = error_kind(lambda: utils.fuse_conv_bn_eval(nn.Conv2d(2, 3, 1).eval(),
                                                              untracked))
        mismatch = error_kind(lambda: utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(),
                                                                nn.BatchNorm1d(2).eval()))
        return [training, no_stats, mismatch]
    same(case)


def test_fuse_weights_functions():
    def case(lib):
        w, b = f32(lib, 3, 2, 3, 3, seed=1).requires_grad_(), None
        rm, rv = f32(lib, 3, seed=2), f32(lib, 3, seed=3).abs() + 0.1
        conv = lib.nn.utils.fuse_conv_bn_weights(w, b, rm, rv, 1e-3, None, None)
        lw = f32(lib, 3, 4, seed=4)
        lb = f32(lib, 3, seed=5).requires_grad_()
        linear = lib.nn.utils.fuse_linear_bn_weights(lw, lb, rm, rv, 1e-5, f32(lib, 3, seed=6),
                                                     f32(lib, 3, seed=7))
        return [list(conv), list(linear), [p.requires_grad for p in conv + linear],
                [p.is_leaf for p in conv + linear]]
    same(case, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# skip_init
# ---------------------------------------------------------------------------------------------
def test_skip_init_builds_without_drawing_random_numbers():
    def case(lib):
        lib.manual_seed(0)
        first = lib.nn.utils.skip_init(lib.nn.Linear, 5, 1)
        second = lib.nn.utils.skip_init(lib.nn.Conv2d, in_channels=2, out_channels=3,
                                        kernel_size=3, device='cpu')
        drawn = lib.randn(4)  # what the seed gives when nothing was drawn in between
        shapes = [(n, tuple(p.shape), type(p).__name__, p.requires_grad)
                  for m in (first, second) for n, p in m.named_parameters()]
        return [type(first).__name__, type(second).__name__, shapes, drawn,
                first.weight.device.type]
    same(case)


def test_skip_init_errors():
    class NoDevice(nbgrad.nn.Module):
        def __init__(self, n):
            super().__init__()

    class TorchNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()

    no_device = {torch: TorchNoDevice, nbgrad: NoDevice}
    same(lambda lib: [error_kind(lambda: lib.nn.utils.skip_init(int, 3)),
                      error_kind(lambda: lib.nn.utils.skip_init(3)),
                      error_kind(lambda: lib.nn.utils.skip_init(no_device[lib], 3))])


# ---------------------------------------------------------------------------------------------
# stateless.functional_call
# ---------------------------------------------------------------------------------------------
def functional_call(lib, *args, **kwargs):
    with pytest.warns(FutureWarning, match='functional_call'):
        return lib.nn.utils.stateless.functional_call(*args, **kwargs)


def test_functional_call_replaces_parameters_for_one_call():
    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        before = state(m)
        given = {'0.weight': f32(lib, 4, 3, seed=1).requires_grad_(),
                 '2.bias': f32(lib, 2, seed=2).requires_grad_()}
        x = f32(lib, 5, 3, seed=3)
        out = functional_call(lib, m, given, x)
        out.sum().backward()
        kw = functional_call(lib, m, {}, args=(), kwargs={'input': x})
        return [out, given['0.weight'].grad, given['2.bias'].grad, m[0].weight.grad,
                state(m), before, kw, m(x)]
    same(case, rtol=1e-5, atol=1e-7)


def test_functional_call_buffers_updated_in_place_reach_the_dict():
    def case(lib):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(3)
        given = {'running_mean': f32(lib, 3, seed=1), 'running_var': f32(lib, 3, seed=2).abs()}
        out = functional_call(lib, bn, given, (f32(lib, 4, 3, seed=3),))
        return [out, given, state(bn)]
    same(case)


def test_functional_call_tied_weights_and_strict():
    def build(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Linear(3, 3))
        m[1].weight = m[0].weight  # one tensor under two names
        return m

    def case(lib):
        m, x = build(lib), f32(lib, 2, 3, seed=1)
        w = f32(lib, 3, 3, seed=2)
        tied = functional_call(lib, m, {'0.weight': w}, x)
        untied = functional_call(lib, m, {'0.weight': w}, x, tie_weights=False)
        both_given = functional_call(lib, m, {'0.weight': w, '1.weight': w}, x)
        conflict = error_kind(lambda: functional_call(
            lib, m, {'0.weight': w, '1.weight': w + 1}, x))
        missing = error_kind(lambda: functional_call(lib, m, {'0.weight': w}, x, strict=True))
        unexpected = error_kind(lambda: functional_call(
            lib, m, dict(m.named_parameters(remove_duplicate=False), extra=w), x, strict=True))
        full = functional_call(lib, m, dict(m.named_parameters(remove_duplicate=False)), x,
                               strict=True)
        bad_value = error_kind(lambda: functional_call(lib, m, {'0.weight': 3.0}, x))
        return [tied, untied, both_given, conflict, missing, unexpected, full, bad_value,
                m(x), m[1].weight is m[0].weight]
    same(case)


def test_functional_call_on_a_parametrized_module():
    class Double:
        def __new__(cls, lib):
            class _Double(lib.nn.Module):
                def forward(self, X):
                    return 2 * X

                def right_inverse(self, X):
                    return X / 2
            return _Double()

    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        lib.nn.utils.parametrize.register_parametrization(m, 'weight', Double(lib))
        x = f32(lib, 4, 3, seed=1)
        original = f32(lib, 2, 3, seed=2).requires_grad_()
        via_original = functional_call(
            lib, m, {'parametrizations.weight.original': original}, x)
        via_original.sum().backward()
        via_weight = functional_call(lib, m, {'weight': f32(lib, 2, 3, seed=3)}, x)
        return [via_original, original.grad, via_weight, state(m), m(x)]
    same(case)


def test_device_hooks_fusion_and_functional_call(device):
    """Built on the CPU with the same seed as PyTorch, run on the device: PyTorch's values."""
    def build(lib):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            conv = lib.nn.utils.weight_norm(lib.nn.Conv2d(2, 3, 3))
        linear = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))
        fused = lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(3, 3, 1).eval(),
                                               _eval_bn(lib, lib.nn.BatchNorm2d(3), seed=5))
        return conv, fused, linear

    def run(lib, modules, dev):
        conv, fused, linear = modules
        h = fused(conv(lib.tensor(arr(2, 2, 5, 5, seed=1), dtype=lib.float32, device=dev)))
        h = linear(h.permute(0, 2, 3, 1))
        w = lib.tensor(arr(4, 3, seed=2), dtype=lib.float32, device=dev)
        return h, functional_call(lib, linear, {'weight_orig': w}, h[..., :3])
    expected = run(torch, build(torch), 'cpu')
    got = run(nbgrad, [m.to(device) for m in build(nbgrad)], device)
    for g, e in zip(got, expected):
        assert g.device.type == device
        np.testing.assert_allclose(g.detach().cpu().numpy(), e.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_convert_conv_weight_memory_format_keeps_weights_and_objects():
    """The weights of the 2-d (or 3-d) conv layers, nested too, take the memory format in place:
    same Parameter objects and values, the module returned; other layers untouched."""
    def run(lib):
        lib.manual_seed(0)
        nn = lib.nn
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ConvTranspose2d(4, 2, 2)),
                              nn.Conv3d(1, 1, 1), nn.Linear(2, 2))
        weights = [m.weight for m in (model[0], model[1][0], model[2], model[3])]
        same = [nn.utils.convert_conv2d_weight_memory_format(model, lib.channels_last) is model,
                nn.utils.convert_conv3d_weight_memory_format(model, lib.channels_last_3d)
                is model]
        same += [a is b for a, b in zip(weights, (model[0].weight, model[1][0].weight,
                                                  model[2].weight, model[3].weight))]
        x = lib.tensor(np.linspace(-1, 1, 75).reshape(1, 3, 5, 5), dtype=lib.float32)
        return same, model[1](model[0](x)).detach().numpy()
    (same_nb, out_nb), (same_t, out_t) = run(nbgrad), run(torch)
    assert same_nb == same_t == [True] * 6
    np.testing.assert_allclose(out_nb, out_t, rtol=1e-5, atol=1e-6)
