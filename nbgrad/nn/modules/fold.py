"""Fold and Unfold: F.fold / F.unfold as layers, with PyTorch's constructors and reprs."""
from .. import functional as F
from .module import Module

__all__ = ['Fold', 'Unfold']


class Fold(Module):
    """Sums sliding-block columns (N, C*prod(kernel_size), L) into an image (col2im)."""
    __constants__ = ['output_size', 'kernel_size', 'dilation', 'padding', 'stride']

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return ('output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, '
                'padding={padding}, stride={stride}'.format(**self.__dict__))


class Unfold(Module):
    """Extracts sliding local blocks of an image as columns (im2col)."""
    __constants__ = ['kernel_size', 'dilation', 'padding', 'stride']

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return ('kernel_size={kernel_size}, dilation={dilation}, padding={padding}, '
                'stride={stride}'.format(**self.__dict__))
