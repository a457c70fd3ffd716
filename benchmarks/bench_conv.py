"""Convolution benchmarks: nbgrad / PyTorch time ratios at the sizes of PERFORMANCE.md.

    python benchmarks/bench_conv.py            # all cases
    python benchmarks/bench_conv.py --quick    # fewer repeats
    python benchmarks/bench_conv.py --device cuda

Measured by harness.py (one worker process per library, interleaved rounds, medians). Every case
is written once against a module `lib` and run with lib=torch and lib=nbgrad. Ratios below 1 mean
nbgrad is faster; the CPU target for conv3x3 forward+backward is <= 1.5. The "numpy" column
is the Winograd matrix products alone (see winograd_gemms_numpy): a floor for any NumPy conv.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _conv3x3(backward, batch=32, channels=32, size=32):
    """A 3x3 'same' convolution, channels -> channels, with bias. backward=True: forward, then
    backward from a fixed output gradient into input, weight and bias (a hidden layer)."""
    def make(lib, device):
        rng = np.random.default_rng(0)

        def tensor(*shape):
            return lib.tensor(rng.standard_normal(shape).astype(np.float32), device=device)
        x, w, b = tensor(batch, channels, size, size), tensor(channels, channels, 3, 3), \
            tensor(channels)
        conv2d = lib.nn.functional.conv2d
        if not backward:
            def forward():
                with lib.no_grad():
                    conv2d(x, w, b, padding=1)
            return forward
        grad = tensor(batch, channels, size, size)
        leaves = [t.requires_grad_() for t in (x, w, b)]

        def step():
            conv2d(x, w, b, padding=1).backward(grad)
            for t in leaves:
                t.grad = None
        return step
    return make


# (case, iterations per round): rounds of some 50-100 ms. The first two are PERFORMANCE.md's
# target; the others bracket it: as many multiplications over twice the channels (where
# nbgrad's float32 path uses Winograd kernels too), and a quarter of them over half the channels
# (below the size where Winograd pays, so im2col).
CASES = {
    'conv3x3 N32 C32 K32 32x32, forward': (_conv3x3(False), 8),
    'conv3x3 N32 C32 K32 32x32, fwd+bwd': (_conv3x3(True), 3),
    'conv3x3 N8 C64 K64 32x32, fwd+bwd': (_conv3x3(True, batch=8, channels=64), 3),
    'conv3x3 N32 C16 K16 32x32, fwd+bwd': (_conv3x3(True, channels=16), 10),
}
# PERFORMANCE.md's GPU anchor size
CUDA_CASES = {
    'conv3x3 N128 C64 K64 32x32, forward': (_conv3x3(False, batch=128, channels=64), 50),
    'conv3x3 N128 C64 K64 32x32, fwd+bwd': (_conv3x3(True, batch=128, channels=64), 20),
}


def winograd_gemms_numpy(backward, batch=32, channels=32, size=32):
    """The matrix products alone of a Winograd F(2x2, 3x3) convolution at the case's sizes (16
    GEMMs of (K x C) @ (C x tiles) per pass: forward; with backward also the input gradient's
    and the weight gradient's), on NumPy's BLAS with its own threads, without any of the
    transforms around them. Every algorithm nbgrad could use multiplies at least this much
    (im2col 2.25x more), so this is the floor the "numpy" column shows for these cases."""
    def make(np_, device):
        rng = np_.random.default_rng(0)
        tiles = batch * ((size + 1) // 2 + 1) ** 2
        u = rng.standard_normal((16, channels, channels)).astype(np_.float32)
        d = rng.standard_normal((16, channels, tiles)).astype(np_.float32)
        out = np_.empty((16, channels, tiles), np_.float32)
        gw = np_.empty((16, channels, channels), np_.float32)

        def products():
            np_.matmul(u, d, out=out)                       # forward
            if backward:
                np_.matmul(u, d, out=out)                   # input gradient
                np_.matmul(d, out.swapaxes(1, 2), out=gw)   # weight gradient
        return products
    return make


PLAIN_NUMPY = {name: winograd_gemms_numpy(name.endswith('fwd+bwd'), **sizes)
               for name, sizes in [('conv3x3 N32 C32 K32 32x32, forward', {}),
                                   ('conv3x3 N32 C32 K32 32x32, fwd+bwd', {}),
                                   ('conv3x3 N8 C64 K64 32x32, fwd+bwd',
                                    {'batch': 8, 'channels': 64}),
                                   ('conv3x3 N32 C16 K16 32x32, fwd+bwd', {'channels': 16})]}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
