"""The porting sweep of nbgrad.utils.data against torch.utils.data (test_data_sweep_*.py): every
case runs the same code with lib=torch and lib=nbgrad, and the test compares the normalized
results (values through NumPy, container types, dtypes, shapes, exception types and messages,
warnings). This module holds the case registry, the normalization and the datasets the cases
share."""
import collections
import random  # noqa: F401 (for the cases: the sweep modules import this one with *)
import re
import warnings

import numpy as np
import pytest

torch_lib = pytest.importorskip('torch')
import nbgrad  # noqa: E402

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# -- normalization ---------------------------------------------------------------------------

def _is_tensor(x):
    return isinstance(x, (torch_lib.Tensor, nbgrad.Tensor))


def norm(x):
    if _is_tensor(x):
        arr = np.asarray(x.detach().numpy())
        return ('Tensor', str(x.dtype).split('.')[-1], tuple(int(s) for s in x.shape),
                arr.tolist())
    if isinstance(x, np.ndarray):
        return ('ndarray', x.dtype.str, x.shape, x.tolist())
    if isinstance(x, np.generic):
        return ('npscalar', type(x).__name__, x.item())
    if isinstance(x, (bool, int, float, str, bytes, type(None))):
        return (type(x).__name__, x)
    if isinstance(x, tuple) and hasattr(x, '_fields'):
        return ('namedtuple', type(x).__name__, [norm(v) for v in x])
    if isinstance(x, dict):
        extra = sorted((k, norm(v)) for k, v in vars(x).items()) if hasattr(x, '__dict__') else []
        return (type(x).__name__, [(k, norm(v)) for k, v in x.items()], extra)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, collections.UserList):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, range):
        return ('range', x.start, x.stop, x.step)
    if isinstance(x, type):
        return ('type', x.__name__)
    return ('obj', type(x).__name__)


def run(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out = norm(fn(lib))
        except Exception as e:  # noqa: BLE001
            out = ('EXC', type(e).__name__, str(e))
    warns = [(w.category.__name__, re.sub(' at 0x[0-9a-f]+', ' at 0x?', str(w.message)))
             for w in caught
             if 'utils/data' in w.filename.replace('\\', '/') or 'sweep' in w.filename
             or 'Length of' in str(w.message)]
    return out, warns


def batches(loader):
    return [b for b in loader]


def excname(fn):
    """Just the exception type (for errors whose text comes from the tensor layer)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return ('raised', type(e).__name__)
    return 'no error'


# -- datasets used by the cases -----------------------------------------------------------------

def make_map_ds(lib, n=10, kind='tensor'):
    D = lib.utils.data.Dataset

    class MapDS(D):
        def __len__(self):
            return n

        def __getitem__(self, i):
            if kind == 'tensor':
                return lib.tensor([i, i * i], dtype=lib.float32)
            if kind == 'tuple':
                return lib.tensor([float(i)]), i
            if kind == 'dict':
                return {'x': np.array([i, i + 1], dtype=np.float32), 'y': float(i),
                        'name': f's{i}', 'flag': i % 2 == 0}
            if kind == 'int':
                return i
            if kind == 'rand':
                return lib.rand(2)
            raise KeyError(kind)
    return MapDS()


Point = collections.namedtuple('Point', ['x', 'y'])


def make_iter_ds(lib, n=7, shard=False, with_len=None):
    class It(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if shard and info is not None:
                return iter(range(info.id, n, info.num_workers))
            return iter(range(n))

    if with_len is not None:
        It.__len__ = lambda self: with_len
    return It()


def ids(fn):
    return fn.__name__


def cases_of(module_name):
    """The cases a test module defined (each module parametrizes its own)."""
    return [fn for fn in CASES if fn.__module__ == module_name]


def sweep_test(module_name):
    """The test of a sweep module: each of its cases run with lib=torch and lib=nbgrad, the
    results and the warnings compared."""
    @pytest.mark.parametrize('fn', cases_of(module_name), ids=ids)
    def test_same_as_torch(fn):
        expected = run(fn, torch_lib)
        got = run(fn, nbgrad)
        assert got[0] == expected[0], f'\nnbgrad: {got[0]!r}\ntorch:  {expected[0]!r}'
        assert got[1] == expected[1], \
            f'\nwarnings nbgrad: {got[1]!r}\nwarnings torch:  {expected[1]!r}'
    return test_same_as_torch
