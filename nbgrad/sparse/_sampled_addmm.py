"""torch.sparse.sampled_addmm(input, mat1, mat2, *, beta=1., alpha=1.): beta * input +
alpha * (mat1 @ mat2), computed only at input's stored entries, for a 2-d CSR input and dense
mat1, mat2, as PyTorch's CPU kernel does. The result is CSR with input's pattern (explicit zeros
stay). PyTorch has no COO or dense kernel for it, so those raise its NotImplementedError.

Each entry (i, j) is one dot product mat1[i] . mat2[:, j], written in Tensor ops on the values,
so the gradients (input: beta * g at its entries; mat1, mat2: alpha * the sampled g times the
other) come from autograd.
"""
from .._tensor import Tensor
from ._build import is_sparse, values_of, with_values
from ._compressed import is_compressed, layout_name, marked


def _word(tensor):
    from .._dispatch import _type_word
    return _type_word(tensor._data.dtype)


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    if out is not None:
        raise NotImplementedError('sampled_addmm(out=...) is not supported by nbgrad; use the '
                                  'returned tensor.')
    if not is_compressed(input):
        backend = 'SparseCPU' if is_sparse(input) else 'CPU'
        raise NotImplementedError(f"Could not run 'aten::sparse_sampled_addmm' with arguments "
                                  f"from the '{backend}' backend: PyTorch's sampled_addmm takes "
                                  f"a CSR input; call .to_sparse_csr() on it first.")
    if input._data.compressed.names[0] != 'crow_indices':
        raise RuntimeError(f'sampled_addmm: Expected result to have sparse csr layout, but got '
                           f'{layout_name(input)}')
    for name, mat in (('mat1', mat1), ('mat2', mat2)):
        if is_sparse(mat):
            raise RuntimeError(f'sampled_addmm: Expected {name} to have strided layout, but got '
                               f'{layout_name(mat)}')
    if input._data.dtype.kind not in 'fc':
        raise RuntimeError(f'sparse_sampled_addmm: Expected self to be a floating-point or '
                           f'complex tensor, but got {_word(input)}')
    if mat1._data.dtype != mat2._data.dtype or mat1._data.dtype != input._data.dtype:
        other = mat2 if mat1._data.dtype != mat2._data.dtype else input
        raise RuntimeError(f'sampled_addmm: Expected mat1 and {"mat2" if other is mat2 else "self"}'
                           f' to have the same dtype, but got {_word(mat1)} and {_word(other)}')
    if mat1.dim() != 2 or mat2.dim() != 2 or input.dim() != 2:
        raise NotImplementedError('sampled_addmm: nbgrad takes 2-d operands (its CSR tensors '
                                  'are 2-d); loop over the batch.')
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f'sampled_addmm: mat1 and mat2 shapes cannot be multiplied '
                           f'({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x'
                           f'{mat2.shape[1]})')
    if input.shape[0] != mat1.shape[0]:
        raise RuntimeError('sampled_addmm: self.shape[-2] must match mat1.shape[-2]')
    if input.shape[1] != mat2.shape[1]:
        raise RuntimeError('sampled_addmm: self.shape[-1] must match mat2.shape[-1]')
    payload = input._data
    rows = Tensor._make(payload.indices[0])
    cols = Tensor._make(payload.indices[1])
    products = (mat1[rows] * mat2.t()[cols]).sum(1)
    values = products if alpha == 1 else products * alpha
    if beta != 0:   # (beta=0 ignores input's values, NaN included, as addmm does)
        kept = values_of(input)
        values = values + (kept if beta == 1 else kept * beta)
    result = with_values(payload, values, 'SparseSampledAddmmBackward0')
    return marked(result, payload.compressed, (input, mat1, mat2))
