"""nn.attention (SDPBackend, sdpa_kernel) and backends.cuda's SDP flags against PyTorch's: which
calls of scaled_dot_product_attention run and which raise under each choice of backends (on the
CPU, PyTorch itself decides), the flags a region sets and restores, the deprecated sdp_kernel."""
import warnings

import numpy as np
import pytest
import torch

import nbgrad

RNG = np.random.default_rng(0)
Q = RNG.standard_normal((2, 3, 4, 8)).astype(np.float32)
V5 = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)


def _sdpa(lib, name):
    F = lib.nn.functional
    q = lib.tensor(Q)
    return {
        'plain': lambda: F.scaled_dot_product_attention(q, q, q),
        'float64': lambda: F.scaled_dot_product_attention(q.double(), q.double(), q.double()),
        'bool mask': lambda: F.scaled_dot_product_attention(
            q, q, q, attn_mask=lib.ones(4, 4, dtype=lib.bool).tril()),
        'float mask': lambda: F.scaled_dot_product_attention(q, q, q, attn_mask=lib.zeros(4, 4)),
        'causal': lambda: F.scaled_dot_product_attention(q, q, q, is_causal=True),
        'dropout': lambda: F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).shape,
        '3-d': lambda: F.scaled_dot_product_attention(q[0], q[0], q[0]),
        '5-d': lambda: F.scaled_dot_product_attention(q[None], q[None], q[None]),
        'gqa': lambda: F.scaled_dot_product_attention(q, q[:, :1], q[:, :1], enable_gqa=True),
        'value dim differs': lambda: F.scaled_dot_product_attention(q, q, lib.tensor(V5)),
        'batch broadcast': lambda: F.scaled_dot_product_attention(q, q[:1], q[:1]),
        'scale': lambda: F.scaled_dot_product_attention(q, q, q, scale=0.3),
    }[name]()


BACKEND_CHOICES = [['MATH'], ['FLASH_ATTENTION'], ['EFFICIENT_ATTENTION'], ['CUDNN_ATTENTION'],
                   ['ERROR'], ['OVERRIDEABLE'], ['FLASH_ATTENTION', 'EFFICIENT_ATTENTION'],
                   ['EFFICIENT_ATTENTION', 'MATH'], []]
CALLS = ['plain', 'float64', 'bool mask', 'float mask', 'causal', 'dropout', '3-d', '5-d', 'gqa',
         'value dim differs', 'batch broadcast', 'scale']


@pytest.mark.parametrize('call', CALLS)
@pytest.mark.parametrize('choice', BACKEND_CHOICES, ids='+'.join)
def test_cpu_calls_run_or_fail_as_in_pytorch(choice, call):
    outcomes = []
    for lib in (torch, nbgrad):
        attention = lib.nn.attention
        backends = [getattr(attention.SDPBackend, name) for name in choice]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')      # PyTorch's warnings on why a kernel can't run
            with attention.sdpa_kernel(backends):
                try:
                    outcomes.append(('ran', _sdpa(lib, call)))
                except RuntimeError as error:
                    outcomes.append(('raised', str(error).split(' (')[0]))
    (kind_t, value_t), (kind_n, value_n) = outcomes
    assert kind_n == kind_t, (choice, call, value_t, value_n)
    if kind_t == 'raised':
        assert value_n == value_t
    elif isinstance(value_t, torch.Tensor):
        np.testing.assert_allclose(value_n.numpy(), value_t.numpy(), rtol=1e-5, atol=1e-6)
    else:
        assert tuple(value_n) == tuple(value_t)


def test_backend_enum_matches_pytorch():
    for member in torch.nn.attention.SDPBackend.__members__.values():
        ours = getattr(nbgrad.nn.attention.SDPBackend, member.name)
        assert int(ours) == int(member) and repr(ours) == repr(member) and str(ours) == str(member)
    assert set(nbgrad.nn.attention.SDPBackend.__members__) == \
        set(torch.nn.attention.SDPBackend.__members__)


def _flags(lib):
    cuda = lib.backends.cuda
    return (cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(), cuda.math_sdp_enabled(),
            cuda.cudnn_sdp_enabled())


def test_regions_set_and_restore_the_flags_as_pytorch():
    seen = {}
    for lib in (torch, nbgrad):
        attention = lib.nn.attention
        log = [_flags(lib)]
        with attention.sdpa_kernel(attention.SDPBackend.FLASH_ATTENTION):
            log.append(_flags(lib))
            with attention.sdpa_kernel([attention.SDPBackend.MATH,
                                        attention.SDPBackend.CUDNN_ATTENTION],
                                       set_priority=True):
                log.append(_flags(lib))
            log.append(_flags(lib))
        log.append(_flags(lib))
        lib.backends.cuda.enable_math_sdp(False)
        log.append(_flags(lib))
        lib.backends.cuda.enable_math_sdp(True)
        with pytest.raises(AssertionError) as error:
            with attention.sdpa_kernel('MATH'):
                pass
        log.append(str(error.value))
        seen[lib] = log
    assert seen[nbgrad] == seen[torch]


def test_deprecated_sdp_kernel_warns_and_chooses_as_pytorch():
    seen = {}
    for lib in (torch, nbgrad):
        with pytest.warns(FutureWarning) as caught:
            with lib.backends.cuda.sdp_kernel(enable_math=False, enable_cudnn=False):
                flags = _flags(lib)
        seen[lib] = (str(caught[0].message), flags, _flags(lib))
    assert seen[nbgrad] == seen[torch]


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_cuda_fused_backends_take_the_dtypes_pytorch_documents():
    attention = nbgrad.nn.attention
    F = nbgrad.nn.functional
    q = nbgrad.tensor(Q, device='cuda')
    with attention.sdpa_kernel(attention.SDPBackend.FLASH_ATTENTION):
        with pytest.raises(RuntimeError, match='No available kernel.*float16'):
            F.scaled_dot_product_attention(q, q, q)            # flash: half precision only
        half = q.half()
        assert F.scaled_dot_product_attention(half, half, half).dtype == nbgrad.float16
    with attention.sdpa_kernel(attention.SDPBackend.EFFICIENT_ATTENTION):
        out = F.scaled_dot_product_attention(q, q, q)
    np.testing.assert_allclose(out.cpu().numpy(), torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(Q),) * 3).numpy(), rtol=1e-5, atol=1e-6)
