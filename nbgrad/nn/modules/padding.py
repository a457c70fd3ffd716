"""The padding layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad, each in
1d/2d/3d): F.pad as a module, with PyTorch's constructors and reprs. Each layer is its family's
base class and a dimension count."""
from .. import functional as F
from .module import Module

__all__ = ['CircularPad1d', 'CircularPad2d', 'CircularPad3d', 'ConstantPad1d', 'ConstantPad2d',
           'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d',
           'ReplicationPad1d', 'ReplicationPad2d', 'ReplicationPad3d', 'ZeroPad1d', 'ZeroPad2d',
           'ZeroPad3d']


def _amounts(padding, nd):
    """An int pads every side; otherwise a sequence of 2*nd ints (last dim's low side first)."""
    if isinstance(padding, (list, tuple)):
        return tuple(padding)
    return (padding,) * (2 * nd)


class _PadNd(Module):
    """Pads with F.pad in `_mode`; `_nd` is the number of padded dims."""
    __constants__ = ['padding']
    _mode = 'constant'
    _nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _amounts(padding, self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f'{self.padding}'


class _ConstantPadNd(_PadNd):
    __constants__ = ['padding', 'value']

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class _ReflectionPadNd(_PadNd):
    _mode = 'reflect'


class _ReplicationPadNd(_PadNd):
    _mode = 'replicate'


class _CircularPadNd(_PadNd):
    _mode = 'circular'

    def forward(self, input):
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f'expected {self._nd + 1}D or {self._nd + 2}D input (got '
                             f'{input.dim()}D input)')
        return super().forward(input)


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""
    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""
    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""
    _nd = 3


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant value."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with a constant value."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with a constant value."""
    _nd = 3


class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dim with the reflection of the input about its edges."""
    _nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last 2 dims with the reflection of the input about its edges."""
    _nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last 3 dims with the reflection of the input about its edges."""
    _nd = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dim by repeating the edge values."""
    _nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last 2 dims by repeating the edge values."""
    _nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last 3 dims by repeating the edge values."""
    _nd = 3


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around (circular)."""
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping around (circular)."""
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping around (circular)."""
    _nd = 3
