"""convert_conv2d_weight_memory_format / convert_conv3d_weight_memory_format: give the weights
of every Conv and ConvTranspose layer of that dimension in a module tree the requested memory
format, in place, and return the module (as PyTorch's). nbgrad accepts channels_last and keeps
the values; the layout itself stays C-contiguous (see the README's memory formats)."""
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ['convert_conv2d_weight_memory_format', 'convert_conv3d_weight_memory_format']


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
