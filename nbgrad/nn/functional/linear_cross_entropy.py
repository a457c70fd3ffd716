"""linear_cross_entropy (PyTorch 2.13): cross_entropy(linear(input, linear_weight, linear_bias),
target), with a K-dimensional loss when linear_weight is (C, d_1, ..., d_K, in_features).

PyTorch's `options` (a LinearCrossEntropyOptions) switches to a chunked implementation that never
holds the whole (N, C) logits, to save memory on large vocabularies. nbgrad always computes the
reference formula, so the values and gradients are the same but the memory is not saved; it warns
where PyTorch warns that options cannot be used."""
import math
import warnings

from ..._dtype import int64
from .linear import linear
from .loss import cross_entropy

__all__ = ['linear_cross_entropy']


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction='mean', ignore_index=None, label_smoothing=0.0, options=None):
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f'expected input with dimensionality 1 or 2, got {input.dim()}')
    if linear_weight.dim() < 2:
        raise RuntimeError('expected linear_weight with dimensionality at least 2, got '
                           f'{linear_weight.dim()}')
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError('expected equal input and linear_weight last dimensions '
                           f'(in_features), got {input.shape[-1]} and '
                           f'{linear_weight.shape[-1]}, respectively')
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f'expected linear_bias shape {(num_classes, *out_features)}, got '
                           f'{tuple(linear_bias.shape)}')
    if out_features and not batches:
        raise RuntimeError(f'K-dimensional loss defined by linear_weight shape '
                           f'{tuple(linear_weight.shape)} requires batched input, '
                           f'(N, {in_features}), got unbatched input with shape '
                           f'{tuple(input.shape)}')
    logits_shape = (*batches, num_classes, *out_features)
    # a target shaped like the logits holds class probabilities (as cross_entropy decides)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError('ignore_index cannot be specified when target contains probabilities')
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or reduction not in ('mean', 'sum', 'none')
                                or label_smoothing != 0.0 or target.dtype != int64):
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features "
            f"== (). Got reduction={reduction!r}, label_smoothing={label_smoothing}, "
            f"target.dtype={target.dtype}, out_features={out_features}, tracing=False, "
            f"linear_bias.shape="
            f"{tuple(linear_bias.shape) if linear_bias is not None else None}.", stacklevel=2)
    if out_features:
        rows = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)
