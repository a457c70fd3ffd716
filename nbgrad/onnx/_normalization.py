"""Batch, layer, group and instance normalization (nbgrad's one AffineNorm op) as ONNX.

  batch norm with running statistics (eval)  BatchNormalization
  layer norm                                 LayerNormalization (opset 17+), or its arithmetic
  group norm, instance norm, batch norm
  with batch statistics and no running ones  the arithmetic over the statistics' axes

ONNX's GroupNormalization (opset 18, changed in 21) scales per group, not per channel, and
InstanceNormalization sees the (1, N*C, ...) view nbgrad's instance_norm makes as a batch norm,
so the arithmetic, which PyTorch's own exporter writes for group norm too, is the one form that
serves all three at every opset: mean and biased variance over the statistics' axes,
(x - mean) / sqrt(var + eps), then weight and bias broadcast over the channel dim."""
import numpy as np


def _standardize(ctx, x, axes, eps, normed):
    """Nodes writing (x - mean) / sqrt(var + eps) over axes into normed."""
    mean, centered, squared, var, shifted, std = (ctx.temp() for _ in range(6))
    return [ctx.reduce('ReduceMean', x, axes, True, [mean]),
            ctx.node('Sub', [x, mean], [centered]),
            ctx.node('Mul', [centered, centered], [squared]),
            ctx.reduce('ReduceMean', squared, axes, True, [var]),
            ctx.node('Add', [var, ctx.constant(np.array(eps, ctx.dtype(x)))], [shifted]),
            ctx.node('Sqrt', [shifted], [std]),
            ctx.node('Div', [centered, std], normed)]


def _layer_norm(ctx, x, weight, bias, axes, eps):
    """LayerNormalization's arithmetic for opsets before 17 (as torch's exporter writes it)."""
    normed, scaled = ctx.temp(), ctx.temp()
    return (_standardize(ctx, x, axes, eps, [normed]) +
            [ctx.node('Mul', [normed, weight], [scaled]), ctx.node('Add', [scaled, bias])])


def _batch_statistics(ctx, op, x, weight, bias):
    """Group norm views x as (N, groups, -1) for its statistics (written with 0 and -1, so the
    view follows dynamic axes); instance norm's batch norm and batch norm reduce over x's own
    axes. float16 is normalised in float32, as nbgrad and PyTorch do."""
    nodes = []
    dtype = ctx.dtype(x)
    work = ctx.cast(x, np.float32, nodes) if dtype == np.float16 else x
    stats_of = work
    if op.kind == 'group':
        stats_of = ctx.temp()
        nodes.append(ctx.node('Reshape', [work, ctx.int64s([0, op.stats_shape[1], -1])],
                              [stats_of]))
        ctx.meta_of[stats_of] = (tuple(op.stats_shape), ctx.dtype(work))
    normed = ctx.temp()
    nodes += _standardize(ctx, stats_of, list(op.axes), op.eps, [normed])
    if op.kind == 'group':
        shape, unviewed = ctx.temp(), ctx.temp()
        nodes += [ctx.node('Shape', [x], [shape]), ctx.node('Reshape', [normed, shape],
                                                            [unviewed])]
        normed = unviewed
    if dtype == np.float16:
        ctx.meta_of[normed] = (ctx.shape(x), np.dtype(np.float32))
        normed = ctx.cast(normed, dtype, nodes)
    # weight and bias (C,) broadcast as (1, C, 1, ...): unsqueezed on every other axis
    axes = ctx.int64s([d for d in range(ctx.rank(x)) if d != 1])
    w, b, scaled = ctx.temp(), ctx.temp(), ctx.temp()
    return nodes + [ctx.node('Unsqueeze', [weight, axes], [w]),
                    ctx.node('Unsqueeze', [bias, axes], [b]),
                    ctx.node('Mul', [normed, w], [scaled]), ctx.node('Add', [scaled, b])]


def affine_norm(ctx, op, x, weight=None, bias=None, running_mean=None, running_var=None):
    channels = op.affine_shape
    if weight is None:
        weight = ctx.constant(np.ones(channels, ctx.dtype(x)))
    if bias is None:
        bias = ctx.constant(np.zeros(channels, ctx.dtype(x)))
    if op.kind == 'batch' and not op.use_input_stats:
        return [ctx.node('BatchNormalization', [x, weight, bias, running_mean, running_var],
                         epsilon=float(op.eps))]
    if op.kind == 'layer':
        if ctx.opset >= 17:
            return [ctx.node('LayerNormalization', [x, weight, bias], axis=-len(channels),
                             epsilon=float(op.eps))]
        rank = ctx.rank(x)
        return _layer_norm(ctx, x, weight, bias, list(range(rank - len(channels), rank)),
                           op.eps)
    if running_mean is not None:
        raise ctx.unsupported('affinenorm', f'{op.kind} normalization that updates running '
                              f'statistics (export the model in eval() mode)')
    if ctx.rank(x) < 2:
        raise ctx.unsupported('affinenorm', f'{op.kind} normalization of a {ctx.rank(x)}-d input')
    return _batch_statistics(ctx, op, x, weight, bias)


TRANSLATORS = {'affinenorm': affine_norm}
