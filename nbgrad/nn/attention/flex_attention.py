"""torch.nn.attention.flex_attention: attention whose scores a Python function modifies
(score_mod) and whose pattern another one masks (mask_mod, gathered into a BlockMask).

nbgrad computes it as PyTorch's eager (unfused) implementation does: scores = q @ k^T in float32
(float64 for float64 inputs), times scale, then score_mod and the mask, a softmax that gives 0
for rows with nothing left, and the product with v in the inputs' dtype; return_lse gives the
natural-log logsumexp of each row (-inf where everything is masked).

PyTorch applies the mods under vmap, one element at a time; nbgrad calls them once on index
tensors shaped to broadcast, b (B,1,1,1), h (1,H,1,1), q_idx (1,1,L,1) and kv_idx (1,1,1,S),
which gives the same values for mods written in tensor operations (comparisons, arithmetic,
torch.where, indexing a tensor by an index: bias[h], document_id[q_idx]). Python control flow on
the indices fails in both.

Differences: the BlockMask's blocks only describe the mask (nbgrad has no block-sparse kernel,
so the mask_mod is applied everywhere, as PyTorch's eager path does), there is no warning
about running without torch.compile, and gradients work on the CPU too (PyTorch's CPU path
refuses inputs that require grad).
"""
import itertools
import math
import warnings
from typing import Callable, NamedTuple

from ... import _dtype
from ..._tensor import Tensor

__all__ = ['BlockMask', 'flex_attention', 'create_block_mask', 'create_mask', 'or_masks',
           'and_masks', 'noop_mask', 'AuxRequest', 'AuxOutput']

_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_DEFAULT_SPARSE_BLOCK_SIZE = 128
_warned = set()


class AuxRequest(NamedTuple):
    """Which auxiliary outputs flex_attention should return."""
    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The auxiliary outputs asked for (None where not requested)."""
    lse: Tensor = None
    max_scores: Tensor = None


def noop_mask(batch, head, token_q, token_kv):
    """The mask_mod that keeps everything."""
    from ... import _creation
    return _creation.ones((), dtype=_dtype.bool, device=batch.device)


def or_masks(*mask_mods):
    """A mask_mod keeping what any of mask_mods keeps."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f'All inputs should be callable mask_mods: {mask_mods}')

    def or_mask(b, h, q_idx, kv_idx):
        kept = b.new_zeros((), dtype=_dtype.bool)
        for mask_mod in mask_mods:
            kept = kept | mask_mod(b, h, q_idx, kv_idx)
        return kept
    return or_mask


def and_masks(*mask_mods):
    """A mask_mod keeping what all of mask_mods keep."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f'All inputs should be callable mask_mods: {mask_mods}')

    def and_mask(b, h, q_idx, kv_idx):
        kept = b.new_ones((), dtype=_dtype.bool)
        for mask_mod in mask_mods:
            kept = kept & mask_mod(b, h, q_idx, kv_idx)
        return kept
    return and_mask


def _indices(B, H, L, S, device):
    """b, h, q_idx, kv_idx: aranges shaped to broadcast over (B, H, L, S)."""
    from ... import _creation
    return tuple(_creation.arange(n, device=device).reshape(
        [n if i == axis else 1 for i in range(4)]) for axis, n in enumerate((B, H, L, S)))


def _is_score_mod(fn):
    import inspect
    try:
        parameters = [p for p in inspect.signature(fn).parameters.values()
                      if p.default is inspect.Parameter.empty and p.kind in (
                          p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(parameters) == 5


def _applied_mask(mask_mod, B, H, L, S, device):
    """mask_mod over every (b, h, q_idx, kv_idx): a bool tensor of shape (B, H, L, S)."""
    from ... import _creation
    kept = mask_mod(*_indices(B, H, L, S, device))
    if not isinstance(kept, Tensor):
        kept = _creation.tensor(kept, dtype=_dtype.bool, device=device)
    return kept.to(_dtype.bool).expand(B, H, L, S)


def create_mask(mod_fn, B, H, Q_LEN, KV_LEN, device=None):
    """The (B, H, Q_LEN, KV_LEN) bool mask a mask_mod (or, where it gives -inf, a score_mod)
    describes; B and H of None mean 1."""
    from ... import _creation
    B, H = B or 1, H or 1
    if device is None:      # (PyTorch's default: the accelerator when there is one)
        from ... import accelerator
        device = accelerator.current_accelerator() or 'cpu'
    if _is_score_mod(mod_fn):
        scores = mod_fn(_creation.zeros(B, H, Q_LEN, KV_LEN, device=device),
                        *_indices(B, H, Q_LEN, KV_LEN, device))
        return ~scores.expand(B, H, Q_LEN, KV_LEN).isneginf()
    return _applied_mask(mod_fn, B, H, Q_LEN, KV_LEN, device)


def _ordered(dense):
    """(blocks per row, block indices kept first in order) of a 0/1 block matrix, as int32."""
    dense = dense.to(_dtype.int32)
    return dense.sum(-1).to(_dtype.int32), \
        dense.argsort(dim=-1, descending=True, stable=True).to(_dtype.int32)


def _dense(num_blocks, indices, columns):
    """The 0/1 block matrix (int32) that (num_blocks, indices) describe."""
    from ... import _creation
    device = indices.device
    listed = _creation.arange(indices.shape[-1], device=device) < num_blocks.unsqueeze(-1)
    dense = _creation.zeros(*indices.shape[:-1], columns + 1, dtype=_dtype.int32, device=device)
    dense.scatter_(-1, indices.long().masked_fill(~listed, columns),
                   _creation.ones(indices.shape, dtype=_dtype.int32, device=device))
    return dense[..., :columns].contiguous()


class BlockMask:
    """A mask_mod over (B, H, Q_LEN, KV_LEN) and its BLOCK_SIZE blocks: for each row of query
    blocks, the key blocks partly kept (kv_num_blocks, kv_indices) and wholly kept
    (full_kv_num_blocks, full_kv_indices), and the same by key block (q_*)."""

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                 full_kv_indices, BLOCK_SIZE, mask_mod):
        self.seq_lengths = tuple(seq_lengths)
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.BLOCK_SIZE = tuple(BLOCK_SIZE)
        self.mask_mod = mask_mod if mask_mod is not None else noop_mask
        columns = kv_indices.shape[-1]
        self.q_num_blocks, self.q_indices = _ordered(
            _dense(kv_num_blocks, kv_indices, columns).transpose(-2, -1))
        if full_kv_num_blocks is not None:
            self.full_q_num_blocks, self.full_q_indices = _ordered(
                _dense(full_kv_num_blocks, full_kv_indices, columns).transpose(-2, -1))
        else:
            self.full_q_num_blocks = self.full_q_indices = None

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks=None,
                       full_kv_indices=None, BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                       mask_mod=None, seq_lengths=None, compute_q_blocks=True):
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0],
                           kv_indices.shape[-1] * BLOCK_SIZE[1])
        return cls(seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                   full_kv_indices, BLOCK_SIZE, mask_mod)

    @property
    def shape(self):
        return tuple(self.kv_num_blocks.shape[:-1]) + self.seq_lengths

    def numel(self):
        return math.prod(self.shape)

    def sparsity(self):
        """The percentage of blocks not computed (PyTorch's formula, which counts whole blocks
        against the mask's elements, so it goes negative for lengths below a block)."""
        computed = self.kv_num_blocks.sum().item()
        if self.full_kv_num_blocks is not None:
            computed += self.full_kv_num_blocks.sum().item()
        return 100 * (1 - computed * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1] / self.numel())

    def to_dense(self):
        """The (B, H, query blocks, key blocks) 0/1 matrix of the blocks computed."""
        columns = self.kv_indices.shape[-1]
        dense = _dense(self.kv_num_blocks, self.kv_indices, columns)
        if self.full_kv_num_blocks is not None:
            dense = dense | _dense(self.full_kv_num_blocks, self.full_kv_indices, columns)
        return dense

    def to_string(self, grid_size=(20, 20), limit=4):
        """Each (batch, head)'s blocks drawn as text: full cells, empty cells, and shaded ones
        where a cell stands for several blocks not all computed."""
        dense = self.to_dense()
        *batch_dims, rows, cols = dense.shape
        if grid_size == -1:
            max_rows, max_cols = rows, cols
        elif isinstance(grid_size, int):
            max_rows = max_cols = grid_size
        else:
            max_rows, max_cols = grid_size
        row_step = max(1, -(-rows // max_rows))
        col_step = max(1, -(-cols // max_cols))
        drawings = []
        for count, index in enumerate(itertools.product(*[range(n) for n in batch_dims])):
            if count == limit:
                drawings += ['...', 'To print out more, set BlockMask.to_string(limit=N)',
                             'You can also index (BlockMask[batch, head]) to choose a specific '
                             'batch or head']
                break
            grid = dense[index]
            text = f'{index}\n'
            for r in range(0, rows, row_step):
                for c in range(0, cols, col_step):
                    share = grid[r:r + row_step, c:c + col_step].float().mean().item()
                    text += ('█' if share == 1 else ' ' if share == 0 else '░') * 2
                text += '\n'
            drawings.append(text)
        return '\n'.join(drawings)

    def __str__(self):
        return (f'BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n'
                f'{self.to_string().strip()}\n)')

    def __repr__(self):
        def shape_of(t):
            return None if t is None else t.shape
        name = getattr(self.mask_mod, '__name__', self.mask_mod)
        return (f'BlockMask(\n    kv_num_blocks={self.kv_num_blocks.shape},\n'
                f'    kv_indices={self.kv_indices.shape},\n'
                f'    full_kv_num_blocks={shape_of(self.full_kv_num_blocks)},\n'
                f'    full_kv_indices={shape_of(self.full_kv_indices)},\n'
                f'    q_num_blocks={shape_of(self.q_num_blocks)},\n'
                f'    q_indices={shape_of(self.q_indices)},\n'
                f'    full_q_num_blocks={shape_of(self.full_q_num_blocks)},\n'
                f'    full_q_indices={shape_of(self.full_q_indices)},\n'
                f'    BLOCK_SIZE={self.BLOCK_SIZE},\n    shape={self.shape},\n'
                f'    sparsity={self.sparsity():.2f}%,\n    mask_mod={name}\n)')

    def _adjust(self, new_q_len, new_kv_len):
        """This mask cropped to its upper left (new_q_len, new_kv_len) corner, block by block."""
        rows = -(-new_q_len // self.BLOCK_SIZE[0])
        cols = -(-new_kv_len // self.BLOCK_SIZE[1])

        def cropped(num, indices):
            if num is None:
                return None, None
            return _ordered(_dense(num, indices, indices.shape[-1])[..., :rows, :cols])
        return BlockMask((new_q_len, new_kv_len), *cropped(self.kv_num_blocks, self.kv_indices),
                         *cropped(self.full_kv_num_blocks, self.full_kv_indices),
                         self.BLOCK_SIZE, self.mask_mod)

    def to(self, device):
        moved = object.__new__(BlockMask)
        moved.__dict__.update({k: v.to(device) if isinstance(v, Tensor) else v
                               for k, v in self.__dict__.items()})
        return moved


def create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, device=None, BLOCK_SIZE=128,
                      _compile=False, separate_full_blocks=True, compute_dq_write_order=False,
                      dq_kv_order=True):
    """The BlockMask of mask_mod over (B, H, Q_LEN, KV_LEN) (B and H of None mean 1, shared by
    every batch and head), in blocks of BLOCK_SIZE (one size, or (query, key))."""
    q_block, kv_block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    from ..functional import pad
    padded = pad(mask, (0, -KV_LEN % kv_block, 0, -Q_LEN % q_block))
    b, h, q, kv = padded.shape
    counts = padded.reshape(b, h, q // q_block, q_block, kv // kv_block, kv_block) \
        .sum((3, 5))
    if separate_full_blocks:
        full = counts == q_block * kv_block
        partial = (counts > 0) & ~full
        full_num, full_indices = _ordered(full)
    else:
        partial, full_num, full_indices = counts > 0, None, None
    num, indices = _ordered(partial)
    return BlockMask((Q_LEN, KV_LEN), num, indices, full_num, full_indices,
                     (q_block, kv_block), mask_mod)


def _warn_once(key, message, category):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, category, stacklevel=3)


def _check(query, key, value, block_mask, enable_gqa):
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError('NYI: query, key, and value must be 4D tensors')
    if query.size(-1) != key.size(-1):
        raise ValueError(f'Expect query and key/value to have the same embedding dimension but '
                         f'got E={query.size(-1)} and E={key.size(-1)}.')
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(f'Expect query and key/value to have the same number of heads but got '
                         f'Hq={query.size(-3)} and Hkv={key.size(-3)}. Try setting '
                         'enable_gqa=True for GQA.')
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(f'Expect number of query heads to be a multiple of kv heads for GQA '
                         f'but got Hq={query.size(1)} and Hkv={key.size(1)}.')
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(f'Expect query and key/value to have the same batch size, or '
                             f'non-none block_mask, but got block_mask=None, '
                             f'Bq={query.size(0)}, and Bkv={key.size(0)}.')
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(f'Expect query and key/value to have the same batch size, or '
                             f'block_mask and query to have the same batch size, but got '
                             f'Bq={query.size(0)}, Bkv={key.size(0)}, '
                             f'B_block_mask={block_mask.kv_num_blocks.size(0)}.')
        if key.size(0) != 1:
            raise RuntimeError(f'Bq and Bkv must broadcast. Got Bq={query.size(0)} and '
                               f'Bkv={key.size(0)}')
    if block_mask is not None:
        q_len, kv_len = block_mask.shape[-2:]
        if query.size(-2) > q_len or key.size(-2) > kv_len:
            raise ValueError(
                f'block_mask was created for block_mask.shape={block_mask.shape} but got '
                f'q_len={query.size(-2)} and kv_len={key.size(-2)}. As the block mask was '
                "created for a smaller length than you're using it for, you likely need to "
                'create a new block mask.')
        if (query.size(-2), key.size(-2)) != (q_len, kv_len):
            raise ValueError(
                f'block_mask was created for block_mask.shape={block_mask.shape} but got '
                f'q_len={query.size(-2)} and kv_len={key.size(-2)}. As the block mask was '
                "created for a larger length than you're using it for, you can either 1. create "
                "a new block mask with the correct length, or 2. 'adjust' the existing block "
                'mask to the correct length by calling block_mask._adjust(q_len, kv_len). This '
                "essentially 'crops' the block mask to the upper left corner, which does not "
                'work for all mask_mods!')


def flex_attention(query, key, value, score_mod=None, block_mask=None, scale=None,
                   enable_gqa=False, return_lse=False, kernel_options=None, *,
                   return_aux=None):
    """softmax(score_mod(q @ k^T * scale) where block_mask keeps) @ v, for (B, H, L, E) queries
    and (B, Hkv, S, E) keys and values (Hkv dividing H with enable_gqa=True)."""
    _check(query, key, value, block_mask, enable_gqa)
    if return_lse and return_aux is not None:
        raise ValueError('Cannot specify both return_lse and return_aux. return_lse is '
                         'deprecated, please use return_aux=AuxRequest(lse=True) instead.')
    if return_lse:
        _warn_once('return_lse', 'return_lse is deprecated and will be removed in v2.10. '
                   'Please use return_aux=AuxRequest(lse=True) instead.', FutureWarning)
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    group = query.size(1) // key.size(1)
    if group > 1:
        key, value = key.repeat_interleave(group, 1), value.repeat_interleave(group, 1)
    B, H, L, S = query.size(0), query.size(1), query.size(2), key.size(2)
    key, value = key.expand(B, *key.shape[1:]), value.expand(B, *value.shape[1:])
    working = _dtype.float64 if query.dtype == _dtype.float64 else _dtype.float32
    scores = (query.to(working) @ key.to(working).transpose(-2, -1)) * scale
    indices = _indices(B, H, L, S, query.device)
    if score_mod is not None:
        scores = score_mod(scores, *indices).expand(B, H, L, S)
    if block_mask is not None:
        kept = _applied_mask(block_mask.mask_mod, B, H, L, S, query.device)
        scores = scores.masked_fill(~kept, -math.inf)
    lse = scores.logsumexp(-1)
    empty = (scores == -math.inf).all(-1)
    lse = lse.masked_fill(empty, -math.inf)
    weights = scores.softmax(-1).masked_fill(empty.unsqueeze(-1), 0.0)
    out = weights.to(query.dtype) @ value.to(query.dtype)
    if return_aux is not None:
        return out, AuxOutput(lse=lse if return_aux.lse else None,
                              max_scores=scores.amax(-1) if return_aux.max_scores else None)
    return (out, lse) if return_lse else out
