"""Engine benchmarks: nbgrad / PyTorch time ratios, interleaved rounds, medians.

    python benchmarks/bench_core.py            # all cases
    python benchmarks/bench_core.py --quick    # fewer repeats
    python benchmarks/bench_core.py --device cuda
    python benchmarks/bench_core.py --same-process

Every case is one function written once against a module `lib` and run with lib=torch and
lib=nbgrad, so both do exactly the same work. Ratios below 1 mean nbgrad is faster.

By default each library runs in its own worker process and the parent alternates rounds between
them (same machine, same moments, medians over rounds). With both in one process (--same-process)
PyTorch's OpenMP threads and NumPy's OpenBLAS threads spin-wait against each other on a small
machine: measured here, PyTorch's small-MLP step took 242 us alone but 530-1270 us next to NumPy,
depending on OMP_WAIT_POLICY, which says more about thread pools than about either library.
Separate processes still compete for the cores while the threads of the one that just finished
spin-wait, so each round starts after a short idle gap (--gap).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def _sync(lib, device):
    if device == 'cuda':
        lib.cuda.synchronize()


def tiny_add(lib, device):
    x = lib.ones(16, device=device)
    y = lib.ones(16, device=device)
    return lambda: x + y


def tiny_backward(lib, device):
    w = lib.ones(16, device=device, requires_grad=True)

    def step():
        (w * 2 + 1).sum().backward()
    return step


def _mlp(batch, hidden):
    def make(lib, device):
        rng = np.random.default_rng(0)

        def param(*shape):
            scale = 1.0 / np.sqrt(shape[0])
            return lib.tensor(rng.uniform(-scale, scale, shape).astype(np.float32),
                              device=device).requires_grad_()
        params = [param(784, hidden), param(hidden), param(hidden, hidden), param(hidden),
                  param(hidden, 10), param(10)]
        x = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32), device=device)
        y = lib.tensor(rng.integers(0, 10, (batch, 1)), device=device)
        w1, b1, w2, b2, w3, b3 = params

        def step():
            h = (x @ w1 + b1).relu()
            h = (h @ w2 + b2).relu()
            logits = h @ w3 + b3
            loss = -logits.log_softmax(1).gather(1, y).mean()
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 0.01 * p.grad
                    p.grad = None
        return step
    return make


# (case, iterations per round): rounds of some 50-100 ms, long against start-up effects
CASES = {
    'tiny add (16 floats)': (tiny_add, 50000),
    'tiny (x*2+1).sum().backward()': (tiny_backward, 3000),
    'MLP step 784-128-128-10, B=32': (_mlp(32, 128), 150),
    'MLP step 784-1024-1024-10, B=1024': (_mlp(1024, 1024), 2),
}


def measure(make, lib, device, number):
    fn = make(lib, device)
    fn()  # warm-up (allocations, lazy imports)
    _sync(lib, device)

    def run():
        start = time.perf_counter()
        for _ in range(number):
            fn()
        _sync(lib, device)
        return (time.perf_counter() - start) / number
    return run


class _InProcess:
    """Both libraries in this process."""

    def __init__(self, lib_name, device):
        self.lib = __import__(lib_name)
        self.device = device
        self.rounds = {}

    def prepare(self, name):
        make, number = CASES[name]
        self.rounds[name] = measure(make, self.lib, self.device, number)

    def round(self, name):
        return self.rounds[name]()

    def version(self):
        return self.lib.__version__

    def close(self):
        pass


class _Worker:
    """One library in a worker process (see the module docstring), driven over a pipe."""

    def __init__(self, lib_name, device):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '--worker', lib_name, '--device', device],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def _ask(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply:
            raise RuntimeError(f'benchmark worker died while answering {line!r}')
        return reply

    def prepare(self, name):
        self._ask(f'prepare {name}')

    def round(self, name):
        return float(self._ask(f'round {name}'))

    def version(self):
        return self._ask('version')

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def _serve(lib_name, device):
    """Worker loop: prepare/round/version requests on stdin, one answer per line."""
    runner = _InProcess(lib_name, device)
    for line in sys.stdin:
        command, _, name = line.strip().partition(' ')
        if command == 'prepare':
            runner.prepare(name)
            print('ok', flush=True)
        elif command == 'round':
            print(repr(runner.round(name)), flush=True)
        elif command == 'version':
            print(runner.version(), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--only', default=None, help='substring of the case names to run')
    parser.add_argument('--same-process', action='store_true',
                        help='run both libraries in this process (see the module docstring)')
    parser.add_argument('--gap', type=float, default=0.3,
                        help='seconds of idle time before each round (thread pools spin-wait '
                             'for a while after work; this keeps one library\'s spinning from '
                             'slowing the other)')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _serve(args.worker, args.device)
    runner = _InProcess if args.same_process else _Worker
    libs = {'torch': runner('torch', args.device), 'nbgrad': runner('nbgrad', args.device)}
    repeats = 5 if args.quick else args.repeats
    where = 'one process' if args.same_process else 'one worker process each'
    print(f'nbgrad {libs["nbgrad"].version()} vs torch {libs["torch"].version()} on '
          f'{args.device} ({where}), median of {repeats} interleaved rounds')
    print(f'{"case":40s} {"torch":>12s} {"nbgrad":>12s} {"ratio":>7s}')
    rows = []
    try:
        for name in CASES:
            if args.only and args.only not in name:
                continue
            for runner_ in libs.values():
                runner_.prepare(name)
            times = {'torch': [], 'nbgrad': []}
            for _ in range(repeats):
                for lib_name, runner_ in libs.items():
                    time.sleep(args.gap)  # let the other library's spinning threads go to sleep
                    times[lib_name].append(runner_.round(name))
            t_torch, t_nb = statistics.median(times['torch']), statistics.median(times['nbgrad'])
            rows.append((name, t_torch, t_nb))
            print(f'{name:40s} {_fmt(t_torch):>12s} {_fmt(t_nb):>12s} {t_nb / t_torch:7.2f}')
            sys.stdout.flush()
    finally:
        for runner_ in libs.values():
            runner_.close()
    return rows


def _fmt(seconds):
    if seconds < 1e-3:
        return f'{seconds * 1e6:.1f} us'
    return f'{seconds * 1e3:.2f} ms'


if __name__ == '__main__':
    main()
