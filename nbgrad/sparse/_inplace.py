"""In-place ops with a sparse operand: what the dispatcher runs for target.op_(...) when the
target or an operand is a sparse COO tensor.

A dense target takes the out-of-place result (dense.add_(s) adds the entries into the dense
memory, as an optimizer applying a sparse gradient does; dense.mul_(s) keeps s's pattern, written
densely). A sparse target takes the out-of-place result as its new payload (s.mul_(2), s.add_(t)),
outside autograd only: a sparse tensor's history cannot be rebased. Either way the result must
cast to the target's dtype, as PyTorch requires of in-place ops.
"""
from .. import _dtype
from .._tensor import Tensor, _modes
from .._sparse_coo import SparseCOO
from ._build import dispatch, is_sparse
from ._compressed import is_compressed
from ._routing import ZERO_PRESERVING, refuse_inplace, _op_name


def run_inplace(op, target, inputs):
    name = _op_name(op)
    if any(is_compressed(x) for x in inputs):
        raise RuntimeError(f'{name}_: in-place ops with a compressed sparse (CSR, CSC) tensor '
                           f'are not supported in nbgrad; use the out-of-place {name}().')
    if not is_sparse(target):
        return _into_dense(op, name, target, inputs)
    if name == 'fill' and inputs[1] == 0:   # zero_(): no entries left, as PyTorch's
        return _set_payload(target, _no_entries(target._data))
    if name == 'copy':
        return _set_payload(target, _copied(target, inputs[1]))
    if name == 'maskedfill':    # (PyTorch has no sparse masked_fill_ kernel)
        from ._routing import refuse
        return refuse('masked_fill_.Scalar', inputs)
    if _modes.grad_enabled and any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        raise RuntimeError(f'{name}_: in-place ops on a sparse tensor that requires grad (or with '
                           f'an operand that does) are not supported; use {name}() instead.')
    if name in ZERO_PRESERVING and not target._data.coalesced:
        raise RuntimeError(f'{name}_ requires coalesced input: call s = s.coalesce() first (or '
                           f'use the out-of-place {name}()).')
    result = dispatch(op, *inputs)
    if not is_sparse(result):
        return refuse_inplace(op)
    return _set_payload(target, _castable(result, target, name)._data)


def _into_dense(op, name, target, inputs):
    if name == 'copy':
        raise RuntimeError(f'copy_() between dense and sparse Tensors is not implemented! Found '
                           f'self type = {target.type()} and src type = {inputs[1].type()}; call '
                           f'.to_dense() on the source first.')
    result = dispatch(op, *inputs)
    if is_sparse(result):
        result = result.to_dense()
    if tuple(result.shape) != tuple(target.shape):
        raise RuntimeError(f'{name}_: output with shape {list(target.shape)} doesn\'t match the '
                           f'broadcast shape {list(result.shape)}')
    return target.copy_(_castable(result, target, name))


def _castable(result, target, name):
    if not _dtype.can_cast(result.dtype, target.dtype):
        raise RuntimeError(f"{name}_: result type {result.dtype} can't be cast to the desired "
                           f'output type {target.dtype} (an in-place op keeps its target\'s '
                           f'dtype); use the out-of-place {name}() instead.')
    return result if result.dtype == target.dtype else result.to(target.dtype)


def _no_entries(payload):
    xp = payload.xp
    return SparseCOO(xp.zeros((payload.sparse_dim, 0), payload.indices.dtype),
                     xp.zeros((0,) + payload.values.shape[1:], payload.dtype), payload.shape,
                     True)


def _copied(target, src):
    """s.copy_(src): src's entries (copied), in s's dtype, on s's device. PyTorch adopts src's
    size as long as the numbers of sparse and dense dims agree."""
    if not is_sparse(src):
        raise RuntimeError(f'copy_() between dense and sparse Tensors is not implemented! Found '
                           f'self type = {target.type()} and src type = {src.type()}; call '
                           f'.to_sparse() on the source first.')
    mine, theirs = target._data, src._data
    if (mine.sparse_dim, mine.dense_dim) != (theirs.sparse_dim, theirs.dense_dim):
        raise RuntimeError(f'copy_(): the source has {theirs.sparse_dim} sparse and '
                           f'{theirs.dense_dim} dense dims, the target {mine.sparse_dim} and '
                           f'{mine.dense_dim}; they must agree.')
    src = src.detach().to(target.device, target.dtype)
    return SparseCOO(src._data.indices.copy(), src._data.values.copy(), theirs.shape,
                     theirs.coalesced)


def _set_payload(target, payload):
    target._data = payload
    target._vc[0] += 1
    return target
