"""The Transformer family: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
TransformerDecoder and Transformer, with PyTorch's submodules (names, order, initialisation), so
that state_dicts are interchangeable and a seeded model gets PyTorch's weights.

PyTorch's inference fast paths (_transformer_encoder_layer_fwd and the nested-tensor encoder)
compute the same function and are not reproduced, with one visible exception that nbgrad
follows: where PyTorch's TransformerEncoder takes its nested-tensor path (eval, no grad, a
left-aligned src_key_padding_mask and no mask: _takes_nested_path), it returns zeros (before its
final norm) at the padded positions, which a Transformer's decoder then attends to.
"""
import copy
import math

from ..._user_warning import warn_at_caller
from ... import _creation
from .. import functional as F, init
from ..functional.attention import _canonical_mask, _none_or_dtype
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ['Transformer', 'TransformerEncoder', 'TransformerDecoder', 'TransformerEncoderLayer',
           'TransformerDecoderLayer']


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """A float (sz, sz) mask with -inf above the diagonal: position i may attend to j <= i."""
    return _creation.full((sz, sz), -math.inf, dtype=dtype, device=device).triu(diagonal=1)


def _get_seq_len(src, batch_first):
    if src.dim() == 2:  # unbatched (S, E)
        return src.size(0)
    return src.size(1 if batch_first else 0)


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """is_causal when given; otherwise whether mask is exactly the square subsequent mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.size(-2)
    causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
    return mask.size() == causal.size() and bool((mask == causal).all())


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_activation_fn(activation):
    if activation == 'relu':
        return F.relu
    if activation == 'gelu':
        return F.gelu
    raise RuntimeError(f'activation should be relu/gelu, not {activation}')


class _TransformerLayer(Module):
    """What both layer kinds share: the feed-forward block and the submodules around it."""

    def _add_feedforward(self, d_model, dim_feedforward, dropout, norm_first, layer_norm_eps,
                         bias, factory, num_norms):
        # the registration order is PyTorch's (it fixes state_dict order and the RNG draws)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        for i in range(1, num_norms + 1):
            setattr(self, f'norm{i}', LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                 **factory))
        for i in range(1, num_norms + 1):
            setattr(self, f'dropout{i}', Dropout(dropout))

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, self._ff_dropout)(x)

    def _attention_block(self, attention, dropout, x, mem, attn_mask, key_padding_mask,
                         is_causal, plain_softmax=False):
        # plain_softmax: the weights' softmax without the guard for fully masked rows (the
        # need_weights path), as PyTorch's fused kernels compute it
        x = attention(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                      is_causal=is_causal, need_weights=plain_softmax)[0]
        return dropout(x)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False, plain_softmax=False):
        return self._attention_block(self.self_attn, self.dropout1, x, x, attn_mask,
                                     key_padding_mask, is_causal, plain_softmax)


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a feed-forward network, each with a residual connection and a
    LayerNorm (after the residual sum, or before the block with norm_first=True)."""
    __constants__ = ['norm_first']
    _ff_dropout = 'dropout2'

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        factory = {'device': device, 'dtype': dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        self._add_feedforward(d_model, dim_feedforward, dropout, norm_first, layer_norm_eps,
                              bias, factory, num_norms=2)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        # PyTorch's fast path keys on this; kept so that code reading it works
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'activation'):
            self.activation = F.relu

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, 'src_key_padding_mask',
                                               _none_or_dtype(src_mask), 'src_mask', src.dtype)
        src_mask = _canonical_mask(src_mask, 'src_mask', None, '', src.dtype, check_other=False)
        # PyTorch's fused kernel (_transformer_encoder_layer_fwd) gives NaN for a query whose
        # keys are all masked, where the layer's other path gives 0: the same numbers here
        plain = (src_mask is not None or src_key_padding_mask is not None) and \
            self._takes_fast_path(src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask,
                                   is_causal=is_causal, plain_softmax=plain)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask,
                                          is_causal=is_causal, plain_softmax=plain))
        return self.norm2(x + self._ff_block(x))

    def _takes_fast_path(self, src):
        """Whether PyTorch's forward would run its fused kernel (its conditions, of PyTorch
        2.13)."""
        from ... import autograd, backends
        from ...amp import autocast_mode
        attention = self.self_attn
        if not (backends.mha.get_fastpath_enabled() and src.dim() == 3 and not self.training
                and attention.batch_first and attention.in_proj_bias is not None
                and attention._qkv_same_embed_dim and self.activation_relu_or_gelu
                and self.norm1.eps == self.norm2.eps and attention.num_heads % 2 == 0
                and not autocast_mode.is_autocast_enabled()):
            return False
        if any(m._forward_hooks or m._forward_pre_hooks for m in self.modules()):
            return False
        tensors = (src, attention.in_proj_weight, attention.in_proj_bias,
                   attention.out_proj.weight, attention.out_proj.bias, self.norm1.weight,
                   self.norm1.bias, self.norm2.weight, self.norm2.bias, self.linear1.weight,
                   self.linear1.bias, self.linear2.weight, self.linear2.bias)
        return not (autograd.is_grad_enabled() and
                    any(t is not None and t.requires_grad for t in tensors))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention over the encoder's output (memory), then a feed-forward network,
    each with a residual connection and a LayerNorm."""
    __constants__ = ['norm_first']
    _ff_dropout = 'dropout3'

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        factory = {'device': device, 'dtype': dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **factory)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **factory)
        self._add_feedforward(d_model, dim_feedforward, dropout, norm_first, layer_norm_eps,
                              bias, factory, num_norms=3)
        self.activation = (_get_activation_fn(activation) if isinstance(activation, str)
                           else activation)

    def __setstate__(self, state):
        state.setdefault('activation', F.relu)
        super().__setstate__(state)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        return self._attention_block(self.multihead_attn, self.dropout2, x, mem, attn_mask,
                                     key_padding_mask, is_causal)


def _left_aligned(padded):
    """Whether every row of `padded` (batch, length: True where padded) is its valid positions
    followed by its padding (PyTorch's _nested_tensor_from_mask_left_aligned)."""
    valid = padded.logical_not().int()
    return bool((valid[:, 1:] <= valid[:, :-1]).all()) if padded.shape[-1] > 1 else True


def _autocast_enabled():
    """torch.is_autocast_enabled() as PyTorch's encoder asks it: CUDA's autocast only."""
    from ...amp import autocast_mode
    return autocast_mode.is_autocast_enabled()


def _why_no_nested_tensor(layer):
    """PyTorch's reason (in its words) for not using nested tensors with this encoder layer."""
    name = 'encoder_layer'
    if not isinstance(layer, TransformerEncoderLayer):
        return f'{name} was not TransformerEncoderLayer'
    attn = layer.self_attn
    checks = ((layer.norm_first, f'{name}.norm_first was True'),
              (not attn.batch_first, f'{name}.self_attn.batch_first was not True(use '
                                     f'batch_first for better inference performance)'),
              (not attn._qkv_same_embed_dim, f'{name}.self_attn._qkv_same_embed_dim was not True'),
              (attn.in_proj_bias is None, f'{name}.self_attn was passed bias=False'),
              (not layer.activation_relu_or_gelu, f'{name}.activation_relu_or_gelu was not True'),
              (layer.norm1.eps != layer.norm2.eps,
               f'{name}.norm1.eps was not equal to {name}.norm2.eps'),
              (attn.num_heads % 2 == 1, f'{name}.self_attn.num_heads is odd'))
    return next((reason for failed, reason in checks if failed), '')


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer applied in turn, then norm (if given).
    enable_nested_tensor and mask_check decide, as in PyTorch, whether the padded positions
    come back as zeros (see the module docstring); nbgrad has no nested tensors."""
    __constants__ = ['norm']

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why_not:
            warn_at_caller(f'enable_nested_tensor is True, but self.use_nested_tensor is False '
                           f'because {why_not}')
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, 'src_key_padding_mask',
                                               _none_or_dtype(mask), 'mask', src.dtype)
        mask = _canonical_mask(mask, 'mask', None, '', src.dtype, check_other=False)
        seq_len = _get_seq_len(src, self.layers[0].self_attn.batch_first)
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        nested = self._takes_nested_path(src, mask, src_key_padding_mask)
        if nested:
            # PyTorch's nested tensors hold each sequence's first (number of valid positions)
            # entries (the valid ones when the mask is left-aligned, as mask_check ensures; a
            # float mask's nonzero entries count as padding) and pad the result with zeros
            lengths = (src_key_padding_mask == 0).sum(-1, keepdim=True)
            src_key_padding_mask = _creation.arange(src.shape[1], device=src.device) >= lengths
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        if nested:
            output = output.masked_fill(src_key_padding_mask.unsqueeze(-1), 0.0)
        return output if self.norm is None else self.norm(output)

    def _takes_nested_path(self, src, mask, padding_mask):
        """Whether PyTorch's encoder would run as nested tensors here (its conditions, in its
        order, of TransformerEncoder.forward)."""
        from ... import autograd, backends
        first = self.layers[0]
        if not (backends.mha.get_fastpath_enabled() and getattr(self, 'use_nested_tensor', False)
                and not first.training and src.dim() == 3 and padding_mask is not None):
            return False
        if getattr(self, 'mask_check', True) and not _left_aligned(padding_mask != 0):
            return False
        if mask is not None or _autocast_enabled():
            return False
        attn = first.self_attn
        parameters = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                      attn.out_proj.bias, first.norm1.weight, first.norm1.bias,
                      first.norm2.weight, first.norm2.bias, first.linear1.weight,
                      first.linear1.bias, first.linear2.weight, first.linear2.bias)
        return not (autograd.is_grad_enabled() and any(t.requires_grad for t in parameters))


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer applied in turn, then norm (if given)."""
    __constants__ = ['norm']

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder-decoder Transformer ("Attention Is All You Need"): encoder over src, decoder
    over tgt attending to the encoder's output. Every weight matrix is re-initialised with
    xavier_uniform_, as in PyTorch."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        factory = {'device': device, 'dtype': dtype}
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*layer_args, **factory)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*layer_args, **factory)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.size(batch_dim) != tgt.size(batch_dim):
            raise RuntimeError('the batch number of src and tgt must be equal')
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError('the feature number of src and tgt must be equal to d_model')
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask with -inf above the diagonal and 0 elsewhere."""
        return _generate_square_subsequent_mask(sz, dtype=dtype, device=device)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
