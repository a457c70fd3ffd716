"""The differentiable primitives of sparse COO tensors, as graph nodes (see autograd.graph.Node).

Most sparse arithmetic is built from two of them and ordinary dense ops on the values: `Values`
(a sparse tensor's values as a dense tensor) and `FromValues` (a pattern plus dense values as a
sparse tensor). S * 2 is FromValues(pattern, Values(S) * 2), so its gradient flows through the
dense op and back into a sparse gradient of S with S's pattern, as in PyTorch. The rest (adding
two patterns, products with a dense matrix, transposes, softmax) are primitives here.
Backward formulas use Tensor ops, so they run on either device.
"""
import math

import numpy as np

from .._tensor import Tensor
from .._threads import row_parts, run_parts
from ..autograd.graph import Node
from .. import _sparse_coo as _coo
from .._sparse_coo import SparseCOO


def sparse_tensor(payload):
    return Tensor._make(payload)


class SparseNode(Node):
    accepts_sparse = True   # the dispatcher hands these their sparse inputs as payloads

    def _hold(self):
        """Mark state kept by forward (a pattern, indices) as saved: the engine frees it after
        a backward without retain_graph, so a second backward raises, as PyTorch's would."""
        self._saved = ()

    def _check_held(self):
        self.saved_tensors     # (raises once freed)


class Values(SparseNode):
    """S -> its values (nnz, *dense_shape); the gradient goes back with S's pattern.

    Every op built on Values depends on S only through its dense value, so entries that repeat
    an index receive equal gradients; the gradient with respect to S's value at that index is
    one of them (the entries' sum would count it once per repeat): an uncoalesced S gets a
    coalesced gradient, as PyTorch's sparse gradients are."""

    saved_inputs = (0,)     # (checked: an in-place change of S makes backward raise)

    def __init__(self, node_name='ValuesBackward0', keeps_flag=False):
        self.node_name = node_name
        self.keeps_flag = keeps_flag    # (Tensor.values(): see _accumulate_sparse)

    def name(self):
        return self.node_name

    def forward(self, s):
        return s.values

    def backward(self, g):
        pattern = self.saved_tensors[0]._data
        if pattern.coalesced:
            grad = sparse_tensor(pattern.with_values(g._data))
        else:
            positions, indices = _coo.first_entries(pattern)
            grad = sparse_tensor(SparseCOO(indices, g._data[positions], pattern.shape, True))
        if self.keeps_flag:
            grad._keeps_coalesced_flag = True
        return grad


class FromValues(SparseNode):
    """(pattern's indices, dense values) -> sparse. The gradient of the values is the incoming
    gradient read at each stored index (repeated indices each read the same element)."""

    def __init__(self, indices, shape, coalesced, node_name):
        self.indices, self.shape, self.coalesced = indices, tuple(shape), coalesced
        self.node_name = node_name

    def name(self):
        return self.node_name

    def forward(self, values):
        self._hold()
        return SparseCOO(self.indices, values, self.shape, self.coalesced)

    def backward(self, g):
        self._check_held()
        data = g._data
        if data.__class__ is SparseCOO:
            return Tensor._make(_coo.lookup(data, self.indices))
        k = self.indices.shape[0]
        rows = g.reshape((math.prod(self.shape[:k]),) + self.shape[k:])
        xp = np if self.indices.__class__ is np.ndarray else _coo._cupy()
        return rows[Tensor._make(_coo.linear_index(self.indices, self.shape[:k], xp))]


class Coalesce(SparseNode):
    def forward(self, s):
        return _coo.coalesce(s)

    def backward(self, g):
        return g


class ToDense(SparseNode):
    """The gradient keeps the sparse tensor's (coalesced) pattern: PyTorch's masked to_dense
    backward."""
    saved_inputs = (0,)

    def forward(self, s):
        return _coo.to_dense(s)

    def backward(self, g):
        return dispatch_mask(g, _coo.coalesce(self.saved_tensors[0]._data))


class SparseMask(SparseNode):
    """A dense tensor's entries at each of a sparse tensor's entries (Tensor.sparse_mask); its
    gradient is dense."""

    def __init__(self, pattern):
        self.pattern = pattern

    def forward(self, a):
        self._hold()
        return _coo.mask_dense(a, self.pattern)

    def backward(self, g):
        """Each mask entry read its index's element: the element's gradient is the sum over
        the entries at its index (a repeated entry counts twice, as in PyTorch)."""
        self._check_held()
        pattern = self.pattern
        data = g._data
        at_entries = _coo.lookup(data, pattern.indices) if data.__class__ is SparseCOO else \
            _coo.mask_dense(data, pattern).values
        return Tensor._make(_coo.to_dense(pattern.with_values(at_entries)))


def dispatch_mask(dense, pattern):
    from .._dispatch import dispatch
    return dispatch(SparseMask(pattern), dense)


class LinearInValues(SparseNode):
    """s * c, s / c, -s, clone(), to(dtype): s's entries with values fn(values), for fn linear
    in them. The backward applies grad_fn to the incoming gradient as it comes, so a dense
    gradient reaches s dense (all elements, PyTorch's mul, div, neg and copy formulas), where
    the masked values_of/with_values path would give s's entries only."""

    def __init__(self, fn, grad_fn, node_name, copy_indices=False):
        self.fn, self.grad_fn, self.node_name = fn, grad_fn, node_name
        self.copy_indices = copy_indices

    def name(self):
        return self.node_name

    def forward(self, s):
        values = self.fn(Tensor._make(s.values))._data
        indices = s.indices.copy() if self.copy_indices else s.indices
        return SparseCOO(indices, values, s.shape, s.coalesced)

    def backward(self, g):
        return self.grad_fn(g)


class MulDense(SparseNode):
    """sparse * dense of the same size: s's entries, each times the dense element at its index.
    Gradients as PyTorch's mul: g * d for s (dense when g is) and g * s for d (sparse, s's
    entries, when g is dense)."""
    saved_inputs = (0, 1)

    def __init__(self, node_name):
        self.node_name = node_name

    def name(self):
        return self.node_name

    def forward(self, s, d):
        at_entries = _coo.mask_dense(d, s).values
        values = (Tensor._make(s.values) * Tensor._make(at_entries))._data   # (promotion)
        return s.with_values(values)

    def backward(self, g):
        s, d = self.saved_tensors
        edges = self._edges
        return (g * d if edges[0] is not None else None,
                g * s if edges[1] is not None else None)


class AddSparse(SparseNode):
    """sparse + sparse (or -), merged as PyTorch's kernel merges them (_coo.add)."""

    def __init__(self, sign=1, node_name='AddBackward0'):
        self.sign, self.node_name = sign, node_name

    def name(self):
        return self.node_name

    def forward(self, a, b):
        _same_shape(a, b, 'add')
        for dtype in {a.dtype, b.dtype} & {np.dtype(bool), np.dtype(np.float16)}:
            raise NotImplementedError(f'"cadd_sparse" not implemented for '
                                      f'{_dtype_name(dtype)}: PyTorch adds sparse tensors of '
                                      f'other dtypes only; convert with .to() first.')
        if self.sign < 0:
            b = b.with_values(-b.values)
        return _coo.add(a, b)

    def backward(self, g):
        return g, (g if self.sign > 0 else -g)


class DenseAddSparse(SparseNode):
    """dense + sparse -> dense. The sparse input's gradient is dense, as PyTorch's."""

    def __init__(self, sign=1, node_name='AddBackward0'):
        self.sign, self.node_name = sign, node_name

    def name(self):
        return self.node_name

    def forward(self, a, s):
        if tuple(a.shape) != s.shape:
            raise RuntimeError(f'add(dense, sparse): the shapes must match, but the dense tensor '
                               f'is {list(a.shape)} and the sparse one {list(s.shape)}')
        # (cast before the entries are summed: two True entries of a bool tensor add up to 2)
        dtype = _coo.promote(a.dtype, s.dtype)
        dense = _coo.to_dense(s.astype(dtype))
        a = a.astype(dtype, copy=False)
        return a + dense if self.sign > 0 else a - dense

    def backward(self, g):
        return g, (g if self.sign > 0 else -g)


class MulSparse(SparseNode):
    """sparse * sparse, elementwise: the entries both hold."""
    saved_inputs = (0, 1)   # (tensors: the gradient g * b stays differentiable in b)

    def name(self):
        return 'MulBackward0'

    def forward(self, a, b):
        _same_shape(a, b, 'mul')
        ca, cb = _coo.coalesce(a), _coo.coalesce(b)
        indices, va, vb = _coo.intersect(ca, cb)
        dtype = _coo.promote(a.dtype, b.dtype)
        return SparseCOO(indices, va.astype(dtype) * vb.astype(dtype, copy=False), a.shape,
                         a.coalesced and b.coalesced)

    def backward(self, g):
        a, b = self.saved_tensors
        return g * b, g * a


class Transpose(SparseNode):
    def __init__(self, dim0, dim1, node_name):
        self.dim0, self.dim1, self.node_name = dim0, dim1, node_name

    def name(self):
        return self.node_name

    def forward(self, s):
        return _coo.transpose(s, self.dim0, self.dim1)

    def backward(self, g):
        return g.transpose(self.dim0, self.dim1)


class SparseDenseMM(SparseNode):
    """2-d sparse @ dense -> dense. torch.sparse.mm's sparse gradient keeps the sparse
    input's pattern; torch.mm's and @'s is dense (both as in PyTorch)."""
    saved_inputs = (0, 1)

    def __init__(self, masked_grad, node_name):
        self.masked_grad, self.node_name = masked_grad, node_name

    def name(self):
        return self.node_name

    def forward(self, s, d):
        _check_mm(s, d, both_sparse=False)
        return spmm(s, d)

    def backward(self, g):
        s, d = self.saved_tensors
        grad_s = grad_d = None
        if self._edges[0] is not None:
            # the masked gradient needs (g @ d^T) at s's entries only: a sampled product
            grad_s = sampled_mm(g, d, _coo.coalesce(s._data)) if self.masked_grad else \
                g.mm(d.t())
        if self._edges[1] is not None:
            grad_d = s.t().mm(g)
        return grad_s, grad_d


def sampled_mm(a, b, pattern):
    """(a @ b^T) at the entries of a 2-d sparse pattern, as a sparse tensor with that pattern:
    one dot product per entry instead of the whole product (Tensor ops: differentiable)."""
    from ._build import with_values
    c = _coo.coalesce(pattern)
    rows, cols = Tensor._make(c.indices[0]), Tensor._make(c.indices[1])
    return with_values(c, (a[rows] * b[cols]).sum(1), 'SparseMaskBackward0')


class SparseSparseMM(SparseNode):
    """2-d sparse @ sparse -> sparse, coalesced: every product of an entry (i, k) of a and an
    entry (k, j) of b, summed per (i, j), so products that cancel leave an explicit zero, as in
    PyTorch. The gradients are sparse: torch.sparse.mm's keep each input's pattern, @'s and
    torch.mm's are the full products (g @ b^T, a^T @ g)."""
    saved_inputs = (0, 1)

    def __init__(self, masked_grad=False):
        self.masked_grad = masked_grad

    def name(self):
        return 'SparseAddmmBackward0' if self.masked_grad else 'MmBackward0'

    def forward(self, a, b):
        _check_mm(a, b, both_sparse=True)
        return sparse_product(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        sparse_g = g if g.is_sparse else g.to_sparse()
        grad_a = grad_b = None
        if self._edges[0] is not None:
            grad_a = sparse_g.mm(b.t())
            if self.masked_grad:
                grad_a = dispatch_mask(grad_a.to_dense(), _coo.coalesce(a._data))
        if self._edges[1] is not None:
            grad_b = a.t().mm(sparse_g)
            if self.masked_grad:
                grad_b = dispatch_mask(grad_b.to_dense(), _coo.coalesce(b._data))
        return grad_a, grad_b


def sparse_product(a, b):
    """The array side of SparseSparseMM (payloads in, a coalesced payload out)."""
    xp = a.xp
    ca, cb = _coo.coalesce(a), _coo.coalesce(b)
    # b's entries are sorted by row: the entries of row k are b[start[k]:start[k] + count[k]]
    b_rows = cb.indices[0]
    start = xp.searchsorted(b_rows, xp.arange(b.shape[0]))
    count = xp.searchsorted(b_rows, xp.arange(b.shape[0]), side='right') - start
    k = ca.indices[1]
    per_entry = count[k]
    left = xp.repeat(xp.arange(ca.nnz), per_entry)       # each a-entry once per partner
    offsets = xp.cumsum(per_entry) - per_entry
    right = start[k][left] + xp.arange(left.shape[0]) - offsets[left]
    indices = xp.stack([ca.indices[0][left], cb.indices[1][right]]) if left.shape[0] else \
        xp.zeros((2, 0), np.int64)
    values = ca.values[left] * cb.values[right]
    shape = (a.shape[0], b.shape[1])
    return _coo.coalesce(SparseCOO(indices, values, shape, left.shape[0] <= 1))


def spmm(s, d):
    """Array product of a 2-d sparse payload (no dense dims) and a dense matrix: each entry adds
    value * row of d into its output row, summed per row in the entries' order."""
    xp = s.xp
    c = _coo.coalesce(s)
    dtype = c.dtype    # (the same as d's: _check_mm)
    out = xp.zeros((s.shape[0], d.shape[1]), dtype)
    if c.nnz == 0:
        return out
    rows, cols = c.indices[0], c.indices[1]
    if xp is np:
        first = np.ones(rows.shape[0], bool)
        first[1:] = rows[1:] != rows[:-1]
        starts = np.flatnonzero(first)
        d_t = np.ascontiguousarray(d.T)

        def rows_of(part):
            """The output rows of the row runs in `part` (threads write disjoint rows)."""
            lo = starts[part.start]
            hi = starts[part.stop] if part.stop < starts.shape[0] else rows.shape[0]
            # terms laid out (columns of d, entries): reduceat then sums each row's run along
            # contiguous memory, 3x faster than summing (entries, columns) rows one by one
            terms = np.take(d_t, cols[lo:hi], axis=1)
            terms *= c.values[lo:hi]
            run_starts = starts[part]
            out[rows[run_starts]] = np.add.reduceat(terms, run_starts - lo, axis=1).T
        run_parts(rows_of, row_parts(starts.shape[0], c.nnz * d.shape[1] //
                                     max(starts.shape[0], 1)))
    else:
        from ..ops.views import _index_add_at
        terms = xp.take(d, cols, axis=0)     # (take: 3x faster than d[cols])
        terms *= c.values[:, None]
        _index_add_at(xp, out, rows, terms)
    return out


class Softmax(SparseNode):
    """softmax (or log_softmax) along `dim` over the stored entries only (the missing ones are
    -inf: they stay missing), as torch.sparse.softmax."""

    def __init__(self, dim, log):
        self.dim, self.log = dim, log

    def name(self):
        return 'SparseLogSoftmaxBackward0' if self.log else 'SparseSoftmaxBackward0'

    saved_inputs = (0,)

    def forward(self, s):
        c = _coo.coalesce(s)
        xp = c.xp
        self.pattern = c
        self.groups = _groups_along(c, self.dim)
        values = c.values
        peak = _segment(xp, np.maximum, values, self.groups, -np.inf)
        shifted = values - peak[self.groups]
        e = xp.exp(shifted)
        total = _segment(xp, np.add, e, self.groups, 0)
        out = shifted - xp.log(total)[self.groups] if self.log else e / total[self.groups]
        self.out = out
        return c.with_values(out)

    def backward(self, g):
        self.saved_tensors     # (checks that the input was not changed in place)
        xp = self.pattern.xp
        data = g._data
        gv = data.values if data.__class__ is SparseCOO and data.indices is \
            self.pattern.indices else _gather_grad(data, self.pattern)
        y = self.out
        if self.log:
            total = _segment(xp, np.add, gv, self.groups, 0)
            grad = gv - xp.exp(y) * total[self.groups]
        else:
            total = _segment(xp, np.add, gv * y, self.groups, 0)
            grad = y * (gv - total[self.groups])
        return sparse_tensor(self.pattern.with_values(grad))


def _gather_grad(data, pattern):
    if data.__class__ is SparseCOO:
        return _coo.lookup(data, pattern.indices)
    return _coo.mask_dense(data, pattern).values


def _groups_along(c, dim):
    """Each entry's group: the entries that share every sparse index but dim's (ids 0..n-1)."""
    xp = c.xp
    k = c.sparse_dim
    keep = [d for d in range(k) if d != dim]
    lin = _coo.linear_index(c.indices[keep], [c.shape[d] for d in keep], xp)
    _, groups = xp.unique(lin, return_inverse=True)
    return groups.reshape(-1)


def _segment(xp, ufunc, values, groups, identity):
    n = int(groups.max()) + 1 if groups.shape[0] else 0
    out = xp.full((n,) + values.shape[1:], identity, values.dtype)
    if xp is np:
        ufunc.at(out, groups, values)
    else:
        import cupyx
        (cupyx.scatter_max if ufunc is np.maximum else cupyx.scatter_add)(out, groups, values)
    return out


def _same_shape(a, b, name):
    if a.shape != b.shape:
        raise RuntimeError(f'{name}: expected sizes of the sparse tensors to match, but got '
                           f'{list(a.shape)} and {list(b.shape)}')


def _check_mm(a, b, both_sparse):
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise RuntimeError(f'mm: both arguments must be 2-d, but got {len(a.shape)}-d and '
                           f'{len(b.shape)}-d tensors')
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x'
                           f'{a.shape[1]} and {b.shape[0]}x{b.shape[1]})')
    if getattr(a, 'dense_dim', 0) or getattr(b, 'dense_dim', 0):
        raise RuntimeError('mm of a sparse tensor with dense dims is not supported (as in '
                           'PyTorch); call .to_dense() first.')
    if a.dtype != b.dtype:
        raise RuntimeError(f'mm: expected both matrices to have the same dtype, but mat1 is '
                           f'{_dtype_name(a.dtype)} and mat2 {_dtype_name(b.dtype)} (PyTorch '
                           f'does not promote in sparse products); convert one with .to(dtype).')
    if both_sparse and a.dtype.kind not in 'fc':
        raise NotImplementedError(f'"sparse_matmul" not implemented for '
                                  f'{_dtype_name(a.dtype)}: the product of two sparse tensors '
                                  f'needs floating-point (or complex) values.')


def _dtype_name(np_dtype):
    from .._dtype import from_numpy_dtype
    return str(from_numpy_dtype(np_dtype))


class SumAll(SparseNode):
    """The sum of every element, a dense 0-d tensor (integers summed as int64, as PyTorch's
    sum). Tensor.sum's gradient is dense (PyTorch's SumBackward0); torch.sparse.sum's
    (sparse_grad=True) is sparse with the input's coalesced pattern."""

    def __init__(self, dtype=None, sparse_grad=False):
        self.dtype, self.sparse_grad = dtype, sparse_grad   # (dtype: an nbgrad dtype)

    def name(self):
        return 'SumBackward0'

    def forward(self, s):
        self.shape = s.shape
        if self.sparse_grad:    # (torch.sparse.sum coalesces first: repeats add in s's dtype)
            s = _coo.coalesce(s)
            self.pattern = s
            self._hold()
        if self.dtype is not None:
            np_dtype = self.dtype.np
        elif s.dtype.kind in 'biu':
            np_dtype = np.dtype(np.int64)
        else:
            np_dtype = s.dtype
        return s.xp.asarray(s.values.sum(dtype=np_dtype), dtype=np_dtype)

    def backward(self, g):
        if not self.sparse_grad:
            return g.expand(self.shape)
        self._check_held()
        pattern = _coo.coalesce(self.pattern)
        from ._build import with_values
        grad = with_values(pattern, g.expand(pattern.values.shape), 'SparseSumBackward0')
        # PyTorch stores this gradient as .grad by cloning it (its indices are shared with the
        # input), which keeps the coalesced flag: see autograd.graph._accumulate_sparse
        grad._keeps_coalesced_flag = True
        return grad
