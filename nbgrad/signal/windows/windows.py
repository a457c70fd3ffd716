"""torch.signal.windows: SciPy's window functions (sym=True for filter design, sym=False for
spectral analysis), each PyTorch's formula in tensor ops: a linspace over the window's
positions, then the waveform, so the values are PyTorch's bit for bit. Like PyTorch's, they
take float32 and float64 only (torch.hann_window and friends take half and bfloat16 too)."""
import math
from collections.abc import Iterable

import nbgrad
from ..._layout import strided

__all__ = ['bartlett', 'blackman', 'cosine', 'exponential', 'gaussian', 'general_cosine',
           'general_hamming', 'hamming', 'hann', 'kaiser', 'nuttall']


def _checked(name, M, dtype, layout):
    """PyTorch's checks (ValueError, as its windows raise); the dtype to use."""
    dtype = nbgrad.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f'{name} requires non-negative window length, got M={M}')
    if layout is not strided:
        raise ValueError(f'{name} is implemented for strided tensors only, got: {layout}')
    if dtype not in (nbgrad.float32, nbgrad.float64):
        raise ValueError(f'{name} expects float32 or float64 dtypes, got: {dtype}')
    return dtype


def _trivial(M, dtype, device, requires_grad, ones_at_one=True):
    """The windows of length 0 (empty) and 1 (a one), or None."""
    if M == 0:
        return nbgrad.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1 and ones_at_one:
        return nbgrad.ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def _positions(start, end, M, dtype, device, requires_grad):
    return nbgrad.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau) (the Poisson window)."""
    dtype = _checked('exponential', M, dtype, layout)
    if tau <= 0:
        raise ValueError(f'Tau must be positive, got: {tau} instead.')
    if sym and center is not None:
        raise ValueError('Center must be None for symmetric windows')
    trivial = _trivial(M, dtype, device, requires_grad, ones_at_one=False)
    if trivial is not None:
        return trivial
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = _positions(-center * constant, (-center + (M - 1)) * constant, M, dtype, device,
                   requires_grad)
    return nbgrad.exp(-nbgrad.abs(k))


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M) (the sine window)."""
    dtype = _checked('cosine', M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad, ones_at_one=False)
    if trivial is not None:
        return trivial
    start = 0.5
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = _positions(start * constant, (start + (M - 1)) * constant, M, dtype, device,
                   requires_grad)
    return nbgrad.sin(k)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False):
    """exp(-(n - c)^2 / (2 std^2)) around the window's center c."""
    dtype = _checked('gaussian', M, dtype, layout)
    if std <= 0:
        raise ValueError(f'Standard deviation must be positive, got: {std} instead.')
    trivial = _trivial(M, dtype, device, requires_grad, ones_at_one=False)
    if trivial is not None:
        return trivial
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _positions(start * constant, (start + (M - 1)) * constant, M, dtype, device,
                   requires_grad)
    return nbgrad.exp(-(k ** 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None,
           requires_grad=False):
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)."""
    dtype = _checked('kaiser', M, dtype, layout)
    if beta < 0:
        raise ValueError(f'beta must be non-negative, got: {beta} instead.')
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    beta = nbgrad.tensor(beta, dtype=dtype, device=device)     # (PyTorch's: in the dtype)
    start = -beta
    constant = 2.0 * beta / (M if not sym else M - 1)
    end = nbgrad.minimum(beta, start + (M - 1) * constant)
    k = _positions(start, end, M, dtype, device, requires_grad)
    return nbgrad.i0(nbgrad.sqrt(beta * beta - nbgrad.pow(k, 2))) / nbgrad.i0(beta)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """general_hamming with alpha 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """general_hamming with alpha 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """general_cosine with coefficients 0.42, 0.5, 0.08."""
    dtype = _checked('blackman', M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """1 - |2n / (M - 1) - 1| (the triangular window reaching zero at both ends)."""
    dtype = _checked('bartlett', M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    start = -1
    constant = 2 / (M if not sym else M - 1)
    k = _positions(start, start + (M - 1) * constant, M, dtype, device, requires_grad)
    return 1 - nbgrad.abs(k)


def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None,
                   requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _checked('general_cosine', M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    if not isinstance(a, Iterable):
        raise TypeError('Coefficients must be a list/tuple')
    if not a:
        raise ValueError('Coefficients cannot be empty')
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _positions(0, (M - 1) * constant, M, dtype, device, requires_grad)
    a_i = nbgrad.tensor([(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype,
                        requires_grad=requires_grad)
    i = nbgrad.arange(a_i.shape[0], dtype=a_i.dtype, device=a_i.device,
                      requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * nbgrad.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None,
                    requires_grad=False):
    """general_cosine with coefficients alpha, 1 - alpha."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """general_cosine with Nuttall's four coefficients (minimum 4-term Blackman-Harris)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)
