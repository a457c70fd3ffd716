"""DistributedSampler: each of num_replicas processes visits its own share of a dataset, the shares
interleaved (rank, rank + num_replicas, ...) from one permutation that all replicas agree on (seeded
by seed + epoch, so call set_epoch at the start of every epoch for a new order)."""
import math

from ..._random_ops import randperm
from .sampler import Sampler


class DistributedSampler(Sampler):

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            # from the default process group, as PyTorch (its ValueError when there is none)
            from ... import distributed as dist
            if not dist.is_initialized():
                raise ValueError('Default process group has not been initialized, please make '
                                 'sure to call init_process_group.')
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f'Invalid rank {rank}, rank should be in the interval '
                             f'[0, {num_replicas - 1}]')
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the tail that would not divide evenly is dropped, so no replica repeats a sample
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ...random import Generator
            generator = Generator()
            generator.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            # padded by repeating from the start, so every replica gets num_samples indices
            padding = self.total_size - n
            if padding > 0:
                indices += (indices * math.ceil(padding / n))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch that seeds the next pass's permutation (with shuffle=True): the same on all
        replicas, a new one each epoch."""
        self.epoch = epoch
