"""Memory formats against PyTorch: the strides that clone, contiguous, to, empty and the *_like
factories give for contiguous_format, preserve_format, channels_last and channels_last_3d; what
is_contiguous says; that elementwise results keep the layout; Module.to(memory_format=); and
PyTorch's errors for a format at the wrong rank."""
import numpy as np
import pytest
import torch

import nbgrad


def _input(lib, shape, device='cpu', layout=None):
    x = lib.tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape), device=device)
    return x.permute(*layout) if layout else x


# (name, input shape, permutation applied to it or None, call)
CALLS = [
    ('clone cl', (2, 3, 4, 5), None, lambda lib, x: x.clone(memory_format=lib.channels_last)),
    ('clone cl from cl', (2, 3, 4, 5), None,
     lambda lib, x: x.clone(memory_format=lib.channels_last).clone()),
    ('clone cl3d', (2, 3, 4, 5, 6), None,
     lambda lib, x: x.clone(memory_format=lib.channels_last_3d)),
    ('clone contiguous of permuted', (2, 4, 5, 3), (0, 3, 1, 2),
     lambda lib, x: x.clone(memory_format=lib.contiguous_format)),
    ('contiguous cl', (2, 3, 4, 5), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last)),
    ('contiguous cl of permuted', (2, 4, 3, 5), (0, 2, 1, 3),
     lambda lib, x: x.contiguous(memory_format=lib.channels_last)),
    ('contiguous of cl', (2, 3, 4, 5), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last).contiguous()),
    ('contiguous cl, size-1 channels', (2, 1, 4, 5), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last)),
    ('contiguous cl, 1x1 image', (2, 3, 1, 1), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last)),
    ('contiguous cl3d', (2, 3, 4, 5, 6), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last_3d)),
    ('to cl', (2, 3, 4, 5), None, lambda lib, x: x.to(memory_format=lib.channels_last)),
    ('to double cl', (2, 3, 4, 5), None,
     lambda lib, x: x.to(lib.float64, memory_format=lib.channels_last)),
    ('to double keeps cl', (2, 3, 4, 5), None,
     lambda lib, x: x.to(memory_format=lib.channels_last).double()),
    ('to contiguous of cl', (2, 3, 4, 5), None,
     lambda lib, x: x.to(memory_format=lib.channels_last).to(memory_format=lib.contiguous_format)),
    ('float(memory_format)', (2, 3, 4, 5), None,
     lambda lib, x: x.double().float(memory_format=lib.channels_last)),
    ('cpu(memory_format)', (2, 3, 4, 5), None,
     lambda lib, x: x.cpu(memory_format=lib.channels_last)),
    ('empty_like of cl', (2, 3, 4, 5), None,
     lambda lib, x: lib.empty_like(x.contiguous(memory_format=lib.channels_last))),
    ('empty_like cl of permuted', (2, 4, 3, 5), (0, 2, 1, 3),
     lambda lib, x: lib.empty_like(x, memory_format=lib.channels_last)),
    ('zeros_like cl', (2, 3, 4, 5), None,
     lambda lib, x: lib.zeros_like(x, memory_format=lib.channels_last)),
    ('full_like cl', (2, 3, 4, 5), None,
     lambda lib, x: lib.full_like(x, 2.5, memory_format=lib.channels_last)),
    ('ones_like contiguous of cl', (2, 3, 4, 5), None,
     lambda lib, x: lib.ones_like(x.contiguous(memory_format=lib.channels_last),
                                  memory_format=lib.contiguous_format)),
    ('add keeps cl', (2, 3, 4, 5), None,
     lambda lib, x: x.contiguous(memory_format=lib.channels_last) * 2 + 1),
]


@pytest.mark.parametrize('name, shape, layout, call', CALLS, ids=[c[0] for c in CALLS])
def test_strides_and_values_match_pytorch(name, shape, layout, call):
    got = call(nbgrad, _input(nbgrad, shape, layout=layout))
    expected = call(torch, _input(torch, shape, layout=layout))
    assert got.stride() == expected.stride()
    assert got.shape == expected.shape and got.dtype.__repr__().split('.')[-1] == \
        str(expected.dtype).split('.')[-1]
    if 'empty' not in name:
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (2, 3, 4, 5, 6)])
def test_empty_in_a_format(device, shape):
    fmt = 'channels_last' if len(shape) == 4 else 'channels_last_3d'
    got = nbgrad.empty(*shape, memory_format=getattr(nbgrad, fmt), device=device)
    expected = torch.empty(*shape, memory_format=getattr(torch, fmt))
    assert got.stride() == expected.stride() and got.device.type == device
    assert got.is_contiguous(memory_format=getattr(nbgrad, fmt))


@pytest.mark.parametrize('shape, layout', [((2, 3, 4, 5), None), ((2, 4, 5, 3), (0, 3, 1, 2)),
                                           ((2, 3, 1, 1), None), ((2, 1, 4, 5), None),
                                           ((2, 3), None), ((2, 3, 4), None),
                                           ((2, 3, 4, 5, 6), None), ((2, 4, 5, 6, 3),
                                                                     (0, 4, 1, 2, 3))])
@pytest.mark.parametrize('fmt', ['contiguous_format', 'preserve_format', 'channels_last',
                                 'channels_last_3d'])
def test_is_contiguous(shape, layout, fmt):
    got = _input(nbgrad, shape, layout=layout).is_contiguous(memory_format=getattr(nbgrad, fmt))
    expected = _input(torch, shape, layout=layout).is_contiguous(memory_format=getattr(torch, fmt))
    assert got == expected


def test_on_cuda_the_layout_is_kept(device):
    """The same layouts on the device: CuPy arrays take the strides too."""
    x = _input(nbgrad, (2, 3, 4, 5), device)
    expected = _input(torch, (2, 3, 4, 5)).contiguous(memory_format=torch.channels_last)
    last = x.contiguous(memory_format=nbgrad.channels_last)
    made = {'contiguous': last, 'to': x.to(memory_format=nbgrad.channels_last),
            'empty_like': nbgrad.empty_like(x, memory_format=nbgrad.channels_last),
            'clone + 1': x.clone(memory_format=nbgrad.channels_last) + 1,
            'an elementwise result': (last * 2).exp(), 'clone()': last.clone(),
            'empty_like (preserve)': nbgrad.empty_like(last), 'rand_like': nbgrad.rand_like(last),
            'a transposed operand': (x.transpose(1, 3) + 1).transpose(1, 3).contiguous(
                memory_format=nbgrad.channels_last)}
    for how, got in made.items():
        assert got.stride() == expected.stride() and got.device.type == device, how
    np.testing.assert_array_equal(x.contiguous(memory_format=nbgrad.channels_last).cpu().numpy(),
                                  expected.numpy())


@pytest.mark.parametrize('call', [
    lambda lib, x: x.clone(memory_format=lib.channels_last),
    lambda lib, x: x.contiguous(memory_format=lib.channels_last),
    lambda lib, x: x.contiguous(memory_format=lib.channels_last_3d),
    lambda lib, x: x.to(memory_format=lib.channels_last),
    lambda lib, x: x.to(lib.float64, memory_format=lib.channels_last_3d),
    lambda lib, x: lib.empty_like(x, memory_format=lib.channels_last),
    lambda lib, x: lib.zeros_like(x, memory_format=lib.channels_last_3d),
    lambda lib, x: lib.empty(2, 3, memory_format=lib.channels_last),
    lambda lib, x: lib.empty(2, 3, memory_format=lib.preserve_format),
    lambda lib, x: x.permute(1, 0, 2).contiguous(memory_format=lib.preserve_format),
], ids=['clone', 'contiguous', 'contiguous 3d', 'to', 'to dtype 3d', 'empty_like',
        'zeros_like 3d', 'empty', 'empty preserve', 'contiguous preserve'])
def test_errors_match_pytorch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch, _input(torch, (2, 3, 4)))
    x = _input(nbgrad, (2, 3, 4))
    before = x.stride()
    with pytest.raises(RuntimeError) as got:
        call(nbgrad, x)
    assert str(got.value) == str(expected.value)
    assert x.stride() == before


@pytest.mark.parametrize('lib', [torch, nbgrad], ids=['torch', 'nbgrad'])
def test_a_contiguous_tensor_asked_for_preserve_is_itself(lib):
    x = lib.ones(2, 3)
    assert x.contiguous(memory_format=lib.preserve_format) is x


def test_gradient_flows_through_a_change_of_layout():
    def run(lib):
        x = _input(lib, (2, 3, 4, 5)).requires_grad_()
        y = x.to(memory_format=lib.channels_last)
        (y * y).sum().backward()
        return y.grad_fn.name(), x.grad.numpy(), x.grad.stride()
    got, expected = run(nbgrad), run(torch)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])


def test_module_to_lays_out_the_4d_tensors_only():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4),
                                  lib.nn.Linear(2, 2))
        model.to(memory_format=lib.channels_last)
        x = _input(lib, (1, 3, 5, 5)).to(memory_format=lib.channels_last) / 75
        return ([p.stride() for p in model.parameters()], model[0](x).detach().numpy())
    got, expected = run(nbgrad), run(torch)
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match='required rank 4 tensor'):
        nbgrad.nn.Conv3d(1, 1, 1).to(memory_format=nbgrad.channels_last)
