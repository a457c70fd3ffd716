"""torch.backends.cuda: `matmul` (TF32 and reduced-precision switches, tied to
set_float32_matmul_precision as in PyTorch), is_built() (whether CuPy can be imported), and the
scaled-dot-product-attention kernel switches (nbgrad has one, math, implementation: the switches
are recorded only)."""
import contextlib
import importlib.util
import warnings

from ._flags import BoolFlag

_PRECISIONS = ('highest', 'high', 'medium')
_precision = ['highest']


def is_built():
    """Whether nbgrad can run on CUDA here: CuPy is installed."""
    return importlib.util.find_spec('cupy') is not None


def set_float32_matmul_precision(precision):
    """PyTorch's switch letting float32 matrix products use TF32 ('high') or bfloat16
    ('medium'). nbgrad records it and computes in full float32 whatever it is ('highest'), which
    the setting permits. An unknown name warns and changes nothing, as in PyTorch."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _precision[0] = precision


def get_float32_matmul_precision():
    return _precision[0]


def _check_reduction_flag(name, value):
    if not (isinstance(value, bool) or (isinstance(value, (tuple, list)) and value
                                        and all(isinstance(v, bool) for v in value))):
        raise TypeError(f'{name} expects a bool or a tuple/list of bools, but got '
                        f'{type(value)}')


class _Matmul:
    """torch.backends.cuda.matmul."""

    @property
    def allow_tf32(self):
        return _precision[0] != 'highest'

    @allow_tf32.setter
    def allow_tf32(self, value):
        if not isinstance(value, bool):
            raise RuntimeError(f'set_allow_tf32_cublas expects a bool, but got '
                               f'{type(value).__name__}')
        _precision[0] = 'high' if value else 'highest'

    def __init__(self):
        object.__setattr__(self, '_reduced', {'allow_fp16_reduced_precision_reduction': True,
                                              'allow_bf16_reduced_precision_reduction': True})

    def __getattr__(self, name):
        reduced = object.__getattribute__(self, '_reduced')
        if name in reduced:
            return reduced[name]
        raise AttributeError(f'Unknown attribute {name}')

    def __setattr__(self, name, value):
        if name == 'allow_tf32':
            object.__setattr__(self, name, value)
        elif name in self._reduced:
            _check_reduction_flag(name, value)
            self._reduced[name] = value
        else:
            raise AttributeError(f'Unknown attribute {name}')


matmul = _Matmul()


class _SdpFlags:
    """Which scaled_dot_product_attention backends may run (for every device, as in PyTorch,
    despite the module's name); nn.attention.sdpa_kernel sets them for a region."""
    flash = BoolFlag(True, 'enable_flash_sdp')
    mem_efficient = BoolFlag(True, 'enable_mem_efficient_sdp')
    math = BoolFlag(True, 'enable_math_sdp')
    cudnn = BoolFlag(True, 'enable_cudnn_sdp')
    overrideable = BoolFlag(True, '_set_sdp_use_overrideable')


_sdp = _SdpFlags()


def flash_sdp_enabled():
    return _sdp.flash


def enable_flash_sdp(enabled):
    _sdp.flash = enabled


def mem_efficient_sdp_enabled():
    return _sdp.mem_efficient


def enable_mem_efficient_sdp(enabled):
    _sdp.mem_efficient = enabled


def math_sdp_enabled():
    return _sdp.math


def enable_math_sdp(enabled):
    _sdp.math = enabled


def cudnn_sdp_enabled():
    return _sdp.cudnn


def enable_cudnn_sdp(enabled):
    _sdp.cudnn = enabled


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """PyTorch's deprecated spelling of nn.attention.sdpa_kernel."""
    warnings.warn('`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context '
                  'manager will be removed. Please see `torch.nn.attention.sdpa_kernel()` for '
                  'the new context manager, with updated signature.', FutureWarning,
                  stacklevel=3)
    from ..nn.attention import SDPBackend, sdpa_kernel
    chosen = [backend for backend, on in ((SDPBackend.FLASH_ATTENTION, enable_flash),
                                          (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
                                          (SDPBackend.MATH, enable_math),
                                          (SDPBackend.CUDNN_ATTENTION, enable_cudnn)) if on]
    with sdpa_kernel(chosen) as context:
        yield context
