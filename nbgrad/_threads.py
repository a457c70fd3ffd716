"""set_num_threads / get_num_threads: how many threads nbgrad's own parallel work (the CPU
optimizer steps) may use. By default the CPUs this process may run on, capped by OMP_NUM_THREADS
as PyTorch's intra-op pool is. NumPy's BLAS picks its thread count when it loads (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS); if threadpoolctl is installed, set_num_threads limits it too."""
import builtins
import os

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
