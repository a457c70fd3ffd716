"""nn benchmarks: a training step written the PyTorch way (nn.Sequential, CrossEntropyLoss,
optim.SGD), run with lib=torch and lib=nbgrad; ratios below 1 mean nbgrad is faster. Optimizer
steps and convolutions have their own files (bench_optim.py, bench_conv.py).

    python benchmarks/bench_nn.py [--quick] [--device cuda] [--only MLP]

See harness.py for how the rounds are measured.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _mlp_step(batch, hidden):
    def make(lib, device):
        nn = lib.nn
        lib.manual_seed(0)
        model = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                              nn.ReLU(), nn.Linear(hidden, 10)).to(device)
        loss_fn = nn.CrossEntropyLoss()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32), device=device)
        y = lib.tensor(rng.integers(0, 10, batch), device=device)

        def step():
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        return step
    return make


CASES = {
    'MLP step (Sequential+CE+SGD) B32 H128': (_mlp_step(32, 128), 150),
    'MLP step (Sequential+CE+SGD) B1024 H1024': (_mlp_step(1024, 1024), 2),
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
