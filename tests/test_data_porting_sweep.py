"""Porting sweep of nbgrad.utils.data against torch.utils.data: every case runs the same code with
lib=torch and lib=nbgrad and compares the normalized results (values through NumPy, container
types, dtypes, shapes, exception types and messages, warnings)."""
import collections
import random
import re
import warnings

import numpy as np
import pytest

torch_lib = pytest.importorskip('torch')
import nbgrad  # noqa: E402

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# -- normalization ---------------------------------------------------------------------------

def _is_tensor(x):
    return isinstance(x, (torch_lib.Tensor, nbgrad.Tensor))


def norm(x):
    if _is_tensor(x):
        arr = np.asarray(x.detach().numpy())
        return ('Tensor', str(x.dtype).split('.')[-1], tuple(int(s) for s in x.shape),
                arr.tolist())
    if isinstance(x, np.ndarray):
        return ('ndarray', x.dtype.str, x.shape, x.tolist())
    if isinstance(x, np.generic):
        return ('npscalar', type(x).__name__, x.item())
    if isinstance(x, (bool, int, float, str, bytes, type(None))):
        return (type(x).__name__, x)
    if isinstance(x, tuple) and hasattr(x, '_fields'):
        return ('namedtuple', type(x).__name__, [norm(v) for v in x])
    if isinstance(x, dict):
        extra = sorted((k, norm(v)) for k, v in vars(x).items()) if hasattr(x, '__dict__') else []
        return (type(x).__name__, [(k, norm(v)) for k, v in x.items()], extra)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, collections.UserList):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, range):
        return ('range', x.start, x.stop, x.step)
    if isinstance(x, type):
        return ('type', x.__name__)
    return ('obj', type(x).__name__)


def run(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out = norm(fn(lib))
        except Exception as e:  # noqa: BLE001
            out = ('EXC', type(e).__name__, str(e))
    warns = [(w.category.__name__, re.sub(' at 0x[0-9a-f]+', ' at 0x?', str(w.message)))
             for w in caught
             if 'utils/data' in w.filename.replace('\\', '/') or 'sweep' in w.filename
             or 'Length of' in str(w.message)]
    return out, warns


def batches(loader):
    return [b for b in loader]


def excname(fn):
    """Just the exception type (for errors whose text comes from the tensor layer)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return ('raised', type(e).__name__)
    return 'no error'


# -- datasets used by the cases -----------------------------------------------------------------

def make_map_ds(lib, n=10, kind='tensor'):
    D = lib.utils.data.Dataset

    class MapDS(D):
        def __len__(self):
            return n

        def __getitem__(self, i):
            if kind == 'tensor':
                return lib.tensor([i, i * i], dtype=lib.float32)
            if kind == 'tuple':
                return lib.tensor([float(i)]), i
            if kind == 'dict':
                return {'x': np.array([i, i + 1], dtype=np.float32), 'y': float(i),
                        'name': f's{i}', 'flag': i % 2 == 0}
            if kind == 'int':
                return i
            if kind == 'rand':
                return lib.rand(2)
            raise KeyError(kind)
    return MapDS()


Point = collections.namedtuple('Point', ['x', 'y'])


def make_iter_ds(lib, n=7, shard=False, with_len=None):
    class It(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if shard and info is not None:
                return iter(range(info.id, n, info.num_workers))
            return iter(range(n))

    if with_len is not None:
        It.__len__ = lambda self: with_len
    return It()


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


# ======================================================================================
# default_collate / default_convert / collate
# ======================================================================================

def dc(lib):
    return lib.utils.data.default_collate


def dconv(lib):
    return lib.utils.data.default_convert


@case
def collate_tensors(lib):
    return dc(lib)([lib.tensor([1, 2]), lib.tensor([3, 4])])


@case
def collate_tensors_dtype(lib):
    return dc(lib)([lib.zeros(2, dtype=lib.float16), lib.ones(2, dtype=lib.float16)])


@case
def collate_tensors_0d(lib):
    return dc(lib)([lib.tensor(1.5), lib.tensor(2.5)])


@case
def collate_tensors_shape_mismatch(lib):
    return excname(lambda: dc(lib)([lib.zeros(2), lib.zeros(3)]))


@case
def collate_numpy_arrays(lib):
    return dc(lib)([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])


@case
def collate_numpy_0d_arrays(lib):
    return dc(lib)([np.array(1.5), np.array(2.5)])


@case
def collate_numpy_float32_scalars(lib):
    return dc(lib)([np.float32(1.5), np.float32(2.5)])


@case
def collate_numpy_mixed_scalars(lib):
    return dc(lib)([np.float32(1.5), np.float64(2.5)])


@case
def collate_numpy_int_scalars(lib):
    return dc(lib)([np.int8(1), np.int8(-3)]), dc(lib)([np.uint8(1), np.uint8(200)])


@case
def collate_numpy_bool_scalars(lib):
    return dc(lib)([np.bool_(True), np.bool_(False)])


@case
def collate_numpy_str_array_error(lib):
    return dc(lib)([np.array(['a']), np.array(['b'])])


@case
def collate_numpy_obj_array_error(lib):
    return dc(lib)([np.array([None]), np.array([1], dtype=object)])


@case
def collate_numpy_str_scalar(lib):
    return excname(lambda: dc(lib)([np.str_('a'), np.str_('b')]))


@case
def collate_python_floats(lib):
    return dc(lib)([1.0, 2.5])


@case
def collate_python_ints(lib):
    return dc(lib)([1, 2, 3])


@case
def collate_python_bools(lib):
    return dc(lib)([True, False])


@case
def collate_int_then_float(lib):
    return dc(lib)([1, 2.5])


@case
def collate_float_then_int(lib):
    return dc(lib)([1.5, 2])


@case
def collate_big_int(lib):
    return dc(lib)([2 ** 40, -1])


@case
def collate_int_overflow(lib):
    return excname(lambda: dc(lib)([2 ** 70, 1]))


@case
def collate_strings(lib):
    return dc(lib)(['a', 'bc']), dc(lib)([b'x', b'yz'])


@case
def collate_none_error(lib):
    return dc(lib)([None, None])


@case
def collate_object_error(lib):
    return dc(lib)([object(), object()])


@case
def collate_set_error(lib):
    return dc(lib)([{1}, {2}])


@case
def collate_dicts(lib):
    return dc(lib)([{'a': 1, 'b': lib.tensor([1.0])}, {'a': 2, 'b': lib.tensor([2.0])}])


@case
def collate_ordered_dict(lib):
    return dc(lib)([collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)])


@case
def collate_defaultdict(lib):
    d1 = collections.defaultdict(list, {'x': 1})
    d2 = collections.defaultdict(list, {'x': 2})
    out = dc(lib)([d1, d2])
    return type(out).__name__, out.default_factory is list, out['x']


@case
def collate_dict_subclass_attrs(lib):
    class MyDict(dict):
        pass

    a = MyDict(k=1)
    a.meta = 'm'
    b = MyDict(k=2)
    b.meta = 'n'
    return dc(lib)([a, b])


@case
def collate_immutable_mapping(lib):
    import types
    out = dc(lib)([types.MappingProxyType({'a': 1}), types.MappingProxyType({'a': 2})])
    return type(out).__name__, dict(out)


@case
def collate_tuples(lib):
    return dc(lib)([(1, 'a', 2.0), (3, 'b', 4.0)])


@case
def collate_lists(lib):
    return dc(lib)([[1, 2], [3, 4]])


@case
def collate_lists_unequal(lib):
    return dc(lib)([[1, 2], [3]])


@case
def collate_namedtuple(lib):
    return dc(lib)([Point(1, lib.tensor([1.0])), Point(2, lib.tensor([2.0]))])


@case
def collate_nested(lib):
    s = lambda i: {'img': np.full((2, 2), i, dtype=np.float32),  # noqa: E731
                   'meta': (i, f'id{i}', [i * 1.5, {'deep': np.int64(i)}]),
                   'pt': Point(i, (i, i))}
    return dc(lib)([s(0), s(1), s(2)])


@case
def collate_userlist(lib):
    return dc(lib)([collections.UserList([1, 2]), collections.UserList([3, 4])])


@case
def collate_range_sequence(lib):
    return dc(lib)([range(2), range(2)])


@case
def collate_custom_sequence_immutable(lib):
    class Seq(collections.abc.Sequence):
        def __init__(self, data):
            self.data = list(data)

        def __getitem__(self, i):
            return self.data[i]

        def __len__(self):
            return len(self.data)

    out = dc(lib)([Seq([1, 2]), Seq([3, 4])])
    return type(out).__name__, [norm(v) for v in out]


@case
def collate_empty_batch(lib):
    return excname(lambda: dc(lib)([]))


@case
def collate_dict_missing_key(lib):
    return excname(lambda: dc(lib)([{'a': 1}, {'b': 2}]))


@case
def collate_mixed_tensor_and_number(lib):
    return excname(lambda: dc(lib)([lib.tensor(1.0), 2.0]))


@case
def collate_tensor_and_numpy(lib):
    return excname(lambda: dc(lib)([lib.tensor([1.0]), np.array([2.0])]))


@case
def convert_numpy(lib):
    return dconv(lib)(np.array([1.0, 2.0], dtype=np.float32))


@case
def convert_numpy_scalar(lib):
    return dconv(lib)(np.float64(3.5)), dconv(lib)(np.int32(3)), dconv(lib)(np.bool_(True))


@case
def convert_numpy_str(lib):
    return dconv(lib)(np.array(['a', 'b'])), dconv(lib)(np.str_('x'))


@case
def convert_numpy_bytes_scalar(lib):
    return excname(lambda: dconv(lib)(np.bytes_(b'x')))


@case
def convert_python(lib):
    return dconv(lib)(3), dconv(lib)(2.5), dconv(lib)('s'), dconv(lib)(b'b'), dconv(lib)(None)


@case
def convert_containers(lib):
    return dconv(lib)({'a': np.array([1]), 'b': (np.int64(2), [np.float32(1.0), 'x'])})


@case
def convert_namedtuple(lib):
    return dconv(lib)(Point(np.array([1.0]), 3))


@case
def convert_tensor_identity(lib):
    t = lib.tensor([1, 2])
    return dconv(lib)(t) is t


@case
def convert_range(lib):
    return dconv(lib)(range(3))


@case
def convert_userlist(lib):
    return dconv(lib)(collections.UserList([np.int64(1), 2]))


@case
def convert_ordered_dict(lib):
    return dconv(lib)(collections.OrderedDict(z=np.zeros(1), a=1))


@case
def convert_numpy_memmap_like_subclass(lib):
    class Arr(np.ndarray):
        pass

    a = np.arange(3).view(Arr)
    return dconv(lib)(a)


@case
def collate_custom_map(lib):
    C = lib.utils.data._utils.collate

    def int_fn(batch, *, collate_fn_map=None):
        return ('ints', sum(batch))

    return C.collate([(1, 'a'), (2, 'b')], collate_fn_map={int: int_fn})


@case
def collate_custom_map_none(lib):
    C = lib.utils.data._utils.collate
    return excname(lambda: C.collate([1, 2], collate_fn_map=None))


@case
def collate_custom_map_extends_default(lib):
    C = lib.utils.data._utils.collate

    class Box:
        def __init__(self, v):
            self.v = v

    def box_fn(batch, *, collate_fn_map=None):
        return [b.v * 2 for b in batch]

    m = dict(C.default_collate_fn_map)
    m[Box] = box_fn
    return C.collate([{'b': Box(1), 't': lib.tensor([1])}, {'b': Box(2), 't': lib.tensor([2])}],
                     collate_fn_map=m)


@case
def collate_custom_map_tuple_key_subclass(lib):
    C = lib.utils.data._utils.collate

    class MyInt(int):
        pass

    def fn(batch, *, collate_fn_map=None):
        return 'numbers'

    return C.collate([MyInt(1), MyInt(2)], collate_fn_map={(float, int): fn})


@case
def collate_custom_map_exact_before_isinstance(lib):
    C = lib.utils.data._utils.collate
    return C.collate([True, False], collate_fn_map={int: lambda b, **k: 'int',
                                                     bool: lambda b, **k: 'bool'})


@case
def collate_fn_map_default_contents(lib):
    m = lib.utils.data._utils.collate.default_collate_fn_map
    return sorted(k.__name__ if isinstance(k, type) else str([x.__name__ for x in k])
                  for k in m)


@case
def collate_module_functions(lib):
    C = lib.utils.data._utils.collate
    return (C.collate_int_fn([1, 2]), C.collate_float_fn([1, 2]), C.collate_str_fn(['a']),
            C.collate_numpy_scalar_fn([np.float32(1)]),
            C.collate_numpy_array_fn([np.zeros(2), np.ones(2)],
                                     collate_fn_map=C.default_collate_fn_map),
            C.collate_tensor_fn([lib.ones(1), lib.ones(1)]))


@case
def collate_err_msg_format(lib):
    return lib.utils.data._utils.collate.default_collate_err_msg_format


@case
def dataloader_module_default_collate(lib):
    return (lib.utils.data.dataloader.default_collate is lib.utils.data.default_collate,
            lib.utils.data.dataloader.default_convert is lib.utils.data.default_convert,
            lib.utils.data.dataloader.get_worker_info is lib.utils.data.get_worker_info)


@case
def get_worker_info_main_process(lib):
    return lib.utils.data.get_worker_info()


@case
def all_exports(lib):
    names = ['BatchSampler', 'ChainDataset', 'ConcatDataset', 'DataLoader', 'Dataset',
             'DistributedSampler', 'IterableDataset', 'RandomSampler', 'Sampler',
             'SequentialSampler', 'StackDataset', 'Subset', 'SubsetRandomSampler',
             'TensorDataset', 'WeightedRandomSampler', 'default_collate', 'default_convert',
             'get_worker_info', 'random_split']
    return [n for n in names if not hasattr(lib.utils.data, n)]


@case
def submodule_paths(lib):
    d = lib.utils.data
    return (d.sampler.RandomSampler is d.RandomSampler, d.dataset.Subset is d.Subset,
            d.dataloader.DataLoader is d.DataLoader)


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


# ======================================================================================

def _ids(fn):
    return fn.__name__


@pytest.mark.parametrize('fn', CASES, ids=_ids)
def test_same_as_torch(fn):
    expected = run(fn, torch_lib)
    got = run(fn, nbgrad)
    assert got[0] == expected[0], f'\nnbgrad: {got[0]!r}\ntorch:  {expected[0]!r}'
    assert got[1] == expected[1], f'\nwarnings nbgrad: {got[1]!r}\nwarnings torch:  {expected[1]!r}'
