"""torch.spmm, torch.smm, torch.hspmm and torch.sspaddmm: a sparse COO matrix times a dense one.

spmm is torch.mm (dense, COO or CSR operands; differentiable). The other three return sparse
COO tensors laid out as PyTorch's kernels lay them out: for each row that holds an entry of the
sparse factor (in sorted order), the whole dense row of the product, zeros included. hspmm
returns it as a hybrid tensor (one sparse dim, the rows; the columns a dense dim); smm and
sspaddmm as a 2-d COO tensor, sspaddmm after beta * input's entries, uncoalesced. PyTorch has no
derivative for these three: their results are part of the graph, and backward through them
raises PyTorch's error, as it does there.
"""
import numpy as np

from .._sparse_coo import SparseCOO, coalesce
from .._tensor import Tensor
from . import _ops
from ._build import dispatch, is_sparse
from ._compressed import is_compressed, layout_name


def spmm(input, mat2):
    """torch.spmm: matrix product with a sparse (COO or CSR) or dense first operand; the
    same as torch.mm."""
    if isinstance(mat2, Tensor) and mat2.dim() < 2:
        raise IndexError(f'Dimension out of range (expected to be in range of '
                         f'[{-max(mat2.dim(), 1)}, {max(mat2.dim(), 1) - 1}], but got 1)')
    return input.mm(mat2)


class NoDerivative(_ops.SparseNode):
    """A sparse product PyTorch has no derivative for: backward raises its error."""

    def __init__(self, aten_name, compute):
        self.aten_name, self.compute = aten_name, compute

    def name(self):
        return 'NotImplemented'

    def forward(self, *arrays):
        return self.compute(*arrays)

    def backward(self, g):
        raise RuntimeError(f'derivative for aten::{self.aten_name} is not implemented')


def _product_rows(s, d):
    """The sorted rows holding an entry of 2-d sparse payload s, and the dense rows of s @ d
    there."""
    c = coalesce(s)
    xp = c.xp
    rows = xp.unique(c.indices[0])
    return rows, _ops.spmm(c, d)[rows]


def _check(name, mat1, mat2, mat1_sparse_error):
    if not is_sparse(mat1) or is_compressed(mat1):
        raise mat1_sparse_error
    if not isinstance(mat2, Tensor) or is_sparse(mat2) or is_compressed(mat2):
        raise RuntimeError(f"{name}: expected 'mat2' to have strided layout, got 'mat2' with "
                           f'layout {layout_name(mat2)}')
    payload = mat1._data
    if payload.sparse_dim != 2 or payload.dense_dim:
        raise RuntimeError(f'{name}: Argument #2: matrices expected, got '
                           f'{payload.sparse_dim}D tensor')
    if mat2.dim() != 2:
        raise RuntimeError(f'{name}: Argument #3: matrices expected, got {mat2.dim()}D tensor')
    if payload.shape[1] != mat2.shape[0]:
        raise RuntimeError(f'{name}: Argument #3: Expected dim 0 size {payload.shape[1]}, got '
                           f'{mat2.shape[0]}')
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f'expected scalar type {_word(mat1)} but found {_word(mat2)}')


def _word(tensor):
    from .._sparse_csr import _word as word
    return word(tensor._data.dtype)


def hspmm(mat1, mat2, *, out=None):
    """torch.hspmm: sparse @ dense as a hybrid COO tensor: indices (1, rows), values (rows,
    columns of mat2)."""
    if out is not None:
        raise NotImplementedError('hspmm(out=...): nbgrad returns a new tensor; assign it.')
    device = 'CPU' if not isinstance(mat1, Tensor) or mat1.is_cpu else 'CUDA'
    backend = {'Strided': device, 'Sparse': 'Sparse' + device}.get(
        layout_name(mat1), layout_name(mat1) + device)
    _check('hspmm', mat1, mat2, NotImplementedError(
        f"Could not run 'aten::hspmm' with arguments from the '{backend}' backend: hspmm takes "
        f'a sparse COO matrix; convert it with .to_sparse() first.'))

    def compute(s, d):
        rows, values = _product_rows(s, d)
        return SparseCOO(rows[None, :], values, (s.shape[0], d.shape[1]), rows.shape[0] <= 1)
    return dispatch(NoDerivative('hspmm', compute), mat1, mat2)


def _entries(s, d, scale):
    """The product's rows as 2-d COO entries (row-major), each value times scale."""
    xp = s.xp
    rows, values = _product_rows(s, d)
    ncols = d.shape[1]
    indices = xp.stack([xp.repeat(rows, ncols), xp.tile(xp.arange(ncols), rows.shape[0])]) \
        if rows.shape[0] else xp.zeros((2, 0), np.int64)
    return indices, _scaled(values.reshape(-1), scale)


def _scaled(values, scale):
    if scale == 1:
        return values
    return (values * scale).astype(values.dtype, copy=False)


def _check_scalars(dtype, beta, alpha):
    if dtype.kind in 'biu':
        for scalar in (beta, alpha):
            if isinstance(scalar, (float, complex)) and scalar != int(scalar.real):
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f'{_word(Tensor._make(np.zeros(0, dtype)))}')


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """torch.sspaddmm: beta * input + alpha * (mat1 @ mat2) as a sparse COO tensor: input's
    entries as they are stored, then the product's rows (uncoalesced)."""
    if out is not None:
        raise NotImplementedError('sspaddmm(out=...): nbgrad returns a new tensor; assign it.')
    if not is_sparse(input) or is_compressed(input):
        raise RuntimeError(f"sspaddmm: expected 'self' to be a sparse COO tensor, got layout "
                           f'{layout_name(input)}')
    _check('sspaddmm', mat1, mat2, RuntimeError(
        f"sspaddmm: expected 'mat1' to have sparse layout, got 'mat1' with layout "
        f'{layout_name(mat1)}'))
    shape = (mat1.shape[0], mat2.shape[1])
    if tuple(input.shape) != shape:
        which, got = (0, input.shape[0]) if input.shape[0] != shape[0] else (1, input.shape[1])
        raise RuntimeError(f'sspaddmm: Argument #1: Expected dim {which} size {shape[which]}, '
                           f'got {got}')
    if input.dtype != mat1.dtype:
        raise RuntimeError(f'dtype of values ({_word(mat1)}) must match dtype of sparse tensor '
                           f'({_word(input)})')
    _check_scalars(input._data.dtype, beta, alpha)

    def compute(m, s, d):
        xp = s.xp
        indices, values = _entries(s, d, alpha)
        all_indices = xp.concatenate([m.indices, indices], axis=1)
        return SparseCOO(all_indices, xp.concatenate([_scaled(m.values, beta), values]), shape,
                         all_indices.shape[1] <= 1)
    return dispatch(NoDerivative('sspaddmm', compute), input, mat1, mat2)


def smm(input, mat2):
    """torch.smm: sparse @ dense as a sparse COO tensor (the product's rows where input has
    entries)."""
    if not is_sparse(input) or is_compressed(input):
        raise RuntimeError('tensor.sspaddmm(...) can only be called on sparse tensors')
    _check('sspaddmm', input, mat2, RuntimeError('smm: expected a sparse COO matrix'))

    def compute(s, d):
        indices, values = _entries(s, d, 1)
        return SparseCOO(indices, values, (s.shape[0], d.shape[1]), indices.shape[1] <= 1)
    return dispatch(NoDerivative('sspaddmm', compute), input, mat2)
