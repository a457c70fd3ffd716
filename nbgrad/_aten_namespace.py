"""nbgrad.ops.aten: the aten ops PyTorch code names directly, callable as PyTorch's: the
products and the convolution whose FLOPs utils.flop_counter counts (its counts are keyed by
them, as PyTorch's are by torch.ops.aten.mm...), and any other nbgrad function by its name
(torch.ops.aten.add(x, y), torch.ops.aten.add.Tensor(x, y))."""
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


class _AtenNamespace(_op_namespace._OpNamespace):
    """nbgrad.ops.aten.<name> for any nbgrad function of that name too (torch.ops.aten.add),
    made on first use."""

    def __getattr__(self, op_name):
        import nbgrad
        fn = None if op_name.startswith('_') else getattr(nbgrad, op_name, None)
        if fn is None or isinstance(fn, type) or not callable(fn):
            return super().__getattr__(op_name)
        return _op_namespace.register('aten', op_name, fn)


def install():
    """Register them once (%reload_ext re-runs nbgrad/__init__.py: the objects stay the same,
    so counts keyed by them stay valid)."""
    from . import addmm, baddbmm, bmm, mm
    space = _op_namespace.namespace('aten')
    space.__class__ = _AtenNamespace
    for name, fn in (('mm', mm), ('addmm', addmm), ('bmm', bmm), ('baddbmm', baddbmm),
                     ('convolution', _convolution),
                     ('convolution_backward', _convolution_backward)):
        if name not in space.__dict__:
            _op_namespace.register('aten', name, fn)
