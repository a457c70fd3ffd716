"""tril_indices/triu_indices, block_diag, atleast_1d/2d/3d, combinations, vander, the window
functions (hann, hamming, bartlett, blackman, kaiser), ldexp and frexp against PyTorch: values,
dtypes, shapes, gradients and the errors for bad input. PyTorch runs on the CPU; nbgrad runs on
each device of the `device` fixture and its results are compared on the CPU."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, exc_kind

torch = pytest.importorskip('torch')


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


def compare(fn, device, rtol=0, atol=0, quiet=False):
    """fn(lib, dev): torch on the CPU, nbgrad on `device`. Results must match (exactly by
    default), or both must raise the same kind of exception."""
    import warnings
    with warnings.catch_warnings():
        if quiet:  # PyTorch's internal deprecation warnings (ldexp of a 0-d input resizes)
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


def make(lib, array, device, requires_grad=False):
    return lib.tensor(array, device=device, requires_grad=requires_grad)


def weights(shape, seed=1):
    """Fixed weights for a weighted-sum loss (so every output element gets its own gradient)."""
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


def grads_of(lib, device, fn, arrays, dtype=np.float64):
    """Leaves from `arrays`, out = fn(lib, *leaves), backward of sum(out * weights): returns
    (out, [leaf.grad...])."""
    leaves = [make(lib, np.asarray(a, dtype=dtype), device, requires_grad=True) for a in arrays]
    out = fn(lib, *leaves)
    w = lib.tensor(weights(tuple(out.shape)), dtype=out.dtype, device=device)
    (out * w).sum().backward()
    return out, [leaf.grad for leaf in leaves]


# ---------------------------------------------------------------------------------------------
# tril_indices / triu_indices
# ---------------------------------------------------------------------------------------------

TRI_SIZES = [(0, 0), (0, 3), (3, 0), (1, 1), (3, 3), (3, 5), (5, 3), (4, 4), (7, 2),
             (60, 45)]


@pytest.mark.parametrize('name', ['tril_indices', 'triu_indices'])
@pytest.mark.parametrize('row,col', TRI_SIZES, ids=str)
@pytest.mark.parametrize('offset', [-9, -3, -1, 0, 1, 2, 6])
def test_triangle_indices_match_torch(name, row, col, offset, device):
    compare(lambda lib, dev: getattr(lib, name)(row, col, offset, device=dev), device)


@pytest.mark.parametrize('name', ['tril_indices', 'triu_indices'])
@pytest.mark.parametrize('dtype', ['int32', 'int64'])
def test_triangle_indices_dtypes_and_keywords(name, dtype, device):
    compare(lambda lib, dev: getattr(lib, name)(4, 6, offset=-1, dtype=getattr(lib, dtype),
                                                device=dev), device)
    compare(lambda lib, dev: getattr(lib, name)(lib.tensor(3), np.int64(4), device=dev), device)


@pytest.mark.parametrize('call', [
    lambda lib: lib.tril_indices(-1, 3), lambda lib: lib.triu_indices(3, -2),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.float32),
    lambda lib: lib.triu_indices(3, 3, dtype=lib.int16),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.bool),
    lambda lib: lib.tril_indices(3, 3, dtype=lib.uint8),
    lambda lib: lib.tril_indices(3.0, 3), lambda lib: lib.triu_indices(3, True),
    lambda lib: lib.tril_indices(3, 3, 1.5), lambda lib: lib.triu_indices(3, lib.tensor(3.0)),
], ids=['neg_row', 'neg_col', 'float32', 'int16', 'bool', 'uint8', 'float_row', 'bool_col',
        'float_offset', 'float_tensor'])
def test_triangle_indices_errors_are_torchs(call):
    assert_same_error(call)


def test_triangle_indices_cannot_require_grad():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError):
            lib.tril_indices(3, 3, requires_grad=True)
