"""The profiler's cost (issue 5): one training step of a small MLP, timed three ways, each as an
nbgrad / PyTorch ratio (measured by harness.py):

    never profiled        the baseline
    after profiling       the same step after a profile() session and a GraphView-style gradient
                          watch have come and gone: profiling off must cost nothing (compare
                          nbgrad's time with its baseline: the ratio of the two is the overhead
                          left behind, which should be within noise)
    under profile()       the step recorded by the op profiler; (this - baseline) / events per
                          step is the per-event cost, printed below the table for both libraries

    python benchmarks/bench_profiler.py [--quick]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _mlp_step(lib):
    rng = np.random.default_rng(0)
    model = lib.nn.Sequential(lib.nn.Linear(64, 128), lib.nn.ReLU(), lib.nn.Linear(128, 10))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
    x = lib.tensor(rng.standard_normal((32, 64)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 32))

    def step():
        optimizer.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model, step


def _never(lib, device):
    return _mlp_step(lib)[1]


def _after(lib, device):
    model, step = _mlp_step(lib)
    with lib.profiler.profile():
        step()
    if lib.__name__ == 'nbgrad':
        # the hooks GraphView puts on a graph, gone after its first full backward
        from nbgrad.autograd.graph_export import watch_gradients
        loss = lib.nn.functional.cross_entropy(model(lib.randn(4, 64)), lib.zeros(4).long())
        watch_gradients(loss, once=True)
        loss.backward()
    return step


def _under(lib, device):
    step = _mlp_step(lib)[1]

    def run():
        with lib.profiler.profile():
            step()
    return run


def events_per_step(lib):
    step = _mlp_step(lib)[1]
    step()
    with lib.profiler.profile() as prof:
        step()
    return len(prof.events())


CASES = {
    'MLP step, never profiled': (_never, 200),
    'MLP step, after profiling (off)': (_after, 200),
    'MLP step under profile()': (_under, 50),
}

if __name__ == '__main__':
    harness.main(__file__)
    import nbgrad
    import torch
    print(f'events per step: nbgrad {events_per_step(nbgrad)}, torch {events_per_step(torch)} '
          f'(per-event cost = (under - never) / events)')
