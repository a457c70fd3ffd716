"""Sparse COO benchmarks: nbgrad / PyTorch time ratios (measured by harness.py).

    python benchmarks/bench_sparse.py [--quick] [--device cuda] [--only spmm]

- coalesce: 200,000 entries with repeats over a 10,000 x 10,000 matrix.
- spmm: a 4,096 x 4,096 sparse matrix with 40,000 entries times a dense 4,096 x 64 matrix,
  forward and the dense operand's gradient (a graph convolution's product).
- embedding step: nn.Embedding(100,000, 64, sparse=True), a batch of 4,096 indices, the loss's
  backward and an optim.SparseAdam step (only the looked-up rows change).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _coalesce(lib, device):
    rng = np.random.default_rng(0)
    indices = lib.tensor(rng.integers(0, 10_000, (2, 200_000)), device=device)
    values = lib.tensor(rng.standard_normal(200_000).astype(np.float32), device=device)
    s = lib.sparse_coo_tensor(indices, values, (10_000, 10_000))

    def run():
        s.coalesce()
    return run


def _spmm(lib, device):
    rng = np.random.default_rng(0)
    indices = lib.tensor(rng.integers(0, 4096, (2, 40_000)), device=device)
    values = lib.tensor(rng.standard_normal(40_000).astype(np.float32), device=device)
    a = lib.sparse_coo_tensor(indices, values, (4096, 4096)).coalesce()
    x = lib.tensor(rng.standard_normal((4096, 64)).astype(np.float32), device=device,
                   requires_grad=True)

    def run():
        x.grad = None
        lib.sparse.mm(a, x).sum().backward()
    return run


def _embedding_step(lib, device):
    lib.manual_seed(0)
    emb = lib.nn.Embedding(100_000, 64, sparse=True).to(device)
    opt = lib.optim.SparseAdam(emb.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    index = lib.tensor(rng.integers(0, 100_000, 4096), device=device)

    def run():
        opt.zero_grad()
        emb(index).pow(2).mean().backward()
        opt.step()
    return run


CASES = {
    'coalesce 200k entries': (_coalesce, 3),
    'spmm 4096x4096 (40k nnz) @ 4096x64, fwd+bwd': (_spmm, 5),
    'Embedding(100k, 64, sparse=True) + SparseAdam step, B4096': (_embedding_step, 5),
}

if __name__ == '__main__':
    harness.main(__file__)
