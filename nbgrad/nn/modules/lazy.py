"""Lazy modules (PyTorch's LazyModuleMixin and its layers): a layer whose input size is learned
from its first input. Until then its parameters (and buffers) are UninitializedParameter /
UninitializedBuffer, which can be moved and cast but not used; the first forward sets the
sizes, materializes them, initializes them as the eager layer would (the same nn.init calls,
so a seeded lazy layer gets PyTorch's numbers), and the module becomes that eager class.

A state_dict of initialized weights loads into a lazy module (they are materialized at the
checkpoint's shapes, after every key has been checked, so a failed load changes nothing); the
layer then keeps its loaded weights at its first forward.
"""
from ... import _creation, _dtype, autograd
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                   ConvTranspose3d)
from .linear import Linear
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, _InstanceNorm)

__all__ = ['LazyModuleMixin', 'LazyLinear', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d',
           'LazyConvTranspose1d', 'LazyConvTranspose2d', 'LazyConvTranspose3d',
           'LazyBatchNorm1d', 'LazyBatchNorm2d', 'LazyBatchNorm3d', 'LazyInstanceNorm1d',
           'LazyInstanceNorm2d', 'LazyInstanceNorm3d']


class LazyModuleMixin:
    """Mixed in before a module class: a forward pre-hook runs initialize_parameters(*input)
    once, then the module becomes `cls_to_become`."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # uninitialized entries go in as they are (PyTorch prints them as <UninitializedParameter>)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if is_lazy(param) or keep_vars else \
                    param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if is_lazy(buf) or keep_vars else buf.detach()

    def initialize_parameters(self, *args, **kwargs):
        """Set the sizes from the first input and materialize the parameters."""
        raise NotImplementedError(
            f'initialize_parameters is not implemented for {self.__class__.__name__}')

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module is still uninitialized."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f'module {self._get_name()} has not been fully initialized')
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           '`DataParallel`. Run a dummy forward pass to correctly initialize '
                           'the modules')


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is input.shape[-1] of the first input."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        factory = {'device': device, 'dtype': dtype}
        super().__init__(0, 0, False)       # no bias yet: it is made uninitialized below
        self.weight = UninitializedParameter(**factory)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**factory)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with autograd.no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:     # loaded from a state_dict: the weight knows the size
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f'The in_features inferred from input: {input.shape[-1]} '
                                     'is not equal to in_features from self.weight: '
                                     f'{self.weight.shape[-1]}')
            self.in_features = input.shape[-1]


class _LazyConvMixin(LazyModuleMixin):
    """Conv / ConvTranspose whose in_channels is the channel count of the first input."""

    def __init__(self, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, device, dtype, **extra):
        factory = {'device': device, 'dtype': dtype}
        super().__init__(0, 0, kernel_size, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=False, padding_mode=padding_mode, **extra,
                         **factory)
        self.weight = UninitializedParameter(**factory)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(**factory)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError('in_channels must be divisible by groups')
            kernel = tuple(self.kernel_size)
            shape = (self.in_channels, self.out_channels // self.groups) if self.transposed \
                else (self.out_channels, self.in_channels // self.groups)
            with autograd.no_grad():
                self.weight.materialize(shape + kernel)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input):
        no_batch = self._nd + 1
        if input.dim() not in (no_batch, no_batch + 1):
            raise RuntimeError(f'Expected {no_batch}D (unbatched) or {no_batch + 1}D (batched) '
                               f'input to {self.__class__.__name__}, but got input of size: '
                               f'{input.shape}')
        return input.shape[1] if input.dim() == no_batch + 1 else input.shape[0]


def _lazy_conv(eager):
    """The lazy class of the Conv or ConvTranspose class `eager`."""
    transposed = eager._transposed

    if transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode='zeros', device=None,
                     dtype=None):
            _LazyConvMixin.__init__(self, out_channels, kernel_size, stride, padding, dilation,
                                    groups, bias, padding_mode, device, dtype,
                                    output_padding=output_padding)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode='zeros', device=None, dtype=None):
            _LazyConvMixin.__init__(self, out_channels, kernel_size, stride, padding, dilation,
                                    groups, bias, padding_mode, device, dtype)

    name = 'Lazy' + eager.__name__
    return type(name, (_LazyConvMixin, eager), {
        '__init__': __init__, 'cls_to_become': eager, '__module__': __name__,
        '__doc__': f'{eager.__name__} whose in_channels is the channel count of the first '
                   'input.'})


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(c) for c in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv(c) for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


class _LazyNormMixin(LazyModuleMixin):
    """BatchNorm / InstanceNorm whose num_features is the channel count of the first input."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        factory = {'device': device, 'dtype': dtype}
        super().__init__(0, eps, momentum, False, False, **factory, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(**factory)
            if bias:
                self.bias = UninitializedParameter(**factory)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = _creation.tensor(0, dtype=_dtype.int64, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            # the channels: dim 1, or dim 0 of an unbatched InstanceNorm input (PyTorch takes
            # dim 1 there too, which is then a length, not the channels)
            unbatched = isinstance(self, _InstanceNorm) and input.dim() == self._input_dims[0]
            self.num_features = input.shape[0 if unbatched else 1]
            with autograd.no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()


def _lazy_norm(eager):
    return type('Lazy' + eager.__name__, (_LazyNormMixin, eager), {
        'cls_to_become': eager, '__module__': __name__,
        '__doc__': f'{eager.__name__} whose num_features is the channel count of the first '
                   'input.'})


LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = (
    _lazy_norm(c) for c in (BatchNorm1d, BatchNorm2d, BatchNorm3d))
LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d = (
    _lazy_norm(c) for c in (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d))
