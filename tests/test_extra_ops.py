"""tril_indices/triu_indices, block_diag, atleast_1d/2d/3d, combinations, vander, the window
functions (hann, hamming, bartlett, blackman, kaiser), ldexp and frexp against PyTorch: values,
dtypes, shapes, gradients and the errors for bad input. PyTorch runs on the CPU; nbgrad runs on
each device of the `device` fixture and its results are compared on the CPU."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, compare_on_device

torch = pytest.importorskip('torch')


def compare(fn, device, rtol=0, atol=0, quiet=False):
    """torch_compare.compare_on_device, exact by default."""
    return compare_on_device(fn, device, rtol=rtol, atol=atol, quiet=quiet)


def make(lib, array, device, requires_grad=False):
    return lib.tensor(array, device=device, requires_grad=requires_grad)


def weights(shape, seed=1):
    """Fixed weights for a weighted-sum loss (so every output element gets its own gradient)."""
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


def grads_of(lib, device, fn, arrays, dtype=np.float64):
    """Leaves from `arrays`, out = fn(lib, *leaves), backward of sum(out * weights): returns
    (out, [leaf.grad...])."""
    leaves = [make(lib, np.asarray(a, dtype=dtype), device, requires_grad=True) for a in arrays]
    out = fn(lib, *leaves)
    w = lib.tensor(weights(tuple(out.shape)), dtype=out.dtype, device=device)
    (out * w).sum().backward()
    return out, [leaf.grad for leaf in leaves]


# ---------------------------------------------------------------------------------------------
# tril_indices / triu_indices
# ---------------------------------------------------------------------------------------------

TRI_SIZES = [(0, 0), (0, 3), (3, 0), (1, 1), (3, 3), (3, 5), (5, 3), (4, 4), (7, 2),
             (60, 45)]


@pytest.mark.parametrize('name', ['tril_indices', 'triu_indices'])
@pytest.mark.parametrize('row,col', TRI_SIZES, ids=str)
@pytest.mark.parametrize('offset', [-9, -3, -1, 0, 1, 2, 6])
def test_triangle_indices_match_torch(name, row, col, offset, device):
    compare(lambda lib, dev: getattr(lib, name)(row, col, offset, device=dev), device)


@pytest.mark.parametrize('name', ['tril_indices', 'triu_indices'])
@pytest.mark.parametrize('dtype', ['int32', 'int64'])
def test_triangle_indices_dtypes_and_keywords(name, dtype, device):
    compare(lambda lib, dev: getattr(lib, name)(4, 6, offset=-1, dtype=getattr(lib, dtype),
                                                device=dev), device)
    compare(lambda lib, dev: getattr(lib, name)(lib.tensor(3), np.int64(4), device=dev), device)


@pytest.mark.parametrize('call', [
    lambda lib: lib.tril_indices(-1, 3), lambda lib: lib.triu_indices(3, -2),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.float32),
    lambda lib: lib.triu_indices(3, 3, dtype=lib.int16),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.bool),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.uint8),
    lambda lib: lib.tril_indices(3.0, 3), lambda lib: lib.triu_indices(3, True),
    lambda lib: lib.tril_indices(3, 3, 1.5), lambda lib: lib.triu_indices(3, lib.tensor(3.0)),
], ids=['neg_row', 'neg_col', 'float32', 'int16', 'bool', 'uint8', 'float_row', 'bool_col',
        'float_offset', 'float_tensor'])
def test_triangle_indices_errors_are_torchs(call):
    assert_same_error(call)


def test_triangle_indices_cannot_require_grad():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError):
            lib.tril_indices(3, 3, requires_grad=True)


# ---------------------------------------------------------------------------------------------
# block_diag
# ---------------------------------------------------------------------------------------------

def _arr(shape, dtype, seed=0):
    values = np.random.default_rng(seed).uniform(-3, 3, size=shape)
    if np.dtype(dtype).kind == 'c':
        values = values + 1j * values[::-1] if values.ndim else values + 0.5j
    return np.asarray(values).astype(dtype)


BLOCK_CASES = {
    'mixed_dims': [((), 'float32'), ((3,), 'float32'), ((2, 2), 'float32')],
    'promotes_to_float64': [((2, 3), 'float32'), ((2,), 'float64'), ((), 'float32')],
    'zero_dim_is_weaker': [((), 'float64'), ((2,), 'float32')],
    'ints': [((2,), 'int64'), ((1, 3), 'int8')],
    'int_and_half': [((2,), 'int8'), ((1,), 'float16')],
    'bool_and_uint8': [((2,), 'bool'), ((2, 1), 'uint8')],
    'complex': [((2,), 'complex64'), ((1, 1), 'float32')],
    'empty_blocks': [((0, 2), 'float32'), ((2, 0), 'float32'), ((0,), 'float32')],
    'one_matrix': [((3, 2), 'float64')],
    'one_empty_vector': [((0,), 'float32')],
}


@pytest.mark.parametrize('case', BLOCK_CASES)
def test_block_diag_matches_torch(case, device):
    arrays = [_arr(s, d, i) for i, (s, d) in enumerate(BLOCK_CASES[case])]
    compare(lambda lib, dev: lib.block_diag(*[make(lib, a, dev) for a in arrays]), device)


def test_block_diag_of_nothing_is_an_empty_row():
    assert_same(nbgrad.block_diag(), torch.block_diag())
    torch.set_default_dtype(torch.float64)
    nbgrad.set_default_dtype(nbgrad.float64)
    try:
        assert_same(nbgrad.block_diag(), torch.block_diag())
    finally:
        torch.set_default_dtype(torch.float32)
        nbgrad.set_default_dtype(nbgrad.float32)


def test_block_diag_gradients(device):
    arrays = [_arr((2, 3), 'float64'), _arr((4,), 'float64', 1), _arr((), 'float64', 2),
              _arr((1, 2), 'float64', 3)]

    def run(lib, dev):
        out, grads = grads_of(lib, dev, lambda lib, *xs: lib.block_diag(*xs), arrays)
        return out, tuple(grads)
    got = compare(run, device, rtol=1e-12)
    assert got[0].grad_fn.name() == 'BlockDiagBackward0'


def test_block_diag_gradient_is_cast_to_each_inputs_dtype(device):
    def run(lib, dev):
        a = make(lib, _arr((2,), 'float32'), dev, requires_grad=True)
        b = make(lib, _arr((2, 2), 'float64', 1), dev, requires_grad=True)
        out = lib.block_diag(a, b)
        (out * lib.tensor(weights((3, 4)), device=dev)).sum().backward()
        return out, a.grad, b.grad
    compare(run, device, rtol=1e-6)


@pytest.mark.parametrize('call', [
    lambda lib: lib.block_diag(lib.ones(2, 2, 2)),
    lambda lib: lib.block_diag(lib.ones(2), lib.ones(1, 1, 1, 1)),
    lambda lib: lib.block_diag(lib.ones(2), 3),
    lambda lib: lib.block_diag([lib.ones(2)]),
], ids=['3d', 'second_4d', 'number', 'list'])
def test_block_diag_errors_are_torchs(call):
    assert_same_error(call)


def test_block_diag_refuses_mixed_devices():
    if not nbgrad.cuda.is_available():
        pytest.skip('needs a CUDA device (or NBGRAD_FAKE_CUDA=1)')
    with pytest.raises(RuntimeError, match='same device'):
        nbgrad.block_diag(nbgrad.ones(2), nbgrad.ones(2, device='cuda'))


# ---------------------------------------------------------------------------------------------
# atleast_1d / atleast_2d / atleast_3d
# ---------------------------------------------------------------------------------------------

ATLEAST = ['atleast_1d', 'atleast_2d', 'atleast_3d']
SHAPES = [(), (3,), (0,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]


@pytest.mark.parametrize('name', ATLEAST)
@pytest.mark.parametrize('shape', SHAPES, ids=str)
def test_atleast_one_tensor(name, shape, device):
    a = _arr(shape, 'float32')
    compare(lambda lib, dev: getattr(lib, name)(make(lib, a, dev)), device)

    def same_object(lib, dev):  # tensors with enough dims come back as themselves
        x = make(lib, a, dev)
        return getattr(lib, name)(x) is x
    assert same_object(nbgrad, device) == same_object(torch, 'cpu')


@pytest.mark.parametrize('name', ATLEAST)
def test_atleast_several_tensors_give_a_tuple(name, device):
    arrays = [_arr(s, 'float64', i) for i, s in enumerate(SHAPES)]
    compare(lambda lib, dev: getattr(lib, name)(*[make(lib, a, dev) for a in arrays]), device)
    compare(lambda lib, dev: getattr(lib, name)([make(lib, a, dev) for a in arrays]), device)
    compare(lambda lib, dev: getattr(lib, name)(tuple(make(lib, a, dev) for a in arrays[:1])),
            device)
    compare(lambda lib, dev: getattr(lib, name)(), device)


@pytest.mark.parametrize('name', ATLEAST)
@pytest.mark.parametrize('shape', [(), (3,), (2, 3)], ids=str)
def test_atleast_gradients_flow_through_the_view(name, shape, device):
    def run(lib, dev):
        out, grads = grads_of(lib, dev, lambda lib, x: getattr(lib, name)(x) * 2,
                              [_arr(shape, 'float64')])
        return out, grads[0]
    compare(run, device, rtol=1e-12)


@pytest.mark.parametrize('name', ATLEAST)
@pytest.mark.parametrize('args', [(1,), (2.5,), ([1],), ([nbgrad.ones(1)], [nbgrad.ones(1)])],
                         ids=['int', 'float', 'list_of_int', 'two_lists'])
def test_atleast_errors_are_torchs(name, args):
    def call(lib):
        converted = [[torch.ones(1)] if lib is torch and isinstance(a, list) and a and
                     isinstance(a[0], nbgrad.Tensor) else a for a in args]
        return getattr(lib, name)(*converted)
    assert_same_error(call)


# ---------------------------------------------------------------------------------------------
# combinations
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('n', [0, 1, 2, 4, 5])
@pytest.mark.parametrize('r', [0, 1, 2, 3, 6])
@pytest.mark.parametrize('with_replacement', [False, True])
def test_combinations_match_torch(n, r, with_replacement, device):
    a = _arr((n,), 'float32')
    compare(lambda lib, dev: lib.combinations(make(lib, a, dev), r, with_replacement), device)


@pytest.mark.parametrize('dtype', ['int8', 'int64', 'bool', 'float64', 'complex64'])
def test_combinations_keep_the_dtype(dtype, device):
    a = _arr((4,), dtype) if dtype != 'bool' else np.array([True, False, True, True])
    compare(lambda lib, dev: lib.combinations(make(lib, a, dev), r=3, with_replacement=True),
            device)
    compare(lambda lib, dev: lib.combinations(make(lib, a, dev), r=0), device)


@pytest.mark.parametrize('r,with_replacement', [(1, False), (2, False), (3, True), (2, True)])
def test_combinations_gradients(r, with_replacement, device):
    def run(lib, dev):
        out, grads = grads_of(lib, dev, lambda lib, x: lib.combinations(x, r, with_replacement),
                              [_arr((4,), 'float64')])
        return out, grads[0]
    compare(run, device, rtol=1e-12)


@pytest.mark.parametrize('call', [
    lambda lib: lib.combinations(lib.ones(2, 2)), lambda lib: lib.combinations(lib.tensor(1.0)),
    lambda lib: lib.combinations(lib.ones(3), -1), lambda lib: lib.combinations(lib.ones(3), 2.0),
    lambda lib: lib.combinations([1.0, 2.0]),
], ids=['2d', '0d', 'negative_r', 'float_r', 'list'])
def test_combinations_errors_are_torchs(call):
    assert_same_error(call)


# ---------------------------------------------------------------------------------------------
# vander
# ---------------------------------------------------------------------------------------------

VANDER_DTYPES = ['float32', 'float64', 'float16', 'int64', 'int8', 'uint8', 'bool', 'complex64',
                 'complex128']


def _vander_input(dtype, n=6):
    if dtype == 'bool':
        return np.array([True, False, True, True, False, True][:n])
    if dtype in ('int8', 'uint8', 'int64'):
        return np.arange(n).astype(dtype) - (0 if dtype == 'uint8' else 2)
    return _arr((n,), dtype)


@pytest.mark.parametrize('dtype', VANDER_DTYPES)
@pytest.mark.parametrize('N', [None, 0, 1, 2, 5, 12])
@pytest.mark.parametrize('increasing', [False, True])
def test_vander_matches_torch(dtype, N, increasing, device):
    x = _vander_input(dtype)
    # exact: the running product is widened as PyTorch's CPU cumprod widens it, except that
    # NumPy's complex128 multiply may differ from c10::complex's in the last bit, and that a
    # GPU's cumprod is a parallel scan (PyTorch's CUDA one too), which multiplies float64
    # powers in another order
    rtol = 1e-15 if dtype == 'complex128' or (device != 'cpu' and dtype == 'float64') else 0
    compare(lambda lib, dev: lib.vander(make(lib, x, dev), N, increasing), device, rtol=rtol)


def test_vander_of_an_empty_vector(device):
    compare(lambda lib, dev: lib.vander(make(lib, np.zeros(0, np.int32), dev)), device)
    compare(lambda lib, dev: lib.vander(make(lib, np.zeros(0), dev), N=3), device)


def test_vander_large_float32_powers_round_as_torchs():
    x = _arr((200,), 'float32') * 4
    assert_same(nbgrad.vander(nbgrad.tensor(x), 20), torch.vander(torch.tensor(x), 20),
                rtol=0, atol=0)


@pytest.mark.parametrize('N', [2, 3, 6])
@pytest.mark.parametrize('increasing', [False, True])
def test_vander_gradients(N, increasing, device):
    """PyTorch's vander raises in backward (its in-place cumprod); its linalg.vander builds the
    same matrix out of place, and its gradient is the reference."""
    x = np.array([1.5, -0.5, 0.0, 2.0, -1.25])

    def run(lib, dev):
        def fn(lib, t):
            if lib is torch:
                out = torch.linalg.vander(t, N=N)
                return out if increasing else out.flip(-1)
            return lib.vander(t, N, increasing)
        out, grads = grads_of(lib, dev, fn, [x])
        return out, grads[0]
    compare(run, device, rtol=1e-12)


@pytest.mark.parametrize('N', [0, 1])
def test_vander_without_powers_does_not_require_grad(N):
    for lib in (torch, nbgrad):
        out = lib.vander(lib.tensor([1.0, 2.0], requires_grad=True), N)
        assert not out.requires_grad


@pytest.mark.parametrize('call', [
    lambda lib: lib.vander(lib.ones(2, 2)), lambda lib: lib.vander(lib.tensor(1.0)),
    lambda lib: lib.vander(lib.ones(3), -1), lambda lib: lib.vander(lib.ones(3), 2.0),
], ids=['2d', '0d', 'negative_N', 'float_N'])
def test_vander_errors_are_torchs(call):
    assert_same_error(call)


# ---------------------------------------------------------------------------------------------
# Window functions
# ---------------------------------------------------------------------------------------------

WINDOWS = ['hann_window', 'hamming_window', 'bartlett_window', 'blackman_window',
           'kaiser_window']
LENGTHS = [0, 1, 2, 3, 4, 5, 8, 11, 64, 255, 1000]
# PyTorch's cos (SLEEF) and i0 may differ from NumPy's by an ulp or a few: windows lie in
# [0, 1], so an absolute tolerance of a few float32 ulps of 1 (and relative for kaiser's tiny
# edge values, where i0 of a large argument magnifies rounding)
TOLERANCE = {'float32': dict(rtol=3e-6, atol=2.5e-7), 'float64': dict(rtol=1e-14, atol=5e-16),
             'float16': dict(rtol=2e-3, atol=1e-3)}


@pytest.mark.parametrize('name', WINDOWS)
@pytest.mark.parametrize('length', LENGTHS)
@pytest.mark.parametrize('periodic', [True, False])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_windows_match_torch(name, length, periodic, dtype, device):
    compare(lambda lib, dev: getattr(lib, name)(length, periodic, dtype=getattr(lib, dtype),
                                                device=dev), device, **TOLERANCE[dtype])


@pytest.mark.parametrize('name', WINDOWS)
def test_windows_defaults_and_half(name, device):
    compare(lambda lib, dev: getattr(lib, name)(16, device=dev), device, **TOLERANCE['float32'])
    compare(lambda lib, dev: getattr(lib, name)(17, dtype=lib.float16, device=dev), device,
            **TOLERANCE['float16'])
    torch.set_default_dtype(torch.float64)
    nbgrad.set_default_dtype(nbgrad.float64)
    try:
        compare(lambda lib, dev: getattr(lib, name)(9, False, device=dev), device,
                **TOLERANCE['float64'])
    finally:
        torch.set_default_dtype(torch.float32)
        nbgrad.set_default_dtype(nbgrad.float32)


@pytest.mark.parametrize('alpha,beta', [(0.54, 0.46), (0.5, 0.5), (1, 0.25), (0.3, -0.2)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_hamming_window_parameters(alpha, beta, dtype, device):
    compare(lambda lib, dev: lib.hamming_window(33, False, alpha, beta, dtype=getattr(lib, dtype),
                                                device=dev), device, **TOLERANCE[dtype])
    compare(lambda lib, dev: lib.hamming_window(32, True, alpha=alpha, dtype=getattr(lib, dtype),
                                                device=dev), device, **TOLERANCE[dtype])


@pytest.mark.parametrize('beta', [12.0, 0.0, 0.5, 5, 30.0, -3.0, True])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_kaiser_window_beta(beta, dtype, device):
    compare(lambda lib, dev: lib.kaiser_window(101, False, beta, dtype=getattr(lib, dtype),
                                               device=dev), device, **TOLERANCE[dtype])
    compare(lambda lib, dev: lib.kaiser_window(100, True, beta=beta, dtype=getattr(lib, dtype),
                                               device=dev), device, **TOLERANCE[dtype])


@pytest.mark.parametrize('name', WINDOWS)
def test_windows_requires_grad_gives_a_leaf(name, device):
    def run(lib, dev):
        w = getattr(lib, name)(6, dtype=lib.float64, device=dev, requires_grad=True)
        assert w.requires_grad and w.is_leaf and w.grad_fn is None
        (w * 3).sum().backward()
        return w, w.grad
    compare(run, device, **TOLERANCE['float64'])


@pytest.mark.parametrize('name', WINDOWS)
@pytest.mark.parametrize('length', [0, 1, 4])
def test_windows_complex_dtype(name, length, device):
    """Complex dtypes pass PyTorch's checks; lengths 0 and 1 work, longer ones fail in arange."""
    compare(lambda lib, dev: getattr(lib, name)(length, dtype=lib.complex64, device=dev), device)


@pytest.mark.parametrize('name', WINDOWS)
@pytest.mark.parametrize('call', [
    lambda lib, f: f(4, dtype=lib.int64), lambda lib, f: f(4, dtype=lib.int32),
    lambda lib, f: f(4, dtype=lib.uint8), lambda lib, f: f(4, dtype=lib.bool),
    lambda lib, f: f(4, dtype=lib.int8), lambda lib, f: f(4, dtype=lib.int16),
    lambda lib, f: f(-1, dtype=lib.int64), lambda lib, f: f(0, dtype=lib.int64),
    lambda lib, f: f(3, dtype=lib.int64, pin_memory=True),
    lambda lib, f: f(-1), lambda lib, f: f(-5, False), lambda lib, f: f(3.0),
    lambda lib, f: f(True), lambda lib, f: f(3, 1), lambda lib, f: f(3, None),
], ids=['int64', 'int32', 'uint8', 'bool', 'int8', 'int16', 'negative_int64', 'empty_int64',
        'pinned_int64', 'negative', 'negative_symmetric', 'float_length', 'bool_length',
        'int_periodic', 'none_periodic'])
def test_window_errors_are_torchs(name, call):
    assert_same_error(lambda lib: call(lib, getattr(lib, name)))


@pytest.mark.parametrize('call', [
    lambda lib: lib.hamming_window(4, False, None),
    lambda lib: lib.hamming_window(4, True, 0.5, '1'),
    lambda lib: lib.kaiser_window(4, True, lib.tensor([2.0])),
    lambda lib: lib.kaiser_window(4, True, lib.tensor(2.0, requires_grad=True)),
    lambda lib: lib.hann_window(lib.tensor(4.0)), lambda lib: lib.hann_window(lib.tensor([4])),
], ids=['none_alpha', 'str_beta', 'vector_beta', 'beta_requiring_grad', 'float_tensor_length',
        'vector_length'])
def test_window_parameter_type_errors_are_torchs(call):
    assert_same_error(call)


def test_window_parameters_may_be_0d_tensors_and_numpy_numbers(device):
    compare(lambda lib, dev: lib.kaiser_window(lib.tensor(7), True, lib.tensor(2.5),
                                               device=dev), device, **TOLERANCE['float32'])
    compare(lambda lib, dev: lib.hamming_window(np.int32(7), False, np.float32(0.6),
                                                lib.tensor(1), device=dev), device,
            **TOLERANCE['float32'])


# ---------------------------------------------------------------------------------------------
# ldexp
# ---------------------------------------------------------------------------------------------

MANTISSAS = np.array([0.0, -0.0, 1.0, -1.5, 0.75, 3.25, 1e-3, -7e4, np.inf, -np.inf, np.nan,
                      1e-40, 6e4])


def _exponents(dtype, size):
    low, high = {'int8': (-128, 127), 'uint8': (0, 255), 'int16': (-1100, 1100),
                 'int32': (-1100, 1100), 'int64': (-1100, 1100)}[dtype]
    values = np.random.default_rng(3).integers(low, high, size=size, endpoint=True)
    return values.astype(dtype)


@pytest.mark.parametrize('xdtype', ['float16', 'float32', 'float64'])
@pytest.mark.parametrize('edtype', ['int8', 'uint8', 'int16', 'int32', 'int64'])
def test_ldexp_float_by_integer_is_exact(xdtype, edtype, device):
    x = np.tile(MANTISSAS, 8).astype(xdtype)
    e = _exponents(edtype, x.size)
    compare(lambda lib, dev: lib.ldexp(make(lib, x, dev), make(lib, e, dev)), device)


def test_ldexp_int64_exponents_wrap_to_int32_as_torchs(device):
    e = np.array([2 ** 40, -2 ** 40, 2 ** 31, -2 ** 31 - 1, 2 ** 32 + 3, 5])
    compare(lambda lib, dev: lib.ldexp(make(lib, np.ones(6, np.float32), dev),
                                       make(lib, e, dev)), device)


@pytest.mark.parametrize('x,e', [
    (np.array([1, -2, 3]), np.array([3, 200, -4])),                     # int input
    (np.array([1, 0, 3], np.int8), np.array([3.5])),                     # int input, float exp
    (np.array([True, False]), np.array([3, 200])),                      # bool input
    (np.array([1.5, -2.0], np.float32), np.array([1.5, -3.25], np.float32)),
    (np.array([1.5, -2.0], np.float32), np.array([2.0, 3.0], np.float64)),
    (np.array([1.5, -2.0], np.float64), np.array([2.0, 3.0], np.float16)),
    (np.array([1.5, -2.0], np.float16), np.array([2.0, 30.0], np.float32)),
    (np.array([1 + 1j, -2j], np.complex64), np.array([3, -2])),
    (np.array([1 + 1j, -2j], np.complex128), np.array([0.5, 2.0])),
    (np.array([1, 2]), np.array([True, False])),                         # int input, bool exp
    (np.array(1.5, np.float32), np.array([1, 2])),                       # 0-d input
    (np.array(1.5, np.float64), np.array([1, 2])),
    (np.array([1.0, 2.0], np.float32), np.array([[1], [2]])),           # broadcast
], ids=['int', 'int8_float_exp', 'bool', 'f32_f32', 'f32_f64', 'f64_f16', 'f16_f32', 'c64_int',
        'c128_float', 'int_bool_exp', 'zero_dim_f32', 'zero_dim_f64', 'broadcast'])
def test_ldexp_other_dtypes_follow_torchs_formula(x, e, device):
    compare(lambda lib, dev: lib.ldexp(make(lib, x, dev), make(lib, e, dev)), device, rtol=1e-6,
            quiet=True)
    compare(lambda lib, dev: make(lib, x, dev).ldexp(make(lib, e, dev)), device, rtol=1e-6,
            quiet=True)


def test_ldexp_gradients_with_float_exponents(device):
    x, e = np.array([1.5, -2.0, 0.25, 3.0]), np.array([0.5, 2.0, -1.5, 10.0])

    def run(lib, dev):
        out, grads = grads_of(lib, dev, lambda lib, a, b: lib.ldexp(a, b), [x, e])
        return out, tuple(grads)
    got = compare(run, device, rtol=1e-12)
    assert got[0].grad_fn.name() == 'LdexpBackward0'


def test_ldexp_gradient_with_integer_exponents(device):
    """d/dx ldexp(x, e) = 2 ** e. PyTorch agrees for small non-negative e; for negative or large
    e it computes 2 ** e in e's integer dtype (0 or wrapped), so those are checked against
    NumPy's 2.0 ** e."""
    x = np.array([1.5, -2.0, 0.25, 3.0])
    small = np.array([0, 1, 5, 30])

    def run(lib, dev):
        a = make(lib, x, dev, requires_grad=True)
        out = lib.ldexp(a, make(lib, small, dev))
        out.backward(lib.tensor(weights(4), device=dev))
        return out, a.grad
    got = compare(run, device, rtol=1e-15)
    assert got[0].grad_fn.name() == 'LdexpBackward0'

    for dtype in ('float32', 'float64'):
        e = np.array([-3, -40, 100, -149, 127, -1080])
        a = nbgrad.tensor(x.tolist() + [1.0, 1.0], dtype=getattr(nbgrad, dtype), device=device,
                          requires_grad=True)
        nbgrad.ldexp(a, nbgrad.tensor(e, device=device)).sum().backward()
        np.testing.assert_array_equal(a.grad.cpu().numpy(),
                                      (2.0 ** e.astype(np.float64)).astype(dtype))


def test_ldexp_in_place(device):
    x = np.array([1.5, -2.0, 0.25])
    for e in (np.array([1, -2, 3]), np.array([0.5, 1.0, -1.0])):
        def run(lib, dev):
            t = make(lib, x.astype(np.float32), dev)
            returned = t.ldexp_(make(lib, e, dev))
            assert returned is t
            return t
        compare(run, device, rtol=1e-6)


@pytest.mark.parametrize('call', [
    lambda lib: lib.ldexp(lib.ones(2), 2), lambda lib: lib.ldexp(lib.ones(2), 2.5),
    lambda lib: lib.ldexp(3, lib.tensor([1])),
    lambda lib: lib.ldexp(lib.ones(2), lib.tensor([True])),
    lambda lib: lib.ldexp(lib.ones(2, dtype=lib.float64), lib.tensor(True)),
    lambda lib: lib.ones(2, dtype=lib.int64).ldexp_(lib.tensor([1.0, 2.0])),
    lambda lib: lib.ones(2, dtype=lib.int64).ldexp_(lib.tensor([1, 2])),
], ids=['int_other', 'float_other', 'int_input', 'bool_exponent', 'bool_0d_exponent',
        'inplace_int_float', 'inplace_int_int'])
def test_ldexp_errors_are_torchs(call):
    assert_same_error(call)


def test_ldexp_in_place_cannot_grow_its_target():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError):
            lib.ones(2).ldexp_(lib.tensor([[1], [2]]))


def test_ldexp_out():
    def run(lib, dev):
        out = lib.empty(3)
        returned = lib.ldexp(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1, 2, -1]), out=out)
        assert returned is out
        return out
    compare(run, 'cpu')


# ---------------------------------------------------------------------------------------------
# frexp
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_frexp_matches_torch(dtype, device):
    x = np.concatenate([MANTISSAS, np.random.default_rng(5).standard_normal(50) * 1e3,
                        [2.0 ** -1030, 1e300, -1e-310, 65504.0]]).astype(dtype)
    got = compare(lambda lib, dev: lib.frexp(make(lib, x, dev)), device)
    assert type(got).__name__ == 'frexp' and got._fields == ('mantissa', 'exponent')
    assert type(got) is nbgrad.return_types.frexp
    compare(lambda lib, dev: make(lib, x.reshape(-1, 3)[:4], dev).frexp(), device)
    compare(lambda lib, dev: lib.frexp(make(lib, np.array(5.0, dtype), dev)), device)


def test_frexp_round_trips_through_ldexp(device):
    x = nbgrad.tensor(np.random.default_rng(6).standard_normal(100) * 1e5, device=device)
    mantissa, exponent = nbgrad.frexp(x)
    assert nbgrad.equal(nbgrad.ldexp(mantissa, exponent), x)


def test_frexp_gradient(device):
    x = np.array([1.5, -3.0, 0.1, 1e5, -7e-3])

    def run(lib, dev):
        a = make(lib, x, dev, requires_grad=True)
        mantissa, exponent = lib.frexp(a)
        assert mantissa.requires_grad and not exponent.requires_grad
        mantissa.backward(lib.tensor(weights(5), device=dev))
        return mantissa, a.grad
    got = compare(run, device, rtol=1e-15)
    assert got[0].grad_fn.name() == 'FrexpBackward0'


def test_frexp_gradient_beyond_float32_exponents():
    """PyTorch divides by exponent.exp2() in float32, which overflows for float64 inputs beyond
    float32's exponent range (gradient 0 or inf); nbgrad's is 2 ** -exponent, as NumPy says."""
    x = np.array([1e-50, 1e50, 3e200])
    a = nbgrad.tensor(x, requires_grad=True)
    mantissa, exponent = nbgrad.frexp(a)
    mantissa.sum().backward()
    _, e = np.frexp(x)
    np.testing.assert_array_equal(a.grad.numpy(), np.ldexp(1.0, -e))


@pytest.mark.parametrize('call', [
    lambda lib: lib.frexp(lib.tensor([1, 2])), lambda lib: lib.frexp(lib.tensor([True])),
    lambda lib: lib.frexp(lib.tensor([1 + 1j])), lambda lib: lib.frexp(3.0),
    lambda lib: lib.tensor([1, 2]).frexp(),
], ids=['int', 'bool', 'complex', 'number', 'int_method'])
def test_frexp_errors_are_torchs(call):
    assert_same_error(call)


def test_frexp_out():
    def run(lib, dev):
        mantissa, exponent = lib.empty(3), lib.empty(3, dtype=lib.int32)
        returned = lib.frexp(lib.tensor([1.0, 6.0, -0.1]), out=(mantissa, exponent))
        assert returned[0] is mantissa and returned[1] is exponent
        return tuple(returned)  # (PyTorch's type is return_types.frexp_out, nbgrad's frexp)
    compare(run, 'cpu')


def test_new_functions_are_exported():
    for name in ('tril_indices', 'triu_indices', 'block_diag', 'atleast_1d', 'atleast_2d',
                 'atleast_3d', 'combinations', 'vander', 'ldexp', 'frexp', *WINDOWS):
        assert callable(getattr(nbgrad, name)), name
    for name in ('ldexp', 'ldexp_', 'frexp'):
        assert hasattr(torch.Tensor, name) and hasattr(nbgrad.Tensor, name), name
    assert isinstance(nbgrad.frexp(nbgrad.ones(1)), nbgrad.return_types.frexp)


SECOND_ORDER = {
    'block_diag': lambda lib, x: lib.block_diag(x, x[:2] * 2),
    'combinations': lambda lib, x: lib.combinations(x, 3, True),
    'vander': lambda lib, x: (lib.vander(x, 5) if lib is nbgrad else
                              torch.linalg.vander(x, N=5).flip(-1)),
    'ldexp_float_exponent': lambda lib, x: lib.ldexp(x, x.flip(0)),
    'ldexp_int_exponent': lambda lib, x: lib.ldexp(x * x, lib.tensor([1, 0, 3, 2],
                                                                       device=x.device)),
    'frexp': lambda lib, x: lib.frexp(x * x).mantissa,
    'atleast_3d': lambda lib, x: lib.atleast_3d(x) * x.unsqueeze(-1),
}


@pytest.mark.parametrize('name', SECOND_ORDER)
def test_second_derivatives_match_torch(name, device):
    """Double backward (create_graph=True) of out**2 weighted, against PyTorch's."""
    def run(lib, dev):
        x = make(lib, np.array([1.5, -0.75, 2.25, 0.5]), dev, requires_grad=True)
        out = SECOND_ORDER[name](lib, x)
        w = lib.tensor(weights(tuple(out.shape)), device=dev)
        (g,) = lib.autograd.grad((out * out * w).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(weights(4, 2), device=dev)).sum(), x)
        return g, gg
    compare(run, device, rtol=1e-12)
