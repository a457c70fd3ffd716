"""F.pad: constant, reflect, replicate and circular padding, with PyTorch's rules and errors.

Constant padding is one node (ConstantPadNd) whose gradient is the same op with the amounts
negated (a crop). The other modes build each padded dim from at most three slices of the input
(left border, kept middle, right border); their gradient sums the same slices back (BorderPad with
adjoint=True), and the two are each other's gradients, so double backward works.
"""
from ..._dispatch import dispatch
from ..._dtype import bool as _bool
from ..._tensor import Tensor
from ...autograd.graph import COPY_SLICES, Node, also_of_input
from ...ops._util import int_like, xp_of
from ._im2col import pad_constant

__all__ = ['pad']

_MODE_NAMES = {'reflect': 'ReflectionPad', 'replicate': 'ReplicationPad',
               'circular': 'CircularPad'}


class ConstantPadNd(Node):
    """Pads the last len(pads) dims by (low, high) pairs of `value` (negative amounts crop)."""
    complex_autograd = True

    def __init__(self, pads, value):
        self.pads, self.value = pads, value

    def forward(self, a):
        out = pad_constant(a, self.pads, self.value)
        return a.copy() if out is a else out  # a new tensor even when nothing is padded

    def backward(self, grad):
        return dispatch(ConstantPadNd([(-lo, -hi) for lo, hi in self.pads], 0), grad)

    def name(self):
        return 'ConstantPadNdBackward0'


def _pieces(mode, lo, hi, n):
    """How one padded dim is made of the input's (length n) slices: a list of
    (start, stop, reversed, repeat) in output order."""
    start, stop = max(-lo, 0), n - max(-hi, 0)  # the kept middle (negative amounts crop)
    left = right = None
    if mode == 'reflect':  # mirrored about the edge element, which is not repeated
        left, right = (1, lo + 1, True, 1), (n - 1 - hi, n - 1, True, 1)
    elif mode == 'replicate':
        left, right = (0, 1, False, lo), (n - 1, n, False, hi)
    else:  # circular wraps around what is left after cropping, as PyTorch does
        left, right = (stop - lo, stop, False, 1), (start, start + hi, False, 1)
    return ([left] if lo > 0 else []) + [(start, stop, False, 1)] + ([right] if hi > 0 else [])


class BorderPad(Node):
    """reflect / replicate / circular padding of the trailing dims (adjoint=False), or its
    adjoint, which sums a padded gradient back onto the input's shape (adjoint=True)."""
    complex_autograd = True

    def __init__(self, mode, pads, sizes, adjoint=False):
        self.mode, self.pads, self.sizes, self.adjoint = mode, pads, sizes, adjoint

    def forward(self, a):
        xp = xp_of(a)
        lead = a.ndim - len(self.pads)
        for axis, (lo, hi), n in zip(range(lead, a.ndim), self.pads, self.sizes):
            pieces = _pieces(self.mode, lo, hi, n)
            a = self._scatter(xp, a, axis, n, pieces) if self.adjoint else \
                self._gather(xp, a, axis, pieces)
        return a

    @staticmethod
    def _gather(xp, a, axis, pieces):
        index = [slice(None)] * a.ndim
        parts = []
        for start, stop, flipped, repeat in pieces:
            index[axis] = slice(stop - 1, start - 1 if start else None, -1) if flipped else \
                slice(start, stop)
            part = a[tuple(index)]
            parts.append(xp.repeat(part, repeat, axis) if repeat != 1 else part)
        return xp.concatenate(parts, axis)

    @staticmethod
    def _scatter(xp, g, axis, n, pieces):
        shape = list(g.shape)
        shape[axis] = n
        out = xp.zeros(shape, g.dtype)
        source, target = [slice(None)] * g.ndim, [slice(None)] * g.ndim
        offset = 0
        for start, stop, flipped, repeat in pieces:
            length = (stop - start) * repeat
            source[axis] = slice(offset + length - 1, offset - 1 if offset else None, -1) \
                if flipped else slice(offset, offset + length)
            part = g[tuple(source)]
            if repeat != 1:
                part = part.sum(axis=axis, keepdims=True)
            target[axis] = slice(start, stop)
            out[tuple(target)] += part
            offset += length
        return out

    def backward(self, grad):
        out = dispatch(BorderPad(self.mode, self.pads, self.sizes, not self.adjoint), grad)
        return out if self.adjoint or self.mode == 'circular' else also_of_input(out, self)

    def name(self):
        suffix = 'BackwardBackward0' if self.adjoint else 'Backward0'
        if self.mode == 'circular':
            # PyTorch builds circular padding from slice copies, so its grad_fn is CopySlices
            return 'CopySlicesBackward0' if self.adjoint else COPY_SLICES
        return f'{_MODE_NAMES[self.mode]}{len(self.pads)}D{suffix}'


def _check_border_pad(mode, input, pads):
    """PyTorch's rules for the non-constant modes (pads: (low, high) per trailing dim)."""
    nd = len(pads)
    if nd not in (1, 2, 3) or input.dim() not in (nd + 1, nd + 2):
        raise NotImplementedError(
            f'Padding size {2 * nd} is not supported for {input.dim()}D input tensor.\n'
            'Supported combinations for non-constant padding:\n'
            '  - 2D or 3D input: padding size = 2 (pads last dimension)\n'
            '  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n'
            '  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)')
    if mode != 'circular' and input.dtype is _bool:
        kernel = 'reflection' if mode == 'reflect' else 'replication'
        raise NotImplementedError(f'"{kernel}_pad{nd}d" not implemented for \'Bool\'')
    shape = list(input.shape)
    sizes = shape[-nd:]
    if mode != 'circular' and any(n == 0 for n in shape[-nd - 1:]):
        raise RuntimeError(f'{mode} padding: expected {nd + 1}D or {nd + 2}D (batch mode) tensor '
                           f'with possibly 0 batch size and other non-zero dimensions for input, '
                           f'but got: {shape}')
    for axis, ((lo, hi), n) in enumerate(zip(pads, sizes), input.dim() - nd):
        if mode == 'reflect' and (lo >= n or hi >= n):
            raise RuntimeError(f'Argument #4: Padding size should be less than the corresponding '
                               f'input dimension, but got: padding ({lo}, {hi}) at dimension '
                               f'{axis} of input {shape}')
        kept = n - max(-lo, 0) - max(-hi, 0)
        if mode == 'circular' and (lo > kept or hi > kept or lo > n or hi > n):
            raise RuntimeError(f'Padding value causes wrapping around more than once (padding '
                               f'({lo}, {hi}) at dimension {axis} of input {shape}).')
        out = n + lo + hi
        if out < (0 if mode == 'circular' else 1):
            raise RuntimeError(f'{mode} padding: input (size {n} at dimension {axis}) is too '
                               f'small. Calculated output size: {out}')


def pad(input, pad, mode='constant', value=None):
    """Pads input's last len(pad) // 2 dims: pad = (last_low, last_high, second_last_low, ...);
    negative amounts crop. mode: 'constant' (with value, default 0), 'reflect', 'replicate' or
    'circular' (these pad the last 1-3 dims of a batched or unbatched input)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    amounts = list(pad)
    for i, p in enumerate(amounts):
        if int_like(p) is None:
            raise TypeError(f"pad(): argument 'pad' must be tuple of ints, but found element of "
                            f"type {type(p).__name__} at pos {i}")
        amounts[i] = int_like(p)    # (NumPy integers, integer tensors: PyTorch's parser's ints)
    if len(amounts) % 2:
        raise RuntimeError(f'Padding length must be divisible by 2 (got {len(amounts)})')
    if len(amounts) > 2 * input.dim():
        raise RuntimeError(f'Padding length should be less than or equal to two times the input '
                           f'dimension but got padding length {len(amounts)} and input of '
                           f'dimension {input.dim()}')
    # (low, high) per padded dim, first padded dim first (pad lists the last dim first)
    pads = [(amounts[i], amounts[i + 1]) for i in range(len(amounts) - 2, -1, -2)]
    if mode == 'constant':
        sizes = input.shape[input.dim() - len(pads):]
        for axis, ((lo, hi), n) in enumerate(zip(pads, sizes), input.dim() - len(pads)):
            if n + lo + hi < 0:
                raise RuntimeError(f'The input size {n}, plus negative padding {lo} and {hi} '
                                   f'resulted in a negative output size, which is invalid. '
                                   f'Check dimension {axis} of your input.')
        return dispatch(ConstantPadNd(pads, 0 if value is None else value), input)
    if mode not in _MODE_NAMES:
        raise NotImplementedError(f"Unrecognised padding mode {mode} (use 'constant', 'reflect', "
                                  f"'replicate' or 'circular')")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_border_pad(mode, input, pads)
    return dispatch(BorderPad(mode, pads, tuple(input.shape[input.dim() - len(pads):])), input)
