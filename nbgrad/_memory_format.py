"""torch.memory_format: how a new tensor lays out its elements.

preserve_format (the default of clone and the *_like factories) keeps a permuted dense layout, as
PyTorch does, which matters beyond strides: random fills visit elements in memory order, so a
seeded rand_like of a transposed tensor gives PyTorch's numbers. channels_last (NHWC in memory)
and channels_last_3d (NDHWC) give PyTorch's strides wherever a format is asked for (clone,
contiguous, to, empty, the *_like factories) and elementwise results keep them (NumPy's order
'K'); other ops return C order (PyTorch's convolutions would stay channels_last).
"""


from ._named_constant import NamedConstant


class memory_format(NamedConstant):
    """torch.memory_format."""


contiguous_format = memory_format('contiguous_format')
preserve_format = memory_format('preserve_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')
# PyTorch's internal name for row-major whatever the input's layout (it prints as
# torch.contiguous_format); code copied from PyTorch's functional uses it
legacy_contiguous_format = contiguous_format


# rank and dimension order (outermost first) of the channels-last formats
_CHANNELS_LAST = {'channels_last': (4, (0, 2, 3, 1)), 'channels_last_3d': (5, (0, 2, 3, 4, 1))}


def dim_order(fmt, ndim):
    """The dimension order, outermost first, that fmt lays out an ndim tensor in: None for C order
    (contiguous_format), a permutation for the channels-last formats (PyTorch's error at another
    rank). preserve_format is the caller's to handle."""
    if fmt is None or fmt is contiguous_format:
        return None
    if not isinstance(fmt, memory_format):
        raise TypeError(f'memory_format must be a nbgrad.memory_format, not {type(fmt).__name__}')
    if fmt.name not in _CHANNELS_LAST:
        raise RuntimeError(f'unsupported memory format {fmt.name}')
    rank, order = _CHANNELS_LAST[fmt.name]
    if ndim != rank:
        raise RuntimeError(f'required rank {rank} tensor to use {fmt.name} format')
    return order


def dense_order(a):
    """The dimension order, outermost first, of an array laid out densely in a permutation of
    its dims other than C order (a transposed or channels-last array); None when it is
    C-contiguous or not dense (gaps, overlaps). NumPy's order='K' keeps such layouts; CuPy's
    copies and elementwise results do not, so nbgrad rebuilds them from this order."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return None
    order = sorted(range(a.ndim), key=lambda d: (-a.strides[d], d))
    step = a.itemsize
    for d in reversed(order):
        if a.shape[d] != 1 and a.strides[d] != step:
            return None
        step *= a.shape[d]
    return order


def empty_in_order(xp, shape, dtype, order):
    """An uninitialised array of shape whose memory runs in `order` (dim_order's)."""
    if order is None:
        return xp.empty(shape, dtype)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return xp.empty([shape[d] for d in order], dtype).transpose(inverse)


def is_contiguous_as(shape, strides, fmt):
    """Tensor.is_contiguous(memory_format=fmt) from element strides, as PyTorch judges it: sizes
    of 1 are ignored, and a channels-last format at another rank is False."""
    if fmt is not None and fmt is not contiguous_format and \
            getattr(fmt, 'name', None) in _CHANNELS_LAST:
        rank, order = _CHANNELS_LAST[fmt.name]
        if len(shape) != rank:
            return False
    else:
        order = range(len(shape))
    expected = 1
    for d in reversed(order):
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True
