"""DataLoader, samplers, datasets and collation in the main process, against PyTorch's
torch.utils.data: the same batches (values, types, structure) under the same seeds, the same
errors; and nbgrad's whole-batch gather for TensorDataset gives exactly the batches of the
sample-by-sample path. (Worker processes: test_data_workers.py.)"""
import collections
import warnings

import numpy as np
import pytest

import nbgrad
from nbgrad.utils.data._utils.worker import numpy_seed

torch = pytest.importorskip('torch')
from torch_compare import assert_same_error  # noqa: E402


def _plain(value):
    """A batch as plain Python data with its structure and dtypes spelled out, comparable
    across the two libraries."""
    if isinstance(value, (torch.Tensor, nbgrad.Tensor)):
        return ('tensor', str(value.dtype).split('.')[-1], tuple(value.shape),
                value.detach().cpu().numpy().tolist())
    if isinstance(value, dict):
        return (type(value).__name__, {k: _plain(v) for k, v in value.items()})
    if isinstance(value, tuple) and hasattr(value, '_fields'):
        return (type(value).__name__, tuple(_plain(v) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    return (type(value).__name__, value)


def _both(fn):
    got = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        got[lib.__name__] = fn(lib)
    assert got['nbgrad'] == got['torch']
    return got['torch']


Point = collections.namedtuple('Point', 'x y')


def _sample(i):
    return {'image': np.full((2, 2), i, np.float32), 'label': i % 3, 'weight': i / 2,
            'name': f's{i}', 'flag': bool(i % 2), 'point': Point(np.int16(i), (i, [i, i])),
            'scalar': np.float32(i)}


def test_default_collate_of_nested_samples_is_pytorchs():
    _both(lambda lib: _plain(lib.utils.data.default_collate([_sample(i) for i in range(4)])))


def test_default_convert_is_pytorchs():
    _both(lambda lib: _plain(lib.utils.data.default_convert(_sample(3))))


@pytest.mark.parametrize('batch', [[object(), object()], [np.array(['a']), np.array(['b'])]])
def test_default_collate_refuses_what_it_cannot_batch(batch):
    assert_same_error(lambda lib: lib.utils.data.default_collate(batch))


def test_default_collate_refuses_uneven_sequences_and_tensors():
    assert_same_error(lambda lib: lib.utils.data.default_collate([[1, 2], [3]]))
    assert_same_error(lambda lib: lib.utils.data.default_collate([lib.zeros(2), lib.zeros(3)]))


class MapStyle:
    def __len__(self):
        return 11

    def __getitem__(self, i):
        return _sample(i)


@pytest.mark.parametrize('options', [
    dict(batch_size=3), dict(batch_size=3, shuffle=True), dict(batch_size=4, drop_last=True),
    dict(batch_size=None), dict(batch_size=None, shuffle=True),
    dict(batch_size=2, shuffle=True, drop_last=True)])
def test_map_style_batches_are_pytorchs(options):
    def run(lib):
        loader = lib.utils.data.DataLoader(MapStyle(), **options)
        return len(loader), [_plain(batch) for batch in loader]
    _both(run)


def test_a_loader_generator_makes_the_order_independent_of_the_global_seed():
    def run(lib):
        g = lib.Generator().manual_seed(5)
        loader = lib.utils.data.DataLoader(list(range(10)), batch_size=4, shuffle=True,
                                           generator=g)
        lib.manual_seed(123)
        first = [b.tolist() for b in loader]
        lib.manual_seed(456)
        return first, [b.tolist() for b in loader]
    _both(run)


@pytest.mark.parametrize('make', [
    lambda lib, d: lib.utils.data.RandomSampler(d),
    lambda lib, d: lib.utils.data.RandomSampler(d, replacement=True, num_samples=70),
    lambda lib, d: lib.utils.data.RandomSampler(d, num_samples=25),
    lambda lib, d: lib.utils.data.SubsetRandomSampler([3, 5, 7, 9]),
    lambda lib, d: lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 9),
    lambda lib, d: lib.utils.data.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5,
                                                        replacement=False),
    lambda lib, d: lib.utils.data.BatchSampler(lib.utils.data.RandomSampler(d), 4, False),
    lambda lib, d: lib.utils.data.DistributedSampler(d, num_replicas=3, rank=1),
    lambda lib, d: lib.utils.data.DistributedSampler(d, num_replicas=4, rank=3, seed=9,
                                                     drop_last=True),
    lambda lib, d: lib.utils.data.DistributedSampler(d, num_replicas=4, rank=0, shuffle=False),
], ids=['random', 'replacement', 'num_samples', 'subset', 'weighted', 'weighted-noreplace',
        'batch', 'distributed', 'distributed-droplast', 'distributed-noshuffle'])
def test_samplers_draw_pytorchs_indices(make):
    def run(lib):
        sampler = make(lib, list(range(13)))
        passes = [list(sampler), list(sampler)]
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(1)
            passes.append(list(sampler))
        return len(sampler), passes
    _both(run)


@pytest.mark.parametrize('lengths', [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.33, 0.33, 0.34]])
def test_random_split_is_pytorchs(lengths):
    def run(lib):
        parts = lib.utils.data.random_split(range(10), lengths,
                                            generator=lib.Generator().manual_seed(42))
        return [list(p) for p in parts], [list(p) for p in
                                          lib.utils.data.random_split(range(10), lengths)]
    _both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.utils.data.random_split(range(10), [3, 3]),
    lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]),
    lambda lib: lib.utils.data.DataLoader([1], num_workers=-1),
    lambda lib: lib.utils.data.DataLoader([1], prefetch_factor=2),
    lambda lib: lib.utils.data.DataLoader([1], persistent_workers=True),
    lambda lib: lib.utils.data.DataLoader([1], timeout=-1),
    lambda lib: lib.utils.data.DataLoader([1], shuffle=True, sampler=[0]),
    lambda lib: lib.utils.data.DataLoader([1], batch_sampler=[[0]], batch_size=2),
    lambda lib: lib.utils.data.DataLoader([1], batch_size=None, drop_last=True),
    lambda lib: lib.utils.data.DataLoader([1], multiprocessing_context='fork'),
    lambda lib: lib.utils.data.DataLoader([1], num_workers=1, multiprocessing_context='nope'),
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, 1),
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1.0]], 1),
    lambda lib: lib.utils.data.DistributedSampler(range(3), num_replicas=2, rank=2),
    lambda lib: lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4)),
    lambda lib: lib.utils.data.StackDataset(),
    lambda lib: lib.utils.data.ConcatDataset([]),
])
def test_bad_options_raise_pytorchs_errors(call):
    assert_same_error(call)


def test_options_cannot_change_after_init():
    for name in ('batch_size', 'sampler', 'dataset', 'drop_last'):
        assert_same_error(lambda lib: setattr(lib.utils.data.DataLoader([1]), name, None))


def _stream(lib):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7
    return Stream()


def test_iterable_dataset_options_and_length():
    assert_same_error(lambda lib: lib.utils.data.DataLoader(_stream(lib), shuffle=True))
    assert_same_error(lambda lib: lib.utils.data.DataLoader(_stream(lib), sampler=[0]))

    def run(lib):
        loaders = [lib.utils.data.DataLoader(_stream(lib), batch_size=3, drop_last=drop)
                   for drop in (False, True)]
        return [(len(loader), [b.tolist() for b in loader]) for loader in loaders]
    _both(run)


def test_combined_datasets_are_pytorchs():
    def run(lib):
        D = lib.utils.data
        a, b = D.TensorDataset(lib.arange(4)), D.TensorDataset(lib.arange(10, 13))
        concat = a + b
        stacked = D.StackDataset(x=a, y=list('abcd'))
        subset = D.Subset(concat, [6, 0, 4])
        return (len(concat), _plain([concat[i] for i in (-1, 0, 4, 6)]), concat.cumulative_sizes,
                _plain([stacked[i] for i in range(4)]), _plain([subset[i] for i in range(3)]),
                _plain(next(iter(D.DataLoader(stacked, batch_size=4)))))
    _both(run)


class Offset(nbgrad.utils.data.TensorDataset):
    """A TensorDataset whose samples are transformed: must not take the whole-batch gather."""

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return x + 100, y


@pytest.mark.parametrize('wrap', ['plain', 'subset', 'subclass', 'custom-collate'])
def test_tensor_dataset_batches_are_the_sample_by_sample_batches(wrap):
    def run(lib):
        D = lib.utils.data
        x, y = lib.randn(50, 3), lib.arange(50)
        if wrap != 'subclass':
            cls = D.TensorDataset
        elif lib is nbgrad:
            cls = Offset
        else:
            class cls(D.TensorDataset):   # noqa: N801 (Offset, for torch)
                def __getitem__(self, i):
                    a, b = super().__getitem__(i)
                    return a + 100, b
        dataset = cls(x, y)
        if wrap == 'subset':
            dataset = D.random_split(dataset, [0.6, 0.4])[0]
        collate = (lambda batch: D.default_collate(batch)) if wrap == 'custom-collate' else None
        loader = D.DataLoader(dataset, batch_size=8, shuffle=True, collate_fn=collate)
        return [_plain(batch) for batch in loader]
    _both(run)


def test_numpy_seeds_of_workers_are_pytorchs():
    from torch.utils.data._utils.worker import _generate_state
    for base_seed in (0, 1, 2 ** 32 + 5, 2 ** 63 - 1, 123456789123):
        for worker_id in (0, 1, 7):
            assert numpy_seed(base_seed, worker_id) == _generate_state(base_seed, worker_id)


def test_pin_memory_without_a_gpu_warns_as_pytorch_and_still_loads():
    for lib in (torch, nbgrad):
        if lib.cuda.is_available():
            pytest.skip('a GPU is present: pinning happens')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            batches = [b.tolist() for b in lib.utils.data.DataLoader([1, 2, 3], batch_size=2,
                                                                     pin_memory=True)]
        assert batches == [[1, 2], [3]]
        assert "'pin_memory' argument is set as true but no accelerator is found" in \
            str(caught[0].message)
