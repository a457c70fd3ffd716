"""Differences the random-numbers porting sweep found, each fixed and checked here against
PyTorch itself (its streams and its argument parsing)."""
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
