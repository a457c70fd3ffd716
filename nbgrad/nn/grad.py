"""The gradients of a convolution with respect to its input and to its weight, as functions
(torch.nn.grad): conv{1,2,3}d_input(input_size, weight, grad_output, ...) and
conv{1,2,3}d_weight(input, weight_size, grad_output, ...).

Each is the backward of the convolution, taken by autograd from a convolution of a zero tensor of
the requested size, so it is exactly the gradient nbgrad's conv backward computes, and it is
differentiable in the other operands when grad mode is on and they require grad.
"""
from .. import autograd
from .._creation import zeros
from . import functional as F

__all__ = ['conv1d_input', 'conv1d_weight', 'conv2d_input', 'conv2d_weight', 'conv3d_input',
           'conv3d_weight']


def _gradient(conv, input, weight, wrt, size, grad_output, stride, padding, dilation, groups):
    """d<conv(input, weight)>/d<wrt> applied to grad_output, where the operand `wrt` ('input'
    or 'weight') is replaced by a zero tensor of `size`."""
    graph = autograd.is_grad_enabled() and any(
        t.requires_grad for t in (input if wrt == 'weight' else weight, grad_output))
    like = grad_output
    variable = zeros(tuple(size), dtype=like.dtype, device=like.device, requires_grad=True)
    operands = (variable, weight) if wrt == 'input' else (input, variable)
    with autograd.enable_grad():
        out = conv(*operands, None, stride, padding, dilation, groups)
        (grad,) = autograd.grad(out, variable, grad_output, create_graph=graph)
    return grad


def _pair(conv):
    def input_grad(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
        return _gradient(conv, None, weight, 'input', input_size, grad_output, stride, padding,
                         dilation, groups)

    def weight_grad(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                    groups=1):
        return _gradient(conv, input, None, 'weight', weight_size, grad_output, stride,
                         padding, dilation, groups)
    name = conv.__name__
    input_grad.__name__, weight_grad.__name__ = f'{name}_input', f'{name}_weight'
    input_grad.__doc__ = f'The gradient of {name} with respect to its input (of input_size).'
    weight_grad.__doc__ = f'The gradient of {name} with respect to its weight (of weight_size).'
    return input_grad, weight_grad


conv1d_input, conv1d_weight = _pair(F.conv1d)
conv2d_input, conv2d_weight = _pair(F.conv2d)
conv3d_input, conv3d_weight = _pair(F.conv3d)
