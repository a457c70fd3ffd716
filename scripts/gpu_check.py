"""The GPU check: run nbgrad's CUDA tests and GPU benchmarks on a CUDA machine, in a few minutes.

    PYTHONPATH=. python scripts/gpu_check.py [--quick] [--jobs N] [--report DIR]

Needs CuPy, PyTorch and pytest (no IPython/Jupyter); uses pytest-xdist (--jobs) and pytest-timeout
when they are installed. Prints a short table last: the test counts, then the nbgrad/PyTorch ratios
of the engine, nn, optimizer and conv benchmarks on 'cuda'. With --report DIR the whole pytest
output (every failure's traceback) goes to DIR/tests.log and the table to DIR/summary.txt. Exits
non-zero if a test failed or CUDA is not usable. --micro and --parts add where the time goes: one
small op's host time split, and the device time of the pieces of the slowest benchmarks
(gpu_parts.py). The fake CuPy runs it too (PYTHONPATH=tests/fake_cuda NBGRAD_FAKE_CUDA=1), as a
smoke test of the script itself.
"""
import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = ['bench_core', 'bench_nn', 'bench_optim', 'bench_conv', 'bench_rnn']  # benchmarks/


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


def _smoke():
    """One forward and backward on 'cuda' before the long runs, so a broken set-up shows at once."""
    import nbgrad
    x = nbgrad.randn(64, 32, device='cuda', requires_grad=True)
    w = nbgrad.randn(32, 16, device='cuda', requires_grad=True)
    (x @ w).relu().sum().backward()
    nbgrad.cuda.synchronize()
    from nbgrad.cuda import _cudnn_library
    cudnn = (f'cuDNN {_cudnn_library.version()} in use for convolutions'
             if nbgrad.backends.cudnn.is_available()
             else f'cuDNN not in use: {_cudnn_library.unavailable_reason()}')
    return (f'smoke test on cuda: grad shapes {tuple(x.grad.shape)}, {tuple(w.grad.shape)}; '
            f'{cudnn}')


_CUDNN_SMOKE = r"""
import numpy as np, nbgrad
from nbgrad.cuda import _cudnn_library as library
if not nbgrad.backends.cudnn.is_available():
    print('not available:', library.unavailable_reason()); raise SystemExit
rng = np.random.default_rng(0)
worst = 0.0
for dims, groups, stride in ((2, 1, 1), (2, 2, 2), (1, 1, 1), (3, 1, 1)):
    conv = getattr(nbgrad.nn.functional, f'conv{dims}d')
    x = rng.standard_normal((4, 8) + (12,) * dims).astype(np.float32)
    w = rng.standard_normal((8, 8 // groups) + (3,) * dims).astype(np.float32)
    results = []
    for enabled in (True, False):
        with nbgrad.backends.cudnn.flags(enabled=enabled, allow_tf32=False):
            xs, ws = (nbgrad.tensor(a, device='cuda', requires_grad=True) for a in (x, w))
            y = conv(xs, ws, padding=1, stride=stride, groups=groups)
            y.backward(nbgrad.ones_like(y))
            results.append([t.detach().cpu().numpy() for t in (y, xs.grad, ws.grad)])
    worst = max(worst, max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))
                           for a, b in zip(*results)))
print(f'cuDNN {library.version()}: conv1d/2d/3d fwd+bwd agree with nbgrad kernels '
      f'(worst relative difference {worst:.1e})')
"""


def _cudnn_smoke():
    """cuDNN convolutions against nbgrad's own kernels, in a child process (a wrong C signature
    would crash it, not this check)."""
    done = subprocess.run([sys.executable, '-c', _CUDNN_SMOKE], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    if done.returncode:
        return f'cuDNN smoke test failed (exit {done.returncode}): {done.stderr[-1500:]}'
    return 'cuDNN smoke test: ' + done.stdout.strip()[-1500:]


def _run_tests(args):
    """pytest on the tests marked `cuda`; returns (summary line, exit code, seconds)."""
    command = [sys.executable, '-m', 'pytest', os.path.join(ROOT, 'tests'), '-m', 'cuda', '-q',
               '-p', 'no:cacheprovider', '--no-header', '-rfE', '--tb=short']
    if args.jobs > 1 and importlib.util.find_spec('xdist'):
        command += ['-n', str(args.jobs)]
    if importlib.util.find_spec('pytest_timeout'):
        command += ['--timeout', str(args.test_timeout)]
    start = time.time()
    # the log is written as pytest goes, so a run stopped from outside still leaves it
    log_path = os.path.join(args.report or '/tmp', 'tests.log')
    with open(log_path, 'w') as log:
        proc = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, PYTHONPATH=ROOT))
    elapsed = time.time() - start
    with open(log_path) as log:
        output = log.read()
    sys.stdout.write(output[-6000:])
    summary = next((line for line in reversed(output.splitlines())
                    if re.search(r'\d+ (passed|failed|error)', line)), 'no summary')
    return summary.strip('= '), proc.returncode, elapsed


def _profile_cases(args):
    """The benchmark harness's --profile for the named cases, into DIR/profile.txt (or stdout)."""
    import contextlib
    import importlib
    out = open(os.path.join(args.report, 'profile.txt'), 'w') if args.report else sys.stdout
    with contextlib.redirect_stdout(out):
        for name in BENCHMARKS:
            module = importlib.import_module(name)
            for only in filter(None, args.profile.split(',')):
                if any(only in case for case in module.CASES):
                    module.main(['--device', 'cuda', '--profile', '--only', only])
    if out is not sys.stdout:
        out.close()


def _per_call_us(fn, calls=2000):
    """Host microseconds per call of fn (the device synchronised before and after)."""
    import cupy
    fn()
    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    cupy.cuda.Device().synchronize()
    return (time.perf_counter() - start) / calls * 1e6


def _micro():
    """Where a small op's time goes on the GPU: CuPy's own launch, nbgrad's op with and without
    its memory-peak allocator, PyTorch's op (lines for the summary)."""
    import cupy
    import nbgrad
    a, b = cupy.ones(16, cupy.float32), cupy.ones(16, cupy.float32)
    x, y = nbgrad.ones(16, device='cuda'), nbgrad.ones(16, device='cuda')
    lines = [f'cupy.add (16 floats)               {_per_call_us(lambda: cupy.add(a, b)):8.1f} us',
             f'nbgrad x + y, peak tracking on     {_per_call_us(lambda: x + y):8.1f} us']
    tracker = cupy.cuda.get_allocator()
    cupy.cuda.set_allocator(cupy.get_default_memory_pool().malloc)
    try:
        lines.append(f'nbgrad x + y, peak tracking off    {_per_call_us(lambda: x + y):8.1f} us')
    finally:
        cupy.cuda.set_allocator(tracker)
    w = nbgrad.ones(16, device='cuda', requires_grad=True)
    lines.append(f'nbgrad (w * 2).sum().backward()    '
                 f'{_per_call_us(lambda: (w * 2).sum().backward(), 500):8.1f} us')
    try:
        import torch
        p, q = torch.ones(16, device='cuda'), torch.ones(16, device='cuda')
        v = torch.ones(16, device='cuda', requires_grad=True)
        sync = torch.cuda.synchronize
        for label, fn, calls in (('torch x + y', lambda: p + q, 2000),
                                 ('torch (w * 2).sum().backward()',
                                  lambda: (v * 2).sum().backward(), 500)):
            fn()
            sync()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            lines.append(f'{label:34s} {(time.perf_counter() - start) / calls * 1e6:8.1f} us')
    except Exception as e:  # report, do not crash
        lines.append(f'torch timing unavailable: {e!r}')
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='fewer benchmark repeats')
    parser.add_argument('--skip-tests', action='store_true')
    parser.add_argument('--jobs', type=int, default=min(8, os.cpu_count() or 1),
                        help='parallel pytest workers (pytest-xdist); CuPy compiles each new '
                             'kernel on first use, which dominates a first run')
    parser.add_argument('--test-timeout', type=int, default=300, help='seconds per test')
    parser.add_argument('--benchmarks', default=','.join(BENCHMARKS),
                        help='comma-separated benchmark modules in benchmarks/ (empty: none)')
    parser.add_argument('--report', default=None, help='folder for tests.log and summary.txt')
    parser.add_argument('--parts', action='store_true',
                        help='host and device time of the pieces of the slowest GPU benchmarks '
                             '(scripts/gpu_parts.py)')
    parser.add_argument('--micro', action='store_true',
                        help="host time of one small op: CuPy's launch, nbgrad's with and "
                             'without its memory-peak allocator, PyTorch\'s')
    parser.add_argument('--profile', default='',
                        help="comma-separated substrings of benchmark case names: cProfile's "
                             "top functions of nbgrad's rounds on 'cuda' (to DIR/profile.txt "
                             'with --report)')
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    env_lines = _environment()
    print('\n'.join(env_lines), flush=True)
    import nbgrad
    if not nbgrad.cuda.is_available():
        print('nbgrad.cuda.is_available() is False: nothing to check on this machine')
        return 2
    env_lines.append(_smoke())
    print(env_lines[-1], flush=True)
    env_lines.append(_cudnn_smoke())
    print(env_lines[-1], flush=True)
    test_summary, code, seconds = ('skipped', 0, 0.0) if args.skip_tests else _run_tests(args)
    sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
    import importlib
    import traceback
    rows, broken = [], []
    for name in filter(None, args.benchmarks.split(',')):
        try:  # one broken benchmark must not hide the others' numbers
            rows += importlib.import_module(name).main(
                ['--device', 'cuda'] + (['--quick'] if args.quick else []))
        except Exception:
            broken.append(f'{name}: {traceback.format_exc(limit=3)}')

    if args.profile:
        _profile_cases(args)
    micro = _micro() if args.micro else []
    if args.parts:
        import gpu_parts
        try:
            micro += gpu_parts.lines()
        except Exception:  # report, do not crash
            micro.append(f'--parts failed: {traceback.format_exc(limit=3)}')

    lines = ['==== nbgrad GPU check ===='] + [f'  {line}' for line in env_lines]
    lines.append(f'  CUDA tests: {test_summary} ({seconds:.0f} s)')
    lines.append(f'  {"benchmark (cuda)":40s} {"torch":>10s} {"nbgrad":>10s} {"ratio":>6s}')
    for name, t_torch, t_nb in rows:
        lines.append(f'  {name:40s} {t_torch * 1e6:8.1f}us {t_nb * 1e6:8.1f}us '
                     f'{t_nb / t_torch:6.2f}')
    lines += [f'  benchmark failed: {text}' for text in broken]
    lines += [f'  {line}' for line in micro]
    print('\n' + '\n'.join(lines))
    if args.report:
        with open(os.path.join(args.report, 'summary.txt'), 'w') as summary:
            summary.write('\n'.join(lines) + '\n')
    return 0 if code == 0 and not broken else 1


if __name__ == '__main__':
    sys.exit(main())
