"""torch.finfo and torch.iinfo: the numeric limits of a dtype, from NumPy's, with PyTorch's
attribute names, repr and errors (a complex dtype describes its real part)."""
import numpy as np

from . import _dtype


def _dtype_arg(type):
    return _dtype.get_default_dtype() if type is None else _dtype.to_dtype(type)


class finfo:
    def __init__(self, type=None):
        dt = _dtype_arg(type)
        if not (dt.is_floating_point or dt.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        real = dt.to_real() if dt.is_complex else dt
        info = _dtype.finfo(real.np)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # NumPy's is rounded to the dtype
        self.dtype = real.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(('finfo', self.dtype))

    def __repr__(self):
        return (f'finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, '
                f'eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, '
                f'tiny={self.tiny:g}, dtype={self.dtype})')


class iinfo:
    def __init__(self, type):
        dt = _dtype.to_dtype(type)
        if dt.name == 'bool':
            raise TypeError('torch.bool is not supported by torch.iinfo')
        if dt.is_floating_point or dt.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(dt.np)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), \
            dt.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(('iinfo', self.dtype))

    def __repr__(self):
        return f'iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})'  # PyTorch's %g
