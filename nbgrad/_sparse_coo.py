"""The array side of a sparse COO tensor: what a sparse Tensor holds in `_data`, and the array
algorithms the sparse ops are built from (NumPy or CuPy alike, chosen by the values' module).

A COO tensor of shape (s_0, ..., s_{k-1}, d_0, ...) stores `indices`, an int64 array (k, nnz),
and `values`, an array (nnz, d_0, ...): element indices[:, j] of the first k ("sparse") dims
holds values[j]. Indices may repeat and come in any order ("uncoalesced": repeated entries add
up); coalescing sorts them and sums the repeats, as PyTorch's coalesce() does.

The payload answers the metadata a dense array would (shape, dtype, ndim, size) so that the
engine's bookkeeping (graph edges, gradient shape checks) treats a sparse tensor like any other;
any other array attribute raises an error that names it (see __getattr__).

A compressed (CSR or CSC) tensor is carried by the same payload: its entries, in the order of
its values, plus `compressed`, the compressed index arrays (_sparse_csr.Compressed). Carrying
it this way lets a CSR tensor go through the dispatcher, device moves and autograd as the COO
tensor of the same entries does; `compressed is None` means the layout is COO.
"""
import math

import numpy as np

from ._arrays import is_host_array


class SparseMemoryError(AttributeError, NotImplementedError):
    """What a dense-only attribute of a sparse tensor's payload raises (NotImplementedError, as
    PyTorch's missing sparse kernels; also AttributeError, so getattr(x, name, default) works)."""


class SparseCOO:
    __slots__ = ('indices', 'values', 'shape', 'coalesced', 'compressed')

    def __init__(self, indices, values, shape, coalesced, compressed=None):
        self.indices = indices          # int64 (sparse_dim, nnz)
        self.values = values            # (nnz, *dense_shape)
        self.shape = tuple(shape)
        self.coalesced = coalesced
        self.compressed = compressed    # None (COO), or a CSR/CSC tensor's compressed indices

    # -- what a dense array would say ---------------------------------------------------------
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    @property
    def dense_dim(self):
        return self.values.ndim - 1

    @property
    def nnz(self):
        return self.indices.shape[1]

    @property
    def xp(self):
        return np if is_host_array(self.values) else _cupy()

    def __getattr__(self, name):
        if name.startswith('__'):   # protocols (copy, pickle) probe with getattr(x, name, None)
            raise AttributeError(name)
        raise SparseMemoryError(
            f"a sparse COO tensor has no dense memory ('{name}' was asked of it); nbgrad's "
            f'sparse tensors support the operations listed in nbgrad.sparse. Call .to_dense() '
            f'first for anything else.')

    def __repr__(self):
        return f'SparseCOO(shape={self.shape}, nnz={self.nnz}, coalesced={self.coalesced})'

    # -- derived payloads -----------------------------------------------------------------------
    def with_values(self, values):
        """The same pattern with new values (of the same length)."""
        return SparseCOO(self.indices, values, self.shape, self.coalesced)

    def astype(self, np_dtype):
        return self.with_values(self.values.astype(np_dtype))

    def copy(self):
        """Copies of both arrays (what Tensor.__deepcopy__ asks of its data)."""
        compressed = None if self.compressed is None else self.compressed.copy()
        return SparseCOO(self.indices.copy(), self.values.copy(), self.shape, self.coalesced,
                         compressed)


def _cupy():
    import cupy
    return cupy


def linear_index(indices, sparse_shape, xp):
    """Row-major position of each entry among the sparse dims (int64)."""
    lin = xp.zeros(indices.shape[1], np.int64)
    for d, size in enumerate(sparse_shape):
        lin *= size
        lin += indices[d]
    return lin


def unravel(lin, sparse_shape, xp):
    """linear_index's inverse: an int64 (len(sparse_shape), n) array."""
    rows = []
    for size in reversed(sparse_shape):
        rows.append(lin % size)
        lin = lin // size
    rows.reverse()
    return xp.stack(rows) if rows else xp.zeros((0, lin.shape[0]), np.int64)


def coalesce(s):
    """Sorted indices, repeats summed (in the order they were stored, as PyTorch adds them)."""
    if s.coalesced:
        return s
    xp = s.xp
    sparse_shape = s.shape[:s.sparse_dim]
    lin = linear_index(s.indices, sparse_shape, xp)
    order = xp.argsort(lin, kind='stable')
    lin = lin[order]
    values = s.values[order]
    first = xp.ones(lin.shape[0], bool)
    first[1:] = lin[1:] != lin[:-1]
    starts = xp.flatnonzero(first)
    if starts.shape[0] == lin.shape[0]:     # distinct indices (a transpose's): a sort only
        summed = values
    elif xp is np:
        summed = np.add.reduceat(values, starts, axis=0)
    else:
        from .ops.views import _index_add_at
        segment = xp.cumsum(first) - 1
        summed = xp.zeros((starts.shape[0],) + values.shape[1:], values.dtype)
        _index_add_at(xp, summed, segment, values)
    # (each distinct index's columns read from the first of its entries: no division back)
    return SparseCOO(s.indices[:, order[starts]], summed.astype(values.dtype, copy=False),
                     s.shape, True)


def first_entries(s):
    """The position of the first stored entry of each distinct index (in sorted index order),
    and those indices: the coalesced pattern, pointing back into s's own entries."""
    xp = s.xp
    lin = linear_index(s.indices, s.shape[:s.sparse_dim], xp)
    order = xp.argsort(lin, kind='stable')
    lin = lin[order]
    first = xp.ones(lin.shape[0], bool)
    first[1:] = lin[1:] != lin[:-1]
    positions = order[first]
    return positions, s.indices[:, positions]


def to_dense(s):
    xp = s.xp
    c = coalesce(s)
    k = c.sparse_dim
    out = xp.zeros(s.shape, s.dtype)
    flat = out.reshape((math.prod(s.shape[:k]),) + s.shape[k:])
    flat[linear_index(c.indices, s.shape[:k], xp)] = c.values
    return out


def from_dense(a, sparse_dim):
    """A dense array's nonzero entries over its first sparse_dim dims (a row of the dense dims
    is stored when any of its elements is nonzero), coalesced."""
    xp = np if is_host_array(a) else _cupy()
    shape = a.shape
    rows = a.reshape((math.prod(shape[:sparse_dim]),) + shape[sparse_dim:])
    nonzero = rows != 0
    if nonzero.ndim > 1:
        nonzero = nonzero.reshape(nonzero.shape[0], -1).any(axis=1)
    lin = xp.flatnonzero(nonzero)
    return SparseCOO(unravel(lin, shape[:sparse_dim], xp), rows[lin], shape, True)


def lookup(s, indices):
    """The values a sparse payload holds at each column of `indices` (zeros where it holds
    none): an array (n, *dense_shape). Used to gather a sparse gradient at another pattern."""
    xp = s.xp
    c = coalesce(s)
    sparse_shape = s.shape[:c.sparse_dim]
    have = linear_index(c.indices, sparse_shape, xp)
    want = linear_index(indices, sparse_shape, xp)
    out = xp.zeros((want.shape[0],) + c.values.shape[1:], c.dtype)
    if have.shape[0] == 0 or want.shape[0] == 0:
        return out
    at = xp.searchsorted(have, want)
    at_clipped = xp.minimum(at, have.shape[0] - 1)
    found = have[at_clipped] == want
    out[found] = c.values[at_clipped[found]]
    return out


def mask_dense(a, s):
    """A dense array's entries at each of a sparse payload's entries, repeats and order kept
    (sparse_mask: PyTorch keeps an uncoalesced mask's entries as they are)."""
    k = s.sparse_dim
    rows = a.reshape((math.prod(a.shape[:k]),) + a.shape[k:])
    return s.with_values(rows[linear_index(s.indices, s.shape[:k], s.xp)])


def promote(a, b):
    """PyTorch's result dtype of two tensors' (NumPy) dtypes: int64 with float32 is float32,
    where NumPy would widen to float64."""
    from ._dtype import from_numpy_dtype, promote_types
    return promote_types(from_numpy_dtype(a), from_numpy_dtype(b)).np


def concat(a, b):
    """Both entry lists, uncoalesced, in the dtype both promote to."""
    xp = a.xp
    dtype = promote(a.dtype, b.dtype)
    return SparseCOO(xp.concatenate([a.indices, b.indices], axis=1),
                     xp.concatenate([a.values.astype(dtype, copy=False),
                                     b.values.astype(dtype, copy=False)]), a.shape, False)


def add(a, b):
    """a + b as PyTorch's CPU kernel forms it: a merge walk of the two entry lists that joins
    equal indices meeting at the same step. Flagged coalesced when both inputs were. The walk's
    outcome is computed directly for the cases it has a simple form: identical index lists
    (entries added pairwise) and sorted, distinct ones (the union, repeats summed). Other
    uncoalesced inputs keep both entry lists (the same dense value; PyTorch's walk would join
    some of the entries)."""
    flag = a.coalesced and b.coalesced
    dtype = promote(a.dtype, b.dtype)
    if a.indices is b.indices or (a.nnz == b.nnz and bool((a.indices == b.indices).all())):
        values = a.values.astype(dtype) + b.values.astype(dtype, copy=False)
        return SparseCOO(a.indices, values, a.shape, flag)
    both = concat(a, b)
    if sorted_distinct(a) and sorted_distinct(b):
        merged = coalesce(both)
        merged.coalesced = flag
        return merged
    return both


def sorted_distinct(s):
    """Whether s's entries are in coalesced order (sorted, no index twice), flag or not."""
    if s.coalesced or s.nnz <= 1:
        return True
    lin = linear_index(s.indices, s.shape[:s.sparse_dim], s.xp)
    return bool((lin[1:] > lin[:-1]).all())


def intersect(a, b):
    """Entries present in both coalesced payloads: (indices, a's values, b's values)."""
    xp = a.xp
    sparse_shape = a.shape[:a.sparse_dim]
    la = linear_index(a.indices, sparse_shape, xp)
    lb = linear_index(b.indices, sparse_shape, xp)
    if la.shape[0] == 0 or lb.shape[0] == 0:
        keep_a = xp.zeros(0, np.int64)
        keep_b = keep_a
    else:
        at = xp.minimum(xp.searchsorted(lb, la), lb.shape[0] - 1)
        found = lb[at] == la
        keep_a = xp.flatnonzero(found)
        keep_b = at[found]
    return a.indices[:, keep_a], a.values[keep_a], b.values[keep_b]


def transpose(s, dim0, dim1):
    """Swap two sparse dims (a permutation of index rows) or two dense dims (of the values)."""
    k = s.sparse_dim
    shape = list(s.shape)
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    if dim0 < k and dim1 < k:
        order = list(range(k))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        # (the entries' order changes: coalesced still only with at most one entry)
        return SparseCOO(s.indices[order], s.values, shape,
                         s.coalesced and (dim0 == dim1 or s.nnz <= 1))
    if dim0 >= k and dim1 >= k:
        values = s.values.swapaxes(dim0 - k + 1, dim1 - k + 1)
        return SparseCOO(s.indices, values, shape, s.coalesced)
    raise RuntimeError(f'transpose of a sparse tensor with {k} sparse dims: dims {dim0} and '
                       f'{dim1} mix a sparse and a dense dim, which PyTorch does not support '
                       f'either; call .to_dense() first.')
