"""nn benchmarks: a training step written the PyTorch way (nn.Sequential, CrossEntropyLoss,
optim.SGD), and the forward + backward of single hot functions (cross_entropy, layer_norm,
pooling, grid_sample, an LSTM), run with lib=torch and lib=nbgrad; ratios below 1 mean
nbgrad is faster. Optimizer steps, convolutions and the other recurrent layers have their own
files (bench_optim.py, bench_conv.py, bench_rnn.py).

    python benchmarks/bench_nn.py [--quick] [--device cuda] [--only MLP]

See harness.py for how the rounds are measured.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from bench_rnn import _recurrent  # noqa: E402


def _training_step(model, loss_fn, optimizer, x, y):
    """One plain training step on a fixed batch: zero_grad, forward, loss, backward, step."""
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return step


def _mlp_step(batch, hidden, mixed=False):
    """A training step of a 784-hidden-hidden-10 MLP; mixed=True: its forward under
    autocast(float16) with a GradScaler, the usual mixed-precision recipe."""
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

        if mixed:
            scaler = lib.amp.GradScaler(device)

            def mixed_step():
                optimizer.zero_grad()
                with lib.autocast(device, dtype=lib.float16):
                    loss = loss_fn(model(x), y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            return mixed_step

        return _training_step(model, loss_fn, optimizer, x, y)
    return make


def _forward_backward(function, *shapes, target=None):
    """make() for function(lib, *inputs[, target]) and its backward from a fixed random output
    gradient (a contiguous one, as a real upstream layer gives: sum()'s expanded gradient sends
    some PyTorch kernels down slow paths), inputs standard normal float32 tensors of the given
    shapes that require grad; target(rng) gives a constant last argument (class indices, a
    sampling grid)."""
    def make(lib, device):
        rng = np.random.default_rng(0)
        inputs = [lib.tensor(rng.standard_normal(shape).astype(np.float32), device=device,
                             requires_grad=True) for shape in shapes]
        extra = [] if target is None else [lib.tensor(target(rng), device=device)]
        with lib.no_grad():
            out_shape = function(lib, *inputs, *extra).shape
        grad = lib.tensor(rng.standard_normal(out_shape).astype(np.float32), device=device)

        def step():
            for x in inputs:
                x.grad = None
            function(lib, *inputs, *extra).backward(grad)
        return step
    return make


def _class_indices(n, classes):
    return lambda rng: rng.integers(0, classes, n)


def _sampling_grid(*shape):
    return lambda rng: rng.uniform(-1.1, 1.1, shape).astype(np.float32)


def _cross_entropy(lib, logits, target):
    return lib.nn.functional.cross_entropy(logits, target)


def _layer_norm(lib, x, weight, bias):
    return lib.nn.functional.layer_norm(x, x.shape[-1:], weight, bias)


def _adaptive_avg_pool(lib, x):
    return lib.nn.functional.adaptive_avg_pool2d(x, 7)


def _adaptive_max_pool(lib, x):
    return lib.nn.functional.adaptive_max_pool2d(x, 7)


def _max_pool(lib, x):  # a ResNet stem's
    return lib.nn.functional.max_pool2d(x, 3, 2, 1)


def _grid_sample(lib, x, grid):
    return lib.nn.functional.grid_sample(x, grid, align_corners=False)


def _cnn_step(batch, size=32):
    """A training step of a small CIFAR-style CNN: two 3x3 conv + ReLU + max-pool stages, a
    linear classifier, CrossEntropyLoss and SGD with momentum (the convolution and pooling paths
    of a first vision model)."""
    def make(lib, device):
        nn = lib.nn
        lib.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * (size // 4) ** 2, 10)).to(device)
        loss_fn = nn.CrossEntropyLoss()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((batch, 3, size, size)).astype(np.float32),
                       device=device)
        y = lib.tensor(rng.integers(0, 10, batch), device=device)

        return _training_step(model, loss_fn, optimizer, x, y)
    return make


def _transformer_step(batch, length, width, layers):
    """A causal Transformer encoder (pre-norm, GELU, AdamW) on a language-model batch: the
    attention, GELU and layer norm paths of a modern model in one training step."""
    def make(lib, device):
        nn = lib.nn
        lib.manual_seed(0)
        layer = nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, batch_first=True,
                                           norm_first=True, activation='gelu')
        model = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False).to(device)
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((batch, length, width)).astype(np.float32),
                       device=device)
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=device)

        def step():
            optimizer.zero_grad()
            model(x, mask=mask, is_causal=True).square().mean().backward()
            optimizer.step()
        return step
    return make


CASES = {
    'MLP step (Sequential+CE+SGD) B32 H128': (_mlp_step(32, 128), 150),
    'MLP step (Sequential+CE+SGD) B1024 H1024': (_mlp_step(1024, 1024), 2),
    'MLP step under autocast(float16) B256 H512': (_mlp_step(256, 512, mixed=True), 2),
    'cross_entropy (1024, 1000) fwd+bwd':
        (_forward_backward(_cross_entropy, (1024, 1000), target=_class_indices(1024, 1000)), 10),
    'layer_norm (64, 128, 512) fwd+bwd':
        (_forward_backward(_layer_norm, (64, 128, 512), (512,), (512,)), 3),
    'adaptive_avg_pool2d 16x64x56x56 -> 7 fwd+bwd':
        (_forward_backward(_adaptive_avg_pool, (16, 64, 56, 56)), 5),
    'adaptive_max_pool2d 16x64x56x56 -> 7 fwd+bwd':
        (_forward_backward(_adaptive_max_pool, (16, 64, 56, 56)), 5),
    'max_pool2d 3x3/2 pad 1 16x64x56x56 fwd+bwd':
        (_forward_backward(_max_pool, (16, 64, 56, 56)), 3),
    'grid_sample bilinear 8x16x64x64, 64x64 grid fwd+bwd':
        (_forward_backward(_grid_sample, (8, 16, 64, 64), target=_sampling_grid(8, 64, 64, 2)),
         5),
    'LSTM 64->128, T=50, B=32, fwd+bwd': (_recurrent('LSTM', 50, 32, 64, 128), 3),
    'Transformer encoder step 2x128, B16 L64': (_transformer_step(16, 64, 128, 2), 2),
    'CNN step (2 conv+pool, CE, SGD) B32 3x32x32': (_cnn_step(32), 3),
}


def main(argv=None):
    return harness.main(__file__, argv)


if __name__ == '__main__':
    main()
