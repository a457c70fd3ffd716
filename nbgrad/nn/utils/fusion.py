"""PyTorch's torch.nn.utils.fusion: fold an eval-mode BatchNorm into the convolution or Linear
before it, so y = bn(conv(x)) becomes y = fused_conv(x) with one layer's cost."""
import copy

import nbgrad
from ..parameter import Parameter

__all__ = ['fuse_conv_bn_eval', 'fuse_conv_bn_weights', 'fuse_linear_bn_eval',
           'fuse_linear_bn_weights']


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError('Fusion only for eval!')
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError('bn.running_mean and bn.running_var must not be None')


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A new convolution computing bn(conv(x)); conv and bn stay as they are. Both must be in
    eval mode and bn must track running statistics. transpose: conv is a ConvTranspose."""
    _check_eval(conv, bn)
    fused_conv = copy.deepcopy(conv)
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(
        fused_conv.weight, fused_conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
        bn.bias, transpose)
    return fused_conv


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The (weight, bias) Parameters of the convolution that computes bn(conv(x)); a missing
    conv_b, bn_w or bn_b counts as zeros, ones, zeros."""
    conv_weight_dtype = conv_w.dtype
    conv_bias_dtype = conv_b.dtype if conv_b is not None else conv_weight_dtype
    if conv_b is None:
        conv_b = nbgrad.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = nbgrad.ones_like(bn_rm)
    if bn_b is None:
        bn_b = nbgrad.zeros_like(bn_rm)
    bn_var_rsqrt = nbgrad.rsqrt(bn_rv + bn_eps)
    # the output channels are dim 0 of a convolution's weight, dim 1 of a transposed one's
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (len(conv_w.shape) - 2)
    fused_conv_w = (conv_w * (bn_w * bn_var_rsqrt).reshape(shape)).to(dtype=conv_weight_dtype)
    fused_conv_b = ((conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b).to(dtype=conv_bias_dtype)
    return (Parameter(fused_conv_w.detach(), conv_w.requires_grad),
            Parameter(fused_conv_b.detach(), conv_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A new Linear computing bn(linear(x)); linear and bn stay as they are. Both must be in
    eval mode, and bn.num_features must be linear.out_features or 1."""
    _check_eval(linear, bn)
    fused_linear = copy.deepcopy(linear)
    # bn works on the channel dim and Linear on the last: they must broadcast together
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError('To fuse, linear.out_features == bn.num_features or '
                             'bn.num_features == 1, got linear.out_features='
                             f'{linear.out_features} and bn.num_features={bn.num_features}')
    fused_linear.weight, fused_linear.bias = fuse_linear_bn_weights(
        fused_linear.weight, fused_linear.bias, bn.running_mean, bn.running_var, bn.eps,
        bn.weight, bn.bias)
    return fused_linear


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The (weight, bias) Parameters of the Linear that computes bn(linear(x))."""
    linear_weight_dtype = linear_w.dtype
    linear_bias_dtype = linear_b.dtype if linear_b is not None else linear_weight_dtype
    if linear_b is None:
        linear_b = nbgrad.zeros_like(bn_rm)
    bn_scale = bn_w * nbgrad.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * bn_scale.unsqueeze(-1).to(dtype=linear_weight_dtype)
    fused_b = ((linear_b - bn_rm) * bn_scale + bn_b).to(dtype=linear_bias_dtype)
    return (Parameter(fused_w.detach(), linear_w.requires_grad),
            Parameter(fused_b.detach(), linear_b.requires_grad))
