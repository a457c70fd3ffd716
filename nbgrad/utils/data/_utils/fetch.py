"""Fetchers: how one batch request becomes one collated batch, in the main process or in a
worker. A map-style dataset is indexed (by __getitems__ when it has one); an iterable dataset's
iterator is advanced batch_size times."""
from .collate import default_collate


def whole_batch_fetch(dataset):
    """A function indices -> the default-collated batch in one step, for datasets that can
    gather a batch at once (a TensorDataset whose subclass, if any, leaves __getitem__ and
    __getitems__ alone, or a Subset of one, as random_split makes), else None."""
    from ..dataset import Subset, TensorDataset
    if isinstance(dataset, TensorDataset) and \
            type(dataset).__getitem__ is TensorDataset.__getitem__ and \
            getattr(type(dataset), '__getitems__', None) is None:
        return dataset._collated_batch
    if type(dataset) is Subset:
        inner = whole_batch_fetch(dataset.dataset)
        if inner is not None:
            return lambda indices: inner([dataset.indices[i] for i in indices])
    return None


class MapDatasetFetcher:

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.whole_batch = whole_batch_fetch(dataset) if collate_fn is default_collate else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.whole_batch is not None:
            return self.whole_batch(index)
        getitems = getattr(self.dataset, '__getitems__', None)
        samples = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class IterableDatasetFetcher:

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        """The next batch (index: a list as long as the batch, or None without batching);
        StopIteration once the stream has no (full, with drop_last) batch left."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)
