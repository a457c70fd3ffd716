"""Tensor creation (tensor, as_tensor, asarray, from_numpy, zeros/ones/empty/full and *_like,
arange, linspace, logspace, eye) against PyTorch: every case runs the same code with torch and
with nbgrad and compares dtype, shape and values, or the class of the exception raised."""
import sys
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, both as _both, dname, each_lib

torch = pytest.importorskip('torch')


def both(fn, bitwise=False, atol=None):
    """fn(torch) and fn(nbgrad) give the same tensor - equal values, bit for bit with bitwise,
    within atol with atol - or raise the same kind of exception."""
    _both(fn, lambda got, expected: assert_same(got, expected, rtol=0, atol=atol or 0,
                                                bitwise=bitwise))


@pytest.fixture(autouse=True)
def _default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    nbgrad.set_default_dtype(nbgrad.float32)


# -- tensor() ----------------------------------------------------------------------------------

DATA = {
    'int': 3, 'float': 2.5, 'bool': True, 'complex': 1 + 2j, 'neg_zero': -0.0,
    'int_list': [1, 2, 3], 'float_list': [1.0, 2.5], 'bool_list': [True, False],
    'int_float': [1, 2.5], 'bool_int': [True, 2], 'int_float_bool': [1, 2.5, True],
    'int_complex': [1, 2j], 'nested': [[1, 2], [3, 4]], 'nested3': [[[1.5]], [[2.5]]],
    'tuple': ((1, 2), (3, 4)), 'empty': [], 'empty_nested': [[]],
    'big_int': [2 ** 40, -2 ** 40], 'np_f64_scalar': np.float64(1.5),
    'np_i32_scalar': np.int32(7), 'np_bool_scalar': np.bool_(True),
    'np_f16_scalar': np.float16(0.5), 'list_of_np_f64': [np.float64(1.5), 2],
    'list_of_np_i32': [np.int32(1), 2], 'list_of_np_f32': [np.float32(1.5), 2.0],
    'inf_nan': [float('inf'), float('nan'), -float('inf')],
}


@pytest.mark.parametrize('key', DATA)
def test_tensor_from_python_and_numpy_scalars(key):
    both(lambda lib: lib.tensor(DATA[key]))


NP_DTYPES = ['float16', 'float32', 'float64', 'complex64', 'complex128', 'uint8', 'int8',
             'int16', 'int32', 'int64', 'bool']


@pytest.mark.parametrize('np_dtype', NP_DTYPES)
def test_tensor_keeps_numpy_array_dtype_and_copies(np_dtype):
    a = (np.arange(6).reshape(2, 3) % 3).astype(np_dtype)
    both(lambda lib: lib.tensor(a))
    t = nbgrad.tensor(a)
    a.flat[0] = 1
    assert t[0, 0].item() == 0, 'tensor() must copy its NumPy input'


CAST_TO = ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool', 'complex64']


@pytest.mark.parametrize('np_dtype', NP_DTYPES)
@pytest.mark.parametrize('dtype', CAST_TO)
def test_tensor_dtype_argument_casts_arrays(np_dtype, dtype):
    a = np.array([[0, 1, 2], [3, 4, 5]]).astype(np_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # complex -> real discards the imaginary part in both
        both(lambda lib: lib.tensor(a, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('np_dtype', [d for d in NP_DTYPES if not d.startswith('complex')])
@pytest.mark.parametrize('dtype', CAST_TO)
def test_tensor_dtype_argument_casts_lists(np_dtype, dtype):
    data = np.array([[0, 1, 2], [3, 4, 5]]).astype(np_dtype).tolist()
    both(lambda lib: lib.tensor(data, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('dtype', ['float32', 'int64'])
def test_tensor_complex_list_to_real_dtype_is_type_error(dtype):
    both(lambda lib: lib.tensor([1 + 2j, 3.0], dtype=getattr(lib, dtype)))


def test_tensor_of_non_contiguous_and_zero_dim_arrays():
    a = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)[::2]
    both(lambda lib: lib.tensor(a))
    both(lambda lib: lib.tensor(np.array(3, dtype=np.int16)))


def test_tensor_of_tensors_in_lists():
    both(lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.5)]))
    both(lambda lib: lib.tensor([lib.tensor(1.5, dtype=lib.float64), 2.0]))
    both(lambda lib: lib.tensor([lib.tensor(1, dtype=lib.int32), 2]))


def test_tensor_of_multi_element_tensors_in_list_is_value_error():
    both(lambda lib: lib.tensor([lib.ones(2), lib.ones(2)]))


@each_lib
def test_tensor_from_tensor_warns_and_copies(lib):
    src = lib.arange(3.0)
    with pytest.warns(UserWarning, match='clone'):
        out = lib.tensor(src)
    out[0] = 10.0
    assert src[0].item() == 0.0
    assert out.dtype == src.dtype and out.requires_grad is False


BAD_DATA = {
    'ragged': [[1, 2], [3]], 'number_then_list': [1, [2]], 'list_then_number': [[1], 2],
    'string': 'abc', 'list_of_strings': ['a', 'b'], 'none': None, 'dict': {1: 2},
    'np_strings': np.array(['a']), 'np_object': np.array([1, 2], dtype=object),
}


@pytest.mark.parametrize('key', BAD_DATA)
def test_tensor_rejects_bad_data_like_torch(key):
    both(lambda lib: lib.tensor(BAD_DATA[key]))


def test_ragged_is_value_error_and_string_is_type_error():
    with pytest.raises(ValueError):
        nbgrad.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        nbgrad.tensor('abc')


@each_lib
def test_tensor_requires_grad_kwarg(lib):
    t = lib.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    with pytest.raises(RuntimeError):
        lib.tensor([1, 2], requires_grad=True)


@each_lib
@pytest.mark.parametrize('device', ['cpu', 'device'])
def test_device_kwarg_accepts_string_and_device(lib, device):
    dev = 'cpu' if device == 'cpu' else lib.device('cpu')
    for t in (lib.tensor([1.0], device=dev), lib.zeros(2, device=dev),
              lib.arange(3, device=dev), lib.eye(2, device=dev), lib.full((1,), 2, device=dev)):
        assert t.device == lib.device('cpu') and t.device.type == 'cpu'


# -- as_tensor / asarray / from_numpy ----------------------------------------------------------

SHARING = [
    ('as_tensor', lambda lib, a: lib.as_tensor(a), True),
    ('as_tensor_same_dtype', lambda lib, a: lib.as_tensor(a, dtype=lib.float64), True),
    ('as_tensor_other_dtype', lambda lib, a: lib.as_tensor(a, dtype=lib.float32), False),
    ('asarray', lambda lib, a: lib.asarray(a), True),
    ('asarray_copy', lambda lib, a: lib.asarray(a, copy=True), False),
    ('asarray_other_dtype', lambda lib, a: lib.asarray(a, dtype=lib.float32), False),
    ('from_numpy', lambda lib, a: lib.from_numpy(a), True),
    ('tensor', lambda lib, a: lib.tensor(a), False),
]


@each_lib
@pytest.mark.parametrize('name,make,shares', SHARING, ids=[s[0] for s in SHARING])
def test_memory_sharing_with_numpy(lib, name, make, shares):
    a = np.arange(4.0)
    t = make(lib, a)
    assert dname(t.dtype) == ('float32' if 'other_dtype' in name else 'float64')
    a[1] = 100.0
    assert (t[1].item() == 100.0) is shares
    if shares:
        t[2] = -5.0
        assert a[2] == -5.0


@pytest.mark.parametrize('make', [lambda lib: lib.as_tensor([1, 2.5]),
                                  lambda lib: lib.asarray([[1, 2], [3, 4]]),
                                  lambda lib: lib.as_tensor(np.float32(2.5)),
                                  lambda lib: lib.asarray([True, False], dtype=lib.float64),
                                  lambda lib: lib.as_tensor(np.arange(3), dtype=lib.int32)])
def test_as_tensor_and_asarray_values(make):
    both(make)


@each_lib
def test_as_tensor_of_tensor_is_identity(lib):
    x = lib.ones(2)
    assert lib.as_tensor(x) is x
    assert lib.asarray(x) is x
    assert lib.asarray(x, copy=True) is not x
    assert lib.as_tensor(x, dtype=lib.float64).dtype == lib.float64


@each_lib
def test_asarray_copy_of_tensor_does_not_warn(lib):
    x = lib.arange(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        y = lib.asarray(x, copy=True)
    y[0] = 5.0
    assert x[0].item() == 0.0


@pytest.mark.parametrize('np_dtype', NP_DTYPES)
def test_from_numpy_keeps_dtype(np_dtype):
    a = np.arange(6).reshape(3, 2).astype(np_dtype)
    both(lambda lib: lib.from_numpy(a))
    both(lambda lib: lib.from_numpy(a.T))  # positive, non-C-contiguous strides are fine


@pytest.mark.parametrize('bad', [np.arange(5)[::-1], np.arange(12).reshape(3, 4)[:, ::-2],
                                 np.array(['x']), np.array([None]), [1, 2]],
                         ids=['reversed', 'reversed_2d', 'str', 'object', 'list'])
def test_from_numpy_rejects_like_torch(bad):
    both(lambda lib: lib.from_numpy(bad))


def test_from_numpy_negative_strides_value_error():
    with pytest.raises(ValueError, match='negative'):
        nbgrad.from_numpy(np.arange(5)[::-1])


@each_lib
def test_from_numpy_view_of_array_shares_memory(lib):
    base = np.zeros((4, 5))
    t = lib.from_numpy(base[1:3, ::2])
    t.fill_(7.0)
    np.testing.assert_array_equal(base[1:3, ::2], 7.0)
    assert base[0].sum() == 0 and base[1:3, 1::2].sum() == 0


def test_from_numpy_read_only_array_warns_and_writes_through():
    """Like PyTorch: a warning, then in-place ops write into the (NumPy-owned) memory."""
    def run(lib):
        a = np.arange(3.0)
        a.flags.writeable = False
        with pytest.warns(UserWarning, match='not writable'):
            t = lib.from_numpy(a)
        t.add_(1)
        return a.tolist(), t._version
    both(run)


def test_from_numpy_of_immutable_bytes_refuses_writes_clearly():
    """Memory NumPy cannot unlock (a bytes object) gets a clear error and keeps its data.
    PyTorch writes into the bytes object; nbgrad refuses (README)."""
    a = np.frombuffer(bytes(8 * 3), dtype=np.float64)
    with pytest.warns(UserWarning):
        t = nbgrad.from_numpy(a)
    with pytest.raises(RuntimeError, match='read-only.*clone'):
        t.add_(1)
    assert (a == 0).all() and t._version == 0
    assert (t.clone().add_(1) == 1).all()


# -- zeros / ones / empty / full and *_like ----------------------------------------------------

SIZES = [(), (0,), (3,), (2, 3), (1, 0, 2)]


@pytest.mark.parametrize('size', SIZES)
@pytest.mark.parametrize('fn', ['zeros', 'ones'])
@pytest.mark.parametrize('dtype', [None, 'float64', 'int32', 'bool', 'complex64', 'uint8'])
def test_zeros_ones(fn, size, dtype):
    kw = lambda lib: {} if dtype is None else {'dtype': getattr(lib, dtype)}  # noqa: E731
    both(lambda lib: getattr(lib, fn)(size, **kw(lib)))
    if size:  # fn() with no size at all is a TypeError in torch (see below)
        both(lambda lib: getattr(lib, fn)(*size, **kw(lib)))
    both(lambda lib: getattr(lib, fn)(list(size), **kw(lib)))
    both(lambda lib: getattr(lib, fn)(lib.Size(size), **kw(lib)))


@pytest.mark.parametrize('fn', ['zeros', 'ones', 'empty'])
def test_factory_without_size_is_type_error(fn):
    both(lambda lib: getattr(lib, fn)())


@pytest.mark.parametrize('fn', ['zeros', 'ones', 'empty'])
def test_negative_size_is_runtime_error(fn):
    both(lambda lib: getattr(lib, fn)(2, -1))


PYTYPE_MAKERS = {
    'zeros': lambda lib, dt: lib.zeros(2, dtype=dt),
    'tensor': lambda lib, dt: lib.tensor([1, 0], dtype=dt),
    'arange': lambda lib, dt: lib.arange(3, dtype=dt if dt is not bool else int),
    'to': lambda lib, dt: lib.ones(2).to(dt),
}


@pytest.mark.parametrize('make,pytype', [
    pytest.param(make, t, id=f'{make}-{t.__name__}')
    for t in (float, int, bool, complex) for make in PYTYPE_MAKERS])
def test_python_types_as_dtype(make, pytype):
    both(lambda lib: PYTYPE_MAKERS[make](lib, pytype))


def test_arange_bool_dtype_is_refused():
    both(lambda lib: lib.arange(3, dtype=lib.bool))


@each_lib
@pytest.mark.parametrize('dtype', [None, 'float64', 'int16'])
def test_empty_shape_and_dtype(lib, dtype):
    kw = {} if dtype is None else {'dtype': getattr(lib, dtype)}
    t = lib.empty(2, 3, **kw)
    assert tuple(t.shape) == (2, 3)
    assert dname(t.dtype) == (dtype or 'float32')


FILL_VALUES = [3, -2, 2.5, True, False, 1 + 1j, np.float64(1.5), np.int32(3), 2 ** 40]


@pytest.mark.parametrize('value', FILL_VALUES, ids=repr)
def test_full_infers_dtype_from_fill_value(value):
    both(lambda lib: lib.full((2, 2), value))


@pytest.mark.parametrize('value', [3, 2.5, True])
def test_full_with_default_dtype_float64(value):
    def make(lib):
        lib.set_default_dtype(lib.float64)
        return lib.full((3,), value)
    both(make)


@pytest.mark.parametrize('value,dtype', [
    (2.7, 'int64'), (3, 'float16'), (1, 'bool'), (0.5, 'complex128'), (300, 'int16'),
    (-1, 'uint8'),
])
def test_full_with_explicit_dtype(value, dtype):
    both(lambda lib: lib.full((2,), value, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('fn,args', [('zeros_like', ()), ('ones_like', ()), ('full_like', (7,)),
                                     ('full_like', (2.9,)), ('full_like', (True,))])
@pytest.mark.parametrize('src_dtype', ['float64', 'int32', 'bool', 'float16'])
@pytest.mark.parametrize('dtype', [None, 'float32', 'int64'])
def test_like_functions(fn, args, src_dtype, dtype):
    def make(lib):
        src = lib.zeros(2, 3, dtype=getattr(lib, src_dtype)).t()
        kw = {} if dtype is None else {'dtype': getattr(lib, dtype)}
        return getattr(lib, fn)(src, *args, **kw)
    both(make)


@each_lib
def test_empty_like_keeps_shape_dtype_and_takes_requires_grad(lib):
    src = lib.ones(4, 1, dtype=lib.float64)
    out = lib.empty_like(src, requires_grad=True)
    assert tuple(out.shape) == (4, 1) and out.dtype == lib.float64
    assert out.requires_grad and out.is_leaf


@each_lib
@pytest.mark.parametrize('fn', ['zeros', 'ones', 'empty', 'rand', 'randn'])
def test_factory_requires_grad(lib, fn):
    t = getattr(lib, fn)(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    with pytest.raises(RuntimeError):
        lib.zeros(2, dtype=lib.int64, requires_grad=True)


# -- arange / linspace / logspace / eye --------------------------------------------------------

ARANGE_INT = [(5,), (0,), (1, 10, 3), (10, 0, -3), (-5, 5, 2), (0, 2 ** 31 + 2, 2 ** 30),
              (10, 10), (-7, -20, -4)]
ARANGE_FLOAT = [(0, 1, 0.1), (1.0, 2.5, 0.5), (0, 10, 3.0), (-1, 1, 0.25), (0.5,), (2.5,),
                (1, -1, -0.3), (0.1, 0.9, 0.2), (-3.3, 4.4, 0.7), (1e-3, 1e-2, 1e-3),
                (0, 100, 0.37)]


def ulp_atol(args, dtype):
    return 4 * np.finfo(dtype).eps * max(abs(float(a)) for a in args)


@pytest.mark.parametrize('args', ARANGE_INT + ARANGE_FLOAT, ids=str)
@pytest.mark.parametrize('dtype', [None, 'float32', 'float64'])
def test_arange_infers_dtype_and_values(args, dtype):
    """int arguments give int64, any float gives the default dtype; values within a few ulp
    (torch's kernel is SIMD-vectorised, so the last bit of long ranges depends on the CPU)."""
    kw = lambda lib: {} if dtype is None else {'dtype': getattr(lib, dtype)}  # noqa: E731
    both(lambda lib: lib.arange(*args, **kw(lib)),
         atol=ulp_atol(args, dtype or 'float32') if dtype or args in ARANGE_FLOAT else None)


SHORT_ARANGE = [(1, -1, -0.3), (1.0, 2.5, 0.5), (0.1, 0.9, 0.2), (0, 10, 3.0), (0, 1, 0.25),
                (-2.2, 0, 0.3)]


@pytest.mark.parametrize('dtype,args', [(dt, case) for dt in ('float32', 'float64')
                                        for case in SHORT_ARANGE], ids=str)
def test_arange_short_ranges_bitwise(args, dtype):
    """Ranges under 8 elements take torch's scalar path (start + step * i in double precision,
    independent of the SIMD width), so the values agree to the last bit."""
    both(lambda lib: lib.arange(*args, dtype=getattr(lib, dtype)), bitwise=True)


@pytest.mark.parametrize('args', ARANGE_INT, ids=str)
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'int16', 'uint8'])
def test_arange_integer_dtype(args, dtype):
    if dtype in ('int16', 'uint8') and max(abs(a) for a in args) > 100:
        pytest.skip('range does not fit the dtype')
    if dtype == 'uint8' and min(args) < 0:
        pytest.skip('negative values do not fit uint8')
    both(lambda lib: lib.arange(*args, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('args,count', [((0, 1, 0.1), 10), ((0, 1, 1 / 3), 3), ((1, 2, 0.25), 4),
                                        ((0, -1, -0.1), 10), ((0, 0.3, 0.1), 3)], ids=str)
def test_arange_float_step_count(args, count):
    both(lambda lib: lib.arange(*args))
    assert nbgrad.arange(*args).numel() == count


@pytest.mark.parametrize('args', [(0, 1, 0.1), (0.5,), (1, 4)], ids=str)
def test_arange_under_float64_default(args):
    def make(lib):
        lib.set_default_dtype(lib.float64)
        return lib.arange(*args)
    both(make, bitwise=True)


@pytest.mark.parametrize('args', [(0, 5, 0), (5, 0, 1), (0, 5, -1), (0.0, 1.0, 0.0)], ids=str)
def test_arange_bad_steps(args):
    both(lambda lib: lib.arange(*args))


def test_arange_accepts_zero_dim_tensors():
    both(lambda lib: lib.arange(lib.tensor(1), lib.tensor(7), lib.tensor(2)))
    both(lambda lib: lib.arange(lib.tensor(2.5)))


LINSPACE = [(0, 1, 5), (0, 1, 11), (-1, 1, 100), (3, -7, 13), (0.1, 0.7, 7), (1e-3, 1e3, 50),
            (0, 1, 1), (2.5, 2.5, 4), (0, 1, 0), (-10.5, 33.3, 1000), (5, 1, 2), (0, 1, 1023),
            (-3.75, 1.0 / 3, 17)]



@pytest.mark.parametrize('args', LINSPACE, ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_linspace_bitwise(args, dtype):
    both(lambda lib: lib.linspace(*args, dtype=getattr(lib, dtype)), bitwise=True)


@pytest.mark.parametrize('args', [(0, 1, 5), (-1, 1, 7), (0.1, 0.7, 4)], ids=str)
def test_linspace_default_dtype(args):
    both(lambda lib: lib.linspace(*args), bitwise=True)

    def under_f64(lib):
        lib.set_default_dtype(lib.float64)
        return lib.linspace(*args)
    both(under_f64, bitwise=True)


@pytest.mark.parametrize('args', [(0, 10, 5), (-3, 7.5, 7), (-3.5, 3, 5), (10, -10, 6),
                                  (0, 255, 4)], ids=str)
@pytest.mark.parametrize('dtype', ['int64', 'int32'])
def test_linspace_integer_dtype(args, dtype):
    both(lambda lib: lib.linspace(*args, dtype=getattr(lib, dtype)))


def test_linspace_negative_steps_is_runtime_error():
    both(lambda lib: lib.linspace(0, 1, -1))


LOGSPACE = [(0, 3, 4, 10.0), (-2, 2, 9, 10.0), (0, 10, 11, 2.0), (0.5, 1.5, 7, 3.0),
            (1, -1, 5, 10.0), (-10, 10, 101, 1.5), (0, 1, 1, 10.0), (2, 2, 3, 10.0)]


@pytest.mark.parametrize('args', LOGSPACE, ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_logspace_bitwise(args, dtype):
    start, end, steps, base = args
    both(lambda lib: lib.logspace(start, end, steps, base=base, dtype=getattr(lib, dtype)),
         bitwise=True)


def test_logspace_integer_dtype():
    both(lambda lib: lib.logspace(0, 3, 4, dtype=lib.int64))


@pytest.mark.parametrize('args', [(3,), (0,), (1,), (2, 4), (4, 2), (3, 0)], ids=str)
@pytest.mark.parametrize('dtype', [None, 'float64', 'int64', 'bool'])
def test_eye(args, dtype):
    kw = lambda lib: {} if dtype is None else {'dtype': getattr(lib, dtype)}  # noqa: E731
    both(lambda lib: lib.eye(*args, **kw(lib)))


def test_eye_negative_is_runtime_error():
    both(lambda lib: lib.eye(-1))


@pytest.mark.parametrize('value', [3, 2.5, True])
def test_scalar_tensor(value):
    both(lambda lib: lib.scalar_tensor(value))
    both(lambda lib: lib.scalar_tensor(value, dtype=lib.float64))


def test_no_warnings_from_plain_creation():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        nbgrad.tensor([[1.0, 2.0]])
        nbgrad.as_tensor(np.ones(3))
        nbgrad.linspace(0, 1, 5)
        nbgrad.arange(0, 1, 0.25)


@pytest.mark.parametrize('args,dtype', [((0, 1, 0.25), 'int32'), ((-0.5, 3, 1), 'int64'),
                                        ((0, -3.7, -1), 'int64'), ((0, 3.7, 1.5), 'int64'),
                                        ((0, 2, 0.5), 'int64'), ((-1.5, 3, 0.7), 'int16'),
                                        ((0.0, 5, 2), 'uint8')])
def test_arange_with_integer_dtype_and_fractional_arguments(args, dtype):
    """PyTorch truncates the arguments of its int64 overload first; other integer kernels take
    the size from the real values and the terms from truncated ones."""
    both(lambda lib: lib.arange(*args, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize('make', [
    lambda: __import__('collections').deque([1., 2.]),
    lambda: __import__('array').array('d', [1., 2.]),
    lambda: __import__('collections').UserList([1, 2]),
    lambda: [__import__('collections').deque([1, 2]), __import__('collections').deque([3, 4])],
    lambda: memoryview(b'ab'),
    lambda: [1, True], lambda: [True, 1.5], lambda: [1j, 1], lambda: range(3),
])
def test_any_python_sequence_is_read_as_pytorch_reads_it(make):
    """The REINFORCE example builds its returns in a deque: any sequence works, as in
    PyTorch (and a flat list of numbers takes one pass)."""
    results = []
    for lib in (torch, nbgrad):
        for fn in (lib.tensor, lib.as_tensor):
            t = fn(make())
            results.append((str(t.dtype).split('.')[1], t.tolist()))
    assert results[:2] == results[2:]


def test_bytes_are_refused_as_pytorch():
    messages = []
    for lib in (torch, nbgrad):
        with pytest.raises(TypeError) as info:
            lib.tensor(b'ab')
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_warnings_name_the_callers_line_through_the_dispatch_wrappers(recwarn):
    """nbgrad's public functions are wrapped (__torch_function__ dispatch); a warning they give
    still points at the user's line."""
    warnings.simplefilter('always')
    nbgrad.tensor(nbgrad.ones(2)); line = sys._getframe().f_lineno  # noqa: E702
    nbgrad.nn.functional.softmax(nbgrad.ones(2, 3))
    found = [(w.filename, w.lineno) for w in recwarn.list]
    assert (__file__, line) in found and (__file__, line + 1) in found


@pytest.mark.parametrize('args, options', [
    ('float_array', {'dtype': 'float32'}),
    ('bytes4', {'dtype': 'int16', 'count': 1, 'offset': 2}),
    ('bytes3', {'dtype': 'int16'}),
    ('bytes4', {'dtype': 'int16', 'count': 3}),
    ('empty', {'dtype': 'float32'}),
    ('bytes4', {'dtype': 'int8', 'offset': 4}),
    ('bytes4', {'dtype': 'float32', 'requires_grad': True}),
])
def test_frombuffer_as_pytorch(args, options):
    import array
    results = []
    for lib in (torch, nbgrad):
        buffer = {'float_array': array.array('f', [1., 2., 3., 4.]),
                  'bytes4': bytearray(b'\x01\x02\x03\x04'), 'bytes3': bytearray(b'abc'),
                  'empty': bytearray()}[args]
        kwargs = dict(options, dtype=getattr(lib, options['dtype']))
        try:
            t = lib.frombuffer(buffer, **kwargs)
            t.detach()[0] = 9       # (shares the buffer's memory)
            results.append((t.tolist(), t.requires_grad, bytes(memoryview(buffer))))
        except ValueError as e:
            results.append(str(e))
    assert results[0] == results[1]
