"""Where PyTorch's formulas turn a NaN into a number, nbgrad's do too: sign(NaN) is 0 in
PyTorch ((0 < x) - (x < 0)), where NumPy's sign gives NaN, and the gradients and optimizers
built on sign inherit it."""
import numpy as np
import pytest

from torch_compare import assert_same, both, compare_on_device

torch = pytest.importorskip('torch')

SPECIALS = [np.nan, -np.nan, -0.0, 0.0, -2.5, 3.0, np.inf, -np.inf, 1e-45]


def _bitwise(got, expected):
    assert_same(got, expected, bitwise=True)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
@pytest.mark.parametrize('name', ['sign', 'sgn'])
def test_sign_of_specials(name, dtype):
    # large enough for nbgrad's vectorised paths, with every special value at both ends
    values = np.concatenate([SPECIALS, np.random.default_rng(0).standard_normal(5000),
                             SPECIALS])
    both(lambda lib: getattr(lib.tensor(values, dtype=getattr(lib, dtype)), name)(),
         check=_bitwise)


@pytest.mark.parametrize('dtype', ['int8', 'int64', 'uint8', 'bool'])
def test_sign_of_integers_and_bool(dtype):
    values = [0, 1, 5] if dtype in ('uint8', 'bool') else [0, 1, -5, 7]
    both(lambda lib: lib.tensor(values).to(getattr(lib, dtype)).sign(), check=_bitwise)


def test_l1_loss_gradient_at_nan_is_zero_as_in_pytorch():
    def run(lib):
        x = lib.tensor([np.nan, 1.0, -2.0, 0.0], requires_grad=True)
        lib.nn.functional.l1_loss(x, lib.zeros(4)).backward()
        return x.grad
    both(run)


def test_rprop_with_a_nan_gradient_steps_as_pytorch():
    def run(lib):
        p = lib.tensor([1.0, 2.0, 3.0, -1.0], requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.1)
        for grad in ([0.5, np.nan, -1.0, 2.0], [0.5, 1.0, np.nan, -2.0], [-0.5, 1.0, 1.0, 0.0]):
            p.grad = lib.tensor(grad)
            opt.step()
        return p.detach(), opt.state[p]['step_size'], opt.state[p]['prev']
    both(run)


@pytest.mark.parametrize('size', [6, 5000])
def test_relu_gradient_passes_at_nan_and_stops_an_inf_where_relu_is_flat(size):
    """PyTorch's threshold_backward: where(result <= 0, 0, grad). At a NaN input the gradient
    passes; an inf or NaN gradient where the input is negative stops (0, not inf * 0)."""
    def run(lib):
        x = np.resize([np.nan, -1.0, 2.0, -0.0, np.nan, 3.0], size)
        g = np.resize([1.5, np.inf, 2.0, np.nan, -np.inf, 1.0], size)
        x = lib.tensor(x, requires_grad=True)
        lib.relu(x).backward(lib.tensor(g))
        return x.grad
    both(run, check=_bitwise)


@pytest.mark.cuda
def test_sign_relu_gradient_and_rprop_on_each_device(device):
    """The same conventions through CuPy's ufuncs (bool operands with dtype=, where)."""
    # On CUDA without the float32 subnormal: CuPy's kernels flush it to zero (README, CUDA).
    specials = SPECIALS if device == 'cpu' else [v for v in SPECIALS if v != 1e-45]

    def run(lib, dev):
        values = np.resize(specials, 5000)
        x = lib.tensor(values, dtype=lib.float32, device=dev, requires_grad=True)
        lib.relu(x).backward(lib.tensor(np.resize([1.5, np.inf, 2.0, np.nan], 5000),
                                        dtype=lib.float32, device=dev))
        p = lib.tensor([1.0, 2.0, 3.0], device=dev, requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.1)
        for grad in ([0.5, np.nan, -1.0], [0.5, 1.0, np.nan]):
            p.grad = lib.tensor(grad, device=dev)
            opt.step()
        return x.detach().sign(), x.grad, p.detach()
    compare_on_device(run, device)
