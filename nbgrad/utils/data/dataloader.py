"""DataLoader: batches of a dataset, in the main process (num_workers=0) or fetched by worker
processes, with PyTorch's options, checks and seeding.

Reproducibility: every pass draws one base seed for the workers from nbgrad's generator (or the
DataLoader's `generator`), then the sampler draws its order; the batches' contents are decided in
the main process, so the same seed gives the same batches whatever num_workers is, and (on the
CPU) the batches PyTorch gives after the same torch.manual_seed.

Workers are real processes. On Linux they start by fork (whatever Python's default), so a Dataset
class defined in a notebook cell works in them. Each worker takes (task, indices) requests from
its own queue and answers through its own pipe; the main process waits on those pipes and on the
workers' process sentinels together, so a worker that dies (killed, segfault) is reported at
once, and a worker's exception is raised here with the worker's traceback. Leaving a loop early
(break, an exception, dropping the iterator) shuts the workers down.
"""
import functools
import inspect
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import time
import types
import warnings
import weakref

from ..._creation import empty
from ..._dtype import int64
from . import _utils
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import IterableDatasetFetcher, MapDatasetFetcher
from ._utils.worker import (RESUME, STOP, ExceptionWrapper, IterableDatasetEnd, receive_copy,
                            MP_STATUS_CHECK_INTERVAL, get_worker_info, worker_loop)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


__all__ = ['DataLoader', 'default_collate', 'default_convert', 'get_worker_info']


class _InfiniteConstantSampler(Sampler):
    """None forever: the 'indices' of an IterableDataset, which BatchSampler groups so that each
    request asks for batch_size samples."""

    def __iter__(self):
        while True:
            yield None


def _default_context():
    # fork on Linux, so classes defined in a notebook or a script's __main__ reach the workers
    # without being pickled (Python 3.14 made forkserver the default there)
    if sys.platform.startswith('linux'):
        return multiprocessing.get_context('fork')
    return multiprocessing.get_context()


class DataLoader:
    """Iterate over `dataset` in batches: DataLoader(dataset, batch_size=1, shuffle=None,
    sampler=None, batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
    drop_last=False, timeout=0, worker_init_fn=None, multiprocessing_context=None,
    generator=None, *, prefetch_factor=None, persistent_workers=False, in_order=True), PyTorch's
    arguments and meanings. (pin_memory_device is accepted and ignored, as PyTorch now does.)
    With workers and in_order=False, batches come as the workers finish them."""

    __class_getitem__ = classmethod(types.GenericAlias)
    _FIXED_AFTER_INIT = ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset',
                         'persistent_workers')

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device='',
                 in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        elif shuffle not in (False, None) and sampler is not None:
            raise ValueError('sampler option is mutually exclusive with shuffle')
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError('batch_sampler option is mutually exclusive with batch_size, '
                                 'shuffle, sampler, and drop_last')
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError('batch_size=None option disables auto-batching and is mutually '
                             'exclusive with drop_last')
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True
        self.check_worker_number_rationality()

    # -- options -----------------------------------------------------------------------------

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError('multiprocessing_context can only be used with multi-process '
                                 'loading (num_workers > 0), but got '
                                 f'num_workers={self.num_workers}')
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError('multiprocessing_context option should specify a valid '
                                     f'start method in {methods!r}, but got '
                                     f'multiprocessing_context={context!r}')
                context = multiprocessing.get_context(context)
            elif not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError('multiprocessing_context option should be a valid context '
                                'object or a string specifying the start method, but got '
                                f'multiprocessing_context={context}')
        self._multiprocessing_context = context

    def __setattr__(self, name, value):
        if getattr(self, '_initialized', False) and name in self._FIXED_AFTER_INIT:
            raise ValueError(f'{name} attribute should not be set after '
                             f'{type(self).__name__} is initialized')
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        if not self._iterable:
            return len(self._index_sampler)
        length = self._IterableDataset_len_called = len(self.dataset)
        if self.batch_size is not None:
            whole, rest = divmod(length, self.batch_size)
            length = whole if self.drop_last or not rest else whole + 1
        return length

    def check_worker_number_rationality(self):
        """Warn (PyTorch's text) when num_workers is above the CPUs this process may use."""
        if not self.num_workers:
            return
        try:
            cpus, cpuset_checked = len(os.sched_getaffinity(0)), True
        except AttributeError:
            cpus, cpuset_checked = os.cpu_count(), False
        if cpus is not None and self.num_workers <= cpus:
            return
        if cpus is None:
            suggestion = ('DataLoader is not able to compute a suggested max number of worker '
                          'in current system.')
        else:
            suggestion = (f'Our suggested max number of worker in current system is {cpus}'
                          f'{"" if cpuset_checked else " (`cpuset` is not taken into account)"}'
                          ', which is smaller than what this DataLoader is going to create.')
        warnings.warn(f'This DataLoader will create {self.num_workers} worker processes in '
                      f'total. {suggestion} Please be aware that excessive worker creation might '
                      'get DataLoader running slow or even freeze, lower the worker number to '
                      'avoid potential slowness/freeze if necessary.', stacklevel=3)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    if num_workers < 0:
        raise ValueError('num_workers option should be non-negative; use num_workers=0 to '
                         'disable multiprocessing.')
    if timeout < 0:
        raise ValueError('timeout option should be non-negative')
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError('prefetch_factor option could only be specified in multiprocessing.'
                         'let num_workers > 0 to enable multiprocessing, otherwise set '
                         'prefetch_factor to None.')
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError('prefetch_factor option should be non-negative')
    if persistent_workers and num_workers == 0:
        raise ValueError('persistent_workers option needs num_workers > 0')


def _check_iterable_options(shuffle, sampler, batch_sampler):
    if shuffle not in (False, None):
        raise ValueError('DataLoader with IterableDataset: expected unspecified shuffle option, '
                         f'but got shuffle={shuffle}')
    if sampler is not None:
        raise ValueError('DataLoader with IterableDataset: expected unspecified sampler option, '
                         f'but got sampler={sampler}')
    if batch_sampler is not None:
        raise ValueError('DataLoader with IterableDataset: expected unspecified batch_sampler '
                         f'option, but got batch_sampler={batch_sampler}')


def _make_fetcher(iterable, auto_collation, collate_fn, drop_last, dataset):
    kind = IterableDatasetFetcher if iterable else MapDatasetFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


class _BaseIter:
    """What both iterators share: the per-pass seed, the sampler's batches of indices, pinning,
    and the IterableDataset length warning."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._collate_fn = loader.collate_fn
        self._timeout = loader.timeout
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._pin_memory = loader.pin_memory and _accelerator_available()
        if loader.pin_memory and not self._pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._sampler_iter = iter(self._index_sampler)
        # drawn after the sampler is made and before it draws its order, as in PyTorch
        self._base_seed = int(empty((), dtype=int64).random_(generator=loader.generator).item())
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def _next_index(self):
        return next(self._sampler_iter)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        expected = self._IterableDataset_len_called
        if self._iterable and expected is not None and self._num_yielded > expected:
            message = (f'Length of IterableDataset {self._dataset} was reported to be '
                       f'{expected}(when accessing len(dataloader)), but {self._num_yielded} '
                       'samples have been fetched. ')
            if isinstance(self, _MultiProcessIter):
                message += ('For multiprocessing data-loading, this could be caused by not '
                            'properly configuring the IterableDataset replica at each worker. '
                            'Please see https://pytorch.org/docs/stable/data.html#torch.utils.'
                            'data.IterableDataset for examples.')
            warnings.warn(message, stacklevel=2)
        return data

    def _pinned(self, data):
        return _utils.pin_memory.pin_memory(data) if self._pin_memory else data

    def __getstate__(self):
        raise NotImplementedError(f'{type(self).__name__} cannot be pickled')


def _accelerator_available():
    from ... import cuda
    return cuda.is_available()


class _SingleProcessIter(_BaseIter):

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            # PyTorch's (an assertion): a timeout only means something with worker processes
            raise AssertionError('_SingleProcessDataLoaderIter requires timeout == 0')
        self._fetcher = _make_fetcher(self._iterable, self._auto_collation, self._collate_fn,
                                      self._drop_last, self._dataset)

    def _next_data(self):
        return self._pinned(self._fetcher.fetch(self._next_index()))


class _MultiProcessIter(_BaseIter):
    """Requests go round-robin to the workers, prefetch_factor per worker ahead; answers are
    reordered by task number so batches come out in the sampler's order."""

    def __init__(self, loader):
        super().__init__(loader)
        self._persistent = loader.persistent_workers
        self._in_order = loader.in_order
        self._prefetch = loader.prefetch_factor * loader.num_workers
        context = loader.multiprocessing_context or _default_context()
        make_fetcher = functools.partial(_make_fetcher, self._iterable, self._auto_collation,
                                         self._collate_fn, self._drop_last)
        arguments = (make_fetcher, self._dataset, loader.worker_init_fn)
        if context.get_start_method() != 'fork':
            _check_picklable(arguments, context.get_start_method())
        self._workers, self._requests, self._answers = [], [], []
        # a finalizer, not __del__: an iterator left in a reference cycle (an exception's
        # traceback holds it) is collected together with its queues and pipes, in any order;
        # the finalizer keeps them alive until it has stopped the workers through them
        self._shutdown_workers = weakref.finalize(self, _stop_workers, self._workers,
                                                  self._requests, self._answers)
        try:
            for worker_id in range(loader.num_workers):
                requests = context.Queue()
                reader, writer = context.Pipe(duplex=False)
                worker = context.Process(
                    target=worker_loop, daemon=True,
                    args=(make_fetcher, self._dataset, requests, writer, self._base_seed,
                          loader.worker_init_fn, worker_id, loader.num_workers, os.getpid()))
                worker.start()
                writer.close()      # the worker holds the only write end: EOF when it dies
                self._workers.append(worker)
                self._requests.append(requests)
                self._answers.append(reader)
        except BaseException:
            self._shutdown_workers()
            raise
        self._start_epoch()

    def _start_epoch(self):
        self._sent = self._received = 0     # task numbers: next to send, next to yield
        self._tasks = {}                    # task -> [worker] or [worker, answer]
        self._active = [True] * len(self._workers)  # False once its IterableDataset ran out
        self._next_worker = itertools.cycle(range(len(self._workers)))
        for _ in range(self._prefetch):
            self._request_next()

    def _reset(self, loader):
        """Start another epoch on the same (persistent) workers."""
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        for requests in self._requests:
            requests.put(RESUME)
        for worker_id, reader in enumerate(self._answers):
            # answers of the last epoch still in the pipe come before the acknowledgement
            while self._receive_from(worker_id, reader) != RESUME:
                pass
        self._start_epoch()

    def _request_next(self):
        if len(self._tasks) >= self._prefetch:
            return
        try:
            indices = self._next_index()
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            worker_id = next(self._next_worker)
            if self._active[worker_id]:
                break
        else:
            return
        self._requests[worker_id].put((self._sent, indices))
        self._tasks[self._sent] = [worker_id]
        self._sent += 1

    def _next_data(self):
        if not self._in_order:
            return self._next_data_as_ready()
        while True:
            # skip tasks sent to workers whose IterableDataset ran out before answering them
            while self._received < self._sent:
                task = self._tasks[self._received]
                if len(task) == 2 or self._active[task[0]]:
                    break
                del self._tasks[self._received]
                self._received += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._tasks[self._received]) == 2:
                answer = self._tasks.pop(self._received)[1]
                self._received += 1
                return self._deliver(answer)
            task, answer = self._wait_for_answer()
            if isinstance(answer, IterableDatasetEnd):
                self._active[answer.worker_id] = False
                self._request_next()
                continue
            if task == self._received:
                del self._tasks[task]
                self._received += 1
                return self._deliver(answer)
            self._tasks[task].append(answer)

    def _next_data_as_ready(self):
        """in_order=False: the first batch any worker finishes (a slow sample no longer holds
        back the batches after it)."""
        while True:
            for task in [t for t, entry in self._tasks.items() if not self._active[entry[0]]]:
                del self._tasks[task]       # its worker's IterableDataset ran out first
            if not self._tasks:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            task, answer = self._wait_for_answer()
            if isinstance(answer, IterableDatasetEnd):
                self._active[answer.worker_id] = False
                self._request_next()
                continue
            del self._tasks[task]
            return self._deliver(answer)

    def _deliver(self, answer):
        self._request_next()
        if isinstance(answer, ExceptionWrapper):
            answer.reraise()
        return self._pinned(answer)

    def _wait_for_answer(self):
        """The next (task, answer) any worker sends; raises when a worker died or, with a
        timeout, when nothing came in time."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        readers = dict(zip(self._answers, range(len(self._workers))))
        sentinels = {w.sentinel: i for i, w in enumerate(self._workers)}
        while True:
            wait = MP_STATUS_CHECK_INTERVAL if deadline is None else \
                max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait(list(readers) + list(sentinels), wait)
            for handle in ready:
                if handle in readers:
                    return self._receive_from(readers[handle], handle)
            for handle in ready:
                self._workers[sentinels[handle]].join(timeout=1.0)
                self._raise_worker_died(sentinels[handle])
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown_workers()
                raise RuntimeError(f'DataLoader timed out after {self._timeout} seconds')

    def _receive_from(self, worker_id, reader):
        try:
            return receive_copy(reader)
        except (EOFError, OSError):
            self._workers[worker_id].join(timeout=1.0)
            self._raise_worker_died(worker_id)

    def _raise_worker_died(self, worker_id):
        worker = self._workers[worker_id]
        code = worker.exitcode
        if code is not None and code < 0:
            how = f'was killed by signal {signal.Signals(-code).name}'
        elif code is not None:
            how = f'exited with code {code}'
        else:
            how = 'closed its connection'
        self._shutdown_workers()
        raise RuntimeError(
            f'DataLoader worker {worker_id} (pid {worker.pid}) {how}. Workers only end when '
            'told to, so something stopped it: the out-of-memory killer (SIGKILL: try a '
            'smaller batch_size or fewer workers), a crash in native code the dataset called '
            '(SIGSEGV, SIGABRT), or os._exit. Run with num_workers=0 to see the failure in this '
            'process.')


def _stop_workers(workers, requests, readers):
    """Ask each worker to stop, then terminate those that have not within
    MP_STATUS_CHECK_INTERVAL (one still fetching a slow sample)."""
    for queue in requests:
        try:
            queue.put(STOP)
        except (OSError, ValueError):
            pass
    # closing our read ends unblocks a worker stuck sending a prefetched batch
    for reader in readers:
        reader.close()
    for worker in workers:
        worker.join(timeout=MP_STATUS_CHECK_INTERVAL)
        if worker.is_alive():
            worker.terminate()
            worker.join()
    for queue in requests:
        queue.cancel_join_thread()
        queue.close()


class _Discard:
    def write(self, data):
        pass


class _MainRefusingPickler(pickle.Pickler):
    """Pickles to nowhere, refusing classes and functions of an __main__ that a spawned process
    could not import (a notebook's, an interactive session's, python -c's): pickle itself only
    records their names, and the worker would fail to find them."""

    def reducer_override(self, obj):
        if (isinstance(obj, type) or inspect.isfunction(obj)) and \
                getattr(obj, '__module__', None) == '__main__':
            raise pickle.PicklingError(f'{obj.__qualname__} is defined in __main__')
        return NotImplemented


def _main_is_importable():
    main = sys.modules.get('__main__')
    path = getattr(main, '__file__', None)
    return path is not None and os.path.exists(path)


def _check_picklable(arguments, method):
    """Under spawn/forkserver the workers receive the dataset, collate_fn and worker_init_fn
    pickled, which fails for classes and functions defined in a notebook cell (or an
    interactive __main__); say so plainly before starting any process."""
    pickler = pickle.Pickler if _main_is_importable() else _MainRefusingPickler
    try:
        pickler(_Discard()).dump(arguments)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise RuntimeError(
            f"DataLoader workers start with '{method}', which pickles the dataset, collate_fn "
            f'and worker_init_fn to send them to the workers, and this failed: {error}. Classes '
            'and functions defined in a notebook cell or in __main__ cannot be pickled that '
            'way. Move them into a .py module and import it, or use num_workers=0'
            + (", or multiprocessing_context='fork'" if 'fork' in
               multiprocessing.get_all_start_methods() else '') + '.') from error
