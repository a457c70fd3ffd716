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


# The same steps written by hand in NumPy (harness.py: the "numpy" column): Adam as fast as we
# know how to write it in NumPy, SGD one whole-array ufunc after another on one thread

def _plain_state(np_, shapes):
    rng = np_.random.default_rng(0)
    params = [rng.standard_normal(s).astype(np_.float32) for s in shapes]
    grads = [(rng.standard_normal(p.shape) * 1e-2).astype(np_.float32) for p in params]
    return params, grads


def adam_numpy(np_, device, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam's arithmetic in the fewest NumPy passes we know (twelve in-place ufunc calls per
    element, no temporaries), each parameter's halves on two threads, as PyTorch uses both
    cores: what any NumPy engine can at best reach."""
    from concurrent.futures import ThreadPoolExecutor
    params, grads = _plain_state(np_, LARGE)
    halves = []
    for p, g in zip(params, grads):
        arrays = [a.reshape(-1) for a in (p, g, np_.zeros_like(p), np_.zeros_like(p),
                                          np_.empty_like(p), np_.empty_like(p))]
        cut = p.size // 2
        halves += [[a[:cut] for a in arrays], [a[cut:] for a in arrays]]
    pool, steps = ThreadPoolExecutor(1), [0]

    def update(p, g, m, v, t0, t1, step_size, bias_correction2_sqrt):
        np_.subtract(g, m, out=t1)
        t1 *= 1 - beta1
        m += t1
        v *= beta2
        np_.multiply(g, 1 - beta2, out=t1)
        t1 *= g
        v += t1
        np_.sqrt(v, out=t1)
        t1 += eps * bias_correction2_sqrt
        np_.multiply(m, -step_size * bias_correction2_sqrt, out=t0)
        t0 /= t1
        p += t0

    def run(parts, *scalars):
        for arrays in parts:
            update(*arrays, *scalars)

    def step():
        steps[0] += 1
        scalars = lr / (1 - beta1 ** steps[0]), (1 - beta2 ** steps[0]) ** 0.5
        other = pool.submit(run, halves[1::2], *scalars)
        run(halves[0::2], *scalars)
        other.result()
    return step


def sgd_momentum_numpy(np_, device, lr=1e-3, momentum=0.9):
    params, grads = _plain_state(np_, LARGE)
    buffers = [None] * len(params)

    def step():
        for i, (p, g) in enumerate(zip(params, grads)):
            if buffers[i] is None:
                buffers[i] = g.copy()
            else:
                buffers[i] *= momentum
                buffers[i] += g
            p -= lr * buffers[i]
    return step


PLAIN_NUMPY = {
    'Adam, 1M params in 4 tensors': adam_numpy,
    'SGD(momentum=0.9), 1M params in 4 tensors': sgd_momentum_numpy,
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
