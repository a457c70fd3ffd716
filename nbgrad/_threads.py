"""set_num_threads / get_num_threads: how many threads nbgrad's own parallel work (the CPU
optimizer steps; layer norm, softmax and pooling on large arrays) may use. By default
the CPUs this process may run on, capped by OMP_NUM_THREADS as PyTorch's intra-op pool is.
NumPy's BLAS picks its thread count when it loads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS); if
threadpoolctl is installed, set_num_threads limits it too.

The worker threads are one process-wide pool (executor). NumPy releases the GIL inside its loops,
so threads working on separate rows of a large array run side by side; on small arrays the
hand-offs cost more than they save, hence PARALLEL_MIN_ELEMENTS."""
import builtins
import os
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

_threads = [None]


def _default():
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    omp = os.environ.get('OMP_NUM_THREADS', '')
    if omp.isdigit() and int(omp) > 0:
        n = min(n, int(omp))
    return max(1, n)


def get_num_threads():
    if _threads[0] is None:
        _threads[0] = _default()
    return _threads[0]


def set_num_threads(int):  # noqa: A002 (PyTorch's parameter name)
    if type(int) is not builtins.int:
        raise RuntimeError(f'set_num_threads expects an int, but got {type(int).__name__}')
    if int <= 0:
        raise RuntimeError('set_num_threads expects a positive integer')
    _threads[0] = int
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(int)


# -- the worker pool ---------------------------------------------------------------------------

# below this many elements a kernel runs on the calling thread (measured on two cores: layer norm
# over 4M elements 1.65x faster on two threads, log_softmax over 1M 1.45x, max pooling over 3.2M
# 1.8x)
PARALLEL_MIN_ELEMENTS = 1 << 19
_pool = [None, None]        # (executor, the pid that made it)


def executor(workers):
    """The process-wide pool, with at least `workers` threads; made again in a forked child
    (whose pool threads are gone)."""
    pool, pid = _pool
    if pool is None or pid != os.getpid() or pool._max_workers < workers:
        _pool[:] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix='nbgrad'), \
            os.getpid()
    return _pool[0]


def worker_count():
    """Threads for large parallel work: get_num_threads(), at most 8."""
    return min(get_num_threads(), 8)


def row_parts(rows, row_size):
    """Slices cutting `rows` rows of `row_size` elements into one part per worker thread when
    there are enough elements to pay for the threads, else a single part."""
    parts = min(worker_count(), rows)
    if parts <= 1 or rows * row_size < PARALLEL_MIN_ELEMENTS:
        return [slice(0, rows)]
    bounds = [rows * i // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:])]


def run_parts(fn, parts):
    """[fn(part) for part in parts], the first part on this thread and the others on the pool
    under this thread's NumPy error settings (nbgrad's ops silence the warnings PyTorch does not
    give); every part has finished (or failed) before this returns or raises."""
    if len(parts) == 1:
        return [fn(parts[0])]
    settings = np.geterr()

    def in_caller_settings(part):
        with np.errstate(**settings):
            return fn(part)
    futures = [executor(len(parts) - 1).submit(in_caller_settings, part) for part in parts[1:]]
    try:
        first = fn(parts[0])
    finally:
        wait(futures)
    return [first] + [f.result() for f in futures]


# the special functions' large arrays run their blocks on these threads too (_special.py)
from . import _special  # noqa: E402
_special.parallel[0] = (row_parts, run_parts)


# PyTorch's inter-op pool runs independent ops side by side (TorchScript forks); nbgrad has none,
# so the number is recorded and reported, with PyTorch's rules: a positive int, set once.
_interop = [None]


def get_num_interop_threads():
    return _interop[0] or _default()


def set_num_interop_threads(int):  # noqa: A002 (PyTorch's parameter name)
    if type(int) is not builtins.int:
        raise RuntimeError(f'set_num_interop_threads expects an int, but got '
                           f'{type(int).__name__}')
    if int <= 0:
        raise RuntimeError('set_num_interop_threads expects a positive integer')
    if _interop[0] is not None:
        raise RuntimeError('Error: cannot set number of interop threads after parallel work has '
                           'started or set_num_interop_threads called')
    _interop[0] = int
