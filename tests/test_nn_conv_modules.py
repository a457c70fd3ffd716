"""Conv1d/2d/3d, ConvTranspose1d/2d/3d, Fold and Unfold (modules and F.fold/F.unfold) against
PyTorch: reprs, state_dict keys, seeded default initialisation (bit for bit), forward and
gradients with every padding_mode, ConvTranspose's output_size, fold/unfold values, gradients,
round trips and gradcheck, constructor and input errors with PyTorch's exception kinds, and
factory arguments (dtype, the 'cuda' device)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import both
from test_nn_conv import assert_close_arrays, forward_backward, to_numpy

torch = pytest.importorskip('torch')

# (class name, constructor args, constructor kwargs, input shape)
LAYERS = [
    ('Conv1d', (3, 4, 3), {}, (2, 3, 9)),
    ('Conv1d', (4, 6, 2), dict(stride=2, padding=1, groups=2, bias=False), (2, 4, 7)),
    ('Conv1d', (3, 3, 4), dict(padding='same', padding_mode='reflect', dilation=2), (2, 3, 9)),
    ('Conv2d', (3, 8, 3), {}, (2, 3, 6, 5)),
    ('Conv2d', (3, 4, (2, 3)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)), (2, 3, 6, 7)),
    ('Conv2d', (4, 4, 3), dict(padding='same', groups=4, padding_mode='circular'), (4, 5, 6)),
    ('Conv2d', (3, 4, 2), dict(padding='same', padding_mode='replicate'), (2, 3, 5, 5)),
    ('Conv2d', (3, 4, 3), dict(padding=2, padding_mode='reflect'), (2, 3, 5, 5)),
    ('Conv2d', (2, 4, 3), dict(padding='valid', bias=False), (2, 2, 5, 5)),
    ('Conv3d', (2, 3, (2, 3, 2)), dict(padding=1, padding_mode='circular'), (1, 2, 3, 4, 3)),
    ('Conv3d', (2, 4, 3), dict(stride=2, groups=2), (1, 2, 5, 5, 5)),
    ('Conv3d', (2, 2, 2), dict(padding='same', padding_mode='replicate'), (2, 3, 4, 3)),
    ('ConvTranspose1d', (3, 4, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ('ConvTranspose2d', (4, 6, (3, 2)), dict(stride=2, padding=1, groups=2, dilation=(1, 2)),
     (2, 4, 4, 3)),
    ('ConvTranspose2d', (3, 2, 3), dict(bias=False), (3, 4, 4)),
    ('ConvTranspose3d', (2, 3, 2), dict(stride=(1, 2, 2), padding=(0, 1, 0),
                                        output_padding=(0, 1, 1)), (1, 2, 3, 2, 3)),
]
LAYER_IDS = [f'{name}-{i}' for i, (name, *_) in enumerate(LAYERS)]


def make_layer(lib, name, args, kwargs, dtype='float64', device='cpu'):
    lib.manual_seed(0)  # default initialisation draws from the CPU generator
    layer = getattr(lib.nn, name)(*args, **kwargs, dtype=getattr(lib, dtype))
    return layer.to(device) if lib is nbgrad else layer


@pytest.mark.parametrize('name, args, kwargs, shape', LAYERS, ids=LAYER_IDS)
def test_repr_state_dict_and_seeded_weights_match_torch(name, args, kwargs, shape):
    ours = make_layer(nbgrad, name, args, kwargs, 'float32')
    theirs = make_layer(torch, name, args, kwargs, 'float32')
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].numpy().tobytes() == value.numpy().tobytes(), key
    for attribute in ('in_channels', 'out_channels', 'kernel_size', 'stride', 'padding',
                      'dilation', 'transposed', 'output_padding', 'groups', 'padding_mode',
                      '_reversed_padding_repeated_twice'):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute


@pytest.mark.parametrize('name, args, kwargs, shape', LAYERS, ids=LAYER_IDS)
def test_forward_and_gradients_match_torch(name, args, kwargs, shape):
    def run(lib, x):
        layer = make_layer(lib, name, args, kwargs, device=x.device)
        run.layers[lib] = layer
        return layer(x)
    run.layers = {}
    x = np.random.default_rng(2).standard_normal(shape)
    got, got_name = forward_backward(nbgrad, run, [x])
    expected, expected_name = forward_backward(torch, run, [x])
    assert_close_arrays(got, expected, 1e-10, 1e-12)
    assert got_name == expected_name
    params = [[to_numpy(p.grad) for p in run.layers[lib].parameters()] for lib in (nbgrad, torch)]
    assert_close_arrays(*params, 1e-10, 1e-12)


@pytest.mark.parametrize('name, args, kwargs, shape', [LAYERS[5], LAYERS[13]],
                         ids=[LAYER_IDS[5], LAYER_IDS[13]])
def test_device_and_dtype_arguments(name, args, kwargs, shape, device):
    layer = getattr(nbgrad.nn, name)(*args, **kwargs, device=device, dtype=nbgrad.float64)
    assert layer.weight.device.type == device and layer.weight.dtype == nbgrad.float64
    out = layer(nbgrad.ones(*shape, dtype=nbgrad.float64, device=device))
    out.sum().backward()
    assert out.device.type == device and layer.weight.grad.device.type == device


@pytest.mark.parametrize('output_size', [(12, 12), [11, 12], (1, 8, 12, 11), (12, 11)])
@pytest.mark.parametrize('batched', [True, False])
def test_conv_transpose_output_size(output_size, batched):
    shape = (1, 3, 5, 5) if batched else (3, 5, 5)
    if len(output_size) == 4 and not batched:
        output_size = output_size[1:]

    def run(lib, x):
        lib.manual_seed(0)
        layer = lib.nn.ConvTranspose2d(3, 8, 3, stride=2, dtype=lib.float64)
        return layer(x, output_size=output_size)
    got, _ = forward_backward(nbgrad, run, [np.random.default_rng(0).standard_normal(shape)])
    expected, _ = forward_backward(torch, run, [np.random.default_rng(0).standard_normal(shape)])
    assert_close_arrays(got, expected, 1e-10, 1e-12)


@pytest.mark.parametrize('output_size', [(13, 12), (10, 11), (12,), (1, 1, 12, 12, 1)])
def test_conv_transpose_bad_output_size(output_size):
    both(lambda lib: lib.nn.ConvTranspose2d(3, 8, 3, stride=2)(lib.zeros(1, 3, 5, 5),
                                                                output_size=output_size))


CONSTRUCTOR_ERRORS = {
    'groups_zero': lambda nn: nn.Conv2d(4, 4, 3, groups=0),
    'in_not_divisible': lambda nn: nn.Conv2d(3, 4, 3, groups=2),
    'out_not_divisible': lambda nn: nn.Conv2d(4, 6, 3, groups=4),
    'padding_string': lambda nn: nn.Conv1d(3, 4, 3, padding='full'),
    'same_strided': lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding='same'),
    'padding_mode': lambda nn: nn.Conv3d(3, 4, 3, padding_mode='mirror'),
    'transpose_padding_mode': lambda nn: nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect'),
}


@pytest.mark.parametrize('name', CONSTRUCTOR_ERRORS)
def test_constructor_errors(name):
    both(lambda lib: CONSTRUCTOR_ERRORS[name](lib.nn))


INPUT_ERRORS = {
    'channels': lambda nn, lib: nn.Conv2d(3, 4, 3)(lib.zeros(1, 2, 5, 5)),
    'rank': lambda nn, lib: nn.Conv2d(3, 4, 3)(lib.zeros(1, 1, 3, 5, 5)),
    'kernel_larger_than_input': lambda nn, lib: nn.Conv1d(3, 4, 5)(lib.zeros(1, 3, 4)),
    'reflect_padding_too_large': lambda nn, lib: nn.Conv2d(3, 4, 3, padding=3,
                                                           padding_mode='reflect')(
        lib.zeros(1, 3, 3, 3)),
    'circular_padding_too_large': lambda nn, lib: nn.Conv1d(3, 4, 3, padding=4,
                                                            padding_mode='circular')(
        lib.zeros(1, 3, 3)),
    'dtype': lambda nn, lib: nn.Conv1d(3, 4, 3)(lib.zeros(1, 3, 5, dtype=lib.float64)),
}


@pytest.mark.parametrize('name', INPUT_ERRORS)
def test_input_errors(name):
    both(lambda lib: INPUT_ERRORS[name](lib.nn, lib))


# ---------------------------------------------------------------------------------------------
# fold / unfold
# ---------------------------------------------------------------------------------------------

# (kernel_size, dilation, padding, stride, image size)
BLOCKS = [(3, 1, 0, 1, (6, 7)), ((2, 3), 2, 1, (2, 1), (6, 7)), (2, 1, 0, 2, (4, 6)),
          (1, 1, 0, 1, (3, 4)), ((3, 2), (1, 2), (2, 0), (3, 1), (5, 6))]


def unfolder(kernel, dilation, padding, stride):
    return lambda lib, x: lib.nn.functional.unfold(x, kernel, dilation, padding, stride)


def folder(size, kernel, dilation, padding, stride):
    return lambda lib, x: lib.nn.functional.fold(x, size, kernel, dilation, padding, stride)


@pytest.mark.parametrize('batched', [True, False])
@pytest.mark.parametrize('geometry', BLOCKS, ids=str)
def test_unfold_and_fold_match_torch(geometry, batched):
    *args, size = geometry
    image = np.random.default_rng(0).standard_normal(((2,) if batched else ()) + (3,) + size)
    got, got_name = forward_backward(nbgrad, unfolder(*args), [image])
    expected, expected_name = forward_backward(torch, unfolder(*args), [image])
    assert_close_arrays(got, expected, 0, 1e-15)
    assert got_name == expected_name == 'Im2ColBackward0'
    columns = np.random.default_rng(1).standard_normal(expected[0].shape)
    got, got_name = forward_backward(nbgrad, folder(size, *args), [columns])
    expected, expected_name = forward_backward(torch, folder(size, *args), [columns])
    assert_close_arrays(got, expected, 1e-12, 1e-14)
    assert got_name == expected_name == 'Col2ImBackward0'


@pytest.mark.parametrize('geometry', BLOCKS, ids=str)
def test_fold_of_unfold_counts_each_pixel_once_per_block(geometry):
    """fold(unfold(x)) multiplies each pixel by the number of blocks covering it (NumPy
    computes that count independently, from the geometry)."""
    kernel, dilation, padding, stride, size = (
        tuple(v) if isinstance(v, tuple) else (v, v) for v in geometry)
    x = nbgrad.tensor(np.random.default_rng(0).standard_normal((2, 3) + size))
    F = nbgrad.nn.functional
    round_trip = F.fold(F.unfold(x, kernel, dilation, padding, stride), size, kernel, dilation,
                        padding, stride)
    count = np.zeros(size)
    blocks = [(n + 2 * p - d * (k - 1) - 1) // s + 1
              for n, p, d, k, s in zip(size, padding, dilation, kernel, stride)]
    for bi in range(blocks[0]):
        for bj in range(blocks[1]):
            for ki in range(kernel[0]):
                for kj in range(kernel[1]):
                    i = bi * stride[0] + ki * dilation[0] - padding[0]
                    j = bj * stride[1] + kj * dilation[1] - padding[1]
                    if 0 <= i < size[0] and 0 <= j < size[1]:
                        count[i, j] += 1
    np.testing.assert_allclose(round_trip.numpy(), x.numpy() * count, rtol=1e-12)


def test_fold_unfold_gradcheck_and_gradgradcheck():
    F = nbgrad.nn.functional
    x = nbgrad.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda t: F.unfold(t, (2, 3), 1, 1, (2, 1)), [x])
    assert nbgrad.autograd.gradgradcheck(lambda t: F.unfold(t, (2, 3), 1, 1, (2, 1)) ** 2, [x])
    c = nbgrad.tensor(np.random.default_rng(1).standard_normal((1, 12, 9)), requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda t: F.fold(t, (4, 5), (2, 3), 1, 1, (2, 2)), [c])
    assert nbgrad.autograd.gradgradcheck(lambda t: F.fold(t, (4, 5), (2, 3), 1, 1, (2, 2)) ** 2,
                                         [c])


def test_unfold_never_aliases_its_input():
    x = nbgrad.ones(1, 2, 3, 3)
    nbgrad.nn.functional.unfold(x, 1).add_(1)
    assert x.sum().item() == 18


FOLD_ERRORS = {
    'unfold_2d_input': lambda F, lib: F.unfold(lib.zeros(6, 7), 3),
    'unfold_5d_input': lambda F, lib: F.unfold(lib.zeros(1, 2, 3, 6, 7), 3),
    'unfold_kernel_too_large': lambda F, lib: F.unfold(lib.zeros(1, 2, 6, 7), 8),
    'unfold_zero_stride': lambda F, lib: F.unfold(lib.zeros(1, 2, 6, 7), 3, stride=0),
    'unfold_negative_padding': lambda F, lib: F.unfold(lib.zeros(1, 2, 6, 7), 3, padding=-1),
    'unfold_zero_dilation': lambda F, lib: F.unfold(lib.zeros(1, 2, 6, 7), 3, dilation=0),
    'unfold_three_kernel_sizes': lambda F, lib: F.unfold(lib.zeros(1, 2, 6, 7), (3, 3, 3)),
    'fold_1d_input': lambda F, lib: F.fold(lib.zeros(20), (6, 7), 3),
    'fold_channels_not_divisible': lambda F, lib: F.fold(lib.zeros(2, 28, 20), (6, 7), 3),
    'fold_block_count': lambda F, lib: F.fold(lib.zeros(2, 27, 20), 6, 3),
    'fold_output_too_small': lambda F, lib: F.fold(lib.zeros(2, 27, 16), (2, 2), 3),
    'fold_zero_stride': lambda F, lib: F.fold(lib.zeros(2, 27, 20), (6, 7), 3, stride=0),
}


@pytest.mark.parametrize('name', FOLD_ERRORS)
def test_fold_unfold_errors(name):
    both(lambda lib: FOLD_ERRORS[name](lib.nn.functional, lib))


def test_fold_unfold_modules(device):
    for lib in (nbgrad, torch):
        assert repr(lib.nn.Unfold((2, 3), stride=2)) == \
            'Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=2)'
        assert repr(lib.nn.Fold((4, 5), 3, padding=1)) == \
            'Fold(output_size=(4, 5), kernel_size=3, dilation=1, padding=1, stride=1)'
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))

    def run(lib, t):
        columns = lib.nn.Unfold((2, 3), padding=1, stride=(1, 2))(t)
        return lib.nn.Fold((4, 5), (2, 3), padding=1, stride=(1, 2))(columns * columns)
    got, _ = forward_backward(nbgrad, run, [x], device=device)
    expected, _ = forward_backward(torch, run, [x])
    assert_close_arrays(got, expected, 1e-12, 1e-14)
