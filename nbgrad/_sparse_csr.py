"""The array side of compressed sparse tensors (CSR and CSC, 2-d, no dense dims).

A CSR tensor of shape (m, n) stores `crow_indices` (m + 1,), `col_indices` (nnz,) and `values`
(nnz,): row i holds columns col_indices[crow_indices[i]:crow_indices[i + 1]], sorted and
distinct. CSC is the same with rows and columns swapped (ccol_indices, row_indices).

nbgrad carries a compressed tensor in the payload of the COO tensor with the same entries in
the same order (a SparseCOO whose `compressed` field holds a `Compressed`): CSR's order is
row-major, the coalesced COO order; CSC's is column-major. The dispatcher, device moves and
autograd then treat it as they treat a COO tensor, and the compressed index arrays are what
crow_indices() and friends, repr and torch.save show. The index arrays keep the integer dtype
they were given (int32 or int64), as PyTorch keeps it.
"""
import numpy as np

from ._arrays import is_host_array
from . import _layout
from ._sparse_coo import SparseCOO


class Compressed:
    """The compressed indices of a CSR (or CSC) tensor, attached to its COO payload."""
    __slots__ = ('layout', 'compressed_indices', 'plain_indices')

    def __init__(self, layout, compressed_indices, plain_indices):
        self.layout = layout                            # _layout.sparse_csr or sparse_csc
        self.compressed_indices = compressed_indices    # crow (CSR) or ccol (CSC)
        self.plain_indices = plain_indices              # col (CSR) or row (CSC)

    @property
    def is_csr(self):
        return self.layout is _layout.sparse_csr

    @property
    def names(self):
        """PyTorch's names of the two index arrays (repr, error messages)."""
        return ('crow_indices', 'col_indices') if self.is_csr else \
            ('ccol_indices', 'row_indices')

    @property
    def backend(self):
        """PyTorch's name of the layout in its messages ('SparseCsr', 'SparseCsc')."""
        return 'SparseCsr' if self.is_csr else 'SparseCsc'

    def copy(self):
        return Compressed(self.layout, self.compressed_indices.copy(), self.plain_indices.copy())

    def to(self, xp):
        """The same indices as arrays of module xp (a device move)."""
        if xp is np:
            return Compressed(self.layout, _host(self.compressed_indices),
                              _host(self.plain_indices))
        return Compressed(self.layout, xp.asarray(self.compressed_indices),
                          xp.asarray(self.plain_indices))

    def transposed(self):
        """CSR of A as CSC of A^T (and back): the very same arrays."""
        other = _layout.sparse_csc if self.is_csr else _layout.sparse_csr
        return Compressed(other, self.compressed_indices, self.plain_indices)

    def __repr__(self):
        return f'Compressed({self.layout}, nnz={self.plain_indices.shape[0]})'


def _host(array):
    return array if is_host_array(array) else array.get()


def compress(payload, layout, index_dtype=np.int64):
    """The Compressed of a 2-d payload whose entries are in the layout's order (row-major and
    distinct for CSR, as coalesced COO is; column-major for CSC)."""
    xp = payload.xp
    axis = 0 if layout is _layout.sparse_csr else 1
    major = payload.indices[axis]
    counts = payload.shape[axis]
    compressed = xp.searchsorted(major, xp.arange(counts + 1), side='left')
    return Compressed(layout, compressed.astype(index_dtype, copy=False),
                      payload.indices[1 - axis].astype(index_dtype))


def expand(compressed_indices, plain_indices, layout, xp):
    """The (2, nnz) int64 COO indices of compressed index arrays."""
    counts = xp.diff(compressed_indices.astype(np.int64))
    major = xp.repeat(xp.arange(counts.shape[0]), counts)
    plain = plain_indices.astype(np.int64)
    rows, cols = (major, plain) if layout is _layout.sparse_csr else (plain, major)
    return xp.stack([rows, cols]) if rows.shape[0] else xp.zeros((2, 0), np.int64)


def payload_of(compressed_indices, plain_indices, values, shape, layout):
    """The COO payload that carries a checked compressed tensor."""
    xp = np if is_host_array(values) else _cupy()
    indices = expand(compressed_indices, plain_indices, layout, xp)
    # CSR's order is coalesced order; CSC's is not (unless it has at most one entry)
    coalesced = layout is _layout.sparse_csr or indices.shape[1] <= 1
    return SparseCOO(indices, values, shape, coalesced,
                     Compressed(layout, compressed_indices, plain_indices))


def _cupy():
    import cupy
    return cupy


def check_invariants(compressed_indices, plain_indices, nnz, shape, layout):
    """PyTorch's checks of sparse_compressed_tensor(..., check_invariants=True), with its
    messages (nbgrad always checks, as it does for COO indices)."""
    names = ('crow_indices', 'col_indices') if layout is _layout.sparse_csr else \
        ('ccol_indices', 'row_indices')
    cname, pname = names
    if compressed_indices.dtype != plain_indices.dtype:
        raise RuntimeError(f'{cname} and {pname} must have the same dtype, bot got '
                           f'{_word(compressed_indices.dtype)} and '
                           f'{_word(plain_indices.dtype)}, respectively')
    if compressed_indices.dtype not in (np.int32, np.int64):
        raise RuntimeError(f'{cname} and {pname} must be an int32 or int64 type, but got: '
                           f'{_word(compressed_indices.dtype)}')
    if compressed_indices.ndim != 1 or plain_indices.ndim != 1:
        raise NotImplementedError(
            f'{cname} and {pname} must be 1-d here: nbgrad has 2-d compressed tensors only, '
            f'not batched ones (got {compressed_indices.ndim}-d and {plain_indices.ndim}-d).')
    if len(shape) != 2:
        raise RuntimeError(f'tensor dimensionality must be sum of batch, base, and dense '
                           f'dimensionalities (=0 + 2 + 0) but got {len(shape)}')
    major, minor = (shape[0], shape[1]) if layout is _layout.sparse_csr else \
        (shape[1], shape[0])
    what = 'rows' if layout is _layout.sparse_csr else 'columns'
    if compressed_indices.shape[0] != major + 1:
        raise RuntimeError(f'{cname}.shape[-1] must be equal to the number of {what} + 1 '
                           f'(={major + 1}), but got {compressed_indices.shape[0]}')
    if plain_indices.shape[0] != nnz:
        raise RuntimeError(f'{pname}.shape[-1] must be equal to nnz (={nnz}) as defined by '
                           f'values.shape[0], but got {plain_indices.shape[0]}')
    c = _host(compressed_indices).astype(np.int64)
    p = _host(plain_indices).astype(np.int64)
    if c[0] != 0:
        raise RuntimeError(f'`{cname}[..., 0] == 0` is not satisfied.')
    if c[-1] != nnz:
        raise RuntimeError(f'`{cname}[..., -1] == nnz` is not satisfied.')
    steps = np.diff(c)
    if ((steps < 0) | (steps > minor)).any():
        raise RuntimeError(f'`0 <= {cname}[..., 1:] - {cname}[..., :-1] <= n{_plain(cname)}` '
                           f'is not satisfied.')
    if ((p < 0) | (p >= minor)).any():
        raise RuntimeError(f'`0 <= {pname} < n{_plain(cname)}` is not satisfied.')
    # sorted and distinct within each row: every step inside a row is positive
    if p.shape[0] > 1:
        inside = np.ones(p.shape[0] - 1, bool)
        starts = c[1:-1]
        inside[starts[(starts > 0) & (starts < p.shape[0])] - 1] = False
        if (np.diff(p)[inside] <= 0).any():
            raise RuntimeError(f'`{pname}[..., {cname}[..., i - 1]:{cname}[..., i]] for all '
                               f'i = 1, ..., n{_major(cname)} are sorted and distinct along '
                               f'the last dimension values` is not satisfied.')


def _plain(cname):
    return 'cols' if cname == 'crow_indices' else 'rows'


def _major(cname):
    return 'rows' if cname == 'crow_indices' else 'cols'


def _word(np_dtype):
    """PyTorch's scalar type word ('Int', 'Long', 'Float') for a NumPy dtype."""
    return {'int32': 'Int', 'int64': 'Long', 'float32': 'Float', 'float64': 'Double',
            'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool',
            'float16': 'Half', 'bfloat16': 'BFloat16'}.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)
