"""Lookup-table functions: embedding, embedding_bag and one_hot.

embedding and embedding_bag are graph nodes named as PyTorch's (EmbeddingBackward0,
EmbeddingBagBackward0): forward gathers rows on arrays, backward scatters the gradient back with
Tensor ops (index_add / scatter_add), so double backward works. With sparse=True embedding's
weight gradient is a sparse COO tensor, as PyTorch's: one entry per looked-up index, in input
order, uncoalesced; embedding_bag's has an entry per index that a bag uses.
"""
import warnings

import numpy as np

from ... import _creation, _dispatch, _dtype
from ..._dispatch import dispatch
from ..._tensor import Tensor
from ...autograd.graph import Node
from ...autograd.grad_mode import no_grad
from ...ops._util import xp_of
from ...ops.views import _index_add_at

__all__ = ['embedding', 'embedding_bag', 'one_hot']

_INDEX_DTYPES = (np.int64, np.int32)


def _word(t):
    return _dispatch._type_word(t._data.dtype)


def _check_indices(indices, name, function):
    if indices._data.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the following "
                           f'scalar types: Long, Int; but got {_word(indices)} instead (while '
                           f'checking arguments for {function})')


def _wrap_padding_idx(padding_idx, rows, word='Padding_idx'):
    """padding_idx as a row number (negative counts from the end), checked like PyTorch."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise AssertionError(f'{word} must be within num_embeddings (got {padding_idx} for '
                             f'{rows} embeddings)')
    return padding_idx + rows if padding_idx < 0 else padding_idx


def _out_of_range(idx, rows):
    """The first index outside [0, rows) and its position, or None (one device sync on a GPU,
    run with the indices' GPU current)."""
    if idx.size == 0:
        return None
    with _dispatch.device_scope(idx):
        bad = (idx < 0) | (idx >= rows)
        if not bool(bad.any()):
            return None
        where = int(bad.reshape(-1).argmax())
        return where, int(idx.reshape(-1)[where])


# -- embedding -----------------------------------------------------------------------------------

class EmbeddingLookup(Node):
    """weight[indices]; the gradient of each weight row is the sum of the gradients of the
    outputs that looked it up, none for padding_idx, divided by the row's count in the batch
    with scale_grad_by_freq. Inputs: weight, indices."""
    shown_inputs = (0,)     # (the indices have no edge in PyTorch's node)
    saved_inputs = (1,)

    def __init__(self, padding_idx, scale_grad_by_freq, sparse=False):
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        self.sparse = sparse

    def forward(self, weight, indices):
        bad = _out_of_range(indices, weight.shape[0])
        if bad is not None:
            raise IndexError(f'index out of range in self: embedding got index {bad[1]} for a '
                             f'weight with {weight.shape[0]} rows (indices must be in '
                             f'[0, {weight.shape[0]}))')
        self._weight_shape = weight.shape
        return weight[indices]

    def backward(self, g):
        (indices,) = self.saved_tensors
        rows, dim = self._weight_shape
        idx = indices.reshape(-1).long()
        grads = g.reshape(-1, dim)
        if self.sparse:
            if self.scale_grad_by_freq:     # (PyTorch's check, at the same moment)
                raise RuntimeError('embedding_backward: scale_grad_by_freq not supported with '
                                   'sparse gradients')
            return _sparse_weight_grad(idx, grads, self.padding_idx, (rows, dim)), None
        if self.padding_idx is not None:
            grads = grads.masked_fill((idx == self.padding_idx).unsqueeze(1), 0)
        if self.scale_grad_by_freq and idx.numel():
            counts = idx.bincount(minlength=rows)
            grads = grads / counts[idx].unsqueeze(1).to(grads.dtype)
        if _dtype.is_reduced_float(grads._data.dtype) and grads._data.__class__ is np.ndarray \
                and not _dispatch._modes.grad_enabled:
            # PyTorch's CPU embedding backward adds each row in half (or bfloat16), one at a
            # time (its index_add_ on a matrix accumulates half in float)
            out = np.zeros((rows, dim), grads._data.dtype)
            np.add.at(out, idx._data, grads._data)
            return Tensor._make(out), None
        return g.new_zeros((rows, dim)).index_add(0, idx, grads), None

    def name(self):
        return 'EmbeddingBackward0'


def _sparse_weight_grad(idx, grads, padding_idx, shape):
    """PyTorch's embedding_sparse_backward: an entry per index (padding_idx's left out)."""
    from ...sparse import sparse_coo_tensor
    if padding_idx is not None:
        keep = idx != padding_idx
        idx, grads = idx[keep], grads[keep]
    return sparse_coo_tensor(idx.reshape(1, -1), grads, shape)


def _embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale, in place and outside autograd, the rows of weight that indices use and whose
    norm exceeds max_norm to norm max_norm (PyTorch's embedding_renorm_: the scale
    max_norm / (norm + 1e-7) is computed in double)."""
    with no_grad():
        w = weight.detach()
        used = indices.reshape(-1).long().unique()
        bad = _out_of_range(used._data, w.shape[0])
        if bad is not None:
            raise IndexError(f'select(): index {bad[1]} out of range for tensor of size '
                             f'{list(w.shape)} at dimension 0')
        rows = w[used]
        norms = rows.norm(norm_type, 1).double()
        over = norms > max_norm
        if bool(over.any()):
            scale = (max_norm / (norms[over] + 1e-7)).to(w.dtype)
            w[used[over]] = rows[over] * scale.unsqueeze(1)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of `weight` at the indices in `input`: output shape input.shape + (dim,)."""
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f'{list(weight.shape)}')
    padding_idx = _wrap_padding_idx(padding_idx, weight.shape[0])
    _check_indices(input, 'indices', 'embedding')
    if max_norm is not None:
        input = input.contiguous()
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return dispatch(EmbeddingLookup(padding_idx, scale_grad_by_freq, bool(sparse)), weight, input)


# -- embedding_bag -------------------------------------------------------------------------------

_MODES = ('sum', 'mean', 'max')


class EmbeddingBagOp(Node):
    """Sums, means or maxima of bags of weight rows. Bag b holds the indices at positions
    offsets[b] to offsets[b+1] (to the end for the last bag, unless include_last_offset);
    positions holding padding_idx are left out. Inputs: weight, indices, offsets,
    per_sample_weights (or None)."""
    saved_inputs = (0, 3)

    def __init__(self, mode, padding_idx, scale_grad_by_freq, include_last_offset,
                 sparse=False):
        self.mode, self.padding_idx = mode, padding_idx
        self.scale_grad_by_freq, self.include_last_offset = scale_grad_by_freq, include_last_offset
        self.sparse = sparse

    def forward(self, weight, indices, offsets, per_sample_weights):
        xp = xp_of(weight)
        idx, offs = indices.astype(np.int64), offsets.astype(np.int64)
        rows, dim = weight.shape
        bags, end = self._bags, self._end  # from validate()
        position = xp.arange(idx.size)
        bag_of = xp.searchsorted(offs[:bags], position, side='right') - 1
        keep = position < end
        if self.padding_idx is not None:
            keep &= idx != self.padding_idx
        kept = xp.nonzero(keep)[0]
        bag_of, kept_idx = bag_of[kept], idx[kept]
        sizes = xp.bincount(bag_of, minlength=bags) if kept.size else \
            xp.zeros(bags, np.int64)
        self._weight_shape, self._positions = weight.shape, idx.size
        self._kept, self._bag_of, self._kept_idx = kept, bag_of, kept_idx
        if self.mode == 'max':
            return self._max(xp, weight, bags, sizes)
        values = weight[kept_idx]
        if per_sample_weights is not None:
            values = values * per_sample_weights[kept][:, None]
        out = xp.zeros((bags, dim), weight.dtype)
        _index_add_at(xp, out, bag_of, values)
        scale = None
        if self.mode == 'mean':
            per_bag = xp.maximum(sizes, 1).astype(weight.dtype)
            out /= per_bag[:, None]
            scale = 1 / per_bag[bag_of]
        if self.scale_grad_by_freq and idx.size:
            counts = xp.bincount(idx, minlength=rows)[kept_idx].astype(weight.dtype)
            scale = 1 / counts if scale is None else scale / counts
        self._row_scale = scale
        return out

    def validate(self, weight, indices, offsets):
        """PyTorch's checks of indices and offsets, made before anything runs (max_norm rescales
        the weight in place first); remembers the number of bags and the end of the last."""
        idx, offs, rows = indices._data, offsets._data, weight.shape[0]
        bad = _out_of_range(idx, rows)
        if bad is not None:
            raise RuntimeError(f'Index {bad[0]} of input takes value {bad[1]} which is not in the '
                               f'valid range [0, {rows})')
        self._bags = max(offs.size - 1, 0) if self.include_last_offset else offs.size
        self._end = 0
        if offs.size == 0:
            return
        with _dispatch.device_scope(offs):
            first, last = int(offs[0]), int(offs[-1])
            decreasing = offs.size > 1 and bool((offs[1:] < offs[:-1]).any())
        if first != 0:
            raise RuntimeError(f'offsets[0] has to be 0, i.e., the first sequence in the '
                               f'mini-batch has to start from position 0. However, got {first}')
        if last > idx.size:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} "
                               f'but got offsets[-1] of {last}')
        if decreasing:
            raise RuntimeError('embedding_bag: offsets must be non-decreasing (bag b is '
                               'input[offsets[b]:offsets[b+1]])')
        if self.include_last_offset and last != idx.size:
            # PyTorch computes something here (sum/mean bags end at offsets[-1], max's runs to
            # the end) with gradients read from uninitialised memory: refused instead
            raise RuntimeError(f'embedding_bag: with include_last_offset=True, offsets are the '
                               f'bags\' boundaries (CSR row pointers) and offsets[-1] must equal '
                               f'the input\'s length {idx.size}, but got offsets[-1] = {last}. '
                               f'Append len(input) to offsets, or pass include_last_offset=False.')
        self._end = idx.size

    def _max(self, xp, weight, bags, sizes):
        """Elementwise maxima per bag (the first maximal row on ties; empty bags give 0), and
        the row each maximum came from, through a (bags, longest bag, dim) padded block."""
        dim = weight.shape[1]
        bag_of, kept_idx = self._bag_of, self._kept_idx
        longest = int(sizes.max()) if bags else 0
        out = xp.zeros((bags, dim), weight.dtype)
        argrow = xp.full((bags, dim), -1, np.int64)
        if bag_of.size:
            rank = xp.arange(bag_of.size) - xp.searchsorted(bag_of, bag_of, side='left')
            block = xp.full((bags, longest, dim), -np.inf, weight.dtype)
            block[bag_of, rank] = weight[kept_idx]
            rows_in_block = xp.zeros((bags, longest), np.int64)
            rows_in_block[bag_of, rank] = kept_idx
            first = block.argmax(axis=1)                                     # (bags, dim)
            nonempty = (sizes > 0)[:, None]
            out = xp.where(nonempty, xp.take_along_axis(block, first[:, None], 1)[:, 0], out)
            argrow = xp.where(nonempty, xp.take_along_axis(rows_in_block, first, 1), argrow)
        self._argrow = argrow
        return out

    def backward(self, g):
        weight, per_sample_weights = self.saved_tensors
        edges = self._edges
        rows, dim = self._weight_shape
        bag_of, kept_idx = Tensor._make(self._bag_of), Tensor._make(self._kept_idx)
        grad_w = grad_psw = None
        if edges[0] is not None:
            if self.sparse and self.scale_grad_by_freq:     # (PyTorch's check, at this moment)
                raise RuntimeError('embedding_backward: scale_grad_by_freq not supported with '
                                   'sparse gradients')
            grad_w = g.new_zeros((rows, dim))
            if self.mode == 'max':
                argrow = Tensor._make(self._argrow)
                found = argrow >= 0
                grad_w = grad_w.scatter_add(0, argrow.clamp_min(0), g.masked_fill(~found, 0))
            elif kept_idx.numel():
                values = g.index_select(0, bag_of)
                if per_sample_weights is not None:
                    values = values * per_sample_weights.index_select(
                        0, Tensor._make(self._kept)).unsqueeze(1)
                if self._row_scale is not None:
                    # (the forward's scale is float32 for a bfloat16 bag: see _bfloat16.py)
                    values = values * Tensor._make(self._row_scale).to(values.dtype).unsqueeze(1)
                grad_w = _sparse_weight_grad(kept_idx, values, None, (rows, dim)) \
                    if self.sparse else grad_w.index_add(0, kept_idx, values)
            elif self.sparse:
                grad_w = _sparse_weight_grad(kept_idx, g.new_zeros((0, dim)), None, (rows, dim))
        if len(edges) > 3 and edges[3] is not None:
            per_row = (g.index_select(0, bag_of) * weight.index_select(0, kept_idx)).sum(1)
            grad_psw = g.new_zeros(self._positions).index_add(0, Tensor._make(self._kept),
                                                              per_row)
        return grad_w, None, None, grad_psw

    def name(self):
        return 'EmbeddingBagBackward0'


def _bags_of(input, offsets, per_sample_weights, include_last_offset):
    """input, offsets, per_sample_weights and include_last_offset in the 1-D form (a 2-D input is
    one bag per row)."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f'if input is 2D, then offsets has to be None, as input is treated '
                             f'is a mini-batch of fixed length sequences. However, found offsets '
                             f'of type {type(offsets)}')
        offsets = _creation.arange(0, input.numel(), input.shape[1], dtype=input.dtype,
                                   device=input.device)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        return input.reshape(-1), offsets, per_sample_weights, False
    if input.dim() == 1:
        if offsets is None:
            raise ValueError('offsets has to be a 1D Tensor but got None')
        if offsets.dim() != 1:
            raise ValueError(f'offsets has to be a 1D Tensor, got {offsets.dim()}-D')
        return input, offsets, per_sample_weights, include_last_offset
    raise ValueError(f'input has to be 1D or 2D Tensor, but got Tensor of dimension '
                     f'{input.dim()}')


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode='mean', sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sum, mean or max of each bag of embeddings, without making the per-index embeddings
    first: (B, dim) for B bags, empty bags giving zeros."""
    if weight.dtype == _dtype.int64 and input.is_floating_point():
        warnings.warn('Argument order of nn.functional.embedding_bag was changed. Usage '
                      '`embedding_bag(weight, input, ...)` is deprecated, and should now be '
                      '`embedding_bag(input, weight, ...)`.', stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f'embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is '
                         f'not None, then it must have the same shape as the input '
                         f'({input.shape})')
    if weight.dim() != 2:
        raise ValueError(f'weight has to be a 2D Tensor, but got Tensor of dimension '
                         f'{weight.dim()}')
    input, offsets, per_sample_weights, include_last_offset = _bags_of(
        input, offsets, per_sample_weights, include_last_offset)
    if mode not in _MODES:
        raise ValueError('mode has to be one of sum, mean or max')
    if mode == 'max' and scale_grad_by_freq:
        raise ValueError('max mode does not support scaling the gradient by the frequency')
    if mode == 'max' and sparse:
        raise ValueError('max mode does not support sparse weights')
    _check_indices(input, 'indices', 'embedding_bag')
    _check_indices(offsets, 'offsets', 'embedding_bag')
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if not weight.is_floating_point():
        raise RuntimeError(f'embedding_bag: weight must be floating point, got {_word(weight)}')
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as "
                           f"tensor for argument #1 'per_sample_weights'; but type "
                           f'{_word(weight)} does not equal {_word(per_sample_weights)} (while '
                           'checking arguments for embedding_bag)')
    padding_idx = _wrap_padding_idx(padding_idx, weight.shape[0], 'padding_idx')
    op = EmbeddingBagOp(mode, padding_idx, scale_grad_by_freq, include_last_offset,
                        bool(sparse))
    op.validate(weight, input, offsets)  # every check before max_norm changes the weight
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return dispatch(op, weight, input, offsets, per_sample_weights)


# -- one_hot -------------------------------------------------------------------------------------

def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each value's position;
    num_classes=-1 takes the largest value + 1."""
    if tensor._data.dtype != np.int64:
        raise RuntimeError(f'one_hot is only applicable to index tensor of type LongTensor, got '
                           f'{_word(tensor)}; convert it with .long()')
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError('Can not infer total number of classes from empty tensor.')
    elif tensor.is_meta:     # (no values to check: the classes must be given)
        if num_classes <= 0:
            raise NotImplementedError('one_hot of a meta tensor needs num_classes: the largest '
                                      'value, which meta tensors do not have, would set it')
    else:
        if int(tensor.min()) < 0:
            raise RuntimeError('Class values must be non-negative.')
        top = int(tensor.max())
        if num_classes == -1:
            num_classes = top + 1
        elif top >= num_classes:
            raise RuntimeError(f'Class values must be smaller than num_classes ({num_classes}), '
                               f'got {top}.')
    classes = _creation.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
