"""dtypes and type promotion against PyTorch: the default dtype, result_type / promote_types /
can_cast, the dtype and values of binary ops over every pair of dtypes and operand kinds
(dimensioned tensor, 0-dim tensor, Python scalar), integer division by zero, uint8 wraparound
and the errors PyTorch raises for bool arithmetic."""
import itertools
import warnings

import pytest
from hypothesis import given, settings, strategies as st

import nbgrad
from torch_compare import assert_same, both as _both, dname, nbgrad_bug

torch = pytest.importorskip('torch')

DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64',
          'complex64', 'complex128']
KINDS = ['dim', 'zero', 'scalar']
DTYPE_PAIRS = list(itertools.product(DTYPES, DTYPES))
KIND_PAIRS = [(ka, kb) for ka in KINDS for kb in KINDS if (ka, kb) != ('scalar', 'scalar')]
CATEGORY = {'bool': 'bool', 'uint8': 'int', 'int8': 'int', 'int16': 'int', 'int32': 'int',
            'int64': 'int', 'float16': 'float', 'float32': 'float', 'float64': 'float',
            'complex64': 'complex', 'complex128': 'complex'}
# Values that every dtype of a category can hold exactly (uint8 included): operand a, operand b.
VALUES = {'bool': ([True, False, True], [True, True, False]),
          'int': ([1, 0, 7], [2, 3, 0]),
          'float': ([-1.5, 0.0, 2.25], [0.5, -3.0, 0.0]),
          'complex': ([1 + 2j, 0j, -0.5j], [2 - 1j, 1j, 0j])}
SCALARS = {'bool': (True, False), 'int': (3, 2), 'float': (2.5, -0.75), 'complex': (1 - 2j, 0.5j)}


def operand(lib, dtype, kind, which):
    """Operand `which` (0 or 1) of the given dtype as a 1-d tensor, a 0-dim tensor or a scalar."""
    category = CATEGORY[dtype]
    if kind == 'scalar':
        return SCALARS[category][which]
    values = VALUES[category][which]
    return lib.tensor(values if kind == 'dim' else values[2], dtype=getattr(lib, dtype))


def tolerance(dtype_name):
    # float64 is not bit-exact: torch computes `scalar / tensor` as reciprocal(tensor) * scalar
    return {'float16': 1e-3, 'float32': 1e-6, 'complex64': 1e-6, 'float64': 1e-15,
            'complex128': 1e-15}.get(dtype_name, 0)


def assert_same_result(got, expected):
    """Tensors: equal dtype and shape, values within tolerance(dtype); other values: equal and of
    the same type."""
    rtol = tolerance(dname(expected.dtype)) if isinstance(expected, torch.Tensor) else 0
    assert_same(got, expected, rtol=rtol, atol=0, same_type=True)


def both(fn):
    """fn(torch) and fn(nbgrad) agree, or raise the same kind of exception. Cases whose torch
    result is complex32 (float16 meets complex) are skipped: NumPy has no such dtype, so nbgrad
    cannot represent it."""
    _both(fn, assert_same_result, unless=lambda expected: isinstance(expected, torch.Tensor)
          and expected.dtype == torch.complex32)


@pytest.fixture(autouse=True)
def _default_dtype():
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'ComplexHalf support is experimental')
        yield
    torch.set_default_dtype(torch.float32)
    nbgrad.set_default_dtype(nbgrad.float32)


# -- known bugs: which (op, dtype, operand kind) cases they touch ------------------------------

BINARY = {
    'add': lambda lib, a, b: lib.add(a, b) if isinstance(a, lib.Tensor) else a + b,
    'sub': lambda lib, a, b: a - b,
    'mul': lambda lib, a, b: a * b,
    'div': lambda lib, a, b: a / b,
    'eq': lambda lib, a, b: a == b,
    'ne': lambda lib, a, b: a != b,
    'lt': lambda lib, a, b: a < b,
    'ge': lambda lib, a, b: a >= b,
    'maximum': lambda lib, a, b: lib.maximum(a, b),
    'where': lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b),
    'add_alpha': lambda lib, a, b: lib.add(a, b, alpha=2) if isinstance(a, lib.Tensor)
    else lib.add(b, a, alpha=2),
}


def applicable(op, ka, kb):
    if op == 'maximum':
        return 'scalar' not in (ka, kb)  # maximum takes two tensors
    return op == 'where' or (ka, kb) != ('scalar', 'scalar')


def complex32_case(a, ka, b, kb):
    """float16 meeting complex gives complex32 in torch, a dtype NumPy (so nbgrad) lacks."""
    if ka == kb == 'scalar':
        return False
    return torch.result_type(operand(torch, a, ka, 0), operand(torch, b, kb, 1)) \
        == torch.complex32


# Each known nbgrad bug: (name, reason, predicate(op, a, ka, b, kb)). The exhaustive tests check
# every other case in one test and each bug's cases in a strict-xfail test of their own.
KNOWN_BUGS = []


BUG_REASONS = {name: reason for name, reason, _ in KNOWN_BUGS}


def known_bug(op, a, ka, b, kb):
    return next((name for name, _, pred in KNOWN_BUGS if pred(op, a, ka, b, kb)), None)


def bug(name):
    return nbgrad_bug(BUG_REASONS[name])


# -- default dtype -----------------------------------------------------------------------------

DEFAULT_DTYPE_CASES = {
    'tensor_float': lambda lib: lib.tensor(1.5),
    'tensor_list': lambda lib: lib.tensor([1, 2.5]),
    'tensor_int': lambda lib: lib.tensor(3),
    'tensor_complex': lambda lib: lib.tensor(1 + 1j),
    'arange_float': lambda lib: lib.arange(0.5),
    'arange_int': lambda lib: lib.arange(3),
    'zeros': lambda lib: lib.zeros(2),
    'full_float': lambda lib: lib.full((2,), 0.5),
    'int_plus_float': lambda lib: lib.tensor([1, 2]) + 1.5,
    'int_times_float': lambda lib: 2.5 * lib.tensor([1, 2]),
    'int_div_int': lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]),
    'bool_plus_float': lambda lib: lib.tensor([True]) + 0.5,
    'int_plus_complex': lambda lib: lib.tensor([1]) + 1j,
    'float32_plus_float': lambda lib: lib.tensor([1.0], dtype=lib.float32) + 0.5,
    'int_sqrt': lambda lib: lib.tensor([4]).sqrt(),
    'int_mean_err': lambda lib: lib.tensor([4, 2]).mean(),
    'rand_dtype': lambda lib: lib.zeros_like(lib.rand(2)),
    'linspace': lambda lib: lib.linspace(0, 1, 3),
    'where_scalars': lambda lib: lib.where(lib.tensor([True, False]), 1, 2.5),
}


@pytest.mark.parametrize('case', DEFAULT_DTYPE_CASES)
@pytest.mark.parametrize('default', ['float32', 'float64'])
def test_default_dtype_effects(default, case):
    def run(lib):
        lib.set_default_dtype(getattr(lib, default))
        assert dname(lib.get_default_dtype()) == default
        return DEFAULT_DTYPE_CASES[case](lib)
    both(run)


@pytest.mark.parametrize('bad', ['int64', 'int32', 'bool', 'complex64'])
def test_set_default_dtype_rejects_non_float(bad):
    both(lambda lib: lib.set_default_dtype(getattr(lib, bad)))
    assert nbgrad.get_default_dtype() is nbgrad.float32


@pytest.mark.parametrize('default', ['float16', 'float64'])
def test_set_default_dtype_accepts_floats(default):
    both(lambda lib: lib.set_default_dtype(getattr(lib, default)) or lib.tensor([0.1]))


# -- promote_types / can_cast / result_type ----------------------------------------------------

@pytest.mark.parametrize('a,b', [
    pytest.param(a, b, id=f'{a}-{b}') for a, b in DTYPE_PAIRS
    if torch.promote_types(getattr(torch, a), getattr(torch, b)) != torch.complex32])
def test_promote_types_all_pairs(a, b):
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert dname(nbgrad.promote_types(getattr(nbgrad, a), getattr(nbgrad, b))) == dname(expected)


@pytest.mark.parametrize('a', DTYPES)
def test_can_cast_all_pairs(a):
    for b in DTYPES:
        expected = torch.can_cast(getattr(torch, a), getattr(torch, b))
        assert nbgrad.can_cast(getattr(nbgrad, a), getattr(nbgrad, b)) is expected, (a, b)


@pytest.mark.parametrize('default', ['float32', 'float64'])
def test_result_type_with_scalars_follows_default_dtype(default):
    def run(lib):
        lib.set_default_dtype(getattr(lib, default))
        return [dname(lib.result_type(lib.tensor([1, 2]), 2.5)),
                dname(lib.result_type(lib.tensor(1), 1j)),
                dname(lib.result_type(lib.tensor([True]), 1.0)),
                dname(lib.result_type(lib.tensor([1.0], dtype=lib.float16), 2.5))]
    assert run(nbgrad) == run(torch)


# -- binary ops over every dtype x operand-kind pair (hypothesis) ------------------------------

def _binary_case(op, a, ka, b, kb):
    return lambda lib: BINARY[op](lib, operand(lib, a, ka, 0), operand(lib, b, kb, 1))


def _cases(ops, kinds, group):
    for op in ops:
        for a, b in DTYPE_PAIRS:
            if applicable(op, *kinds) and not complex32_case(a, kinds[0], b, kinds[1]) \
                    and known_bug(op, a, kinds[0], b, kinds[1]) == group:
                yield op, a, b


def _grouped_params(ops, kind_pairs):
    """(kinds, group) params: group None holds the cases no known bug touches."""
    params = []
    for kinds in kind_pairs:
        params.append(pytest.param(kinds, None, id='-'.join(kinds)))
        for name, reason, _ in KNOWN_BUGS:
            if any(True for _ in _cases(ops, kinds, name)):
                params.append(pytest.param(kinds, name, id='-'.join(kinds) + f'-BUG-{name}',
                                           marks=bug(name)))
    return params


def _run_all(cases, check):
    failures = []
    for case in cases:
        try:
            check(*case)
        except (Exception, pytest.fail.Exception) as e:
            failures.append(f'{case}: {type(e).__name__}: {(str(e).splitlines() or [""])[0][:120]}')
    assert not failures, f'{len(failures)} cases differ from torch:\n' + '\n'.join(failures)


ALL_KIND_PAIRS = KIND_PAIRS + [('scalar', 'scalar')]


@pytest.mark.parametrize('kinds,group', _grouped_params(['result_type'], KIND_PAIRS))
def test_result_type_all_dtype_pairs(kinds, group):
    """Every dtype pair for this operand-kind pair: nbgrad.result_type equals torch's."""
    ka, kb = kinds

    def check(_, a, b):
        expected = torch.result_type(operand(torch, a, ka, 0), operand(torch, b, kb, 1))
        got = nbgrad.result_type(operand(nbgrad, a, ka, 0), operand(nbgrad, b, kb, 1))
        assert dname(got) == dname(expected)
    _run_all(_cases(['result_type'], kinds, group), check)


@pytest.mark.parametrize('kinds,group', _grouped_params(sorted(BINARY), ALL_KIND_PAIRS))
def test_binary_ops_all_dtype_pairs(kinds, group):
    """Every op x dtype pair for this operand-kind pair: result dtype and values, or the error
    class, equal torch's."""
    _run_all(_cases(sorted(BINARY), kinds, group),
             lambda op, a, b: both(_binary_case(op, a, kinds[0], b, kinds[1])))


def _halves(category):
    """Hypothesis values exactly representable in every dtype of the category."""
    if category == 'bool':
        return st.booleans()
    if category == 'int':
        return st.integers(0, 100)
    half = st.integers(-64, 64).map(lambda k: k / 2)
    if category == 'float':
        return half
    return st.tuples(half, half).map(lambda p: complex(*p))


@st.composite
def binary_examples(draw):
    op = draw(st.sampled_from(sorted(BINARY)))
    kinds = draw(st.sampled_from([k for k in ALL_KIND_PAIRS if applicable(op, *k)]))
    a, b = draw(st.sampled_from(DTYPES)), draw(st.sampled_from(DTYPES))
    n = draw(st.integers(1, 4))
    values = [draw(st.lists(_halves(CATEGORY[d]), min_size=n, max_size=n)) for d in (a, b)]
    return op, kinds, a, b, values


@settings(max_examples=400, deadline=None)
@given(binary_examples())
def test_binary_op_random_values(example):
    """Random values (hypothesis) through every op, dtype pair and operand-kind pair; the cases
    of known bugs are left to the exhaustive tests above."""
    op, (ka, kb), a, b, values = example
    if complex32_case(a, ka, b, kb) or known_bug(op, a, ka, b, kb):
        return

    def make(lib, dtype, kind, vals):
        if kind == 'scalar':
            return vals[0]
        t = lib.tensor(vals, dtype=getattr(lib, dtype))
        return t if kind == 'dim' else t[0]

    def run(lib):
        x, y = make(lib, a, ka, values[0]), make(lib, b, kb, values[1])
        if op == 'where':
            return lib.where(lib.tensor([i % 2 == 0 for i in range(len(values[0]))]), x, y)
        return BINARY[op](lib, x, y)
    both(run)


# -- integer division by zero, wraparound, bool arithmetic -------------------------------------

INT_DIVISION = {
    'floordiv': lambda x, d: x // d, 'remainder': lambda x, d: x % d,
    'fmod': lambda x, d: x.fmod(d), 'div_trunc': lambda x, d: x.div(d, rounding_mode='trunc'),
    'div_floor': lambda x, d: x.div(d, rounding_mode='floor'),
    'ifloordiv': lambda x, d: x.__ifloordiv__(d), 'iremainder': lambda x, d: x.__imod__(d),
}


@pytest.mark.parametrize('case', INT_DIVISION)
@pytest.mark.parametrize('divisor', [3, -2, 'tensor', 'zero_dim'],
                         ids=['python_int', 'negative_python_int', 'tensor', 'zero_dim_tensor'])
def test_integer_division_by_nonzero(case, divisor):
    def run(lib):
        x = lib.tensor([7, -7, 6, 0, -1])
        d = {'tensor': lib.tensor([3, -2, 4, 5, 2]), 'zero_dim': lib.tensor(-3)}.get(divisor,
                                                                                     divisor)
        return INT_DIVISION[case](x, d)
    both(run)


ZERO_DIVISION = {
    'floordiv_scalar': lambda lib, x: x // 0,
    'floordiv_tensor': lambda lib, x: x // lib.tensor([1, 0, 2]),
    'remainder_scalar': lambda lib, x: x % 0,
    'remainder_tensor': lambda lib, x: lib.remainder(x, lib.zeros(3, dtype=lib.int64)),
    'fmod': lambda lib, x: lib.fmod(x, 0),
    'div_trunc': lambda lib, x: lib.div(x, 0, rounding_mode='trunc'),
    'div_floor_0dim': lambda lib, x: lib.div(x, lib.tensor(0), rounding_mode='floor'),
    'true_div': lambda lib, x: x / 0,
    'true_div_tensor': lambda lib, x: x / lib.zeros(3, dtype=lib.int64),
    'float_floordiv': lambda lib, x: x.double() // 0,
    'float_remainder': lambda lib, x: x.double() % 0,
    'ifloordiv': lambda lib, x: x.__ifloordiv__(0),
}


@pytest.mark.parametrize('case', ZERO_DIVISION)
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8'])
def test_integer_division_by_zero(case, dtype):
    values = [5, 0, 3] if dtype == 'uint8' else [5, -5, 0]
    both(lambda lib: ZERO_DIVISION[case](lib, lib.tensor(values, dtype=getattr(lib, dtype))))


WRAP = {
    'add_small': lambda x: x + 100, 'add_big': lambda x: x + 1000, 'mul': lambda x: x * 300,
    'add_2_40': lambda x: x + 2 ** 40, 'sub': lambda x: x - 300, 'rsub': lambda x: 7 - x,
    'add_2_70': lambda x: x + 2 ** 70, 'iadd': lambda x: x.__iadd__(1000),
    'tensor_add': lambda x: x + x, 'mul_tensor': lambda x: x * x,
    'neg': lambda x: -x, 'floordiv_neg': lambda x: x // -3, 'mul_neg_scalar': lambda x: x * -1,
}


@pytest.mark.parametrize('case', WRAP)
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16'])
def test_small_int_wraparound(case, dtype):
    values = [200, 5, 0] if dtype == 'uint8' else [100, -5, 0]
    both(lambda lib: WRAP[case](lib.tensor(values, dtype=getattr(lib, dtype))))


BOOL_OPS = {
    'neg': lambda lib, b: -b, 'neg_method': lambda lib, b: b.neg(),
    'sub_bools': lambda lib, b: b - b, 'sub_int': lambda lib, b: b - 1,
    'rsub_int': lambda lib, b: 1 - b, 'sub_float': lambda lib, b: b - 1.5,
    'sub_int_tensor': lambda lib, b: b - lib.tensor([1, 2]),
    'int_tensor_sub_bool': lambda lib, b: lib.tensor([1, 2]) - b,
    'sub_true': lambda lib, b: lib.sub(b, True), 'isub': lambda lib, b: b.__isub__(b),
    'add': lambda lib, b: b + b, 'add_true': lambda lib, b: b + True,
    'mul': lambda lib, b: b * b, 'div': lambda lib, b: b / b, 'add_int': lambda lib, b: b + 2,
    'invert': lambda lib, b: ~b, 'xor': lambda lib, b: b ^ lib.tensor([True, True]),
    'and_int': lambda lib, b: b & lib.tensor([3, 2]), 'sum': lambda lib, b: b.sum(),
    'iadd_int': lambda lib, b: b.__iadd__(2),
}


@pytest.mark.parametrize('case', BOOL_OPS)
def test_bool_arithmetic(case):
    both(lambda lib: BOOL_OPS[case](lib, lib.tensor([True, False])))


@pytest.mark.parametrize('a,b', [('int64', 'float32'), ('uint8', 'int8'), ('int32', 'float16'),
                                 ('float32', 'complex64'), ('bool', 'uint8'),
                                 ('float16', 'float64')])
def test_dtype_objects_and_attributes(a, b):
    for lib in (torch, nbgrad):
        da, db = getattr(lib, a), getattr(lib, b)
        assert (da == db) is False and da == getattr(lib, a)
    for attr in ('is_floating_point', 'is_complex', 'is_signed', 'itemsize'):
        for name in (a, b):
            assert getattr(getattr(nbgrad, name), attr) == getattr(getattr(torch, name), attr), \
                (name, attr)


@pytest.mark.parametrize('alias,name', [('float', 'float32'), ('double', 'float64'),
                                        ('half', 'float16'), ('long', 'int64'), ('int', 'int32'),
                                        ('short', 'int16'), ('bool', 'bool'),
                                        ('cfloat', 'complex64'), ('cdouble', 'complex128')])
def test_dtype_aliases(alias, name):
    assert getattr(nbgrad, alias) is getattr(nbgrad, name)
    assert getattr(torch, alias) is getattr(torch, name)
    assert repr(getattr(nbgrad, alias)) == repr(getattr(torch, alias)).replace('torch', 'nbgrad')


DIVISIONS_BY_ZERO = {
    'float_scalar_floordiv_int_tensor': lambda lib: 2.5 // lib.tensor([3, 0, -2]),
    'float_scalar_mod_bool_tensor': lambda lib: 2.5 % lib.tensor([True, False]),
    'int_tensor_floordiv_float_zero': lambda lib: lib.tensor([1, -1, 0]) // 0.0,
    'int_tensor_mod_float_zero': lambda lib: lib.tensor([1, -1]) % 0.0,
    'int_trunc_by_float_zero': lambda lib: lib.tensor([5]).div(0.0, rounding_mode='trunc'),
    'float_scalar_floordiv_0d_int': lambda lib: 5.0 // lib.tensor(0),
    'int_fmod_float_zero': lambda lib: lib.fmod(lib.tensor([5]), 0.0),
    'int_scalar_floordiv_int_zero': lambda lib: 2 // lib.tensor([3, 0]),
    'int_scalar_mod_int_zero': lambda lib: 2 % lib.tensor([3, 0]),
    'int_trunc_by_int_zero': lambda lib: lib.tensor([5]).div(lib.tensor([0]),
                                                             rounding_mode='trunc'),
}


@pytest.mark.parametrize('case', DIVISIONS_BY_ZERO)
def test_division_by_zero_is_an_error_only_between_integers(case):
    """A zero divisor raises PyTorch's ZeroDivisionError only when both operands are integral;
    with a float on either side the division is a float one (inf and nan at 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        both(DIVISIONS_BY_ZERO[case])


NUMPY_ALIASES = {
    'sum_axis': lambda lib, x: x.sum(axis=1),
    'torch_sum_axis_keepdims': lambda lib, x: lib.sum(x, axis=1, keepdims=True),
    'mean_axis': lambda lib, x: x.mean(axis=0),
    'max_axis': lambda lib, x: x.max(axis=1),
    'argmax_axis': lambda lib, x: x.argmax(axis=1),
    'cat_axis': lambda lib, x: lib.cat([x, x], axis=0),
    'stack_axis': lambda lib, x: lib.stack([x, x], axis=1),
    'squeeze_axis': lambda lib, x: x[None].squeeze(axis=0),
    'unsqueeze_axis': lambda lib, x: x.unsqueeze(axis=0),
    'softmax_method_axis': lambda lib, x: x.softmax(axis=1),
    'sort_axis': lambda lib, x: x.sort(axis=1),
    'cumsum_axis': lambda lib, x: x.cumsum(axis=1),
    'std_axis_keepdims': lambda lib, x: x.std(axis=1, keepdims=True),
    'any_axis': lambda lib, x: (x > 2).any(axis=1),
    'gather_axis': lambda lib, x: x.gather(axis=1, index=lib.zeros(2, 1, dtype=lib.int64)),
    # both names: PyTorch's TypeError
    'dim_and_axis': lambda lib, x: x.sum(dim=1, axis=1),
    # nn.functional is Python in PyTorch: no aliases there
    'functional_softmax_axis': lambda lib, x: lib.nn.functional.softmax(x, axis=1),
}


@pytest.mark.parametrize('case', NUMPY_ALIASES)
def test_numpy_argument_names(case):
    """axis= and keepdims= where PyTorch's argument parser takes them for dim and keepdim."""
    both(lambda lib: NUMPY_ALIASES[case](lib, lib.arange(6.0).reshape(2, 3)))
