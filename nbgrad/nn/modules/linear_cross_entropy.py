"""nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions (PyTorch 2.13): a Linear layer to
num_classes (times out_features) logits and cross entropy, in one module. See
functional/linear_cross_entropy.py for what `options` does in nbgrad (validated and kept; the
reference formula is computed)."""
import dataclasses
import math

from ... import _dtype
from .. import functional as F
from .linear import Linear
from .loss import _WeightedLoss

__all__ = ['LinearCrossEntropyLoss', 'LinearCrossEntropyOptions']

_ACC_POLICIES = ('auto', 'accurate', 'balanced', 'compact')


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch's chunking options of linear_cross_entropy, with its validation."""
    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = 'auto'
    acc_policy: str = 'auto'
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f'invalid acc_policy: {self.acc_policy!r}')
        if self.chunking_method is not None and self.chunking_method != 'auto':
            name, sep, factor = self.chunking_method.partition(':')
            if not sep:
                factor = '1'
            if not (name == 'aspect_ratio' and factor.isdigit() and int(factor) > 0):
                raise ValueError(f'invalid chunking_method: {self.chunking_method!r}')
        if not (self.batch_chunk_size is None or (isinstance(self.batch_chunk_size, int)
                                                  and self.batch_chunk_size > 0)):
            raise ValueError('batch_chunk_size must be positive int or None, got '
                             f'{self.batch_chunk_size!r}')
        if self.acc_dtype is not None and self.acc_dtype not in (
                _dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64):
            raise ValueError(
                'acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, '
                f'torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op '
                'pick automatically.')


class LinearCrossEntropyLoss(_WeightedLoss):
    """Holds `linear` (a Linear(in_features, num_classes * prod(out_features)), as PyTorch's,
    so state_dict keys match) and applies F.linear_cross_entropy with its weight reshaped to
    (num_classes, *out_features, in_features)."""

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, device=None,
                 dtype=None, reduction='mean', weight=None, ignore_index=None,
                 label_smoothing=0.0, options=None):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f'expected weight shape to be {(num_classes,)}, got '
                               f'{tuple(weight.shape)}')
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError('expected label_smoothing to be in range [0, 1], got '
                               f'{label_smoothing}')
        super().__init__(weight=weight, size_average=None, reduce=None, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        linear_weight = self.linear.weight.reshape(
            (self.num_classes, *self.out_features, self.linear.in_features))
        linear_bias = (self.linear.bias.reshape((self.num_classes, *self.out_features))
                       if self.linear.bias is not None else None)
        return F.linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self):
        return (f'in_features={self.linear.in_features}, num_classes={self.num_classes}, '
                f'out_features={self.out_features}, bias={self.linear.bias is not None}, '
                f'reduction={self.reduction}, ignore_index={self.ignore_index}, '
                f'label_smoothing={self.label_smoothing}, options={self.options}')
