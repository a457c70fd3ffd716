"""The porting sweep of nbgrad.distributions against torch.distributions
(test_distributions_sweep_*.py): every case runs the same user-style code with lib=torch and
lib=nbgrad, and the test compares the normalized results (values through NumPy with tight
tolerances, shapes, dtypes, types, exception types and messages, warnings). This module holds
the case registry, the comparison and the helpers the cases share."""
import copy  # noqa: F401 (for the cases: the sweep modules import this one with *)
import math
import pickle  # noqa: F401 (the same)
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


def _text(s):
    s = re.sub(' at 0x[0-9a-f]+', ' at 0x?', s)
    return s.replace('nbgrad.', 'torch.')


def norm(x):
    if _is_tensor(x):
        arr = np.array(x.detach().numpy())
        return ('Tensor', str(x.dtype).split('.')[-1], tuple(int(s) for s in x.shape), arr,
                bool(x.requires_grad))
    if isinstance(x, (torch_lib.Size, nbgrad.Size)):
        return ('Size', tuple(int(s) for s in x))
    if isinstance(x, (torch_lib.dtype, nbgrad.dtype)):
        return ('dtype', str(x).split('.')[-1])
    if isinstance(x, np.ndarray):
        return ('ndarray', x.dtype.str, x.shape, x)
    if isinstance(x, np.generic):
        return ('npscalar', type(x).__name__, x.item())
    if isinstance(x, str):
        return ('str', _text(x))
    if isinstance(x, (bool, int, float, bytes, type(None))):
        return (type(x).__name__, x)
    if isinstance(x, dict):
        return ('dict', [(k, norm(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, type):
        return ('type', x.__name__)
    return ('obj', type(x).__name__)


TOL = {'float64': (1e-12, 1e-14), 'float32': (4e-6, 1e-7), 'float16': (2e-3, 1e-4),
       'bfloat16': (1e-2, 1e-3)}


def same(a, b, tol=None, path='out'):
    """Assert normalized results a (nbgrad) and b (torch) agree."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        assert a.shape == b.shape, f'{path}: shape {a.shape} vs {b.shape}'
        if a.dtype.kind in 'fc':
            rtol, atol = tol or TOL.get(str(a.dtype), (1e-12, 1e-14))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=path)
        else:
            np.testing.assert_array_equal(a, b, err_msg=path)
        return
    if isinstance(a, float) and isinstance(b, float):
        rtol, atol = tol or (1e-12, 1e-14)
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol,
                                                                 abs_tol=atol), \
            f'{path}: {a!r} vs {b!r}'
        return
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f'{path}:\nnbgrad: {a!r}\ntorch:  {b!r}'
        if len(a) == 5 and a and a[0] == 'Tensor':
            assert a[1:3] == b[1:3], f'{path}: dtype/shape nbgrad {a[1:3]} torch {b[1:3]}'
            assert a[4] == b[4], f'{path}: requires_grad nbgrad {a[4]} torch {b[4]}'
            t = tol or TOL.get(a[1])
            same(a[3], b[3], t, path)
            return
        if _is_error(a) and _is_error(b) and a[1] == b[1]:
            a = [*a[:2], ('str', _advice_trimmed(a[2][1], b[2][1]))]
        for i, (u, v) in enumerate(zip(a, b)):
            same(u, v, tol, f'{path}[{i}]')
        return
    assert a == b, f'{path}:\nnbgrad: {a!r}\ntorch:  {b!r}'


def _is_error(x):
    """A normalized try_() result for an exception: ('EXC', type name, message) as strings."""
    return len(x) == 3 and all(isinstance(e, tuple) and len(e) == 2 and e[0] == 'str'
                               for e in x) and x[0][1] == 'EXC'


def _advice_trimmed(message, torch_message):
    """nbgrad's error messages are PyTorch's, sometimes followed by a sentence on how to fix
    the problem: an error's message is compared up to the end of PyTorch's."""
    rest = message[len(torch_message):] if message.startswith(torch_message) else None
    return torch_message if rest and rest[:2] in ('. ', ' (') else message


def run(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out = norm(fn(lib))
        except Exception as e:  # noqa: BLE001
            out = ('EXC', type(e).__name__, _text(str(e)))
    warns = [(w.category.__name__, _text(str(w.message))) for w in caught
             if 'distributions' in w.filename.replace('\\', '/') or 'sweep' in w.filename]
    return out, warns


def D(lib):
    return lib.distributions


def f64(lib, x):
    return lib.tensor(x, dtype=lib.float64)


def leaf(lib, x):
    return lib.tensor(x, dtype=lib.float64, requires_grad=True)


def stats(d, names=('mean', 'mode', 'variance', 'stddev')):
    out = {}
    for n in names:
        try:
            out[n] = getattr(d, n)
        except Exception as e:  # noqa: BLE001
            out[n] = ('EXC', type(e).__name__, _text(str(e)))
    return out


def try_(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001
        return ('EXC', type(e).__name__, _text(str(e)))


# Cases whose float64 results go through the trigamma function (Dirichlet/Gamma entropy and
# rsample gradients, KL gradients): PyTorch's trigamma is off by up to 5e-10 relative (against
# mpmath: nbgrad's is exact to 1e-16 at 0.3, 0.7, 1.5, 2.2, 5.1), so these compare to 1e-8
# (an optimiser's trajectory amplifies the difference over its steps).
TRIGAMMA_CASES = {'kl_grads_float64', 'trajectory_dirichlet_rsample', 'trajectory_gamma_rsample',
                  'inverse_gamma_and_fisher', 'dirichlet_entropy_grad_trigamma'}


def ids(fn):
    return fn.__name__


def cases_of(module_name):
    """The cases a test module defined (each module parametrizes its own)."""
    return [fn for fn in CASES if fn.__module__ == module_name]


def sweep_test(module_name):
    """The test of a sweep module: each of its cases run with lib=torch and lib=nbgrad, the
    results compared with tight tolerances (TRIGAMMA_CASES: 1e-8), and the warnings."""
    @pytest.mark.parametrize('fn', cases_of(module_name), ids=ids)
    def test_same_as_torch(fn):
        expected = run(fn, torch_lib)
        got = run(fn, nbgrad)
        if got[0][0] == 'EXC' or expected[0][0] == 'EXC':
            assert got[0] == expected[0], f'\nnbgrad: {got[0]!r}\ntorch:  {expected[0]!r}'
        same(got[0], expected[0], (1e-8, 1e-12) if fn.__name__ in TRIGAMMA_CASES else None)
        assert got[1] == expected[1], \
            f'\nwarnings nbgrad: {got[1]!r}\nwarnings torch:  {expected[1]!r}'
    return test_same_as_torch
