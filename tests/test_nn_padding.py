"""F.pad and the padding layers against PyTorch: every mode over every supported number of padded
dims, batched and unbatched, negative (cropping) amounts, values and gradients, grad_fn names,
float64 gradcheck and gradgradcheck, integer and bool inputs, errors with PyTorch's exception
kinds, the modules' reprs and input checks, and the 'cuda' device."""
import numpy as np
import pytest

import nbgrad
from torch_compare import both
from test_nn_conv import assert_close_arrays, forward_backward

torch = pytest.importorskip('torch')

SHAPES = {1: (2, 3, 5), 2: (2, 3, 4, 5), 3: (1, 2, 4, 5, 4)}  # batched input per padded-dim count
AMOUNTS = {1: [(1, 2), (0, 3), (-1, 2), (2, -2)],
           2: [(1, 1, 2, 0), (-1, 2, 1, -2), (3, 0, 0, 3)],
           3: [(1, 0, 2, 1, 0, 3), (-1, 1, 1, -2, 2, 0)]}
MODES = ['constant', 'reflect', 'replicate', 'circular']


def pad_cases():
    for mode in MODES:
        for nd, amounts in AMOUNTS.items():
            for pad in amounts:
                for batched in (True, False):
                    kind = 'batched' if batched else 'unbatched'
                    yield pytest.param(mode, nd, pad, batched, id=f'{mode}-{nd}d-{pad}-{kind}')


def padder(pad, mode, value=None):
    return lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode, value=value)


def sample(nd, batched, seed=0):
    shape = SHAPES[nd] if batched else SHAPES[nd][1:]
    return np.random.default_rng(seed).standard_normal(shape)


def compare(fn, arrays, device='cpu'):
    got, got_name = forward_backward(nbgrad, fn, arrays, device=device)
    expected, expected_name = forward_backward(torch, fn, arrays)
    assert_close_arrays(got[:1], expected[:1], 0, 0)  # padding moves values: exact
    assert_close_arrays(got[1:], expected[1:], 1e-12, 1e-14)  # sums, in another order
    assert got_name == expected_name


@pytest.mark.parametrize('mode, nd, pad, batched', list(pad_cases()))
def test_values_and_gradients_match_torch(mode, nd, pad, batched):
    compare(padder(pad, mode), [sample(nd, batched)])


@pytest.mark.parametrize('ndim, pad', [(1, (2, 1)), (1, (-1, -2)), (2, (0, 0, 1, 1)),
                                       (4, (1, 1, 0, 2, -1, 0, 2, 1)), (5, (1, 2)),
                                       (5, (1, 0, 0, 1, 1, 0, 0, 1, 2, 1))])
def test_constant_any_number_of_dims(ndim, pad):
    x = np.random.default_rng(1).standard_normal((5, 3, 4, 3, 2)[:ndim])
    compare(padder(pad, 'constant', 2.5), [x])


@pytest.mark.parametrize('mode', MODES)
def test_gradcheck_and_gradgradcheck(mode):
    x = nbgrad.tensor(sample(2, False), requires_grad=True)
    fn = padder((2, 1, -1, 3), mode)
    assert nbgrad.autograd.gradcheck(lambda t: fn(nbgrad, t), [x])
    assert nbgrad.autograd.gradgradcheck(lambda t: fn(nbgrad, t), [x])


@pytest.mark.parametrize('mode', MODES)
def test_double_backward_names_and_values_match_torch(mode):
    def run(lib):
        x = lib.tensor(sample(1, True), requires_grad=True)
        y = lib.nn.functional.pad(x, (2, 1), mode=mode)
        g = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), requires_grad=True)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum(), g)
        return gx.detach().numpy(), gg.numpy(), mode == 'circular' or gx.grad_fn.name()
    got, expected = run(nbgrad), run(torch)
    assert_close_arrays(got[:2], expected[:2], 0, 0)
    assert got[2] == expected[2]


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8', 'bool', 'float32'])
def test_other_dtypes(mode, dtype):
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 5
    both(lambda lib: lib.nn.functional.pad(lib.tensor(x).to(getattr(lib, dtype)), (2, 1), mode))


@pytest.mark.parametrize('dtype, value', [(dtype, value) for dtype in ('float32', 'int64', 'bool')
                                          for value in (2.5, -0.0, 1, float('inf'))
                                          if dtype == 'float32' or value != float('inf')])
def test_constant_value_is_cast_like_torch(dtype, value):
    x = np.arange(6).reshape(2, 3) % 2
    both(lambda lib: lib.nn.functional.pad(lib.tensor(x).to(getattr(lib, dtype)), (1, 1),
                                           value=value),
         lambda got, expected: np.testing.assert_array_equal(
             np.signbit(got.numpy().astype(float)), np.signbit(expected.numpy().astype(float)))
         or np.testing.assert_array_equal(got.numpy(), expected.numpy()))


def test_result_never_aliases_the_input():
    x = nbgrad.ones(2, 3)
    for mode, pad in (('constant', (0, 0)), ('constant', (-1, 0)), ('replicate', (0, 0))):
        y = nbgrad.nn.functional.pad(x, pad, mode=mode)
        y.add_(1)
        assert x.sum().item() == 6


def z(lib, *shape):
    return lib.zeros(*shape)


ERRORS = {
    'odd_length': lambda F, lib: F.pad(z(lib, 2, 3), (1, 2, 3)),
    'too_long': lambda F, lib: F.pad(z(lib, 2, 3), (1, 1, 1, 1, 1, 1)),
    'scalar': lambda F, lib: F.pad(lib.tensor(1.0), (1, 1)),
    'float_amount': lambda F, lib: F.pad(z(lib, 2, 3), (1.5, 1)),
    'unknown_mode': lambda F, lib: F.pad(z(lib, 2, 3), (1, 1), mode='wrap'),
    'value_with_reflect': lambda F, lib: F.pad(z(lib, 2, 3), (1, 1), mode='reflect', value=2.0),
    'constant_negative_size': lambda F, lib: F.pad(z(lib, 2, 4), (-3, -2)),
    'reflect_1d_input': lambda F, lib: F.pad(z(lib, 4), (1, 1), mode='reflect'),
    'reflect_too_many_dims': lambda F, lib: F.pad(z(lib, 2, 3, 4), (1, 1, 1, 1, 1, 1),
                                                  mode='reflect'),
    'replicate_4d_two_amounts': lambda F, lib: F.pad(z(lib, 1, 2, 3, 4), (1, 1),
                                                     mode='replicate'),
    'circular_8_amounts': lambda F, lib: F.pad(z(lib, 1, 2, 3, 4, 5), (1,) * 8, mode='circular'),
    'reflect_pad_equals_size': lambda F, lib: F.pad(z(lib, 2, 3, 4), (4, 0), mode='reflect'),
    'reflect_empty_output': lambda F, lib: F.pad(z(lib, 2, 3, 4), (-3, -1), mode='reflect'),
    'replicate_empty_output': lambda F, lib: F.pad(z(lib, 2, 3, 4), (-3, -1), mode='replicate'),
    'replicate_zero_size_dim': lambda F, lib: F.pad(z(lib, 2, 3, 0), (1, 1), mode='replicate'),
    'reflect_zero_channels': lambda F, lib: F.pad(z(lib, 2, 0, 4), (1, 1), mode='reflect'),
    'circular_wraps_twice': lambda F, lib: F.pad(z(lib, 2, 3, 4), (5, 0), mode='circular'),
    'circular_wraps_past_crop': lambda F, lib: F.pad(z(lib, 2, 3, 4), (-5, 5), mode='circular'),
    'circular_zero_size_dim': lambda F, lib: F.pad(z(lib, 2, 3, 0), (1, 1), mode='circular'),
}


@pytest.mark.parametrize('name', ERRORS)
def test_errors_have_torch_kinds(name):
    both(lambda lib: ERRORS[name](lib.nn.functional, lib))


@pytest.mark.parametrize('mode', MODES)
def test_device(mode, device):
    compare(padder((1, 2, 2, -1), mode), [sample(2, True)], device)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

MODULES = [('ZeroPad1d', (2,)), ('ZeroPad2d', ((1, 2, 0, 3),)), ('ZeroPad3d', (1,)),
           ('ConstantPad1d', ((1, 2), 3.5)), ('ConstantPad2d', (1, -1.0)),
           ('ConstantPad3d', ((1, 0, 0, 1, 2, 0), 0.5)),
           ('ReflectionPad1d', (2,)), ('ReflectionPad2d', ((1, 2, 0, 1),)),
           ('ReflectionPad3d', (1,)), ('ReplicationPad1d', ((3, 0),)),
           ('ReplicationPad2d', (2,)), ('ReplicationPad3d', ((1, 0, 2, 0, 0, 1),)),
           ('CircularPad1d', (2,)), ('CircularPad2d', ((1, 0, 2, 1),)), ('CircularPad3d', (1,))]


@pytest.mark.parametrize('name, args', MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, args):
    nd = int(name[-2])
    assert repr(getattr(nbgrad.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    for batched in (True, False):
        compare(lambda lib, x: getattr(lib.nn, name)(*args)(x), [sample(nd, batched)])


@pytest.mark.parametrize('name', ['CircularPad1d', 'CircularPad2d', 'CircularPad3d',
                                  'ReflectionPad2d'])
def test_modules_refuse_inputs_of_the_wrong_rank(name):
    both(lambda lib: getattr(lib.nn, name)(1)(lib.zeros(2, 2, 2, 2, 2, 2)))
