"""F.conv1d/2d/3d and F.conv_transpose1d/2d/3d against PyTorch: values and gradients (input,
weight, bias) over a table of geometries (stride, padding ints/tuples/'same'/'valid', dilation,
groups, depthwise, no bias, unbatched and empty batches, output_padding), float64 gradcheck and
gradgradcheck, second derivatives and grad_fn names against PyTorch's, saved-tensor checks,
argument errors with PyTorch's exception kinds, and the 'cuda' device."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both

torch = pytest.importorskip('torch')


@pytest.fixture
def nbgrad_kernels():
    """CUDA convolutions through nbgrad's own kernels, not cuDNN, for the test."""
    with nbgrad.backends.cudnn.flags(enabled=False):
        yield


def conv(name, **kwargs):
    """A case function (lib, input, weight[, bias]) -> output."""
    def fn(lib, *tensors):
        return getattr(lib.nn.functional, name)(*tensors, **kwargs)
    fn.kwargs, fn.transposed = kwargs, 'transpose' in name
    return fn


# name: (function, input shape, weight shape, bias?) -- bias has out_channels elements
CASES = {
    '1d': (conv('conv1d'), (2, 3, 9), (4, 3, 3), True),
    '1d_stride_dilation_pad': (conv('conv1d', stride=3, dilation=2, padding=2), (2, 3, 11),
                               (4, 3, 3), True),
    '1d_same_even_kernel': (conv('conv1d', padding='same'), (2, 3, 8), (4, 3, 4), True),
    '1d_unbatched': (conv('conv1d', padding=1), (3, 9), (4, 3, 3), True),
    '2d': (conv('conv2d'), (2, 3, 6, 5), (4, 3, 3, 3), True),
    '2d_stride_pad_tuples': (conv('conv2d', stride=(2, 1), padding=(1, 2)), (2, 3, 7, 5),
                             (4, 3, 3, 2), True),
    '2d_dilation': (conv('conv2d', dilation=(2, 1), padding=1), (2, 3, 7, 6), (4, 3, 3, 3), True),
    '2d_same': (conv('conv2d', padding='same'), (2, 3, 5, 6), (4, 3, 3, 3), True),
    '2d_same_even_kernel': (conv('conv2d', padding='same'), (2, 3, 5, 6), (4, 3, 2, 4), True),
    '2d_same_dilated': (conv('conv2d', padding='same', dilation=(2, 3)), (1, 2, 7, 8),
                        (3, 2, 2, 3), True),
    '2d_valid': (conv('conv2d', padding='valid'), (2, 3, 5, 6), (4, 3, 2, 3), True),
    '2d_groups': (conv('conv2d', groups=2, padding=1, stride=2), (2, 4, 5, 5), (6, 2, 3, 3),
                  True),
    '2d_depthwise': (conv('conv2d', groups=3, padding=1), (2, 3, 5, 5), (6, 1, 3, 3), True),
    '2d_no_bias': (conv('conv2d', stride=2), (2, 3, 6, 5), (4, 3, 2, 2), False),
    '2d_unbatched': (conv('conv2d', padding=(0, 1)), (3, 5, 4), (2, 3, 3, 3), True),
    '2d_kernel_covers_input': (conv('conv2d'), (2, 3, 3, 4), (5, 3, 3, 4), True),
    '2d_1x1': (conv('conv2d'), (2, 3, 4, 4), (5, 3, 1, 1), True),
    '2d_padding_beyond_kernel': (conv('conv2d', padding=(2, 1)), (2, 3, 4, 4), (5, 3, 1, 2),
                                 True),
    '2d_empty_batch': (conv('conv2d', padding=1), (0, 3, 4, 4), (2, 3, 3, 3), True),
    '3d': (conv('conv3d', stride=(1, 2, 1), padding=(1, 0, 1)), (1, 2, 4, 5, 4),
           (3, 2, 2, 3, 2), True),
    '3d_same_groups': (conv('conv3d', padding='same', groups=2), (1, 4, 3, 4, 3),
                       (2, 2, 3, 2, 3), True),
    '3d_unbatched': (conv('conv3d', dilation=2), (2, 5, 5, 5), (2, 2, 2, 2, 2), False),
    'transpose1d': (conv('conv_transpose1d', stride=2, padding=1, output_padding=1), (2, 3, 5),
                    (3, 4, 3), True),
    'transpose1d_dilation_output_padding': (
        conv('conv_transpose1d', padding=1, output_padding=1, dilation=2), (2, 3, 5), (3, 2, 3),
        True),
    'transpose2d': (conv('conv_transpose2d', stride=(2, 3), padding=(1, 0),
                         output_padding=(1, 2)), (2, 4, 4, 3), (4, 3, 3, 2), True),
    'transpose2d_groups': (conv('conv_transpose2d', stride=2, groups=2), (2, 4, 3, 3),
                           (4, 2, 3, 3), True),
    'transpose2d_stride1': (conv('conv_transpose2d', padding=1), (2, 3, 4, 4), (3, 2, 3, 3),
                            True),
    'transpose2d_unbatched_no_bias': (conv('conv_transpose2d', stride=2, padding=1), (3, 3, 4),
                                      (3, 2, 2, 2), False),
    'transpose3d': (conv('conv_transpose3d', stride=2, padding=(0, 1, 1), dilation=(1, 2, 1)),
                    (1, 2, 3, 2, 3), (2, 3, 2, 2, 3), True),
}
# cheap enough for finite differences of second order
SMALL = ['1d_stride_dilation_pad', '1d_same_even_kernel', '2d_groups', '2d_same_even_kernel',
         '2d_unbatched', '3d_unbatched', 'transpose1d_dilation_output_padding', 'transpose2d',
         'transpose2d_groups']


def case_arrays(name, seed=0):
    fn, x_shape, w_shape, has_bias = CASES[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if has_bias:
        out_channels = w_shape[1] * fn.kwargs.get('groups', 1) if fn.transposed else w_shape[0]
        arrays.append(rng.standard_normal(out_channels))
    return fn, arrays


def to_numpy(t):
    return None if t is None else t.detach().cpu().numpy()


def forward_backward(lib, fn, arrays, dtype='float64', device='cpu', seed=5):
    """fn(lib, *leaves) and a backward from a fixed random output gradient; returns
    ([output, grad of each leaf] as NumPy arrays, the output's grad_fn name). torch runs on the
    CPU whatever the device."""
    dev = device if lib is nbgrad else 'cpu'
    leaves = [lib.tensor(a, dtype=getattr(lib, dtype), device=dev, requires_grad=True)
              for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch's note about 'same' with even kernels
        out = fn(lib, *leaves)
    grad = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(grad, dtype=out.dtype, device=dev))
    return [to_numpy(out)] + [to_numpy(t.grad) for t in leaves], out.grad_fn.name()


def assert_close_arrays(got, expected, rtol, atol, what=''):
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape and g.dtype == e.dtype, (what, i, g.shape, e.shape, g.dtype)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f'{what} item {i}')


def compare_with_torch(fn, arrays, dtype='float64', device='cpu'):
    tolerance = {'float64': (1e-10, 1e-12), 'float32': (2e-5, 2e-5)}[dtype]
    got, got_name = forward_backward(nbgrad, fn, arrays, dtype, device)
    expected, expected_name = forward_backward(torch, fn, arrays, dtype)
    assert_close_arrays(got, expected, *tolerance)
    assert got_name == expected_name


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', CASES)
def test_values_and_gradients_match_torch(name, dtype):
    fn, arrays = case_arrays(name)
    compare_with_torch(fn, arrays, dtype)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', CASES)
def test_device(name, dtype, device, nbgrad_kernels):
    """Every geometry on every device (on CUDA: nbgrad's kernel-written operand, _conv_cuda;
    test_conv_cudnn runs them through cuDNN)."""
    fn, arrays = case_arrays(name)
    compare_with_torch(fn, arrays, dtype, device)
    out = fn(nbgrad, *[nbgrad.tensor(a, device=device) for a in arrays])
    assert out.device.type == device


@pytest.mark.parametrize('name', SMALL)
def test_gradcheck_and_gradgradcheck(name):
    fn, arrays = case_arrays(name)
    leaves = [nbgrad.tensor(a, requires_grad=True) for a in arrays]
    assert nbgrad.autograd.gradcheck(lambda *t: fn(nbgrad, *t), leaves)
    assert nbgrad.autograd.gradgradcheck(lambda *t: fn(nbgrad, *t), leaves)


def second_derivatives(lib, fn, arrays, device='cpu'):
    """First derivatives with create_graph (and their grad_fn names), then the derivatives of
    a weighted sum of them w.r.t. the leaves and the output gradient."""
    dev = device if lib is nbgrad else 'cpu'
    leaves = [lib.tensor(a, requires_grad=True, device=dev) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = fn(lib, *leaves)
    rng = np.random.default_rng(7)
    grad_out = lib.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True, device=dev)
    firsts = lib.autograd.grad(out, leaves, grad_out, create_graph=True)
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)), device=dev)).sum()
                for g in firsts)
    seconds = lib.autograd.grad(total, leaves + [grad_out], allow_unused=True)
    values = [to_numpy(g) for g in firsts]
    values += [np.zeros(a.shape) if g is None else to_numpy(g)
               for g, a in zip(seconds, arrays + [to_numpy(grad_out)])]
    return values, [g.grad_fn.name() for g in firsts[:2]]


@pytest.mark.parametrize('name', ['1d_stride_dilation_pad', '2d_groups', '2d_same_even_kernel',
                                  'transpose1d_dilation_output_padding', 'transpose2d_groups',
                                  '3d_unbatched'])
def test_double_backward_matches_torch(name, device):
    fn, arrays = case_arrays(name)
    got, got_names = second_derivatives(nbgrad, fn, arrays, device)
    expected, expected_names = second_derivatives(torch, fn, arrays)
    assert_close_arrays(got, expected, 1e-10, 1e-12)
    assert got_names[1] == expected_names[1] == 'ConvolutionBackwardBackward0'
    # the input's gradient ends in a view op when unbatched, and in PyTorch in a crop where
    # 'same' pads unevenly (PyTorch pads the input first; nbgrad pads inside the convolution)
    if name not in ('3d_unbatched', '2d_same_even_kernel'):
        assert got_names[0] == expected_names[0] == 'ConvolutionBackwardBackward0'


def test_non_contiguous_operands():
    """Transposed and strided views as input, weight and output gradient."""
    def fn(lib, x, w):
        return lib.nn.functional.conv2d(x.transpose(2, 3), w[:, :, ::2].flip(3), stride=2,
                                        padding=1)
    rng = np.random.default_rng(3)
    compare_with_torch(fn, [rng.standard_normal((2, 3, 7, 6)),
                            rng.standard_normal((4, 3, 5, 3))])


def test_integer_convolution_matches_torch():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) % 7 - 3
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3) % 5 - 2
    both(lambda lib: lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), padding=1, stride=2))


def test_backward_twice_with_retain_graph_and_input_only_gradient():
    def run(lib):
        rng = np.random.default_rng(1)
        x = lib.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
        w = lib.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
        y = lib.nn.functional.conv2d(x, w, padding=1).square().sum()
        y.backward(retain_graph=True)
        y.backward()
        frozen = lib.tensor(rng.standard_normal((4, 3, 3, 3)))  # weight without grad
        (gx,) = lib.autograd.grad(lib.nn.functional.conv2d(x, frozen).sum(), [x])
        return x.grad, w.grad, gx
    both(run, lambda got, expected: [np.testing.assert_allclose(to_numpy(g), to_numpy(e),
                                                                rtol=1e-10)
                                     for g, e in zip(got, expected)])


def test_earlier_results_survive_reused_buffers():
    """im2col's buffers are reused between calls: results made earlier must keep PyTorch's
    values after later convolutions of the same shapes (all compared at the end)."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((3, 2, 3, 3))
    xs = [rng.standard_normal((2, 2, 5, 5)) for _ in range(3)]

    def run(lib):
        weight = lib.tensor(w, requires_grad=True)
        results = []
        for x in xs:
            leaf = lib.tensor(x, requires_grad=True)
            out = lib.nn.functional.conv2d(leaf, weight, padding=1)
            results += [out, *lib.autograd.grad(out.square().sum(), [leaf, weight])]
        return [to_numpy(r) for r in results]
    assert_close_arrays(run(nbgrad), run(torch), 1e-10, 1e-12)


def test_modified_input_is_detected_at_backward():
    def run(lib):
        x = lib.ones(1, 2, 4, 4, requires_grad=True)
        w = lib.ones(3, 2, 2, 2, requires_grad=True)
        h = x * 2
        y = lib.nn.functional.conv2d(h, w)
        h.add_(1)
        y.sum().backward()
    both(run)


def t(lib, *shape, dtype='float64'):
    return lib.zeros(*shape, dtype=getattr(lib, dtype))


ERRORS = {
    'input_rank': lambda lib, F: F.conv2d(t(lib, 5, 5), t(lib, 4, 1, 3, 3)),
    'weight_rank': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3)),
    'channels': lambda lib, F: F.conv2d(t(lib, 1, 4, 5, 5), t(lib, 4, 3, 3, 3)),
    'kernel_too_large': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 7, 3)),
    'dilated_kernel_too_large': lambda lib, F: F.conv1d(t(lib, 1, 3, 5), t(lib, 4, 3, 3),
                                                        dilation=3),
    'groups_not_dividing': lambda lib, F: F.conv2d(t(lib, 1, 4, 5, 5), t(lib, 3, 2, 3, 3),
                                                   groups=2),
    'groups_zero': lambda lib, F: F.conv2d(t(lib, 1, 4, 5, 5), t(lib, 4, 4, 3, 3), groups=0),
    'same_with_stride': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3, 3),
                                                stride=2, padding='same'),
    'bad_padding_string': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3, 3),
                                                  padding='full'),
    'negative_padding': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3, 3),
                                                padding=-1),
    'zero_stride': lambda lib, F: F.conv1d(t(lib, 1, 3, 5), t(lib, 4, 3, 3), stride=0),
    'zero_dilation': lambda lib, F: F.conv1d(t(lib, 1, 3, 5), t(lib, 4, 3, 3), dilation=0),
    'stride_length': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3, 3),
                                             stride=(1, 2, 3)),
    'bias_size': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 4, 3, 3, 3), t(lib, 3)),
    'weight_dtype': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5),
                                            t(lib, 4, 3, 3, 3, dtype='float32')),
    'bias_dtype': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5, dtype='float32'),
                                          t(lib, 4, 3, 3, 3, dtype='float32'), t(lib, 4)),
    'empty_weight': lambda lib, F: F.conv2d(t(lib, 1, 3, 5, 5), t(lib, 0, 3, 3, 3)),
    'input_not_tensor': lambda lib, F: F.conv1d([[1.0]], t(lib, 1, 1, 1)),
    'transpose_channels': lambda lib, F: F.conv_transpose2d(t(lib, 1, 3, 5, 5),
                                                            t(lib, 4, 4, 3, 3)),
    'transpose_output_padding': lambda lib, F: F.conv_transpose2d(
        t(lib, 1, 3, 5, 5), t(lib, 3, 4, 3, 3), stride=2, output_padding=2),
    'transpose_padding_string': lambda lib, F: F.conv_transpose1d(t(lib, 1, 3, 5),
                                                                  t(lib, 3, 4, 3), padding='same'),
    'transpose_groups': lambda lib, F: F.conv_transpose1d(t(lib, 1, 3, 5), t(lib, 3, 4, 3),
                                                          groups=2),
    'transpose_empty_output': lambda lib, F: F.conv_transpose1d(t(lib, 1, 3, 1),
                                                                t(lib, 3, 4, 1), padding=1),
}


@pytest.mark.parametrize('name', ERRORS)
def test_errors_have_torch_kinds(name):
    both(lambda lib: ERRORS[name](lib, lib.nn.functional))


def test_error_messages_name_the_problem():
    F = nbgrad.nn.functional
    with pytest.raises(RuntimeError, match='expected input.*to have 3 channels, but got 4'):
        F.conv2d(nbgrad.zeros(1, 4, 5, 5), nbgrad.zeros(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"Kernel size: \(7 x 3\)"):
        F.conv2d(nbgrad.zeros(1, 3, 5, 5), nbgrad.zeros(2, 3, 7, 3))
    with pytest.raises(RuntimeError, match='strided'):
        F.conv1d(nbgrad.zeros(1, 3, 5), nbgrad.zeros(2, 3, 3), stride=2, padding='same')


# ---------------------------------------------------------------------------------------------
# The Winograd kernels (float32 3x3 stride-1 convolutions with >= 8 channels in and out, batch x
# output pixels >= 4096), checked against PyTorch in float64, i.e. against the exact answer, with
# a tolerance of float32 rounding (PyTorch's own float32 results are off by about as much). Most
# cases lower the size thresholds so that small, quick convolutions take that path.
# ---------------------------------------------------------------------------------------------

from nbgrad.nn.functional import _winograd  # noqa: E402

WINOGRAD = {
    'same': (conv('conv2d', padding=1), (3, 5, 8, 7), (6, 5, 3, 3)),
    'valid_odd_output': (conv('conv2d'), (2, 4, 9, 8), (3, 4, 3, 3)),
    'tuple_padding': (conv('conv2d', padding=(2, 0)), (2, 3, 6, 9), (4, 3, 3, 3)),
    'wide_padding': (conv('conv2d', padding=3), (2, 3, 5, 4), (2, 3, 3, 3)),
    'unbatched': (conv('conv2d', padding=1), (4, 6, 6), (5, 4, 3, 3)),
    'transpose_stride1': (conv('conv_transpose2d', padding=1), (3, 4, 6, 7), (4, 5, 3, 3)),
}


@pytest.fixture
def winograd_everywhere(monkeypatch):
    monkeypatch.setattr(_winograd, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_winograd, '_MIN_PIXELS', 1)


def count_calls(monkeypatch, module, names):
    """Wraps module.name for each name; returns {name: number of calls so far}."""
    calls = dict.fromkeys(names, 0)
    for name in names:
        def spy(*args, _name=name, _real=getattr(module, name)):
            calls[_name] += 1
            return _real(*args)
        monkeypatch.setattr(module, name, spy)
    return calls


def assert_float32_close(got, exact, what):
    """got (float32) within float32 rounding of exact: a few units of 1e-7 relative to the
    largest value, the error of a long float32 sum."""
    for i, (g, e) in enumerate(zip(got, exact)):
        assert g.dtype == np.float32 and g.shape == e.shape, (what, i)
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6 * np.abs(e).max(),
                                   err_msg=f'{what} item {i}')


def winograd_arrays(name, seed):
    fn, x_shape, w_shape = WINOGRAD[name]
    rng = np.random.default_rng(seed)
    return fn, [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
                rng.standard_normal(w_shape[1] if fn.transposed else w_shape[0])]


@pytest.mark.parametrize('chunk', [None, 1], ids=['one_chunk', 'chunk_per_image'])
@pytest.mark.parametrize('name', WINOGRAD)
def test_winograd_values_and_gradients(name, chunk, monkeypatch, winograd_everywhere):
    if chunk:  # one image per batch chunk
        monkeypatch.setattr(_winograd, '_CHUNK_ELEMENTS', chunk)
    fn, arrays = winograd_arrays(name, 8)
    calls = count_calls(monkeypatch, _winograd, ['conv_forward', 'conv_weight_grad'])
    got, got_name = forward_backward(nbgrad, fn, arrays, 'float32')
    assert calls == {'conv_forward': 2, 'conv_weight_grad': 1}
    exact, expected_name = forward_backward(torch, fn, arrays, 'float64')
    assert got_name == expected_name
    assert_float32_close(got, exact, name)


def test_winograd_at_default_sizes(monkeypatch):
    """A 32-channel 3x3 convolution of a 4 x 32 x 32 batch takes the Winograd path as is."""
    fn = conv('conv2d', padding=1)
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal((4, 32, 32, 32)), rng.standard_normal((32, 32, 3, 3))]
    calls = count_calls(monkeypatch, _winograd, ['conv_forward', 'conv_weight_grad'])
    got, _ = forward_backward(nbgrad, fn, arrays, 'float32')
    assert calls == {'conv_forward': 2, 'conv_weight_grad': 1}
    assert_float32_close(got, forward_backward(torch, fn, arrays, 'float64')[0], 'default')


@pytest.mark.parametrize('split', [True, False], ids=['batch_split_over_threads', 'whole_batch'])
@pytest.mark.parametrize('name', ['same', 'valid_odd_output', 'transpose_stride1'])
def test_winograd_batch_parts(name, split, monkeypatch, winograd_everywhere):
    """Below _SPLIT_BELOW channels the batch is cut into parts that run on nbgrad's threads with
    single-threaded GEMMs (one image per chunk here, so parts hold several chunks); above it the
    whole batch runs on the calling thread. Both give PyTorch's values and gradients."""
    import nbgrad._threads
    monkeypatch.setattr(nbgrad._threads, 'PARALLEL_MIN_ELEMENTS', 1)
    monkeypatch.setattr(nbgrad._threads, '_threads', [2])
    monkeypatch.setattr(_winograd, '_CHUNK_ELEMENTS', 1)
    monkeypatch.setattr(_winograd, '_SPLIT_BELOW', 1 << 30 if split else 1)
    parts = []
    real_run_parts = _winograd.run_parts
    monkeypatch.setattr(_winograd, 'run_parts',
                        lambda fn, batch: parts.append(len(batch)) or real_run_parts(fn, batch))
    fn, (x, w, b) = winograd_arrays(name, 13)
    x = np.concatenate([x, x[::-1] * 0.5])          # a batch of 4-6 images
    got, _ = forward_backward(nbgrad, fn, [x, w, b], 'float32')
    assert parts == ([2, 2, 2] if split else [])
    assert_float32_close(got, forward_backward(torch, fn, [x, w, b], 'float64')[0], name)


def test_winograd_double_backward(winograd_everywhere):
    fn, (x, w, _) = winograd_arrays('same', 9)
    rng = np.random.default_rng(10)
    grad_out, weights = rng.standard_normal(x.shape[:1] + w.shape[:1] + x.shape[2:]), \
        rng.standard_normal(x.shape)

    def run(lib, dtype):
        leaves = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, grad_out)]
        gx, gw = lib.autograd.grad(fn(lib, *leaves[:2]), leaves[:2], leaves[2],
                                   create_graph=True)
        total = (gx * lib.tensor(weights, dtype=dtype)).sum() + gw.square().sum()
        return [to_numpy(t) for t in (gx, gw, *lib.autograd.grad(total, leaves))]
    assert_float32_close(run(nbgrad, nbgrad.float32), run(torch, torch.float64), 'double')


def test_winograd_is_float32_only(monkeypatch, winograd_everywhere):
    """float64 stays on the exact im2col path (and matches PyTorch to 1e-10)."""
    fn, arrays = winograd_arrays('same', 10)
    calls = count_calls(monkeypatch, _winograd, ['conv_forward', 'conv_weight_grad'])
    compare_with_torch(fn, arrays, 'float64')
    assert calls == {'conv_forward': 0, 'conv_weight_grad': 0}


def test_winograd_results_survive_reused_buffers(winograd_everywhere):
    """The kernels' scratch memory is reused: earlier outputs keep their values."""
    fn, (_, w, b) = winograd_arrays('same', 11)
    xs = [np.random.default_rng(seed).standard_normal((3, 5, 8, 7)) for seed in (1, 2)]

    def run(lib, dtype):
        weight, bias = lib.tensor(w, dtype=dtype), lib.tensor(b, dtype=dtype)
        return [to_numpy(fn(lib, lib.tensor(x, dtype=dtype), weight, bias)) for x in xs]
    assert_float32_close(run(nbgrad, nbgrad.float32), run(torch, torch.float64), 'reuse')


@pytest.mark.parametrize('name', ['same', 'wide_padding', 'valid_odd_output'])
def test_winograd_ignores_what_reused_scratch_held(name, winograd_everywhere):
    """The kernels write only what they read into reused scratch memory (the padding cells
    included): NaN left there by earlier work must not reach values or gradients."""
    from nbgrad.nn.functional._im2col import workspace
    fn, arrays = winograd_arrays(name, 12)

    def run(lib, dtype):
        leaves = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
        out = fn(lib, *leaves)
        out.backward(lib.ones_like(out))
        return [to_numpy(out)] + [to_numpy(t.grad) for t in leaves]
    run(nbgrad, nbgrad.float32)                  # fills the workspace with buffers
    for buffer in workspace._free:
        buffer.fill(np.nan)
    assert_float32_close(run(nbgrad, nbgrad.float32), run(torch, torch.float64), 'poisoned')


@pytest.mark.cuda
def test_conv_kernel_that_does_not_compile_falls_back(device, monkeypatch, nbgrad_kernels):
    """A compiler that refuses the im2col kernels must not stop convolutions: one warning, then
    the array formulas, the same values and gradients."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.nn.functional import _conv_cuda
    monkeypatch.setattr(_conv_cuda, 'KERNELS', KernelFamily('convolution'))
    monkeypatch.setattr(_conv_cuda, '_IM2COL', _conv_cuda._IM2COL + 'not C++')
    fn, arrays = case_arrays('2d_groups')
    with pytest.warns(RuntimeWarning, match='did not compile'):
        fn(nbgrad, *[nbgrad.tensor(a, device='cuda') for a in arrays])
    assert _conv_cuda.KERNELS.failed
    compare_with_torch(fn, arrays, 'float64', 'cuda')


@pytest.mark.cuda
@pytest.mark.parametrize('name', ['2d_groups', '1d_stride_dilation_pad', '3d', 'transpose2d'])
def test_conv_kernels_with_64_bit_indices(device, monkeypatch, name, nbgrad_kernels):
    """Arrays past 2^31 elements index in long long; smaller ones in int. Both variants of the
    im2col and col2im kernels give PyTorch's values and gradients (the 64-bit one forced here:
    no test can allocate 2^31 elements)."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad.nn.functional import _conv_cuda
    monkeypatch.setattr(_conv_cuda, '_INT32_ELEMENTS', 0)
    assert _conv_cuda._with_index_type('', np.empty(1)).startswith('typedef long long I;')
    fn, arrays = case_arrays(name)
    compare_with_torch(fn, arrays, 'float64', 'cuda')


def test_conv_transpose_with_an_empty_output_dim():
    """A transposed convolution whose output is 0 long in one dim gives PyTorch's empty result
    and zero gradients (a negative length is still an error)."""
    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.ConvTranspose2d(2, 4, (2, 4), stride=(2, 1), padding=(0, 2),
                                       dilation=(2, 1))
        x = lib.ones(2, 2, 7, 1, requires_grad=True)
        y = layer(x)
        y.sum().backward()
        return y, x.grad, layer.weight.grad, layer.bias.grad
    both(run)


# ---------------------------------------------------------------------------------------------
# Complex convolutions: values and gradients (conjugated operands), to second order
# ---------------------------------------------------------------------------------------------

_COMPLEX_CONVS = {
    'conv1d': lambda F, x, w, b: F.conv1d(x, w, b, padding=1, stride=2),
    'conv2d_groups_same': lambda F, x, w, b: F.conv2d(x.reshape(2, 2, 3, 2), w[:, :1, :2, None]
                                                      .expand(4, 1, 2, 2), groups=2,
                                                      padding='same'),
    'conv_transpose1d': lambda F, x, w, b: F.conv_transpose1d(x.repeat(1, 2, 1), w, b[:2] * 1,
                                                              stride=2),
    'unfold_fold': lambda F, x, w, b: F.fold(F.unfold(x.reshape(2, 2, 3, 2), (2, 1)), (3, 2),
                                             (2, 1)),
}


@pytest.mark.parametrize('case', _COMPLEX_CONVS)
def test_complex_convolution_gradients(case):
    rng = np.random.default_rng(3)

    def arr(*shape):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    x, w, b = arr(2, 2, 6), arr(4, 2, 3), arr(4)

    def run(lib):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = _COMPLEX_CONVS[case](lib.nn.functional, xs, ws, bs)
        loss = (y * (1 + 2j)).real.sum() + y.abs().sum()
        grads = lib.autograd.grad(loss, (xs, ws, bs), create_graph=True, allow_unused=True)
        second = lib.autograd.grad(sum(g.abs().sum() for g in grads if g is not None), xs,
                                   allow_unused=True)
        return [t.detach().resolve_conj() if t is not None else None
                for t in (y,) + grads + second]
    for got, expected in zip(run(nbgrad), run(torch)):
        assert (got is None) == (expected is None)
        if got is not None:
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-9)
