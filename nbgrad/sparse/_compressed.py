"""Compressed sparse tensors (CSR, CSC) as Tensors: construction, conversions, and what the ops
of nbgrad.sparse do when one reaches them.

A CSR tensor's payload is the COO payload of the same entries in the same order, with the
compressed index arrays attached (see nbgrad/_sparse_csr.py). So an op on a CSR tensor runs the
COO form of the op (its graph node, its gradient) and the result takes a compressed layout back
where PyTorch's has one: csr * 2, abs(csr), csr + csr are CSR; csr @ dense is dense; csr.t() is
CSC. Gradients that reach a compressed leaf are stored as PyTorch stores them for a dense
gradient (dense); a gradient masked to the leaf's entries (torch.sparse.mm, to_dense()) is
stored as a COO tensor, where PyTorch stores a CSR one.

CSC is carried with its entries in column-major order (an uncoalesced COO order); ops that
need coalesced order run on the CSR transpose and transpose back.
"""
from .. import _layout
from .. import _sparse_csr as _csr
from .._sparse_coo import SparseCOO, from_dense, linear_index
from .._tensor import Tensor
from . import _ops, _routing
from ._build import coalesced, dispatch, is_sparse, with_values


def is_compressed(x):
    return isinstance(x, Tensor) and x._data.__class__ is SparseCOO and \
        x._data.compressed is not None


def layout_name(x):
    """PyTorch's word for a tensor's layout in its messages ('Strided', 'Sparse', 'SparseCsr')."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    data = x._data
    if data.__class__ is not SparseCOO:
        return 'Strided'
    return 'Sparse' if data.compressed is None else data.compressed.backend


class Relabel(_ops.SparseNode):
    """The same entries (the same arrays) under another layout: COO <-> CSR/CSC. The gradient
    passes through, as a plain COO or dense tensor."""

    def __init__(self, compressed, node_name, coalesced=None):
        self.compressed, self.node_name, self.coalesced = compressed, node_name, coalesced

    def name(self):
        return self.node_name

    def forward(self, s):
        flag = s.coalesced if self.coalesced is None else self.coalesced
        return SparseCOO(s.indices, s.values, s.shape, flag, self.compressed)

    def backward(self, g):
        data = g._data
        if data.__class__ is SparseCOO and data.compressed is not None:
            return Tensor._make(SparseCOO(data.indices, data.values, data.shape, data.coalesced))
        return g


def relabel(s, compressed, name, coalesced=None):
    return dispatch(Relabel(compressed, name, coalesced), s)


def marked(result, compressed, inputs, coalesced=None):
    """`result` (a sparse COO tensor that an op made from compressed inputs) under the layout
    of `compressed`. A payload the op made afresh is labelled in place (the op's node stays
    the result's grad_fn, as in PyTorch); one it passed through gets a Relabel node."""
    payload = result._data
    if any(isinstance(x, Tensor) and x._data is payload for x in inputs):
        return relabel(result, compressed, 'AliasBackward0', coalesced)
    payload.compressed = compressed
    if coalesced is not None:
        payload.coalesced = coalesced
    return result


# -- construction --------------------------------------------------------------------------------

def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *, dtype=None,
                             layout=None, device=None, requires_grad=False,
                             check_invariants=None):
    """torch.sparse_compressed_tensor for layout sparse_csr or sparse_csc (2-d, no dense
    dims). The invariants are always checked (as nbgrad checks COO indices)."""
    from .._creation import tensor as make_tensor
    if layout not in (_layout.sparse_csr, _layout.sparse_csc):
        raise NotImplementedError(f'sparse_compressed_tensor(layout={layout}): nbgrad has the '
                                  f'sparse_csr and sparse_csc layouts, not block ones.')
    if isinstance(values, Tensor):
        if dtype is not None and values.dtype != dtype:
            values = values.to(dtype)
        if device is not None:
            values = values.to(device)
    else:
        values = make_tensor(values, dtype=dtype, device=device)
    compressed = _index_array(compressed_indices, values)
    plain = _index_array(plain_indices, values)
    if values._data.ndim != 1:
        raise NotImplementedError(f'values must be 1-d (nnz,): nbgrad has compressed tensors '
                                  f'without dense dims or batches, but got values of shape '
                                  f'{list(values.shape)}')
    nnz = values._data.shape[0]
    if size is None:
        size = _inferred_size(compressed, plain, layout)
    size = tuple(int(n) for n in size)
    _csr.check_invariants(compressed, plain, nnz, size, layout)
    pattern = _csr.payload_of(compressed, plain, values._data, size, layout)
    if requires_grad:
        if values._data.dtype.kind not in 'fc':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                               'gradients')
        out = Tensor._make(pattern)
        out._requires_grad = True
        return out
    out = with_values(pattern, values, 'SparseCompressedTensorBackward0')
    return marked(out, pattern.compressed, (values,))


def _index_array(indices, values):
    from .._creation import tensor as make_tensor
    if isinstance(indices, Tensor):
        return indices.detach().to(values.device)._data
    return make_tensor(indices, device=values.device)._data


def _inferred_size(compressed, plain, layout):
    major = compressed.shape[-1] - 1 if compressed.ndim else 0
    minor = int(plain.max()) + 1 if plain.size else 0
    return (major, minor) if layout is _layout.sparse_csr else (minor, major)


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None):
    """torch.sparse_csr_tensor: row i holds the columns col_indices[crow_indices[i]:
    crow_indices[i + 1]] with the values at the same positions."""
    return sparse_compressed_tensor(crow_indices, col_indices, values, size, dtype=dtype,
                                    layout=_layout.sparse_csr, device=device,
                                    requires_grad=requires_grad)


def sparse_csc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None):
    """torch.sparse_csc_tensor: column j holds the rows row_indices[ccol_indices[j]:
    ccol_indices[j + 1]]."""
    return sparse_compressed_tensor(ccol_indices, row_indices, values, size, dtype=dtype,
                                    layout=_layout.sparse_csc, device=device,
                                    requires_grad=requires_grad)


# -- conversions ---------------------------------------------------------------------------------

def to_compressed(x, layout, dense_dim=None):
    """x (dense, COO, CSR or CSC; 2-d) as a CSR or CSC tensor (Tensor.to_sparse_csr/csc)."""
    fn = 'to_sparse_csr' if layout is _layout.sparse_csr else 'to_sparse_csc'
    if dense_dim:
        raise NotImplementedError(f'{fn}(dense_dim={dense_dim}): nbgrad has compressed tensors '
                                  f'without dense dims; leave dense_dim out.')
    if is_compressed(x):
        if x._data.compressed.layout is layout:
            return x
        return to_compressed(to_coo(x), layout)
    if x._data.ndim != 2:
        raise NotImplementedError(f'{fn}: nbgrad converts 2-d tensors only (no batch or dense '
                                  f'dims), but got a {x._data.ndim}-d tensor')
    if layout is _layout.sparse_csc:    # CSC of x is the transpose of CSR of x^T
        return to_compressed(x.t(), _layout.sparse_csr).t()
    if is_sparse(x):
        if x._data.dense_dim:
            raise NotImplementedError(f'{fn}: nbgrad has compressed tensors without dense dims, '
                                      f'and this COO tensor has {x._data.dense_dim}.')
        c = coalesced(x)
        return relabel(c, _csr.compress(c._data, layout), 'ToSparseCsrBackward0', True)
    pattern = from_dense(x._data, 2)
    at = Tensor._make(linear_index(pattern.indices, x.shape, pattern.xp))
    out = with_values(pattern, x.reshape(-1)[at], 'ToSparseCsrBackward0')
    return marked(out, _csr.compress(pattern, layout), (x,))


def to_coo(x):
    """A compressed tensor as COO: the same entries in the same order (CSC's column-major order
    is an uncoalesced COO tensor, as in PyTorch)."""
    return relabel(x, None, 'ToSparseBackward1')


# -- ops that reach a compressed tensor (from nbgrad.sparse._routing.route) ----------------------

def route(op, inputs, coo_handlers):
    """The compressed form of dense op `op`, or PyTorch's error for a missing one."""
    name = op_name_of(op)
    handler = _HANDLERS.get(name)
    if handler is None and name in _layout_keeping():
        handler = _keep_layout
    if handler is None:
        return refuse(name, inputs)
    return handler(op, inputs, coo_handlers[name])


def refuse(name, inputs, kind=RuntimeError):
    which = next(layout_name(x) for x in inputs if is_compressed(x))
    raise kind(f'unsupported tensor layout: {which} ({name} of a compressed sparse tensor; '
               f'nbgrad supports +, * by a scalar, dense or same-layout tensor, products with '
               f'dense matrices, t() and the zero-preserving elementwise functions). Call '
               f'.to_dense() or .to_sparse() first.')


def _compressed_of_tensor(inputs):
    return next(x for x in inputs if is_compressed(x))


def _keep_layout(op, inputs, coo_handler):
    """An op whose result has its (single) compressed input's entries in the same order: the
    COO result takes the input's layout."""
    s = _compressed_of_tensor(inputs)
    compressed = s._data.compressed
    if any(is_sparse(x) and x is not s for x in inputs):
        return _both_sparse(op, inputs, coo_handler)
    if not compressed.is_csr and op_name_of(op) in _routing.ZERO_PRESERVING:
        # (a COO op that coalesces first would reorder CSC's entries: run it on the CSR
        # transpose instead)
        transposed = s.t()
        result = _keep_layout(op, tuple(transposed if x is s else x for x in inputs),
                              coo_handler)
        return result.t()
    result = coo_handler(op, inputs)
    if not is_sparse(result):
        return result
    return marked(result, compressed, inputs)


def op_name_of(op):
    return _routing._op_name(op)


def _both_sparse(op, inputs, coo_handler):
    """csr * csr and csr + csr (of one layout): the COO result, compressed again (CSC through
    its CSR transpose). PyTorch refuses other mixes of layouts."""
    a, b = inputs[0], inputs[1]
    name = op_name_of(op)
    if not (is_compressed(a) and is_compressed(b)) or \
            a._data.compressed.layout is not b._data.compressed.layout or name == 'sub':
        return refuse(name, inputs)
    if not a._data.compressed.is_csr:
        return _both_sparse(op, (a.t(), b.t()) + tuple(inputs[2:]), coo_handler).t()
    result = coalesced(coo_handler(op, inputs))
    return marked(result, _csr.compress(result._data, _layout.sparse_csr), inputs, True)


def _add(op, inputs, coo_handler):
    a, b = inputs[0], inputs[1]
    if is_sparse(a) and is_sparse(b):
        return _both_sparse(op, inputs, coo_handler)
    name = op_name_of(op)
    if name == 'add' and is_compressed(a) and isinstance(b, Tensor) and \
            getattr(op, 'alpha', 1) == 1:
        return coo_handler(op, (b, a))     # csr + dense: dense + csr (dense)
    if is_compressed(b) and isinstance(a, Tensor) and not is_sparse(a):
        return coo_handler(op, inputs)     # dense +/- csr: dense
    return refuse(name, inputs)


def _mul(op, inputs, coo_handler):
    a, b = inputs[0], inputs[1]
    if is_sparse(a) and is_sparse(b):
        return _both_sparse(op, inputs, coo_handler)
    return _keep_layout(op, inputs, coo_handler)


def _transpose(op, inputs, coo_handler):
    (s,) = inputs
    compressed = s._data.compressed
    dims = {op.dim0 % 2, op.dim1 % 2} if hasattr(op, 'dim0') else {0, 1}
    result = coo_handler(op, inputs)
    if len(dims) == 1:
        return marked(result, compressed, inputs)
    # CSR's row-major order is CSC's column-major order of the transpose, and back
    return marked(result, compressed.transposed(), inputs, coalesced=not compressed.is_csr or
                  None)


def _mm(op, inputs, coo_handler):
    dtype = _compressed_of_tensor(inputs)._data.dtype
    if dtype.kind in 'biu':     # (PyTorch's CSR products are floating-point only)
        raise NotImplementedError(f'"addmm_out_sparse_csr_impl_mkl" not implemented for '
                                  f"'{_csr._word(dtype)}': nbgrad follows PyTorch, whose CSR "
                                  f'products take floating-point values; convert with .float().')
    result = coo_handler(op, inputs)
    if not is_sparse(result):
        return result
    c = coalesced(result)   # (csr @ csr: CSR, as in PyTorch)
    return marked(c, _csr.compress(c._data, _layout.sparse_csr), inputs, True)


def _copy(op, inputs, coo_handler):
    (s,) = inputs
    compressed = s._data.compressed
    result = coo_handler(op, inputs)
    xp = result._data.xp
    if xp is not s._data.xp:
        compressed = compressed.to(xp)
    elif op.__class__.__name__ == 'Clone':
        compressed = compressed.copy()
    return marked(result, compressed, inputs)


def _sum(op, inputs, coo_handler):
    result = coo_handler(op, inputs)
    if is_sparse(result):
        raise RuntimeError('reduction operations on CSR tensors with keepdim=False is '
                           'unsupported: nbgrad sums a compressed tensor over all its elements '
                           'only; call .to_sparse() for a COO sum over dims.')
    return result


def _div(op, inputs, coo_handler):
    return refuse(op_name_of(op), inputs)


_HANDLERS = {
    'add': _add, 'sub': _add, 'mul': _mul, 'div': _div,
    't': _transpose, 'transpose': _transpose,
    'mm': _mm, 'matmul': _mm, 'mv': _mm,
    'tocopy': _copy, 'clone': _copy, 'sum': _sum,
}


def _layout_keeping():
    """The zero-preserving elementwise ops (nbgrad.sparse._routing), and neg: their COO form
    keeps a single sparse input's entries in order (coalescing first, but for neg)."""
    return _routing.ZERO_PRESERVING | {'neg'}
