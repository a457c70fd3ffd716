"""Recurrent layer benchmarks (see harness.py for how they are measured):

    python benchmarks/bench_rnn.py            # all cases
    python benchmarks/bench_rnn.py --quick    # fewer repeats
    python benchmarks/bench_rnn.py --device cuda

Each case is written once against `lib` and run with lib=torch and lib=nbgrad. PyTorch runs its
fused C++ loop (oneDNN on the CPU, cuDNN on CUDA); nbgrad one GEMM per layer and direction for the
inputs, then a Python loop over time of one GEMM and one fused pointwise node per step. Ratios below
1 mean nbgrad is faster.
"""
import importlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _recurrent(cls, seq, batch, features, hidden, train=True, packed=False, **kwargs):
    def make(lib, device):
        # nn exports the layers once the lead registers rnn.py; until then take them from the file
        module = lib.nn if hasattr(lib.nn, cls) else \
            importlib.import_module('nbgrad.nn.modules.rnn')
        lib.manual_seed(0)
        layer = getattr(module, cls)(features, hidden, **kwargs).to(device)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((seq, batch, features)).astype(np.float32),
                       device=device)
        lengths = sorted(rng.integers(1, seq + 1, batch), reverse=True)
        lengths[0] = seq

        def inputs():
            if packed:
                return lib.nn.utils.rnn.pack_padded_sequence(x, lengths)
            return x

        def step():
            out, _ = layer(inputs())
            (out.data if packed else out).sum().backward()

        def infer():
            with lib.no_grad():
                layer(inputs())
        return step if train else infer
    return make


# (case, calls per round): rounds of some 50-200 ms on two CPU cores
CASES = {
    'LSTM 64->128, T=50, B=32, fwd+bwd': (_recurrent('LSTM', 50, 32, 64, 128), 3),
    'GRU 2 layers bidir 32->64, T=20, B=16, fwd+bwd':
        (_recurrent('GRU', 20, 16, 32, 64, num_layers=2, bidirectional=True), 3),
    'LSTM packed 32->64, T=30, B=16, fwd+bwd':
        (_recurrent('LSTM', 30, 16, 32, 64, packed=True), 5),
    'LSTM 32->64, T=100, B=1, no_grad': (_recurrent('LSTM', 100, 1, 32, 64, train=False), 10),
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
