"""PyTorch's torch.nn.utils.rnn: PackedSequence and the functions that pack, pad and unpad
batches of variable-length sequences.

Every reshuffle of rows (packing, padding, unpacking) is one index_select over the rows plus one
row of padding: one differentiable graph node whatever the batch size. The index arrays are built
with NumPy from the lengths, which live on the CPU as in PyTorch.
"""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

import nbgrad

from ..._tensor import Tensor

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence',
           'pad_sequence', 'unpad_sequence', 'pack_sequence', 'unpack_sequence']

PackedSequence_ = namedtuple('PackedSequence_',
                             ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


def bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """A batch of variable-length sequences stored time-major without padding: `data` holds the
    rows of step 0 for every sequence, then step 1 for those that are still running, ...;
    `batch_sizes[t]` counts the sequences running at step t (a CPU int64 tensor). The batch is
    sorted by decreasing length; `sorted_indices` / `unsorted_indices` map to and from the
    caller's order (None when the caller's batch was already sorted).

    Make one with pack_padded_sequence or pack_sequence, not by hand."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes,
                                                                sorted_indices,
                                                                unsorted_indices))

    def pin_memory(self):
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          bind(self.sorted_indices, lambda t: t.pin_memory()),
                          bind(self.unsorted_indices, lambda t: t.pin_memory()))

    def to(self, *args, **kwargs):
        """data.to(*args, **kwargs); the indices follow data's device, batch_sizes stays on the
        CPU. Returns self when data does not change."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        non_blocking = kwargs.get('non_blocking', False)

        def call_to(t):
            return t.to(data.device, non_blocking=non_blocking)
        return type(self)(data, self.batch_sizes, bind(self.sorted_indices, call_to),
                          bind(self.unsorted_indices, call_to))

    def cuda(self, *args, **kwargs):
        example = nbgrad.tensor((), dtype=self.data.dtype, device=self.data.device)
        if example.to(*args, **kwargs).is_cuda:
            return self.to(*args, **kwargs)
        kwargs['device'] = 'cuda'
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        example = nbgrad.tensor((), dtype=self.data.dtype, device=self.data.device)
        if example.to(*args, **kwargs).device.type == 'cpu':
            return self.to(*args, **kwargs)
        kwargs['device'] = 'cpu'
        return self.to(*args, **kwargs)

    def double(self):
        return self.to(dtype=nbgrad.double)

    def float(self):
        return self.to(dtype=nbgrad.float)

    def half(self):
        return self.to(dtype=nbgrad.half)

    def long(self):
        return self.to(dtype=nbgrad.long)

    def int(self):
        return self.to(dtype=nbgrad.int)

    def short(self):
        return self.to(dtype=nbgrad.short)

    def char(self):
        return self.to(dtype=nbgrad.int8)

    def byte(self):
        return self.to(dtype=nbgrad.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None,
                               unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != 'cpu':
            raise ValueError('batch_sizes should always be on CPU. Instances of PackedSequence '
                             'should never be created manually. They should be instantiated by '
                             'functions like pack_sequence and pack_padded_sequences in '
                             'nn.utils.rnn.')
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError('Expected data to be a list or tuple of length 2')
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation):
    """The inverse of a permutation given as an index tensor (None stays None)."""
    if permutation is None:
        return None
    output = nbgrad.empty_like(permutation)
    output.scatter_(0, permutation, nbgrad.arange(0, permutation.numel(),
                                                  device=permutation.device))
    return output


def _select_rows(rows, index, shape, padding_value=None):
    """rows[index] reshaped to `shape`; index == len(rows) picks a row of padding_value."""
    if padding_value is not None:
        pad = rows.new_full((1,) + tuple(rows.shape[1:]), padding_value)
        rows = nbgrad.cat([rows, pad])
    index = nbgrad.as_tensor(np.ascontiguousarray(index, dtype=np.int64).reshape(-1),
                             device=rows.device)
    return rows.index_select(0, index).view(shape)


def _lengths_tensor(lengths):
    return nbgrad.as_tensor(np.asarray(lengths, dtype=np.int64))


def _pack(input, lengths, batch_first):
    """ATen's _pack_padded_sequence: (data, batch_sizes) from a padded input with lengths
    sorted in decreasing order."""
    if input.numel() == 0:
        raise RuntimeError('Cannot pack empty tensors.')
    if lengths.dim() != 1 or lengths.device.type != 'cpu':
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f'{lengths.dim()}D {lengths.device.type} Long tensor')
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    batch, time = input.size(batch_dim), input.size(time_dim)
    lengths = lengths.numpy()
    if len(lengths) != batch:
        raise RuntimeError(f'Expected `len(lengths)` to be equal to batch_size, but got '
                           f'{len(lengths)} (batch_size={batch})')
    if batch and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError('`lengths` array must be sorted in decreasing order when '
                           '`enforce_sorted` is True. You can pass `enforce_sorted=False` to '
                           'pack_padded_sequence and/or pack_sequence to sidestep this '
                           'requirement if you do not need ONNX exportability.')
    if batch and lengths[0] > time:  # PyTorch would read past the end of the input here
        raise RuntimeError(f'pack_padded_sequence: the longest length {lengths[0]} exceeds '
                           f'the padded input\'s sequence length {time}')
    steps = int(lengths[0]) if batch else 0
    # (t, b) pairs of the running sequences, time-major: the packed order
    t, b = np.nonzero(np.arange(steps)[:, None] < lengths[None, :])
    flat = b * time + t if batch_first else t * batch + b
    rest = tuple(input.shape[2:])
    data = _select_rows(input.reshape((batch * time,) + rest), flat, (len(flat),) + rest)
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(1)
    return data, _lengths_tensor(batch_sizes)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of the given
    lengths (a list or a CPU tensor). With enforce_sorted=False the lengths may come in any
    order; otherwise they must decrease."""
    if not isinstance(lengths, Tensor):
        lengths = nbgrad.as_tensor(lengths, dtype=nbgrad.int64, device='cpu')
    else:
        lengths = lengths.to(dtype=nbgrad.int64)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = nbgrad.sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded, lengths), the batch in the caller's order,
    padded to the longest length or to total_length."""
    batch_sizes = sequence.batch_sizes.numpy()
    max_seq_length = len(batch_sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(f'Expected total_length to be at least the length of the longest '
                             f'sequence in input, but got total_length={total_length} and max '
                             f'sequence length being {max_seq_length}')
        max_seq_length = total_length
    data = sequence.data
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)  # sorted order
    order = np.arange(batch)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices.cpu().numpy()
    # index[b, t]: the packed row of sequence order[b] at step t, or the padding row
    steps = np.arange(max_seq_length)[None, :]
    sorted_b = order[:, None]
    running = steps < lengths[order][:, None]
    index = np.where(running, offsets[np.minimum(steps, len(batch_sizes))] + sorted_b,
                     data.shape[0])
    if not batch_first:
        index = index.T
    rest = tuple(data.shape[1:])
    padded = _select_rows(data, index, index.shape + rest, padding_value)
    return padded, _lengths_tensor(lengths[order])


def _as_sequence_list(sequences):
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f'pad_sequence: Expected iterable for input sequences, but got arg of '
                           f'type: {type(sequences)}')
    return tuple(sequences)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padding each on
    the right (or left) with padding_value. The result has the first sequence's dtype."""
    sequences = _as_sequence_list(sequences)
    if padding_side not in ('left', 'right'):
        raise RuntimeError(f'Expected padding_side to be one of left or right, but got '
                           f'{padding_side}.')
    if not sequences:
        raise RuntimeError('received an empty list of sequences')
    first = sequences[0]
    for i, s in enumerate(sequences):
        if s.dim() == 0:
            raise RuntimeError(f'pad_sequence: sequence {i} is a 0-dim tensor; each sequence '
                               f'needs a length dimension')
        if tuple(s.shape[1:]) != tuple(first.shape[1:]):
            raise RuntimeError(f'pad_sequence: the sequences must agree in every dimension but '
                               f'the first, but sequence 0 has shape {list(first.shape)} and '
                               f'sequence {i} has shape {list(s.shape)}')
    lengths = np.array([s.size(0) for s in sequences], dtype=np.int64)
    max_len = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    steps = np.arange(max_len)[None, :]
    shift = (max_len - lengths)[:, None] if padding_side == 'left' else 0
    position = steps - shift  # index into each sequence, out of range where padding
    running = (position >= 0) & (position < lengths[:, None])
    index = np.where(running, starts[:, None] + position, lengths.sum())
    if not batch_first:
        index = index.T
    rows = nbgrad.cat([s.to(first.dtype) for s in sequences])
    return _select_rows(rows, index, index.shape + tuple(first.shape[1:]), padding_value)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences in a padded batch, each cut to its length. As PyTorch's, it
    transposes a time-first batch in place (the caller's tensor comes back batch-first) and
    cuts with a mask (IndexBackward0)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    positions = nbgrad.arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[positions < length] for seq, length in zip(padded_sequences, lengths,
                                                           strict=True)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences of shapes (L_i, *): pad_sequence then pack_padded_sequence."""
    lengths = nbgrad.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in the caller's order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
