"""Data porting sweep (see data_sweep_common.py): samplers, and DataLoader's options and errors."""
from data_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# Samplers
# ======================================================================================

@case
def sequential_sampler(lib):
    s = lib.utils.data.SequentialSampler(range(5))
    return list(s), len(s)


@case
def random_sampler_global_seed(lib):
    lib.manual_seed(0)
    s = lib.utils.data.RandomSampler(range(10))
    return list(s), list(s), len(s), lib.rand(1)


@case
def random_sampler_generator(lib):
    g = lib.Generator().manual_seed(5)
    s = lib.utils.data.RandomSampler(range(8), generator=g)
    return list(s), list(s)


@case
def random_sampler_replacement_many(lib):
    g = lib.Generator().manual_seed(5)
    s = lib.utils.data.RandomSampler(range(6), replacement=True, num_samples=70, generator=g)
    return list(s), len(s)


@case
def random_sampler_replacement_default_num(lib):
    lib.manual_seed(8)
    s = lib.utils.data.RandomSampler(range(40), replacement=True)
    return list(s)


@case
def random_sampler_num_samples_more_than_n(lib):
    g = lib.Generator().manual_seed(5)
    s = lib.utils.data.RandomSampler(range(4), num_samples=10, generator=g)
    return list(s), len(s), s.num_samples


@case
def random_sampler_num_samples_less(lib):
    g = lib.Generator().manual_seed(5)
    s = lib.utils.data.RandomSampler(range(10), num_samples=3, generator=g)
    return list(s)


@case
def random_sampler_bad_replacement(lib):
    return lib.utils.data.RandomSampler(range(4), replacement=1)


@case
def random_sampler_bad_num_samples(lib):
    return lib.utils.data.RandomSampler(range(4), num_samples=0)


@case
def random_sampler_float_num_samples(lib):
    return lib.utils.data.RandomSampler(range(4), num_samples=2.0)


@case
def random_sampler_empty_dataset(lib):
    return lib.utils.data.RandomSampler([])


@case
def random_sampler_lazy_seed_draw(lib):
    lib.manual_seed(1)
    s = lib.utils.data.RandomSampler(range(5))
    it = iter(s)
    a = lib.rand(1)
    return a, list(it)


@case
def random_sampler_in_dataloader(lib):
    lib.manual_seed(10)
    ds = list(range(10))
    s = lib.utils.data.RandomSampler(ds, replacement=True, num_samples=7)
    return batches(lib.utils.data.DataLoader(ds, batch_size=3, sampler=s))


@case
def subset_random_sampler(lib):
    g = lib.Generator().manual_seed(0)
    s = lib.utils.data.SubsetRandomSampler([10, 20, 30, 40, 50], generator=g)
    return list(s), list(s), len(s)


@case
def subset_random_sampler_global(lib):
    lib.manual_seed(4)
    s = lib.utils.data.SubsetRandomSampler(range(3, 9))
    return list(s), lib.rand(1)


@case
def subset_random_sampler_tensor_indices(lib):
    g = lib.Generator().manual_seed(0)
    s = lib.utils.data.SubsetRandomSampler(lib.tensor([10, 20, 30]), generator=g)
    return list(s)


@case
def weighted_sampler_replacement(lib):
    g = lib.Generator().manual_seed(0)
    s = lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 12, generator=g)
    return list(s), len(s), s.weights


@case
def weighted_sampler_no_replacement(lib):
    g = lib.Generator().manual_seed(1)
    s = lib.utils.data.WeightedRandomSampler(lib.tensor([0.1, 0.9, 0.4, 0.7, 3.0, 0.6]), 5,
                                             replacement=False, generator=g)
    return list(s)


@case
def weighted_sampler_global_seed(lib):
    lib.manual_seed(33)
    s = lib.utils.data.WeightedRandomSampler(np.array([1.0, 2.0, 3.0]), 6)
    return list(s), lib.rand(1)


@case
def weighted_sampler_too_many_without_replacement(lib):
    s = lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)
    return excname(lambda: list(s))


@case
def weighted_sampler_2d_error(lib):
    return lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 3)


@case
def weighted_sampler_bool_num_samples(lib):
    return lib.utils.data.WeightedRandomSampler([1.0, 2.0], True)


@case
def weighted_sampler_bad_replacement(lib):
    return lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=0)


@case
def weighted_sampler_in_loader(lib):
    lib.manual_seed(2)
    ds = lib.utils.data.TensorDataset(lib.arange(5))
    s = lib.utils.data.WeightedRandomSampler([1, 1, 5, 1, 1], 8)
    return batches(lib.utils.data.DataLoader(ds, batch_size=4, sampler=s))


@case
def batch_sampler_basic(lib):
    b = lib.utils.data.BatchSampler(lib.utils.data.SequentialSampler(range(10)), 3, False)
    d = lib.utils.data.BatchSampler(range(10), 3, True)
    return list(b), len(b), list(d), len(d)


@case
def batch_sampler_exact(lib):
    b = lib.utils.data.BatchSampler(range(9), 3, True)
    return list(b), len(b)


@case
def batch_sampler_bad_size(lib):
    return lib.utils.data.BatchSampler(range(9), 0, False)


@case
def batch_sampler_bool_size(lib):
    return lib.utils.data.BatchSampler(range(9), True, False)


@case
def batch_sampler_bad_drop_last(lib):
    return lib.utils.data.BatchSampler(range(9), 2, 'no')


@case
def batch_sampler_random(lib):
    g = lib.Generator().manual_seed(0)
    b = lib.utils.data.BatchSampler(lib.utils.data.RandomSampler(range(7), generator=g), 2, False)
    return list(b)


@case
def sampler_base(lib):
    s = lib.utils.data.Sampler()
    return excname(lambda: iter(s)), excname(lambda: len(s))


@case
def sampler_base_data_source_arg(lib):
    class MySampler(lib.utils.data.Sampler):
        def __init__(self, ds):
            super().__init__(ds)
            self.n = len(ds)

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    ds = list(range(5))
    return batches(lib.utils.data.DataLoader(ds, sampler=MySampler(ds), batch_size=2))


@case
def distributed_sampler_shuffle(lib):
    ds = list(range(10))
    out = []
    for rank in range(3):
        s = lib.utils.data.DistributedSampler(ds, num_replicas=3, rank=rank)
        out.append((list(s), len(s), s.num_samples, s.total_size))
    return out


@case
def distributed_sampler_no_shuffle(lib):
    ds = list(range(10))
    return [list(lib.utils.data.DistributedSampler(ds, num_replicas=4, rank=r, shuffle=False))
            for r in range(4)]


@case
def distributed_sampler_drop_last(lib):
    ds = list(range(10))
    out = []
    for r in range(4):
        s = lib.utils.data.DistributedSampler(ds, num_replicas=4, rank=r, drop_last=True, seed=7)
        out.append((list(s), len(s), s.total_size))
    return out


@case
def distributed_sampler_set_epoch(lib):
    s = lib.utils.data.DistributedSampler(list(range(9)), num_replicas=2, rank=1, seed=3)
    a = list(s)
    s.set_epoch(1)
    b = list(s)
    s.set_epoch(5)
    return a, b, list(s), s.epoch


@case
def distributed_sampler_padding_more_than_n(lib):
    ds = list(range(3))
    return [list(lib.utils.data.DistributedSampler(ds, num_replicas=8, rank=r, shuffle=False))
            for r in range(8)]


@case
def distributed_sampler_empty_dataset(lib):
    s = lib.utils.data.DistributedSampler([], num_replicas=2, rank=0, shuffle=False)
    return len(s), list(s)


@case
def distributed_sampler_bad_rank(lib):
    return lib.utils.data.DistributedSampler(list(range(4)), num_replicas=2, rank=2)


@case
def distributed_sampler_negative_rank(lib):
    return lib.utils.data.DistributedSampler(list(range(4)), num_replicas=2, rank=-1)


@case
def distributed_sampler_no_process_group(lib):
    return excname(lambda: lib.utils.data.DistributedSampler(list(range(4))))


@case
def distributed_sampler_in_loader(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(11))
    s = lib.utils.data.DistributedSampler(ds, num_replicas=2, rank=0, seed=1)
    dl = lib.utils.data.DataLoader(ds, batch_size=4, sampler=s)
    s.set_epoch(2)
    return batches(dl), len(dl)


@case
def distributed_sampler_module_path(lib):
    return lib.utils.data.distributed.DistributedSampler is lib.utils.data.DistributedSampler


# ======================================================================================
# DataLoader options and errors
# ======================================================================================

@case
def dl_sampler_and_shuffle(lib):
    return lib.utils.data.DataLoader(list(range(4)), sampler=[0, 1], shuffle=True)


@case
def dl_batch_sampler_and_batch_size(lib):
    return lib.utils.data.DataLoader(list(range(4)), batch_sampler=[[0]], batch_size=2)


@case
def dl_batch_sampler_and_drop_last(lib):
    return lib.utils.data.DataLoader(list(range(4)), batch_sampler=[[0]], drop_last=True)


@case
def dl_batch_sampler_and_shuffle(lib):
    return lib.utils.data.DataLoader(list(range(4)), batch_sampler=[[0]], shuffle=True)


@case
def dl_batch_sampler_and_batch_size_none(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), batch_sampler=[[0, 3]], batch_size=None)
    return excname(lambda: batches(dl)), dl.batch_size


@case
def dl_batch_none_drop_last(lib):
    return lib.utils.data.DataLoader(list(range(4)), batch_size=None, drop_last=True)


@case
def dl_negative_workers(lib):
    return lib.utils.data.DataLoader(list(range(4)), num_workers=-1)


@case
def dl_negative_timeout(lib):
    return lib.utils.data.DataLoader(list(range(4)), timeout=-1)


@case
def dl_prefetch_without_workers(lib):
    return lib.utils.data.DataLoader(list(range(4)), prefetch_factor=2)


@case
def dl_negative_prefetch(lib):
    return lib.utils.data.DataLoader(list(range(4)), num_workers=1, prefetch_factor=-1)


@case
def dl_persistent_without_workers(lib):
    return lib.utils.data.DataLoader(list(range(4)), persistent_workers=True)


@case
def dl_mp_context_without_workers(lib):
    return lib.utils.data.DataLoader(list(range(4)), multiprocessing_context='fork')


@case
def dl_bad_mp_context(lib):
    return lib.utils.data.DataLoader(list(range(4)), num_workers=1, multiprocessing_context='xyz')


@case
def dl_bad_mp_context_type(lib):
    return lib.utils.data.DataLoader(list(range(4)), num_workers=1, multiprocessing_context=3)


@case
def dl_batch_size_zero(lib):
    return lib.utils.data.DataLoader(list(range(4)), batch_size=0)


@case
def dl_defaults(lib):
    dl = lib.utils.data.DataLoader(list(range(4)))
    return (dl.batch_size, dl.drop_last, dl.num_workers, dl.prefetch_factor, dl.timeout,
            dl.pin_memory, dl.persistent_workers, dl.generator, dl.worker_init_fn,
            type(dl.sampler).__name__, type(dl.batch_sampler).__name__,
            dl.collate_fn is lib.utils.data.default_collate, dl.multiprocessing_context,
            dl.in_order, dl.pin_memory_device)


@case
def dl_defaults_workers(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), num_workers=2)
    return dl.prefetch_factor, dl.num_workers


@case
def dl_defaults_batch_none(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), batch_size=None)
    return (dl.batch_size, dl.batch_sampler, type(dl.sampler).__name__,
            dl.collate_fn is lib.utils.data.default_convert)


@case
def dl_shuffle_sampler_type(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), shuffle=True)
    return type(dl.sampler).__name__, dl.sampler.generator


@case
def dl_set_batch_size_after_init(lib):
    dl = lib.utils.data.DataLoader(list(range(4)))
    dl.batch_size = 2


@case
def dl_set_sampler_after_init(lib):
    dl = lib.utils.data.DataLoader(list(range(4)))
    dl.sampler = [0]


@case
def dl_set_dataset_after_init(lib):
    dl = lib.utils.data.DataLoader(list(range(4)))
    dl.dataset = [1]


@case
def dl_set_persistent_after_init(lib):
    dl = lib.utils.data.DataLoader(list(range(4)))
    dl.persistent_workers = True


@case
def dl_set_collate_after_init(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), batch_size=2)
    dl.collate_fn = lambda b: sum(b)
    dl.num_workers = 0
    dl.custom_attr = 5
    return batches(dl), dl.custom_attr


@case
def dl_subclass_setattr(lib):
    class MyDL(lib.utils.data.DataLoader):
        pass

    dl = MyDL(list(range(4)))
    dl.drop_last = True


@case
def dl_pin_memory_cpu(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)
    return batches(dl)


@case
def dl_iter_len(lib):
    dl = lib.utils.data.DataLoader(list(range(10)), batch_size=4)
    it = iter(dl)
    next(it)
    return len(it), len(dl)


@case
def dl_next_after_exhaust(lib):
    it = iter(lib.utils.data.DataLoader([1], batch_size=1))
    next(it)
    return excname(lambda: next(it)), excname(lambda: next(it))


@case
def dl_list_dataset(lib):
    return batches(lib.utils.data.DataLoader([(1, 2.0), (3, 4.0), (5, 6.0)], batch_size=2))


@case
def dl_numpy_dataset(lib):
    return batches(lib.utils.data.DataLoader(np.arange(10, dtype=np.int16).reshape(5, 2),
                                             batch_size=2))


@case
def dl_tensor_dataset_direct(lib):
    return batches(lib.utils.data.DataLoader(lib.arange(6).reshape(3, 2), batch_size=2))


@case
def dl_dataset_error_propagates(lib):
    class Bad(lib.utils.data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            raise KeyError(f'missing {i}')

    return batches(lib.utils.data.DataLoader(Bad()))


@case
def dl_timeout_attr(lib):
    dl = lib.utils.data.DataLoader(list(range(2)), timeout=3)
    return dl.timeout, batches(dl)


@case
def dl_in_order_false(lib):
    return batches(lib.utils.data.DataLoader(list(range(5)), batch_size=2, in_order=False))


@case
def dl_positional_args(lib):
    ds = list(range(6))
    dl = lib.utils.data.DataLoader(ds, 2, False, None, None, 0, lambda b: tuple(b), False, True)
    return batches(dl)


@case
def dl_prefetch_factor_keyword_only(lib):
    return excname(lambda: lib.utils.data.DataLoader([1], 1, False, None, None, 1, None, False,
                                                     False, 0, None, None, None, 2))


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
