"""nbgrad.ops.aten: the aten ops PyTorch code names directly that nbgrad has a meaning for:
the products and the convolution whose FLOPs utils.flop_counter counts (its counts are keyed
by them, as PyTorch's are by torch.ops.aten.mm...), callable as PyTorch's."""
from . import _op_namespace


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    """aten.convolution: F.conv{1,2,3}d, or F.conv_transpose{1,2,3}d when transposed."""
    from .nn import functional as F
    n = weight.dim() - 2
    if transposed:
        return getattr(F, f'conv_transpose{n}d')(input, weight, bias, stride, padding,
                                                  output_padding, groups, dilation)
    return getattr(F, f'conv{n}d')(input, weight, bias, stride, padding, dilation, groups)


def _convolution_backward(*args, **kwargs):
    raise NotImplementedError('nbgrad.ops.aten.convolution_backward cannot be called: nbgrad '
                              'computes convolution gradients inside autograd (call backward() '
                              'or autograd.grad on the convolution\'s output instead)')


def install():
    """Register them once (%reload_ext re-runs nbgrad/__init__.py: the objects stay the same,
    so counts keyed by them stay valid)."""
    from . import addmm, baddbmm, bmm, mm
    space = _op_namespace.namespace('aten')
    for name, fn in (('mm', mm), ('addmm', addmm), ('bmm', bmm), ('baddbmm', baddbmm),
                     ('convolution', _convolution),
                     ('convolution_backward', _convolution_backward)):
        if name not in space.__dict__:
            _op_namespace.register('aten', name, fn)
