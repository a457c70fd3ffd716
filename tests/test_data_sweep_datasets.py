"""Data porting sweep (see data_sweep_common.py): Dataset and DataLoader basics, IterableDataset,
the dataset wrappers (TensorDataset, ConcatDataset, ChainDataset, Subset, StackDataset) and
random_split."""
from data_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# Dataset / DataLoader basics
# ======================================================================================

@case
def map_ds_sequential_bs3(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib), batch_size=3))


@case
def map_ds_len_and_drop_last(lib):
    ds = make_map_ds(lib)
    a = lib.utils.data.DataLoader(ds, batch_size=3)
    b = lib.utils.data.DataLoader(ds, batch_size=3, drop_last=True)
    return len(a), len(b), batches(b)


@case
def map_ds_tuple_samples(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='tuple'), batch_size=4))


@case
def map_ds_dict_samples(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='dict', n=5), batch_size=2))


@case
def map_ds_int_samples_bs1_default(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=4)))


@case
def map_ds_batch_size_none(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='dict', n=3),
                                             batch_size=None))


@case
def map_ds_batch_size_none_len(lib):
    return len(lib.utils.data.DataLoader(make_map_ds(lib, n=6), batch_size=None))


@case
def map_ds_shuffle_seeded(lib):
    lib.manual_seed(0)
    out = batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=11), batch_size=4,
                                            shuffle=True))
    out2 = batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=11), batch_size=4,
                                             shuffle=True))
    return out, out2, lib.rand(2)


@case
def map_ds_shuffle_two_epochs_same_loader(lib):
    lib.manual_seed(3)
    dl = lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=9), batch_size=4, shuffle=True)
    return batches(dl), batches(dl), lib.randint(0, 1000, (3,))


@case
def map_ds_shuffle_generator(lib):
    g = lib.Generator().manual_seed(123)
    dl = lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=10), batch_size=3, shuffle=True,
                                   generator=g)
    return batches(dl), batches(dl), g.initial_seed()


@case
def map_ds_shuffle_generator_does_not_touch_global(lib):
    lib.manual_seed(5)
    g = lib.Generator().manual_seed(1)
    batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=10), batch_size=3,
                                      shuffle=True, generator=g))
    return lib.rand(3)


@case
def map_ds_sequential_consumes_global_seed(lib):
    # each pass draws a base seed even without shuffling
    lib.manual_seed(7)
    batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=4), batch_size=2))
    return lib.rand(2)


@case
def map_ds_shuffle_false_explicit(lib):
    return batches(lib.utils.data.DataLoader(make_map_ds(lib, kind='int', n=5), batch_size=2,
                                             shuffle=False))


@case
def map_ds_sampler_arg(lib):
    ds = make_map_ds(lib, kind='int', n=10)
    s = lib.utils.data.SubsetRandomSampler([1, 3, 5, 7], generator=lib.Generator().manual_seed(2))
    return batches(lib.utils.data.DataLoader(ds, batch_size=3, sampler=s))


@case
def map_ds_sampler_as_list(lib):
    # any iterable of indices works as a sampler
    ds = make_map_ds(lib, kind='int', n=10)
    dl = lib.utils.data.DataLoader(ds, batch_size=2, sampler=[9, 0, 4])
    return batches(dl), len(dl)


@case
def map_ds_batch_sampler_arg(lib):
    ds = make_map_ds(lib, kind='int', n=10)
    dl = lib.utils.data.DataLoader(ds, batch_sampler=[[0, 1], [5, 6, 7], [9]])
    return batches(dl), len(dl), dl.batch_size, dl.drop_last


@case
def map_ds_batch_sampler_obj(lib):
    ds = make_map_ds(lib, kind='int', n=10)
    bs = lib.utils.data.BatchSampler(lib.utils.data.SequentialSampler(ds), 4, True)
    dl = lib.utils.data.DataLoader(ds, batch_sampler=bs)
    return batches(dl), len(dl)


@case
def map_ds_custom_collate(lib):
    ds = make_map_ds(lib, kind='tuple', n=5)
    dl = lib.utils.data.DataLoader(ds, batch_size=2, collate_fn=lambda b: b)
    return batches(dl)


@case
def map_ds_custom_collate_batch_none(lib):
    ds = make_map_ds(lib, kind='tuple', n=3)
    dl = lib.utils.data.DataLoader(ds, batch_size=None, collate_fn=lambda s: ('got', s))
    return batches(dl)


@case
def getitems_dataset(lib):
    calls = []

    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            raise AssertionError('should use __getitems__')

        def __getitems__(self, idx):
            calls.append(list(idx))
            return [i * 10 for i in idx]

    out = batches(lib.utils.data.DataLoader(G(), batch_size=3))
    return out, calls


@case
def getitems_none_disables(lib):
    class G(lib.utils.data.Dataset):
        __getitems__ = None

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

    return batches(lib.utils.data.DataLoader(G(), batch_size=2))


@case
def getitems_not_used_with_batch_none(lib):
    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return ('item', i)

        def __getitems__(self, idx):
            return [('many', i) for i in idx]

    return batches(lib.utils.data.DataLoader(G(), batch_size=None))


@case
def dataset_base_getitem_error(lib):
    return lib.utils.data.Dataset()[0]


@case
def iterable_base_iter_error(lib):
    return list(lib.utils.data.IterableDataset())


@case
def dataset_add_makes_concat(lib):
    a = lib.utils.data.TensorDataset(lib.arange(3))
    b = lib.utils.data.TensorDataset(lib.arange(10, 12))
    c = a + b
    return type(c).__name__, len(c), [c[i] for i in range(len(c))], c.cumulative_sizes


# ======================================================================================
# IterableDataset
# ======================================================================================

@case
def iterable_bs2(lib):
    return batches(lib.utils.data.DataLoader(make_iter_ds(lib), batch_size=2))


@case
def iterable_bs2_drop_last(lib):
    return batches(lib.utils.data.DataLoader(make_iter_ds(lib), batch_size=2, drop_last=True))


@case
def iterable_batch_none(lib):
    return batches(lib.utils.data.DataLoader(make_iter_ds(lib, n=3), batch_size=None))


@case
def iterable_len_no_len(lib):
    return len(lib.utils.data.DataLoader(make_iter_ds(lib), batch_size=2))


@case
def iterable_len_reported(lib):
    dl = lib.utils.data.DataLoader(make_iter_ds(lib, n=7, with_len=7), batch_size=2)
    dl2 = lib.utils.data.DataLoader(make_iter_ds(lib, n=7, with_len=7), batch_size=2,
                                    drop_last=True)
    dl3 = lib.utils.data.DataLoader(make_iter_ds(lib, n=7, with_len=7), batch_size=None)
    return len(dl), len(dl2), len(dl3)


@case
def iterable_len_underreported_warns(lib):
    dl = lib.utils.data.DataLoader(make_iter_ds(lib, n=6, with_len=2), batch_size=2)
    n = len(dl)
    return n, batches(dl)


@case
def iterable_shuffle_error(lib):
    return lib.utils.data.DataLoader(make_iter_ds(lib), shuffle=True)


@case
def iterable_sampler_error(lib):
    return lib.utils.data.DataLoader(make_iter_ds(lib), sampler=[0, 1])


@case
def iterable_batch_sampler_error(lib):
    return lib.utils.data.DataLoader(make_iter_ds(lib), batch_sampler=[[0, 1]])


@case
def iterable_shuffle_false_ok(lib):
    return batches(lib.utils.data.DataLoader(make_iter_ds(lib, n=3), shuffle=False,
                                             batch_size=2))


@case
def iterable_dict_samples(lib):
    class It(lib.utils.data.IterableDataset):
        def __iter__(self):
            for i in range(5):
                yield {'a': np.float32(i), 'b': [i, -i]}

    return batches(lib.utils.data.DataLoader(It(), batch_size=2))


@case
def iterable_generator_iter_lazy(lib):
    # the iterator is made when the loader iterator is made
    log = []

    class It(lib.utils.data.IterableDataset):
        def __iter__(self):
            log.append('iter')
            return iter([1, 2, 3])

    dl = lib.utils.data.DataLoader(It(), batch_size=2)
    it = iter(dl)
    log.append('made')
    first = next(it)
    return log, first, list(it)


# ======================================================================================
# TensorDataset, ConcatDataset, ChainDataset, Subset, StackDataset
# ======================================================================================

@case
def tensordataset_basic(lib):
    x = lib.arange(12, dtype=lib.float32).reshape(6, 2)
    y = lib.tensor([0, 1, 0, 1, 1, 0])
    ds = lib.utils.data.TensorDataset(x, y)
    return len(ds), ds[2], ds[-1], ds[1:3], batches(lib.utils.data.DataLoader(ds, batch_size=4))


@case
def tensordataset_mismatch(lib):
    return lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4))


@case
def tensordataset_shuffle_seeded(lib):
    lib.manual_seed(42)
    x = lib.arange(20).reshape(10, 2)
    ds = lib.utils.data.TensorDataset(x, x.sum(1).double())
    return batches(lib.utils.data.DataLoader(ds, batch_size=3, shuffle=True))


@case
def tensordataset_custom_collate_gets_samples(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(4), lib.arange(4) * 2)
    return batches(lib.utils.data.DataLoader(ds, batch_size=3, collate_fn=lambda b: b))


@case
def tensordataset_batch_none(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(3), lib.arange(3) * 2)
    return batches(lib.utils.data.DataLoader(ds, batch_size=None))


@case
def tensordataset_subclass_getitems(lib):
    class TD(lib.utils.data.TensorDataset):
        def __getitems__(self, idx):
            return [(self.tensors[0][i] * 100,) for i in idx]

    ds = TD(lib.arange(5))
    return batches(lib.utils.data.DataLoader(ds, batch_size=2))


@case
def tensordataset_subclass_getitem(lib):
    class TD(lib.utils.data.TensorDataset):
        def __getitem__(self, i):
            return self.tensors[0][i] + 1

    return batches(lib.utils.data.DataLoader(TD(lib.arange(5)), batch_size=2))


@case
def tensordataset_single_tensor(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(5.0))
    return ds[0], batches(lib.utils.data.DataLoader(ds, batch_size=2))


@case
def tensordataset_sampler_numpy_indices(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(6))
    dl = lib.utils.data.DataLoader(ds, batch_size=2, sampler=np.array([5, 1, 3]))
    return batches(dl)


@case
def tensordataset_batch_sampler_tuples(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(6), lib.arange(6).float())
    dl = lib.utils.data.DataLoader(ds, batch_sampler=[(0, 2), (5,)])
    return batches(dl)


@case
def tensordataset_batch_sampler_tensor_indices(lib):
    ds = lib.utils.data.TensorDataset(lib.arange(6))
    dl = lib.utils.data.DataLoader(ds, batch_sampler=[lib.tensor([3, 1]), lib.tensor([0])])
    return batches(dl)


@case
def tensordataset_requires_grad_batch(lib):
    w = lib.ones(4, 2, requires_grad=True)
    ds = lib.utils.data.TensorDataset(w)
    (b,) = next(iter(lib.utils.data.DataLoader(ds, batch_size=2)))
    return b.requires_grad, b.grad_fn is not None, b


@case
def concat_basic(lib):
    a = lib.utils.data.TensorDataset(lib.arange(3))
    b = lib.utils.data.TensorDataset(lib.arange(100, 104))
    c = lib.utils.data.ConcatDataset([a, b])
    return (len(c), c.cumulative_sizes, c[0], c[3], c[6], c[-1], c[-7],
            batches(lib.utils.data.DataLoader(c, batch_size=3)))


@case
def concat_neg_out_of_range(lib):
    c = lib.utils.data.ConcatDataset([list(range(3)), list(range(2))])
    return c[-6]


@case
def concat_pos_out_of_range(lib):
    c = lib.utils.data.ConcatDataset([list(range(3)), list(range(2))])
    return c[5]


@case
def concat_empty_error(lib):
    return lib.utils.data.ConcatDataset([])


@case
def concat_iterable_error(lib):
    return lib.utils.data.ConcatDataset([make_iter_ds(lib)])


@case
def concat_generator_input_and_lists(lib):
    c = lib.utils.data.ConcatDataset(x for x in [[1, 2], [], [3]])
    return type(c.datasets).__name__, len(c), [c[i] for i in range(3)], c.cumulative_sizes


@case
def concat_cumsum_static(lib):
    return lib.utils.data.ConcatDataset.cumsum([[1], [2, 3], []])


@case
def concat_cummulative_sizes_deprecated(lib):
    c = lib.utils.data.ConcatDataset([[1, 2], [3]])
    return c.cummulative_sizes


@case
def concat_shuffle_seeded(lib):
    lib.manual_seed(11)
    c = lib.utils.data.ConcatDataset([list(range(4)), list(range(10, 13))])
    return batches(lib.utils.data.DataLoader(c, batch_size=3, shuffle=True))


@case
def chain_basic(lib):
    c = lib.utils.data.ChainDataset([make_iter_ds(lib, n=3, with_len=3),
                                     make_iter_ds(lib, n=2, with_len=2)])
    return list(c), len(c), batches(lib.utils.data.DataLoader(c, batch_size=2))


@case
def chain_via_add(lib):
    c = make_iter_ds(lib, n=2) + make_iter_ds(lib, n=3)
    return type(c).__name__, list(c)


@case
def chain_non_iterable_error(lib):
    return list(lib.utils.data.ChainDataset([make_iter_ds(lib, n=2), [1, 2]]))


@case
def chain_len_non_iterable_error(lib):
    return len(lib.utils.data.ChainDataset([[1, 2]]))


@case
def chain_len_missing(lib):
    return excname(lambda: len(lib.utils.data.ChainDataset([make_iter_ds(lib, n=2)])))


@case
def subset_basic(lib):
    base = lib.utils.data.TensorDataset(lib.arange(10) * 3)
    s = lib.utils.data.Subset(base, [9, 0, 4])
    return len(s), s[0], s[-1], s.indices, batches(lib.utils.data.DataLoader(s, batch_size=2))


@case
def subset_list_index(lib):
    base = lib.arange(10) * 3
    s = lib.utils.data.Subset(base, [9, 0, 4, 2])
    return s[[0, 2]], s.__getitems__([1, 3])


@case
def subset_of_subset(lib):
    s = lib.utils.data.Subset(lib.utils.data.Subset(list(range(20)), list(range(0, 20, 2))),
                              [1, 3, 5])
    return [s[i] for i in range(3)], batches(lib.utils.data.DataLoader(s, batch_size=2))


@case
def subset_tensor_indices(lib):
    base = lib.utils.data.TensorDataset(lib.arange(10) * 2)
    s = lib.utils.data.Subset(base, lib.tensor([7, 1, 2]))
    return s[0], batches(lib.utils.data.DataLoader(s, batch_size=2))


@case
def subset_numpy_indices(lib):
    base = lib.utils.data.TensorDataset(lib.arange(10) * 2)
    s = lib.utils.data.Subset(base, np.array([7, 1, 2]))
    return batches(lib.utils.data.DataLoader(s, batch_size=2))


@case
def subset_subclass_getitem_only_error(lib):
    class S(lib.utils.data.Subset):
        def __getitem__(self, i):
            return 0

    return S([1, 2], [0])


@case
def subset_subclass_both_ok(lib):
    class S(lib.utils.data.Subset):
        def __getitem__(self, i):
            return -self.dataset[self.indices[i]]

        def __getitems__(self, idx):
            return [self[i] for i in idx]

    s = S(list(range(5)), [4, 2])
    return batches(lib.utils.data.DataLoader(s, batch_size=2))


@case
def subset_of_getitems_dataset_wrong_length(lib):
    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i

        def __getitems__(self, idx):
            return [0]

    s = lib.utils.data.Subset(G(), [0, 1, 2])
    return s.__getitems__([0, 1])


@case
def stack_tuple(lib):
    a = lib.utils.data.TensorDataset(lib.arange(4))
    b = list('abcd')
    s = lib.utils.data.StackDataset(a, b)
    return len(s), s[1], s.__getitems__([0, 3]), batches(lib.utils.data.DataLoader(s, batch_size=3))


@case
def stack_dict(lib):
    s = lib.utils.data.StackDataset(x=lib.arange(4.0), y=[1, 2, 3, 4])
    return len(s), s[2], s.__getitems__([0, 1]), batches(lib.utils.data.DataLoader(s, batch_size=3))


@case
def stack_mismatch(lib):
    return lib.utils.data.StackDataset([1, 2], [1])


@case
def stack_dict_mismatch(lib):
    return lib.utils.data.StackDataset(a=[1, 2], b=[1])


@case
def stack_both_error(lib):
    return lib.utils.data.StackDataset([1], b=[1])


@case
def stack_none_error(lib):
    return lib.utils.data.StackDataset()


@case
def stack_nested_getitems_mismatch(lib):
    class G(lib.utils.data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

        def __getitems__(self, idx):
            return [1]

    return lib.utils.data.StackDataset(G(), [0, 1, 2]).__getitems__([0, 1])


@case
def stack_datasets_attr(lib):
    s1 = lib.utils.data.StackDataset([1], [2])
    s2 = lib.utils.data.StackDataset(a=[1])
    return type(s1.datasets).__name__, type(s2.datasets).__name__


# ======================================================================================
# random_split
# ======================================================================================

@case
def random_split_lengths_generator(lib):
    g = lib.Generator().manual_seed(42)
    parts = lib.utils.data.random_split(range(10), [3, 7], generator=g)
    return [type(p).__name__ for p in parts], [p.indices for p in parts], [list(p) for p in parts]


@case
def random_split_fractions(lib):
    g = lib.Generator().manual_seed(0)
    parts = lib.utils.data.random_split(range(10), [0.3, 0.3, 0.4], generator=g)
    return [len(p) for p in parts], [p.indices for p in parts]


@case
def random_split_fraction_remainder(lib):
    g = lib.Generator().manual_seed(1)
    parts = lib.utils.data.random_split(range(7), [0.33, 0.33, 0.34], generator=g)
    return [len(p) for p in parts], [p.indices for p in parts]


@case
def random_split_zero_length_warning(lib):
    g = lib.Generator().manual_seed(1)
    parts = lib.utils.data.random_split(range(2), [0.2, 0.2, 0.6], generator=g)
    return [len(p) for p in parts], [p.indices for p in parts]


@case
def random_split_zero_fraction(lib):
    g = lib.Generator().manual_seed(1)
    parts = lib.utils.data.random_split(range(4), [0.0, 1.0], generator=g)
    return [p.indices for p in parts]


@case
def random_split_bad_sum(lib):
    return lib.utils.data.random_split(range(10), [3, 3])


@case
def random_split_bad_fraction(lib):
    return lib.utils.data.random_split(range(10), [1.2, -0.2])


@case
def random_split_default_generator(lib):
    lib.manual_seed(2024)
    parts = lib.utils.data.random_split(list(range(8)), [5, 3])
    return [p.indices for p in parts], lib.rand(1)


@case
def random_split_tuple_lengths(lib):
    g = lib.Generator().manual_seed(9)
    return [p.indices for p in lib.utils.data.random_split(range(5), (2, 3), generator=g)]


@case
def random_split_tensordataset_loader(lib):
    g = lib.Generator().manual_seed(3)
    ds = lib.utils.data.TensorDataset(lib.arange(10).float(), lib.arange(10))
    train, val = lib.utils.data.random_split(ds, [0.8, 0.2], generator=g)
    return batches(lib.utils.data.DataLoader(train, batch_size=3)), val[0], val[1]


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
