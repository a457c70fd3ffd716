"""nbgrad.testing against PyTorch's torch.testing.

assert_close: each case runs with torch (on the CPU) and with nbgrad (on the `device` fixture's
device); both must pass, or raise the same kind of exception with the same message (library names
read as nbgrad's). make_tensor: its values are random, so ranges, dtypes, shapes and flags are
checked as properties, its errors against PyTorch's, and (on the CPU, where nbgrad's generator is
PyTorch's) its seeded values against PyTorch's.
"""
import collections
import math
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import exc_kind

torch = pytest.importorskip('torch')

_INTERNAL = 'resulted in the unexpected exception above.'


def _normalize(message):
    """A message with torch's names read as nbgrad's (nbgrad.Tensor's class lives in
    nbgrad._tensor). Of an internal error (an exception raised inside a comparison), the first
    line: the rest shows the inputs (tensors on the device nbgrad ran on) and the library's bug
    tracker."""
    message = message.replace("<class 'nbgrad._tensor.Tensor'>", "<class 'nbgrad.Tensor'>")
    message = message.replace('torch.Size', 'nbgrad.Size').replace('torch.', 'nbgrad.')
    return message.split('\n')[0] if _INTERNAL in message else message


def _outcome(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            call()
    except Exception as error:
        return exc_kind(error).__name__, _normalize(str(error))
    return None


def check(case, device='cpu'):
    """case(lib, device) with torch on the CPU and nbgrad on `device`: the same outcome.
    Returns it (None where both passed)."""
    theirs = _outcome(lambda: case(torch, 'cpu'))
    ours = _outcome(lambda: case(nbgrad, device))
    assert ours == theirs, f'\nnbgrad:  {ours}\nPyTorch: {theirs}'
    return theirs


def T(lib, dev, values, dtype=None, **kwargs):
    return lib.tensor(values, dtype=None if dtype is None else getattr(lib, dtype), device=dev,
                      **kwargs)


def close(*args, **kwargs):
    """A case calling assert_close(*args, **kwargs), where an argument that is a function of
    (lib, device) is made with that library on that device."""
    def case(lib, dev):
        made = [a(lib, dev) if callable(a) else a for a in args]
        lib.testing.assert_close(*made, **kwargs)
    return case


def tens(values, dtype=None, **kwargs):
    return lambda lib, dev: T(lib, dev, values, dtype, **kwargs)


nan, inf = float('nan'), float('inf')


# ---------------------------------------------------------------------------------------------
# assert_close: tensors
# ---------------------------------------------------------------------------------------------

TENSOR_CASES = {
    'equal': close(tens([1.0, 2.0, 3.0]), tens([1.0, 2.0, 3.0])),
    'within_default_float32': close(tens([1.0, 2.0]), tens([1.0 + 5e-6, 2.0])),
    'outside_default_float32': close(tens([1.0, 2.0, 3.0]), tens([1.0, 2.5, 3.0])),
    'outside_float64': close(tens([1.0, 2.0], 'float64'), tens([1.0, 2.0 + 1e-6], 'float64')),
    'within_float64': close(tens([1.0, 2.0], 'float64'), tens([1.0, 2.0 + 1e-7], 'float64')),
    'float16': close(tens([1.0, 100.0], 'float16'), tens([1.0, 100.1], 'float16')),
    'float16_within': close(tens([1.0, 1000.0], 'float16'), tens([1.0, 1000.5], 'float16')),
    'zero_dim': close(tens(1.0), tens(2.0)),
    'zero_dim_nan': close(tens(nan), tens(nan)),
    'zero_dim_int': close(tens(3), tens(5)),
    'zero_dim_complex': close(tens(1 + 2j), tens(1 + 3j)),
    'zero_dim_bool': close(tens(True), tens(False)),
    'nan': close(tens([nan, 2.0]), tens([nan, 2.0])),
    'nan_equal_nan': close(tens([nan, 2.0]), tens([nan, 2.0]), equal_nan=True),
    'nan_vs_number': close(tens([1.0, nan]), tens([1.0, 1.0]), equal_nan=True),
    'nan_first_of_several': close(tens([1.0, nan, 5.0, nan]), tens([2.0, 1.0, 1.0, 3.0])),
    'inf_equal': close(tens([inf, -inf, 1.0]), tens([inf, -inf, 1.0])),
    'inf_sign': close(tens([inf, 1.0]), tens([-inf, 1.0])),
    'inf_vs_large': close(tens([inf]), tens([3e38])),
    'inf_large_tolerance': close(tens([inf]), tens([1.0]), rtol=inf, atol=inf),
    'complex_nan_equal_nan': close(tens([complex(nan, 0), 1j]), tens([complex(nan, 0), 1j]),
                                   equal_nan=True),
    'complex': close(tens([1 + 1j, 2.0]), tens([1 + 1j, 3.0])),
    'complex_within': close(tens([1 + 1j], 'complex128'), tens([1 + 1j + 1e-9j], 'complex128')),
    'int_exact': close(tens([1, 2, 3]), tens([1, 5, 3])),
    'int_equal': close(tens([1, 2, 3]), tens([1, 2, 3])),
    'int_zero_expected': close(tens([1, 2, 3]), tens([1, 0, 3])),
    'int_tolerance': close(tens([10, 100, 1000]), tens([11, 110, 1000]), rtol=0.05, atol=1),
    'int_tolerance_pass': close(tens([10, 100, 1000]), tens([11, 104, 1000]), rtol=0.05, atol=1),
    # PyTorch's isclose subtracts integers in the default float dtype: no int8 wraparound
    'int8_no_wraparound': close(tens([100, -100], 'int8'), tens([-100, 100], 'int8'), rtol=0,
                                atol=100),
    'int8_message': close(tens([100, -128], 'int8'), tens([-100, 127], 'int8')),
    'uint8': close(tens([0, 255], 'uint8'), tens([255, 0], 'uint8')),
    'int64_overflow': close(tens([2 ** 62]), tens([-2 ** 62])),
    'bool': close(tens([True, False]), tens([True, True])),
    'bool_tolerance': close(tens([True, False]), tens([True, True]), rtol=0.5, atol=0.5),
    'ties_first_index': close(tens([1.0, 3.0, 3.0, 2.0]), tens([0.0, 0.0, 0.0, 0.0])),
    'two_dims_index': close(tens([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
                            tens([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])),
    'three_dims': close(tens(np.arange(24.0).reshape(2, 3, 4).tolist()),
                        tens((np.arange(24.0).reshape(2, 3, 4) * 1.01).tolist())),
    'empty': close(tens([]), tens([])),
    'requires_grad': close(tens([1.0, 2.0], requires_grad=True), tens([1.0, 2.0])),
    'requires_grad_mismatch': close(tens([1.0, 2.0], requires_grad=True), tens([1.0, 3.0])),
    'rtol_atol_given': close(tens([1.0, 2.0]), tens([1.1, 2.0]), rtol=0.0, atol=0.2),
    'rtol_atol_zero': close(tens([1.0, 2.0]), tens([1.0, 2.0000002]), rtol=0.0, atol=0.0),
    'rtol_only': close(tens([1.0]), tens([1.0]), rtol=1e-3),
    'atol_only': close(tens([1.0]), tens([1.0]), atol=1e-3),
    'negative_rtol': close(tens([1.0]), tens([1.0]), rtol=-1.0, atol=0.0),
    # attributes
    'shape': close(tens([1.0, 2.0]), tens([1.0, 2.0, 3.0])),
    'shape_2d': close(tens([[1.0, 2.0]]), tens([1.0, 2.0])),
    'shape_empty': close(tens([]), tens([1.0])),
    'dtype': close(tens([1.0], 'float32'), tens([1.0], 'float64')),
    'dtype_int': close(tens([1], 'int32'), tens([1], 'int64')),
    'dtype_checked_before_values': close(tens([1.0], 'float32'), tens([5.0], 'float64')),
    'shape_checked_first': close(tens([1.0], 'float32'), tens([5.0, 6.0], 'float64')),
    # check_dtype=False: both promoted, the loosest default tolerances
    'no_check_dtype_float': close(tens([1.0], 'float32'), tens([1.0 + 2e-6], 'float64'),
                                  check_dtype=False),
    'no_check_dtype_float_fail': close(tens([1.0], 'float32'), tens([1.1], 'float64'),
                                       check_dtype=False),
    'no_check_dtype_int_float': close(tens([1, 2]), tens([1.0, 2.5]), check_dtype=False),
    'no_check_dtype_int_float_pass': close(tens([1, 2]), tens([1.0, 2.0]), check_dtype=False),
    'no_check_dtype_bool_int': close(tens([True, False]), tens([1, 2]), check_dtype=False),
    'no_check_dtype_int8_uint8': close(tens([-1], 'int8'), tens([255], 'uint8'),
                                       check_dtype=False),
    'no_check_dtype_complex_float': close(tens([1 + 0j], 'complex64'), tens([1.5], 'float64'),
                                          check_dtype=False),
    'no_check_dtype_float16_float32': close(tens([1.0], 'float16'), tens([1.0004], 'float32'),
                                            check_dtype=False),
    # strides
    'stride_unchecked': close(lambda lib, dev: lib.zeros(2, 3, device=dev),
                              lambda lib, dev: lib.zeros(3, 2, device=dev).t()),
    'stride_checked': close(lambda lib, dev: lib.zeros(2, 3, device=dev),
                            lambda lib, dev: lib.zeros(3, 2, device=dev).t(), check_stride=True),
    'stride_checked_same': close(tens([[1.0, 2.0]]), tens([[1.0, 2.0]]), check_stride=True),
    'noncontiguous_values': close(lambda lib, dev: lib.arange(6.0, device=dev)[::2],
                                  tens([0.0, 2.0, 5.0])),
    # subclasses
    'parameter': close(lambda lib, dev: lib.nn.Parameter(T(lib, dev, [1.0])), tens([1.0])),
    'parameter_strict': close(lambda lib, dev: lib.nn.Parameter(T(lib, dev, [1.0])),
                              tens([1.0]), allow_subclasses=False),
    # msg
    'msg_string': close(tens([1.0, 2.0]), tens([1.0, 3.0]), msg='Argh, not close!'),
    'msg_callable': close(tens([1.0, 2.0, 3.0]), tens([1.0, 4.0, 5.0]),
                          msg=lambda m: f'Header\n\n{m}\n\nFooter'),
    'msg_on_attribute': close(tens([1.0]), tens([1.0, 2.0]), msg='custom'),
    'msg_not_on_passing': close(tens([1.0]), tens([1.0]), msg='custom'),
}


@pytest.mark.parametrize('name', TENSOR_CASES)
def test_assert_close_tensors(name, device):
    check(TENSOR_CASES[name], device)


def test_cases_cover_both_outcomes():
    outcomes = {name: check(case) for name, case in TENSOR_CASES.items()}
    assert outcomes['equal'] is None and outcomes['nan_equal_nan'] is None
    assert outcomes['outside_default_float32'] == ('AssertionError', (
        'Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n'
        'Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n'
        'Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)'))
    assert outcomes['shape'] == ('AssertionError', "The values for attribute 'shape' do not "
                                 'match: nbgrad.Size([2]) != nbgrad.Size([3]).')
    assert outcomes['rtol_only'] == ('ValueError', "Both 'rtol' and 'atol' must be either "
                                     'specified or omitted, but got no atol.')


# ---------------------------------------------------------------------------------------------
# assert_close: the boundary of the default tolerances, element by element
# ---------------------------------------------------------------------------------------------

_TOLERANCES = {'float16': (1e-3, 1e-5), 'float32': (1.3e-6, 1e-5), 'float64': (1e-7, 1e-7),
               'complex64': (1.3e-6, 1e-5), 'complex128': (1e-7, 1e-7)}


def _near_boundary(dtype, expected):
    """Values around expected + the default tolerance: a few multiples of it, and the
    representable neighbours of the boundary itself."""
    rtol, atol = _TOLERANCES[dtype]
    real = np.dtype(dtype.replace('complex64', 'float32').replace('complex128', 'float64'))
    tol = atol + rtol * abs(expected)
    boundary = real.type(expected + tol)
    values = [real.type(expected + k * tol) for k in (0.5, 0.99, 1.01, 2.0)]
    up = down = boundary
    for _ in range(4):
        values += [up, down]
        up = np.nextafter(up, real.type(inf))
        down = np.nextafter(down, real.type(-inf))
    values += [real.type(expected - (v - expected)) for v in list(values)]
    return sorted({float(v) for v in values})


@pytest.mark.parametrize('dtype', _TOLERANCES)
@pytest.mark.parametrize('expected', [0.0, 1.0, 1e-3, 1234.5, -3.0])
def test_assert_close_default_tolerance_boundary(dtype, expected, device):
    values = _near_boundary(dtype, expected)
    outcomes = []
    for v in values:  # one by one: each value is inside or outside as in PyTorch
        actual = complex(v, expected) if 'complex' in dtype else v
        wanted = complex(expected, expected) if 'complex' in dtype else expected
        outcomes.append(check(close(tens([actual], dtype), tens([wanted], dtype)), device))
    assert None in outcomes and any(o is not None for o in outcomes), 'not a boundary'
    # all at once: the mismatch count and the greatest differences are PyTorch's
    actual = [complex(v, expected) if 'complex' in dtype else v for v in values]
    wanted = [complex(expected, expected) if 'complex' in dtype else expected] * len(values)
    check(close(tens(actual, dtype), tens(wanted, dtype)), device)


@pytest.mark.parametrize('rtol,atol', [(0.1, 0.0), (0.0, 2.0), (0.25, 1.0), (1e-3, 0.0)])
@pytest.mark.parametrize('dtype', ['int8', 'uint8', 'int32', 'int64'])
def test_assert_close_integer_tolerances(dtype, rtol, atol, device):
    expected = [0, 1, 8, 10, 12, 40, 100, 120]
    for delta in (-3, -2, -1, 0, 1, 2, 3):
        actual = [min(max(e + delta, 0 if dtype == 'uint8' else -128), 127) for e in expected]
        check(close(tens(actual, dtype), tens(expected, dtype), rtol=rtol, atol=atol), device)


@pytest.fixture
def default_float64():
    for lib in (torch, nbgrad):
        lib.set_default_dtype(lib.float64)
    yield
    for lib in (torch, nbgrad):
        lib.set_default_dtype(lib.float32)


def test_assert_close_integer_error_in_default_float64(default_float64, device):
    # an integer tensor's allowed error is computed in the default float dtype
    check(close(tens([16777217, 3]), tens([16777216, 30]), rtol=1e-9, atol=0.5), device)
    check(close(tens([1, 2]), tens([1, 0])), device)


# ---------------------------------------------------------------------------------------------
# assert_close: numbers, NumPy, None, bools, sequences and mappings
# ---------------------------------------------------------------------------------------------

def _arr(values, dtype=None):
    return lambda lib, dev: np.array(values, dtype=dtype)


OTHER_CASES = {
    'float_equal': close(1.0, 1.0),
    'float_within': close(1.0, 1.0 + 5e-8),
    'float_outside': close(1.0, 1.1),
    'float_zero_expected': close(1e-3, 0.0),
    'float_nan': close(nan, nan),
    'float_nan_equal_nan': close(nan, nan, equal_nan=True),
    'float_inf': close(inf, inf),
    'float_inf_sign': close(inf, -inf),
    'int_equal': close(3, 3),
    'int_mismatch': close(3, 4),
    'int_float': close(1, 1.0),
    'int_float_unchecked': close(1, 1.0, check_dtype=False),
    'int_float_unchecked_mismatch': close(1, 1.5, check_dtype=False),
    'complex': close(1 + 2j, 1 + 2.5j),
    'complex_within': close(1 + 2j, 1 + 2j + 1e-9),
    'float_given_tolerance': close(1.0, 1.05, rtol=0.0, atol=0.1),
    'float_rtol_only': close(1.0, 1.0, rtol=0.1),
    'equal_tolerance_message': close(1e-9, 1e-10, rtol=0, atol=0),
    'numpy_scalars': close(np.float32(1.0), np.float32(1.0)),
    'numpy_scalar_mismatch': close(np.float64(1.0), np.float64(2.0)),
    'numpy_scalar_vs_float': close(np.float64(1.0), 1.0),
    'numpy_int_vs_float': close(np.int64(1), 1.0),
    'bool_equal': close(True, True),
    'bool_mismatch': close(True, False),
    'numpy_bool': close(np.bool_(True), False),
    'bool_int': close(True, 1),
    'none': close(None, None),
    'none_mismatch': close(None, 1),
    'none_tolerance_alone': close(None, None, rtol=1e-3),
    'string': close('a', 'a'),
    'set': close({1, 2}, {1, 2}),
    'numpy_equal': close(_arr([1.0, 2.0]), _arr([1.0, 2.0])),
    'numpy_mismatch': close(_arr([1.0, 2.0]), _arr([1.0, 2.5])),
    'numpy_float32': close(_arr([1.0, 2.0], np.float32), _arr([1.0, 2.00001], np.float32)),
    'numpy_dtype': close(_arr([1.0], np.float64), _arr([1.0], np.float32)),
    'numpy_shape': close(_arr([1.0]), _arr([[1.0]])),
    'numpy_int': close(_arr([1, 2], np.int32), _arr([1, 3], np.int32)),
    'numpy_zero_dim': close(_arr(1.0), _arr(1.5)),
    'numpy_vs_tensor': close(_arr([1.0]), tens([1.0], 'float64')),
    'tensor_vs_numpy': close(tens([1.0]), _arr([1.0])),
    'numpy_vs_list': close(_arr([0.0, 0.0]), [0.0, 0.0]),
    'tensor_vs_float': close(tens(1.0), 1.0),
    'list_equal': close([1.0, 2, 3j], [1.0, 2, 3j]),
    'list_vs_tuple': close([1.0, 2.0], (1.0, 2.0)),
    'list_length': close([1, 2], [1, 2, 3]),
    'list_item': close([1.0, 2.0], [1.0, 2.5]),
    'nested': close(lambda lib, dev: [T(lib, dev, [1.0]), (2.0, {'a': T(lib, dev, [3.0])})],
                    lambda lib, dev: [T(lib, dev, [1.0]), (2.0, {'a': T(lib, dev, [3.5])})]),
    'nested_equal': close(lambda lib, dev: [T(lib, dev, [1.0]), (2, {'a': np.array(3.0)})],
                          lambda lib, dev: (T(lib, dev, [1.0]), [2, {'a': np.array(3.0)}])),
    'nested_length': close([[1, 2], [3]], [[1, 2], [3, 4]]),
    'nested_shape': close(lambda lib, dev: {'w': [T(lib, dev, [1.0])]},
                          lambda lib, dev: {'w': [T(lib, dev, [1.0, 2.0])]}),
    'nested_msg': close([1.0, [2.0, 3.0]], [1.0, [2.0, 4.0]], msg=lambda m: f'<{m}>'),
    'nested_msg_string': close([1.0, [2.0, 3.0]], [1.0, [2.0, 4.0]], msg='custom'),
    'length_ignores_msg': close([1.0], [1.0, 2.0], msg='custom'),
    'dict_equal': close({'a': 1.0, 'b': 2}, collections.OrderedDict([('b', 2), ('a', 1.0)])),
    'dict_keys': close({'a': 1.0, 'b': 2.0}, {'a': 1.0, 'c': 2.0}),
    'dict_missing_key': close({'a': 1.0}, {'a': 1.0, 'b': 2.0, 'c': 3.0}),
    'dict_value': close({'b': 1.0, 'a': 1.0}, {'a': 2.0, 'b': 2.0}),
    'dict_mixed_keys': close({1: 1.0, 'x': 2.0}, {1: 1.0, 'x': 3.0}),
    'dict_vs_list': close({0: 1.0}, [1.0]),
    'first_failure_reported': close([1.0, 2.0, 3.0], [1.5, 2.5, 3.0]),
    'size': close(lambda lib, dev: lib.Size([2, 3]), lambda lib, dev: lib.Size([2, 4])),
    'size_vs_tuple': close(lambda lib, dev: lib.Size([2, 3]), (2, 3)),
    'size_vs_tuple_length': close(lambda lib, dev: lib.Size([2, 3]), (2, 3, 1)),
}


@pytest.mark.parametrize('name', OTHER_CASES)
def test_assert_close_other_inputs(name, device):
    check(OTHER_CASES[name], device)


def test_documented_examples():
    # the examples of PyTorch's docstring, with nbgrad
    expected = nbgrad.tensor([1e0, 1e-1, 1e-2])
    nbgrad.testing.assert_close(nbgrad.acos(nbgrad.cos(expected)), expected)
    nbgrad.testing.assert_close(2.0 / math.sqrt(2.0), math.sqrt(2.0))
    expected = np.array([1e0, 1e-1, 1e-2])
    nbgrad.testing.assert_close(np.arccos(np.cos(expected)), expected)
    expected = [nbgrad.tensor([1.0]), 2.0, np.array(3.0)]
    nbgrad.testing.assert_close(tuple(expected), expected)
    nbgrad.testing.assert_close(1.0, 1, check_dtype=False)
    with pytest.raises(AssertionError, match='^Argh, the tensors are not close!$'):
        nbgrad.testing.assert_close(nbgrad.tensor([1.0, 4.0, 5.0]), nbgrad.tensor([1.0, 2.0, 3.0]),
                                    msg='Argh, the tensors are not close!')


# ---------------------------------------------------------------------------------------------
# assert_close: devices (the CPU oracle has none: PyTorch's wording, written out)
# ---------------------------------------------------------------------------------------------

@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device on this machine')
def test_assert_close_devices():
    on_cpu, on_gpu = nbgrad.tensor([1.0, 2.0]), nbgrad.tensor([1.0, 2.0], device='cuda')
    with pytest.raises(AssertionError) as info:
        nbgrad.testing.assert_close(on_cpu, on_gpu)
    assert str(info.value) == "The values for attribute 'device' do not match: cpu != cuda:0."
    with pytest.raises(AssertionError) as info:
        nbgrad.testing.assert_close([on_gpu], [on_cpu], msg=lambda m: m.upper())
    assert str(info.value) == ("THE VALUES FOR ATTRIBUTE 'DEVICE' DO NOT MATCH: CUDA:0 != CPU.\n\n"
                               'THE FAILURE OCCURRED FOR ITEM [0]')
    nbgrad.testing.assert_close(on_cpu, on_gpu, check_device=False)
    nbgrad.testing.assert_close(on_gpu, on_gpu.clone())
    # across devices without the check, the values are compared (on the CPU)
    for gpu, cpu in ((on_gpu, nbgrad.tensor([1.0, 3.0])),
                     (on_gpu.double(), nbgrad.tensor([1.0, 2.5]))):
        with pytest.raises(AssertionError) as info:
            nbgrad.testing.assert_close(gpu, cpu, check_device=False, check_dtype=False)
        theirs = _outcome(lambda: torch.testing.assert_close(
            torch.tensor(gpu.cpu().numpy()), torch.tensor(cpu.numpy()), check_dtype=False))
        assert ('AssertionError', str(info.value)) == theirs
    # the device is checked before the dtype, after the shape
    with pytest.raises(AssertionError, match="'device'"):
        nbgrad.testing.assert_close(on_cpu.double(), on_gpu)
    with pytest.raises(AssertionError, match="'shape'"):
        nbgrad.testing.assert_close(on_cpu, on_gpu[:1])


def test_assert_allclose_is_deprecated():
    for lib in (torch, nbgrad):
        with pytest.warns(FutureWarning, match='assert_allclose'):
            lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.00001])
    check(lambda lib, dev: lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.1]))
    check(lambda lib, dev: lib.testing.assert_allclose([1, 2], [1, 3], msg='custom'))
    check(lambda lib, dev: lib.testing.assert_allclose(lib.tensor([nan]), lib.tensor([nan])))


# ---------------------------------------------------------------------------------------------
# make_tensor
# ---------------------------------------------------------------------------------------------

# dtype: the documented default [low, high)
_RANGES = {'bool': (0, 2), 'uint8': (0, 10), 'int8': (-9, 10), 'int16': (-9, 10),
           'int32': (-9, 10), 'int64': (-9, 10), 'float16': (-9, 9), 'float32': (-9, 9),
           'float64': (-9, 9), 'complex64': (-9, 9), 'complex128': (-9, 9)}


def _values(t):
    """The values as float64 (complex: real and imaginary parts), on the host."""
    a = t.detach().cpu().numpy()
    if a.dtype.kind == 'c':
        return np.concatenate([a.real.ravel(), a.imag.ravel()]).astype(np.float64)
    return a.ravel().astype(np.float64)


def make(*shape, dtype, device='cpu', **kwargs):
    return nbgrad.testing.make_tensor(*shape, dtype=getattr(nbgrad, dtype), device=device,
                                      **kwargs)


@pytest.mark.parametrize('dtype', _RANGES)
def test_make_tensor_default_ranges(dtype, device):
    t = make(40, 50, dtype=dtype, device=device)
    assert t.dtype is getattr(nbgrad, dtype) and t.shape == (40, 50)
    assert t.device.type == device and t.is_contiguous() and not t.requires_grad
    low, high = _RANGES[dtype]
    v = _values(t)
    assert v.min() >= low and v.max() < high
    if dtype in ('bool', 'uint8', 'int8', 'int16', 'int32', 'int64'):
        assert set(np.unique(v)) == set(range(low, high))  # every value of the range turns up
    else:
        assert v.min() < low + 1 and v.max() > high - 1 and len(np.unique(v)) > 1000


@pytest.mark.parametrize('dtype,low,high,lowest,highest', [
    ('float32', -1, 1, -1, 1), ('float64', 2.5, 2.75, 2.5, 2.75), ('complex64', 0, 1, 0, 1),
    ('float16', -0.5, 0.5, -0.5, 0.5), ('int32', -3, 3, -3, 2), ('int64', 5, 7, 5, 6),
    ('int8', -1000, -126, -128, -127), ('uint8', 250, 1000, 250, 255), ('int16', -2.5, 1.5, -2, 1),
    ('bool', 1, 2, 1, 1), ('bool', -5, 1, 0, 0), ('int32', 0, None, 0, 9),
    ('float32', None, -8.5, -9, -8.5), ('float16', -1e6, 1e6, -65504, 65504)])
def test_make_tensor_low_high(dtype, low, high, lowest, highest, device):
    v = _values(make(2000, dtype=dtype, device=device, low=low, high=high))
    if dtype in ('float32', 'float64', 'complex64', 'float16'):
        assert lowest <= v.min() and v.max() < highest
    else:  # integers: ceil(low) .. ceil(high) - 1, each value drawn
        assert set(np.unique(v)) == set(range(lowest, highest + 1))


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'complex64'])
def test_make_tensor_whole_range(dtype, device):
    # the dtype's whole finite range: drawn as half of it, doubled (PyTorch's way)
    v = _values(make(1000, dtype=dtype, device=device, low=-inf, high=inf))
    assert np.isfinite(v).all() and v.min() < 0 < v.max()


def test_make_tensor_whole_range_float64():
    """PyTorch halves a range wider than finfo.max and doubles the draws: the sampler's fma
    meets operands near float64's maximum (it overflowed to NaN once)."""
    nbgrad.manual_seed(3)
    torch.manual_seed(3)
    v = _values(make(100, dtype='float64', low=-inf, high=inf))
    expected = torch.testing.make_tensor(100, dtype=torch.float64, device='cpu', low=-inf,
                                         high=inf).numpy()
    assert np.isfinite(v).all()
    np.testing.assert_array_equal(v, expected)


@pytest.mark.parametrize('shape,size', [
    ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), (([2, 3],), (2, 3)), (((4, 1, 2),), (4, 1, 2)),
    ((0,), (0,)), ((2, 0, 3), (2, 0, 3))])
def test_make_tensor_shapes(shape, size, device):
    for dtype in ('float32', 'int64', 'complex128', 'bool'):
        t = make(*shape, dtype=dtype, device=device)
        assert tuple(t.shape) == size and isinstance(t.shape, nbgrad.Size)
    assert make(nbgrad.Size([2, 5]), dtype='float32').shape == (2, 5)


@pytest.mark.parametrize('dtype', ['float32', 'int16', 'complex64', 'bool'])
@pytest.mark.parametrize('shape', [(5,), (2, 3), (4, 1), (1, 1, 3), (1,), ()])
def test_make_tensor_noncontiguous(shape, dtype, device):
    t = make(*shape, dtype=dtype, device=device, noncontiguous=True)
    assert tuple(t.shape) == shape and t.dtype is getattr(nbgrad, dtype)
    # ignored for fewer than two elements, as in PyTorch
    assert t.is_contiguous() == (math.prod(shape) < 2)
    theirs = torch.testing.make_tensor(*shape, dtype=getattr(torch, dtype), device='cpu',
                                       noncontiguous=True)
    assert t.stride() == theirs.stride() and t.is_contiguous() == theirs.is_contiguous()
    low, high = _RANGES[dtype]
    v = _values(t)
    assert v.size == 0 or (v.min() >= low and v.max() < high)


def test_make_tensor_memory_format():
    t = make(2, 3, 4, 5, dtype='float32', memory_format=nbgrad.channels_last)
    assert t.shape == (2, 3, 4, 5) and t.is_contiguous(memory_format=nbgrad.channels_last)
    v = _values(t)
    assert v.min() >= -9 and v.max() < 9


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_make_tensor_requires_grad(dtype, device):
    t = make(3, 2, dtype=dtype, device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    t = make(3, 2, dtype=dtype, device=device, requires_grad=True, noncontiguous=True)
    assert t.requires_grad and t.is_leaf and not t.is_contiguous()
    assert not make(3, dtype=dtype, device=device).requires_grad


@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
def test_make_tensor_requires_grad_complex(dtype, device):
    assert not make(3, dtype=dtype, device=device).requires_grad
    t = make(3, 2, dtype=dtype, device=device, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None


@pytest.mark.parametrize('dtype,low,high,replacement', [
    ('int32', 0, 2, 1), ('uint8', 0, 1, 1), ('int64', -1, 1, 1), ('bool', 0, 1, True),
    ('float16', 0, 1e-8, np.finfo(np.float16).tiny)])
def test_make_tensor_exclude_zero(dtype, low, high, replacement, device):
    t = make(500, dtype=dtype, device=device, low=low, high=high, exclude_zero=True)
    a = t.cpu().numpy()
    assert (a != 0).all() and t.dtype is getattr(nbgrad, dtype)
    if dtype != 'int64':  # the int64 draw also has -1
        assert (a == replacement).all()


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'complex64', 'int8', 'bool'])
def test_make_tensor_exclude_zero_keeps_values(dtype, device):
    t = make(1000, dtype=dtype, device=device, exclude_zero=True)
    v = t.cpu().numpy()
    assert (v != 0).all()
    low, high = _RANGES[dtype]
    assert _values(t).min() >= low and _values(t).max() < high


def _make_both(shape, seed=0, **kwargs):
    """make_tensor(*shape, **kwargs) with torch and with nbgrad after the same CPU seed."""
    out = []
    for lib in (torch, nbgrad):
        lib.manual_seed(seed)
        args = {k: getattr(lib, v) if k in ('dtype', 'memory_format') else v
                for k, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out.append(lib.testing.make_tensor(*shape, device='cpu', **args))
    return out


@pytest.mark.parametrize('shape,kwargs', [
    ((3, 4), dict(dtype='float32')), ((5,), dict(dtype='complex64')),
    ((2, 3), dict(dtype='int8', noncontiguous=True)), ((7,), dict(dtype='bool')),
    ((6,), dict(dtype='float16', low=-1e6, high=1e9)), ((4,), dict(dtype='uint8')),
    ((4,), dict(dtype='int64', low=-2 ** 70, high=2 ** 70)), ((9,), dict(dtype='int32')),
    ((3,), dict(dtype='complex128', low=2, high=3)), ((2, 2), dict(dtype='float64')),
    ((3, 2), dict(dtype='float32', noncontiguous=True, exclude_zero=True)),
    ((3,), dict(dtype='float32', low=1, high=1)), ((4,), dict(dtype='int16', low=-2.5, high=3.5)),
    ((5,), dict(dtype='float32', low=-inf, high=inf))])
def test_make_tensor_seeded_values_are_pytorchs(shape, kwargs):
    # not promised by PyTorch's documentation: nbgrad's CPU generator is PyTorch's, and
    # make_tensor draws as PyTorch's does
    theirs, ours = _make_both(shape, **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.stride() == theirs.stride()


def test_make_tensor_low_equal_high_warns():
    for lib in (torch, nbgrad):
        with pytest.warns(FutureWarning, match='low==high'):
            t = lib.testing.make_tensor(3, dtype=lib.float32, device='cpu', low=2, high=2)
        assert (t == 2).all()


def _make_case(*shape, **kwargs):
    def case(lib, dev):
        args = {k: getattr(lib, v) if k in ('dtype', 'memory_format') else v
                for k, v in kwargs.items()}
        lib.testing.make_tensor(*shape, device=dev, **args)
    return case


MAKE_ERRORS = {
    'requires_grad_int': _make_case(3, dtype='int64', requires_grad=True),
    'requires_grad_bool': _make_case(3, dtype='bool', requires_grad=True),
    'low_above_high': _make_case(3, dtype='float32', low=2, high=1),
    'low_equals_high_int': _make_case(3, dtype='int32', low=2, high=2),
    'low_above_high_default_high': _make_case(3, dtype='int8', low=20),
    'low_nan': _make_case(3, dtype='int8', low=nan),
    'high_nan': _make_case(3, dtype='float32', high=nan),
    'interval_below_uint8': _make_case(3, dtype='uint8', low=-5, high=-1),
    'interval_above_float16': _make_case(3, dtype='float16', low=1e6, high=1e7),
    'interval_above_int8': _make_case(3, dtype='int8', low=200, high=300),
    'interval_bool': _make_case(3, dtype='bool', low=2, high=3),
    'noncontiguous_and_memory_format': _make_case(2, 3, 4, 5, dtype='float32',
                                                  noncontiguous=True,
                                                  memory_format='channels_last'),
}


@pytest.mark.parametrize('name', MAKE_ERRORS)
def test_make_tensor_errors(name, device):
    assert check(MAKE_ERRORS[name], device) is not None


def test_make_tensor_unsupported_dtype():
    for dtype in (float, 'float32', np.float32):
        theirs = _outcome(lambda: torch.testing.make_tensor(3, dtype=dtype, device='cpu'))
        ours = _outcome(lambda: nbgrad.testing.make_tensor(3, dtype=dtype, device='cpu'))
        # the same sentence; PyTorch's goes on to its issue tracker
        assert ours[0] == theirs[0] == 'TypeError' and theirs[1].startswith(ours[1])


def test_make_tensor_draws_bfloat16_as_torch():
    pytest.importorskip('ml_dtypes')
    torch.manual_seed(0)
    theirs = torch.testing.make_tensor(40, dtype=torch.bfloat16, device='cpu')
    nbgrad.manual_seed(0)
    ours = nbgrad.testing.make_tensor(40, dtype=nbgrad.bfloat16, device='cpu')
    assert ours.dtype == nbgrad.bfloat16
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


def test_namespace():
    assert nbgrad.testing.assert_close.__module__ == 'nbgrad.testing._comparison'
    assert {'assert_close', 'make_tensor'} <= set(dir(nbgrad.testing))
    assert set(nbgrad.testing.__all__) <= set(dir(torch.testing))


def _sparse_cases(lib):
    s = lib.sparse_coo_tensor([[0, 1], [1, 0]], [2., 3.], (2, 2))
    t = lib.sparse_coo_tensor([[0, 1], [1, 0]], [2., 3.5], (2, 2))
    return {
        'same': (s, s, {}),
        'values': (s, t, {}),
        'nnz': (s, lib.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], [2., 3., 1.], (2, 2)), {}),
        'indices': (s, lib.sparse_coo_tensor([[0, 1], [0, 0]], [2., 3.], (2, 2)), {}),
        'csr_same': (s.to_sparse_csr(), s.to_sparse_csr(), {}),
        'csr_values': (s.to_sparse_csr(), t.to_sparse_csr(), {}),
        'csc_values': (s.to_sparse_csc(), t.to_sparse_csc(), {}),
        'dense_without_layout_check': (t, s.to_dense(), {'check_layout': False}),
    }


@pytest.mark.parametrize('case', sorted(_sparse_cases(nbgrad)))
def test_assert_close_on_sparse_tensors(case):
    """Sparse tensors compare as PyTorch's: the indices exactly, the values within tolerance,
    with its messages."""
    outcomes = []
    for lib in (torch, nbgrad):
        actual, expected, options = _sparse_cases(lib)[case]
        try:
            lib.testing.assert_close(actual, expected, **options)
            outcomes.append('ok')
        except AssertionError as e:
            outcomes.append(str(e))
    assert outcomes[0] == outcomes[1]
