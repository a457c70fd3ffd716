"""The text of `%nbgrad` (status), from nbgrad's public state (`%nbgrad rng` shows RNGView).

It does not start CUDA where it has not been started: without CuPy or a GPU the CUDA lines say
so, and GPU memory is read only when nbgrad.cuda.is_available().
"""
import importlib.util
import os

import nbgrad


def _mb(nbytes):
    return f'{nbytes / 2 ** 20:,.1f} MiB'


def _process_rss():
    """The process's resident memory in bytes, or None where /proc is missing."""
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return None


def cuda_state():
    """One line: why CUDA is unavailable, or the devices nbgrad sees."""
    if importlib.util.find_spec('cupy') is None:
        return 'not available (CuPy is not installed: pip install nbgrad[cuda])'
    if not nbgrad.cuda.is_available():
        return 'not available (CuPy is installed but sees no GPU or no NVIDIA driver)'
    import cupy
    count = nbgrad.cuda.device_count()
    names = ', '.join(f'cuda:{i} {nbgrad.cuda.get_device_name(i)}' for i in range(count))
    plural = 's' if count != 1 else ''
    return f'available, {count} device{plural} ({names}); CuPy {cupy.__version__}'


def status_text():
    lines = [f'nbgrad {nbgrad.__version__}',
             f'default device: {nbgrad.get_default_device()}',
             f'default dtype:  {nbgrad.get_default_dtype()}',
             f'CUDA:           {cuda_state()}']
    rss = _process_rss()
    if rss is not None:
        lines.append(f'CPU memory:     {_mb(rss)} resident (this process)')
    if nbgrad.cuda.is_available():
        for i in range(nbgrad.cuda.device_count()):
            free, total = nbgrad.cuda.mem_get_info(i)
            lines.append(f'cuda:{i} memory:  {_mb(nbgrad.cuda.memory_allocated(i))} allocated, '
                         f'{_mb(nbgrad.cuda.memory_reserved(i))} reserved, '
                         f'{_mb(free)} free of {_mb(total)}')
    return '\n'.join(lines)
