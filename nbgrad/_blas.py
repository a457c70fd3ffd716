"""single_threaded(): run a block with NumPy's BLAS (OpenBLAS) on one thread, for kernels that
cut their work into parts on nbgrad's own threads (_threads.run_parts) and call small GEMMs from
each.

Why: OpenBLAS splits every GEMM over all CPUs and leaves the result in the caches of cores that
the calling thread is not on. The Winograd convolution alternates small GEMMs with whole-array
transforms of their operands and results, so each transform then pulls its data back across
cores: measured on two cores, a transform pass after a two-thread GEMM took 240 us, after a
one-thread GEMM 40 us. Two of nbgrad's threads each calling one-thread GEMMs on their own batch
rows also beat two threads calling two-thread GEMMs (54 ms against 75 ms for the same 400).

The thread count is set through OpenBLAS's own `openblas_set_num_threads` (as threadpoolctl
does), found in the library this process has loaded (Linux: /proc/self/maps). Where there is no
OpenBLAS (MKL, Accelerate, another OS) the block runs unchanged. Setting the count is
process-wide, so concurrent blocks share one count held at 1 until the last one leaves.
"""
import ctypes
import threading

_SETTERS = ('scipy_openblas_set_num_threads64_', 'scipy_openblas_set_num_threads',
            'openblas_set_num_threads64_', 'openblas_set_num_threads')
_GETTERS = ('scipy_openblas_get_num_threads64_', 'scipy_openblas_get_num_threads',
            'openblas_get_num_threads64_', 'openblas_get_num_threads')

_lock = threading.Lock()
_state = {'found': None, 'inside': 0, 'saved': None}


def _openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS NumPy loaded, or None."""
    if _state['found'] is None:
        _state['found'] = False
        try:
            with open('/proc/self/maps') as maps:
                paths = {line.split()[-1] for line in maps if 'openblas' in line.lower()}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
            getter = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                _state['found'] = (setter, getter)
                break
    return _state['found'] or None


class single_threaded:
    """Context manager: NumPy's GEMMs run on the calling thread only inside it."""

    def __enter__(self):
        blas = _openblas()
        if blas is not None:
            with _lock:
                if _state['inside'] == 0:
                    _state['saved'] = blas[1]()
                    if _state['saved'] != 1:
                        blas[0](1)
                _state['inside'] += 1
        return self

    def __exit__(self, *exc):
        blas = _openblas()
        if blas is not None:
            with _lock:
                _state['inside'] -= 1
                if _state['inside'] == 0 and _state['saved'] != 1:
                    blas[0](_state['saved'])
        return False
