"""Helpers shared by the tests that run the same code with PyTorch (the oracle) and with nbgrad and
compare the two. Test modules import them as `from torch_compare import ...` (pytest puts tests/
on sys.path, as for op_table).

- Names and marks: `dname`, `exc_kind`, `nbgrad_bug`, `marked`, `LIBS` / `each_lib`.
- Comparing an nbgrad result with torch's as they are: `assert_same`, and `both(fn)`, which runs
  fn(torch) and fn(nbgrad) and compares the results or the kinds of exception raised.
- `assert_same_error(fn)`: both libraries raise the same kind of exception with the same message.
- `oracle_has(condition, what)`: skip where the installed PyTorch predates a behaviour nbgrad
  follows (the GPU machine has an older 2.x than the pinned 2.13).
- Comparing as NumPy values (the autograd tests): `to_np`, `assert_same_value`, `same(case)`,
  `same_error(setup, action)` (which also checks that a failed call changes no tensor),
  `assert_same_kind`, the inputs `arr` and `leaf`.

PyTorch is optional here (test_sorting runs its own checks without it); the modules that need it
call pytest.importorskip('torch') themselves.
"""
import contextlib
import warnings

import numpy as np
import pytest

import nbgrad

try:
    import torch
except ImportError:
    torch = None

LIBS = [pytest.param(torch, id='torch'), pytest.param(nbgrad, id='nbgrad')]
each_lib = pytest.mark.parametrize('lib', LIBS)  # a test(lib) run once with each library
TENSOR_TYPES = (nbgrad.Tensor,) if torch is None else (torch.Tensor, nbgrad.Tensor)


# ---------------------------------------------------------------------------------------------
# Names and marks
# ---------------------------------------------------------------------------------------------

def oracle_has(condition, what):
    """Skip the calling test unless `condition` (a feature test on the installed PyTorch) holds:
    nbgrad follows PyTorch 2.13 (pyproject pins it for CI), and an older oracle, such as the GPU
    machine's, would report a difference that is only the oracle's age."""
    if not condition:
        pytest.skip(f'the oracle torch {torch.__version__} predates {what} (nbgrad follows '
                    'torch 2.13)')


def oracle_differentiates(fn):
    """Whether the installed PyTorch runs fn (a backward through some op) without refusing:
    older versions lack derivatives that 2.13 has (narrow_copy's, nextafter's)."""
    try:
        fn()
    except (RuntimeError, NotImplementedError):
        return False
    return True


def dname(dt):
    """A dtype's name without its library's prefix: 'float32' for torch.float32 and
    nbgrad.float32."""
    return str(dt).rsplit('.', 1)[-1]


def exc_kind(exc):
    """The builtin exception class behind a (possibly torch-specific) exception."""
    return next(c for c in type(exc).__mro__ if c.__module__ == 'builtins')


def nbgrad_bug(reason):
    """The mark of a case that hits a known nbgrad bug: a strict xfail."""
    return pytest.mark.xfail(reason=f'nbgrad bug: {reason}', strict=True)


def marked(values, bugs, ids=str):
    """pytest params for values (a tuple gives one argument per item), with the id ids(value);
    bugs maps a value to the reason of a known bug (see nbgrad_bug)."""
    return [pytest.param(*(v if isinstance(v, tuple) else (v,)), id=ids(v),
                         marks=nbgrad_bug(bugs[v]) if v in bugs else ()) for v in values]


# ---------------------------------------------------------------------------------------------
# An nbgrad result against torch's, as they are
# ---------------------------------------------------------------------------------------------

def assert_same(got, expected, where='result', *, rtol=1e-6, atol=1e-7, bitwise=False,
                same_type=False):
    """Recursive comparison of an nbgrad result with torch's.

    Tensors: an nbgrad Tensor of the same dtype and shape, with equal values (NaN equal to NaN).
    Float and complex values are compared to rtol/atol (by default 1e-6 relative: NumPy's and
    torch's exp/pow may differ in the last bit); with rtol = atol = 0, and for other dtypes,
    exactly; bitwise=True compares the bytes.
    Tuples and lists (torch.Size too): the same type and length, item by item.
    Other values: equal, and with same_type=True of the same type."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, nbgrad.Tensor), f'{where}: {type(got).__name__}, expected a Tensor'
        assert dname(got.dtype) == dname(expected.dtype), where
        assert tuple(got.shape) == tuple(expected.shape), where
        g, e = got.detach().numpy(), expected.detach().numpy()
        if bitwise:
            assert g.tobytes() == e.tobytes(), f'{where}:\n{g!r}\n!=\n{e!r}'
        elif e.dtype.kind in 'fc' and (rtol or atol):
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=where)
        else:
            np.testing.assert_array_equal(g, e, err_msg=where)
    elif isinstance(expected, (list, tuple)):
        assert type(got).__name__ == type(expected).__name__, f'{where}: {type(got).__name__}'
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f'{where}[{i}]', rtol=rtol, atol=atol, bitwise=bitwise,
                        same_type=same_type)
    else:
        assert got == expected, f'{where}: {got!r} != {expected!r}'
        assert not same_type or type(got) is type(expected), \
            f'{where}: {type(got).__name__}, expected {type(expected).__name__}'


def both(fn, check=assert_same, *, quiet=False, unless=None):
    """Run fn(torch), then fn(nbgrad). Where torch raises, nbgrad must raise the same kind of
    exception (exc_kind); otherwise check(nbgrad's result, torch's) must pass.

    quiet=True ignores the warnings of both runs (torch's deprecation warnings, ...).
    unless(torch's result) true skips nbgrad's run and the check (a result that nbgrad cannot
    represent). Returns nbgrad's result, or None where it did not run."""
    with warnings.catch_warnings() if quiet else contextlib.nullcontext():
        if quiet:
            warnings.simplefilter('ignore')
        try:
            expected = fn(torch)
        except Exception as e:
            with pytest.raises(exc_kind(e)):
                fn(nbgrad)
            return None
        if unless is not None and unless(expected):
            return None
        got = fn(nbgrad)
    check(got, expected)
    return got


def assert_same_error(fn):
    """fn(torch) and fn(nbgrad) must both raise, the same builtin kind of exception with the
    same message (library names read as nbgrad's). Returns nbgrad's exception."""
    outcomes = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as info:
            fn(lib)
        message = str(info.value).replace('torch.Size', 'nbgrad.Size').replace('torch.', 'nbgrad.')
        outcomes.append((exc_kind(info.value), message))
    assert outcomes[1] == outcomes[0], f'nbgrad: {outcomes[1]}, PyTorch: {outcomes[0]}'
    return info.value


# ---------------------------------------------------------------------------------------------
# Results as NumPy values: run a case with both libraries and compare (the autograd tests)
# ---------------------------------------------------------------------------------------------

def to_np(value):
    """Tensors (nested in tuples/lists/dicts) to NumPy arrays; other values unchanged."""
    if isinstance(value, TENSOR_TYPES):
        t = value.detach()
        return (t.numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()).copy()
    if isinstance(value, (tuple, list)):
        return type(value)(to_np(v) for v in value)
    if isinstance(value, dict):
        return {k: to_np(v) for k, v in value.items()}
    return value


def assert_same_value(actual, expected, rtol=1e-6, atol=1e-9, where='result'):
    if expected is None:
        assert actual is None, f'{where}: expected None (as PyTorch), got {actual!r}'
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f'{where}: expected an array, got {actual!r}'
        assert actual.shape == expected.shape, f'{where}: shape {actual.shape} != {expected.shape}'
        assert actual.dtype == expected.dtype, f'{where}: dtype {actual.dtype} != {expected.dtype}'
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(expected, (tuple, list)):
        kind = tuple if isinstance(expected, tuple) else list  # a tuple (or Size) vs a list
        assert isinstance(actual, kind) and len(actual) == len(expected), \
            f'{where}: {actual!r} vs {expected!r}'
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_value(a, e, rtol, atol, f'{where}[{i}]')
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for k in expected:
            assert_same_value(actual[k], expected[k], rtol, atol, f'{where}[{k!r}]')
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=rtol, abs=atol, nan_ok=True), where
    else:
        assert actual == expected, f'{where}: {actual!r} != {expected!r} (PyTorch)'


def same(case, rtol=1e-6, atol=1e-9):
    """Run case(torch) and case(nbgrad); their (nested) results must agree."""
    expected = to_np(case(torch))
    actual = to_np(case(nbgrad))
    assert_same_value(actual, expected, rtol, atol)
    return actual


def assert_same_kind(ours, theirs):
    """Our exception is of PyTorch's kind: the same built-in class (and the same name when
    PyTorch raises a class of its own, such as GradcheckError)."""
    base = exc_kind(theirs)
    assert isinstance(ours, base), (f'PyTorch raised {type(theirs).__name__}({theirs}); '
                                    f'nbgrad raised {type(ours).__name__}({ours})')
    if type(theirs).__module__ != 'builtins':
        assert type(ours).__name__ == type(theirs).__name__


def snapshot(tensors):
    """Values, .grad, requires_grad and version of each tensor (to check errors change nothing)."""
    state = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name, t in tensors.items():
            state[name] = (to_np(t), to_np(t.grad), t.requires_grad, t._version,
                           t.grad_fn is None)
    return state


def same_error(setup, action, mentions=(), unchanged=True):
    """setup(lib) -> dict of tensors; action(lib, **tensors) must raise in PyTorch, and nbgrad must
    raise the same kind of exception, mention each word of `mentions` and leave the tensors as they
    were (skip that with unchanged=False where PyTorch itself changes them before refusing).
    Returns (PyTorch's exception, ours)."""
    excs = {}
    for lib in (torch, nbgrad):
        tensors = setup(lib)
        before = snapshot(tensors)
        with pytest.raises(Exception) as info:
            action(lib, **tensors)
        excs[lib] = info.value
        after = snapshot(tensors)
        for name in before if unchanged else ():
            assert_same_value(after[name], before[name], 0, 0,
                              f'{lib.__name__}: state of {name!r} changed by the failed call')
    theirs, ours = excs[torch], excs[nbgrad]
    assert_same_kind(ours, theirs)
    for word in mentions:
        assert word.lower() in str(ours).lower(), f'{word!r} not in our message: {ours}'
    return theirs, ours


def arr(*shape, seed=0, low=-1.0, high=1.0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def leaf(lib, a, requires_grad=True):
    return lib.tensor(np.array(a), requires_grad=requires_grad)


def on_cpu(value):
    """nbgrad results (tensors, tuples and named tuples of them) brought to the CPU."""
    if isinstance(value, nbgrad.Tensor):
        return value.detach().cpu()
    if isinstance(value, tuple) and hasattr(value, '_fields'):
        return type(value)(*(on_cpu(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(on_cpu(v) for v in value)
    return value


def on_device(value, device):
    """Every nbgrad tensor in a result lives on `device`."""
    if isinstance(value, nbgrad.Tensor):
        assert value.device.type == device, f'{value.device} is not {device}'
    elif isinstance(value, (tuple, list)):
        for v in value:
            on_device(v, device)


def compare_on_device(fn, device, rtol=1e-6, atol=1e-7, quiet=False):
    """fn(lib, dev): torch on the CPU, nbgrad on `device`; the same results (dtype, shape,
    values: assert_same), or the same kind of exception. quiet=True ignores both runs'
    warnings. Returns nbgrad's result, or None where torch raised."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter('ignore')
        try:
            expected = fn(torch, 'cpu')
        except Exception as e:
            with pytest.raises(exc_kind(e)):
                fn(nbgrad, device)
            return None
        got = fn(nbgrad, device)
    on_device(got, device)
    assert_same(on_cpu(got), expected, rtol=rtol, atol=atol)
    return got

