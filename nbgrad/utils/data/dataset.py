"""Datasets: the map-style Dataset (samples by index) and the IterableDataset (a stream), their
combinations (TensorDataset, ConcatDataset, ChainDataset, Subset, StackDataset) and random_split,
with PyTorch's classes and checks.

A map-style dataset may also define __getitems__(indices) -> list of samples: the DataLoader then
fetches a whole batch in one call. TensorDataset also has _collated_batch(indices), what
default_collate makes of those samples, by one gather per tensor: with the default collate_fn the
DataLoader uses it (fetch.py), instead of a Python call per sample and a stack. The batches are the
same, and a custom collate_fn still gets the samples, as in PyTorch."""
import bisect
import collections.abc
import itertools
import math
import types
import warnings

from ..._creation import as_tensor
from ..._dtype import int64
from ..._random_ops import randperm


class Dataset:
    """An abstract map-style dataset: subclasses define __getitem__(index) and usually __len__.
    Generic like PyTorch's (Dataset[int]) for type annotations."""

    __class_getitem__ = classmethod(types.GenericAlias)

    def __getitem__(self, index):
        raise NotImplementedError('Subclasses of Dataset should implement __getitem__.')

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset, collections.abc.Iterable):
    """An abstract iterable-style dataset: subclasses define __iter__ (abstract, so a subclass
    without one cannot be made). With several DataLoader workers each worker iterates its own
    copy; use get_worker_info() in __iter__ to give each worker its own share of the stream."""

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the tensors' rows: dataset[i] == tuple(t[i] for t in tensors)."""

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError('Size mismatch between tensors')
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)

    def _collated_batch(self, indices):
        """default_collate([self[i] for i in indices]), by one gather per tensor."""
        index = as_tensor(indices, dtype=int64)
        return [t[index] for t in self.tensors]


class StackDataset(Dataset):
    """Datasets of equal length side by side: samples are tuples (positional datasets) or dicts
    (keyword datasets) of their samples."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError('Supported either ``tuple``- (via ``args``) or``dict``- (via '
                             '``kwargs``) like input/output, but both types are given.')
        if not args and not kwargs:
            raise ValueError('At least one dataset should be passed')
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(d) for d in parts):
            raise ValueError('Size mismatch between datasets')
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        keyed = self.datasets.items() if isinstance(self.datasets, dict) else \
            enumerate(self.datasets)
        fields = {key: _fetch_many(d, indices) for key, d in keyed}
        if isinstance(self.datasets, dict):
            return [{k: fields[k][i] for k in fields} for i in range(len(indices))]
        return [tuple(fields[k][i] for k in fields) for i in range(len(indices))]

    def __len__(self):
        return self._length


def _fetch_many(dataset, indices, check_count=True):
    """dataset's samples at indices, by its __getitems__ when it has one (whose answer
    StackDataset checks for length, as PyTorch's does, and Subset passes on as it is)."""
    getitems = getattr(dataset, '__getitems__', None)
    if not callable(getitems):
        return [dataset[i] for i in indices]
    items = getitems(indices)
    if check_count and len(items) != len(indices):
        raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got "
                         f'{len(items)}')
    return items


class ConcatDataset(Dataset):
    """Map-style datasets one after another."""

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError('datasets should not be an empty iterable')
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError('ConcatDataset does not support IterableDataset')
        self.cumulative_sizes = self.cumsum(self.datasets)

    @property
    def cummulative_sizes(self):
        warnings.warn('`cummulative_sizes` attribute is renamed to `cumulative_sizes`',
                      FutureWarning, stacklevel=2)
        return self.cumulative_sizes

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError('absolute value of index should not exceed dataset length')
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained on the fly."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError('ChainDataset only supports IterableDataset')
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError('ChainDataset only supports IterableDataset')
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        if type(self).__getitem__ is not Subset.__getitem__ and \
                type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f'{type(self).__name__} overrides __getitem__ but not __getitems__. When '
                'subclassing Subset and overriding __getitem__, you must also override '
                '__getitems__ to ensure DataLoader works correctly with your custom logic. A '
                'simple implementation:\n\ndef __getitems__(self, indices):\n    return '
                '[self.__getitem__(idx) for idx in indices]')

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        return _fetch_many(self.dataset, [self.indices[i] for i in indices], check_count=False)

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Non-overlapping random Subsets of the given lengths, or of the given fractions of
    len(dataset) (floors, the remainder dealt one by one from the first split on). The same
    generator state gives PyTorch's split."""
    if generator is None:
        from ...random import default_generator as generator
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_of_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError('Sum of input lengths does not equal the length of the input dataset!')
    order = randperm(sum(lengths), generator=generator).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - n:end]) for end, n in zip(ends, lengths)]


def _lengths_of_fractions(fractions, total):
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f'Fraction at index {i} is not between 0 and 1')
        lengths.append(math.floor(total * frac))
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, n in enumerate(lengths):
        if n == 0:
            warnings.warn(f'Length of split at index {i} is 0. This might result in an empty '
                          'dataset.', stacklevel=3)
    return lengths
