"""nn.functional activations and the activation modules against PyTorch: forward values and
gradients in float32/float64 (kinks, huge and tiny inputs included), float64 gradcheck and
gradgradcheck, grad_fn names, in-place forms (versions, leaf and view rules, saved-tensor checks),
dtype and argument errors, rrelu's and gumbel_softmax's random draws, the modules' reprs and
parameters, and the 'cuda' device (statistics where PyTorch's GPU stream is not reproduced)."""
import math
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both, same, same_error, to_np, assert_same_value, marked

torch = pytest.importorskip('torch')

# x -> activation, for x a float tensor of shape (4, 10); each one is differentiable in x
ACTIVATIONS = {
    'threshold': lambda F, x: F.threshold(x, 0.5, -2.0),
    'threshold_above': lambda F, x: F.threshold(x, -1.0, 3.0),
    'relu': lambda F, x: F.relu(x),
    'relu6': lambda F, x: F.relu6(x),
    'hardtanh': lambda F, x: F.hardtanh(x),
    'hardtanh_limits': lambda F, x: F.hardtanh(x, -0.5, 2.0),
    'hardswish': lambda F, x: F.hardswish(x),
    'hardsigmoid': lambda F, x: F.hardsigmoid(x),
    'elu': lambda F, x: F.elu(x),
    'elu_alpha': lambda F, x: F.elu(x, 0.5),
    'selu': lambda F, x: F.selu(x),
    'celu': lambda F, x: F.celu(x, 1.5),
    'leaky_relu': lambda F, x: F.leaky_relu(x),
    'leaky_relu_slope': lambda F, x: F.leaky_relu(x, 0.2),
    'prelu': lambda F, x: F.prelu(x, x.new_full((1,), 0.3)),
    'rrelu_eval': lambda F, x: F.rrelu(x, 0.1, 0.3),
    'rrelu_fixed_slope': lambda F, x: F.rrelu(x, 0.2, 0.2, training=True),
    'glu': lambda F, x: F.glu(x),
    'glu_dim0': lambda F, x: F.glu(x, 0),
    'gelu': lambda F, x: F.gelu(x),
    'gelu_tanh': lambda F, x: F.gelu(x, approximate='tanh'),
    'logsigmoid': lambda F, x: F.logsigmoid(x),
    'hardshrink': lambda F, x: F.hardshrink(x),
    'softshrink': lambda F, x: F.softshrink(x, 1.0),
    'tanhshrink': lambda F, x: F.tanhshrink(x),
    'softsign': lambda F, x: F.softsign(x),
    'softplus': lambda F, x: F.softplus(x),
    'softplus_beta': lambda F, x: F.softplus(x, 2.0, 5.0),
    'softmin': lambda F, x: F.softmin(x, 1),
    'softmax': lambda F, x: F.softmax(x, -1),
    'softmax_dtype': lambda F, x: F.softmax(x, 0, dtype=nbgrad.float64 if F is nbgrad.nn.functional
                                            else torch.float64),
    'log_softmax': lambda F, x: F.log_softmax(x, 0),
    'sigmoid': lambda F, x: F.sigmoid(x),
    'tanh': lambda F, x: F.tanh(x),
    'silu': lambda F, x: F.silu(x),
    'mish': lambda F, x: F.mish(x),
}
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 6.0])  # of some activation above
# kinks, both sides of them, overflow of exp in float32 and float64, softplus's threshold
SPECIAL = [-1e4, -800.0, -100.0, -30.0, -20.5, -6.0, -3.0, -2.9, -1.0, -0.5,
           -0.1, 0.0, 0.1, 0.5, 1.0, 2.5, 3.0, 6.0, 20.5, 1e4]


def F(lib):
    return lib.nn.functional


def sample(seed=0):
    """The special values and 20 random ones, shape (4, 10)."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([SPECIAL, rng.normal(0, 3, 20)])
    return rng.permutation(values).reshape(4, 10)


def smooth_sample(shape=(4, 4), seed=1):
    """Random values kept 0.03 away from every kink (for finite differences)."""
    x = np.random.default_rng(seed).uniform(-4, 4, shape)
    near = np.abs(x[..., None] - KINKS).min(-1) < 0.03
    return np.where(near, x + 0.06, x)


# ---------------------------------------------------------------------------------------------
# Values, gradients and grad_fn names against PyTorch
# ---------------------------------------------------------------------------------------------

# float32 where PyTorch computes 1 + erf(x/sqrt 2), tanh(...) etc. in float: a few float32 ulp,
# and absolute error of float32's epsilon times the terms that cancel
TOLERANCES = {'float32': dict(rtol=2e-6, atol=1e-6), 'float64': dict(rtol=1e-12, atol=1e-14)}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name', ACTIVATIONS)
def test_forward_backward_match_torch(name, dtype):
    values = sample()

    def case(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        y = ACTIVATIONS[name](F(lib), x)
        grad_out = np.random.default_rng(5).normal(size=tuple(y.shape))
        y.backward(lib.tensor(grad_out, dtype=y.dtype))
        return y, x.grad, y.grad_fn.name()
    same(case, **TOLERANCES[dtype])


@pytest.mark.parametrize('name', ACTIVATIONS)
def test_gradcheck_and_gradgradcheck(name):
    x = nbgrad.tensor(smooth_sample(), requires_grad=True)
    fn = lambda t: ACTIVATIONS[name](nbgrad.nn.functional, t)  # noqa: E731
    assert nbgrad.autograd.gradcheck(fn, (x,))
    assert nbgrad.autograd.gradgradcheck(fn, (x,))


PIECEWISE_LINEAR = ['leaky_relu', 'threshold', 'hardtanh', 'hardshrink', 'softshrink', 'rrelu_eval']


@pytest.mark.parametrize('name', ['gelu', 'gelu_tanh', 'elu', 'celu', 'silu', 'mish', 'softplus',
                                  'logsigmoid', 'hardswish'] + PIECEWISE_LINEAR + ['relu'])
def test_double_backward_matches_torch(name):
    """Second derivatives at the special values (large |x| too: no inf * 0 from a discarded
    branch), and double-backward graphs that stay connected to x where the slope is piecewise
    constant (PyTorch's ...BackwardBackward0 nodes)."""
    values = sample()

    def case(lib):
        x = lib.tensor(values, requires_grad=True)
        (g,) = lib.autograd.grad(ACTIVATIONS[name](F(lib), x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg, g.grad_fn.name() if name in PIECEWISE_LINEAR + ['relu'] else None
    expected = to_np(case(torch))
    if name == 'mish':  # PyTorch's composite formula overflows to nan where the value is 0
        expected[1][np.isnan(expected[1]) & (values > 700)] = 0.0
    assert_same_value(to_np(case(nbgrad)), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('value', [float('inf'), float('-inf'), float('nan')])
@pytest.mark.parametrize('name', ACTIVATIONS)
def test_non_finite_inputs(name, value):
    def case(lib):
        x = lib.tensor([[value, 1.0, -1.0, 0.5], [0.5, value, 2.0, -3.0]], dtype=lib.float64)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return ACTIVATIONS[name](F(lib), x)
    same(case)


INPUT_LAYOUTS = {
    'zero_dim': lambda lib: lib.tensor(-0.7, dtype=lib.float64),
    'empty': lambda lib: lib.zeros(0, 4, dtype=lib.float64),
    'transposed': lambda lib: lib.tensor(sample(), dtype=lib.float64).t(),
    'strided': lambda lib: lib.tensor(sample(), dtype=lib.float64)[::2, 1::2],
    'expanded': lambda lib: lib.tensor(sample()[0], dtype=lib.float64).expand(2, 10),
}


@pytest.mark.parametrize('name, layout', marked(
    [(n, layout) for n in ACTIVATIONS for layout in INPUT_LAYOUTS],
    {},
    ids='-'.join))
def test_input_layouts(name, layout):
    """0-dim, empty and non-contiguous inputs (errors, such as glu of a scalar, as PyTorch's)."""
    def case(lib):
        x = INPUT_LAYOUTS[layout](lib).requires_grad_()
        y = ACTIVATIONS[name](F(lib), x)
        y.backward(lib.ones_like(y))
        return y, x.grad
    both(case, lambda got, expected: assert_same_value(to_np(got), to_np(expected), 1e-12, 1e-14))


def test_prelu_per_channel_weight_gradient():
    values = sample().reshape(2, 4, 5)

    def case(lib):
        x = lib.tensor(values, requires_grad=True)
        w = lib.tensor([0.1, -0.2, 0.3, 2.0], dtype=lib.float64, requires_grad=True)
        y = F(lib).prelu(x, w)
        y.backward(y.detach() * 0.5 + 1)
        return y, x.grad, w.grad
    same(case)
    x = nbgrad.tensor(smooth_sample((2, 3, 2)), requires_grad=True)
    w = nbgrad.tensor([0.1, -0.2, 0.3], dtype=nbgrad.float64, requires_grad=True)
    assert nbgrad.autograd.gradcheck(nbgrad.nn.functional.prelu, (x, w))
    assert nbgrad.autograd.gradgradcheck(nbgrad.nn.functional.prelu, (x, w))


@pytest.mark.parametrize('shape, weight', [((), [0.2]), ((5,), [0.2]), ((2, 3), [0.2, 0.5, 1.0]),
                                           ((2, 3, 4, 2), [0.2, 0.5, 1.0]), ((3, 1), [0.4])])
def test_prelu_shapes(shape, weight):
    def case(lib):
        x = lib.tensor(np.linspace(-2, 2, int(np.prod(shape))).reshape(shape), requires_grad=True)
        w = lib.tensor(weight, dtype=lib.float64, requires_grad=True)
        y = F(lib).prelu(x, w)
        y.sum().backward()
        return y, x.grad, w.grad
    same(case)


# ---------------------------------------------------------------------------------------------
# dtypes and argument errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8', 'bool', 'float16'])
@pytest.mark.parametrize('name', [n for n in ACTIVATIONS if n not in ('prelu', 'softmax_dtype')])
def test_dtypes(name, dtype):
    """Integer kernels (relu, threshold, hardtanh) keep the dtype; others refuse as PyTorch does,
    with the same kind of error; float16 computes in float32 and rounds."""
    def fn(lib):
        x = lib.tensor([[-9, -2, 0, 1, 3, 7]]).to(getattr(lib, dtype))
        return ACTIVATIONS[name](F(lib), x)
    both(fn, lambda got, expected: _same_tensor(got, expected, rtol=2e-3, atol=1e-3), quiet=True)


def _same_tensor(got, expected, rtol, atol):
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
    np.testing.assert_allclose(to_np(got).astype(np.float64),
                               to_np(expected).astype(np.float64), rtol=rtol, atol=atol)


ERRORS = {
    'hardtanh_min_above_max': lambda F, x: F.hardtanh(x, 2.0, 1.0),
    'hardtanh_uint8_negative_limit': lambda F, x: F.hardtanh(x.abs().to(x.new_zeros(
        0, dtype=_lib(F).uint8).dtype)),
    'softshrink_negative_lambda': lambda F, x: F.softshrink(x, -0.5),
    'celu_zero_alpha': lambda F, x: F.celu(x, 0.0),
    'rrelu_lower_above_upper': lambda F, x: F.rrelu(x, 0.5, 0.1),
    'rrelu_train_lower_above_upper': lambda F, x: F.rrelu(x, 0.5, 0.1, True),
    'glu_odd_dim': lambda F, x: F.glu(x[:, :3]),
    'glu_scalar': lambda F, x: F.glu(x.sum()),
    'glu_bad_dim': lambda F, x: F.glu(x, 2),
    'gelu_bad_approximate': lambda F, x: F.gelu(x, approximate='fast'),
    'prelu_channels': lambda F, x: F.prelu(x, x.new_ones(3)),
    'prelu_1d_channels': lambda F, x: F.prelu(x[0], x.new_ones(4)),
    'prelu_zero_dim': lambda F, x: F.prelu(x.sum(), x.new_ones(2)),
    'prelu_2d_weight': lambda F, x: F.prelu(x, x.new_ones(1, 1)),
    'prelu_dtype_mismatch': lambda F, x: F.prelu(x, x.new_ones(1).float()),
    'prelu_int': lambda F, x: F.prelu(x.long(), x.new_ones(1).long()),
    'relu_bool': lambda F, x: F.relu(x > 0),
    'relu_bool_inplace': lambda F, x: F.relu_(x > 0),
    'not_a_tensor': lambda F, x: F.elu([1.0, -1.0]),
    'gumbel_int': lambda F, x: F.gumbel_softmax(x.long()),
    'threshold_float32_overflow': lambda F, x: F.threshold(x.float(), 1e39, 0.0),
    'leaky_relu_float32_overflow': lambda F, x: F.leaky_relu(x.float(), -1e39),
    'threshold_int8_overflow': lambda F, x: F.threshold(x.to(_lib(F).int8), 0.5, 200),
    'hardtanh_int8_overflow': lambda F, x: F.hardtanh(x.to(_lib(F).int8), -1000, 1000),
}


def _lib(F):
    return nbgrad if F is nbgrad.nn.functional else torch


@pytest.mark.parametrize('name', ERRORS)
def test_errors(name):
    same_error(lambda lib: {'x': lib.tensor(sample()[:, :4], requires_grad=True)},
               lambda lib, x: ERRORS[name](F(lib), x))


@pytest.mark.parametrize('dtype', ['int8', 'int64', 'uint8'])
@pytest.mark.parametrize('args', [('threshold', -0.5, 20), ('threshold', -1.5, 20.9),
                                  ('threshold', 1.5, -128), ('threshold', 0.0, float('inf')),
                                  ('hardtanh', -1.7, 1.7), ('hardtanh', 0.5, 100.0)], ids=str)
def test_integer_parameters_are_truncated(args, dtype):
    """On integer tensors PyTorch converts threshold/value/limits to the tensor's dtype (with a
    range check, truncating), not the tensor to float."""
    name, a, b = args

    def fn(lib):
        x = lib.tensor([-9, -2, -1, 0, 1, 3, 120]).to(getattr(lib, dtype))
        return getattr(F(lib), name)(x, a, b)
    both(fn)


def test_softmax_implicit_dim_warns():
    for ndim in range(5):
        def fn(lib):
            x = lib.arange(2.0 ** ndim).reshape((2,) * ndim)
            with pytest.warns(UserWarning, match='Implicit dimension choice for'):
                return F(lib).softmax(x), F(lib).softmin(x), F(lib).log_softmax(x)
        both(fn)


# ---------------------------------------------------------------------------------------------
# In-place forms
# ---------------------------------------------------------------------------------------------

INPLACE = {
    'threshold_': lambda F, x: F.threshold_(x, 0.5, -2.0),
    'threshold(inplace)': lambda F, x: F.threshold(x, -1.0, 3.0, True),
    'relu_': lambda F, x: F.relu_(x),
    'relu(inplace)': lambda F, x: F.relu(x, inplace=True),
    'relu6(inplace)': lambda F, x: F.relu6(x, inplace=True),
    'hardtanh_': lambda F, x: F.hardtanh_(x, -0.5, 2.0),
    'hardtanh(inplace)': lambda F, x: F.hardtanh(x, inplace=True),
    'hardswish(inplace)': lambda F, x: F.hardswish(x, True),
    'hardsigmoid(inplace)': lambda F, x: F.hardsigmoid(x, True),
    'elu_': lambda F, x: F.elu_(x, 0.5),
    'elu(inplace)': lambda F, x: F.elu(x, inplace=True),
    'selu_': lambda F, x: F.selu_(x),
    'celu_': lambda F, x: F.celu_(x, 1.5),
    'celu(inplace)': lambda F, x: F.celu(x, inplace=True),
    'leaky_relu_': lambda F, x: F.leaky_relu_(x, 0.2),
    'leaky_relu(inplace)': lambda F, x: F.leaky_relu(x, inplace=True),
    'rrelu_': lambda F, x: F.rrelu_(x),
    'rrelu_fixed_slope_': lambda F, x: F.rrelu_(x, 0.25, 0.25, True),
    'silu(inplace)': lambda F, x: F.silu(x, inplace=True),
    'mish(inplace)': lambda F, x: F.mish(x, inplace=True),
}


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_on_non_leaf(name):
    """Written into the tensor itself: the same object back, one version bump, PyTorch's grad_fn
    and the gradient through the write."""
    values = sample()

    def case(lib):
        a = lib.tensor(values, requires_grad=True)
        x = a * 1
        before = x._version
        result = INPLACE[name](F(lib), x)
        x.backward(lib.tensor(values[::-1].copy()))
        return result is x, x._version - before, x.grad_fn.name(), x, a.grad
    same(case)


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_gradcheck_and_gradgradcheck(name):
    """Through the in-place write, including the forms whose backward uses their result."""
    fn = lambda t: INPLACE[name](nbgrad.nn.functional, t * 1)  # noqa: E731
    x = nbgrad.tensor(smooth_sample(), requires_grad=True)
    assert nbgrad.autograd.gradcheck(fn, (x,))
    assert nbgrad.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_outside_autograd(name):
    """On a tensor that does not require grad, and under no_grad on a leaf that does."""
    def case(lib):
        x = lib.tensor(sample())
        INPLACE[name](F(lib), x)
        leaf = lib.tensor(sample(1), requires_grad=True)
        with lib.no_grad():
            INPLACE[name](F(lib), leaf)
        return x, x._version, leaf, leaf._version, leaf.grad_fn is None
    same(case)


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_on_leaf_requiring_grad_fails(name):
    same_error(lambda lib: {'x': lib.tensor(sample(), requires_grad=True)},
               lambda lib, x: INPLACE[name](F(lib), x), mentions=['leaf'])


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_then_modified_again(name):
    """Forms that save their result for backward fail after another in-place write (elu_,
    leaky_relu_, relu_, rrelu_); the others saved their input and still work, as in PyTorch."""
    def case(lib):
        a = lib.tensor(sample(), requires_grad=True)
        x = a * 1
        INPLACE[name](F(lib), x)
        x.mul_(2)
        x.sum().backward()
        return a.grad
    both(case, lambda got, expected: assert_same_value(to_np(got), to_np(expected)))


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_on_view(name):
    def case(lib):
        a = lib.tensor(sample(), requires_grad=True)
        base = a * 1
        view = base[1:, ::2]
        INPLACE[name](F(lib), view)
        base.backward(lib.ones_like(base) * 3)
        return base, view._version, base._version, a.grad
    same(case)


@pytest.mark.parametrize('dtype', ['int64', 'uint8', 'bool', 'float16'])
@pytest.mark.parametrize('name', INPLACE)
def test_inplace_dtypes(name, dtype):
    def fn(lib):
        x = lib.tensor([[-9, -2, 0, 1, 3, 7]]).to(getattr(lib, dtype))
        INPLACE[name](F(lib), x)
        return x
    both(fn, lambda got, expected: _same_tensor(got, expected, rtol=2e-3, atol=1e-3))


@pytest.mark.parametrize('name, slope', [('elu_', -1.0), ('celu_', -1.0), ('leaky_relu_', -0.1),
                                         ('elu_', 0.0), ('leaky_relu_', 0.0)])
def test_inplace_negative_slope_backward(name, slope):
    """PyTorch cannot differentiate these in-place forms through their result when the slope is
    negative; it refuses at backward time."""
    def case(lib):
        a = lib.tensor(sample(), requires_grad=True)
        x = a * 1
        getattr(F(lib), name)(x, slope)
        x.sum().backward()
        return a.grad
    both(case, lambda got, expected: assert_same_value(to_np(got), to_np(expected)))


# ---------------------------------------------------------------------------------------------
# Random activations: rrelu in training, gumbel_softmax
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('inplace', [False, True])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_rrelu_training_draws_torch_numbers(dtype, inplace):
    """PyTorch's CPU kernel draws one slope per element <= 0, in order, from the global
    generator; with the same seed nbgrad gives the same slopes and leaves the same state."""
    values = sample()

    def case(lib):
        lib.manual_seed(7)
        a = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        x = a * 1
        y = F(lib).rrelu(x, 0.1, 0.4, training=True, inplace=inplace)
        y.backward(lib.ones_like(y))
        return y, a.grad, y.grad_fn.name(), lib.rand(3)
    same(case, rtol=0, atol=0)


def test_rrelu_training_statistics(device):
    """Slopes (y / x for x < 0) are uniform on [lower, upper]: mean and variance within 5
    standard errors (on 'cuda' the stream is nbgrad's own Philox, not PyTorch's)."""
    nbgrad.manual_seed(3)
    lower, upper, n = 0.1, 0.4, 40000
    x = -nbgrad.rand(n, dtype=nbgrad.float64, device=device) - 0.5
    slopes = to_np((nbgrad.nn.functional.rrelu(x, lower, upper, training=True) / x).cpu())
    assert slopes.min() >= lower and slopes.max() <= upper
    width = upper - lower
    assert abs(slopes.mean() - (lower + upper) / 2) < 5 * width / math.sqrt(12 * n)
    # the variance of U(l, u) is w^2/12; its sample estimate has standard error w^2 sqrt(1/180n)
    assert abs(slopes.var() - width ** 2 / 12) < 5 * width ** 2 * math.sqrt(1 / (180 * n))
    positive = nbgrad.rand(5, device=device) + 0.1
    assert nbgrad.equal(nbgrad.nn.functional.rrelu(positive, training=True), positive)


@pytest.mark.parametrize('hard', [False, True])
def test_gumbel_softmax_draws_torch_numbers(hard):
    values = sample()

    def case(lib):
        lib.manual_seed(11)
        x = lib.tensor(values, dtype=lib.float32, requires_grad=True)
        y = F(lib).gumbel_softmax(x, tau=0.5, hard=hard, dim=0)
        (y * lib.arange(10.0)).sum().backward()
        return y, x.grad, y.grad_fn.name()
    same(case, rtol=1e-5, atol=1e-6)


def test_gumbel_softmax_eps_is_deprecated():
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match='eps'):
            F(lib).gumbel_softmax(lib.zeros(3), eps=1e-3)


def test_gumbel_softmax_hard_is_one_hot(device):
    nbgrad.manual_seed(0)
    logits = nbgrad.tensor([[0.0, 1.0, 2.0]] * 2000, device=device)
    y = nbgrad.nn.functional.gumbel_softmax(logits, hard=True).cpu()
    counts = to_np(y.sum(0))
    assert set(np.unique(to_np(y))) <= {0.0, 1.0} and np.all(to_np(y.sum(1)) == 1)
    # argmax of logits + Gumbel noise is a sample from softmax(logits): 5-sigma binomial bounds
    p = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    assert np.all(np.abs(counts - 2000 * p) < 5 * np.sqrt(2000 * p * (1 - p)))


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', list(ACTIVATIONS) + ['relu_', 'elu_', 'silu(inplace)'])
def test_on_device(name, device):
    """The same values and gradients on the device as PyTorch's on the CPU."""
    values = sample()
    fn = ACTIVATIONS.get(name) or INPLACE[name]

    def case(lib):
        dev = device if lib is nbgrad else 'cpu'
        a = lib.tensor(values, device=dev, requires_grad=True)
        y = fn(F(lib), a * 1)
        y.backward(lib.ones_like(y))
        assert y.device.type == a.grad.device.type == (device if lib is nbgrad else 'cpu')
        return y.cpu(), a.grad.cpu(), y.grad_fn.name()
    same(case, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

MODULES = {
    'Threshold': lambda nn: nn.Threshold(0.5, -2.0), 'ReLU': lambda nn: nn.ReLU(),
    'ReLU6': lambda nn: nn.ReLU6(), 'Hardtanh': lambda nn: nn.Hardtanh(-0.5, 2.0),
    'Hardsigmoid': lambda nn: nn.Hardsigmoid(), 'Hardswish': lambda nn: nn.Hardswish(),
    'SiLU': lambda nn: nn.SiLU(), 'Mish': lambda nn: nn.Mish(), 'ELU': lambda nn: nn.ELU(0.5),
    'CELU': lambda nn: nn.CELU(1.5), 'SELU': lambda nn: nn.SELU(),
    'LeakyReLU': lambda nn: nn.LeakyReLU(0.2), 'GLU': lambda nn: nn.GLU(0),
    'GELU': lambda nn: nn.GELU('tanh'), 'Hardshrink': lambda nn: nn.Hardshrink(1.0),
    'Softshrink': lambda nn: nn.Softshrink(), 'Softplus': lambda nn: nn.Softplus(2.0, 5.0),
    'Sigmoid': lambda nn: nn.Sigmoid(), 'Tanh': lambda nn: nn.Tanh(),
    'LogSigmoid': lambda nn: nn.LogSigmoid(), 'Softsign': lambda nn: nn.Softsign(),
    'Tanhshrink': lambda nn: nn.Tanhshrink(), 'RReLU': lambda nn: nn.RReLU(0.1, 0.3).eval(),
    'PReLU': lambda nn: nn.PReLU(4, 0.1).double(), 'Softmax': lambda nn: nn.Softmax(1),
    'Softmin': lambda nn: nn.Softmin(0), 'LogSoftmax': lambda nn: nn.LogSoftmax(-1),
    'Softmax2d': lambda nn: nn.Softmax2d(),
    'ReLU_inplace': lambda nn: nn.ReLU(inplace=True),
    'ELU_inplace': lambda nn: nn.ELU(inplace=True),
}


@pytest.mark.parametrize('name', MODULES)
def test_module_forward_backward(name):
    values = sample().reshape(2, 4, 5)

    def case(lib):
        layer = MODULES[name](lib.nn)
        a = lib.tensor(values, requires_grad=True)
        y = layer(a * 1)
        y.backward(lib.ones_like(y))
        params = [(n, p.grad) for n, p in layer.named_parameters()]
        return y, a.grad, y.grad_fn.name(), params
    same(case, rtol=1e-12, atol=1e-14)


REPRS = [
    lambda nn: nn.Threshold(0.1, 20), lambda nn: nn.Threshold(1, 2.5, True),
    lambda nn: nn.ReLU(), lambda nn: nn.ReLU(True), lambda nn: nn.ReLU6(inplace=True),
    lambda nn: nn.Hardtanh(), lambda nn: nn.Hardtanh(-2, 3.5, True),
    lambda nn: nn.Hardsigmoid(True), lambda nn: nn.Hardswish(inplace=True),
    lambda nn: nn.SiLU(True), lambda nn: nn.Mish(), lambda nn: nn.ELU(alpha=0.5),
    lambda nn: nn.ELU(2, True), lambda nn: nn.CELU(), lambda nn: nn.SELU(True),
    lambda nn: nn.LeakyReLU(0.2), lambda nn: nn.LeakyReLU(inplace=True), lambda nn: nn.GLU(),
    lambda nn: nn.GLU(0), lambda nn: nn.GELU(), lambda nn: nn.GELU(approximate='tanh'),
    lambda nn: nn.Hardshrink(), lambda nn: nn.Softshrink(0.3), lambda nn: nn.Softplus(2, 10),
    lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(), lambda nn: nn.LogSigmoid(),
    lambda nn: nn.Softsign(), lambda nn: nn.Tanhshrink(), lambda nn: nn.RReLU(),
    lambda nn: nn.RReLU(0.1, 0.2, True), lambda nn: nn.PReLU(), lambda nn: nn.PReLU(3, 0.1),
    lambda nn: nn.Softmax(), lambda nn: nn.Softmax(1), lambda nn: nn.Softmin(dim=-1),
    lambda nn: nn.LogSoftmax(0), lambda nn: nn.Softmax2d(),
    lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ELU(0.5), nn.PReLU(3)),
]


@pytest.mark.parametrize('make', REPRS, ids=range(len(REPRS)))
def test_module_repr(make):
    assert repr(make(nbgrad.nn)) == repr(make(torch.nn))


def test_module_attributes_and_keywords():
    def fn(lib):
        layers = [lib.nn.Threshold(threshold=0.5, value=1.0, inplace=True),
                  lib.nn.Softplus(threshold=3.0), lib.nn.ELU(inplace=True, alpha=2.0),
                  lib.nn.GELU(approximate='tanh'), lib.nn.LeakyReLU(negative_slope=0.3)]
        return [sorted((k, v) for k, v in vars(m).items() if not k.startswith('_')
                       and k != 'training') for m in layers]
    both(fn)
    with pytest.raises(TypeError):
        nbgrad.nn.ELU(1.0, False, 3)
    with pytest.raises(TypeError):
        nbgrad.nn.Threshold(0.5)


def test_prelu_parameters():
    def fn(lib):
        layer = lib.nn.PReLU(3, init=0.1, dtype=lib.float64)
        layer.weight.data.mul_(2)
        layer.reset_parameters()
        return ([(n, tuple(p.shape), p.dtype == lib.float64, p.requires_grad)
                 for n, p in layer.named_parameters()], to_np(layer.weight),
                list(layer.state_dict()), layer.init, layer.num_parameters)
    both(fn, lambda got, expected: assert_same_value(got, expected))


def test_rrelu_module_follows_training_mode():
    values = sample()

    def case(lib):
        layer = lib.nn.RReLU(0.1, 0.4)
        x = lib.tensor(values)
        lib.manual_seed(2)
        trained = layer(x)
        evaluated = layer.eval()(x)
        return trained, evaluated
    same(case, rtol=0, atol=0)


def test_hardtanh_module_checks_and_deprecated_keywords():
    for lib in (torch, nbgrad):
        with pytest.raises(AssertionError):
            lib.nn.Hardtanh(1.0, 1.0)
        with pytest.warns(FutureWarning):
            layer = lib.nn.Hardtanh(min_value=-2.0)
        assert layer.min_val == -2.0
        with pytest.warns(FutureWarning):
            assert lib.nn.Hardtanh(max_value=3.0).max_val == 3.0


def test_softmax2d_needs_3d_or_4d():
    for shape in [(3,), (2, 3), (2, 3, 4, 5, 6)]:
        same_error(lambda lib: {'x': lib.ones(shape)}, lambda lib, x: lib.nn.Softmax2d()(x))


def test_softmax_module_without_dim_warns():
    def fn(lib):
        with pytest.warns(UserWarning, match='Implicit dimension'):
            return lib.nn.Softmax()(lib.arange(6.0).reshape(2, 3))
    both(fn)


def test_inplace_module_writes_into_input():
    def case(lib):
        x = lib.tensor(sample())
        y = lib.nn.Sequential(lib.nn.ReLU6(inplace=True), lib.nn.SiLU(inplace=True))(x)
        return y is x, x._version, x
    same(case)


SOFTMAX_ROWS = np.array([[0.5, -1.0, 2.0, 0.0], [-np.inf] * 4, [1.0, np.nan, 0.0, 2.0],
                         [np.inf, 0.0, 1.0, -1.0], [-np.inf, 3.0, -np.inf, 1.0]])


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_softmax_rows_with_infinities_and_nan(fn, dtype, device):
    """Over the last dim (one kernel per direction on CUDA): values and gradients as PyTorch's,
    with rows of -inf, NaN and +inf, and a transposed input."""
    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor(SOFTMAX_ROWS, dtype=getattr(lib, dtype), device=dev, requires_grad=True)
        y = getattr(x, fn)(-1)
        weights = lib.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=y.dtype, device=dev)
        (y[0] * weights[0]).sum().backward()   # the finite row: a finite gradient
        z = lib.tensor(np.arange(12.0).reshape(3, 4), dtype=y.dtype, device=dev).t()
        return [y.detach().cpu(), x.grad.cpu(), getattr(z, fn)(-1).cpu()]
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-14)
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), **tol)


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
def test_softmax_rows_longer_than_a_block(fn, device):
    """Rows of 700 (on CUDA a block's 256 threads take about three elements each and combine
    their maxima and sums): values and gradients as PyTorch's."""
    values = np.random.default_rng(3).standard_normal((40, 700)) * 5
    cotangent = np.random.default_rng(4).standard_normal((40, 700))

    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        x = lib.tensor(values, dtype=lib.float32, device=dev, requires_grad=True)
        y = getattr(x, fn)(-1)
        (y * lib.tensor(cotangent, dtype=y.dtype, device=dev)).sum().backward()
        return [y.detach().cpu(), x.grad.cpu()]
    assert_same_value(to_np(run(nbgrad)), to_np(run(torch)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('threads', [2, 3])
def test_softmax_on_several_threads(fn, threads, monkeypatch):
    """Large C-ordered arrays are cut into row parts on the worker threads (_threads): forced
    here for a small one (and for rows of infinities and NaN); the same values and gradients
    as PyTorch's, bit for bit the same as on one thread, and no NumPy warnings from the
    workers."""
    from nbgrad import _threads
    values = np.concatenate([SOFTMAX_ROWS, np.random.default_rng(5).standard_normal((6, 4))])
    cotangent = np.random.default_rng(6).standard_normal(values.shape)

    def run(lib):
        x = lib.tensor(values, dtype=lib.float32, requires_grad=True)
        y = getattr(x, fn)(-1)
        (y[5:] * lib.tensor(cotangent[5:], dtype=y.dtype)).sum().backward()
        return [y.detach(), x.grad]
    one_thread = to_np(run(nbgrad))
    monkeypatch.setattr(_threads, 'PARALLEL_MIN_ELEMENTS', 0)
    previous = nbgrad.get_num_threads()
    nbgrad.set_num_threads(threads)
    try:
        assert len(_threads.row_parts(len(values), 4)) == threads
        with warnings.catch_warnings():     # the workers keep nbgrad's NumPy error settings
            warnings.simplefilter('error', RuntimeWarning)
            several = to_np(run(nbgrad))
    finally:
        nbgrad.set_num_threads(previous)
    for a, b in zip(several, one_thread):
        np.testing.assert_array_equal(a, b)
    assert_same_value(several, to_np(run(torch)), rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
def test_softmax_kernel_that_does_not_compile_falls_back(device, monkeypatch):
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.ops import _softmax_cuda
    monkeypatch.setattr(_softmax_cuda, 'KERNELS', KernelFamily('softmax'))
    monkeypatch.setattr(_softmax_cuda, '_FORWARD', _softmax_cuda._FORWARD + 'not C++')

    def run(lib, dev):
        x = lib.tensor(SOFTMAX_ROWS[:1], device=dev, requires_grad=True)
        y = x.log_softmax(-1)
        y.sum().backward()
        return [y.detach().cpu(), x.grad.cpu()]
    with pytest.warns(RuntimeWarning, match='did not compile'):
        got = run(nbgrad, 'cuda')
    assert_same_value(to_np(got), to_np(run(torch, 'cpu')), rtol=1e-12, atol=1e-14)
    assert _softmax_cuda.KERNELS.failed


# erf and GELU over a wide range, with the values where they saturate and the specials
ERF_POINTS = np.concatenate([np.linspace(-12, 12, 961), [0.0, -0.0, 1e-30, -1e-30, np.inf,
                                                         -np.inf, np.nan]])


def _erf_and_gelu(lib, dev, dtype, points=ERF_POINTS):
    x = lib.tensor(points, dtype=getattr(lib, dtype), device=dev)
    # (not GELU of +-inf: PyTorch's vectorised float32 CPU kernel gives NaN for +inf, its CUDA
    # kernel and its float64 one give inf)
    finite = lib.tensor(points[~np.isinf(points)], dtype=x.dtype, device=dev,
                        requires_grad=True)
    y = lib.nn.functional.gelu(finite)
    y.backward(lib.tensor(np.linspace(0.5, 1.5, y.numel()), dtype=x.dtype, device=dev))
    return to_np([x.erf().cpu(), x.erfc().cpu(), y.detach().cpu(), finite.grad.cpu()])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('copies', [1, 150], ids=['whole', 'in_blocks'])
def test_erf_and_gelu_on_the_cpu_agree_with_pytorch(dtype, copies):
    """The CPU kernels (float32 GELU computed in float32, as PyTorch's kernel computes it; 150
    copies of the points run block by block on the worker threads) give PyTorch's values, to
    the cancellation of 1 + erf for x << 0 that both share in float32."""
    points = np.tile(ERF_POINTS, copies)
    tolerance = dict(rtol=1e-6, atol=2e-6) if dtype == 'float32' else dict(rtol=1e-14,
                                                                           atol=4e-15)
    assert_same_value(_erf_and_gelu(nbgrad, 'cpu', dtype, points),
                      _erf_and_gelu(torch, 'cpu', dtype, points), **tolerance)


@pytest.mark.cuda
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_erf_and_gelu_run_as_one_cuda_kernel_each(device, monkeypatch, dtype):
    """On CUDA erf, erfc, GELU and GELU's gradient are one launch each (_special_cuda, the
    device's erf as PyTorch's CUDA kernels use it): PyTorch's values to CUDA's erf accuracy."""
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad.ops import _special_cuda
    launches = []
    run = _special_cuda._launch
    monkeypatch.setattr(_special_cuda, '_launch',
                        lambda xp, name, *a: launches.append(name) or run(xp, name, *a))
    got = _erf_and_gelu(nbgrad, 'cuda', dtype)
    assert sorted(launches) == ['nbgrad_erf', 'nbgrad_erfc', 'nbgrad_gelu', 'nbgrad_gelu_backward']
    # (GELU for x << 0: PyTorch's 1 + erf cancels, to absolute differences of an ulp of 1
    # times |x|: between PyTorch's own CPU and CUDA float32 kernels, and in float64 where
    # nbgrad's erfc form keeps the tiny values PyTorch rounds to 0)
    tolerance = dict(rtol=1e-6, atol=2e-6) if dtype == 'float32' else dict(rtol=1e-14,
                                                                           atol=4e-15)
    assert_same_value(got, _erf_and_gelu(torch, 'cpu', dtype), **tolerance)


@pytest.mark.cuda
def test_erf_kernel_that_does_not_compile_falls_back(device, monkeypatch):
    if device != 'cuda':
        pytest.skip('cuda only')
    from nbgrad._cuda_kernels import KernelFamily
    from nbgrad.ops import _special_cuda
    monkeypatch.setattr(_special_cuda, 'KERNELS', KernelFamily('erf/GELU'))
    monkeypatch.setattr(_special_cuda, '_UNARY', _special_cuda._UNARY + 'not C++')
    with pytest.warns(RuntimeWarning, match='did not compile'):
        got = _erf_and_gelu(nbgrad, 'cuda', 'float32')
    assert _special_cuda.KERNELS.failed
    assert_same_value(got, _erf_and_gelu(torch, 'cpu', 'float32'), rtol=1e-6, atol=2e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_gelu_of_a_zero_dim_tensor(dtype):
    """A 0-d input keeps 0-d arrays through the single-precision kernels (NumPy's ufuncs turn
    0-d results into scalars: the gradient used to be one, and .item() failed on it)."""
    results = []
    for lib in (nbgrad, torch):
        x = lib.tensor(0.7, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gelu(x)
        y.backward()
        results.append((y.item(), x.grad.item(), tuple(x.grad.shape), x.erf().item()))
    assert results[0][2] == results[1][2] == ()
    np.testing.assert_allclose(results[0][:2] + results[0][3:], results[1][:2] + results[1][3:],
                               rtol=1e-6)


@pytest.mark.parametrize('name', ['relu', 'relu6', 'hardtanh', 'hardsigmoid', 'hardswish',
                                  'leaky_relu', 'threshold', 'clamp'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_piecewise_linear_activations_equal_pytorchs_exactly(name, dtype):
    """Large inputs (nbgrad bounds them block by block, _scalar_bounds) with the specials:
    PyTorch's values exactly, which also fixes the order of hardswish's x * m / 6 (NaN
    payloads and the sign of relu(-0.0) aside)."""
    values = np.concatenate([[np.nan, np.inf, -np.inf, 0.0, -0.0, 3e38, -3e38, 3.0, -3.0, 6.0],
                             np.random.default_rng(1).standard_normal(70000) * 5])
    calls = {'threshold': lambda F, x: F.threshold(x, 0.5, -2.0),
             'clamp': lambda F, x: x.clamp(-1.5, 2.25)}
    call = calls.get(name, lambda F, x: getattr(F, name)(x))
    got, expected = (call(lib.nn.functional, lib.tensor(values, dtype=getattr(lib, dtype)))
                     for lib in (nbgrad, torch))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
