"""torch.nn.attention.bias: causal masks for scaled_dot_product_attention when the query and
the keys have different lengths (decoding with a cache, chunked prefill).

causal_upper_left(L, S) lets query i see keys 0..i (the mask is_causal=True gives);
causal_lower_right(L, S) aligns the diagonal to the last key, so the last query sees every key:
query i sees keys 0..i + S - L. Pass either as attn_mask. PyTorch's CausalBias is a tensor
subclass that intercepts scaled_dot_product_attention through __torch_function__; nbgrad's is a
plain object that scaled_dot_product_attention recognises, with the same dispatch: the upper-left
variant (or L == S) runs as is_causal=True, the lower-right one as its materialised mask."""
import enum

__all__ = ['causal_upper_left', 'causal_lower_right', 'CausalVariant', 'CausalBias']


class CausalVariant(enum.IntEnum):
    """Where the causal diagonal starts: the upper-left corner or the lower-right one."""
    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal mask of a given variant and size, made into a tensor only when needed."""

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError('variant must be a CausalVariant type')
        self.variant, self.seq_len_q, self.seq_len_kv = variant, seq_len_q, seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            import warnings
            warnings.warn('Lower right causal bias will produce NaNs in the output when '
                          'seq_len_q > seq_len_kv!', stacklevel=3)

    def _upper_left(self, device):
        return self._ones(device).tril()

    def _lower_right(self, device):
        return self._ones(device).tril(diagonal=self.seq_len_kv - self.seq_len_q)

    def _ones(self, device):
        from ... import _creation, _dtype
        return _creation.ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=_dtype.bool)

    def _materialize(self, device=None):
        """The mask as a bool tensor (True where a query may see a key)."""
        device = 'cpu' if device is None else device
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        return self._lower_right(device)

    def _attend(self, query, key, value, dropout_p, is_causal, scale, enable_gqa):
        """scaled_dot_product_attention with this bias as its mask (PyTorch's _dispatch)."""
        from ..functional import scaled_dot_product_attention
        if is_causal:
            raise ValueError('CausalBias should not be used with causal=True')
        if self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT:
            return scaled_dot_product_attention(query, key, value, None, dropout_p, True,
                                                scale=scale, enable_gqa=enable_gqa)
        return scaled_dot_product_attention(query, key, value, self._materialize(query.device),
                                            dropout_p, False, scale=scale, enable_gqa=enable_gqa)

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The causal bias whose diagonal starts at the upper-left corner, of size (L, S)."""
    if len(size) != 2:
        raise AssertionError('causal_upper_left only supports 2D tensors')
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size):
    """The causal bias whose diagonal ends at the lower-right corner, of size (L, S)."""
    if len(size) != 2:
        raise AssertionError('causal_lower_right only supports 2D tensors')
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
