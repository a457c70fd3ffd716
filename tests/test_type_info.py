"""nbgrad.finfo / nbgrad.iinfo against PyTorch's: every attribute, the repr and the errors."""
import pytest

from torch_compare import both

torch = pytest.importorskip('torch')

FLOATS = ['float16', 'float32', 'float64', 'complex64', 'complex128', None]
INTS = ['uint8', 'int8', 'int16', 'int32', 'int64']


def _attrs(info, names):
    return [getattr(info, n) for n in names] + [repr(info)]


@pytest.mark.parametrize('name', FLOATS)
def test_finfo(name):
    both(lambda lib: _attrs(lib.finfo() if name is None else lib.finfo(getattr(lib, name)),
                            ['bits', 'eps', 'max', 'min', 'tiny', 'smallest_normal',
                             'resolution', 'dtype']))


@pytest.mark.parametrize('name', INTS)
def test_iinfo(name):
    both(lambda lib: _attrs(lib.iinfo(getattr(lib, name)), ['bits', 'max', 'min', 'dtype']))


@pytest.mark.parametrize('call', [lambda lib: lib.finfo(lib.int32), lambda lib: lib.finfo(lib.bool),
                                  lambda lib: lib.iinfo(lib.float32), lambda lib: lib.iinfo(lib.bool)],
                         ids=['finfo_int', 'finfo_bool', 'iinfo_float', 'iinfo_bool'])
def test_errors(call):
    both(call)
