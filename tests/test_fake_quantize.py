"""torch.fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine: values (rounding
half to even, clamping, NaN), the straight-through gradient, the graph node's name, dtypes and
the errors, against PyTorch."""
import numpy as np
import pytest

from torch_compare import both, compare_on_device

torch = pytest.importorskip('torch')

VALUES = [0.26, 3.0, -0.05, 0.15, 0.25, 0.35, -20.0, float('nan'), 1e8, -0.45, 0.049999]
MATRIX = [[0.26, -0.33, 1.7, 0.05], [0.15, -2.0, 0.35, 0.45], [1.0, -1.0, 0.024, 0.076]]


def _with_grad(lib, values, dtype, run):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    y = run(lib, x)
    y.sum().backward()
    return y, y.grad_fn.name(), x.grad


PER_TENSOR = {
    'numbers': lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.1, 0, -128, 127),
    'unsigned': lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.05, 10, 0, 255),
    'tensor_qparams': lambda lib, x: lib.fake_quantize_per_tensor_affine(
        x, lib.tensor(0.1), lib.tensor(2, dtype=lib.int32), 0, 255),
    'long_zero_point': lambda lib, x: lib.fake_quantize_per_tensor_affine(
        x, lib.tensor(0.2), lib.tensor(-3), -8, 7),
}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', sorted(PER_TENSOR))
def test_per_tensor(case, dtype):
    both(lambda lib: _with_grad(lib, VALUES, dtype, PER_TENSOR[case]))


PER_CHANNEL = {
    'rows': lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.tensor([0.1, 0.2, 0.05]), lib.tensor([0, 1, -1], dtype=lib.int32), 0, -8, 7),
    'columns': lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.tensor([0.1, 0.2, 0.3, 0.05]), lib.tensor([0, 1, -1, 2], dtype=lib.int32), 1,
        -8, 7),
    'float_zero_point': lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.tensor([0.1, 0.2, 0.3, 0.05]), lib.tensor([0.5, -1.0, 0.25, 2.0]), 1, -8, 7),
}


@pytest.mark.parametrize('case', sorted(PER_CHANNEL))
def test_per_channel(case):
    both(lambda lib: _with_grad(lib, MATRIX, 'float32', PER_CHANNEL[case]))


def test_float_zero_points_on_a_grid():
    """A float zero point per channel: added before rounding, the output computed in double,
    the range checked on the truncated zero point (255.4 with quant_max 255), as PyTorch's."""
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((64, 4)) * 20).astype(np.float32)
    both(lambda lib: lib.fake_quantize_per_channel_affine(
        lib.tensor(values), lib.tensor([0.1, 0.2, 0.05, 0.3]),
        lib.tensor([3.6, 100.2, 250.5, 255.4]), 1, 0, 255), check=lambda got, want: np.testing
        .assert_array_equal(got.numpy(), want.numpy()))


def test_half_input_computes_in_float():
    both(lambda lib: lib.fake_quantize_per_tensor_affine(
        lib.tensor(MATRIX, dtype=lib.float16), 0.1, 0, -8, 7))


def test_values_on_a_grid():
    """Half-way points round to even; every value of a fine grid as PyTorch's."""
    grid = np.linspace(-3, 3, 2001).astype(np.float32)
    both(lambda lib: lib.fake_quantize_per_tensor_affine(lib.tensor(grid), 0.02, 3, -100, 100))


ERRORS = {
    'min_above_max': lambda lib: lib.fake_quantize_per_tensor_affine(lib.ones(2), 0.1, 0, 10, 5),
    'zero_point_outside': lambda lib: lib.fake_quantize_per_tensor_affine(lib.ones(2), 0.1, 300,
                                                                          0, 255),
    'integer_input': lambda lib: lib.fake_quantize_per_tensor_affine(lib.ones(2, dtype=lib.long),
                                                                     0.1, 0, -8, 7),
    'several_scales': lambda lib: lib.fake_quantize_per_tensor_affine(
        lib.ones(2), lib.tensor([0.1, 0.2]), lib.tensor(0, dtype=lib.int32), -8, 7),
    'channel_count': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2]), lib.tensor([0, 1], dtype=lib.int32), 0, -8, 7),
    'long_zero_points': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2, 0.3]), lib.tensor([0, 1, 2]), 0, -8, 7),
    'double_scales': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64),
        lib.tensor([0, 1, 2], dtype=lib.int32), 0, -8, 7),
    'axis_out_of_range': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2, 0.3]), lib.tensor([0, 1, 2], dtype=lib.int32), 2,
        -8, 7),
    'negative_axis': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2, 0.3, 0.4]), lib.tensor([0, 1, 2, 3], dtype=lib.int32),
        -1, -8, 7),
    'scale_requires_grad': lambda lib: lib.fake_quantize_per_tensor_affine(
        lib.ones(3), lib.tensor(0.1, requires_grad=True), lib.tensor(0, dtype=lib.int32), 0,
        255),
    'channel_scale_requires_grad': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(2, 3), lib.tensor([0.1, 0.2], requires_grad=True),
        lib.tensor([0, 0], dtype=lib.int32), 0, 0, 255),
    'float_zero_point_number': lambda lib: lib.fake_quantize_per_tensor_affine(
        lib.ones(3), 0.1, 2.5, 0, 255),
    'channel_zero_point_outside': lambda lib: lib.fake_quantize_per_channel_affine(
        lib.ones(3, 4), lib.tensor([0.1, 0.2, 0.3]), lib.tensor([0, 1, 9], dtype=lib.int32), 0,
        -8, 7),
}


@pytest.mark.parametrize('case', sorted(ERRORS))
def test_errors(case):
    both(ERRORS[case])


def test_on_each_device(device):
    """The same numbers and gradient with the tensors on `device` (CUDA: through CuPy)."""
    def run(lib, dev):
        x = lib.tensor(VALUES, device=dev, requires_grad=True)
        y = lib.fake_quantize_per_tensor_affine(x, 0.1, 0, -128, 127)
        y.sum().backward()
        z = lib.fake_quantize_per_channel_affine(
            lib.tensor(MATRIX, device=dev), lib.tensor([0.1, 0.2, 0.05], device=dev),
            lib.tensor([0, 1, -1], dtype=lib.int32, device=dev), 0, -8, 7)
        return y, x.grad, z
    compare_on_device(run, device)
