"""Differences from PyTorch in nn.Module that porting sweeps found, each fixed and checked here
against PyTorch itself: registration hooks, Module.compile, full backward hooks."""
import importlib

import pytest

import nbgrad
from torch_compare import assert_same_error, both

torch = pytest.importorskip('torch')


def test_module_registration_hooks():
    """Global buffer / parameter / submodule registration hooks: when each runs (buffers and
    submodules even when None, parameters only when not None) and replacing the value."""
    def run(lib):
        module_hooks = importlib.import_module(lib.__name__ + '.nn.modules.module')
        calls = []
        handles = [
            module_hooks.register_module_buffer_registration_hook(
                lambda m, n, b: calls.append(('buffer', n, b is None))),
            module_hooks.register_module_parameter_registration_hook(
                lambda m, n, p: calls.append(('parameter', n, p is None))),
            module_hooks.register_module_module_registration_hook(
                lambda m, n, s: calls.append(('module', n, s is None)))]
        try:
            m = lib.nn.Module()
            m.register_buffer('a', None)
            m.register_buffer('b', lib.ones(1))
            m.b = lib.zeros(1)
            m.register_parameter('p', None)
            m.q = lib.nn.Parameter(lib.ones(1))
            m.q = None
            m.add_module('s', None)
            m.t = lib.nn.Linear(1, 1)
            m.t = None
        finally:
            for handle in handles:
                handle.remove()
        doubling = module_hooks.register_module_buffer_registration_hook(
            lambda m, n, b: None if b is None else b * 2)
        try:
            m.register_buffer('c', lib.ones(1))
        finally:
            doubling.remove()
        m.register_buffer('d', lib.ones(1))
        return calls, m.c, m.d
    both(run)


def test_module_compile_runs_in_place():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 2)
        returned = m.compile()
        return returned, m(lib.ones(1, 2)).detach()
    both(run)
    assert_same_error(lambda lib: lib.nn.Linear(1, 1).compile(mode='fastest'))


def test_full_backward_hook_sees_zeros_for_inputs_that_do_not_require_grad():
    def run(lib):
        class Product(lib.nn.Module):
            def forward(self, a, b):
                return a * b
        seen = []
        module = Product()
        module.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append(
            (grad_input, grad_output)))
        module(lib.tensor([2.], requires_grad=True), lib.tensor([3.])).sum().backward()
        module(lib.tensor([2.]), lib.tensor([3.], requires_grad=True)).sum().backward()
        return seen
    both(run)


INTEGER_LIKE = {   # NumPy integers and integer tensors where PyTorch's parser wants ints
    'conv_groups': lambda lib, np: lib.nn.functional.conv2d(
        lib.ones(1, 2, 6, 6), lib.ones(2, 1, 3, 3), groups=np.int64(2)),
    'conv_module_stride': lambda lib, np: lib.nn.Conv2d(2, 2, 3, stride=np.int64(2))(
        lib.ones(1, 2, 6, 6)).shape,
    'conv_padding': lambda lib, np: lib.nn.functional.conv2d(
        lib.ones(1, 2, 6, 6), lib.ones(2, 2, 3, 3), padding=np.int64(1)),
    'pad_numpy': lambda lib, np: lib.nn.functional.pad(lib.arange(6.), (np.int64(1), 1)),
    'pad_tensor': lambda lib, np: lib.nn.functional.pad(lib.arange(6.), (lib.tensor(1), 1)),
    'unfold': lambda lib, np: lib.nn.functional.unfold(lib.ones(1, 2, 6, 6), np.int64(2)),
    'chunk': lambda lib, np: lib.arange(6.).chunk(np.int64(2)),
    'split_tensor': lambda lib, np: lib.arange(6.).split(lib.tensor(2)),
    'roll': lambda lib, np: lib.arange(6.).roll(np.int64(1)),
    'ignore_index_tensor': lambda lib, np: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4), lib.tensor([0, 1, 2]), ignore_index=lib.tensor(1)),
    'adaptive_tensor_size': lambda lib, np: lib.nn.functional.adaptive_avg_pool2d(
        lib.ones(1, 2, 6, 6), lib.tensor([2, 2])),
}


def test_integer_like_arguments_are_ints():
    import numpy as np
    for case, fn in INTEGER_LIKE.items():
        both(lambda lib: fn(lib, np))


def test_flatten_of_a_0d_tensor_checks_its_dims():
    both(lambda lib: lib.tensor(1.).flatten())
    for call in (lambda lib: lib.tensor(1.).flatten(0, 1),
                 lambda lib: lib.nn.Flatten()(lib.tensor(1.))):
        both(call)      # (both raise IndexError)


def test_hook_handles_and_lazy_modules_pickle():
    import pickle

    def run(lib):
        module = lib.nn.Linear(1, 1)
        handle = module.register_forward_hook(print)
        restored = pickle.loads(pickle.dumps(handle))
        lazy = pickle.loads(pickle.dumps(lib.nn.LazyLinear(3)))
        lib.manual_seed(0)
        return restored.id == handle.id, repr(lazy), lazy(lib.ones(2, 4)).shape, repr(lazy)
    both(run)


def test_refusals_match_pytorch():
    """(nbgrad computed these)"""
    calls = [
        lambda lib: lib.nn.functional.multi_margin_loss(lib.tensor([[1, 2, 3]]),
                                                        lib.tensor([0])),
        lambda lib: lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2, dtype=lib.long),
                                                   lib.zeros(1, 1, 2, 2, dtype=lib.long), 2),
        lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 1, 1, 1),
                                                       lib.ones(1, 1, 2, 2), padding=1),
        lambda lib: lib.nn.functional.conv_transpose1d(lib.ones(1, 1, 1), lib.ones(1, 1, 2),
                                                       padding=1),
        lambda lib: lib.nn.functional.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]),
                                                    weight=[1., 1., 1.]),
    ]
    for call in calls:
        assert_same_error(call)


def test_grad_scaler_with_sparse_gradients():
    def run(lib):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(5, 3, sparse=True)
        opt = lib.optim.SGD(emb.parameters(), lr=0.1)
        scaler = lib.amp.GradScaler('cpu')
        for _ in range(3):
            opt.zero_grad()
            scaler.scale(emb(lib.tensor([1, 2, 1])).sum()).backward()
            scaler.step(opt)
            scaler.update()
        return scaler.get_scale(), emb.weight.detach()
    both(run)


def test_float16_products_with_a_bias_round_once():
    """Linear, conv and addmm on half tensors add the bias before rounding to half, and
    addcmul/lerp compute in float, as PyTorch's CPU kernels: their results equal the exactly
    rounded value where PyTorch's do."""
    def run(lib):
        lib.manual_seed(0)
        x, w, b = lib.randn(64, 16).half(), lib.randn(8, 16).half(), lib.randn(8).half()
        a, c = (lib.randn(500) * 2).half(), (lib.randn(500) * 2).half()
        conv = lib.nn.Conv2d(3, 4, 3).half()
        return (lib.nn.functional.linear(x, w, b), lib.addmm(b, x, w.t()),
                lib.addcmul(a, a, c), conv(lib.randn(2, 3, 6, 6).half()))

    def nearly_all_equal(got, expected):
        # float32 sums in another order can land one element a half-ulp away; rounding twice
        # made a third of them differ, by up to hundreds of ulps where the sum cancels
        for g, e in zip(got, expected):
            g, e = (t.detach().numpy().astype('float64') for t in (g, e))
            assert (g != e).mean() < 0.01, (g != e).mean()
            assert abs(g - e).max() <= 2 ** -10 * abs(e).max()
    both(run, nearly_all_equal)


class _GetsExtra:        # the three kinds of module with extra state (built per library)
    @staticmethod
    def make(lib, kind):
        class Gets(lib.nn.Module):
            def get_extra_state(self):
                return 7

        class Sets(lib.nn.Module):
            def set_extra_state(self, state):
                self.seen = state

        class Both(Gets):
            def set_extra_state(self, state):
                self.seen = state
        return {'gets': Gets, 'sets': Sets, 'both': Both}[kind]()


@pytest.mark.parametrize('kind', ['gets', 'sets', 'both'])
@pytest.mark.parametrize('state', ['own', 'empty', 'extra'])
@pytest.mark.parametrize('strict', [True, False])
def test_extra_state_loads_where_set_extra_state_is_overridden(kind, state, strict):
    """PyTorch saves extra state where get_extra_state is overridden and loads it where
    set_extra_state is (nbgrad keyed both on get_extra_state)."""
    def run(lib):
        module = _GetsExtra.make(lib, kind)
        given = {'own': lambda: _GetsExtra.make(lib, kind).state_dict(), 'empty': dict,
                 'extra': lambda: {'_extra_state': 3}}[state]()
        result = module.load_state_dict(given, strict=strict)
        return (list(result.missing_keys), list(result.unexpected_keys),
                getattr(module, 'seen', None), list(module.state_dict()))
    both(run)


def test_pytorchs_module_internals_that_libraries_use():
    from nbgrad.nn.modules.module import _IncompatibleKeys  # noqa: F401
    m = nbgrad.nn.Linear(2, 2)
    calls = []
    m.register_forward_hook(lambda *a: calls.append(1))
    second = m.register_forward_hook(lambda *a: calls.append(2))
    m._forward_hooks.move_to_end(second.id, last=False)    # (an OrderedDict, as PyTorch's)
    m._call_impl(nbgrad.ones(2))
    assert calls == [2, 1]
    assert nbgrad.nn.Module.forward.__name__ == torch.nn.Module.forward.__name__
