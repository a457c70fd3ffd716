"""Data porting sweep (see data_sweep_common.py): worker processes (kept few: each starts
processes)."""
from data_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# Worker processes (kept few)
# ======================================================================================

class RandDS:
    """lib.rand / np.random / random inside __getitem__: seeded per worker."""

    def __init__(self, lib, n=6):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return (self.lib.rand(1), np.random.rand(), random.random(), i)


class WorkerInfoDS:
    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        try:
            info.id = 99
            err = 'no error'
        except Exception as e:  # noqa: BLE001
            err = type(e).__name__ + ': ' + str(e)
        return {'i': i, 'id': info.id, 'num_workers': info.num_workers,
                'seed_minus_id': info.seed - info.id, 'same_ds': info.dataset is self,
                'err': err, 'repr_start': repr(info).split('(')[0]}


class RaisingDS:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise ValueError('bad index 2')
        return i


class KeyErrDS:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise KeyError('k')


def _make_sharded(lib, n=9):
    return make_iter_ds(lib, n=n, shard=True)


@case
def workers_map_shuffle_seeded(lib):
    lib.manual_seed(0)
    ds = lib.utils.data.TensorDataset(lib.arange(10), lib.arange(10).float() / 2)
    out = batches(lib.utils.data.DataLoader(ds, batch_size=3, shuffle=True, num_workers=2))
    return out, lib.rand(1)


@case
def workers_rand_in_getitem(lib):
    lib.manual_seed(1)
    dl = lib.utils.data.DataLoader(RandDS(lib), batch_size=2, num_workers=2)
    out = batches(dl)
    return [(b[0], b[1], b[3]) for b in out], [b[2] for b in out]


@case
def workers_worker_info(lib):
    lib.manual_seed(2)
    return batches(lib.utils.data.DataLoader(WorkerInfoDS(lib), batch_size=None, num_workers=2))


@case
def workers_iterable_sharded(lib):
    return batches(lib.utils.data.DataLoader(_make_sharded(lib), batch_size=2, num_workers=2))


@case
def workers_iterable_unsharded_duplicates(lib):
    return batches(lib.utils.data.DataLoader(make_iter_ds(lib, n=3), batch_size=2,
                                             num_workers=2))


@case
def workers_iterable_batch_none(lib):
    return batches(lib.utils.data.DataLoader(_make_sharded(lib, n=5), batch_size=None,
                                             num_workers=2))


@case
def workers_iterable_len_warning(lib):
    dl = lib.utils.data.DataLoader(make_iter_ds(lib, n=3, with_len=3), batch_size=None,
                                   num_workers=2)
    n = len(dl)
    return n, batches(dl)


@case
def workers_worker_init_fn(lib):
    def init(worker_id):
        np.random.seed(100 + worker_id)

    class D:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return (lib.utils.data.get_worker_info().id, np.random.randint(1000))

    return batches(lib.utils.data.DataLoader(D(), batch_size=None, num_workers=2,
                                             worker_init_fn=init))


@case
def workers_persistent_epochs(lib):
    lib.manual_seed(5)
    dl = lib.utils.data.DataLoader(RandDS(lib, n=4), batch_size=2, shuffle=True, num_workers=2,
                                   persistent_workers=True)
    epochs = []
    for _ in range(3):
        epochs.append([(b[0], b[3]) for b in dl])
    return epochs, lib.rand(1)


@case
def workers_prefetch_factor_and_timeout(lib):
    lib.manual_seed(6)
    dl = lib.utils.data.DataLoader(list(range(7)), batch_size=2, num_workers=2,
                                   prefetch_factor=1, timeout=10, drop_last=True)
    return batches(dl), dl.prefetch_factor, len(dl)


@case
def workers_exception(lib):
    dl = lib.utils.data.DataLoader(RaisingDS(), batch_size=1, num_workers=2)
    try:
        batches(dl)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).split('\n')[0], str(e).split('\n')[1], \
            str(e).strip().split('\n')[-1]
    return 'no error'


@case
def workers_keyerror(lib):
    dl = lib.utils.data.DataLoader(KeyErrDS(), batch_size=1, num_workers=1)
    try:
        batches(dl)
    except KeyError as e:
        return str(e).split('\n')[0], str(e).strip().split('\n')[-1]
    return 'no error'


@case
def workers_generator_arg(lib):
    g = lib.Generator().manual_seed(77)
    dl = lib.utils.data.DataLoader(RandDS(lib, n=4), batch_size=2, shuffle=True, num_workers=2,
                                   generator=g)
    return [(b[0], b[3]) for b in dl]


# -- more cases ----------------------------------------------------------------------------------

@case
def iterable_subclass_without_iter(lib):
    class It(lib.utils.data.IterableDataset):
        pass

    return excname(lambda: list(It()))


@case
def map_subclass_without_getitem(lib):
    class D(lib.utils.data.Dataset):
        def __len__(self):
            return 2

    return batches(lib.utils.data.DataLoader(D()))


@case
def generic_subscription(lib):
    d = lib.utils.data

    class D(d.Dataset[int]):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

    class S(d.Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    class It(d.IterableDataset[int]):
        def __iter__(self):
            return iter([1])

    return batches(d.DataLoader(D(), sampler=S(3), batch_size=2)), list(It())


@case
def generic_subscription_dataloader(lib):
    return excname(lambda: lib.utils.data.DataLoader[int])


@case
def custom_collate_map_receives_tuple_fields(lib):
    C = lib.utils.data._utils.collate
    seen = []

    def fn(batch, *, collate_fn_map=None):
        seen.append(type(batch).__name__)
        return batch

    out = C.collate([(1, 2), (3, 4)], collate_fn_map={int: fn})
    out2 = C.collate([{'a': 1}, {'a': 2}], collate_fn_map={int: fn})
    out3 = C.collate([Point(1, 2), Point(3, 4)], collate_fn_map={int: fn})
    out4 = C.collate([[1], [2]], collate_fn_map={int: fn})
    return seen, out, out2, out3, out4


@case
def collate_strings_in_namedtuple(lib):
    return dc(lib)([Point('a', 1), Point('b', 2)])


@case
def collate_strings_in_list(lib):
    return dc(lib)([['a', 1], ['b', 2]])


@case
def collate_strings_in_dict(lib):
    return dc(lib)([{'s': 'a'}, {'s': 'b'}])


@case
def collate_mixed_numpy_dtypes(lib):
    return dc(lib)([np.array([1], np.int32), np.array([2.5])])


@case
def collate_mixed_tensor_dtypes(lib):
    return excname(lambda: norm(dc(lib)([lib.tensor([1]), lib.tensor([2.5])])))


@case
def collate_numpy_negative_strides(lib):
    return excname(lambda: dc(lib)([np.arange(3)[::-1], np.arange(3)]))


@case
def collate_numpy_noncontiguous(lib):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    return dc(lib)([a[:, ::2], a[:, 1::2]])


@case
def convert_numpy_shares_memory(lib):
    a = np.zeros(3)
    t = dconv(lib)(a)
    a[0] = 5.0
    return t


@case
def convert_numpy_negative_strides(lib):
    return excname(lambda: dconv(lib)(np.arange(3)[::-1]))


@case
def dl_len_sampler_without_len(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), sampler=iter([0, 1, 2]), batch_size=2)
    return excname(lambda: len(dl)), batches(dl)


@case
def dl_batch_none_shuffle(lib):
    lib.manual_seed(12)
    return batches(lib.utils.data.DataLoader(list(range(6)), batch_size=None, shuffle=True))


@case
def dl_shuffle_false_with_random_sampler(lib):
    g = lib.Generator().manual_seed(8)
    ds = list(range(7))
    return batches(lib.utils.data.DataLoader(ds, batch_size=3, shuffle=False,
                                             sampler=lib.utils.data.RandomSampler(ds, generator=g)))


@case
def dl_shuffle_truthy_int(lib):
    lib.manual_seed(13)
    dl = lib.utils.data.DataLoader(list(range(5)), batch_size=2, shuffle=1)
    return type(dl.sampler).__name__, batches(dl)


@case
def dl_shuffle_zero_with_sampler(lib):
    dl = lib.utils.data.DataLoader(list(range(5)), sampler=[4, 3], shuffle=0)
    return batches(dl)


@case
def dl_iterable_shuffle_zero(lib):
    return excname(lambda: lib.utils.data.DataLoader(make_iter_ds(lib), shuffle=0))


@case
def dl_generator_sequential_base_seed(lib):
    g = lib.Generator().manual_seed(4)
    batches(lib.utils.data.DataLoader(list(range(3)), generator=g))
    return lib.randint(0, 10 ** 6, (2,), generator=g)


@case
def concat_tensor_and_numpy_index(lib):
    c = lib.utils.data.ConcatDataset([[0, 1, 2], [10, 11]])
    return c[np.int64(3)], c[lib.tensor(4)]


@case
def tensordataset_tensor_index(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(5) * 2)
    return ds[lib.tensor(3)], ds[lib.tensor([1, 2])], ds[np.int64(4)]


@case
def random_split_sum_slightly_over_one(lib):
    return lib.utils.data.random_split(range(10), [0.5, 0.5000001])


@case
def random_split_generator_state_after(lib):
    g = lib.Generator().manual_seed(21)
    lib.utils.data.random_split(range(6), [2, 4], generator=g)
    return lib.rand(2, generator=g)


@case
def random_sampler_generator_state_after_replacement(lib):
    g = lib.Generator().manual_seed(21)
    list(lib.utils.data.RandomSampler(range(6), replacement=True, num_samples=33, generator=g))
    return lib.rand(2, generator=g)


@case
def weighted_sampler_zero_weights(lib):
    return excname(lambda: list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 2)))


@case
def weighted_sampler_negative_weights(lib):
    return excname(lambda: list(lib.utils.data.WeightedRandomSampler([-1.0, 2.0], 2)))


@case
def distributed_sampler_attrs(lib):
    s = lib.utils.data.DistributedSampler(list(range(5)), num_replicas=2, rank=1, shuffle=False,
                                          seed=4, drop_last=True)
    return (s.num_replicas, s.rank, s.epoch, s.drop_last, s.num_samples, s.total_size,
            s.shuffle, s.seed, list(s))


@case
def distributed_sampler_rank_given_replicas_none(lib):
    return excname(lambda: lib.utils.data.DistributedSampler(list(range(4)), rank=0))


@case
def stack_dict_getitems_nested(lib):
    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            raise AssertionError

        def __getitems__(self, idx):
            return [('g', i) for i in idx]

    s = lib.utils.data.StackDataset(a=G(), b=list(range(4)))
    return batches(lib.utils.data.DataLoader(s, batch_size=3))


@case
def subset_random_split_of_getitems_ds(lib):
    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError

        def __getitems__(self, idx):
            return [i * 3 for i in idx]

    g = lib.Generator().manual_seed(0)
    a, b = lib.utils.data.random_split(G(), [4, 2], generator=g)
    return batches(lib.utils.data.DataLoader(a, batch_size=3))


@case
def collate_namedtuple_with_tuple_of_strings(lib):
    return dc(lib)([Point(('a', 'b'), 1), Point(('c', 'd'), 2)])


@case
def dl_too_many_workers_warning(lib):
    dl = lib.utils.data.DataLoader(list(range(4)), num_workers=4096)
    return dl.num_workers


@case
def collate_parameters(lib):
    p = lib.nn.Parameter(lib.ones(2))
    out = dc(lib)([p, p * 2])
    return type(out).__name__, out.requires_grad, out


@case
def collate_tensor_subclass_key_in_map(lib):
    C = lib.utils.data._utils.collate
    p = lib.nn.Parameter(lib.ones(1))
    return C.collate([p, p], collate_fn_map={lib.Tensor: lambda b, **k: ('tensor-fn', len(b))})


@case
def worker_info_class_path(lib):
    W = lib.utils.data._utils.worker
    return hasattr(W, 'WorkerInfo'), hasattr(W, 'get_worker_info'), W.get_worker_info()


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
