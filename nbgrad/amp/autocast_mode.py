"""torch.autocast: inside an enabled region, chosen ops run in float16 (matmuls, convolutions),
others in float32 (losses, reductions, exp/log), as PyTorch's cast policies say (_policy.py).

The region's state lives in _state.py; the casts are made by the ops' entry points. Casts are
ordinary differentiable ops, so backward (which nbgrad runs with autocast off) sends float32
gradients to float32 weights through them, as in PyTorch.

bfloat16, the CPU default, works on the CPU (with the ml_dtypes package: see _bfloat16.py). On
CUDA nbgrad has no bfloat16 (CuPy has none): a CUDA region asking for it is disabled with a
warning, as PyTorch disables a region whose dtype a device does not support; pass
dtype=nbgrad.float16 there."""
import functools
import warnings

from .. import _dtype
from .._device import to_device
from . import _state

__all__ = ['autocast', 'custom_fwd', 'custom_bwd', 'is_autocast_available',
           'is_autocast_enabled', 'get_autocast_dtype', 'set_autocast_enabled',
           'set_autocast_dtype', 'clear_autocast_cache', 'is_autocast_cache_enabled',
           'set_autocast_cache_enabled', 'autocast_increment_nesting',
           'autocast_decrement_nesting', 'is_autocast_cpu_enabled', 'set_autocast_cpu_enabled',
           'get_autocast_cpu_dtype', 'set_autocast_cpu_dtype', 'get_autocast_gpu_dtype',
           'set_autocast_gpu_dtype']

_SUPPORTED = (_dtype.bfloat16, _dtype.float16)     # (in the order of PyTorch's CPU message)


def is_autocast_available(device_type):
    return device_type in _state.DEVICE_TYPES


def is_autocast_enabled(device_type='cuda'):
    """Whether autocast is on for device_type (PyTorch's no-argument form asks about CUDA)."""
    _state.check_device_type(device_type)
    return _state.enabled[device_type]


def set_autocast_enabled(device_type, enabled):
    _state.check_device_type(device_type)
    _state.set_enabled(device_type, enabled)


def get_autocast_dtype(device_type):
    _state.check_device_type(device_type)
    return _state.dtypes[device_type]


def set_autocast_dtype(device_type, dtype):
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be "
                        f'torch.dtype, not {type(dtype).__name__}')
    _state.check_device_type(device_type)
    _state.dtypes[device_type] = dtype


def _checked_dtype(dtype):
    """The deprecated per-device setters' own check (their message differs)."""
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f'dtype must be a torch.dtype (got {type(dtype).__name__})')
    return dtype


def clear_autocast_cache():
    _state.clear_cache()


def is_autocast_cache_enabled():
    return _state.is_cache_enabled()


def set_autocast_cache_enabled(enabled):
    _state.set_cache_enabled(enabled)


def autocast_increment_nesting():
    return _state.increment_nesting()


def autocast_decrement_nesting():
    return _state.decrement_nesting()


def _deprecated(old, new, function, *args):
    warnings.warn(f'torch.{old} is deprecated. Please use torch.{new} instead.',
                  DeprecationWarning, stacklevel=3)
    return function(*args)


# PyTorch's per-device spellings of the above, deprecated there
def is_autocast_cpu_enabled():
    return _deprecated('is_autocast_cpu_enabled()', "is_autocast_enabled('cpu')",
                       is_autocast_enabled, 'cpu')


def set_autocast_cpu_enabled(enabled):
    return _deprecated('set_autocast_cpu_enabled(enabled)',
                       "set_autocast_enabled('cpu', enabled)", set_autocast_enabled, 'cpu',
                       enabled)


def get_autocast_cpu_dtype():
    return _deprecated('get_autocast_cpu_dtype()', "get_autocast_dtype('cpu')",
                       get_autocast_dtype, 'cpu')


def set_autocast_cpu_dtype(dtype):
    return _deprecated('set_autocast_cpu_dtype(dtype)', "set_autocast_dtype('cpu', dtype)",
                       set_autocast_dtype, 'cpu', _checked_dtype(dtype))


def get_autocast_gpu_dtype():
    return _deprecated('get_autocast_gpu_dtype()', "get_autocast_dtype('cuda')",
                       get_autocast_dtype, 'cuda')


def set_autocast_gpu_dtype(dtype):
    return _deprecated('set_autocast_gpu_dtype(dtype)', "set_autocast_dtype('cuda', dtype)",
                       set_autocast_dtype, 'cuda', _checked_dtype(dtype))


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError('Expected `device_type` of type `str`, got: '
                             f'`{type(device_type)}`')
        to_device(device_type)          # a device type at all: PyTorch's error otherwise
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if enabled:
            enabled = self._supported()
        self._enabled = bool(enabled)

    def _supported(self):
        """False (after PyTorch's warning, or nbgrad's for bfloat16) where this region cannot
        autocast."""
        name = self.device.upper()
        if self.device == 'cuda':
            from .. import cuda
            if not cuda.is_available():
                warnings.warn('CUDA is not available or torch_xla is imported. Disabling '
                              'autocast.', stacklevel=3)
                return False
        if self.fast_dtype is _dtype.bfloat16 and (self.device != 'cpu' or
                                                    not _dtype.enable_bfloat16()):
            why = 'CuPy has no bfloat16 type' if self.device != 'cpu' else \
                'bfloat16 needs the ml_dtypes package (pip install ml_dtypes)'
            warnings.warn(f'In {name} autocast, but nbgrad has no bfloat16 here ({why}). '
                          'Disabling autocast: ops run in their inputs\' dtypes. Pass '
                          'dtype=nbgrad.float16 for mixed precision.', stacklevel=3)
            return False
        if self.fast_dtype not in _SUPPORTED:
            warnings.warn(f'In {name} autocast, but the target dtype is not supported. '
                          f'Disabling autocast.\n{name} Autocast only supports dtypes of '
                          f'{", ".join(map(str, _SUPPORTED))} currently.', stacklevel=3)
            return False
        return True

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, *exc):
        # the weights' low-precision copies live until the outermost region exits
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f'autocast()(func) requires a callable, but got '
                            f'{type(func).__name__}.')

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated


def _check_device_type_argument(device_type):
    if not isinstance(device_type, str):
        raise ValueError('Expected `device_type` of type `str`, got: '
                         f'`{type(device_type)}`')


def _cast_inputs(value, device_type, dtype):
    """PyTorch's custom_fwd cast: floating tensors on device_type (not float64) to dtype, through
    lists, tuples and dicts."""
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        if value.is_floating_point() and value.dtype is not _dtype.float64 and \
                value.device.type == device_type:
            return value.to(dtype)
        return value
    if isinstance(value, dict):
        return {k: _cast_inputs(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """For a custom Function's forward (PyTorch's): records the region's autocast state on ctx
    for custom_bwd; with cast_inputs, inside an enabled region, runs forward on inputs cast to
    that dtype with autocast off."""
    _check_device_type_argument(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if not autocast_context:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast_inputs(args, device_type, cast_inputs),
                       **_cast_inputs(kwargs, device_type, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """For a custom Function's backward (PyTorch's): runs it under the autocast state its
    forward ran under."""
    _check_device_type_argument(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast,
                      dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
