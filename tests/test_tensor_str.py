"""nbgrad._tensor_str against PyTorch's own repr, which serves as the oracle."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')

from nbgrad import _tensor_str as ts  # noqa: E402

rng = np.random.default_rng(0)
nan, inf = np.nan, np.inf


@pytest.fixture(autouse=True)
def _reset_print_state():
    yield
    torch.set_printoptions(profile='default')
    ts.set_printoptions(profile='default')
    torch.set_default_dtype(torch.float32)


def set_both(**opts):
    torch.set_printoptions(**opts)
    ts.set_printoptions(**opts)


def expected_repr(t):
    return repr(t).replace('torch.', 'nbgrad.')


def ours(a, **kwargs):
    return ts.format_tensor(
        a, dtype_name=a.dtype.name, device_str='cpu',
        default_dtype_name=str(torch.get_default_dtype()).removeprefix('torch.'), **kwargs)


def check(a, **opts):
    if opts:
        set_both(**opts)
    a = np.ascontiguousarray(a)
    t = torch.from_numpy(a)
    assert str(t.dtype) == 'torch.' + a.dtype.name  # the dtype names agree
    assert ours(a) == expected_repr(t)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def crandn(*shape, dtype=np.complex64):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


CASES = {
    # plain floats in fixed notation
    'randn_1d': randn(5),
    'randn_2d': randn(3, 4),
    'randn_3d': randn(2, 3, 4),
    'randn_4d': randn(2, 2, 3, 3),
    'randn_f64': randn(4, 3, dtype=np.float64),
    'randn_neg_scaled': -np.abs(randn(6)) * 37,
    'rounding_widens': np.array([9.99996, 0.5], np.float64),
    # scientific notation: ratio > 1000, max > 1e8, min < 1e-4
    'huge': randn(4) * 1e9,
    'tiny': randn(4) * 1e-6,
    'ratio_over_1000': np.array([1.0, 1000.5], np.float32),
    'ratio_exactly_1000': np.array([1.5, 1500.0], np.float32),
    'mixed_magnitudes_2d': np.array([[1e-3, 2.5], [3e4, -7.0]], np.float32),
    'extreme_f64': np.array([1e-300, 1e300], np.float64),
    # integral values in float tensors (int_mode)
    'arange_float': np.arange(10, dtype=np.float32),
    'int_mode_negatives': np.array([-3.0, 0.0, 5.0, 120.0], np.float32),
    'int_mode_sci': np.array([1.0, 2.0, 1e5], np.float32),
    'int_mode_big': np.array([1e10, 3.0], np.float64),
    'int_mode_2d': np.array([[1.0, -20.0], [300.0, 4.0]], np.float64),
    # nan/inf/zero mixes
    'nan_inf_int_mode': np.array([nan, 1.0, inf, -inf], np.float32),
    'nan_fixed': np.array([nan, 1.5, -2.25], np.float32),
    'nan_sci': np.array([nan, 1e-7, inf], np.float64),
    'all_nan': np.array([nan, nan], np.float32),
    'all_inf': np.array([inf, -inf], np.float32),
    'zeros': np.zeros((2, 3), np.float32),
    'neg_zero': np.array([0.0, -0.0], np.float32),
    'neg_zero_with_one': np.array([-0.0, 1.0, 2.0], np.float32),
    'neg_zero_fixed': np.array([-0.0, 1.5], np.float32),
    'zero_nan': np.array([0.0, nan], np.float64),
    # integer and bool tensors
    **{f'ints_{d.__name__}': np.array([np.iinfo(d).min, 0, 7, np.iinfo(d).max], d)
       for d in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)},
    'ints_2d': rng.integers(-1000, 1000, (4, 5)),
    'ints_3d_int32': rng.integers(-5, 50, (2, 3, 4)).astype(np.int32),
    'bools': np.array([True, False, True]),
    'bools_all_true': np.array([[True, True], [True, True]]),
    'bools_2d': rng.random((3, 4)) > 0.5,
    # 0-dim
    'scalar_float': np.array(3.5, np.float32),
    'scalar_int_mode': np.array(3.0, np.float32),
    'scalar_f64': np.array(-2.0e-9, np.float64),
    'scalar_nan': np.array(nan, np.float32),
    'scalar_int': np.array(7, np.int64),
    'scalar_int8': np.array(-7, np.int8),
    'scalar_bool': np.array(False),
    'scalar_f16': np.array(0.1, np.float16),
    'scalar_c64': np.array(1 - 2j, np.complex64),
    # empty, various shapes and dtypes
    'empty_1d': np.zeros((0,), np.float32),
    'empty_0x3': np.zeros((0, 3), np.float32),
    'empty_2x0x4': np.zeros((2, 0, 4), np.float32),
    'empty_f64': np.zeros((0, 3), np.float64),
    'empty_int64': np.zeros((0,), np.int64),
    'empty_int32': np.zeros((3, 0), np.int32),
    'empty_bool': np.zeros((0,), bool),
    'empty_c64': np.zeros((0,), np.complex64),
    # summarization (> 1000 elements)
    'arange_2000': np.arange(2000, dtype=np.int64),
    'randn_1001': randn(1001),
    'randn_50x50': randn(50, 50),
    'randn_10x10x20': randn(10, 10, 20),
    'randn_2x3x200': randn(2, 3, 200),
    'randn_5x5x5x10': randn(5, 5, 5, 10),
    'summary_hides_outliers': np.concatenate([np.ones(3), np.full(1000, 1e9), np.ones(3)]),
    'summary_bools': rng.random((40, 40)) > 0.5,
    # wide rows that wrap at linewidth
    'wide_row': randn(3, 30),
    'long_vector': randn(100),
    'long_vector_sci': randn(40) * 1e12,
    'wide_ints': rng.integers(-10**12, 10**12, (2, 25)),
    'wide_3d': randn(2, 2, 17, dtype=np.float64),
    # float16
    'f16_randn': randn(3, 4, dtype=np.float16),
    'f16_large': np.array([60000.0, 1.0, -3.0], np.float16),
    'f16_tiny': np.array([6e-5, 1e-7, 0.5], np.float16),
    'f16_int_mode': np.arange(-4, 4, dtype=np.float16),
    # complex
    'c64': crandn(5),
    'c128': crandn(3, 2, dtype=np.complex128),
    'c64_neg_imag': np.array([1 - 2j, -3 - 0.5j, 2 + 0j], np.complex64),
    'c64_int_mode': np.array([1 + 2j, 3 - 4j], np.complex64),
    'c128_sci_real_only': np.array([1e9 + 1j, 2 + 2.5j], np.complex128),
    'c64_nan_inf': np.array([complex(nan, 1), complex(1, nan), complex(inf, -inf)], np.complex64),
    'c64_neg_zero_imag': np.array([complex(1, -0.0), complex(2.5, 0.0)], np.complex64),
    'c64_summarized': crandn(2000),
    'c128_wide': crandn(4, 12, dtype=np.complex128),
}


@pytest.mark.parametrize('name', CASES)
def test_matches_torch(name):
    check(CASES[name])


OPTION_SETS = {
    'precision2': dict(precision=2),
    'precision8': dict(precision=8),
    'precision0': dict(precision=0),
    'sci_true': dict(sci_mode=True),
    'sci_false': dict(sci_mode=False),
    'threshold5': dict(threshold=5),
    'edgeitems1': dict(threshold=10, edgeitems=1),
    'edgeitems0': dict(threshold=10, edgeitems=0),
    'edgeitems0_unsummarized': dict(edgeitems=0),
    'linewidth40': dict(linewidth=40),
    'linewidth120': dict(linewidth=120),
    'linewidth1': dict(linewidth=1),
    'full': dict(profile='full'),
    'short': dict(profile='short'),
    'short_precision6': dict(profile='short', precision=6),
}
OPTION_ARRAYS = ['randn_2d', 'randn_3d', 'huge', 'tiny', 'arange_float', 'nan_inf_int_mode',
                 'zeros', 'ints_2d', 'bools', 'scalar_float', 'empty_0x3', 'arange_2000',
                 'randn_50x50', 'randn_10x10x20', 'wide_row', 'long_vector', 'f16_randn', 'c64',
                 'c64_summarized', 'randn_f64', 'all_nan']


@pytest.mark.parametrize('opts', OPTION_SETS)
@pytest.mark.parametrize('name', OPTION_ARRAYS)
def test_matches_torch_with_printoptions(opts, name):
    check(CASES[name], **OPTION_SETS[opts])


@pytest.mark.parametrize('name', ['randn_2d', 'randn_f64', 'c64', 'c128', 'empty_f64',
                                  'empty_1d', 'empty_int64', 'scalar_f16', 'ints_2d'])
def test_default_dtype_float64(name):
    torch.set_default_dtype(torch.float64)
    check(CASES[name])


@pytest.mark.parametrize('precision', [1, 2, 4, 6])
@pytest.mark.parametrize('n', range(1, 30))
def test_suffix_wrapping_sweep(n, precision):
    # Sweeps content lengths across the points where ', dtype=...' and ', requires_grad=True'
    # move to a line of their own; nbgrad must break where torch does despite 'nbgrad.' being
    # one character longer than 'torch.'.
    set_both(precision=precision)
    a = np.arange(n, dtype=np.float64) * 1.5
    check(a)
    check(np.arange(n, dtype=np.int32) * 1001)
    t = torch.from_numpy(a.copy()).requires_grad_()
    assert ours(a, requires_grad=True) == expected_repr(t)
    out = t * 2
    assert (ours(out.detach().numpy(), grad_fn_name='MulBackward0', requires_grad=True)
            == expected_repr(out))


@pytest.mark.parametrize('name', ['randn_1d', 'randn_3d', 'randn_f64', 'scalar_float',
                                  'wide_row', 'c64', 'f16_randn', 'randn_1001'])
def test_requires_grad(name):
    a = np.ascontiguousarray(CASES[name])
    t = torch.from_numpy(a.copy()).requires_grad_()
    assert ours(a, requires_grad=True) == expected_repr(t)


@pytest.mark.parametrize('name', ['randn_1d', 'randn_3d', 'randn_f64', 'wide_row', 'c128',
                                  'long_vector', 'randn_50x50'])
@pytest.mark.parametrize('op', ['mul', 'sum', 'exp'])
def test_grad_fn(name, op):
    t = torch.from_numpy(np.ascontiguousarray(CASES[name])).requires_grad_()
    out = {'mul': lambda x: x * 2, 'sum': lambda x: x.sum(), 'exp': torch.exp}[op](t)
    grad_fn_name = type(out.grad_fn).__name__
    a = out.detach().numpy()
    assert ours(a, requires_grad=True, grad_fn_name=grad_fn_name) == expected_repr(out)


@pytest.mark.parametrize('name', ['randn_2d', 'randn_f64', 'scalar_float', 'randn_50x50'])
def test_parameter(name):
    a = np.ascontiguousarray(CASES[name])
    p = torch.nn.Parameter(torch.from_numpy(a.copy()))
    got = ours(a, requires_grad=True, is_parameter=True)
    assert got.startswith('Parameter containing:\ntensor(')
    assert got == expected_repr(p)


@pytest.mark.parametrize('name', ['randn_2d', 'randn_f64', 'empty_0x3'])
def test_tensor_contents(name):
    a = np.ascontiguousarray(CASES[name])
    t = torch.from_numpy(a)
    got = ours(a, tensor_contents='<custom>')
    assert got == t.__repr__(tensor_contents='<custom>').replace('torch.', 'nbgrad.')


def test_device_suffix():
    # torch here is CPU-only, so the CUDA spelling is checked against PyTorch's known output.
    a = np.array([1.0, 2.0], np.float32)
    kw = dict(dtype_name='float32', default_dtype_name='float32')
    assert ts.format_tensor(a, device_str='cuda:0', **kw) == "tensor([1., 2.], device='cuda:0')"
    assert ts.format_tensor(a, device_str='cpu', **kw) == 'tensor([1., 2.])'
    b = a.astype(np.float64)
    assert (ts.format_tensor(b, device_str='cuda:1', dtype_name='float64',
                             default_dtype_name='float32', requires_grad=True)
            == "tensor([1., 2.], device='cuda:1', dtype=nbgrad.float64, requires_grad=True)")
    wide = np.arange(12, dtype=np.float32) + 0.5
    assert ts.format_tensor(wide, device_str='cuda:0', **kw) == (
        'tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n'
        '         8.5000,  9.5000, 10.5000, 11.5000], device=\'cuda:0\')')


def test_printoptions_api_matches_torch():
    calls = [dict(precision=2), dict(threshold=10, sci_mode=True), dict(edgeitems=1),
             dict(profile='short'), dict(profile='full', linewidth=100), dict(profile='default'),
             dict(profile='no-such-profile', precision=7)]
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in calls:
        set_both(**kwargs)
        assert ts.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_manager_restores():
    with ts.printoptions(precision=1, sci_mode=True):
        assert ts.PRINT_OPTS.precision == 1
        assert ts.PRINT_OPTS.sci_mode is True
    assert ts.get_printoptions() == {'precision': 4, 'threshold': 1000, 'edgeitems': 3,
                                     'linewidth': 80, 'sci_mode': None}


def test_random_arrays_fuzz():
    fuzz = np.random.default_rng(1)
    for _ in range(200):
        ndim = int(fuzz.integers(0, 4))
        shape = tuple(int(s) for s in fuzz.integers(0, 7, ndim))
        dtype = fuzz.choice([np.float16, np.float32, np.float64, np.int32, np.complex64])
        scale = 10.0 ** fuzz.integers(-8, 10)
        a = fuzz.standard_normal(shape) * scale
        if fuzz.random() < 0.3:
            a = np.round(a)
        if dtype == np.complex64:
            a = a + 1j * fuzz.standard_normal(shape)
        with np.errstate(over='ignore', invalid='ignore'):
            check(np.asarray(a).astype(dtype))
