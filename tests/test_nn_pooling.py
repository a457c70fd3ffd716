"""Pooling against PyTorch: max (with its indices), average, adaptive average and max, power-average
pooling and max unpooling in 1, 2 and 3 dims, batched and unbatched, with strides, padding,
dilation, ceil_mode edge cases, count_include_pad and divisor_override; values, gradients, grad_fn
names, double backward, float64 gradcheck, integer and float32 inputs, NaN, errors with PyTorch's
exception kinds, the modules' reprs, and the 'cuda' device."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both, exc_kind

torch = pytest.importorskip('torch')


def to_numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, nbgrad.Tensor) else t.detach().numpy()


def distinct(*shape, seed=0):
    """Values without ties (a max has one argmax), spread over [-1, 1)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) / n * 2 - 1).reshape(shape)


def run(lib, fn, arrays, dtype='float64', device='cpu', seed=3):
    """fn(lib, *leaves), then a backward of the first output from a fixed random gradient.
    Returns (outputs, leaf gradients) as NumPy arrays and the first output's grad_fn name."""
    dev = device if lib is nbgrad else 'cpu'
    leaves = [lib.tensor(a, dtype=getattr(lib, dtype), device=dev, requires_grad=True)
              for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = fn(lib, *leaves)
    outs = out if isinstance(out, tuple) else (out,)
    grad = np.random.default_rng(seed).standard_normal(tuple(outs[0].shape))
    outs[0].backward(lib.tensor(grad, dtype=outs[0].dtype, device=dev))
    return [to_numpy(o) for o in outs], [to_numpy(t.grad) for t in leaves], \
        outs[0].grad_fn.name().replace('torch::autograd::', '')


def compare(fn, arrays, dtype='float64', device='cpu', rtol=1e-12, atol=1e-14, name=True):
    got_out, got_grads, got_name = run(nbgrad, fn, arrays, dtype, device)
    exp_out, exp_grads, exp_name = run(torch, fn, arrays, dtype)
    for g, e in zip(got_out + got_grads, exp_out + exp_grads):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        if e.dtype.kind == 'f':
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
        else:  # indices: exactly
            np.testing.assert_array_equal(g, e)
    if name:
        assert got_name == exp_name


def pool(name, *args, **kwargs):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

MAX_CASES = {
    # id: (spatial dims, input shape, kwargs)
    '1d-k3': (1, (2, 3, 9), dict(kernel_size=3)),
    '1d-k3s2p1': (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    '1d-dilation': (1, (2, 3, 11), dict(kernel_size=2, stride=1, dilation=3)),
    '1d-ceil': (1, (2, 3, 10), dict(kernel_size=3, stride=2, ceil_mode=True)),
    '1d-unbatched': (1, (3, 9), dict(kernel_size=2, stride=(1,), padding=1)),
    '2d-k2': (2, (2, 3, 8, 6), dict(kernel_size=2)),
    '2d-k3s2p1': (2, (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    '2d-rect': (2, (2, 3, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    '2d-dilation': (2, (2, 2, 10, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    '2d-ceil': (2, (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    # ceil_mode's last window would start in the right padding: PyTorch drops it
    '2d-ceil-dropped': (2, (1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1,
                                               ceil_mode=True)),
    '2d-ceil-dilation': (2, (1, 2, 9, 8), dict(kernel_size=3, stride=3, padding=1, dilation=2,
                                                ceil_mode=True)),
    '2d-unbatched': (2, (3, 7, 6), dict(kernel_size=3, stride=1, padding=1)),
    '2d-list-args': (2, (2, 3, 7, 6), dict(kernel_size=[3], stride=[2, 1], padding=[1, 0])),
    '3d-k2': (3, (1, 2, 4, 6, 4), dict(kernel_size=2)),
    '3d-k3s2p1-ceil': (3, (1, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1,
                                                 ceil_mode=True)),
    '3d-unbatched': (3, (2, 5, 4, 6), dict(kernel_size=(1, 2, 3), stride=1, dilation=(1, 2, 1))),
}


@pytest.mark.parametrize('case', MAX_CASES)
def test_max_pool_values_indices_gradients(case, device):
    d, shape, kwargs = MAX_CASES[case]
    compare(pool(f'max_pool{d}d', return_indices=True, **kwargs), [distinct(*shape)],
            device=device)


ALL_PADDING = {
    '1d': (1, (2, 3, 1), dict(kernel_size=2, padding=1, dilation=2)),
    '2d': (2, (1, 2, 3, 1), dict(kernel_size=(1, 2), padding=(0, 1), dilation=(1, 2))),
    '3d': (3, (1, 1, 2, 1, 1), dict(kernel_size=(1, 1, 2), padding=(0, 0, 1),
                                    dilation=(1, 1, 2))),
}


@pytest.mark.parametrize('case', ALL_PADDING)
def test_max_pool_windows_wholly_in_padding(case, device):
    """Dilated windows over a tiny input can read only padding: PyTorch's -inf and its index
    (the first non-negative position, past the input's end), and a zero gradient. PyTorch's
    own gradient there comes from writing at that index, i.e. into the next plane (or past
    the tensor for the last one), so it is compared with zeros instead."""
    d, shape, kwargs = ALL_PADDING[case]
    values = distinct(*shape)

    def run(lib):
        x = lib.tensor(values, device=device if lib is nbgrad else 'cpu', requires_grad=True)
        out, index = getattr(lib.nn.functional, f'max_pool{d}d')(x, return_indices=True,
                                                                   **kwargs)
        out.sum().backward()
        return out.detach().cpu().numpy(), index.cpu().numpy(), x.grad.cpu().numpy()
    got, expected = run(nbgrad), run(torch)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], np.zeros(shape))


@pytest.mark.parametrize('case', ['1d-k3s2p1', '2d-k3s2p1', '3d-k2'])
def test_max_pool_without_indices_and_float32(case):
    d, shape, kwargs = MAX_CASES[case]
    compare(pool(f'max_pool{d}d', **kwargs), [distinct(*shape)], dtype='float32', rtol=1e-6,
            atol=1e-7)  # overlapping windows add gradients in another order


@pytest.mark.parametrize('dtype', ['int64', 'int8', 'uint8', 'int32'])
def test_max_pool_integers(dtype, device):
    x = (distinct(2, 6, 7) * 100).astype(dtype)
    x[0, 0, :3] = np.iinfo(dtype).min     # windows whose maximum equals the padding's value

    def on(lib, a):
        return lib.tensor(a, device=device if lib is nbgrad else 'cpu')
    both(lambda lib: tuple(t.cpu() for t in lib.nn.functional.max_pool2d(
        on(lib, x), 3, 2, 1, return_indices=True)))
    both(lambda lib: tuple(t.cpu() for t in lib.nn.functional.max_pool3d(
        on(lib, x[None]), 2, return_indices=True)))


def test_max_pool_nan_and_ties_pick_torchs_index():
    x = np.array([[[1., 3., 3., 0., np.nan, 2., np.nan, np.nan, 5., 5.]]])
    both(lambda lib: lib.nn.functional.max_pool1d(lib.tensor(x), 3, 1, 1, return_indices=True))
    both(lambda lib: lib.nn.functional.adaptive_max_pool1d(lib.tensor(x), 4,
                                                           return_indices=True))
    both(lambda lib: lib.nn.functional.max_pool2d(lib.tensor(x.reshape(1, 2, 5)), 2, 1,
                                                  return_indices=True))


def test_max_pool_of_empty_batch():
    both(lambda lib: lib.nn.functional.max_pool2d(lib.zeros(0, 3, 4, 4), 2, return_indices=True))


# ---------------------------------------------------------------------------------------------
# Average and power-average pooling
# ---------------------------------------------------------------------------------------------

AVG_CASES = {
    '1d-k3s2p1': (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    '1d-ceil-nopad': (1, (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                          count_include_pad=False)),
    '1d-unbatched': (1, (3, 8), dict(kernel_size=[2])),
    '2d-k2': (2, (2, 3, 8, 6), dict(kernel_size=2)),
    '2d-k3s1p1': (2, (2, 3, 7, 6), dict(kernel_size=3, stride=1, padding=1)),
    '2d-k3s1p1-nopad': (2, (2, 3, 7, 6), dict(kernel_size=3, stride=1, padding=1,
                                              count_include_pad=False)),
    '2d-ceil': (2, (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    '2d-ceil-nopad': (2, (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False)),
    '2d-ceil-dropped': (2, (1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1,
                                               ceil_mode=True)),
    '2d-divisor': (2, (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                          divisor_override=4)),
    '2d-rect-unbatched': (2, (3, 7, 9), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2))),
    '3d-k2': (3, (1, 2, 4, 6, 4), dict(kernel_size=2)),
    '3d-ceil-nopad': (3, (1, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                               count_include_pad=False)),
    '3d-divisor-unbatched': (3, (2, 5, 4, 6), dict(kernel_size=(1, 2, 3), stride=1,
                                                   divisor_override=-3)),
}


@pytest.mark.parametrize('case', AVG_CASES)
def test_avg_pool_values_gradients(case, device):
    d, shape, kwargs = AVG_CASES[case]
    compare(pool(f'avg_pool{d}d', **kwargs), [distinct(*shape)], device=device)


@pytest.mark.parametrize('case', ['2d-k3s1p1', '2d-ceil-nopad', '3d-k2'])
def test_avg_pool_float32(case, device):
    d, shape, kwargs = AVG_CASES[case]
    compare(pool(f'avg_pool{d}d', **kwargs), [distinct(*shape)], dtype='float32', rtol=1e-6,
            atol=1e-7, device=device)


def test_avg_pool_integers_truncate_toward_zero():
    x = np.array([[[-1, -2, 0, 0, 7], [0, 5, -3, 2, 2]]])
    both(lambda lib: lib.nn.functional.avg_pool2d(lib.tensor(x), 2, 1, ceil_mode=True))
    both(lambda lib: lib.nn.functional.avg_pool1d(lib.tensor(x), 2, 1, padding=1,
                                                  count_include_pad=False))
    both(lambda lib: lib.nn.functional.avg_pool2d(lib.tensor(x), 2, 1, divisor_override=3))


@pytest.mark.parametrize('norm', [1, 2, 3.5, float('inf')])
@pytest.mark.parametrize('d, shape, kwargs', [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2)), (1, (3, 8), dict(kernel_size=2)),
    (2, (2, 3, 7, 6), dict(kernel_size=(2, 3), ceil_mode=True)),
    (3, (1, 2, 4, 6, 5), dict(kernel_size=2, stride=(1, 2, 2)))], ids=['1d', '1d-unbatched',
                                                                     '2d-ceil', '3d'])
def test_lp_pool(norm, d, shape, kwargs):
    x = distinct(*shape) + 1.5  # positive: x ** p is defined for fractional p
    compare(lambda lib, t: getattr(lib.nn.functional, f'lp_pool{d}d')(t, norm, **kwargs), [x],
            rtol=1e-11, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------------------------

ADAPTIVE_CASES = {
    '1d-divides': (1, (2, 3, 12), 4),
    '1d-uneven': (1, (2, 3, 10), 4),
    '1d-larger': (1, (2, 3, 5), 8),
    '1d-unbatched': (1, (3, 7), [3]),
    '2d-divides': (2, (2, 3, 8, 6), (4, 3)),
    '2d-uneven': (2, (2, 3, 10, 7), (3, 5)),
    '2d-larger': (2, (1, 2, 4, 5), (7, 6)),
    '2d-none': (2, (2, 3, 10, 7), (None, 4)),
    '2d-unbatched': (2, (3, 9, 5), 4),
    '3d-uneven': (3, (1, 2, 5, 7, 6), (2, 3, 4)),
    '3d-none-unbatched': (3, (2, 5, 7, 6), (3, None, 5)),
}


@pytest.mark.parametrize('case', ADAPTIVE_CASES)
def test_adaptive_avg_pool(case, device):
    d, shape, size = ADAPTIVE_CASES[case]
    compare(pool(f'adaptive_avg_pool{d}d', size), [distinct(*shape)], device=device)


@pytest.mark.parametrize('case', ADAPTIVE_CASES)
def test_adaptive_max_pool(case, device):
    d, shape, size = ADAPTIVE_CASES[case]
    compare(pool(f'adaptive_max_pool{d}d', size, return_indices=True), [distinct(*shape)],
            device=device)


@pytest.fixture
def several_threads(monkeypatch):
    """Every input cut into parts of its first dim on three worker threads (_threads), however
    small (the parts then hold one or two planes, unevenly)."""
    from nbgrad import _threads
    monkeypatch.setattr(_threads, 'PARALLEL_MIN_ELEMENTS', 0)
    previous = nbgrad.get_num_threads()
    nbgrad.set_num_threads(3)
    yield
    nbgrad.set_num_threads(previous)


@pytest.mark.parametrize('case', MAX_CASES)
def test_max_pool_on_several_threads(case, several_threads):
    d, shape, kwargs = MAX_CASES[case]
    compare(pool(f'max_pool{d}d', return_indices=True, **kwargs), [distinct(*shape)])


@pytest.mark.parametrize('case', AVG_CASES)
def test_avg_pool_on_several_threads(case, several_threads):
    d, shape, kwargs = AVG_CASES[case]
    compare(pool(f'avg_pool{d}d', **kwargs), [distinct(*shape)])


@pytest.mark.parametrize('case', ['1d-uneven', '2d-divides', '2d-uneven', '3d-none-unbatched'])
def test_adaptive_max_pool_on_several_threads(case, several_threads):
    d, shape, size = ADAPTIVE_CASES[case]
    compare(pool(f'adaptive_max_pool{d}d', size, return_indices=True), [distinct(*shape)])


@pytest.mark.parametrize('d', [1, 2, 3])
def test_adaptive_avg_pool_to_one_is_a_mean(d):
    shape = (2, 3, 5, 4, 6)[:d + 2]
    compare(pool(f'adaptive_avg_pool{d}d', 1), [distinct(*shape)])


@pytest.mark.parametrize('size', [0, (0, 2)])
def test_adaptive_pool_to_empty(size):
    both(lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.ones(1, 4, 4), size))
    both(lambda lib: lib.nn.functional.adaptive_max_pool2d(lib.ones(1, 4, 4), size))


# ---------------------------------------------------------------------------------------------
# Max unpooling
# ---------------------------------------------------------------------------------------------

def unpool_case(d, kernel, stride, output_size):
    def fn(lib, x):
        F = lib.nn.functional
        values, index = getattr(F, f'max_pool{d}d')(x, kernel, stride, return_indices=True)
        return getattr(F, f'max_unpool{d}d')(values * 2, index, kernel, stride,
                                             output_size=output_size)
    return fn


@pytest.mark.parametrize('d, shape, kernel, stride, output_size', [
    (1, (2, 3, 9), 2, None, None), (1, (2, 3, 9), 2, 2, [9]), (1, (3, 8), 3, 1, None),
    (2, (2, 3, 6, 8), 2, None, None), (2, (2, 3, 7, 9), (2, 3), None, (2, 3, 7, 9)),
    (2, (3, 5, 5), 3, 2, None), (3, (1, 2, 4, 6, 4), 2, None, None),
    (3, (1, 2, 5, 6, 7), 2, 2, (5, 6, 7))])
def test_max_unpool(d, shape, kernel, stride, output_size):
    compare(unpool_case(d, kernel, stride, output_size), [distinct(*shape)])


# ---------------------------------------------------------------------------------------------
# Gradcheck, double backward
# ---------------------------------------------------------------------------------------------

GRADCHECK = {
    'max_pool2d-overlap': (lambda F, x: F.max_pool2d(x, 3, 1, 1, dilation=2), (1, 2, 6, 5)),
    'max_pool3d-ceil': (lambda F, x: F.max_pool3d(x, 2, 2, 1, ceil_mode=True), (1, 3, 4, 3)),
    'max_pool1d': (lambda F, x: F.max_pool1d(x, 3, 2), (2, 7)),
    'avg_pool2d': (lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                             count_include_pad=False), (1, 2, 6, 5)),
    'avg_pool3d': (lambda F, x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3), (1, 3, 4, 3)),
    'adaptive_avg_pool2d': (lambda F, x: F.adaptive_avg_pool2d(x, (4, 3)), (1, 2, 6, 5)),
    'adaptive_max_pool2d': (lambda F, x: F.adaptive_max_pool2d(x, (4, 3)), (1, 2, 6, 5)),
    'lp_pool2d': (lambda F, x: F.lp_pool2d(x + 1.5, 3, 2), (1, 2, 6, 5)),
    'max_unpool2d': (lambda F, x: F.max_unpool2d(
        x, nbgrad.tensor([[[[0, 3], [9, 14]]]]), 2, output_size=(4, 4)), (1, 1, 2, 2)),
}


@pytest.mark.parametrize('case', GRADCHECK)
def test_gradcheck_and_gradgradcheck(case):
    fn, shape = GRADCHECK[case]
    x = nbgrad.tensor(distinct(*shape, seed=4), requires_grad=True)
    f = lambda t: fn(nbgrad.nn.functional, t)  # noqa: E731
    assert nbgrad.autograd.gradcheck(f, [x])
    assert nbgrad.autograd.gradgradcheck(f, [x])


@pytest.mark.parametrize('case', ['max_pool2d-overlap', 'avg_pool2d', 'adaptive_avg_pool2d',
                                  'adaptive_max_pool2d'])
def test_double_backward_matches_torch(case, device):
    fn, shape = GRADCHECK[case]

    def second_order(lib):
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor(distinct(*shape, seed=4), requires_grad=True, device=dev)
        y = fn(lib.nn.functional, x)
        g = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), requires_grad=True,
                       device=dev)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx.detach().cos()).sum(), g)
        return to_numpy(gx), to_numpy(gg), gx.grad_fn.name()

    got, expected = second_order(nbgrad), second_order(torch)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-14)
    assert got[2] == expected[2]


# ---------------------------------------------------------------------------------------------
# Errors: PyTorch's exception kinds, and the input left as it was
# ---------------------------------------------------------------------------------------------

X4 = np.arange(2 * 3 * 5 * 5, dtype=np.float32).reshape(2, 3, 5, 5)
ERRORS = {
    'kernel-larger-than-input': lambda F, x: F.max_pool2d(x, 6),
    'kernel-larger-avg': lambda F, x: F.avg_pool2d(x, 6),
    'kernel-larger-1d': lambda F, x: F.max_pool1d(x[0], 6),
    'kernel-larger-avg1d': lambda F, x: F.avg_pool1d(x[0], 6),
    'kernel-larger-3d': lambda F, x: F.max_pool3d(x, 6),
    'kernel-larger-avg3d': lambda F, x: F.avg_pool3d(x[:, :1], 2),
    'padding-over-half': lambda F, x: F.max_pool2d(x, 2, padding=2),
    'padding-over-half-avg': lambda F, x: F.avg_pool2d(x, 2, padding=2),
    'padding-over-half-1d': lambda F, x: F.max_pool1d(x[0], 2, padding=2),
    'padding-over-half-3d': lambda F, x: F.avg_pool3d(x, 2, padding=2),
    'padding-over-half-dilated': lambda F, x: F.max_pool2d(x, 3, padding=2, dilation=2),
    'negative-padding': lambda F, x: F.max_pool2d(x, 2, padding=-1),
    'zero-stride': lambda F, x: F.max_pool2d(x, 2, stride=0),
    'zero-stride-1d': lambda F, x: F.max_pool1d(x[0], 2, stride=0),
    'zero-kernel': lambda F, x: F.avg_pool2d(x, 0),
    'zero-dilation': lambda F, x: F.max_pool2d(x, 2, dilation=0),
    'three-kernel-sizes': lambda F, x: F.max_pool2d(x, (2, 2, 2)),
    'two-kernel-sizes-1d': lambda F, x: F.max_pool1d(x[0], (2, 2)),
    'two-kernel-sizes-avg1d': lambda F, x: F.avg_pool1d(x[0], (2, 2)),
    'float-kernel': lambda F, x: F.max_pool2d(x, 2.0),
    'float-kernel-avg': lambda F, x: F.avg_pool2d(x, 2.5),
    'zero-divisor': lambda F, x: F.avg_pool2d(x, 2, divisor_override=0),
    'max2d-on-2d': lambda F, x: F.max_pool2d(x[0, 0], 2),
    'max2d-on-5d': lambda F, x: F.max_pool2d(x[None], 2),
    'avg2d-on-2d': lambda F, x: F.avg_pool2d(x[0, 0], 2),
    'avg2d-on-5d': lambda F, x: F.avg_pool2d(x[None], 2),
    'max1d-on-4d': lambda F, x: F.max_pool1d(x, 2),
    'avg1d-on-1d': lambda F, x: F.avg_pool1d(x[0, 0, 0], 2),
    'max3d-on-3d': lambda F, x: F.max_pool3d(x[0], 2),
    'avg3d-on-6d': lambda F, x: F.avg_pool3d(x[None, None], 2),
    'empty-channels': lambda F, x: F.max_pool2d(x[:, :0], 2),
    'empty-height-avg': lambda F, x: F.avg_pool2d(x[:, :, :0], 2),
    'empty-channels-3d': lambda F, x: F.max_pool3d(x[None, :, :0], 2),
    'adaptive-three-sizes': lambda F, x: F.adaptive_avg_pool2d(x, (2, 2, 2)),
    'adaptive-one-size': lambda F, x: F.adaptive_max_pool2d(x, [2]),
    'adaptive-negative': lambda F, x: F.adaptive_avg_pool2d(x, (2, -1)),
    'adaptive-float': lambda F, x: F.adaptive_avg_pool2d(x, 2.0),
    'adaptive-1d-two-sizes': lambda F, x: F.adaptive_avg_pool1d(x[0], (2, 2)),
    'adaptive-1d-none': lambda F, x: F.adaptive_avg_pool1d(x[0], None),
    'adaptive-none-too-few-dims': lambda F, x: F.adaptive_avg_pool2d(x[0, 0], (None, 2)),
    'adaptive-avg-on-2d': lambda F, x: F.adaptive_avg_pool2d(x[0, 0], 2),
    'adaptive-avg-on-1d': lambda F, x: F.adaptive_avg_pool2d(x[0, 0, 0], 2),
    'adaptive-max-on-5d': lambda F, x: F.adaptive_max_pool2d(x[None], 2),
    'adaptive-1d-on-4d': lambda F, x: F.adaptive_max_pool1d(x, 2),
    'adaptive-3d-on-3d': lambda F, x: F.adaptive_avg_pool3d(x[0], 2),
    'adaptive-empty-height': lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2),
    'adaptive-integer': lambda F, x: F.adaptive_avg_pool2d(x.long(), 2),
    'adaptive-max-integer': lambda F, x: F.adaptive_max_pool1d(x[0].long(), 2),
    'max1d-integer': lambda F, x: F.max_pool1d(x[0].long(), 2),
    'max-bool': lambda F, x: F.max_pool2d(x > 3, 2),
    'unpool-size-out-of-range': lambda F, x: F.max_unpool2d(
        *F.max_pool2d(x, 2, return_indices=True), 2, output_size=(7, 7)),
    'unpool-size-three': lambda F, x: F.max_unpool2d(
        *F.max_pool2d(x, 2, return_indices=True), 2, output_size=(3, 5, 5)),
    'unpool-bad-index': lambda F, x: F.max_unpool2d(
        x[:, :, :2, :2], x[:, :, :2, :2].long() + 100, 2),
    'unpool-negative-index': lambda F, x: F.max_unpool2d(
        x[:, :, :2, :2], x[:, :, :2, :2].long() * 0 - 1, 2),
    'unpool-index-shape': lambda F, x: F.max_unpool2d(
        x[:, :, :2, :2], x[:, :, :2, :1].long(), 2),
    'unpool-float-index': lambda F, x: F.max_unpool2d(x[:, :, :2, :2], x[:, :, :2, :2], 2),
    'unpool-unbatched-indices-too-big': lambda F, x: F.max_unpool2d(
        *F.max_pool2d(x[0], 2, return_indices=True), 2),
    'unpool-2d-on-2d': lambda F, x: F.max_unpool2d(x[0, 0], x[0, 0].long(), 2),
}


@pytest.mark.parametrize('case', ERRORS)
def test_errors_have_torchs_kind(case):
    fn = ERRORS[case]
    kinds, inputs = [], []
    for lib in (torch, nbgrad):
        x = lib.tensor(X4, requires_grad=False)
        inputs.append(x)
        with pytest.raises(Exception) as info:
            fn(lib.nn.functional, x)
        kinds.append(exc_kind(info.value))
    assert kinds[1] is kinds[0], f'PyTorch raised {kinds[0].__name__}, nbgrad {kinds[1].__name__}'
    np.testing.assert_array_equal(inputs[1].numpy(), X4)


def test_error_messages_name_the_problem():
    x = nbgrad.zeros(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match='Output size is too small'):
        nbgrad.nn.functional.max_pool2d(x, 6)
    with pytest.raises(RuntimeError, match='pad should be at most half'):
        nbgrad.nn.functional.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match='invalid max index: 100'):
        nbgrad.nn.functional.max_unpool2d(x[..., :2, :2], nbgrad.full((1, 3, 2, 2), 100), 2)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

MODULES = [
    ('MaxPool1d', (3,), dict(stride=2, padding=1)), ('MaxPool2d', ((2, 3),), {}),
    ('MaxPool3d', (2,), dict(dilation=2, ceil_mode=True, return_indices=True)),
    ('MaxUnpool1d', (2,), {}), ('MaxUnpool2d', (2,), dict(stride=1, padding=1)),
    ('MaxUnpool3d', ((1, 2, 2),), {}),
    ('AvgPool1d', (3,), dict(stride=2)), ('AvgPool2d', (3,), dict(padding=1, divisor_override=2)),
    ('AvgPool3d', ((1, 2, 2),), dict(ceil_mode=True, count_include_pad=False)),
    ('LPPool1d', (2, 3), {}), ('LPPool2d', (1.5, 2), dict(stride=1)),
    ('LPPool3d', (3, (1, 2, 2)), dict(ceil_mode=True)),
    ('AdaptiveAvgPool1d', (3,), {}), ('AdaptiveAvgPool2d', ((None, 3),), {}),
    ('AdaptiveAvgPool3d', (2,), {}), ('AdaptiveMaxPool1d', (4,), dict(return_indices=True)),
    ('AdaptiveMaxPool2d', ((3, None),), {}), ('AdaptiveMaxPool3d', ((1, 2, 3),), {}),
]


@pytest.mark.parametrize('name, args, kwargs', MODULES, ids=[m[0] for m in MODULES])
def test_module_repr_and_attributes(name, args, kwargs):
    ours, theirs = getattr(nbgrad.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args,
                                                                                          **kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in ('kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode',
                      'return_indices', 'count_include_pad', 'divisor_override', 'norm_type',
                      'output_size'):
        assert getattr(ours, attribute, None) == getattr(theirs, attribute, None), attribute


@pytest.mark.parametrize('name, args, kwargs', [m for m in MODULES if 'Unpool' not in m[0]],
                         ids=[m[0] for m in MODULES if 'Unpool' not in m[0]])
def test_module_forward(name, args, kwargs):
    d = int(name[-2])
    shape = (2, 3, 8, 7, 6)[:d + 2]
    x = distinct(*shape) + (1.5 if 'LP' in name else 0)
    compare(lambda lib, t: getattr(lib.nn, name)(*args, **kwargs)(t), [x], rtol=1e-11,
            atol=1e-13, name=False)


def test_unpool_module_with_output_size():
    def fn(lib, x):
        pool = lib.nn.MaxPool2d(2, stride=2, return_indices=True)
        unpool = lib.nn.MaxUnpool2d(2, stride=2)
        out, index = pool(x)
        return unpool(out, index, output_size=x.size())
    compare(fn, [distinct(1, 2, 5, 7)])


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

DEVICE_CASES = {
    'max_pool2d': lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                               return_indices=True),
    'max_pool3d': lambda lib, x: lib.nn.functional.max_pool3d(x, 2, 1, return_indices=True),
    'avg_pool2d': lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                               count_include_pad=False),
    'adaptive_avg_pool2d': lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (3, 4)),
    'adaptive_max_pool2d': lambda lib, x: lib.nn.functional.adaptive_max_pool2d(
        x, (3, 4), return_indices=True),
    'adaptive_max_pool2d_overlapping': lambda lib, x: lib.nn.functional.adaptive_max_pool2d(
        x, (4, 5), return_indices=True),
    'adaptive_max_pool3d': lambda lib, x: lib.nn.functional.adaptive_max_pool3d(
        x, (2, 4, 3), return_indices=True),
    'lp_pool2d': lambda lib, x: lib.nn.functional.lp_pool2d(x, 2, 2),
    'max_unpool2d': unpool_case(2, 2, None, None),
}


@pytest.mark.parametrize('case', DEVICE_CASES)
def test_devices(case, device):
    compare(DEVICE_CASES[case], [distinct(2, 3, 6, 8)], device=device)


@pytest.mark.cuda
def test_cuda_results_stay_on_the_device(device):
    if device != 'cuda':
        pytest.skip('cuda only')
    x = nbgrad.tensor(distinct(1, 2, 4, 4), device='cuda', requires_grad=True)
    values, index = nbgrad.nn.functional.max_pool2d(x, 2, return_indices=True)
    assert values.device.type == index.device.type == 'cuda'
    values.sum().backward()
    assert x.grad.device.type == 'cuda'


@pytest.mark.parametrize('case', ['neg_inf_with_padding', 'nan', 'ties', 'large_window_nan',
                                  'adaptive_large_window'])
def test_max_pool_indices_in_edge_cases(case, device):
    """PyTorch's index: the first maximum, or the last NaN; never a padding position (even when
    the input is -inf there). On 'cuda' a kernel scans every window (_pool_cuda)."""
    def pooled(lib):
        F = lib.nn.functional
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor(np.arange(1., 37.).reshape(1, 1, 6, 6), device=dev)
        if case == 'neg_inf_with_padding':
            x = lib.full((1, 1, 4, 4), float('-inf'), device=dev)
            return F.max_pool2d(x, 3, 2, padding=1, return_indices=True)
        if case == 'nan':
            x[0, 0, 1, 1] = float('nan')
            x[0, 0, 1, 2] = float('nan')
            return F.max_pool2d(x, 2, return_indices=True)
        if case == 'ties':
            return F.max_pool2d(lib.ones(1, 1, 5, 5, device=dev), 3, 1, padding=1,
                                return_indices=True)
        if case == 'large_window_nan':
            x[0, 0, 2:4, 2:4] = float('nan')
            return F.adaptive_max_pool2d(x, 1, return_indices=True)
        return F.adaptive_max_pool2d(lib.tensor(np.random.default_rng(0).standard_normal(
            (2, 3, 23, 17)), device=dev), (7, 5), return_indices=True)
    both(lambda lib: tuple(t.cpu() for t in pooled(lib)))


@pytest.mark.cuda
def test_max_pool_kernel_that_does_not_compile_falls_back(device, monkeypatch):
    """A compiler that refuses the max-pool kernels must not stop max pooling: one warning,
    then the array formulas, the same values, indices and gradients."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.nn.functional import _pool_cuda
    monkeypatch.setattr(_pool_cuda, 'KERNELS', KernelFamily('pooling'))
    monkeypatch.setattr(_pool_cuda, '_MAX_FORWARD', _pool_cuda._MAX_FORWARD + 'not C++')
    x = nbgrad.tensor(distinct(2, 3, 6, 8), device='cuda')
    with pytest.warns(RuntimeWarning, match='did not compile'):
        nbgrad.nn.functional.max_pool2d(x, 3, 2, 1)
    assert _pool_cuda.KERNELS.failed
    compare(DEVICE_CASES['max_pool2d'], [distinct(2, 3, 6, 8)], device='cuda')


@pytest.mark.cuda
@pytest.mark.parametrize('name', ['adaptive_avg_pool2d', 'avg_pool2d'])
def test_average_pool_kernel_that_does_not_compile_falls_back(name, device, monkeypatch):
    """Average pooling whose kernels do not compile: one warning, then the array formulas (for
    adaptive pooling on CUDA, the resampling the CPU uses), the same values and gradients."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.nn.functional import _pool_cuda
    monkeypatch.setattr(_pool_cuda, 'KERNELS', KernelFamily('pooling'))
    monkeypatch.setattr(_pool_cuda, '_AVG_FORWARD', _pool_cuda._AVG_FORWARD + 'not C++')
    case = DEVICE_CASES[name]
    with pytest.warns(RuntimeWarning, match='did not compile'):
        got = case(nbgrad, nbgrad.tensor(distinct(2, 3, 6, 8), device='cuda'))
    np.testing.assert_allclose(to_numpy(got), to_numpy(case(torch, torch.tensor(
        distinct(2, 3, 6, 8)))), rtol=1e-12)
    compare(case, [distinct(2, 3, 6, 8)], device='cuda')


@pytest.mark.parametrize('name', ['adaptive_avg_pool2d', 'adaptive_max_pool2d', 'area'])
def test_pooling_to_an_empty_size_has_a_zero_gradient(name):
    """The output is PyTorch's (empty); its gradient is zeros, where PyTorch's backward refuses
    an empty grad_output for the average pools ("Expected grad_output to have non-zero size")
    and nbgrad's resampling used to fail with an IndexError."""
    def forward(lib, x):
        F = lib.nn.functional
        if name == 'area':
            return F.interpolate(x, size=(0, 2), mode='area')
        out = getattr(F, name)(x, (0, 2))
        return out[0] if isinstance(out, tuple) else out
    x = nbgrad.ones(2, 2, 1, 5, requires_grad=True)
    y = forward(nbgrad, x)
    assert tuple(y.shape) == tuple(forward(torch, torch.ones(2, 2, 1, 5)).shape)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2, 1, 5)))
