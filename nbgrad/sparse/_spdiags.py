"""torch.sparse.spdiags: a 2-d sparse tensor with rows of `diagonals` placed along diagonals, as
PyTorch (and SciPy's spdiags) place them: diagonal k at offset o holds diagonals[k, j] at
(j - o, j), for the columns j the output and diagonals[k] both have. Entries come diagonal by
diagonal, column by column; the result is COO (uncoalesced unless it has at most one entry), or
converted to CSR/CSC when layout asks. PyTorch has no derivative for it: a result that needs one
raises when backward reaches it."""
import numpy as np

from .. import _layout
from .._dtype import int64
from .._tensor import Tensor
from .. import _sparse_coo as _coo
from .._sparse_coo import SparseCOO
from ._build import dispatch
from ._ops import SparseNode


def _diagonal_runs(offsets, n_rows, n_cols, diagonal_length):
    """(row start, column start, length) of each diagonal, as PyTorch's kernel computes them."""
    runs = []
    for offset in offsets:
        row_begin, col_begin = max(0, -offset), max(0, offset)
        length = min(n_rows - row_begin, n_cols - col_begin, diagonal_length - col_begin)
        runs.append((row_begin, col_begin, length))
    total = sum(length for _, _, length in runs)
    if total < 0:   # (an offset beyond the output: PyTorch's allocation of the indices fails)
        raise RuntimeError(f'Trying to create tensor with negative dimension {total}: '
                           f'[2, {total}]')
    return [(r, c, max(length, 0)) for r, c, length in runs]


class Spdiags(SparseNode):
    def __init__(self, offsets, shape):
        self.offsets, self.shape = offsets, shape

    def name(self):
        return 'NotImplemented'

    def forward(self, diagonals):
        xp = np if diagonals.__class__ is np.ndarray else _coo._cupy()
        n_rows, n_cols = self.shape
        rows, cols, values = [], [], []
        runs = _diagonal_runs(self.offsets, n_rows, n_cols, diagonals.shape[1])
        for k, (row_begin, col_begin, length) in enumerate(runs):
            columns = xp.arange(col_begin, col_begin + length, dtype=np.int64)
            rows.append(columns - col_begin + row_begin)
            cols.append(columns)
            values.append(diagonals[k, col_begin:col_begin + length])
        empty = xp.zeros(0, np.int64)
        indices = xp.stack([xp.concatenate(rows or [empty]), xp.concatenate(cols or [empty])])
        values = xp.concatenate(values) if values else diagonals[:0, 0]
        return SparseCOO(indices, values, self.shape, indices.shape[1] <= 1)

    def backward(self, g):
        raise RuntimeError('derivative for aten::_spdiags is not implemented')


def spdiags(diagonals, offsets, shape, layout=None):
    """torch.sparse.spdiags(diagonals, offsets, shape, layout=None)."""
    if not isinstance(offsets, Tensor):
        raise TypeError(f"_spdiags(): argument 'offsets' (position 2) must be Tensor, not "
                        f"{type(offsets).__name__}")
    if layout not in (None, _layout.sparse_coo, _layout.sparse_csr, _layout.sparse_csc):
        raise RuntimeError(f'Only output layouts (Sparse, SparseCsc, SparseCsr) are supported, '
                           f'got {_layout_word(layout)}')
    if diagonals.dim() not in (1, 2):
        raise RuntimeError('Diagonals must be vector or matrix')
    if offsets.dim() > 1:
        raise RuntimeError('Offsets must be scalar or vector')
    if offsets.dtype != int64:
        raise RuntimeError(f'Offset Tensor must have dtype Long but got '
                           f'{_type_word(offsets.dtype)}')
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2:
        raise RuntimeError('Output shape must be 2d')
    for n in shape:
        if n < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {n}: '
                               f'{list(shape)}')
    if diagonals.dim() == 1:
        diagonals = diagonals.unsqueeze(0)
    offset_list = [int(o) for o in offsets.reshape(-1).tolist()]
    if diagonals.shape[0] != len(offset_list):
        raise RuntimeError(f'Number of diagonals ({diagonals.shape[0]}) does not match the '
                           f'number of offsets ({len(offset_list)})')
    if len(set(offset_list)) != len(offset_list):
        raise RuntimeError('Offset tensor contains duplicate values')
    out = dispatch(Spdiags(offset_list, shape), diagonals)
    if layout is _layout.sparse_csr:
        return out.to_sparse_csr()
    if layout is _layout.sparse_csc:
        return out.to_sparse_csc()
    return out


def _layout_word(layout):
    return {_layout.strided: 'Strided'}.get(layout, str(layout))


def _type_word(dtype):
    from .._dispatch import _type_word as word
    return word(dtype.np)
