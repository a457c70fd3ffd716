"""torch.nn.attention.bias: causal_upper_left / causal_lower_right as scaled_dot_product_attention
masks for queries and keys of different lengths, against PyTorch (outputs and gradients)."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both

torch = pytest.importorskip('torch')


def _bias(lib):
    import importlib
    return importlib.import_module(lib.__name__ + '.nn.attention.bias')


@pytest.mark.parametrize('lengths', [(3, 5), (4, 4), (2, 6)])
@pytest.mark.parametrize('variant', ['causal_lower_right', 'causal_upper_left'])
def test_causal_biases_mask_attention_as_pytorch(lengths, variant):
    rng = np.random.default_rng(0)
    length_q, length_kv = lengths
    arrays = [rng.standard_normal((2, 2, n, 8)).astype(np.float32)
              for n in (length_q, length_kv, length_kv)]

    def run(lib):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        bias = getattr(_bias(lib), variant)(length_q, length_kv)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        (out * lib.tensor(arrays[0][..., :1])).sum().backward()
        return out, q.grad, k.grad, v.grad, bias._materialize()
    both(run, check=lambda got, expected: assert_same(got, expected, rtol=1e-5, atol=1e-6))


def test_repr_variants_and_errors():
    both(lambda lib: (repr(_bias(lib).causal_lower_right(3, 4)).replace('torch', 'nbgrad'),
                      int(_bias(lib).CausalVariant.LOWER_RIGHT),
                      int(_bias(lib).CausalVariant.UPPER_LEFT)))
    assert_same_error(lambda lib: _bias(lib).causal_lower_right(3))
    assert_same_error(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        *[lib.ones(1, 1, 2, 4)] * 3, attn_mask=_bias(lib).causal_upper_left(2, 2),
        is_causal=True))
    assert isinstance(nbgrad.nn.attention.bias.causal_upper_left(2, 3),
                      nbgrad.nn.attention.bias.CausalBias)
