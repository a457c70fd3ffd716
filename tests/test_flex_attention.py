"""torch.nn.attention.flex_attention (nbgrad/nn/attention/flex_attention.py): outputs, lse,
score_mods and mask_mods, BlockMask's blocks and text, and the errors, against PyTorch's eager
implementation; gradients (which PyTorch's CPU path refuses) against PyTorch's
scaled_dot_product_attention, which computes the same function."""
import importlib
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both, compare_on_device

torch = pytest.importorskip('torch')
pytest.importorskip('torch.nn.attention.flex_attention')


def _qkv(lib, heads_kv=2, dtype='float32', length=6):
    rng = np.random.default_rng(0)

    def t(h, n):
        return lib.tensor(rng.standard_normal((2, h, n, 4)), dtype=getattr(lib, dtype))
    return t(2, length), t(heads_kv, length), t(heads_kv, length)


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def distance_bias(score, b, h, q_idx, kv_idx):
    return score + (q_idx - kv_idx) * 0.1


def head_and_batch(score, b, h, q_idx, kv_idx):
    return score * (h + 1) + b


def _fa(lib):
    return importlib.import_module(lib.__name__ + '.nn.attention.flex_attention')


def _documents(lib):
    doc = lib.tensor([0, 0, 1, 1, 1, 2])
    return _fa(lib).and_masks(causal, lambda b, h, q, kv: doc[q] == doc[kv])


def _alibi(lib):
    slopes = lib.tensor([0.5, 0.25], dtype=lib.float64)
    return lambda score, b, h, q, kv: score - slopes[h] * (q - kv).abs()


CASES = {
    'plain': lambda lib, fa, q, k, v: fa.flex_attention(q, k, v),
    'causal_block_mask': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, block_mask=fa.create_block_mask(causal, None, None, 6, 6, device='cpu')),
    'score_mod': lambda lib, fa, q, k, v: fa.flex_attention(q, k, v, score_mod=distance_bias),
    'head_batch_mod': lambda lib, fa, q, k, v: fa.flex_attention(q, k, v,
                                                                score_mod=head_and_batch),
    'scale': lambda lib, fa, q, k, v: fa.flex_attention(q, k, v, scale=0.3),
    'lse': lambda lib, fa, q, k, v: fa.flex_attention(q, k, v, return_lse=True),
    'aux_lse': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, return_aux=fa.AuxRequest(lse=True)),
    'all_masked': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, return_lse=True, block_mask=fa.create_block_mask(
            lambda b, h, qi, kvi: qi < 0, 2, 2, 6, 6, device='cpu')),
    'documents_small_blocks': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, block_mask=fa.create_block_mask(_documents(lib), 1, 1, 6, 6, device='cpu',
                                                 BLOCK_SIZE=2)),
    'alibi_float64': lambda lib, fa, q, k, v: fa.flex_attention(
        q.double(), k.double(), v.double(), score_mod=_alibi(lib)),
    'half': lambda lib, fa, q, k, v: fa.flex_attention(q.half(), k.half(), v.half()).float(),
    'gqa': lambda lib, fa, q, k, v: fa.flex_attention(q, k[:, :1], v[:, :1], enable_gqa=True),
    'adjusted': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, block_mask=fa.create_block_mask(causal, None, None, 8, 8, device='cpu',
                                                 BLOCK_SIZE=2)._adjust(6, 6)),
    # errors
    'three_dims': lambda lib, fa, q, k, v: fa.flex_attention(q[0], k[0], v[0]),
    'heads_differ': lambda lib, fa, q, k, v: fa.flex_attention(q, k[:, :1], v[:, :1]),
    'gqa_not_a_multiple': lambda lib, fa, q, k, v: fa.flex_attention(
        q, lib.cat([k, k[:, :1]], 1), lib.cat([v, v[:, :1]], 1), enable_gqa=True),
    'mask_too_short': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, block_mask=fa.create_block_mask(causal, None, None, 4, 4, device='cpu')),
    'mask_too_long': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, block_mask=fa.create_block_mask(causal, None, None, 8, 8, device='cpu')),
    'batch_one_kv_mask_of_one': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k[:1], v[:1], block_mask=fa.create_block_mask(causal, 1, None, 6, 6, device='cpu')),
    'batch_one_kv_mask_of_two': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k[:1], v[:1], block_mask=fa.create_block_mask(causal, 2, None, 6, 6, device='cpu')),
    'lse_and_aux': lambda lib, fa, q, k, v: fa.flex_attention(
        q, k, v, return_lse=True, return_aux=fa.AuxRequest(lse=True)),
    'not_callable': lambda lib, fa, q, k, v: fa.and_masks(causal, 3),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_pytorch(name):
    both(lambda lib: CASES[name](lib, _fa(lib), *_qkv(lib)), quiet=True)


MASKS = {
    'causal': lambda lib, fa: fa.create_block_mask(causal, None, None, 6, 6, device='cpu'),
    'nothing': lambda lib, fa: fa.create_block_mask(lambda b, h, q, kv: q < 0, 2, 2, 6, 6,
                                                    device='cpu'),
    'documents': lambda lib, fa: fa.create_block_mask(_documents(lib), 1, 1, 6, 6,
                                                      device='cpu', BLOCK_SIZE=2),
    'rectangular': lambda lib, fa: fa.create_block_mask(causal, 1, 2, 9, 5, device='cpu',
                                                        BLOCK_SIZE=(2, 3)),
    'large': lambda lib, fa: fa.create_block_mask(causal, 2, 3, 512, 512, device='cpu'),
    'not_separated': lambda lib, fa: fa.create_block_mask(
        causal, None, None, 8, 8, device='cpu', BLOCK_SIZE=2, separate_full_blocks=False),
}


@pytest.mark.parametrize('name', sorted(MASKS))
def test_block_masks(name):
    def run(lib):
        mask = MASKS[name](lib, _fa(lib))
        parts = [mask.kv_num_blocks, mask.kv_indices, mask.full_kv_num_blocks,
                 mask.full_kv_indices, mask.q_num_blocks, mask.q_indices,
                 mask.full_q_num_blocks, mask.full_q_indices]
        return (parts, mask.to_dense(), mask.shape, mask.BLOCK_SIZE, mask.seq_lengths,
                round(mask.sparsity(), 6), str(mask), repr(mask).replace('nbgrad', 'torch'),
                mask.to_string(grid_size=2, limit=1))
    both(run)


@pytest.mark.parametrize('mod', ['mask', 'score', 'or'])
def test_create_mask(mod):
    def run(lib):
        fa = _fa(lib)
        fn = {'mask': causal, 'score': lambda s, b, h, q, kv: lib.where(q >= kv, s, -float('inf')),
              'or': fa.or_masks(causal, lambda b, h, q, kv: kv == 5)}[mod]
        return fa.create_mask(fn, 1, 2, 4, 6, device='cpu'), \
            fa.create_mask(fa.noop_mask, None, None, 2, 3, device='cpu')
    both(run)


def test_gradients_equal_sdpa_causal():
    """nbgrad's flex_attention has gradients on the CPU (PyTorch's refuses); a causal mask's are
    PyTorch's scaled_dot_product_attention(is_causal=True) gradients."""
    grads = []
    for lib in (torch, nbgrad):
        q, k, v = (t.requires_grad_() for t in _qkv(lib, dtype='float64'))
        if lib is torch:
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            fa = _fa(lib)
            out = fa.flex_attention(q, k, v, block_mask=fa.create_block_mask(
                causal, None, None, 6, 6, device='cpu'))
        (out * out.detach().sin()).sum().backward()
        grads.append([t.grad.numpy() for t in (q, k, v)])
    for theirs, ours in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_fully_masked_rows_have_zero_gradient():
    fa = _fa(nbgrad)
    q, k, v = (t.requires_grad_() for t in _qkv(nbgrad, dtype='float64'))
    mask = fa.create_block_mask(lambda b, h, qi, kvi: qi > 0, None, None, 6, 6, device='cpu')
    fa.flex_attention(q, k, v, block_mask=mask).sum().backward()
    assert not np.isnan(q.grad.numpy()).any() and (q.grad.numpy()[:, :, 0] == 0).all()


def test_on_each_device(device):
    """Masks and mods with the tensors on `device` (CUDA: through CuPy), against PyTorch's CPU."""
    def run(lib, dev):
        fa = _fa(lib)
        q, k, v = (t.to(dev) for t in _qkv(lib))
        mask = fa.create_block_mask(causal, None, None, 6, 6, device=dev, BLOCK_SIZE=2)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return fa.flex_attention(q, k, v, block_mask=mask, score_mod=distance_bias,
                                     return_lse=True), mask.kv_num_blocks, mask.to_dense()
    compare_on_device(run, device)
