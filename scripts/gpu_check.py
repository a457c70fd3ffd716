"""The GPU check: run nbgrad's CUDA tests and GPU benchmarks on a CUDA machine, in a few minutes.

    PYTHONPATH=. python scripts/gpu_check.py [--quick]

Needs CuPy, PyTorch and pytest (no IPython/Jupyter). Prints a short table last: the test counts,
then the nbgrad/PyTorch ratios of the engine, nn, optimizer and conv benchmarks on 'cuda'. Exits
non-zero if a test failed or CUDA is not usable.
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = ['bench_core', 'bench_nn', 'bench_optim', 'bench_conv']  # in benchmarks/


def _environment():
    import numpy
    lines = [f'python {sys.version.split()[0]}, numpy {numpy.__version__}']
    try:
        import cupy
        lines.append(f'cupy {cupy.__version__}, CUDA runtime '
                     f'{cupy.cuda.runtime.runtimeGetVersion()}, '
                     f'{cupy.cuda.runtime.getDeviceCount()} device(s)')
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props['name'].decode() if isinstance(props['name'], bytes) else props['name']
        lines.append(f'device 0: {name}')
    except Exception as e:  # report, do not crash: the table says what is missing
        lines.append(f'cupy unavailable: {e!r}')
    try:
        import torch
        lines.append(f'torch {torch.__version__} (cuda available: {torch.cuda.is_available()})')
    except ImportError:
        lines.append('torch not installed')
    return lines


def _run_tests(quick):
    """pytest on the tests marked `cuda`; returns (summary line, exit code, seconds)."""
    args = [sys.executable, '-m', 'pytest', os.path.join(ROOT, 'tests'), '-m', 'cuda', '-q',
            '-p', 'no:cacheprovider', '--no-header', '-rf']
    if quick:
        args += ['-x']
    start = time.time()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    elapsed = time.time() - start
    sys.stdout.write(proc.stdout[-6000:])
    sys.stderr.write(proc.stderr[-2000:])
    summary = next((line for line in reversed(proc.stdout.splitlines())
                    if re.search(r'\d+ (passed|failed|error)', line)), 'no summary')
    return summary.strip('= '), proc.returncode, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='stop at the first failing test, '
                                                             'fewer benchmark repeats')
    parser.add_argument('--skip-tests', action='store_true')
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    env_lines = _environment()
    print('\n'.join(env_lines))
    import nbgrad
    if not nbgrad.cuda.is_available():
        print('nbgrad.cuda.is_available() is False: nothing to check on this machine')
        return 2
    test_summary, code, seconds = ('skipped', 0, 0.0) if args.skip_tests else _run_tests(args.quick)
    sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
    import importlib
    rows = []
    for name in BENCHMARKS:
        rows += importlib.import_module(name).main(
            ['--device', 'cuda'] + (['--quick'] if args.quick else []))

    print('\n==== nbgrad GPU check ====')
    for line in env_lines:
        print(f'  {line}')
    print(f'  CUDA tests: {test_summary} ({seconds:.0f} s)')
    print(f'  {"benchmark (cuda)":40s} {"torch":>10s} {"nbgrad":>10s} {"ratio":>6s}')
    for name, t_torch, t_nb in rows:
        print(f'  {name:40s} {t_torch * 1e6:8.1f}us {t_nb * 1e6:8.1f}us {t_nb / t_torch:6.2f}')
    return 0 if code == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
