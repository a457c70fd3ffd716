"""Differences from PyTorch in printing and tensor creation that porting sweeps found, each
fixed and checked here against PyTorch itself."""
import pytest

from torch_compare import both


@pytest.mark.parametrize('make', [
    lambda lib: lib.tensor(0.1), lambda lib: (lib.ones(3, requires_grad=True) * 0.5).mean(),
    lambda lib: lib.tensor(3), lambda lib: lib.tensor(True),
    lambda lib: lib.tensor(2.5, dtype=lib.float64), lambda lib: lib.tensor(1 + 2j),
    lambda lib: lib.tensor(2.5, dtype=lib.float16), lambda lib: lib.tensor([1., 2.]),
    lambda lib: lib.nn.Parameter(lib.tensor(2.)),
], ids=['float', 'loss', 'int', 'bool', 'double', 'complex', 'half', '1-d', 'parameter'])
@pytest.mark.parametrize('spec', ['', '.2f'])
def test_a_0d_tensor_formats_as_its_python_number(make, spec):
    """f'loss={loss}' prints loss=0.5, as PyTorch (a plain 0-d tensor formats as its item)."""
    both(lambda lib: format(make(lib), spec).replace('torch', 'nbgrad'))


def test_svd_and_lstsq_return_types():
    a = [[1., 2.], [3., 4.]]
    both(lambda lib: repr(lib.svd(lib.tensor(a))).replace('torch', 'nbgrad'),
         check=lambda g, e: g == e or pytest.fail(f'{g}\n!=\n{e}'))
    both(lambda lib: (lib.svd(lib.tensor(a)).V, type(lib.linalg.lstsq(
        lib.tensor([[2., 1.], [1., 3.]]), lib.tensor([[2.], [1.]]))).__name__))


@pytest.mark.parametrize('data, dtype', [
    ([1.5, -2.25, 3.], 'uint8'), (-0.5, 'uint8'), (255.9, 'uint8'), (127.5, 'int8'),
    (-128.9, 'int8'), (float('nan'), 'int32'), (1e300, 'int32'), ([[1.5, 2.], [3., 1e10]], 'int32'),
    (3.7, 'int8'), ([1, 2.5], 'int16'), ([-1], 'uint8'),
])
def test_python_floats_that_overflow_an_integer_dtype_are_refused(data, dtype):
    both(lambda lib: lib.tensor(data, dtype=getattr(lib, dtype)))
