"""Memory benchmarks: what a training step holds and peaks at, nbgrad / PyTorch, and whether
memory grows over many steps (PERFORMANCE.md: peak within 1.2x of PyTorch's, no growth across
1,000 steps).

    python benchmarks/bench_memory.py                 # every case, growth over 1,000 steps
    python benchmarks/bench_memory.py --quick         # growth over 100 steps
    python benchmarks/bench_memory.py --only CNN

How it is measured (Linux). Each library runs each case in a fresh worker process whose glibc
malloc maps every block of 64 KB or more on its own and unmaps it when it is freed
(MALLOC_MMAP_THRESHOLD_ fixes the threshold, which glibc otherwise raises as large blocks are
freed, keeping them in its heap). Both libraries take their arrays from malloc (PyTorch's CPU
allocator keeps no cache), so the process's resident memory then follows its live arrays, and
the kernel's high-water mark (VmHWM, reset through /proc/self/clear_refs) is a step's peak,
temporaries inside an op included. The worker first runs the case at a small size, so that each
library's code, kernels and thread pools are loaded, and measures from the resident memory after
that (the baseline):
- held: between steps, after three: parameters, gradients, optimizer state, the batch, and
  whatever the library keeps for its next call. nbgrad keeps some large scratch arrays (im2col's
  operands, the Winograd and recurrent layers' work arrays; see nbgrad/_work_arrays.py): the
  "kept" column says how much of its memory that is.
- peak: the high-water mark over the next three steps.
- growth: resident memory after the last of --steps more steps, minus before them.
Ratios are nbgrad / PyTorch; below 1, nbgrad uses less.
"""
import argparse
import gc
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_conv  # noqa: E402
import bench_nn  # noqa: E402
import bench_rnn  # noqa: E402

# case: (make at the measured size, make at a small size for the warm-up)
CASES = {
    'MLP step (Sequential+CE+SGD) B1024 H1024':
        (bench_nn._mlp_step(1024, 1024), bench_nn._mlp_step(32, 64)),
    'CNN step (2 conv+pool, CE, SGD) B64 3x32x32':
        (bench_nn._cnn_step(64), bench_nn._cnn_step(4)),
    'conv3x3 N32 C32 K32 32x32, fwd+bwd':
        (bench_conv._conv3x3(True), bench_conv._conv3x3(True, batch=2)),
    'LSTM 64->128, T=50, B=64, fwd+bwd':
        (bench_rnn._recurrent('LSTM', 50, 64, 64, 128),
         bench_rnn._recurrent('LSTM', 5, 2, 64, 128)),
    'Transformer encoder step 2x128, B32 L64':
        (bench_nn._transformer_step(32, 64, 128, 2), bench_nn._transformer_step(2, 8, 128, 2)),
}

# glibc's malloc tunables for the workers (see the module docstring)
_MALLOC = {'MALLOC_MMAP_THRESHOLD_': str(64 << 10), 'MALLOC_TRIM_THRESHOLD_': '0'}
_MIB = 1 << 20


def _resident(field='VmRSS'):
    """This process's resident memory (VmRSS) or its high-water mark (VmHWM), in bytes."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'/proc/self/status has no {field}')


def _reset_high_water_mark():
    with open('/proc/self/clear_refs', 'w') as clear_refs:
        clear_refs.write('5')


def _kept_by_nbgrad():
    """Bytes of scratch arrays nbgrad keeps between calls (0 for PyTorch)."""
    if 'nbgrad' not in sys.modules:
        return 0
    from nbgrad import _work_arrays
    from nbgrad.nn.functional import _im2col
    return _work_arrays._kept_bytes[0] + sum(b.nbytes for b in _im2col.workspace._free)


def _measure(lib_name, case, steps):
    """held, peak, kept, growth (bytes above the baseline) of case in this process."""
    lib = __import__(lib_name)
    make, make_small = CASES[case]
    warm = make_small(lib, 'cpu')
    for _ in range(3):
        warm()
    del warm
    gc.collect()
    baseline = _resident()
    step = make(lib, 'cpu')
    for _ in range(3):
        step()
    held = _resident() - baseline
    _reset_high_water_mark()
    for _ in range(3):
        step()
    peak = _resident('VmHWM') - baseline
    before = _resident()
    for _ in range(steps):
        step()
    return held, peak, _kept_by_nbgrad(), _resident() - before


def _worker(lib_name, case, steps):
    """The numbers of one library and case from a fresh process with the malloc tunables."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--worker', lib_name, '--only', case,
         '--steps', str(steps)],
        env={**os.environ, **_MALLOC}, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f'the {lib_name} worker for {case!r} failed:\n{out.stderr}')
    return [int(v) for v in out.stdout.split()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=None,
                        help='steps over which growth is measured (default 1000; 100 --quick)')
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--only', default=None, help='substring of the case names to run')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps = args.steps if args.steps is not None else 100 if args.quick else 1000
    if args.worker:
        print(*_measure(args.worker, args.only, steps))
        return None
    if not os.path.exists('/proc/self/clear_refs'):
        sys.exit('bench_memory.py reads Linux\'s /proc/self/status and clear_refs; this system '
                 'has no /proc/self/clear_refs')
    import nbgrad
    import torch
    print(f'nbgrad {nbgrad.__version__} vs torch {torch.__version__} on cpu, MiB above a warmed-up '
          f'baseline; growth over {steps} steps')
    print(f'{"case":44s} {"held":>13s} {"peak":>13s} {"ratio":>6s} {"kept":>6s} '
          f'{"growth":>13s}')
    print(f'{"":44s} {"torch nbgrad":>13s} {"torch nbgrad":>13s} {"":6s} {"nbgrad":>6s} '
          f'{"torch nbgrad":>13s}')
    rows = []
    for case in CASES:
        if args.only and args.only not in case:
            continue
        (t_held, t_peak, _, t_growth), (n_held, n_peak, kept, n_growth) = (
            _worker(lib_name, case, steps) for lib_name in ('torch', 'nbgrad'))
        rows.append((case, t_peak, n_peak, t_growth, n_growth))
        print(f'{case:44s} {t_held / _MIB:6.1f} {n_held / _MIB:6.1f} {t_peak / _MIB:6.1f} '
              f'{n_peak / _MIB:6.1f} {n_peak / t_peak:6.2f} {kept / _MIB:6.1f} '
              f'{t_growth / _MIB:6.1f} {n_growth / _MIB:6.1f}', flush=True)
    return rows


if __name__ == '__main__':
    main()
