"""nbgrad.nn.init against torch.nn.init.

On the CPU nbgrad reproduces PyTorch's generator, and nn.init draws the same numbers in the same
order as torch.nn.init, so after the same seed every random initialiser gives torch's values bit for
bit and leaves both generators in the same state (orthogonal_ alone goes through a QR, which differs
by rounding). Deterministic fills, fans and gains are compared with torch; misuse raises torch's
exception (ValueErrors with torch's message) and leaves the tensor as it was. On every device the
random initialisers are checked with goodness-of-fit tests against the distributions the PyTorch
documentation states, since nbgrad's CUDA streams are not torch's.
"""
import math
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import (assert_same, both, dname, each_lib, nbgrad_bug, same_error,
                           to_np)

torch = pytest.importorskip('torch')


# ---------------------------------------------------------------------------------------------
# Gains and fans
# ---------------------------------------------------------------------------------------------

GAINS = [('linear', None), ('conv1d', None), ('conv2d', None), ('conv3d', None),
         ('conv_transpose1d', None), ('conv_transpose2d', None), ('conv_transpose3d', None),
         ('sigmoid', None), ('tanh', None), ('relu', None), ('selu', None),
         ('leaky_relu', None), ('leaky_relu', 0.2), ('leaky_relu', 3), ('leaky_relu', -0.5),
         ('relu', 'ignored'),  # param only matters to leaky_relu
         ('leaky_relu', True), ('leaky_relu', '0.2'), ('gelu', None), ('Linear', None)]


@pytest.mark.parametrize('nonlinearity, param', GAINS, ids=str)
def test_calculate_gain(nonlinearity, param):
    # same value and type (PyTorch returns the int 1 for the linear family)
    both(lambda lib: lib.nn.init.calculate_gain(nonlinearity, param),
         lambda got, expected: assert_same(got, expected, same_type=True))


FAN_SHAPES = [(), (4,), (3, 5), (0, 5), (5, 0), (2, 3, 4), (7, 3, 3, 3), (2, 3, 1, 2, 2)]


@pytest.mark.parametrize('shape', FAN_SHAPES, ids=str)
def test_fan_in_and_fan_out(shape):
    both(lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(shape)),
         lambda got, expected: assert_same(got, expected, same_type=True))


@pytest.mark.parametrize('mode', ['fan_in', 'fan_out', 'FAN_OUT', 'Fan_In', 'fan_avg', 3])
@pytest.mark.parametrize('shape', [(4,), (6, 2, 3)], ids=str)
def test_calculate_correct_fan(shape, mode):
    both(lambda lib: lib.nn.init._calculate_correct_fan(lib.empty(shape), mode))


# ---------------------------------------------------------------------------------------------
# Deterministic fills, against torch on every device
# ---------------------------------------------------------------------------------------------

FILLS = {
    'constant_': (lambda init, x: init.constant_(x, 0.3), [(3, 5), (2, 3, 4), (), (0, 3)]),
    'constant_int': (lambda init, x: init.constant_(x, 2.7), [(4, 2)]),  # truncated to the dtype
    'ones_': (lambda init, x: init.ones_(x), [(3, 5), (7,), ()]),
    'zeros_': (lambda init, x: init.zeros_(x), [(3, 5), (7,), ()]),
    'eye_': (lambda init, x: init.eye_(x), [(3, 5), (5, 3), (4, 4), (0, 4), (1, 1)]),
    'dirac_': (lambda init, x: init.dirac_(x), [(3, 5, 3), (4, 3, 3, 3), (5, 5, 2, 3, 4),
                                                (6, 2, 4, 4), (2, 6, 1, 1), (0, 3, 3)]),
    'dirac_groups': (lambda init, x: init.dirac_(x, groups=3), [(6, 4, 3, 3), (9, 2, 5),
                                                                (3, 2, 1, 2, 3), (12, 1, 3, 3)]),
}
FILL_CASES = [pytest.param(name, shape, id=f'{name}-{shape}')
              for name, (_, shapes) in FILLS.items() for shape in shapes]


@pytest.mark.parametrize('name, shape', FILL_CASES)
def test_deterministic_fills(name, shape, device):
    fill, _ = FILLS[name]
    dtype = 'int64' if name.endswith('_int') else 'float32'
    expected = torch.full(shape, 7, dtype=getattr(torch, dtype))
    fill(torch.nn.init, expected)
    x = nbgrad.full(shape, 7, dtype=getattr(nbgrad, dtype), device=device)
    assert fill(nbgrad.nn.init, x) is x
    assert x.device.type == device
    assert_same(x.cpu(), expected, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# Random initialisers: torch's numbers on the CPU
# ---------------------------------------------------------------------------------------------

# name -> (call(init, tensor, generator), the dimensions it accepts)
ANY_DIMS, FAN_DIMS, MATRIX = (lambda n: True), (lambda n: n >= 2), (lambda n: n == 2)
RANDOM_INITS = {
    'uniform_': (lambda init, x, g: init.uniform_(x, -2.0, 3.0, generator=g), ANY_DIMS),
    'normal_': (lambda init, x, g: init.normal_(x, 1.5, 0.5, generator=g), ANY_DIMS),
    # [a, b] holds > 30% of the mass: normals, out-of-range ones redrawn (several rounds)
    'trunc_normal_': (lambda init, x, g: init.trunc_normal_(x, generator=g), ANY_DIMS),
    'trunc_normal_shifted': (lambda init, x, g: init.trunc_normal_(x, 1.0, 2.0, -1.0, 4.0,
                                                                   generator=g), ANY_DIMS),
    # a narrow interval: uniform proposals with an acceptance test (several rounds)
    'trunc_normal_narrow': (lambda init, x, g: init.trunc_normal_(x, 0.0, 1.0, 0.5, 0.7,
                                                                  generator=g), ANY_DIMS),
    'xavier_uniform_': (lambda init, x, g: init.xavier_uniform_(x, gain=1.5, generator=g),
                        FAN_DIMS),
    'xavier_normal_': (lambda init, x, g: init.xavier_normal_(x, generator=g), FAN_DIMS),
    'kaiming_uniform_': (lambda init, x, g: init.kaiming_uniform_(x, generator=g), FAN_DIMS),
    'kaiming_uniform_relu_fan_out': (
        lambda init, x, g: init.kaiming_uniform_(x, mode='fan_out', nonlinearity='relu',
                                                 generator=g), FAN_DIMS),
    'kaiming_normal_': (lambda init, x, g: init.kaiming_normal_(x, a=0.2, generator=g),
                        FAN_DIMS),
    'kaiming_normal_tanh_fan_out': (
        lambda init, x, g: init.kaiming_normal_(x, mode='fan_out', nonlinearity='tanh',
                                                generator=g), FAN_DIMS),
    'sparse_': (lambda init, x, g: init.sparse_(x, 0.3, std=0.05, generator=g), MATRIX),
    'orthogonal_': (lambda init, x, g: init.orthogonal_(x, gain=2.0, generator=g), FAN_DIMS),
}
RANDOM_SHAPES = [(17,), (2, 3, 4), (3, 5), (16, 8), (7, 3, 3, 3), (64, 300)]
RANDOM_CASES = [pytest.param(name, shape, id=f'{name}-{shape}')
                for name, (_, accepts) in RANDOM_INITS.items()
                for shape in RANDOM_SHAPES if accepts(len(shape))]


def _run_seeded(lib, name, shape, dtype, with_generator):
    """The initialiser after manual_seed(7) (and on Generator seeded 11 if with_generator), with
    the next draws of the global and explicit generators (equal draws mean equal states)."""
    lib.manual_seed(7)
    generator = None
    if with_generator:
        generator = lib.Generator()
        generator.manual_seed(11)
    x = lib.empty(shape, dtype=getattr(lib, dtype))
    call, _ = RANDOM_INITS[name]
    assert call(lib.nn.init, x, generator) is x
    after = [lib.rand(5, dtype=lib.float64)]
    if generator is not None:
        after.append(lib.rand(5, dtype=lib.float64, generator=generator))
    return x, after


@pytest.mark.parametrize('with_generator', [False, True], ids=['global', 'generator'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name, shape', RANDOM_CASES)
def test_random_inits_reproduce_torch(name, shape, dtype, with_generator):
    expected, expected_after = _run_seeded(torch, name, shape, dtype, with_generator)
    got, got_after = _run_seeded(nbgrad, name, shape, dtype, with_generator)
    if name == 'orthogonal_':
        # torch's LAPACK and NumPy's round the Householder QR differently: Q agrees to a few
        # ulp per entry (entries are at most gain = 2 in size), never bit for bit
        eps = np.finfo(dtype).eps
        assert_same(got, expected, rtol=0, atol=64 * eps * 2.0)
    else:
        assert_same(got, expected, bitwise=True)
    assert_same(got_after, expected_after, bitwise=True)  # the same amount of randomness used


@pytest.mark.parametrize('name', ['uniform_', 'normal_', 'trunc_normal_', 'trunc_normal_narrow',
                                  'kaiming_uniform_', 'xavier_normal_'])
def test_float16_reproduces_torch(name):
    expected, expected_after = _run_seeded(torch, name, (20, 30), 'float16', False)
    got, got_after = _run_seeded(nbgrad, name, (20, 30), 'float16', False)
    assert_same(got, expected, bitwise=True)
    assert_same(got_after, expected_after, bitwise=True)


def test_sparse_draws_positions_from_the_default_generator():
    # PyTorch's sparse_ passes `generator` to normal_ only; the zero positions come from
    # randperm on the global generator, so reseeding that alone moves them
    def run(lib, global_seed):
        lib.manual_seed(global_seed)
        generator = lib.Generator()
        generator.manual_seed(3)
        return lib.nn.init.sparse_(lib.empty(10, 6), 0.5, generator=generator) == 0
    for seed in (1, 2):
        both(lambda lib: run(lib, seed), lambda got, exp: assert_same(got, exp))


# ---------------------------------------------------------------------------------------------
# In place, under no_grad, on a leaf that requires grad
# ---------------------------------------------------------------------------------------------

ALL_INITS = {
    **{name: (lambda init, x, call=call: call(init, x, None))
       for name, (call, _) in RANDOM_INITS.items()},
    **{name: call for name, (call, _) in FILLS.items() if name != 'constant_int'},
}


@each_lib
@pytest.mark.parametrize('name', ALL_INITS)
def test_leaf_requiring_grad_is_filled_without_a_graph(lib, name):
    shape = (6, 4, 3) if name.startswith('dirac') else (6, 4)
    x = lib.full(shape, 7.0, requires_grad=True)
    version = x._version
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # none of these calls warns
        out = ALL_INITS[name](lib.nn.init, x)
    assert out is x
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert x._version > version
    assert (x != 7).any()  # written
    (x * 2).sum().backward()  # still an ordinary leaf afterwards
    assert (x.grad == 2).all()


# ---------------------------------------------------------------------------------------------
# Warnings and deprecated names
# ---------------------------------------------------------------------------------------------

@each_lib
@pytest.mark.parametrize('name', ['kaiming_uniform_', 'kaiming_normal_'])
@pytest.mark.parametrize('shape', [(0,), (0, 3), (4, 0, 3)], ids=str)
def test_kaiming_of_zero_elements_warns_and_returns(lib, name, shape):
    x = lib.empty(shape)
    with pytest.warns(UserWarning, match='Initializing zero-element tensors is a no-op') as rec:
        assert getattr(lib.nn.init, name)(x) is x
    assert rec[0].filename == __file__  # the warning points at the caller


@each_lib
@pytest.mark.parametrize('mean, std, a, b', [(5.0, 1.0, -2.0, 2.0), (-5.0, 1.0, -2.0, 2.0)])
def test_trunc_normal_far_mean_warns(lib, mean, std, a, b):
    x = lib.empty(50)
    with pytest.warns(UserWarning, match='mean is more than 2 std from') as rec:
        lib.nn.init.trunc_normal_(x, mean, std, a, b)
    # torch's points into torch/nn/init.py (its stacklevel counts from a helper); ours at the caller
    assert lib is torch or rec[0].filename == __file__
    assert ((x >= a) & (x <= b)).all()


DEPRECATED = {
    'uniform': lambda init, x: init.uniform(x, -1, 1),
    'normal': lambda init, x: init.normal(x, 0, 2),
    'constant': lambda init, x: init.constant(x, 0.5),
    'eye': lambda init, x: init.eye(x[0]),
    'dirac': lambda init, x: init.dirac(x),
    'xavier_uniform': lambda init, x: init.xavier_uniform(x),
    'xavier_normal': lambda init, x: init.xavier_normal(x),
    'kaiming_uniform': lambda init, x: init.kaiming_uniform(x),
    'kaiming_normal': lambda init, x: init.kaiming_normal(x),
    'orthogonal': lambda init, x: init.orthogonal(x),
    'sparse': lambda init, x: init.sparse(x[0], 0.5),
}


@pytest.mark.parametrize('name', DEPRECATED)
def test_deprecated_names(name):
    def run(lib):
        lib.manual_seed(0)
        x = lib.zeros(4, 5, 3)
        with pytest.warns(FutureWarning, match=f'`nn.init.{name}` is now deprecated in favor '
                                               f'of `nn.init.{name}_`'):
            DEPRECATED[name](lib.nn.init, x)
        return x
    # orthogonal goes through a QR (see test_random_inits_reproduce_torch)
    both(run, lambda got, exp: assert_same(got, exp, rtol=1e-5, atol=1e-6))
    assert nbgrad.nn.init.__all__ == torch.nn.init.__all__


# ---------------------------------------------------------------------------------------------
# Misuse: torch's exception, torch's message for its ValueErrors, the tensor left unchanged
# ---------------------------------------------------------------------------------------------

def _filled(shape, dtype='float32'):
    return lambda lib: {'x': lib.arange(math.prod(shape), dtype=getattr(lib, dtype))
                        .reshape(shape)}


# name -> (setup(lib) -> tensors, action(lib, **tensors))
ERRORS = {
    'xavier_uniform_1d': (_filled((5,)), lambda lib, x: lib.nn.init.xavier_uniform_(x)),
    'xavier_normal_0d': (_filled(()), lambda lib, x: lib.nn.init.xavier_normal_(x)),
    'xavier_uniform_no_elements': (_filled((0, 0)),
                                   lambda lib, x: lib.nn.init.xavier_uniform_(x)),
    'kaiming_uniform_1d': (_filled((5,)), lambda lib, x: lib.nn.init.kaiming_uniform_(x)),
    'kaiming_normal_0d': (_filled(()), lambda lib, x: lib.nn.init.kaiming_normal_(x)),
    'kaiming_normal_bad_mode': (_filled((3, 4)),
                                lambda lib, x: lib.nn.init.kaiming_normal_(x, mode='fan_avg')),
    'kaiming_uniform_mode_not_str': (_filled((3, 4)),
                                     lambda lib, x: lib.nn.init.kaiming_uniform_(x, mode=1)),
    'kaiming_uniform_bad_nonlinearity': (
        _filled((3, 4)), lambda lib, x: lib.nn.init.kaiming_uniform_(x, nonlinearity='gelu')),
    'kaiming_normal_bool_slope': (_filled((3, 4)),
                                  lambda lib, x: lib.nn.init.kaiming_normal_(x, a=True)),
    'eye_1d': (_filled((4,)), lambda lib, x: lib.nn.init.eye_(x)),
    'eye_3d': (_filled((2, 2, 2)), lambda lib, x: lib.nn.init.eye_(x)),
    'dirac_2d': (_filled((3, 3)), lambda lib, x: lib.nn.init.dirac_(x)),
    'dirac_6d': (_filled((2, 2, 1, 1, 1, 1)), lambda lib, x: lib.nn.init.dirac_(x)),
    'dirac_groups_not_dividing': (_filled((4, 2, 3)),
                                  lambda lib, x: lib.nn.init.dirac_(x, groups=3)),
    'dirac_zero_groups': (_filled((4, 2, 3)), lambda lib, x: lib.nn.init.dirac_(x, groups=0)),
    'sparse_1d': (_filled((6,)), lambda lib, x: lib.nn.init.sparse_(x, 0.5)),
    'sparse_3d': (_filled((2, 3, 4)), lambda lib, x: lib.nn.init.sparse_(x, 0.5)),
    'orthogonal_1d': (_filled((6,)), lambda lib, x: lib.nn.init.orthogonal_(x)),
    'orthogonal_not_viewable': (lambda lib: {'x': lib.zeros(3, 4, 5).transpose(1, 2)},
                                lambda lib, x: lib.nn.init.orthogonal_(x)),
    'orthogonal_float16': (_filled((4, 3), 'float16'), lambda lib, x: lib.nn.init.orthogonal_(x)),
    'trunc_normal_zero_std': (_filled((5,)),
                              lambda lib, x: lib.nn.init.trunc_normal_(x, 0.0, 0.0)),
    'uniform_reversed_bounds': (_filled((5,)), lambda lib, x: lib.nn.init.uniform_(x, 3, 1)),
    'normal_negative_std': (_filled((5,)), lambda lib, x: lib.nn.init.normal_(x, 0, -1)),
    'calculate_gain_unknown': (lambda lib: {}, lambda lib: lib.nn.init.calculate_gain('gelu')),
    'calculate_gain_bad_slope': (lambda lib: {},
                                 lambda lib: lib.nn.init.calculate_gain('leaky_relu', '0.1')),
}
ERROR_BUGS = {}  # misuse cases that hit a known nbgrad bug (none at present)


@pytest.mark.parametrize('name', [pytest.param(n, marks=nbgrad_bug(ERROR_BUGS[n])
                                               if n in ERROR_BUGS else ()) for n in ERRORS])
def test_misuse_raises_like_torch(name):
    setup, action = ERRORS[name]
    theirs, ours = same_error(setup, action)
    if type(theirs) is ValueError:  # raised by torch/nn/init.py itself: the same words
        assert str(ours) == str(theirs)


# ---------------------------------------------------------------------------------------------
# Distributions on every device: goodness of fit to the documented distribution
# ---------------------------------------------------------------------------------------------

ROWS, COLS = 200, 100  # fan_in = 100, fan_out = 200; 20000 samples
_erf = np.vectorize(math.erf)


def _normal_cdf(mean, std):
    return lambda x: 0.5 * (1 + _erf((x - mean) / (std * math.sqrt(2))))


def _uniform_cdf(a, b):
    return lambda x: np.clip((x - a) / (b - a), 0, 1)


def _trunc_normal_cdf(mean, std, a, b):
    cdf = _normal_cdf(mean, std)
    lo, hi = cdf(np.array(a)), cdf(np.array(b))
    return lambda x: np.clip((cdf(x) - lo) / (hi - lo), 0, 1)


def assert_fits(samples, cdf, where):
    """Kolmogorov-Smirnov: the sup distance between the empirical CDF and cdf stays under the
    level-1e-6 critical value sqrt(ln(2 / 1e-6) / (2 n)) (about 0.019 for 20000 samples)."""
    x = np.sort(samples.astype(np.float64).ravel())
    n = x.size
    f = cdf(x)
    distance = max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max())
    critical = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    assert distance < critical, f'{where}: KS distance {distance:.4f} >= {critical:.4f}'


# call(init, x) -> the distribution the PyTorch docs give for a (200, 100) tensor, and its support
DISTRIBUTIONS = {
    'uniform_': (lambda init, x: init.uniform_(x, -2.0, 3.0), _uniform_cdf(-2, 3), (-2, 3)),
    'normal_': (lambda init, x: init.normal_(x, 1.5, 0.5), _normal_cdf(1.5, 0.5), None),
    'trunc_normal_': (lambda init, x: init.trunc_normal_(x), _trunc_normal_cdf(0, 1, -2, 2),
                      (-2, 2)),
    'trunc_normal_narrow': (lambda init, x: init.trunc_normal_(x, 0.0, 1.0, 0.5, 0.7),
                            _trunc_normal_cdf(0, 1, 0.5, 0.7), (0.5, 0.7)),
    # a = gain * sqrt(6 / (fan_in + fan_out))
    'xavier_uniform_': (lambda init, x: init.xavier_uniform_(x, gain=1.5),
                        _uniform_cdf(-1.5 * math.sqrt(6 / 300), 1.5 * math.sqrt(6 / 300)),
                        (-1.5 * math.sqrt(6 / 300), 1.5 * math.sqrt(6 / 300))),
    # std = gain * sqrt(2 / (fan_in + fan_out))
    'xavier_normal_': (lambda init, x: init.xavier_normal_(x), _normal_cdf(0, math.sqrt(2 / 300)),
                       None),
    # nn.Linear's default: leaky_relu gain with a = sqrt(5) gives bound = 1 / sqrt(fan_in)
    'kaiming_uniform_': (lambda init, x: init.kaiming_uniform_(x, a=math.sqrt(5)),
                         _uniform_cdf(-0.1, 0.1), (-0.1, 0.1)),
    # std = sqrt(2) / sqrt(fan_out) for relu
    'kaiming_normal_': (lambda init, x: init.kaiming_normal_(x, mode='fan_out',
                                                             nonlinearity='relu'),
                        _normal_cdf(0, math.sqrt(2 / 200)), None),
}


@pytest.mark.parametrize('name', DISTRIBUTIONS)
def test_distribution(name, device):
    call, cdf, support = DISTRIBUTIONS[name]
    nbgrad.manual_seed(2024)
    x = nbgrad.empty(ROWS, COLS, device=device)
    assert call(nbgrad.nn.init, x) is x
    assert x.device.type == device
    values = to_np(x.cpu())
    if support is not None:
        lo, hi = np.float32(support[0]), np.float32(support[1])
        assert lo <= values.min() and values.max() <= hi, name
    assert_fits(values, cdf, name)


@pytest.mark.parametrize('shape', [(6, 2, 3, 3), (30, 4), (5, 5), (1, 7)], ids=str)
def test_orthogonal_rows_or_columns_are_orthonormal(shape, device):
    nbgrad.manual_seed(5)
    x = nbgrad.empty(shape, device=device, dtype=nbgrad.float64)
    assert nbgrad.nn.init.orthogonal_(x, gain=3.0) is x
    w = to_np(x.cpu()).reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, 9.0 * np.eye(len(gram)), atol=1e-12)


@pytest.mark.parametrize('sparsity', [0.1, 0.5, 0.0, 1.0])
def test_sparse_zeros_per_column(sparsity, device):
    nbgrad.manual_seed(9)
    rows, cols, std = 200, 100, 0.05
    x = nbgrad.empty(rows, cols, device=device)
    assert nbgrad.nn.init.sparse_(x, sparsity, std=std) is x
    values = to_np(x.cpu())
    # normal draws are never exactly 0, so the zeros are exactly the chosen positions
    assert ((values == 0).sum(axis=0) == math.ceil(sparsity * rows)).all()
    if sparsity < 1:
        assert_fits(values[values != 0], _normal_cdf(0, std), 'sparse_ non-zeros')


def test_dtype_is_kept(device):
    for dtype in (nbgrad.float16, nbgrad.float64):
        x = nbgrad.empty(8, 6, dtype=dtype, device=device)
        for fill in (nbgrad.nn.init.kaiming_uniform_, nbgrad.nn.init.trunc_normal_):
            assert fill(x) is x
            assert dname(x.dtype) == dname(dtype) and x.device.type == device
