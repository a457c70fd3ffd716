"""Samplers: the order in which a DataLoader visits a map-style dataset's indices, and BatchSampler,
which groups them into batches. Each draws from nbgrad's generators with the calls PyTorch's makes,
in the same order, so after the same manual_seed the same indices come out as in PyTorch."""
import itertools
import types

from ..._creation import as_tensor, empty
from ..._dtype import float64, int64
from ..._random_ops import multinomial, randint, randperm


class Sampler:
    """Base class: subclasses define __iter__ (indices or lists of indices) and, where they can,
    __len__. Generic like PyTorch's (Sampler[int]); like PyTorch 2.13's it has no __init__ of
    its own, so super().__init__(data_source) is an error."""

    __class_getitem__ = classmethod(types.GenericAlias)

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f'{name} should be a positive integer value, but got {name}={value}')


def _check_bool(name, value, error=ValueError):
    if not isinstance(value, bool):
        raise error(f'{name} should be a boolean value, but got {name}={value}')


def _fresh_generator():
    """A generator seeded from the global one, as PyTorch's RandomSampler makes when given none:
    each pass over the data draws one seed from the global stream."""
    from ...random import Generator
    seed = int(empty((), dtype=int64).random_().item())
    generator = Generator()
    generator.manual_seed(seed)
    return generator


class RandomSampler(Sampler):
    """A random permutation of the indices each pass (num_samples of them, cycling through
    permutations when more than len(data_source)), or num_samples indices drawn with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool('replacement', replacement, TypeError)
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError('num_samples should be a positive integer value, but got '
                             f'num_samples={self.num_samples}')

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = _fresh_generator() if self.generator is None else self.generator
        if self.replacement:
            # in draws of 32, as PyTorch's, so the same seed gives the same indices
            for size in [32] * (self.num_samples // 32) + [self.num_samples % 32]:
                yield from randint(high=n, size=(size,), dtype=int64,
                                   generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices in [0, len(weights)), index i with probability weights[i] / sum."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int('num_samples', num_samples)
        _check_bool('replacement', replacement)
        weights = as_tensor(weights, dtype=float64)
        if weights.dim() != 1:
            raise ValueError('weights should be a 1d sequence but given weights have shape '
                             f'{tuple(weights.shape)}')
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        draws = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from iter(draws.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of batch_size consecutive indices of `sampler`; the last shorter one kept unless
    drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int('batch_size', batch_size)
        _check_bool('drop_last', drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
