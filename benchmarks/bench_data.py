"""DataLoader benchmarks: nbgrad / PyTorch time ratios of one epoch over a 60,000 x 784 float32
TensorDataset (MNIST-sized) with batch_size=128, shuffle=True (measured by harness.py).

    python benchmarks/bench_data.py            # all cases
    python benchmarks/bench_data.py --quick    # fewer repeats
    python benchmarks/bench_data.py --only workers

Each timed call is one full epoch: a fresh iterator (a new permutation, and with workers new
processes, as without persistent_workers), every batch fetched. With num_workers=0 nbgrad gathers
each batch with one fancy-indexing per tensor; PyTorch indexes sample by sample and stacks.
With num_workers=2 both send every batch from a worker process to this one (PyTorch through
shared memory, nbgrad through a pipe); on a 2-core machine the workers compete with the main
process, so read that figure as a measurement, not a target.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _epoch(num_workers):
    def make(lib, device):
        rng = np.random.default_rng(0)
        images = lib.tensor(rng.standard_normal((60000, 784)).astype(np.float32))
        labels = lib.tensor(rng.integers(0, 10, 60000))
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(images, labels),
                                           batch_size=128, shuffle=True,
                                           num_workers=num_workers)

        def run():
            for x, y in loader:
                pass
        return run
    return make


CASES = {
    'epoch 60000x784 B128 shuffle, num_workers=0': (_epoch(0), 1),
    'epoch 60000x784 B128 shuffle, num_workers=2 (workers)': (_epoch(2), 1),
}

if __name__ == '__main__':
    harness.main(__file__)
