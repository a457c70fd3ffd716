"""DataLoader worker processes against PyTorch's: the same batches and per-worker random streams
under a seed, get_worker_info and IterableDataset sharding, persistent workers; and the failure
cases: an exception in a worker (raised here with its traceback), a worker that dies (killed,
segfault: a clear error, never a hang), a timeout, leaving a loop early (the workers exit), and
classes defined in __main__ (work with fork; a clear error under spawn)."""
import os
import random
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same_error

torch = pytest.importorskip('torch')
LIBS = [pytest.param(torch, id='torch'), pytest.param(nbgrad, id='nbgrad')]


@pytest.fixture(autouse=True)
def _no_hang():
    """A test that hangs fails after 60 s instead of stalling the suite."""
    def hung(*_):
        raise TimeoutError('the DataLoader hung')
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _as_lists(batches):
    return [[np.asarray(part).tolist() for part in batch] for batch in batches]


class Squares:
    """A map-style dataset of (i, i*i) NumPy samples that also reports who fetched it."""

    def __init__(self, lib, n=20):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


def test_seeded_shuffle_gives_pytorchs_batches_whatever_num_workers():
    results = {}
    for lib in (torch, nbgrad):
        for workers in (0, 2):
            lib.manual_seed(7)
            loader = lib.utils.data.DataLoader(Squares(lib), batch_size=3, shuffle=True,
                                               num_workers=workers)
            results[lib.__name__, workers] = _as_lists(loader)
    expected = results['torch', 0]
    assert results['torch', 2] == expected
    assert results['nbgrad', 0] == expected
    assert results['nbgrad', 2] == expected


class RandomPerWorker:
    """Samples drawn from the worker's random streams: the library's, NumPy's and Python's."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return (info.id, info.seed, float(self.lib.rand(1)), float(np.random.rand()),
                random.random())


def test_worker_seeds_and_random_streams_match_pytorchs():
    got = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(3)
        loader = lib.utils.data.DataLoader(RandomPerWorker(lib), batch_size=2, num_workers=2)
        got[lib.__name__] = _as_lists(loader)
    assert got['nbgrad'] == got['torch']


def test_get_worker_info_is_none_in_the_main_process():
    assert nbgrad.utils.data.get_worker_info() is None


def _sharded_range(lib, start, end):
    """PyTorch's documented example: each worker iterates its own slice of [start, end)."""
    class ShardedRange(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if info is None:
                return iter(range(start, end))
            per_worker = -(-(end - start) // info.num_workers)
            lo = start + info.id * per_worker
            return iter(range(lo, min(lo + per_worker, end)))
    return ShardedRange()


@pytest.mark.filterwarnings('ignore:This DataLoader will create')
@pytest.mark.parametrize('workers, batch_size', [(0, 2), (2, 2), (3, 4), (2, None)])
def test_iterable_dataset_sharded_by_worker_info(workers, batch_size):
    got = {}
    for lib in (torch, nbgrad):
        loader = lib.utils.data.DataLoader(_sharded_range(lib, 3, 17), num_workers=workers,
                                           batch_size=batch_size)
        got[lib.__name__] = [np.asarray(b).tolist() for b in loader]
    assert got['nbgrad'] == got['torch']


def test_worker_init_fn_runs_in_each_worker_with_its_id():
    def init(worker_id):
        info = nbgrad.utils.data.get_worker_info()
        assert info.id == worker_id
        np.random.seed(100 + worker_id)   # visible in the samples below

    class Draw(nbgrad.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return nbgrad.utils.data.get_worker_info().id, np.random.randint(1000)
    batches = list(nbgrad.utils.data.DataLoader(Draw(), batch_size=2, num_workers=2,
                                                worker_init_fn=init))
    for worker_id, batch in enumerate(batches):
        ids, draws = batch
        assert ids.tolist() == [worker_id, worker_id]
        reference = np.random.RandomState(100 + worker_id)
        assert draws.tolist() == [reference.randint(1000), reference.randint(1000)]


class Failing:
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f'sample {i} is corrupt')
        return i


@pytest.mark.parametrize('lib', LIBS)
def test_an_exception_in_a_worker_is_raised_here_with_the_workers_traceback(lib):
    loader = lib.utils.data.DataLoader(Failing(), batch_size=2, num_workers=2)
    seen = []
    with pytest.raises(ValueError) as caught:
        for batch in loader:
            seen.append(batch.tolist())
    message = str(caught.value)
    assert seen == [[0, 1], [2, 3]]
    assert message.startswith('Caught ValueError in DataLoader worker process 0.\n'
                              'Original Traceback (most recent call last):\n')
    assert "raise ValueError(f'sample {i} is corrupt')" in message
    assert message.rstrip().endswith('ValueError: sample 5 is corrupt')


def test_an_exception_in_worker_init_fn_is_raised_here():
    def init(worker_id):
        raise KeyError(f'no config for worker {worker_id}')
    with pytest.raises(KeyError, match='Caught KeyError in DataLoader worker process 0'):
        list(nbgrad.utils.data.DataLoader(Squares(nbgrad), num_workers=2, worker_init_fn=init))


class Dying:
    """Kills its own worker at sample 5: by SIGKILL (as the out-of-memory killer does) or by a
    segfault in native code."""

    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            if self.how == 'kill':
                os.kill(os.getpid(), signal.SIGKILL)
            import ctypes
            import faulthandler
            faulthandler.disable()  # (pytest's handler would print this worker's stack)
            ctypes.string_at(0)     # reads address 0: SIGSEGV
        return i


@pytest.mark.parametrize('how, signal_name', [('kill', 'SIGKILL'), ('segfault', 'SIGSEGV')])
def test_a_worker_that_dies_gives_a_clear_error_not_a_hang(how, signal_name):
    loader = nbgrad.utils.data.DataLoader(Dying(how), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match=rf'DataLoader worker 0 \(pid \d+\) was killed by '
                                           rf'signal {signal_name}'):
        list(loader)


class Slow:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        import time
        time.sleep(2 if i == 2 else 0)
        return i


@pytest.mark.parametrize('lib', LIBS)
def test_timeout_raises_pytorchs_error(lib):
    loader = lib.utils.data.DataLoader(Slow(), batch_size=2, num_workers=1, timeout=0.5)
    batches = iter(loader)
    assert next(batches).tolist() == [0, 1]
    with pytest.raises(RuntimeError, match=r'DataLoader timed out after 0.5 seconds'):
        next(batches)


class Pids:
    def __len__(self):
        return 40

    def __getitem__(self, i):
        return os.getpid()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped) still answers kill(0): reap it if it is our child
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def test_leaving_a_loop_early_shuts_the_workers_down():
    loader = nbgrad.utils.data.DataLoader(Pids(), batch_size=2, num_workers=2)
    pids = set()
    for batch in loader:
        pids.update(batch.tolist())
        if len(pids) == 2:
            break
    del batch
    assert len(pids) == 2
    batches = iter(loader)
    next(batches)
    workers = [w.pid for w in batches._workers]
    del batches     # the iterator is gone: so are its workers
    for pid in pids | set(workers):
        assert not _alive(pid), f'worker {pid} still running'


def test_persistent_workers_keep_their_processes_and_reshuffle_each_epoch():
    got = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(11)
        loader = lib.utils.data.DataLoader(Squares(lib, 9), batch_size=4, shuffle=True,
                                           num_workers=2, persistent_workers=True)
        epochs = [_as_lists(loader) for _ in range(3)]
        partial = iter(loader)
        next(partial)          # an epoch left half way: the next one starts cleanly
        epochs.append(_as_lists(loader))
        got[lib.__name__] = epochs
    assert got['nbgrad'] == got['torch']
    loader = nbgrad.utils.data.DataLoader(Pids(), batch_size=20, num_workers=2,
                                          persistent_workers=True)
    first = {p for batch in loader for p in batch.tolist()}
    second = {p for batch in loader for p in batch.tolist()}
    assert first == second and len(first) == 2


NOTEBOOK_STYLE_SCRIPT = '''
import sys
import nbgrad
from nbgrad.utils.data import DataLoader, Dataset

class Cells(Dataset):          # defined in __main__, as a class in a notebook cell is
    def __len__(self):
        return 6
    def __getitem__(self, i):
        return i * 10

context = sys.argv[1] if len(sys.argv) > 1 else None
try:
    print([b.tolist() for b in DataLoader(Cells(), batch_size=4, num_workers=2,
                                          multiprocessing_context=context)])
except RuntimeError as error:
    print('RuntimeError:', error)
'''


def _run_script(*args):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    done = subprocess.run([sys.executable, '-c', textwrap.dedent(NOTEBOOK_STYLE_SCRIPT), *args],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_dataset_class_defined_in_main_works_with_workers():
    assert _run_script().strip() == '[[0, 10, 20, 30], [40, 50]]'


def test_under_spawn_a_class_defined_in_main_gets_an_explanation():
    out = _run_script('spawn')
    assert out.startswith("RuntimeError: DataLoader workers start with 'spawn'")
    assert 'defined in a notebook cell or in __main__' in out
    assert 'Move them into a .py module' in out and "multiprocessing_context='fork'" in out


class ToCuda:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return nbgrad.full((2,), float(i), device='cuda')


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_cuda_in_a_worker_forked_after_cuda_was_used_raises_pytorchs_error():
    nbgrad.zeros(1, device='cuda')      # CUDA is initialised in this process
    loader = nbgrad.utils.data.DataLoader(ToCuda(), batch_size=2, num_workers=1)
    with pytest.raises(RuntimeError, match='Cannot re-initialize CUDA in forked subprocess'):
        list(loader)


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_pin_memory_pins_the_batches_when_a_gpu_is_there():
    x = nbgrad.arange(6.0).reshape(3, 2)
    batches = list(nbgrad.utils.data.DataLoader(nbgrad.utils.data.TensorDataset(x, x[:, 0]),
                                                batch_size=2, pin_memory=True))
    assert all(part.is_pinned() for batch in batches for part in batch)
    assert [b[0].tolist() for b in batches] == [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0]]]


def test_pin_memory_needs_an_accelerator_as_in_pytorch():
    if torch.cuda.is_available() or nbgrad.cuda.is_available():
        pytest.skip('a GPU is present')
    assert_same_error(lambda lib: lib.zeros(2).pin_memory())
    assert nbgrad.zeros(2).is_pinned() is torch.zeros(2).is_pinned() is False


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_pinned_tensors_keep_values_and_gradients_and_copy_to_the_gpu():
    x = nbgrad.randn(3, 4, requires_grad=True)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned() and pinned.pin_memory() is pinned
    assert np.array_equal(pinned.detach().numpy(), x.detach().numpy())
    pinned.t()[1].sum().backward()          # views of pinned memory, and a gradient through it
    assert pinned.t().is_pinned()
    assert np.array_equal(x.grad.numpy(), np.eye(4, dtype=np.float32)[1][None].repeat(3, 0))
    on_gpu = pinned.to('cuda', non_blocking=True)
    assert np.array_equal(on_gpu.cpu().detach().numpy(), x.detach().numpy())
    with pytest.raises(RuntimeError, match='only dense CPU tensors can be pinned'):
        on_gpu.pin_memory()


class SlowFirst(Squares):
    """Sample 0 takes a while: in order, every batch waits for it."""

    def __getitem__(self, i):
        if i == 0:
            import time
            time.sleep(1.0)
        return super().__getitem__(i)


@pytest.mark.parametrize('lib', LIBS)
def test_in_order_false_yields_batches_as_they_are_ready(lib):
    """The same batches as in order (PyTorch's, after the same seed), the slow one later."""
    lib.manual_seed(3)
    expected = _as_lists(torch.utils.data.DataLoader(Squares(torch), batch_size=2))
    loader = lib.utils.data.DataLoader(SlowFirst(lib), batch_size=2, num_workers=2,
                                       in_order=False)
    got = _as_lists(loader)
    assert sorted(got) == sorted(expected)
    assert got[0] != expected[0]                     # the slow first batch did not hold it up
