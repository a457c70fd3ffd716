"""CUDA convolutions through cuDNN (nn/functional/_conv_cudnn.py, cuda/_cudnn_library.py).

Where cuDNN loads (a GPU machine with NVIDIA's cuDNN wheel or library), every geometry of
test_nn_conv runs through it against PyTorch on the CPU, with PyTorch's switches: allow_tf32,
deterministic, benchmark, enabled. Everywhere, the pure parts run: which cases cuDNN is asked
for, the output sizes it would compute, the algorithm choice, and a clear reason when the library
is missing."""
import os
import warnings

import numpy as np
import pytest

import nbgrad
from nbgrad.cuda import _cudnn_library as library
from nbgrad.nn.functional import _conv_cudnn as conv_cudnn
from test_nn_conv import CASES, case_arrays, compare_with_torch, forward_backward

torch = pytest.importorskip('torch')

# what cuDNN is not asked for: asymmetric padding ('same' with an even kernel), an empty batch,
# an output_padding the convolution's sizes do not give back (stride 1, dilation 2)
NOT_FOR_CUDNN = {'1d_same_even_kernel', '2d_same_even_kernel', '3d_same_groups', '2d_empty_batch',
                 'transpose1d_dilation_output_padding'}


@pytest.mark.parametrize('size, kernel, stride, pads, dilation', [
    ((9,), (3,), (1,), ((0, 0),), (1,)),
    ((11,), (3,), (3,), ((2, 2),), (2,)),
    ((7, 5), (3, 2), (2, 1), ((1, 1), (2, 2)), (1, 1)),
    ((7, 6), (3, 3), (2, 1), ((1, 1), (1, 1)), (2, 1)),
    ((4, 5, 4), (2, 3, 2), (1, 2, 1), ((1, 1), (0, 0), (1, 1)), (1, 1, 1)),
    ((8, 8), (3, 3), (3, 2), ((0, 0), (1, 1)), (1, 2)),
])
def test_output_size_is_torchs(size, kernel, stride, pads, dilation):
    x = torch.zeros((1, 1) + size)
    w = torch.zeros((1, 1) + kernel)
    conv = getattr(torch.nn.functional, f'conv{len(size)}d')
    expected = conv(x, w, stride=stride, padding=[lo for lo, _ in pads], dilation=dilation)
    assert conv_cudnn.natural_out_size(size, kernel, stride, pads, dilation) == \
        tuple(expected.shape[2:])


def test_cases_cudnn_is_not_asked_for():
    """Asymmetric or negative padding, and empty tensors, stay with nbgrad's kernels; a 1-d
    convolution is a 2-d one of height 1."""
    assert conv_cudnn.plan_shapes((2, 3, 8), (4, 3, 4), (2, 4, 8), (1,), ((1, 2),), (1,)) is None
    assert conv_cudnn.plan_shapes((2, 3, 8), (4, 3, 3), (2, 4, 4), (1,), ((-1, -1),),
                                  (1,)) is None
    assert conv_cudnn.plan_shapes((0, 3, 8, 8), (4, 3, 3, 3), (0, 4, 6, 6), (1, 1),
                                  ((0, 0), (0, 0)), (1, 1)) is None
    assert conv_cudnn.plan_shapes((2, 3, 9), (4, 3, 3), (2, 4, 3), (3,), ((2, 2),), (2,)) == (
        (2, 3, 1, 9), (4, 3, 1, 3), (2, 4, 1, 3), (1, 3), (0, 2), (1, 2))


class _Result:
    def __init__(self, algo, status, determinism, math=0):
        self.algo, self.status, self.determinism, self.mathType = algo, status, determinism, math


def test_algorithm_choice_takes_cudnns_first_usable():
    """cuDNN ranks its algorithms; the first that succeeded is taken, and with determinism
    asked for, the first deterministic one (cudnnDeterminism_t: 1 is deterministic)."""
    ranked = [_Result(7, 9, 1), _Result(1, 0, 0), _Result(0, 0, 1), _Result(3, 0, 1)]
    assert conv_cudnn.choose_algorithm(ranked, deterministic=False).algo == 1
    assert conv_cudnn.choose_algorithm(ranked, deterministic=True).algo == 0
    assert conv_cudnn.choose_algorithm(ranked[:2], deterministic=True) is None


def test_math_type_follows_torchs_rule():
    """PyTorch (aten/src/ATen/cudnn/Descriptors.h): tensor-op math for half, FMA math (no TF32)
    for float32 when allow_tf32 is False, cuDNN's default otherwise."""
    assert conv_cudnn.math_type(np.dtype(np.float16), False) == library.TENSOR_OP_MATH
    assert conv_cudnn.math_type(np.dtype(np.float32), False) == library.FMA_MATH
    assert conv_cudnn.math_type(np.dtype(np.float32), True) == library.DEFAULT_MATH
    assert conv_cudnn.math_type(np.dtype(np.float64), True) == library.DEFAULT_MATH


def test_a_missing_library_says_what_was_tried():
    if library.available():
        pytest.skip('cuDNN loads on this machine')
    reason = library.unavailable_reason()
    assert 'cuDNN was not found' in reason and 'libcudnn.so' in reason
    assert nbgrad.backends.cudnn.version() is None and not nbgrad.backends.cudnn.is_available()


@pytest.fixture
def cudnn_library(monkeypatch):
    """cuDNN for the test: the machine's where it loads; on the fake CuPy, fake_cudnn (which
    checks nbgrad's plumbing, computing with PyTorch); otherwise the test is skipped. Each test
    starts with no cached geometry. Yields the fake, or None for the real library."""
    if not nbgrad.cuda.is_available():
        pytest.skip('no CUDA device')
    monkeypatch.setattr(conv_cudnn, '_geometries', {})
    monkeypatch.setattr(conv_cudnn, '_refused', set())
    if library.available():
        yield None
        return
    if not os.environ.get('NBGRAD_FAKE_CUDA'):
        pytest.skip(f'cuDNN is not usable here: {library.unavailable_reason()}')
    from fake_cudnn import FakeCudnn
    fake = FakeCudnn()
    for key, value in dict(loaded=True, library=fake, reason=None, version=91000).items():
        monkeypatch.setitem(library._state, key, value)
    monkeypatch.setattr(library, '_handles', {})
    yield fake


@pytest.fixture
def cudnn_used(monkeypatch, cudnn_library):
    """The cuDNN directions run during the test ('forward', 'input', 'weight'), in order."""
    calls = []
    run = conv_cudnn._run

    def counting(kind, *args):
        out = run(kind, *args)
        if out is not None:
            calls.append(kind)
        return out
    monkeypatch.setattr(conv_cudnn, '_run', counting)
    return calls


@pytest.mark.cuda
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', CASES)
def test_every_geometry_through_cudnn(name, dtype, cudnn_used):
    """Values and gradients of every conv / conv_transpose geometry, cuDNN serving each
    direction it can take (allow_tf32 off: float32's own accuracy)."""
    fn, arrays = case_arrays(name)
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False):
        compare_with_torch(fn, arrays, dtype, 'cuda')
    if name in NOT_FOR_CUDNN:
        assert cudnn_used == []
    else:
        assert len(cudnn_used) == 3, cudnn_used


@pytest.mark.cuda
@pytest.mark.parametrize('switches', [dict(deterministic=True), dict(benchmark=True), {}])
def test_algorithm_switches_give_torchs_values(switches, cudnn_used, cudnn_library):
    """deterministic picks the first deterministic algorithm (the fake ranks a
    non-deterministic one first), benchmark times them (cudnnFind*), and either way the values
    are PyTorch's; the choice is made once per geometry and direction."""
    fn, arrays = case_arrays('2d_groups')
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False, **switches):
        compare_with_torch(fn, arrays, 'float32', 'cuda')
        compare_with_torch(fn, arrays, 'float32', 'cuda')
    assert cudnn_used == ['forward', 'input', 'weight'] * 2
    assert len(conv_cudnn._geometries) == 1
    if cudnn_library is not None:
        algorithms = {algo for _, algo in cudnn_library.calls}
        assert algorithms == ({1} if switches.get('deterministic') else {0})


@pytest.mark.cuda
def test_turning_deterministic_on_later_changes_the_algorithm(cudnn_used, cudnn_library):
    """The choice is cached per geometry and per setting of the switches: a geometry first run
    with any algorithm runs a deterministic one once that is asked for."""
    if cudnn_library is None:
        pytest.skip('which algorithm ran is visible with the fake only')
    fn, arrays = case_arrays('2d')
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False):
        compare_with_torch(fn, arrays, 'float64', 'cuda')
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False, deterministic=True):
        compare_with_torch(fn, arrays, 'float64', 'cuda')
    assert [algo for _, algo in cudnn_library.calls] == [0] * 3 + [1] * 3


@pytest.mark.cuda
def test_use_deterministic_algorithms_counts_as_deterministic(cudnn_used, cudnn_library):
    if cudnn_library is None:
        pytest.skip('which algorithm ran is visible with the fake only')
    fn, arrays = case_arrays('2d')
    nbgrad.use_deterministic_algorithms(True)
    try:
        with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False):
            compare_with_torch(fn, arrays, 'float64', 'cuda')
    finally:
        nbgrad.use_deterministic_algorithms(False)
    assert {algo for _, algo in cudnn_library.calls} == {1}


@pytest.mark.cuda
def test_a_refusing_cudnn_warns_once_and_nbgrad_kernels_serve(cudnn_used, cudnn_library,
                                                              monkeypatch):
    if cudnn_library is None:
        pytest.skip('needs the fake to refuse')
    monkeypatch.setattr(cudnn_library, 'cudnnConvolutionForward', lambda *args: 9)
    fn, arrays = case_arrays('2d')
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False):
        with pytest.warns(RuntimeWarning, match='cudnnConvolutionForward failed: '
                                                'CUDNN_STATUS_FAKE_ERROR'):
            fn(nbgrad, *[nbgrad.tensor(a, device='cuda') for a in arrays])
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            fn(nbgrad, *[nbgrad.tensor(a, device='cuda') for a in arrays])
            compare_with_torch(fn, arrays, 'float64', 'cuda')
    assert cudnn_used == ['input', 'weight']


def _tf32_case():
    rng = np.random.default_rng(3)
    return [rng.standard_normal((8, 32, 16, 16)), rng.standard_normal((32, 32, 3, 3))]


@pytest.mark.cuda
def test_tf32_by_default_full_float32_when_turned_off(cudnn_used):
    """PyTorch's default lets cuDNN use TF32 for float32 convolutions: results within TF32's
    rounding (10 mantissa bits) of the exact ones. allow_tf32=False gives float32's accuracy."""
    arrays = _tf32_case()

    def fn(lib, x, w):
        return lib.nn.functional.conv2d(x, w, padding=1)
    exact, _ = forward_backward(torch, fn, arrays, 'float64')
    scale = [np.abs(e).max() for e in exact]
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=True):
        tf32, _ = forward_backward(nbgrad, fn, arrays, 'float32', 'cuda')
    with nbgrad.backends.cudnn.flags(enabled=True, allow_tf32=False):
        full, _ = forward_backward(nbgrad, fn, arrays, 'float32', 'cuda')
    for got, e, s in zip(tf32, exact, scale):
        np.testing.assert_allclose(got, e, atol=5e-3 * s)
    for got, e, s in zip(full, exact, scale):
        np.testing.assert_allclose(got, e, atol=2e-5 * s)
    assert cudnn_used == ['forward', 'input', 'weight'] * 2


@pytest.mark.cuda
def test_half_convolution_through_cudnn(cudnn_used):
    """float16 convolutions (autocast's) accumulate in float32 there, as PyTorch's do."""
    arrays = _tf32_case()

    def fn(lib, x, w):
        return lib.nn.functional.conv2d(x, w, padding=1, stride=2)
    exact, _ = forward_backward(torch, fn, [a.astype(np.float16).astype(np.float64)
                                            for a in arrays], 'float64')
    with nbgrad.backends.cudnn.flags(enabled=True):
        got, _ = forward_backward(nbgrad, fn, arrays, 'float16', 'cuda')
    for g, e in zip(got, exact):
        np.testing.assert_allclose(g.astype(np.float64), e, atol=2e-2 * np.abs(e).max())
    assert cudnn_used == ['forward', 'input', 'weight']


@pytest.mark.cuda
def test_disabled_cudnn_is_not_called(cudnn_used):
    fn, arrays = case_arrays('2d')
    with nbgrad.backends.cudnn.flags(enabled=False):
        compare_with_torch(fn, arrays, 'float64', 'cuda')
    assert cudnn_used == []
