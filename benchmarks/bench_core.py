"""Engine benchmarks: nbgrad / PyTorch time ratios, measured in one process, interleaved, medians.

    python benchmarks/bench_core.py            # all cases
    python benchmarks/bench_core.py --quick    # fewer repeats
    python benchmarks/bench_core.py --device cuda

Every case is one function written once against a module `lib` and run with lib=torch and
lib=nbgrad, so both do exactly the same work. Ratios below 1 mean nbgrad is faster.
"""
import argparse
import statistics
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


CASES = {
    'tiny add (16 floats)': (tiny_add, 2000),
    'tiny (x*2+1).sum().backward()': (tiny_backward, 300),
    'MLP step 784-128-128-10, B=32': (_mlp(32, 128), 30),
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--only', default=None, help='substring of the case names to run')
    args = parser.parse_args(argv)
    import torch
    import nbgrad
    repeats = 5 if args.quick else args.repeats
    print(f'nbgrad {nbgrad.__version__} vs torch {torch.__version__} on {args.device}, '
          f'{torch.get_num_threads()} torch threads, median of {repeats} interleaved rounds')
    print(f'{"case":40s} {"torch":>12s} {"nbgrad":>12s} {"ratio":>7s}')
    rows = []
    for name, (make, number) in CASES.items():
        if args.only and args.only not in name:
            continue
        runs = {lib: measure(make, lib, args.device, number) for lib in (torch, nbgrad)}
        times = {torch: [], nbgrad: []}
        for _ in range(repeats):
            for lib in (torch, nbgrad):
                times[lib].append(runs[lib]())
        t_torch, t_nb = statistics.median(times[torch]), statistics.median(times[nbgrad])
        rows.append((name, t_torch, t_nb))
        print(f'{name:40s} {_fmt(t_torch):>12s} {_fmt(t_nb):>12s} {t_nb / t_torch:7.2f}')
        sys.stdout.flush()
    return rows


def _fmt(seconds):
    if seconds < 1e-3:
        return f'{seconds * 1e6:.1f} us'
    return f'{seconds * 1e3:.2f} ms'


if __name__ == '__main__':
    main()
