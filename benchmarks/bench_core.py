"""Engine benchmarks (see harness.py for how they are measured):

    python benchmarks/bench_core.py            # all cases
    python benchmarks/bench_core.py --quick    # fewer repeats
    python benchmarks/bench_core.py --device cuda

Every case is one function written once against a module `lib` and run with lib=torch and
lib=nbgrad, so both do exactly the same work. Ratios below 1 mean nbgrad is faster.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


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


# The same work written by hand in NumPy, no autograd (harness.py: the "numpy" column)

def tiny_add_numpy(np_, device):
    x = np_.ones(16, np_.float32)
    y = np_.ones(16, np_.float32)
    return lambda: x + y


def tiny_backward_numpy(np_, device):
    w = np_.ones(16, np_.float32)
    w_grad = np_.zeros(16, np_.float32)

    def step():
        (w * 2 + 1).sum()
        w_grad.__iadd__(np_.ones_like(w) * 2)     # d/dw of sum(2w + 1), accumulated
    return step


def _mlp_numpy(batch, hidden):
    def make(np_, device):
        rng = np_.random.default_rng(0)

        def param(*shape):
            scale = 1.0 / np_.sqrt(shape[0])
            return rng.uniform(-scale, scale, shape).astype(np_.float32)
        params = [param(784, hidden), param(hidden), param(hidden, hidden), param(hidden),
                  param(hidden, 10), param(10)]
        x = rng.standard_normal((batch, 784)).astype(np_.float32)
        y = rng.integers(0, 10, batch)
        rows = np_.arange(batch)
        w1, b1, w2, b2, w3, b3 = params

        def step():
            a1 = x @ w1 + b1
            h1 = np_.maximum(a1, 0)
            a2 = h1 @ w2 + b2
            h2 = np_.maximum(a2, 0)
            logits = h2 @ w3 + b3
            shifted = logits - logits.max(1, keepdims=True)
            exp = np_.exp(shifted)
            total = exp.sum(1, keepdims=True)
            -(shifted - np_.log(total))[rows, y].mean()          # the loss
            g = exp / total                                       # its gradient in the logits
            g[rows, y] -= 1
            g /= batch
            g2 = (g @ w3.T) * (a2 > 0)
            g1 = (g2 @ w2.T) * (a1 > 0)
            grads = [x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g, g.sum(0)]
            for p, grad in zip(params, grads):
                p -= 0.01 * grad
        return step
    return make


PLAIN_NUMPY = {
    'tiny add (16 floats)': tiny_add_numpy,
    'tiny (x*2+1).sum().backward()': tiny_backward_numpy,
    'MLP step 784-128-128-10, B=32': _mlp_numpy(32, 128),
    'MLP step 784-1024-1024-10, B=1024': _mlp_numpy(1024, 1024),
}


# (case, iterations per round): rounds of some 50-100 ms, long against start-up effects
CASES = {
    'tiny add (16 floats)': (tiny_add, 50000),
    'tiny (x*2+1).sum().backward()': (tiny_backward, 3000),
    'MLP step 784-128-128-10, B=32': (_mlp(32, 128), 150),
    'MLP step 784-1024-1024-10, B=1024': (_mlp(1024, 1024), 2),
}

# PERFORMANCE.md's GPU sizes for its MLP targets
CUDA_CASES = {
    'MLP step 784-256-256-10, B=64': (_mlp(64, 256), 150),
    'MLP step 784-4096-4096-10, B=4096': (_mlp(4096, 4096), 20),
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
