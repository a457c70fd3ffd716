"""Products of a sparse COO tensor with dense ones beyond mm: torch.bmm(sparse 3-d, dense 3-d)
and F.linear with a sparse weight (or input), with PyTorch's results, gradients and refusals.

bmm: each batch's sparse matrix times that batch's dense one; it is one 2-d product of the
block-diagonal sparse matrix (batch b's entry (r, c) at row b*n + r, column b*m + c) with the
dense batches stacked, so it reuses spmm. Gradients are PyTorch's BmmBackward0: dense g @ B^T for
the sparse input (not masked to its pattern), A^T @ g for the dense one.

F.linear(x, W sparse, b): PyTorch computes x @ W^T through its sparse mm (W @ x^T, transposed), and
refuses a 2-d x with a bias (its addmm wants the sparse operand first). W's gradient is dense.
"""
from .._sparse_coo import SparseCOO
from ._build import dispatch, is_sparse
from ._ops import SparseNode, spmm


def _type_name(np_dtype):
    from .._dispatch import _type_word
    return _type_word(np_dtype)


class SparseDenseBmm(SparseNode):
    saved_inputs = (0, 1)

    def name(self):
        return 'BmmBackward0'

    def forward(self, s, d):
        batches, n, m = s.shape
        p = d.shape[2]
        if s.dtype != d.dtype:
            raise RuntimeError(f'expected scalar type {_type_name(s.dtype)} but found '
                               f'{_type_name(d.dtype)}')
        xp = s.xp
        batch, rows, cols = s.indices
        block_diagonal = SparseCOO(xp.stack([batch * n + rows, batch * m + cols]), s.values,
                                   (batches * n, batches * m), s.coalesced)
        return spmm(block_diagonal, d.reshape(batches * m, p)).reshape(batches, n, p)

    def backward(self, g):
        s, d = self.saved_tensors
        grad_s = g.bmm(d.transpose(1, 2)) if self._edges[0] is not None else None
        grad_d = s.transpose(1, 2).bmm(g) if self._edges[1] is not None else None
        return grad_s, grad_d


def sparse_bmm(s, d):
    """torch.bmm when an operand is sparse (nbgrad.ops.matmul.bmm sends it here)."""
    if is_sparse(d):
        raise RuntimeError("bmm_sparse: Tensor 'mat2' must be dense")
    payload = s._data
    if payload.dense_dim:
        raise RuntimeError(f"bmm_sparse: Tensor 'self' must have 0 dense dims, but has "
                           f"{payload.dense_dim}")
    if payload.sparse_dim != 3:
        raise RuntimeError(f"bmm_sparse: Tensor 'self' must have 3 sparse dims, but has "
                           f"{payload.sparse_dim}")
    if d.dim() != 3:
        raise RuntimeError(f"bmm_sparse: Tensor 'mat2' must have 3 dims, but has {d.dim()}")
    if payload.shape[0] != d.shape[0]:
        raise RuntimeError("bmm_sparse: 'self.size(0)' and 'mat2.size(0)' must match")
    if payload.shape[2] != d.shape[1]:
        raise RuntimeError("bmm_sparse: 'self.size(2)' and 'mat2.size(1)' must match")
    return dispatch(SparseDenseBmm(), s, d)


def linear(op, inputs):
    x, weight = inputs[:2]
    bias = inputs[2] if len(inputs) > 2 else None
    if x.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(f'both arguments to linear need to be at least 1D, but they are '
                           f'{x.dim()}D and {weight.dim()}D')
    if bias is not None and is_sparse(bias):
        raise RuntimeError('expand is unsupported for Sparse tensors: linear takes a dense '
                           'bias; call .to_dense() on it first.')
    if is_sparse(x):    # PyTorch: mm(x, W^T), or addmm(b, x, W^T), for a 2-d sparse x
        out = x.mm(weight.t())
        return out if bias is None else bias + out
    payload = weight._data
    if payload.dense_dim:
        raise RuntimeError(f't() expects a tensor with <= 2 sparse and 0 dense dimensions, but '
                           f'got {payload.sparse_dim} sparse and {payload.dense_dim} dense '
                           f'dimensions')
    if x.dim() == 2 and bias is not None:
        raise RuntimeError("addmm_sparse_dense: expected either 'mat1' to have sparse layout "
                           "and 'mat2' to have strided layout, got 'mat1' with layout Strided "
                           "and 'mat2' with layout Sparse (F.linear with a sparse weight and a "
                           "2-d input takes no bias in PyTorch; add the bias afterwards)")
    in_features = weight.shape[-1]
    if x.shape[-1] != in_features:
        raise RuntimeError(f'addmm: Argument #3 (dense): Expected dim 0 size {in_features}, '
                           f'got {x.shape[-1]}')
    if x._data.dtype != payload.dtype:
        raise RuntimeError(f'expected scalar type {_type_name(payload.dtype)} but found '
                           f'{_type_name(x._data.dtype)}')
    rows = x.reshape(-1, in_features)
    if weight.dim() == 1:   # (a 1-d weight: one dot product per row)
        out = weight.unsqueeze(0).mm(rows.t()).squeeze(0)
    else:
        out = weight.mm(rows.t()).t()
    out = out.reshape(tuple(x.shape[:-1]) + tuple(weight.shape[:-1]))
    return out if bias is None else out + bias

