"""torch._foreach_* against PyTorch 2.13: every function of the family, each form of its second
operand (a number, a list of numbers, a list of tensors, a 0-dim tensor), the in-place forms
(which return the list they were given), autograd through them, and PyTorch's errors."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

from torch_compare import assert_same, both  # noqa: E402


def _torch_names():
    return sorted(name for name in dir(torch) if name.startswith('_foreach_'))


def test_every_foreach_function_of_pytorch_is_there():
    assert [name for name in _torch_names() if not hasattr(nbgrad, name)] == []


def _lists(lib, *, positive=False, count=2):
    rng = np.random.default_rng(0)
    shapes = [(3,), (2, 2)]
    out = []
    for _ in range(count):
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        out.append([lib.tensor(np.abs(a) + 0.5 if positive else a) for a in arrays])
    return out


def _check(fn, rtol=1e-6):
    both(fn, lambda got, expected: assert_same(got, expected, rtol=rtol, atol=1e-7))


_UNARY = [name[len('_foreach_'):] for name in _torch_names()
          if not name.endswith('_') and name[len('_foreach_'):] in (
              'abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 '
              'log1p log2 neg reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh '
              'trunc').split()]


@pytest.mark.parametrize('name', _UNARY)
@pytest.mark.parametrize('in_place', [False, True], ids=['out', 'in-place'])
def test_unary(name, in_place):
    positive = name in ('log', 'log10', 'log1p', 'log2', 'rsqrt', 'sqrt', 'lgamma')

    def run(lib):
        xs = _lists(lib, positive=positive)[0]
        if name in ('acos', 'asin'):
            xs = [x.tanh() for x in xs]
        if not in_place:
            return getattr(lib, f'_foreach_{name}')(xs)
        returned = getattr(lib, f'_foreach_{name}_')(xs)
        assert returned is xs
        return xs
    _check(run)


_SECONDS = {
    'number': lambda lib, b: 0.5,
    'numbers': lambda lib, b: [0.5, -1.25],
    'tensors': lambda lib, b: b,
    '0-dim tensor': lambda lib, b: lib.tensor(2.0),
}


@pytest.mark.parametrize('second', _SECONDS)
@pytest.mark.parametrize('name', ['add', 'sub', 'mul', 'div', 'clamp_max', 'clamp_min',
                                  'maximum', 'minimum', 'pow'])
@pytest.mark.parametrize('in_place', [False, True], ids=['out', 'in-place'])
def test_binary(name, second, in_place):
    def run(lib):
        a, b = _lists(lib, positive=name == 'pow')
        other = _SECONDS[second](lib, b)
        fn = getattr(lib, f'_foreach_{name}' + ('_' if in_place else ''))
        result = fn(a, other)
        return a if in_place else result
    _check(run)


@pytest.mark.parametrize('second', ['tensors', '0-dim tensor'])
@pytest.mark.parametrize('name', ['add', 'sub'])
def test_alpha(name, second):
    _check(lambda lib: getattr(lib, f'_foreach_{name}')(
        _lists(lib)[0], _SECONDS[second](lib, _lists(lib)[1]), alpha=0.3))


def test_a_number_to_the_power_of_each_tensor():
    _check(lambda lib: lib._foreach_pow(2.0, _lists(lib)[0]))


@pytest.mark.parametrize('value', ['number', 'numbers', 'tensor'])
@pytest.mark.parametrize('name', ['addcmul', 'addcdiv', 'addcmul_', 'addcdiv_'])
def test_pointwise(name, value):
    def run(lib):
        a, b = _lists(lib)
        c = _lists(lib, positive=True)[0]
        v = {'number': 0.3, 'numbers': [0.3, -2.0], 'tensor': lib.tensor([0.3, 2.0])}[value]
        result = getattr(lib, f'_foreach_{name}')(a, b, c, v)
        return a if name.endswith('_') else result
    _check(run)


@pytest.mark.parametrize('weight', ['number', 'numbers', 'tensors'])
@pytest.mark.parametrize('in_place', [False, True], ids=['out', 'in-place'])
def test_lerp(weight, in_place):
    def run(lib):
        a, b = _lists(lib)
        w = {'number': 0.25, 'numbers': [0.25, 0.75], 'tensors': [x.sigmoid() for x in b]}[weight]
        if in_place:
            lib._foreach_lerp_(a, b, w)
            return a
        return lib._foreach_lerp(a, b, w)
    _check(run)


@pytest.mark.parametrize('call', [
    lambda lib, xs: lib._foreach_norm(xs),
    lambda lib, xs: lib._foreach_norm(xs, 1),
    lambda lib, xs: lib._foreach_norm(xs, float('inf')),
    lambda lib, xs: lib._foreach_norm(xs, 2, dtype=lib.float64),
    lambda lib, xs: lib._foreach_powsum(xs, 3),
    lambda lib, xs: lib._foreach_max(xs),
    lambda lib, xs: lib._foreach_clone(xs),
    lambda lib, xs: lib._foreach_mm([x.reshape(-1, 1) for x in xs], [x.reshape(1, -1)
                                                                      for x in xs]),
], ids=['norm', 'norm 1', 'norm inf', 'norm float64', 'powsum 3', 'max', 'clone', 'mm'])
def test_reductions_and_others(call):
    _check(lambda lib: call(lib, _lists(lib)[0]))


def test_copy_and_zero_write_in_place():
    def run(lib):
        a, b = _lists(lib)
        assert lib._foreach_copy_(a, b) is a
        copied = [x.clone() for x in a]
        assert lib._foreach_zero_(a) is a
        return copied, a
    _check(run)


def test_gradients_flow_through_each_tensor():
    def run(lib):
        xs = [x.requires_grad_() for x in _lists(lib)[0]]
        ys = lib._foreach_mul(lib._foreach_exp(xs), 3.0)
        sum(y.sum() for y in ys).backward()
        return [x.grad for x in xs]
    _check(run)


def test_an_ema_update_as_timm_writes_it():
    def run(lib):
        ema, params = _lists(lib)
        for _ in range(3):
            lib._foreach_lerp_(ema, params, 1 - 0.9)
            lib._foreach_mul_(params, 0.5)
        return ema
    _check(run)


@pytest.mark.parametrize('call', [
    lambda lib, a, b: lib._foreach_add([], 1),
    lambda lib, a, b: lib._foreach_add(a, [b[0]]),
    lambda lib, a, b: lib._foreach_add(a, [1.0]),
    lambda lib, a, b: lib._foreach_mul(a, lib.tensor([2.0, 3.0])),
    lambda lib, a, b: lib._foreach_lerp(a, b, [0.5]),
    lambda lib, a, b: lib._foreach_add([lib.ones(2)], [lib.ones(3)]),
    lambda lib, a, b: lib._foreach_addcmul(a, a, b, lib.tensor([1.0])),
    lambda lib, a, b: lib._foreach_exp(lib.ones(2)),
    lambda lib, a, b: lib._foreach_sub(a, lib.tensor(1.5), alpha=2),
    lambda lib, a, b: lib._foreach_add(a, 1.5, alpha=2),
], ids=['empty', 'lengths', 'scalar count', '1-d scalar tensor', 'weights', 'shapes',
        'values', 'not a list', 'sub alpha tensor', 'add alpha number'])
def test_errors_as_pytorch(call):
    _check(lambda lib: call(lib, *_lists(lib)))
