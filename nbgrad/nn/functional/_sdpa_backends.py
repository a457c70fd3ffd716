"""Whether scaled_dot_product_attention may run under the backends nn.attention.sdpa_kernel
left enabled: PyTorch's rules for which backend accepts which inputs (its select_sdp_backend),
as far as they decide between running and PyTorch's "No available kernel" error.

The math backend accepts everything, and is on unless a region turned it off, so the check is
one flag read in the common case. On the CPU PyTorch has two backends, math and flash (rules
read from PyTorch 2.13 CPU's behaviour, tested against it); on CUDA flash, memory-efficient and
cuDNN attention, whose rules here are the documented dtype and shape limits (not checked against
a GPU: a call they pass runs nbgrad's formula in any case)."""
from ... import _dtype
from ..attention import SDPBackend, enabled_backends

_NO_BACKEND = ('No viable backend for scaled_dot_product_attention was found. This is likely '
               'due to turning off both the math kernel and the fused kernels.')
_NO_KERNEL = 'No available kernel.  Aborting execution.'


def _dense_4d(query, key, value, enable_gqa):
    if not query.dim() == key.dim() == value.dim() == 4:
        return (f'requires query, key and value to be 4 dimensional, but got query dim: '
                f'{query.dim()}, key dim: {key.dim()}, value dim: {value.dim()}')
    if not query.size(0) == key.size(0) == value.size(0):
        return 'requires query, key and value to have the same batch size'
    if not enable_gqa and not query.size(1) == key.size(1) == value.size(1):
        return 'requires query, key and value to have the same number of heads'
    return None


def _flash_cpu(query, key, value, attn_mask, dropout_p, enable_gqa):
    if dropout_p > 0.0:
        return 'does not support dropout on the CPU'
    if attn_mask is not None and attn_mask.requires_grad:   # even under no_grad
        return 'does not support an attn_mask that requires grad'
    if not query.size(-1) == key.size(-1) == value.size(-1):
        return 'requires query, key and value to have the same last dimension'
    return None


def _flash_cuda(query, key, value, attn_mask, dropout_p, enable_gqa):
    if query.dtype is not _dtype.float16:
        return f'supports float16 (and bfloat16) inputs, not {query.dtype}'
    if attn_mask is not None:
        return 'does not support an attn_mask'
    if not query.size(-1) == key.size(-1) == value.size(-1) or query.size(-1) > 256:
        return 'requires one last dimension of at most 256 for query, key and value'
    return None


def _efficient_cuda(query, key, value, attn_mask, dropout_p, enable_gqa):
    if query.dtype not in (_dtype.float16, _dtype.float32):
        return f'supports float16 and float32 inputs, not {query.dtype}'
    return None


def _cudnn_cuda(query, key, value, attn_mask, dropout_p, enable_gqa):
    if query.dtype is not _dtype.float16:
        return f'supports float16 (and bfloat16) inputs, not {query.dtype}'
    if not query.size(-1) == key.size(-1) == value.size(-1) or query.size(-1) > 128 or \
            query.size(-1) % 8:
        return 'requires one last dimension, a multiple of 8 of at most 128'
    return None


_FUSED = {'cpu': {SDPBackend.FLASH_ATTENTION: _flash_cpu},
          'cuda': {SDPBackend.FLASH_ATTENTION: _flash_cuda,
                   SDPBackend.EFFICIENT_ATTENTION: _efficient_cuda,
                   SDPBackend.CUDNN_ATTENTION: _cudnn_cuda}}
_NAMES = {SDPBackend.FLASH_ATTENTION: 'flash attention',
          SDPBackend.EFFICIENT_ATTENTION: 'memory-efficient attention',
          SDPBackend.CUDNN_ATTENTION: 'cuDNN attention'}


def flash_cpu_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether PyTorch would run these CPU inputs on its flash kernel (tried before math when
    enabled), which, unlike math, accepts an attn_mask together with is_causal."""
    return (query.device.type == 'cpu' and SDPBackend.FLASH_ATTENTION in enabled_backends()
            and _dense_4d(query, key, value, enable_gqa) is None
            and _flash_cpu(query, key, value, attn_mask, dropout_p, enable_gqa) is None)


def check(query, key, value, attn_mask, dropout_p, enable_gqa):
    """RuntimeError, with PyTorch's message and each enabled backend's reason, when no enabled
    backend accepts these inputs."""
    enabled = enabled_backends()
    if SDPBackend.MATH in enabled:
        return
    fused = _FUSED[query.device.type]
    candidates = [backend for backend in enabled if backend in fused]
    if not candidates:
        raise RuntimeError(_NO_BACKEND)
    reasons = []
    for backend in candidates:
        reason = _dense_4d(query, key, value, enable_gqa) or \
            fused[backend](query, key, value, attn_mask, dropout_p, enable_gqa)
        if reason is None:
            return
        reasons.append(f'{_NAMES[backend]} {reason}')
    raise RuntimeError(f'{_NO_KERNEL} ({"; ".join(reasons)}; the math backend, which takes '
                       f'any inputs, is turned off by sdpa_kernel)')
