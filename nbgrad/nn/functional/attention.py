"""Attention: F.scaled_dot_product_attention and F.multi_head_attention_forward.

scaled_dot_product_attention follows ATen's math kernel (_scaled_dot_product_attention_math) step
for step: q and k are each scaled by sqrt(scale), masks are added to the scores, the softmax is
the "safe" one (a row that may attend to nothing gives zeros, not NaN) and dropout is F.dropout on
the attention weights, so after manual_seed the dropped weights are PyTorch's on the CPU.
PyTorch's fused kernels (flash, memory-efficient) compute the same function.

multi_head_attention_forward is PyTorch's Python function, ported without its fast paths; the
mask helpers (_canonical_mask, _none_or_dtype) are used by the Transformer layers as in PyTorch.
"""
import math

from ..._user_warning import warn_at_caller
from ... import _creation, _dtype
from ...amp import autocast_mode as _autocast
from ..._dispatch import dispatch
from ..._profiled_calls import profiled_call
from ...backends import cuda as _cuda_flags
from ..._tensor import Tensor
from ...ops._util import xp_of
from ...ops.reduction import Softmax
from ...ops.shape import cat
from . import _sdpa_backends
from .dropout import dropout
from .linear import linear
from .padding import pad

__all__ = ['scaled_dot_product_attention', 'multi_head_attention_forward']


class _SafeSoftmax(Softmax):
    """Softmax over the last dim where a row of scores that are all -inf (a query that may attend
    to nothing) gives zeros instead of NaN, and so a zero gradient (ATen's _safe_softmax)."""

    def __init__(self, dim):
        super().__init__(dim, log=False)

    def forward(self, scores):
        xp = xp_of(scores)
        if scores.size == 0:
            return xp.empty_like(scores)
        top = scores.max(axis=self.dim, keepdims=True)
        dead = top == -math.inf
        # dead rows: exp(-inf - 0) = 0 everywhere, divided by 1 instead of by their sum 0
        e = xp.exp(scores - xp.where(dead, 0, top))
        e /= xp.where(dead, 1, e.sum(axis=self.dim, keepdims=True))
        return e

    def name(self):
        return 'SafeSoftmaxBackward0'


def _safe_softmax(scores):
    return dispatch(_SafeSoftmax(scores.dim() - 1), scores)


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------

def _check_sdpa_inputs(query, key, value, attn_mask):
    """ATen's validate_sdpa_input, in its order."""
    for position, (name, t) in enumerate((('query', query), ('key', key), ('value', value)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position "
                            f"{position}) must be Tensor, not {type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, "
                        f"not {type(attn_mask).__name__}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f'Expected query, key, and value to have the same dtype, but got '
                           f'query.dtype: {query.dtype} key.dtype: {key.dtype} and '
                           f'value.dtype: {value.dtype} instead.')
    if not query.device == key.device == value.device:
        raise RuntimeError(f'Expected query, key, and value to have the same device type, but '
                           f'got query.device: {query.device} key.device: {key.device} and '
                           f'value.device: {value.device} instead.')
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f'Expected query, key, and value to all be at least 2 dimensional, '
                           f'but got query.dim: {query.dim()} key.dim: {key.dim()} and '
                           f'value.dim: {value.dim()} instead.')
    if attn_mask is not None and attn_mask.dtype not in (_dtype.bool, _dtype.float32,
                                                          query.dtype):
        raise RuntimeError(f'Expected attn_mask dtype to be bool or float or to match query '
                           f'dtype, but got attn_mask.dtype: {attn_mask.dtype} and '
                           f'query.dtype: {query.dtype} instead.')
    if query.dtype.is_complex:
        raise NotImplementedError(f'scaled_dot_product_attention: softmax is not implemented '
                                  f'for {query.dtype} inputs')
    if not query.dtype.is_floating_point:
        raise RuntimeError(f'scaled_dot_product_attention: query, key and value must be '
                           f'floating point, got {query.dtype}')


def _additive_mask(mask, dtype):
    """A bool mask (True = may attend) as 0 / -inf scores of the given dtype."""
    neg_inf = _creation.full((), -math.inf, dtype=dtype, device=mask.device)
    zero = _creation.zeros((), dtype=dtype, device=mask.device)
    return neg_inf.where(mask.logical_not(), zero)


def _group_query_heads(query, key, value):
    """Grouped-query attention: repeat each key/value head so that every query head has one."""
    if query.dim() < 3:
        raise IndexError(f'Dimension out of range (expected to be in range of '
                         f'[{-query.dim()}, {query.dim() - 1}], but got -3)')
    q_heads, k_heads, v_heads = query.size(-3), key.size(-3), value.size(-3)
    if q_heads % k_heads or q_heads % v_heads:
        raise RuntimeError(f'Number of heads in key and value must divide the number of heads '
                           f'in query: got {q_heads} query heads, {k_heads} key heads and '
                           f'{v_heads} value heads')
    if k_heads != q_heads:
        key = key.repeat_interleave(q_heads // k_heads, -3)
    if v_heads != q_heads:
        value = value.repeat_interleave(q_heads // v_heads, -3)
    return key, value


@profiled_call('aten::scaled_dot_product_attention')    # (one fused op in PyTorch)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, *, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the attention weights.

    query (N, ..., Hq, L, E), key (N, ..., H, S, E), value (N, ..., H, S, Ev) -> (N, ..., Hq, L,
    Ev). attn_mask broadcasts to (N, ..., Hq, L, S): bool (True = take part) or float (added to
    the scores). is_causal masks with a lower-triangular (upper-left aligned) mask. scale defaults
    to 1/sqrt(E). enable_gqa lets H divide Hq (grouped-query attention). attn_mask may also be a
    torch.nn.attention.bias causal bias (causal_lower_right(L, S)...)."""
    if getattr(attn_mask, '_attend', None) is not None:       # a CausalBias
        return attn_mask._attend(query, key, value, dropout_p, is_causal, scale, enable_gqa)
    _check_sdpa_inputs(query, key, value, attn_mask)
    if not _cuda_flags._sdp.math:     # nn.attention.sdpa_kernel left only some backends on
        _sdpa_backends.check(query, key, value, attn_mask, dropout_p, enable_gqa)
    if _dtype.is_reduced_float(query._data.dtype):
        # PyTorch's kernels compute half and bfloat16 inputs in float32, round the output once
        return _attention(query.float(), key.float(), value.float(), attn_mask, dropout_p,
                          is_causal, scale, enable_gqa).to(query.dtype)
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    """scaled_dot_product_attention's computation, on checked inputs."""
    # PyTorch's CPU flash kernel writes its output in the query's memory layout (the usual
    # (N, L, H, E).transpose(1, 2) query gives a like output, which .transpose(1, 2).view()
    # takes); the math kernel's is contiguous
    like_query = query if query.device.type == 'cpu' and \
        not query._data.flags.c_contiguous and _sdpa_backends.flash_cpu_takes(
            query, key, value, attn_mask, dropout_p, enable_gqa) else None
    # ATen scales q and k by sqrt(scale) each, which keeps half-precision scores in range
    negative = scale is not None and scale < 0
    if scale is None:   # 1/sqrt(E), inf for E = 0 as in C++ (the scores are then all 0)
        scale = 1.0 / math.sqrt(query.size(-1)) if query.size(-1) else math.inf
    root = math.sqrt(abs(scale))
    query = query * (-root if negative else root)
    if is_causal:
        allowed = _creation.ones((query.size(-2), key.size(-2)), dtype=_dtype.bool,
                                 device=query.device).tril()
        causal = _additive_mask(allowed, query.dtype)
        if attn_mask is None:
            attn_mask = causal
        elif _sdpa_backends.flash_cpu_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
            # PyTorch's CPU flash kernel applies both masks; its math kernel refuses the pair
            attn_mask = causal + (_additive_mask(attn_mask, query.dtype)
                                  if attn_mask.dtype == _dtype.bool else attn_mask)
        else:
            raise RuntimeError('_scaled_dot_product_attention: Explicit attn_mask should not be '
                               'set when is_causal=True')
    if enable_gqa:
        key, value = _group_query_heads(query, key, value)
    scores = query.matmul(key.transpose(-2, -1) * root)
    if attn_mask is not None:
        if attn_mask.dim() < 2:
            raise IndexError(f'Dimension out of range (expected to be in range of '
                             f'[{-max(attn_mask.dim(), 1)}, {max(attn_mask.dim(), 1) - 1}], '
                             f'but got -2)')
        if attn_mask.dtype == _dtype.bool:
            attn_mask = _additive_mask(attn_mask, scores.dtype)
        _check_mask_broadcast(attn_mask, scores)
        # ATen adds in place, so the scores keep their dtype (a float32 mask on half scores)
        scores = scores + attn_mask.to(scores.dtype)
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        if dropout_p > 1.0:  # ATen's check: a RuntimeError, where F.dropout raises ValueError
            raise RuntimeError(f'dropout probability has to be between 0 and 1, but got '
                               f'{dropout_p}')
        weights = dropout(weights, dropout_p, training=True)
    out = weights.matmul(value)
    return out if like_query is None else _in_layout_of(out, like_query)


def _in_layout_of(out, like):
    """out (a fresh result, in no view yet) with its memory laid out as `like`'s is (a dense
    permutation of its dims) when they have one shape. Its values are the same, so the array
    is swapped under it: a copy, no graph nodes (permute/contiguous/permute cost a transformer
    layer's step 5%)."""
    from ..._memory_format import dense_order, empty_in_order
    order = dense_order(like._data) if tuple(out.shape) == tuple(like.shape) and \
        out._base is None else None
    if order is not None:
        relaid = empty_in_order(xp_of(out._data), out._data.shape, out._data.dtype, order)
        relaid[...] = out._data
        out._data = relaid
    return out


def _check_mask_broadcast(mask, scores):
    shape, mshape = tuple(scores.shape), tuple(mask.shape)
    if len(mshape) > len(shape):
        raise RuntimeError(f'output with shape {list(shape)} doesn\'t match the broadcast shape '
                           f'{list(mshape[:len(mshape) - len(shape)] + shape)}')
    for i in range(1, len(mshape) + 1):
        if mshape[-i] not in (1, shape[-i]):
            raise RuntimeError(f'The size of tensor a ({shape[-i]}) must match the size of '
                               f'tensor b ({mshape[-i]}) at non-singleton dimension '
                               f'{len(shape) - i}: attn_mask of shape {list(mshape)} does not '
                               f'broadcast to the attention scores of shape {list(shape)}')


# ---------------------------------------------------------------------------------------------
# multi_head_attention_forward and its helpers (used by MultiheadAttention and the Transformer)
# ---------------------------------------------------------------------------------------------

def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) as 0 / -inf of target_type; float masks pass through."""
    if mask is None:
        return None
    if mask.dtype != _dtype.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f'only bool and floating types of {mask_name} are supported')
    if check_other and other_type is not None and mask.dtype != other_type:
        warn_at_caller(f'Support for mismatched {mask_name} and {other_name} is deprecated. Use '
                       f'same type for both instead.')
    if not mask.dtype.is_floating_point:
        mask = _creation.zeros_like(mask, dtype=target_type).masked_fill_(mask, -math.inf)
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError('input to _none_or_dtype() must be None or nbgrad.Tensor')


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D) or not (2-D); AssertionError, as in PyTorch, for
    inputs of other ranks."""
    if query.dim() not in (2, 3):
        raise AssertionError(f'query should be unbatched 2D or batched 3D tensor but received '
                             f'{query.dim()}-D query tensor')
    batched = query.dim() == 3
    rank, kind = (3, 'batched (3-D)') if batched else (2, 'unbatched (2-D)')
    if key.dim() != rank or value.dim() != rank:
        raise AssertionError(f'For {kind} `query`, expected `key` and `value` to be {rank}-D but '
                             f'found {key.dim()}-D and {value.dim()}-D tensors respectively')
    if key_padding_mask is not None and key_padding_mask.dim() != rank - 1:
        raise AssertionError(f'For {kind} `query`, expected `key_padding_mask` to be `None` or '
                             f'{rank - 1}-D but found {key_padding_mask.dim()}-D tensor instead')
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f'For {kind} `query`, expected `attn_mask` to be `None`, 2-D or '
                                 f'3-D but found {attn_mask.dim()}-D tensor instead')
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f'Expected `attn_mask` shape to be {expected} but got '
                                 f'{attn_mask.shape}')
    return batched


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected with the rows of w (3E, E) in q, k, v order (one GEMM when q, k, v are
    the same tensor, two when only k and v are)."""
    E = q.size(-1)
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, dim=-1)
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        return (linear(q, w_q, b_q),) + linear(k, w_kv, b_kv).chunk(2, dim=-1)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Separate projections (kdim/vdim differ from embed_dim), each to q's embedding size."""
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for name, t, shape in (('query weights', w_q, (Eq, Eq)), ('key weights', w_k, (Eq, Ek)),
                           ('value weights', w_v, (Eq, Ev)), ('query bias', b_q, (Eq,)),
                           ('key bias', b_k, (Eq,)), ('value bias', b_v, (Eq,))):
        if t is not None and tuple(t.shape) != shape:
            raise AssertionError(f'expecting {name} shape of {shape}, but got {t.shape}')
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_static(name, static, rows, head_dim):
    if static.size(0) != rows:
        raise AssertionError(f'expecting {name}.size(0) of {rows}, but got {static.size(0)}')
    if static.size(2) != head_dim:
        raise AssertionError(f'expecting {name}.size(2) of {head_dim}, but got {static.size(2)}')


def _batched_attn_mask(attn_mask, tgt_len, src_len, rows):
    """attn_mask as (1 or bsz*num_heads, L, S), after PyTorch's shape checks."""
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f'The shape of the 2D attn_mask is {attn_mask.shape}, but should '
                               f'be {(tgt_len, src_len)}.')
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (rows, tgt_len, src_len):
            raise RuntimeError(f'The shape of the 3D attn_mask is {attn_mask.shape}, but should '
                               f'be {(rows, tgt_len, src_len)}.')
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """nn.MultiheadAttention's computation on sequence-first inputs: query (L, N, E) or (L, E),
    key/value (S, N, E) or (S, E). Returns (output (L, N, E), weights or None); the weights are
    (N, L, S) averaged over heads or (N, num_heads, L, S), without N for unbatched inputs."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:  # run as a batch of one
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, 'key_padding_mask',
                                       _none_or_dtype(attn_mask), 'attn_mask', query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError('Need attn_mask if specifying the is_causal hint. You may use the '
                           'Transformer module method `generate_square_subsequent_mask` to '
                           'create this mask.')
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention makes the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, 'attn_mask', None, '', query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f'was expecting embedding dimension of {embed_dim_to_check}, but '
                             f'got {embed_dim}')
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f'embed_dim {embed_dim} not divisible by num_heads {num_heads}')
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f'key shape {key.shape} does not match value shape {value.shape}')

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError('use_separate_proj_weight is False but in_proj_weight is None')
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (('q_proj_weight', q_proj_weight), ('k_proj_weight', k_proj_weight),
                        ('v_proj_weight', v_proj_weight)):
            if w is None:
                raise AssertionError(f'use_separate_proj_weight is True but {name} is None')
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, *biases)

    rows = bsz * num_heads
    if attn_mask is not None:
        attn_mask = _batched_attn_mask(attn_mask, tgt_len, src_len, rows)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError('bias cannot be added to static key.')
        if static_v is not None:
            raise AssertionError('bias cannot be added to static value.')
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_one_key(attn_mask, key_padding_mask)
    elif bias_k is not None:
        raise AssertionError('bias_k is set but bias_v is None')
    elif bias_v is not None:
        raise AssertionError('bias_v is set but bias_k is None')

    # (len, bsz, E) -> (bsz * num_heads, len, head_dim)
    q = q.reshape(tgt_len, rows, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], rows, head_dim).transpose(0, 1)
    else:
        _check_static('static_k', static_k, rows, head_dim)
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], rows, head_dim).transpose(0, 1)
    else:
        _check_static('static_v', static_v, rows, head_dim)
        v = static_v
    if add_zero_attn:
        k = cat([k, _creation.zeros((rows, 1, head_dim), dtype=k.dtype,
                                              device=k.device)], dim=1)
        v = cat([v, _creation.zeros((rows, 1, head_dim), dtype=v.dtype,
                                              device=v.device)], dim=1)
        attn_mask, key_padding_mask = _pad_one_key(attn_mask, key_padding_mask)
    src_len = k.size(1)

    if key_padding_mask is not None:
        for i, size in ((0, bsz), (1, src_len)):
            if key_padding_mask.shape[i] != size:
                raise AssertionError(f'Expected key_padded_mask.shape[{i}] to be {size}, but '
                                     f'got {key_padding_mask.shape[i]}')
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len)
                            .expand(-1, num_heads, -1, -1).reshape(rows, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = q_scaled.bmm(k.transpose(-2, -1))
        if attn_mask is not None:   # baddbmm(attn_mask, q_scaled, k^T): one dtype
            if attn_mask.dtype != scores.dtype and not _autocast.is_autocast_enabled(
                    scores.device.type):
                raise RuntimeError(f'Input dtypes must be the same: the attention mask is '
                                   f'{attn_mask.dtype} but the query is {scores.dtype}; pass a '
                                   f'bool mask or one of the query\'s dtype')
            # (under autocast the product is in its dtype, and baddbmm casts the mask too)
            scores = attn_mask.to(scores.dtype) + scores
        weights = scores.softmax(dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.bmm(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    return (out if batched else out.squeeze(1)), None


def _pad_one_key(attn_mask, key_padding_mask):
    """Masks widened by one key (the bias_k or zero-attention key), which every query may see."""
    return (None if attn_mask is None else pad(attn_mask, (0, 1)),
            None if key_padding_mask is None else pad(key_padding_mask, (0, 1)))
