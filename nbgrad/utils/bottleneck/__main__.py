"""python -m nbgrad.utils.bottleneck script.py [args...]

A first look at where a script spends its time (PyTorch's torch.utils.bottleneck): prints the
environment, then runs the script under cProfile (top Python functions), then again under the
op profiler (top ops, CPU; and with CUDA device times when a GPU is available). The script runs
once per report, so it should be short (a few training steps).
"""
import argparse
import cProfile
import os
import platform
import pstats
import sys

import numpy as np

import nbgrad
from nbgrad.autograd import profiler

_RULE = '-' * 80
_TOP = 15


def _section(title):
    return f'{_RULE}\n  {title}\n{_RULE}'


def environment_summary():
    """Versions of what nbgrad runs on and the device it would use."""
    lines = [f'nbgrad {nbgrad.__version__}', f'NumPy {np.__version__}',
             f'Python {platform.python_version()} ({platform.platform()})']
    try:
        import cupy
        lines.append(f'CuPy {cupy.__version__}')
    except ImportError:
        lines.append('CuPy not installed')
    if nbgrad.cuda.is_available():
        count = nbgrad.cuda.device_count()
        names = ', '.join(nbgrad.cuda.get_device_name(i) for i in range(count))
        lines.append(f'CUDA available: {count} device(s): {names}')
    else:
        lines.append('CUDA available: no (running on CPU)')
    return '\n'.join(lines)


def _compile(path):
    with open(path, 'rb') as f:
        return compile(f.read(), path, 'exec')


def _run(code, path, args):
    """Run the script as __main__, with its own argv and folder on sys.path."""
    sys.argv = [path] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        exec(code, {'__name__': '__main__', '__file__': path, '__builtins__': __builtins__})
    finally:
        sys.path.pop(0)


def run_cprofile(code, path, args):
    prof = cProfile.Profile()
    prof.enable()
    try:
        _run(code, path, args)
    finally:
        prof.disable()
    return prof


def run_op_profiler(code, path, args, use_cuda):
    with profiler.profile(use_device='cuda' if use_cuda else None) as prof:
        _run(code, path, args)
    return prof


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m nbgrad.utils.bottleneck',
        description='Summarise where a script spends its time: cProfile and the op profiler.')
    parser.add_argument('scriptfile', help='the Python script to run')
    parser.add_argument('args', nargs=argparse.REMAINDER, help="the script's arguments")
    options = parser.parse_args(argv)
    path = options.scriptfile
    code = _compile(path)

    print(_section('Environment Summary'))
    print(environment_summary())

    print(_section('cProfile output'))
    stats = pstats.Stats(run_cprofile(code, path, options.args), stream=sys.stdout)
    stats.sort_stats('tottime').print_stats(_TOP)

    modes = [False] + ([True] if nbgrad.cuda.is_available() else [])
    for use_cuda in modes:
        prof = run_op_profiler(code, path, options.args, use_cuda)
        sort_by = 'cuda_time_total' if use_cuda else 'cpu_time_total'
        print(_section(f'autograd profiler output ({"CUDA" if use_cuda else "CPU"} mode)'))
        print(f'        top {_TOP} events sorted by {sort_by}')
        print(prof.key_averages().table(sort_by=sort_by, row_limit=_TOP))
    return 0


if __name__ == '__main__':
    sys.exit(main())
