"""nn.MultiheadAttention, with PyTorch's parameters (names, shapes, registration order and
initialisation), so a PyTorch state_dict loads and a seeded layer gets PyTorch's weights.

PyTorch's fused inference path (_native_multi_head_attention) computes the same function; here
every call runs F.multi_head_attention_forward.
"""
from ... import _creation
from .. import init
from .. import functional as F
from ..functional.attention import _canonical_mask, _none_or_dtype
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ['MultiheadAttention']


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim // num_heads features each:
    out_proj(concat_h softmax(q_h k_h^T / sqrt(head_dim) + mask) v_h).

    Inputs are (L, N, E) (or (N, L, E) with batch_first=True) or unbatched (L, E). forward returns
    (output, attention weights or None)."""
    __constants__ = ['batch_first']

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f'embed_dim and num_heads must be greater than 0, got embed_dim='
                             f'{embed_dim} and num_heads={num_heads} instead')
        factory = {'device': device, 'dtype': dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError('embed_dim must be divisible by num_heads')

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_creation.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(_creation.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(_creation.empty((embed_dim, self.vdim), **factory))
            self.register_parameter('in_proj_weight', None)
        else:
            self.in_proj_weight = Parameter(_creation.empty((3 * embed_dim, embed_dim),
                                                            **factory))
            for name in ('q_proj_weight', 'k_proj_weight', 'v_proj_weight'):
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = Parameter(_creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter('in_proj_bias', None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(_creation.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(_creation.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        # out_proj.weight keeps Linear's own initialisation, as in PyTorch
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def __setstate__(self, state):
        # checkpoints of PyTorch 1.1 have no _qkv_same_embed_dim
        state.setdefault('_qkv_same_embed_dim', True)
        super().__setstate__(state)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        batched = query.dim() == 3
        fast = self._takes_fast_path(query, key, value, key_padding_mask, attn_mask)
        if fast:
            # PyTorch's fast path (_native_multi_head_attention) computes the weights with a
            # plain softmax even when they are not returned (a query whose keys are all masked
            # gives NaN there, where the other paths' attention gives 0: need_weights=True's
            # path here), and its output is a fresh (N, L, E) tensor, not a transposed view
            output, weights = self._forward(query, key, value, key_padding_mask, True,
                                            attn_mask, average_attn_weights, is_causal, batched)
            return output.contiguous(), weights if need_weights else None
        return self._forward(query, key, value, key_padding_mask, need_weights, attn_mask,
                             average_attn_weights, is_causal, batched)

    def _forward(self, query, key, value, key_padding_mask, need_weights, attn_mask,
                 average_attn_weights, is_causal, batched):
        key_padding_mask = _canonical_mask(key_padding_mask, 'key_padding_mask',
                                           _none_or_dtype(attn_mask), 'attn_mask', query.dtype)
        attn_mask = _canonical_mask(attn_mask, 'attn_mask', None, '', query.dtype,
                                    check_other=False)
        if self.batch_first and batched:
            # keep `query is key` / `key is value`: the in-projection shares GEMMs on them
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = {} if self._qkv_same_embed_dim else {
            'use_separate_proj_weight': True, 'q_proj_weight': self.q_proj_weight,
            'k_proj_weight': self.k_proj_weight, 'v_proj_weight': self.v_proj_weight}
        # (through F, as PyTorch's: it hands the call to an overriding Tensor subclass)
        output, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            average_attn_weights=average_attn_weights, is_causal=is_causal, **separate)
        if self.batch_first and batched:
            output = output.transpose(1, 0)
        return output, weights

    def _takes_fast_path(self, query, key, value, key_padding_mask, attn_mask):
        """Whether PyTorch's MultiheadAttention.forward would take its fast path (its
        conditions, of PyTorch 2.13)."""
        from ... import autograd, backends
        from ...amp import autocast_mode
        if any(m is not None and m.is_floating_point() for m in (attn_mask, key_padding_mask)):
            return False
        if not (backends.mha.get_fastpath_enabled() and query.dim() == 3 and query is key
                and key is value and self.in_proj_weight is not None and not self.training
                and self.num_heads % 2 == 0 and self.batch_first and self.bias_k is None
                and self.bias_v is None and not self.add_zero_attn
                and self._qkv_same_embed_dim and not autocast_mode.is_autocast_enabled()):
            return False
        if self.in_proj_bias is None or query.dtype != self.in_proj_weight.dtype or \
                query.dtype != self.in_proj_bias.dtype:
            return False
        parameters = (query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight,
                      self.out_proj.bias)
        return not (autograd.is_grad_enabled() and
                    any(t is not None and t.requires_grad for t in parameters))

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """attn_mask and key_padding_mask (already float) as one (N, num_heads, L, L) mask, and
        PyTorch's mask type: 1 for padding only, 2 otherwise, None without masks."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                merged = attn_mask.view(1, 1, seq_len, seq_len).expand(
                    batch_size, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.view(batch_size, 1, 1, seq_len).expand(
                    -1, self.num_heads, -1, -1)
        return merged, mask_type
