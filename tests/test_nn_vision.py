"""interpolate (every mode x align_corners x size / scale_factor, up and down, integer and
fractional scales, recompute_scale_factor), the deprecated upsample forms, pixel_shuffle /
pixel_unshuffle / channel_shuffle, grid_sample (every mode x padding_mode x align_corners, 2-d
and 3-d, on random grids with points outside) and affine_grid, against PyTorch: values,
gradients, grad_fn names, double backward, float64 gradcheck, errors with PyTorch's exception
kinds and warnings, the modules' reprs, and the 'cuda' device."""
import warnings

import numpy as np
import pytest

import nbgrad
from test_nn_pooling import compare, to_numpy
from torch_compare import assert_same, both

torch = pytest.importorskip('torch')


def sample(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


# ---------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------

MODE_SHAPES = {'nearest': [(2, 3, 7), (2, 3, 7, 5), (1, 2, 3, 4, 5)],
               'nearest-exact': [(2, 3, 7), (2, 3, 7, 5), (1, 2, 3, 4, 5)],
               'area': [(2, 3, 7), (2, 3, 7, 5), (1, 2, 3, 4, 5)],
               'linear': [(2, 3, 7)], 'bilinear': [(2, 3, 7, 5)], 'bicubic': [(2, 3, 7, 5)],
               'trilinear': [(1, 2, 3, 4, 5)]}
SIZINGS = {'x2': dict(scale_factor=2), 'x1.7': dict(scale_factor=1.7),
           'x0.6': dict(scale_factor=0.6), 'x1/3': dict(scale_factor=1 / 3),
           'x1': dict(scale_factor=1.0), 'x1.7-recompute': dict(scale_factor=1.7,
                                                                 recompute_scale_factor=True),
           'per-axis': 'per-axis', 'size-down': 'down', 'size-up': 'up', 'size-same': 'same'}


def sizing(name, d):
    s = SIZINGS[name]
    if s == 'per-axis':
        return dict(scale_factor=(2.5, 0.5, 1.25)[:d])
    if s == 'down':
        return dict(size=(3, 2, 4)[:d])
    if s == 'up':
        return dict(size=(11, 9, 8)[:d])
    if s == 'same':
        return dict(size=(7, 5)[:d] if d < 3 else (3, 4, 5))
    return s


def interpolate_cases():
    for mode, shapes in MODE_SHAPES.items():
        corners = [None] if mode in ('nearest', 'nearest-exact', 'area') else [False, True]
        for shape in shapes:
            for name in SIZINGS:
                for align in corners:
                    yield pytest.param(mode, shape, name, align,
                                       id=f'{mode}-{len(shape) - 2}d-{name}-align{align}')


@pytest.mark.parametrize('mode, shape, name, align', list(interpolate_cases()))
def test_interpolate_float64(mode, shape, name, align):
    kwargs = sizing(name, len(shape) - 2)
    compare(lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, align_corners=align,
                                                         **kwargs), [sample(*shape)])


@pytest.mark.parametrize('mode, shape, name, align', [
    c for c in interpolate_cases() if c.values[2] in ('x1.7', 'x1/3', 'size-up')])
def test_interpolate_float32(mode, shape, name, align):
    """float32 weights follow PyTorch's arithmetic (its fused multiply-adds included): the
    forward agrees to an ulp or so; gradients sum in another order."""
    kwargs = sizing(name, len(shape) - 2)
    compare(lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, align_corners=align,
                                                         **kwargs), [sample(*shape)],
            dtype='float32', rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize('mode, scale', [('nearest', 0.3), ('nearest', 3.1), ('nearest', 2.9),
                                         ('nearest-exact', 0.45), ('nearest-exact', 1.9)])
def test_nearest_picks_torchs_source_pixels(mode, scale):
    x = np.arange(97, dtype=np.float32).reshape(1, 1, 97)
    both(lambda lib: lib.nn.functional.interpolate(lib.tensor(x), scale_factor=scale, mode=mode),
         check=lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('scale', [1.1, 2.05, 2.3, 1.9])
def test_nearest_shortcuts_for_kept_and_doubled_lengths_are_2d_only(rank, scale):
    """PyTorch's 2-D nearest kernel copies a kept length and halves a doubled one whatever the
    scale says; its 1-D and 3-D kernels compute floor(o * scale) (lengths 3..5: 3 * 1.1 -> 3,
    5 * 2.05 -> 10)."""
    for n in (3, 4, 5):
        x = np.arange(n ** rank, dtype=np.float32).reshape((1, 1) + (n,) * rank)
        both(lambda lib: lib.nn.functional.interpolate(lib.tensor(x), scale_factor=scale),
             check=lambda got, expected: assert_same(got, expected, rtol=0, atol=0))


def test_nearest_keeps_uint8():
    x = np.arange(60, dtype=np.uint8).reshape(1, 3, 4, 5)
    both(lambda lib: lib.nn.functional.interpolate(lib.tensor(x), size=(7, 3)))


def test_interpolate_empty_batch():
    both(lambda lib: lib.nn.functional.interpolate(lib.zeros(0, 2, 3, 3), scale_factor=2,
                                                   mode='bilinear'))


@pytest.mark.parametrize('mode, shape', [('bilinear', (1, 2, 4, 3)), ('bicubic', (1, 2, 4, 3)),
                                         ('nearest', (1, 2, 5)), ('trilinear', (1, 1, 3, 4, 3)),
                                         ('area', (1, 2, 5, 4)), ('nearest-exact', (1, 2, 4, 3))])
def test_interpolate_gradcheck(mode, shape):
    x = nbgrad.tensor(sample(*shape, seed=2), requires_grad=True)
    d = len(shape) - 2
    align = True if mode in ('bilinear', 'bicubic', 'trilinear') else None
    size = (5, 2, 4)[:d]
    f = lambda t: nbgrad.nn.functional.interpolate(t, size=size, mode=mode,  # noqa: E731
                                                   align_corners=align)
    assert nbgrad.autograd.gradcheck(f, [x])
    assert nbgrad.autograd.gradgradcheck(f, [x])


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic', 'nearest'])
def test_interpolate_double_backward_matches_torch(mode):
    def second_order(lib):
        x = lib.tensor(sample(1, 2, 4, 3, seed=3), requires_grad=True)
        y = lib.nn.functional.interpolate(x, scale_factor=1.5, mode=mode)
        g = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), requires_grad=True)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx.detach().sin()).sum(), g)
        return to_numpy(gx), to_numpy(gg)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        got, expected = second_order(nbgrad), second_order(torch)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


INTERPOLATE_ERRORS = {
    'size-and-scale': dict(size=4, scale_factor=2),
    'neither': dict(),
    'size-length': dict(size=(4, 4, 4)),
    'scale-length': dict(scale_factor=(2.0,)),
    'size-float-in-tuple': dict(size=(4, 2.5)),
    'size-float': dict(size=2.5),
    'size-zero': dict(size=0),
    'scale-negative': dict(scale_factor=-1.0),
    'scale-too-small': dict(scale_factor=0.1),
    'recompute-with-size': dict(size=4, recompute_scale_factor=True),
    'align-with-nearest': dict(size=4, align_corners=True),
    'align-with-area': dict(size=4, mode='area', align_corners=False),
    'bicubic-on-3d': dict(scale_factor=2, mode='bicubic', shape=(1, 2, 3)),
    'linear-on-4d': dict(scale_factor=2, mode='linear'),
    'trilinear-on-4d': dict(scale_factor=2, mode='trilinear'),
    'bilinear-on-5d': dict(scale_factor=2, mode='bilinear', shape=(1, 1, 2, 3, 3)),
    'bilinear-on-3d': dict(scale_factor=2, mode='bilinear', shape=(1, 2, 3)),
    'unknown-mode': dict(scale_factor=2, mode='cubic'),
    'input-2d': dict(scale_factor=2, shape=(3, 3)),
    'input-6d': dict(scale_factor=2, shape=(1, 1, 2, 2, 2, 2)),
    'empty-channels': dict(scale_factor=2, mode='bilinear', shape=(1, 0, 3, 3)),
    'antialias-nearest': dict(scale_factor=2, antialias=True),
    'antialias-3d': dict(scale_factor=2, mode='linear', antialias=True, shape=(1, 2, 3)),
    'lanczos-without-antialias': dict(scale_factor=2, mode='lanczos'),
    'lanczos-align': dict(scale_factor=2, mode='lanczos', align_corners=True, antialias=True),
    'integer-bilinear': dict(scale_factor=2, mode='bilinear', dtype='int64'),
    'integer-nearest': dict(scale_factor=2, dtype='int64'),
    'integer-area': dict(size=2, mode='area', dtype='int64'),
    'antialias-half': dict(size=2, mode='bilinear', antialias=True, dtype='float16'),
}


@pytest.mark.parametrize('case', INTERPOLATE_ERRORS)
def test_interpolate_errors_have_torchs_kind(case):
    kwargs = dict(INTERPOLATE_ERRORS[case])
    shape, dtype = kwargs.pop('shape', (1, 2, 3, 3)), kwargs.pop('dtype', 'float32')
    both(lambda lib: lib.nn.functional.interpolate(
        lib.ones(shape, dtype=getattr(lib, dtype)), **kwargs))


ANTIALIAS_SIZES = {
    'shrink': dict(size=(5, 6)), 'same': dict(size=(13, 17)), 'grow': dict(size=(20, 30)),
    'mixed': dict(size=(7, 40)), 'scale': dict(scale_factor=0.37),
    'scale-pair': dict(scale_factor=(2.5, 0.5)),
    'recompute': dict(scale_factor=0.3, recompute_scale_factor=True),
}


@pytest.mark.parametrize('align', [False, True], ids=['align-false', 'align-true'])
@pytest.mark.parametrize('size', ANTIALIAS_SIZES)
@pytest.mark.parametrize('mode', ['bilinear', 'bicubic', 'lanczos'])
def test_interpolate_antialias(mode, size, align):
    """interpolate(antialias=True): PyTorch's windowed filters (triangle, Keys a=-0.5, Lanczos-3)
    widened by the scale when shrinking; values, gradients and node names."""
    if mode == 'lanczos' and align:
        pytest.skip('lanczos refuses align_corners=True (INTERPOLATE_ERRORS)')
    compare(lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, antialias=True,
                                                         align_corners=align,
                                                         **ANTIALIAS_SIZES[size]),
            [sample(2, 3, 13, 17)], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic', 'lanczos'])
def test_interpolate_antialias_copies_an_axis_whose_length_is_kept(mode):
    """scale_factor=(1.05, 0.6) on 13 x 17 keeps the 13 rows: PyTorch's forward copies them
    (nbgrad filtered them with ratio 1/1.05). PyTorch's backward still filters that axis, a
    gradient that is not its forward's; nbgrad's is the copy's (gradchecked)."""
    x = sample(2, 3, 13, 17)

    def forward(lib):
        return lib.nn.functional.interpolate(lib.tensor(x), scale_factor=(1.05, 0.6), mode=mode,
                                             antialias=True)
    both(forward, check=lambda got, expected: assert_same(got, expected, rtol=1e-10,
                                                          atol=1e-12))
    t = nbgrad.tensor(sample(1, 1, 5, 4), requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda v: nbgrad.nn.functional.interpolate(
        v, scale_factor=(1.1, 0.6), mode=mode, antialias=True), (t,))


def _torch_has_lanczos():
    """PyTorch added mode='lanczos' after 2.11 (the GPU machine's oracle)."""
    try:
        torch.nn.functional.interpolate(torch.ones(1, 1, 4, 4), size=2, mode='lanczos',
                                        antialias=True)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize('mode', ['bilinear', 'lanczos'])
def test_interpolate_antialias_float32_and_second_order(mode, device):
    if mode == 'lanczos' and not _torch_has_lanczos():
        pytest.skip(f'torch {torch.__version__} has no lanczos interpolation to compare with')
    compare(lambda lib, x: lib.nn.functional.interpolate(x, size=(4, 9), mode=mode,
                                                         antialias=True),
            [sample(1, 2, 9, 7)], dtype='float32', rtol=1e-5, atol=1e-6, device=device)
    x = nbgrad.tensor(sample(1, 1, 6, 5, seed=4), requires_grad=True)
    f = lambda t: nbgrad.nn.functional.interpolate(t, size=(3, 7), mode=mode,  # noqa: E731
                                                   antialias=True)
    assert nbgrad.autograd.gradcheck(f, [x]) and nbgrad.autograd.gradgradcheck(f, [x])


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_uint8_interpolation_is_not_implemented(mode):
    """PyTorch's uint8 bilinear/bicubic kernels round fixed-point weights; nbgrad says so."""
    x = nbgrad.ones(1, 1, 4, 4, dtype=nbgrad.uint8)
    with pytest.raises(NotImplementedError, match='uint8'):
        nbgrad.nn.functional.interpolate(x, scale_factor=2, mode=mode)


@pytest.mark.parametrize('name, kwargs', [('upsample', dict(scale_factor=2, mode='bilinear')),
                                          ('upsample_nearest', dict(size=(5, 4))),
                                          ('upsample_bilinear', dict(scale_factor=1.5))])
def test_deprecated_upsample_forms_warn_and_interpolate(name, kwargs):
    x = sample(1, 2, 3, 4)
    results = []
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match=f'nn.functional.{name}` is deprecated'):
            results.append(to_numpy(getattr(lib.nn.functional, name)(lib.tensor(x), **kwargs)))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# pixel_shuffle, pixel_unshuffle, channel_shuffle
# ---------------------------------------------------------------------------------------------

SHUFFLES = {
    'pixel_shuffle': (lambda F, x: F.pixel_shuffle(x, 2), (2, 8, 3, 4)),
    'pixel_shuffle-unbatched': (lambda F, x: F.pixel_shuffle(x, 3), (9, 2, 2)),
    'pixel_shuffle-5d': (lambda F, x: F.pixel_shuffle(x, 2), (2, 1, 4, 2, 3)),
    'pixel_unshuffle': (lambda F, x: F.pixel_unshuffle(x, 2), (2, 2, 4, 6)),
    'pixel_unshuffle-unbatched': (lambda F, x: F.pixel_unshuffle(x, 3), (1, 6, 3)),
    'channel_shuffle': (lambda F, x: F.channel_shuffle(x, 3), (2, 6, 4, 3)),
    'channel_shuffle-3d': (lambda F, x: F.channel_shuffle(x, 2), (4, 6, 5)),
    'channel_shuffle-5d': (lambda F, x: F.channel_shuffle(x, 2), (1, 4, 2, 3, 2)),
}


@pytest.mark.parametrize('case', SHUFFLES)
def test_shuffles(case):
    fn, shape = SHUFFLES[case]
    compare(lambda lib, x: fn(lib.nn.functional, x), [sample(*shape)], rtol=0, atol=0)


@pytest.mark.parametrize('case', ['pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle'])
def test_shuffle_gradgradcheck(case):
    fn, shape = SHUFFLES[case]
    x = nbgrad.tensor(sample(*shape), requires_grad=True)
    assert nbgrad.autograd.gradgradcheck(lambda t: fn(nbgrad.nn.functional, t), [x])


SHUFFLE_ERRORS = {
    'channels-not-divisible': lambda F, x: F.pixel_shuffle(x, 3),
    'height-not-divisible': lambda F, x: F.pixel_unshuffle(x, 4),
    'shuffle-2d': lambda F, x: F.pixel_shuffle(x[0, 0], 2),
    'unshuffle-2d': lambda F, x: F.pixel_unshuffle(x[0, 0], 2),
    'zero-factor': lambda F, x: F.pixel_shuffle(x, 0),
    'groups-not-divisible': lambda F, x: F.channel_shuffle(x, 3),
    'zero-groups': lambda F, x: F.channel_shuffle(x, 0),
    'channel-shuffle-2d': lambda F, x: F.channel_shuffle(x[0, :, :, 0], 2),
    'float-factor': lambda F, x: F.pixel_shuffle(x, 2.0),
}


@pytest.mark.parametrize('case', SHUFFLE_ERRORS)
def test_shuffle_errors_have_torchs_kind(case):
    both(lambda lib: SHUFFLE_ERRORS[case](lib.nn.functional, lib.ones(2, 4, 6, 6)))


# ---------------------------------------------------------------------------------------------
# grid_sample, affine_grid
# ---------------------------------------------------------------------------------------------

def grid_cases():
    for mode in ('bilinear', 'nearest', 'bicubic'):
        for padding in ('zeros', 'border', 'reflection'):
            for align in (False, True):
                yield pytest.param(mode, padding, align, id=f'{mode}-{padding}-align{align}')


def sampler(mode, padding, align):
    return lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding,
                                                           align_corners=align)


@pytest.mark.parametrize('mode, padding, align', list(grid_cases()))
def test_grid_sample_2d(mode, padding, align, device):
    # points up to 1.6x outside [-1, 1]: clipped, reflected (more than once) or zero; on CUDA
    # bilinear and nearest run as one kernel
    compare(sampler(mode, padding, align), [sample(2, 3, 5, 4), sample(2, 6, 7, 2, seed=1,
                                                                       low=-1.6, high=1.6)],
            rtol=1e-10, atol=1e-12, device=device)


@pytest.mark.parametrize('mode, padding, align', [c for c in grid_cases()
                                                  if c.values[0] != 'bicubic'])
def test_grid_sample_3d(mode, padding, align):
    compare(sampler(mode, padding, align), [sample(2, 2, 4, 5, 3), sample(2, 3, 4, 2, 3, seed=1,
                                                                          low=-1.6, high=1.6)],
            rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic', 'nearest'])
def test_grid_sample_float32(mode, device):
    compare(sampler(mode, 'reflection', False), [sample(1, 2, 6, 5), sample(1, 4, 3, 2, seed=1,
                                                                            low=-1.3, high=1.3)],
            dtype='float32', rtol=1e-5, atol=1e-5, device=device)


NON_FINITE_GRID = np.array([[[[np.nan, 0.0], [0.0, np.nan], [np.inf, 0.0], [-np.inf, 0.5],
                               [np.nan, np.inf], [0.3, -0.2]]]])


@pytest.mark.parametrize('mode, padding, align', list(grid_cases()))
def test_grid_sample_non_finite_coordinates(mode, padding, align):
    """PyTorch's CPU kernel: 'border' and 'reflection' clip NaN to 0 (and reflection turns
    +-inf into NaN first); a NaN weight (a NaN or infinite coordinate) makes the value NaN
    even where its taps are out of range. Only values: PyTorch's backward crashes there."""
    def run(lib):
        x = lib.tensor(np.arange(1.0, 13.0).reshape(1, 1, 3, 4))
        return sampler(mode, padding, align)(lib, x, lib.tensor(NON_FINITE_GRID))
    both(run)


@pytest.mark.cuda
@pytest.mark.parametrize('padding', ['border', 'reflection'])
def test_grid_sample_kernel_clips_nan_coordinates_to_zero(padding, device):
    """The CUDA kernel clips a NaN coordinate to 0 as PyTorch's does (it skips out-of-range
    taps, as PyTorch's CUDA kernel does, so only the clipping paddings are compared)."""
    x = np.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    got = sampler('bilinear', padding, False)(
        nbgrad, nbgrad.tensor(x, device=device), nbgrad.tensor(NON_FINITE_GRID, device=device))
    expected = sampler('bilinear', padding, False)(torch, torch.tensor(x),
                                                    torch.tensor(NON_FINITE_GRID))
    np.testing.assert_allclose(got.cpu().numpy(), expected.numpy(), equal_nan=True)


@pytest.mark.parametrize('padding', ['reflection', 'border', 'zeros'])
def test_grid_sample_single_pixel_input(padding, device):
    compare(sampler('bilinear', padding, True), [sample(1, 2, 1, 1), sample(1, 3, 2, 2)],
            rtol=1e-12, atol=1e-14, device=device)


@pytest.mark.cuda
def test_grid_sample_kernel_that_does_not_compile_falls_back(device, monkeypatch):
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.nn.functional import _grid_sample_cuda
    monkeypatch.setattr(_grid_sample_cuda, 'KERNELS', KernelFamily('grid_sample'))
    monkeypatch.setattr(_grid_sample_cuda, '_FORWARD', _grid_sample_cuda._FORWARD + 'not C++')
    arrays = [sample(1, 2, 4, 3), sample(1, 3, 2, 2, seed=1, low=-1.3, high=1.3)]
    with pytest.warns(RuntimeWarning, match='did not compile'):
        sampler('bilinear', 'border', False)(nbgrad, *[nbgrad.tensor(a, device='cuda')
                                                       for a in arrays])
    assert _grid_sample_cuda.KERNELS.failed
    compare(sampler('bilinear', 'border', False), arrays, rtol=1e-10, atol=1e-12, device=device)


@pytest.mark.parametrize('mode, padding, align', [
    ('bilinear', 'zeros', False), ('bilinear', 'reflection', True), ('bicubic', 'border', False),
    ('bicubic', 'reflection', True), ('nearest', 'zeros', True)])
def test_grid_sample_gradcheck(mode, padding, align):
    x = nbgrad.tensor(sample(1, 2, 4, 3, seed=2), requires_grad=True)
    g = nbgrad.tensor(sample(1, 3, 2, 2, seed=3, low=-1.3, high=1.3), requires_grad=True)
    f = lambda a, b: nbgrad.nn.functional.grid_sample(  # noqa: E731
        a, b, mode=mode, padding_mode=padding, align_corners=align)
    assert nbgrad.autograd.gradcheck(f, [x, g])
    assert nbgrad.autograd.gradgradcheck(f, [x, g])


def test_grid_sample_3d_gradgradcheck():
    x = nbgrad.tensor(sample(1, 2, 3, 3, 2, seed=2), requires_grad=True)
    g = nbgrad.tensor(sample(1, 2, 2, 2, 3, seed=3, low=-1.3, high=1.3), requires_grad=True)
    f = lambda a, b: nbgrad.nn.functional.grid_sample(a, b, padding_mode='border',  # noqa: E731
                                                      align_corners=True)
    assert nbgrad.autograd.gradgradcheck(f, [x, g])


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_grid_sample_double_backward_matches_torch(mode):
    def second_order(lib):
        x = lib.tensor(sample(1, 2, 4, 3, seed=2), requires_grad=True)
        grid = lib.tensor(sample(1, 3, 2, 2, seed=3, low=-1.2, high=1.2), requires_grad=True)
        y = lib.nn.functional.grid_sample(x, grid, mode=mode, align_corners=False)
        gx, gg = lib.autograd.grad(y.sin().sum(), (x, grid), create_graph=True)
        return [to_numpy(t) for t in lib.autograd.grad((gx.cos().sum() + (gg * gg).sum()),
                                                       (x, grid))]

    for g, e in zip(second_order(nbgrad), second_order(torch)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_grid_sample_only_grid_requires_grad():
    def fn(lib):
        x = lib.tensor(sample(1, 2, 4, 3))
        grid = lib.tensor(sample(1, 3, 2, 2, seed=3), requires_grad=True)
        lib.nn.functional.grid_sample(x, grid, align_corners=False).sum().backward()
        return grid.grad
    both(fn, check=lambda got, expected: assert_same(got, expected, rtol=1e-12, atol=1e-14))


GRID_ERRORS = {
    'bad-mode': lambda F, x, g: F.grid_sample(x, g, mode='linear', align_corners=False),
    'bad-padding': lambda F, x, g: F.grid_sample(x, g, padding_mode='wrap', align_corners=False),
    'dtype-mismatch': lambda F, x, g: F.grid_sample(x, g.double(), align_corners=False),
    'batch-mismatch': lambda F, x, g: F.grid_sample(x, g[:1], align_corners=False),
    'grid-last-dim': lambda F, x, g: F.grid_sample(x, g[..., :1], align_corners=False),
    'grid-dims': lambda F, x, g: F.grid_sample(x, g[0], align_corners=False),
    'input-3d': lambda F, x, g: F.grid_sample(x[0], g[0], align_corners=False),
    'bicubic-3d': lambda F, x, g: F.grid_sample(x[..., None], g[..., None, :1].expand(
        2, 3, 3, 1, 3).contiguous(), mode='bicubic', align_corners=False),
    'empty-spatial': lambda F, x, g: F.grid_sample(x[:, :, :0], g, align_corners=False),
    'integer-input': lambda F, x, g: F.grid_sample(x.long(), g.long(), align_corners=False),
    'affine-integer-theta': lambda F, x, g: F.affine_grid(x[0, :, :2, :3].long(), (3, 1, 2, 2),
                                                          align_corners=False),
    'affine-bad-theta': lambda F, x, g: F.affine_grid(x[0, :, :3, :3], (3, 1, 2, 2),
                                                      align_corners=False),
    'affine-bad-theta-3d': lambda F, x, g: F.affine_grid(x[0, :, :2, :3], (3, 1, 2, 2, 2),
                                                         align_corners=False),
    'affine-size-3': lambda F, x, g: F.affine_grid(x[0, :, :2, :3], (3, 2, 2),
                                                   align_corners=False),
    'affine-zero-size': lambda F, x, g: F.affine_grid(x[0, :, :2, :3], (3, 1, 0, 2),
                                                      align_corners=False),
    'affine-batch-mismatch': lambda F, x, g: F.affine_grid(x[0, :, :2, :3], (2, 1, 3, 2),
                                                           align_corners=False),
}


@pytest.mark.parametrize('case', GRID_ERRORS)
def test_grid_errors_have_torchs_kind(case):
    both(lambda lib: GRID_ERRORS[case](lib.nn.functional, lib.ones(2, 3, 4, 4),
                                       lib.zeros(2, 3, 3, 2)))


@pytest.mark.parametrize('size, align', [((2, 3, 5, 4), False), ((2, 3, 5, 4), True),
                                         ((2, 1, 1, 3), False), ((2, 2, 4, 3, 5), False),
                                         ((2, 2, 4, 3, 5), True), ((2, 1, 1, 1, 2), True)])
def test_affine_grid(size, align):
    theta = sample(2, len(size) - 2, len(size) - 1, seed=5)
    compare(lambda lib, t: lib.nn.functional.affine_grid(t, size, align_corners=align), [theta])
    # theta's float32 gradient sums up to 60 products of order 1, and the order of that sum
    # differs between nbgrad's BLAS and PyTorch's kernel on some CPUs: a few ulps of 8 apart
    compare(lambda lib, t: lib.nn.functional.affine_grid(t, size, align_corners=align), [theta],
            dtype='float32', rtol=1e-6, atol=1e-5)


def test_affine_grid_gradgradcheck_and_into_grid_sample():
    theta = nbgrad.tensor(sample(1, 2, 3, seed=6), requires_grad=True)
    f = lambda t: nbgrad.nn.functional.affine_grid(t, (1, 1, 3, 4),  # noqa: E731
                                                   align_corners=False)
    assert nbgrad.autograd.gradgradcheck(f, [theta])
    compare(lambda lib, x, t: lib.nn.functional.grid_sample(
        x, lib.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners=False),
        align_corners=False), [sample(2, 3, 5, 4), sample(2, 2, 3, seed=7)], rtol=1e-10,
        atol=1e-12)


@pytest.mark.parametrize('call', ['grid_sample', 'affine_grid', 'affine_grid_unit'])
def test_align_corners_warnings(call):
    caught = []
    for lib in (torch, nbgrad):
        F = lib.nn.functional
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter('always')
            if call == 'grid_sample':
                F.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 1, 2))
            elif call == 'affine_grid':
                F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2))
            else:
                F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 1, 2), align_corners=True)
        caught.append([(w.category, str(w.message)) for w in record])
    assert caught[1] == caught[0] and caught[0]


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

MODULES = [('Upsample', dict(scale_factor=2)), ('Upsample', dict(size=(5, 3), mode='bilinear')),
           ('Upsample', dict(scale_factor=(1.5, 2), mode='bicubic', align_corners=True)),
           ('Upsample', dict(scale_factor=1.5, mode='nearest', recompute_scale_factor=True)),
           ('UpsamplingNearest2d', dict(size=6)), ('UpsamplingBilinear2d', dict(scale_factor=2)),
           ('PixelShuffle', dict(upscale_factor=2)), ('PixelUnshuffle', dict(downscale_factor=2)),
           ('ChannelShuffle', dict(groups=2))]


@pytest.mark.parametrize('name, kwargs', MODULES, ids=[f'{n}-{i}' for i, (n, _) in
                                                       enumerate(MODULES)])
def test_modules(name, kwargs):
    ours, theirs = getattr(nbgrad.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: getattr(ours, k) for k in kwargs} == {k: getattr(theirs, k) for k in kwargs}
    compare(lambda lib, x: getattr(lib.nn, name)(**kwargs)(x), [sample(2, 4, 4, 6)],
            rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

DEVICE_CASES = {
    'bilinear': lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=1.5,
                                                             mode='bilinear'),
    'bicubic': lambda lib, x: lib.nn.functional.interpolate(x, size=(7, 3), mode='bicubic',
                                                            align_corners=True),
    'nearest': lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=(0.5, 2.2)),
    'area': lambda lib, x: lib.nn.functional.interpolate(x, size=(4, 3), mode='area'),
    'pixel_shuffle': lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2),
    'channel_shuffle': lambda lib, x: lib.nn.functional.channel_shuffle(x, 2),
    'grid_sample': lambda lib, x: lib.nn.functional.grid_sample(
        x, x[:, :2].permute(0, 2, 3, 1) * 1.3, mode='bicubic', padding_mode='reflection',
        align_corners=False),
    'affine_grid': lambda lib, x: lib.nn.functional.affine_grid(x[:, 0, :2, :3], (2, 1, 3, 2),
                                                                align_corners=True),
}


@pytest.mark.parametrize('case', DEVICE_CASES)
def test_devices(case, device):
    compare(DEVICE_CASES[case], [sample(2, 4, 6, 5)], device=device, rtol=1e-12, atol=1e-14)



@pytest.mark.parametrize('shape', [(0, 2, 3, 4), (1, 0, 3, 4)], ids=['no_batch', 'no_channels'])
def test_grid_sample_of_empty_inputs(shape):
    def run(lib):
        x = lib.ones(*shape, requires_grad=True)
        grid = lib.zeros(shape[0], 2, 3, 2, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, grid, align_corners=False)
        out.sum().backward()
        return out, x.grad, grid.grad
    both(run)
