"""torch.autocast, as far as nbgrad goes: the context manager and decorator with PyTorch's
arguments and checks, that changes no dtype.

PyTorch's autocast runs chosen ops (matmuls, convolutions) in float16 or bfloat16 inside the
region. nbgrad does not do that yet: every op runs in its inputs' dtypes, so a float32 model
stays float32, which is more precise than PyTorch's mixed precision and no faster. Entering an
enabled region warns once saying so; is_autocast_enabled() stays False, because no op is
autocast (code that checks it then takes the path that matches what runs)."""
import functools
import warnings

from .. import _dtype
from .._device import to_device

__all__ = ['autocast', 'custom_fwd', 'custom_bwd', 'is_autocast_available',
           'is_autocast_enabled', 'get_autocast_dtype']

_DEFAULT_DTYPES = {'cuda': _dtype.float16, 'cpu': _dtype.bfloat16}
_warned = [False]


def is_autocast_available(device_type):
    return device_type in _DEFAULT_DTYPES


def is_autocast_enabled(device_type=None):
    """False: no op is autocast in nbgrad (see the module docstring)."""
    return False


def get_autocast_dtype(device_type):
    if device_type not in _DEFAULT_DTYPES:
        raise RuntimeError(f"unsupported autocast device_type '{device_type}'")
    return _DEFAULT_DTYPES[device_type]


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError('Expected `device_type` of type `str`, got: '
                             f'`{type(device_type)}`')
        to_device(device_type)          # a device type at all: PyTorch's error otherwise
        self.device = device_type
        self.fast_dtype = _DEFAULT_DTYPES.get(device_type) if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled

    def __enter__(self):
        if self._enabled and not _warned[0]:
            _warned[0] = True
            warnings.warn(f'nbgrad does not autocast yet: ops inside autocast('
                          f"'{self.device}', dtype={self.fast_dtype}) run in their inputs' "
                          'dtypes (a float32 model stays float32: more precise than '
                          "PyTorch's mixed precision, and no faster).", UserWarning,
                          stacklevel=2)
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """PyTorch's decorator for a custom Function's forward: it casts inputs to cast_inputs only
    inside an autocast-enabled region, which nbgrad never is, so forward runs as written."""
    if not isinstance(device_type, str):
        raise ValueError('Expected `device_type` of type `str`, got: '
                         f'`{type(device_type)}`')
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type):
    """PyTorch's decorator for a custom Function's backward (runs it under the forward's
    autocast state: in nbgrad, none)."""
    if not isinstance(device_type, str):
        raise ValueError('Expected `device_type` of type `str`, got: '
                         f'`{type(device_type)}`')
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
