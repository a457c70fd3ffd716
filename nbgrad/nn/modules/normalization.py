"""Normalisation layers: BatchNorm1d/2d/3d, SyncBatchNorm (local statistics: no process groups
yet), InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, LocalResponseNorm and RMSNorm, with PyTorch's
constructors, parameters, buffers (running_mean, running_var, num_batches_tracked), state_dict
versions and reprs."""
import numbers
import warnings

from ... import _creation, _dtype
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module
from . import _sync_batch_norm as _sync

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'SyncBatchNorm', 'InstanceNorm1d',
           'InstanceNorm2d', 'InstanceNorm3d', 'LayerNorm', 'GroupNorm', 'LocalResponseNorm',
           'RMSNorm']


def _affine_parameters(module, shape, affine, bias, factory):
    """Register weight and bias (None where not affine, or bias=False), in PyTorch's order."""
    for name, wanted in (('weight', affine), ('bias', affine and bias)):
        module.register_parameter(name, Parameter(_creation.empty(shape, **factory))
                                  if wanted else None)


class _NormBase(Module):
    """What batch and instance norm share: affine parameters and running statistics."""
    _version = 2
    _input_dims = ()  # the input dims the layer takes (its no-batch form first)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        factory = {'device': device, 'dtype': dtype}
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, num_features, affine, bias, factory)
        if track_running_stats:
            self.register_buffer('running_mean', _creation.zeros(num_features, **factory))
            self.register_buffer('running_var', _creation.ones(num_features, **factory))
            self.register_buffer('num_batches_tracked',
                                 _creation.tensor(0, dtype=_dtype.int64, device=device))
        else:
            for name in ('running_mean', 'running_var', 'num_batches_tracked'):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        if input.dim() not in self._input_dims:
            dims = ' or '.join(f'{d}D' for d in self._input_dims)
            raise ValueError(f'expected {dims} input (got {input.dim()}D input)')

    def extra_repr(self):
        return (f'{self.num_features}, eps={self.eps}, momentum={self.momentum}, '
                f'affine={self.affine}, bias={self.bias is not None}, '
                f'track_running_stats={self.track_running_stats}')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # checkpoints from before version 2 have no num_batches_tracked: keep the current one
        version = local_metadata.get('version', None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + 'num_batches_tracked'
            if key not in state_dict:
                state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not \
                    None else _creation.tensor(0, dtype=_dtype.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def _factor(self):
        """(the running statistics' averaging factor, whether this call counts a batch)."""
        factor = 0.0 if self.momentum is None else self.momentum
        counting = self.training and self.track_running_stats and \
            self.num_batches_tracked is not None
        if counting and self.momentum is None:  # a cumulative average over the batches seen
            factor = 1.0 / (float(self.num_batches_tracked) + 1)
        return factor, counting

    def forward(self, input):
        self._check_input_dim(input)
        factor, counting = self._factor()
        # batch statistics in training, and in eval when no running statistics are kept
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        pass_running = not self.training or self.track_running_stats
        out = F.batch_norm(input, self.running_mean if pass_running else None,
                           self.running_var if pass_running else None, self.weight, self.bias,
                           use_batch, factor, self.eps)
        if counting:  # after the call (PyTorch counts before), so a failed call changes nothing
            self.num_batches_tracked.add_(1)
        return out


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over N, H, W, per channel."""
    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs over N, D, H, W, per channel."""
    _input_dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics, in training, are those of the whole global batch
    of a process group (_sync_batch_norm.py: CPU tensors through nbgrad.distributed, where
    PyTorch's runs on GPUs only and refuses CPU tensors). Outside a group of 2 or more, or in
    eval, it is ordinary batch norm, as PyTorch's. convert_sync_batchnorm swaps it in for a
    model's batch norm layers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f'expected at least 2D input (got {input.dim()}D input)')

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError('SyncBatchNorm number of input channels should be non-zero')
        if not _sync.syncing(self):
            return super().forward(input)
        factor, counting = self._factor()
        out = _sync.sync_batch_norm(
            input, self.weight, self.bias, self.running_mean if self.track_running_stats
            else None, self.running_var if self.track_running_stats else None, self.eps, factor,
            self.process_group or _sync.dist.group.WORLD)
        if counting:
            self.num_batches_tracked.add_(1)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """module with every batch norm layer (nested too) replaced by a SyncBatchNorm holding
        the same parameters and running statistics (the same objects) and training flag."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum,
                                          module.affine, module.track_running_stats,
                                          process_group, bias=module.bias is not None)
            if module.affine:
                module_output.weight = module.weight
                module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, 'qconfig'):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module_output


class _InstanceNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if version is None and not self.track_running_stats:
            # checkpoints from before version 1 kept running stats the layer does not track
            keys = [prefix + n for n in ('running_mean', 'running_var') if prefix + n in
                    state_dict]
            if keys:
                name = type(self).__name__
                error_msgs.append(
                    'Unexpected running stats buffer(s) {names} for {klass} with '
                    'track_running_stats=False. If state_dict is a checkpoint saved before '
                    '0.4.0, this may be expected because {klass} does not track running stats '
                    'by default since 0.4.0. Please remove these keys from state_dict. If the '
                    'running stats are actually needed, instead set track_running_stats=True '
                    'in {klass} to enable them. See the documentation of {klass} for '
                    'details.'.format(names=' and '.join(f'"{k}"' for k in keys), klass=name))
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = self._input_dims[0]
        feature_dim = input.dim() - unbatched  # the channel dim, batched or not
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f'num_features ({self.num_features}), but got: '
                                 f'{input.shape[feature_dim]}.')
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          'can silence this warning by not passing in num_features, which is '
                          'not used because affine=False', stacklevel=2)
        if input.dim() == unbatched:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs over L, per sample and channel."""
    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs over H, W."""
    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs over D, H, W."""
    _input_dims = (4, 5)


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalisation over the last dims (normalized_shape), with elementwise weight and bias."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias,
                           {'device': device, 'dtype': dtype})
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f'{self.normalized_shape}, eps={self.eps}, '
                f'elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}')


class GroupNorm(Module):
    """Normalisation over groups of channels (and the spatial dims), with per-channel affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f'num_channels ({num_channels}) must be divisible by num_groups '
                             f'({num_groups})')
        self.num_groups, self.num_channels, self.eps, self.affine = \
            num_groups, num_channels, eps, affine
        _affine_parameters(self, num_channels, affine, bias, {'device': device, 'dtype': dtype})
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f'{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, '
                f'bias={self.bias is not None}')


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the last dims, times an elementwise weight."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, device=device,
                                                    dtype=dtype))
        else:
            self.register_parameter('weight', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f'{self.normalized_shape}, eps={self.eps}, '
                f'elementwise_affine={self.elementwise_affine}')


class LocalResponseNorm(Module):
    """Normalisation of each element by its neighbours across channels (AlexNet's LRN)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'
