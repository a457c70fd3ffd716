"""Shared inputs and checks for the sorting and counting tests (test_sorting.py, test_counting.py):
small integer pools (ties) with NaNs mixed in, 0-dim, empty, transposed and several-dim tensors."""
import numpy as np
import pytest

import nbgrad
from nbgrad.ops import sorting
from torch_compare import dname

try:
    import torch
except ImportError:  # the oracle is an optional test dependency
    torch = None


class _NbgradWithSorting:
    """nbgrad with the functions of nbgrad.ops.sorting (which the package re-exports)."""

    def __getattr__(self, name):
        if name in sorting.__all__:
            return getattr(sorting, name)
        return getattr(nbgrad, name)


nb = _NbgradWithSorting()
needs_torch = pytest.mark.skipif(torch is None, reason='PyTorch (the test oracle) is not installed')
NAN = float('nan')

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def sample(shape, dtype, rng, *, ties=True, nans=False):
    """Random values of `dtype`; ties draws from a few integers so that equal elements are common;
    nans replaces about a fifth of the elements (at least one) by NaN."""
    dtype = np.dtype(dtype)
    if dtype == bool:
        return rng.integers(0, 2, shape).astype(bool)
    if ties or dtype.kind in 'iu':
        low = 0 if dtype.kind == 'u' else -3
        a = rng.integers(low, low + 7, shape).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    if nans and dtype.kind == 'f' and a.size:
        a.flat[rng.choice(a.size, max(1, a.size // 5), replace=False)] = np.nan
    return a


def make(lib, array, device='cpu', noncontig=False, requires_grad=False):
    """A tensor of `lib` with the values of `array`; noncontig makes it a strided view (a permuted
    tensor for 2+ dims, every other element for 1 dim) holding the same values."""
    dev = device if lib is nb else 'cpu'
    if noncontig and array.ndim >= 2:
        order = tuple(range(array.ndim))[::-1]
        t = lib.tensor(np.ascontiguousarray(array.transpose(order)), device=dev).permute(order)
    elif noncontig and array.ndim == 1:
        t = lib.tensor(np.repeat(array, 2), device=dev)[::2]
    else:
        t = lib.tensor(array, device=dev)
    if requires_grad:
        t.requires_grad_()
    return t


def to_np(t):
    return t.detach().cpu().numpy()


def assert_same(got, expected, *, rtol=0.0, atol=0.0):
    """Same dtype, shape and values (NaN equal to NaN); exact unless a tolerance is given."""
    assert dname(got.dtype) == dname(expected.dtype), (got.dtype, expected.dtype)
    g, e = to_np(got), to_np(expected)
    assert g.shape == e.shape, (g.shape, e.shape)
    if rtol or atol:
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, e)


def assert_picks(x, values, indices, dim, keepdim=True):
    """Each index points at an element of x (along dim) equal to the value next to it."""
    x, values, indices = to_np(x), to_np(values), to_np(indices)
    assert indices.dtype == np.int64 and indices.shape == values.shape
    if x.ndim == 0:
        assert indices.shape == () and indices == 0
        np.testing.assert_array_equal(values, x)
        return
    if not keepdim:
        values, indices = np.expand_dims(values, dim), np.expand_dims(indices, dim)
    np.testing.assert_array_equal(np.take_along_axis(x, indices, dim), values)


def dim_size(shape, dim):
    return shape[dim] if shape else 1


# Shapes with a dim to work along: 0-dim, empty (along and across dim), short rows (PyTorch's sort
# is stable there), long rows (it is not), and 3 dims.
SHAPE_DIMS = [((), 0), ((), -1), ((0,), 0), ((7,), 0), ((4, 5), 1), ((4, 5), 0), ((3, 0), 1),
              ((0, 3), 1), ((2, 3, 4), 1), ((2, 3, 4), -1), ((40,), 0), ((3, 37), 1), ((37, 2), 0)]
# For reductions (kthvalue, median, mode) the reduced dim must not be empty.
REDUCE_SHAPE_DIMS = [(s, d) for s, d in SHAPE_DIMS if dim_size(s, d) > 0]
SORT_DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'uint8', 'bool']


def input_variants(shape, dtypes, seed, nan_variants=(False, True)):
    """(numpy input, noncontig) pairs over dtypes, with and without NaN, contiguous or not."""
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        for nans in nan_variants:
            if nans and np.dtype(dtype).kind != 'f':
                continue
            for noncontig in (False, True):
                yield sample(shape, dtype, rng, nans=nans), noncontig
