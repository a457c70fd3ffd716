"""Window functions for signal processing: hann, hamming, bartlett, blackman and kaiser windows.

Each is computed as PyTorch's kernel computes it (TensorFactories.cpp): the same operations on
arange in the window's dtype, in the same order, so float32 windows round as PyTorch's do.
A periodic window of length N is the first N points of the symmetric window of length N + 1.
The result is a new leaf (requires_grad=True makes it one that requires grad).
"""
import math

from .. import _dtype
from .._creation import _finish, arange, empty, ones
from .._device import to_device
from ._args import int_arg, invalid_combination, is_float_arg
from .elementwise import where
from .._layout import check_layout

# C++'s names of the dtypes, as PyTorch prints them in a TensorOptions
_CPP_NAMES = {'int64': 'long int', 'int32': 'int', 'int16': 'short int', 'int8': 'signed char',
              'uint8': 'unsigned char', 'bool': 'bool'}
_DEFAULTS = {'hamming_window': (0.54, 0.46), 'kaiser_window': (12.0,)}
_KEYWORDS = ('*, nbgrad.dtype dtype = None, nbgrad.layout layout = None, nbgrad.device device = '
             'None, bool pin_memory = False, bool requires_grad = False')


def _window(name, window_length, periodic, params, options, body):
    """The frame all windows share: PyTorch's argument and option checks, the windows of
    length 0 and 1, then body(n, L): the window at n = 0..N-1 of a symmetric window of
    length L (L = N + 1 when periodic)."""
    window_length = int_arg(window_length, name, 'window_length', 1)
    _check_types(name, window_length, periodic, params)
    dtype, device, pin_memory, requires_grad = options
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = to_device(device)
    if dt.np.kind not in _dtype.INEXACT_KINDS:
        raise RuntimeError(f'{name} expects floating point dtypes, got: TensorOptions('
                           f'dtype={_CPP_NAMES[dt.np.name]}, device={dev}, layout=Strided '
                           f'(default), requires_grad=false (default), pinned_memory='
                           f'{str(bool(pin_memory)).lower()}, memory_format=(nullopt))')
    if window_length < 0:
        raise RuntimeError(f'{name} requires non-negative window_length, got '
                           f'window_length={window_length}')
    if window_length <= 1:
        window = (empty if window_length == 0 else ones)(window_length, dtype=dt, device=dev)
    else:
        # complex dtypes pass the checks and fail here, in arange, as in PyTorch
        n = arange(window_length, dtype=dt, device=dev)
        window = body(n, window_length + 1 if periodic else window_length)
    return _finish(window._data, requires_grad)


def _check_types(name, window_length, periodic, params):
    """PyTorch's overloads take periodic as a bool and the window's parameters as floats."""
    numbers = all(is_float_arg(v) for v in params.values())
    if isinstance(periodic, bool) and numbers:
        return
    # the message lists the types of the arguments up to the last one given, as far as nbgrad
    # can tell: a parameter left at its default counts as not given (and all as positionals)
    values = list(params.values())
    defaults = _DEFAULTS.get(name, ())
    while values and type(values[-1]) is float and values[-1] == defaults[len(values) - 1]:
        values.pop()
    given = [window_length, periodic] + values
    names = ['int window_length', 'bool periodic'] + [f'float {p}' for p in params]
    raise invalid_combination(name, given, {}, [', '.join(names[:k] + [_KEYWORDS])
                                                 for k in range(1, len(names) + 1)])


def _float(value):
    """A float parameter's value (is_float_arg has accepted it)."""
    value = value.item() if hasattr(value, 'item') else value
    if isinstance(value, complex):
        raise RuntimeError('value cannot be converted to type double without overflow')
    return float(value)


def _hamming(n, length, alpha, beta):
    return n.mul(math.pi * 2.0 / (length - 1)).cos().mul(-beta).add(alpha)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (L - 1)): hamming_window with alpha = beta = 0.5."""
    check_layout(layout, 'hann_window')
    return _window('hann_window', window_length, periodic, {},
                   (dtype, device, pin_memory, requires_grad),
                   lambda n, length: _hamming(n, length, 0.5, 0.5))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi n / (L - 1))."""
    check_layout(layout, 'hamming_window')
    return _window('hamming_window', window_length, periodic, {'alpha': alpha, 'beta': beta},
                   (dtype, device, pin_memory, requires_grad),
                   lambda n, length: _hamming(n, length, _float(alpha), _float(beta)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """The triangle 2n / (L - 1), mirrored as 2 - 2n / (L - 1) past the middle."""
    check_layout(layout, 'bartlett_window')
    def body(n, length):
        rising = n.mul(2.0 / (length - 1))
        first_half = ((length - 1) >> 1) + 1  # PyTorch's split: the peak belongs to the first
        return where(n >= first_half, rising.mul(-1).add(2), rising)
    return _window('bartlett_window', window_length, periodic, {},
                   (dtype, device, pin_memory, requires_grad), body)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (L - 1)) + 0.08 cos(4 pi n / (L - 1))."""
    check_layout(layout, 'blackman_window')
    def body(n, length):
        # (PyTorch rounds these two factors to the window's dtype first: half windows differ)
        def rounded(value):
            return float(n._data.dtype.type(value))
        w = n.mul(rounded(math.pi / (length - 1)))
        return w.mul(4).cos().mul(rounded(0.08)) - w.mul(2).cos().mul(0.5) + 0.42
    return _window('blackman_window', window_length, periodic, {},
                   (dtype, device, pin_memory, requires_grad), body)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), with a = (L - 1) / 2.

    PyTorch computes each point in the dtype's "opmath" type, so a float16 window is
    computed in float32 and rounded once."""
    check_layout(layout, 'kaiser_window')
    def body(n, length):
        work = n.float() if n.dtype is _dtype.float16 else n
        alpha = work.new_tensor((length - 1) / 2.0)  # the constants in the working dtype
        b = work.new_tensor(_float(beta))
        ratio = (work - alpha) / alpha
        return ((1 - ratio.pow(2.0)).abs().sqrt() * b).i0().div(b.i0()).to(n.dtype)
    return _window('kaiser_window', window_length, periodic, {'beta': beta},
                   (dtype, device, pin_memory, requires_grad), body)
