"""The nn.functional op table: every differentiable function of torch.nn.functional, with small
float64 inputs, is (1) gradchecked and (2) compared with PyTorch, forward and backward.

The subject files (test_nn_activation.py, test_nn_loss.py, test_nn_conv.py...) test each family in
depth; this table guarantees that no differentiable function is left out of either check. A row
is (fn(F, *tensors), shapes of the differentiable inputs, extra inputs made from a NumPy
generator); each function appears once, with arguments that exercise its main options.
"""
import numpy as np
import pytest

import nbgrad
from nbgrad.autograd import gradcheck

torch = pytest.importorskip('torch')


def _distinct(*shape):
    """Distinct values (no ties for max/sort-like ops), spread over [-2, 2]."""
    n = int(np.prod(shape))
    return (np.random.default_rng(n).permutation(n) / max(n - 1, 1) * 4 - 2).reshape(shape)


def _probs(*shape):
    return np.random.default_rng(1).uniform(0.1, 0.9, shape)


def _positive(*shape):
    return np.random.default_rng(2).uniform(0.5, 2.0, shape)


def _classes(n, c):
    return np.random.default_rng(3).integers(0, c, n)


def _signs(n):
    return np.where(np.random.default_rng(4).random(n) < 0.5, -1.0, 1.0)


# name: (call(F, lib, *tensors), [input arrays that require grad], {constant arrays})
ROWS = {
    # -- activations
    'relu': (lambda F, lib, x: F.relu(x), [_distinct(3, 4)]),
    'relu6': (lambda F, lib, x: F.relu6(x * 4), [_distinct(3, 4)]),
    'elu': (lambda F, lib, x: F.elu(x, alpha=0.7), [_distinct(3, 4)]),
    'selu': (lambda F, lib, x: F.selu(x), [_distinct(3, 4)]),
    'celu': (lambda F, lib, x: F.celu(x, alpha=1.3), [_distinct(3, 4)]),
    'leaky_relu': (lambda F, lib, x: F.leaky_relu(x, 0.2), [_distinct(3, 4)]),
    'prelu': (lambda F, lib, x, w: F.prelu(x, w), [_distinct(2, 3, 4), _positive(3) * 0.2]),
    'glu': (lambda F, lib, x: F.glu(x, -1), [_distinct(3, 4)]),
    'gelu': (lambda F, lib, x: F.gelu(x), [_distinct(3, 4)]),
    'gelu_tanh': (lambda F, lib, x: F.gelu(x, approximate='tanh'), [_distinct(3, 4)]),
    'logsigmoid': (lambda F, lib, x: F.logsigmoid(x), [_distinct(3, 4)]),
    'hardshrink': (lambda F, lib, x: F.hardshrink(x, 0.3), [_distinct(3, 4)]),
    'tanhshrink': (lambda F, lib, x: F.tanhshrink(x), [_distinct(3, 4)]),
    'softsign': (lambda F, lib, x: F.softsign(x), [_distinct(3, 4)]),
    'softplus': (lambda F, lib, x: F.softplus(x, beta=2, threshold=3), [_distinct(3, 4)]),
    'softmin': (lambda F, lib, x: F.softmin(x, dim=1), [_distinct(3, 4)]),
    'softmax': (lambda F, lib, x: F.softmax(x, dim=0), [_distinct(3, 4)]),
    'log_softmax': (lambda F, lib, x: F.log_softmax(x, dim=1), [_distinct(3, 4)]),
    'softshrink': (lambda F, lib, x: F.softshrink(x, 0.3), [_distinct(3, 4)]),
    'tanh': (lambda F, lib, x: F.tanh(x), [_distinct(3, 4)]),
    'sigmoid': (lambda F, lib, x: F.sigmoid(x), [_distinct(3, 4)]),
    'hardsigmoid': (lambda F, lib, x: F.hardsigmoid(x * 2), [_distinct(3, 4)]),
    'silu': (lambda F, lib, x: F.silu(x), [_distinct(3, 4)]),
    'mish': (lambda F, lib, x: F.mish(x), [_distinct(3, 4)]),
    'hardswish': (lambda F, lib, x: F.hardswish(x * 2), [_distinct(3, 4)]),
    'hardtanh': (lambda F, lib, x: F.hardtanh(x, -0.5, 1.2), [_distinct(3, 4)]),
    'threshold': (lambda F, lib, x: F.threshold(x, 0.1, -3.0), [_distinct(3, 4)]),
    # -- linear and distances
    'linear': (lambda F, lib, x, w, b: F.linear(x, w, b), [_distinct(2, 3, 4), _distinct(5, 4),
                                                            _distinct(5)]),
    'bilinear': (lambda F, lib, a, b, w: F.bilinear(a, b, w), [_distinct(3, 2), _distinct(3, 4),
                                                                _distinct(5, 2, 4)]),
    'cosine_similarity': (lambda F, lib, a, b: F.cosine_similarity(a, b, dim=1),
                          [_distinct(3, 4), _positive(3, 4)]),
    'pairwise_distance': (lambda F, lib, a, b: F.pairwise_distance(a, b, p=3),
                          [_distinct(3, 4), _positive(3, 4)]),
    'pdist': (lambda F, lib, x: F.pdist(x, p=2), [_distinct(4, 3)]),
    'normalize': (lambda F, lib, x: F.normalize(x, p=2, dim=1), [_distinct(3, 4)]),
    # -- convolution, folding, padding
    'conv1d': (lambda F, lib, x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
               [_distinct(2, 3, 7), _distinct(4, 3, 3), _distinct(4)]),
    'conv2d': (lambda F, lib, x, w: F.conv2d(x, w, padding='same', dilation=2, groups=2),
               [_distinct(1, 4, 5, 5), _distinct(4, 2, 3, 3)]),
    'conv3d': (lambda F, lib, x, w: F.conv3d(x, w, stride=(1, 2, 1)),
               [_distinct(1, 2, 4, 5, 4), _distinct(3, 2, 2, 2, 2)]),
    'conv_transpose1d': (lambda F, lib, x, w: F.conv_transpose1d(x, w, stride=2,
                                                                 output_padding=1),
                         [_distinct(2, 3, 4), _distinct(3, 2, 3)]),
    'conv_transpose2d': (lambda F, lib, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                    groups=2),
                         [_distinct(1, 4, 3, 3), _distinct(4, 1, 3, 3), _distinct(2)]),
    'conv_transpose3d': (lambda F, lib, x, w: F.conv_transpose3d(x, w),
                         [_distinct(1, 2, 2, 3, 2), _distinct(2, 2, 2, 2, 2)]),
    'unfold': (lambda F, lib, x: F.unfold(x, 2, stride=1, padding=1), [_distinct(1, 2, 3, 3)]),
    'fold': (lambda F, lib, x: F.fold(x, (3, 3), 2), [_distinct(1, 8, 4)]),
    'pad_reflect': (lambda F, lib, x: F.pad(x, (2, 1, 1, 0), mode='reflect'),
                    [_distinct(1, 2, 3, 4)]),
    'pad_replicate': (lambda F, lib, x: F.pad(x, (1, 2), mode='replicate'), [_distinct(2, 2, 3)]),
    'pad_circular': (lambda F, lib, x: F.pad(x, (1, 1, 2, 0), mode='circular'),
                     [_distinct(1, 1, 3, 3)]),
    'pad_constant': (lambda F, lib, x: F.pad(x, (1, -1, 0, 2), value=0.5), [_distinct(2, 3, 4)]),
    # -- pooling and resampling
    'max_pool1d': (lambda F, lib, x: F.max_pool1d(x, 3, 2, padding=1), [_distinct(2, 2, 7)]),
    'max_pool2d': (lambda F, lib, x: F.max_pool2d(x, 2, ceil_mode=True), [_distinct(1, 2, 5, 5)]),
    'max_pool3d': (lambda F, lib, x: F.max_pool3d(x, 2, dilation=(1, 1, 2)),
                   [_distinct(1, 1, 4, 4, 6)]),
    'avg_pool1d': (lambda F, lib, x: F.avg_pool1d(x, 3, 2, padding=1, count_include_pad=False),
                   [_distinct(2, 2, 7)]),
    'avg_pool2d': (lambda F, lib, x: F.avg_pool2d(x, 3, 2, ceil_mode=True), [_distinct(1, 2, 6, 6)]),
    'avg_pool3d': (lambda F, lib, x: F.avg_pool3d(x, 2, divisor_override=3),
                   [_distinct(1, 1, 4, 4, 4)]),
    'adaptive_avg_pool1d': (lambda F, lib, x: F.adaptive_avg_pool1d(x, 3), [_distinct(2, 2, 7)]),
    'adaptive_avg_pool2d': (lambda F, lib, x: F.adaptive_avg_pool2d(x, (3, 2)),
                            [_distinct(1, 2, 5, 7)]),
    'adaptive_avg_pool3d': (lambda F, lib, x: F.adaptive_avg_pool3d(x, 2),
                            [_distinct(1, 1, 3, 4, 5)]),
    'adaptive_max_pool1d': (lambda F, lib, x: F.adaptive_max_pool1d(x, 3), [_distinct(2, 2, 7)]),
    'adaptive_max_pool2d': (lambda F, lib, x: F.adaptive_max_pool2d(x, (2, 3)),
                            [_distinct(1, 2, 5, 7)]),
    'adaptive_max_pool3d': (lambda F, lib, x: F.adaptive_max_pool3d(x, 2),
                            [_distinct(1, 1, 3, 4, 5)]),
    'lp_pool1d': (lambda F, lib, x: F.lp_pool1d(x, 2, 3), [_positive(2, 2, 7)]),
    'lp_pool2d': (lambda F, lib, x: F.lp_pool2d(x, 3, 2), [_positive(1, 2, 4, 4)]),
    'lp_pool3d': (lambda F, lib, x: F.lp_pool3d(x, 2, 2), [_positive(1, 1, 4, 4, 4)]),
    'max_unpool2d': (lambda F, lib, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True),
                                                      2), [_distinct(1, 2, 4, 4)]),
    'interpolate_bilinear': (lambda F, lib, x: F.interpolate(x, scale_factor=1.5, mode='bilinear',
                                                             align_corners=False),
                             [_distinct(1, 2, 3, 4)]),
    'interpolate_bicubic': (lambda F, lib, x: F.interpolate(x, size=(5, 3), mode='bicubic',
                                                            align_corners=True),
                            [_distinct(1, 1, 4, 4)]),
    'interpolate_trilinear': (lambda F, lib, x: F.interpolate(x, size=(3, 4, 2),
                                                              mode='trilinear'),
                              [_distinct(1, 1, 2, 3, 3)]),
    'interpolate_linear': (lambda F, lib, x: F.interpolate(x, size=7, mode='linear'),
                           [_distinct(2, 2, 4)]),
    'interpolate_nearest': (lambda F, lib, x: F.interpolate(x, scale_factor=2), [_distinct(1, 2, 3)]),
    'interpolate_area': (lambda F, lib, x: F.interpolate(x, size=(2, 3), mode='area'),
                         [_distinct(1, 2, 5, 7)]),
    'grid_sample': (lambda F, lib, x, g: F.grid_sample(x, g, align_corners=False),
                    [_distinct(1, 2, 3, 4), _distinct(1, 2, 3, 2) * 0.45]),
    'affine_grid': (lambda F, lib, theta: F.affine_grid(theta, [1, 1, 3, 4], align_corners=False),
                    [_distinct(1, 2, 3)]),
    'pixel_shuffle': (lambda F, lib, x: F.pixel_shuffle(x, 2), [_distinct(1, 8, 2, 3)]),
    'pixel_unshuffle': (lambda F, lib, x: F.pixel_unshuffle(x, 2), [_distinct(1, 2, 4, 2)]),
    'channel_shuffle': (lambda F, lib, x: F.channel_shuffle(x, 2), [_distinct(1, 4, 2, 2)]),
    # -- normalization and embeddings
    'batch_norm': (lambda F, lib, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   [_distinct(4, 3, 2), _positive(3), _distinct(3)]),
    'instance_norm': (lambda F, lib, x, w, b: F.instance_norm(x, weight=w, bias=b),
                      [_distinct(2, 3, 5), _positive(3), _distinct(3)]),
    'layer_norm': (lambda F, lib, x, w, b: F.layer_norm(x, (3, 4), w, b),
                   [_distinct(2, 3, 4), _positive(3, 4), _distinct(3, 4)]),
    'group_norm': (lambda F, lib, x, w, b: F.group_norm(x, 2, w, b),
                   [_distinct(2, 4, 3), _positive(4), _distinct(4)]),
    'rms_norm': (lambda F, lib, x, w: F.rms_norm(x, (4,), w), [_distinct(3, 4), _positive(4)]),
    'local_response_norm': (lambda F, lib, x: F.local_response_norm(x, 3),
                            [_distinct(2, 5, 3)]),
    'embedding': (lambda F, lib, w: F.embedding(lib.tensor([[0, 2], [3, 2]]), w),
                  [_distinct(4, 3)]),
    'embedding_bag': (lambda F, lib, w, s: F.embedding_bag(
        lib.tensor([1, 2, 0, 3, 3]), w, lib.tensor([0, 2]), mode='sum', per_sample_weights=s),
        [_distinct(4, 3), _positive(5)]),
    # -- attention
    'scaled_dot_product_attention': (lambda F, lib, q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True), [_distinct(1, 2, 3, 4), _positive(1, 2, 3, 4),
                                   _distinct(1, 2, 3, 4)]),
    # -- losses
    'l1_loss': (lambda F, lib, x, y: F.l1_loss(x, y), [_distinct(3, 4), _positive(3, 4)]),
    'mse_loss': (lambda F, lib, x, y: F.mse_loss(x, y, reduction='sum'),
                 [_distinct(3, 4), _positive(3, 4)]),
    'smooth_l1_loss': (lambda F, lib, x, y: F.smooth_l1_loss(x, y, beta=0.5),
                       [_distinct(3, 4), _positive(3, 4)]),
    'huber_loss': (lambda F, lib, x, y: F.huber_loss(x, y, delta=0.7),
                   [_distinct(3, 4), _positive(3, 4)]),
    'cross_entropy': (lambda F, lib, x: F.cross_entropy(
        x, lib.tensor(_classes(4, 3)), lib.tensor(_positive(3)), label_smoothing=0.1),
        [_distinct(4, 3)]),
    'cross_entropy_probs': (lambda F, lib, x, p: F.cross_entropy(x, p.softmax(1)),
                            [_distinct(4, 3), _distinct(4, 3)]),
    'nll_loss': (lambda F, lib, x: F.nll_loss(x, lib.tensor(_classes(3, 4)), ignore_index=1),
                 [_distinct(3, 4)]),
    'binary_cross_entropy': (lambda F, lib, x, y: F.binary_cross_entropy(x, y),
                             [_probs(3, 4), _probs(3, 4)]),
    'binary_cross_entropy_with_logits': (
        lambda F, lib, x, y: F.binary_cross_entropy_with_logits(
            x, y, pos_weight=lib.tensor(_positive(4))), [_distinct(3, 4), _probs(3, 4)]),
    'kl_div': (lambda F, lib, x, y: F.kl_div(x, y, reduction='batchmean', log_target=True),
               [_distinct(3, 4), _distinct(3, 4)]),
    'poisson_nll_loss': (lambda F, lib, x, y: F.poisson_nll_loss(x, y, full=True),
                         [_distinct(3, 4), _positive(3, 4)]),
    'gaussian_nll_loss': (lambda F, lib, x, y, v: F.gaussian_nll_loss(x, y, v, full=True),
                          [_distinct(3, 4), _distinct(3, 4), _positive(3, 4)]),
    'cosine_embedding_loss': (lambda F, lib, a, b: F.cosine_embedding_loss(
        a, b, lib.tensor(_signs(3)), margin=0.1), [_distinct(3, 4), _positive(3, 4)]),
    'margin_ranking_loss': (lambda F, lib, a, b: F.margin_ranking_loss(
        a, b, lib.tensor(_signs(5)), margin=0.2), [_distinct(5), _positive(5)]),
    'hinge_embedding_loss': (lambda F, lib, x: F.hinge_embedding_loss(
        x, lib.tensor(_signs(5)), margin=1.5), [_distinct(5)]),
    'soft_margin_loss': (lambda F, lib, x: F.soft_margin_loss(x, lib.tensor(_signs(6))),
                         [_distinct(6)]),
    'multilabel_soft_margin_loss': (lambda F, lib, x, y: F.multilabel_soft_margin_loss(x, y),
                                    [_distinct(3, 4), _probs(3, 4)]),
    'multi_margin_loss': (lambda F, lib, x: F.multi_margin_loss(
        x, lib.tensor(_classes(3, 4)), p=2, margin=0.5), [_distinct(3, 4)]),
    'multilabel_margin_loss': (lambda F, lib, x: F.multilabel_margin_loss(
        x, lib.tensor([[3, 0, -1, 1], [1, 2, 3, -1]])), [_distinct(2, 4)]),
    'triplet_margin_loss': (lambda F, lib, a, p, n: F.triplet_margin_loss(a, p, n, swap=True),
                            [_distinct(3, 4), _positive(3, 4), _probs(3, 4)]),
    'triplet_margin_with_distance_loss': (
        lambda F, lib, a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: (x - y).abs().sum(-1), margin=0.5),
        [_distinct(3, 4), _positive(3, 4), _probs(3, 4)]),
    'ctc_loss': (lambda F, lib, x: F.ctc_loss(
        x.log_softmax(2), lib.tensor([[1, 2], [2, 2]]), lib.tensor([5, 4]), lib.tensor([2, 1])),
        [_distinct(5, 2, 3)]),
}

# Random, in-place, non-differentiable or deprecated-alias functions, tested in their own files
NOT_IN_TABLE = {
    'dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout',
    'rrelu', 'gumbel_softmax', 'one_hot', 'multi_head_attention_forward', 'native_channel_shuffle',
    'upsample', 'upsample_bilinear', 'upsample_nearest', 'interpolate', 'pad',
    'max_pool1d_with_indices', 'max_pool2d_with_indices', 'max_pool3d_with_indices',
    'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d_with_indices',
    'adaptive_max_pool3d_with_indices', 'max_unpool1d', 'max_unpool3d', 'threshold_',
    'celu_', 'elu_', 'hardtanh_', 'leaky_relu_', 'relu_', 'rrelu_', 'selu_',
    'fractional_max_pool2d', 'fractional_max_pool2d_with_indices', 'fractional_max_pool3d',
    'fractional_max_pool3d_with_indices',   # random windows: test_nn_fractional_pool.py
    # not in nbgrad (see the README): PyTorch's low-level matmul kernels
    'conv_tbc', 'grouped_mm', 'scaled_grouped_mm', 'scaled_mm', 'linear_cross_entropy',
}


# Where PyTorch is less accurate than float64 allows (nbgrad matches the exact value)
RTOL = {'celu': 1e-7}  # PyTorch's CELU backward rounds 1/alpha to float32


def _run(lib, name):
    call, arrays = ROWS[name]
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = call(lib.nn.functional, lib, *inputs)
    out = out[0] if isinstance(out, tuple) else out
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(out.shape), dtype=lib.float64)
    (out * weights).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() if x.grad is not None else None for x in inputs]


@pytest.mark.parametrize('name', ROWS)
def test_matches_pytorch(name):
    out_t, grads_t = _run(torch, name)
    out_n, grads_n = _run(nbgrad, name)
    rtol = RTOL.get(name, 1e-9)
    np.testing.assert_allclose(out_n, out_t, rtol=rtol, atol=1e-12, err_msg='forward')
    for i, (g_n, g_t) in enumerate(zip(grads_n, grads_t)):
        assert (g_n is None) == (g_t is None), f'gradient of input {i}'
        if g_t is not None:
            np.testing.assert_allclose(g_n, g_t, rtol=rtol, atol=1e-12, err_msg=f'grad {i}')


@pytest.mark.parametrize('name', ROWS)
def test_gradcheck(name):
    call, arrays = ROWS[name]
    inputs = [nbgrad.tensor(a, dtype=nbgrad.float64, requires_grad=True) for a in arrays]

    def fn(*xs):
        out = call(nbgrad.nn.functional, nbgrad, *xs)
        return out[0] if isinstance(out, tuple) else out
    assert gradcheck(fn, inputs)


def test_every_differentiable_function_is_in_the_table():
    F = torch.nn.functional
    public = {n for n in dir(F) if not n.startswith('_') and not isinstance(getattr(F, n), type)
              and callable(getattr(F, n))
              and getattr(getattr(F, n), '__module__', '').startswith('torch.nn.functional')}
    covered = {name.split('_probs')[0] for name in ROWS} | NOT_IN_TABLE
    covered |= {n for n in public for row in ROWS if row.startswith(n + '_')}
    missing = sorted(public - covered - {'assert_int_or_pair', 'boolean_dispatch',
                                          'handle_torch_function', 'has_torch_function',
                                          'has_torch_function_unary',
                                          'has_torch_function_variadic'})
    assert not missing, f'functions of torch.nn.functional neither in the table nor listed: {missing}'
