"""torch.nn.attention: SDPBackend and sdpa_kernel, which choose the backends that
scaled_dot_product_attention may use.

nbgrad has one implementation of scaled_dot_product_attention, the math formula, and it serves
every backend. What sdpa_kernel changes is which calls are allowed: a call runs when one of the
enabled backends would accept its inputs in PyTorch, and raises PyTorch's RuntimeError
otherwise (see nn/functional/_sdpa_backends.py for the rules), so code written against
PyTorch's backend choices fails or runs as it would there. Results are the math formula's, which
PyTorch's fused kernels agree with to rounding."""
import contextlib
import enum

from ...backends import cuda as _cuda_flags

__all__ = ['SDPBackend', 'sdpa_kernel', 'WARN_FOR_UNFUSED_KERNELS']

# PyTorch's switch for warnings on why a fused kernel cannot run (nbgrad puts the reasons in
# the error instead)
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The backends of scaled_dot_product_attention, with PyTorch's values."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __str__(self):
        return f'SDPBackend.{self.name}'


# the flag of each backend in backends.cuda, in PyTorch's order
_FLAGS = {'cudnn': SDPBackend.CUDNN_ATTENTION, 'flash': SDPBackend.FLASH_ATTENTION,
          'mem_efficient': SDPBackend.EFFICIENT_ATTENTION, 'math': SDPBackend.MATH,
          'overrideable': SDPBackend.OVERRIDEABLE}
# PyTorch's default priority order (torch._C._get_sdp_priority_order())
_priority = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH,
             SDPBackend.CUDNN_ATTENTION, SDPBackend.OVERRIDEABLE]


def enabled_backends():
    """The backends whose flags are on, in priority order."""
    on = [backend for flag, backend in _FLAGS.items() if getattr(_cuda_flags._sdp, flag)]
    return sorted(on, key=_priority.index)


def _set_backends(backends, set_priority=False):
    for flag, backend in _FLAGS.items():
        setattr(_cuda_flags._sdp, flag, backend in backends)
    if set_priority:
        _priority[:] = list(backends) + [b for b in _priority if b not in backends]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the region only these backends (one SDPBackend or a list) may run
    scaled_dot_product_attention; set_priority=True also makes the list's order their
    priority. The previous choice is restored on exit."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f'Backend must be an instance of SDPBackend or a list of SDPBackend '
                             f'instances, got {type(backends).__name__}')
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous, previous_priority = enabled_backends(), list(_priority)
    try:
        _set_backends(backends, set_priority)
        yield {}
    finally:
        _set_backends(previous)
        _priority[:] = previous_priority
