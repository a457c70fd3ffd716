"""Fractional max pooling against PyTorch: the same seed gives the same random windows and so the
same values, indices and gradients (2-d and 3-d, batched and not, output_size or output_ratio,
given samples, float32 and float64, NaN and ties), the modules with their buffer and reprs, the
errors, and 'cuda' (with given samples: CUDA random numbers are not PyTorch's)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error, assert_same_value, to_np

torch = pytest.importorskip('torch')

CASES = {   # (dims, input shape, kwargs)
    '2d-size': (2, (2, 3, 9, 8), dict(kernel_size=3, output_size=(5, 4))),
    '2d-ratio': (2, (1, 2, 10, 11), dict(kernel_size=(2, 3), output_ratio=(0.5, 0.7))),
    '2d-unbatched': (2, (3, 7, 7), dict(kernel_size=2, output_size=4)),
    '2d-one-window': (2, (1, 1, 5, 5), dict(kernel_size=5, output_size=1)),
    '3d-size': (3, (2, 2, 6, 7, 5), dict(kernel_size=2, output_size=(3, 4, 2))),
    '3d-unbatched': (3, (2, 5, 6, 7), dict(kernel_size=(2, 3, 2), output_ratio=(0.6, 0.5, 0.5))),
}


def _run(lib, case, dtype='float64', device='cpu', samples=None, nan=False):
    d, shape, kwargs = CASES[case]
    lib.manual_seed(3)
    data = np.random.default_rng(0).standard_normal(shape)
    if nan:
        data.reshape(-1)[::7] = np.nan
        data.reshape(-1)[1::11] = data.reshape(-1)[2::11][:data.reshape(-1)[1::11].size]
    x = lib.tensor(data, dtype=getattr(lib, dtype), device=device, requires_grad=True)
    if samples is not None:
        kwargs = dict(kwargs, _random_samples=lib.tensor(samples, dtype=getattr(lib, dtype),
                                                         device=device))
    pool = getattr(lib.nn.functional, f'fractional_max_pool{d}d')
    values, indices = pool(x, return_indices=True, **kwargs)
    (values * lib.arange(values.numel(), dtype=values.dtype, device=device)
     .reshape(values.shape)).nansum().backward()
    return [values.detach().cpu(), indices.cpu(), x.grad.cpu(), values.grad_fn.name()]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', CASES)
def test_seeded_windows_match_torch(case, dtype):
    assert_same_value(to_np(_run(nbgrad, case, dtype)), to_np(_run(torch, case, dtype)),
                      rtol=1e-6, atol=1e-7)


def test_nan_and_ties_pick_torchs_index():
    assert_same_value(to_np(_run(nbgrad, '2d-size', nan=True)),
                      to_np(_run(torch, '2d-size', nan=True)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('case', ['2d-size', '3d-unbatched'])
def test_given_samples_and_device(case, device):
    d, shape, _ = CASES[case]
    batch = shape[0] if len(shape) == d + 2 else 1
    samples = np.random.default_rng(5).uniform(size=(batch, shape[-d - 1], d))
    assert_same_value(to_np(_run(nbgrad, case, device=device, samples=samples)),
                      to_np(_run(torch, case, samples=samples)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('d', [2, 3])
def test_modules_match_torch(d):
    def run(lib):
        lib.manual_seed(1)
        cls = getattr(lib.nn, f'FractionalMaxPool{d}d')
        shape = (2, 3) + (8,) * d
        x = lib.tensor(np.random.default_rng(2).standard_normal(shape))
        by_ratio = cls(2, output_ratio=0.5)
        samples = lib.rand(2, 3, d, dtype=lib.float64)
        fixed = cls(3, output_size=4, return_indices=True, _random_samples=samples)
        return [repr(by_ratio), by_ratio(x), fixed(x), fixed(x), list(fixed.state_dict()),
                list(by_ratio.state_dict()), by_ratio.kernel_size, fixed.output_size]
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('case', ['no-size', 'both', 'ratio-range', 'kernel-3d', 'too-large',
                                  'samples-channels', 'samples-dims', 'samples-last'])
def test_errors_match_torch(case):
    def run(lib):
        nn, F = lib.nn, lib.nn.functional
        x = lib.ones(1, 2, 6, 6)
        if case == 'no-size':
            return nn.FractionalMaxPool2d(2)
        if case == 'both':
            return nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
        if case == 'ratio-range':
            return nn.FractionalMaxPool2d(2, output_ratio=1.5)
        if case == 'kernel-3d':
            return nn.FractionalMaxPool3d(0, output_size=2)
        if case == 'too-large':
            return F.fractional_max_pool2d(x, 5, output_size=5)
        samples = {'samples-channels': lib.rand(1, 3, 2), 'samples-dims': lib.rand(2, 2),
                   'samples-last': lib.rand(1, 2, 3)}[case]
        return F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=samples)
    assert_same_error(run)
