"""Attention corners found by a sweep, against PyTorch: the fused encoder-layer kernel's NaN for
a query whose keys are all masked, the fast paths' output layouts (MultiheadAttention's
contiguous (N, L, E); scaled_dot_product_attention's flash kernel writing in the query's
layout), and half-precision attention computed in float32 and rounded once."""
import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
LIBS = (torch, nbgrad)


def _encoder_outputs(lib):
    lib.manual_seed(0)
    layer = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).eval()
    x = lib.randn(3, 5, 8)
    padding = lib.tensor([[True] * 5, [False] * 5, [True] + [False] * 4])
    causal = lib.ones(5, 5, dtype=lib.bool).triu(1)
    causal[2] = True
    stack = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    with lib.no_grad():
        outs = [layer(x, src_key_padding_mask=padding), layer(x, src_mask=causal),
                stack(x, src_key_padding_mask=padding)]
    outs.append(layer(x, src_key_padding_mask=padding).detach())     # (grad on: no fast path)
    return [o.numpy() for o in outs]


def test_encoder_layer_fast_path_gives_pytorchs_nan_rows():
    theirs, ours = (_encoder_outputs(lib) for lib in LIBS)
    for want, have in zip(theirs, ours):
        np.testing.assert_array_equal(np.isnan(have), np.isnan(want))
        np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6)
    assert np.isnan(ours[0]).any() and not np.isnan(ours[3]).any()


def _layouts(lib):
    F = lib.nn.functional
    lib.manual_seed(0)
    q = lib.randn(2, 5, 12).view(2, 5, 3, 4).transpose(1, 2)
    found = []
    for x in (q, q.contiguous()):
        for options in ({}, {'is_causal': True}, {'dropout_p': 0.5}):
            found.append(F.scaled_dot_product_attention(x, x, x, **options).stride())
        found.append(F.scaled_dot_product_attention(x[..., :3], x[..., :3], x).stride())
    attention = lib.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    x = lib.randn(3, 5, 8)
    with lib.no_grad():
        for need_weights in (True, False):
            out = attention(x, x, x, need_weights=need_weights)[0]
            found.append(out.stride())
            found.append(tuple(out.view(3, -1).shape))
    return found


def test_attention_outputs_have_pytorchs_layouts():
    assert _layouts(nbgrad) == _layouts(torch)


def test_half_attention_rounds_once():
    def run(lib):
        F = lib.nn.functional
        lib.manual_seed(0)
        q, k, v = lib.randn(2, 3, 4, 5), lib.randn(2, 3, 6, 5), lib.randn(2, 3, 6, 7)
        half = F.scaled_dot_product_attention(q.half(), k.half(), v.half())
        attention = lib.nn.MultiheadAttention(8, 2).half()
        x = lib.randn(5, 2, 8).half()
        return half.float().numpy(), attention(x, x, x)[0].detach().float().numpy()
    for want, have in zip(run(torch), run(nbgrad)):
        np.testing.assert_array_equal(have, want)
