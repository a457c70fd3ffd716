"""Optimizer benchmarks: nbgrad / PyTorch time ratios of optimizer.step(), interleaved rounds,
medians (measured by harness.py).

    python benchmarks/bench_optim.py            # all cases
    python benchmarks/bench_optim.py --quick    # fewer repeats
    python benchmarks/bench_optim.py --only Adam
    python benchmarks/bench_optim.py --device cuda

Every case is one function written once against a module `lib` and run with lib=torch and
lib=nbgrad. The gradients are set once; each timed call is one `opt.step()`. PyTorch runs its
default implementation for the device (the for-loop one on the CPU, foreach on CUDA) on its
intra-op threads; nbgrad spreads a big step over min(CPUs, 8) threads (OMP_NUM_THREADS caps both).
Ratios below 1 mean nbgrad is faster. On a small shared machine the PyTorch times swing widely
from run to run (its OpenMP threads suffer most when another process takes a core): run it a few
times and look at the spread.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# 1,000,500 parameters in four tensors: two weight matrices and a vector or two, like a small MLP
LARGE = [(1000, 500), (500, 500), (500, 500), (500,)]
# 100K parameters in six tensors (784-128-10 MLP + extra layer): where per-tensor overhead shows
SMALL = [(784, 120), (120,), (120, 84), (84,), (84, 10), (10,)]
# 100K parameters in 200 tensors: the cost per tensor (launches on CUDA), as in a deep model
MANY = [(32, 30), (30,)] * 100


def _optimizer_case(shapes, name, **options):
    def make(lib, device):
        rng = np.random.default_rng(0)
        params = [lib.tensor(rng.standard_normal(s).astype(np.float32), device=device)
                  .requires_grad_() for s in shapes]
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-2,
                                device=device)
        opt = getattr(lib.optim, name)(params, **options)
        return opt.step
    return make


# (case, steps per round): rounds of some 50-100 ms
CASES = {
    'Adam, 1M params in 4 tensors': (_optimizer_case(LARGE, 'Adam', lr=1e-3), 60),
    'SGD(momentum=0.9), 1M params in 4 tensors':
        (_optimizer_case(LARGE, 'SGD', lr=1e-3, momentum=0.9), 100),
    'AdamW(amsgrad), 1M params in 4 tensors':
        (_optimizer_case(LARGE, 'AdamW', lr=1e-3, amsgrad=True), 50),
    'Adam, 100K params in 6 tensors': (_optimizer_case(SMALL, 'Adam', lr=1e-3), 500),
    'Adam, 100K params in 200 tensors': (_optimizer_case(MANY, 'Adam', lr=1e-3), 20),
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
