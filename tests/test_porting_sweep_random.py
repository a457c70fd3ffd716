"""Differences the random-numbers porting sweep found, each fixed and checked here against
PyTorch itself (its streams and its argument parsing)."""
import warnings

import pytest

import nbgrad
from torch_compare import assert_same_kind, both

torch = pytest.importorskip('torch')

DTYPES = ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'float16', 'float32', 'float64']
FORMS = [((5, None), {}), ((), {'to': 5}), ((-5, None), {}), ((0, None), {}), ((2,), {}),
         ((), {'from': 2, 'to': 9}), ((), {}), ((3,), {'to': 9}), ((), {'from': 2, 'to': None}),
         ((None,), {}), ((), {'from': 3}), ((1, 2, 3), {})]


@pytest.mark.parametrize('args,kwargs', FORMS, ids=str)
@pytest.mark.parametrize('dtype', DTYPES)
def test_random_overloads(dtype, args, kwargs):
    """random_(from, None) draws from [from, the dtype's top] and random_(to=5) from [0, 5):
    nbgrad read the first as random_(from) and ignored `to`."""
    def run(lib):
        generator = lib.Generator().manual_seed(0)
        return lib.empty(3, dtype=getattr(lib, dtype)).random_(*args, **kwargs,
                                                                generator=generator)
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.randint(0.5, 3.7, (4,)), lambda lib: lib.randint(5.0, (3,)),
    lambda lib: lib.randint(True, (3,)), lambda lib: lib.randint(3, 5),
    lambda lib: lib.randperm(5.0), lambda lib: lib.multinomial(lib.ones(3), 2.0),
])
def test_integer_arguments_refuse_floats_and_bools(call):
    errors = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as info:
            call(lib)
        errors.append(info.value)
    assert_same_kind(errors[1], errors[0])


@pytest.mark.parametrize('call', [
    lambda lib: lib.randint(lib.tensor(5), (2,)), lambda lib: lib.randint(0, lib.tensor(5), (2,)),
    lambda lib: lib.randperm(lib.tensor(3)), lambda lib: lib.randint(3, size=[2]),
])
def test_integer_arguments_take_what_has_an_index(call):
    def run(lib):
        lib.manual_seed(0)
        return call(lib)
    both(run)


@pytest.mark.parametrize('dtype,high', [('float32', h) for h in (2 ** 24, 2 ** 24 + 1, 2 ** 25,
                                                                   2 ** 30, 2 ** 33)] +
                         [('float16', 2 ** 11 + 1), ('float16', 2 ** 13),
                          ('float64', 2 ** 54 + 3)])
def test_float_random_ranges_past_exact_integers(dtype, high):
    """Past 2**digits PyTorch moves the range's ends inward until they survive the cast to the
    dtype, and draws from that range (nbgrad drew from the uncast one); both warn there."""
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            a = lib.empty(4, dtype=getattr(lib, dtype)).random_(
                0, high, generator=lib.Generator().manual_seed(0))
            b = lib.randint(0, high, (4,), dtype=getattr(lib, dtype),
                            generator=lib.Generator().manual_seed(0))
        return a, b, len(caught)
    both(run)


@pytest.mark.parametrize('fill', [
    lambda lib, out, g: lib.rand(*out.shape, out=out, generator=g),
    lambda lib, out, g: lib.randn(*out.shape, out=out, generator=g),
    lambda lib, out, g: lib.randint(0, 10, tuple(out.shape), out=out, generator=g),
    lambda lib, out, g: lib.normal(2.0, 3.0, tuple(out.shape), out=out, generator=g),
    lambda lib, out, g: lib.normal(lib.zeros(tuple(out.shape)), lib.ones(tuple(out.shape)),
                                   out=out, generator=g),
    lambda lib, out, g: lib.bernoulli(lib.full(tuple(out.shape), 0.5), out=out, generator=g),
], ids=['rand', 'randn', 'randint', 'normal_numbers', 'normal_tensors', 'bernoulli'])
@pytest.mark.parametrize('shape', [(2, 3), (4, 20)], ids=str)   # (randn: 16 elements or more
#                                                                  take its vectorised path)
def test_random_factories_fill_a_transposed_out_in_its_memory_order(fill, shape):
    """PyTorch's out= factories fill out through its in-place sampler (rand's out= is
    out.uniform_()), so a transposed out gets the stream in memory order; nbgrad filled the
    logical order (and used the contiguous normal algorithm)."""
    def run(lib):
        base = lib.zeros(*shape)
        fill(lib, base.t(), lib.Generator().manual_seed(0))
        return base
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.empty(3, dtype=lib.complex64).random_(),
    lambda lib: lib.empty(3, dtype=lib.complex64).random_(0, 5),
    lambda lib: lib.randint(3, (2,), dtype=lib.complex64),
    lambda lib: lib.empty(3, dtype=lib.int64).cauchy_(),
    lambda lib: lib.empty(3, dtype=lib.int64).exponential_(),
    lambda lib: lib.set_rng_state(lib.get_rng_state()[::2]),
    lambda lib: lib.normal(lib.zeros(2), 1.0, (2,)),
], ids=['random_complex', 'random_bounds_complex', 'randint_complex', 'cauchy_int',
        'exponential_int', 'rng_state_strided', 'normal_tensor_and_size'])
def test_random_misuse_gets_pytorchs_kind_of_error(call):
    """Each of these computed something or leaked NumPy's ValueError."""
    both(call)
